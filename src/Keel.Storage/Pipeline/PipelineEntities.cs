using Keel.Domain;

namespace Keel.Storage.Pipeline;

/// <summary>What a decision asks for (stored as the seed's words: NEW_TRADE, CANCEL, AMEND).</summary>
public enum DecisionAction
{
    /// <summary>Open a trade with a limit entry.</summary>
    NewTrade = 1,

    /// <summary>Cancel the trade another decision opened, while its entry has not filled.</summary>
    Cancel = 2,

    /// <summary>Cancel the trade another decision opened, then open a new one with this decision's terms.</summary>
    Amend = 3,
}

/// <summary>How long a trade is meant to be held: a SWING trade gets a take-profit as well as a stop-loss.</summary>
public enum TradeStyle
{
    Swing = 1,
    Day = 2,
}

/// <summary>The direction of a trade.</summary>
public enum TradeSide
{
    Long = 1,
    Short = 2,
}

/// <summary>A trade's lifecycle: ORDERED → POSITION → CLOSED, or ORDERED → CANCELLED.</summary>
public enum TradeStatus
{
    Ordered = 1,
    Position = 2,
    Closed = 3,
    Cancelled = 4,
}

/// <summary>Why a trade closed.</summary>
public enum ExitReason
{
    StoppedOut = 1,
    ProfitTaken = 2,
    ManualExit = 3,
}

/// <summary>What an order is for within its trade.</summary>
public enum PipelineOrderType
{
    Entry = 1,
    StopLoss = 2,
    TakeProfit = 3,
}

/// <summary>
/// An order's status as the pipeline records it (the seed's lower-case words). <see cref="Pending"/>: journaled,
/// not yet known to have reached the venue.
/// </summary>
public enum PipelineOrderStatus
{
    Pending = 1,
    Accepted = 2,
    PartiallyFilled = 3,
    Filled = 4,
    Cancelled = 5,
    Rejected = 6,
    Expired = 7,
}

/// <summary>A decision to add: the terms a person or an analysis proposes.</summary>
/// <param name="TargetDecisionId">For CANCEL and AMEND: the decision whose trade is cancelled.</param>
public sealed record NewDecision(
    string Symbol,
    DecisionAction Action,
    TradeSide Side,
    decimal? PlannedEntry,
    decimal? PlannedStopLoss,
    decimal? PlannedTakeProfit,
    decimal? Quantity,
    TradeStyle TradeStyle,
    long? TargetDecisionId = null,
    bool Approved = false,
    string? Source = null,
    string? Note = null);

/// <summary>A stored decision.</summary>
/// <param name="Outcome">What the executor did with it, in words (null until executed).</param>
public sealed record Decision(
    long Id,
    string Symbol,
    DecisionAction Action,
    TradeSide Side,
    decimal? PlannedEntry,
    decimal? PlannedStopLoss,
    decimal? PlannedTakeProfit,
    decimal? Quantity,
    TradeStyle TradeStyle,
    long? TargetDecisionId,
    bool Approved,
    bool Executed,
    string? Outcome,
    string? Source,
    string? Note,
    Timestamp CreatedAt,
    Timestamp? ExecutedAt);

/// <summary>One trade's permanent record (never deleted).</summary>
public sealed record TradeJournalEntry(
    long Id,
    long DecisionId,
    string Symbol,
    TradeSide Side,
    TradeStyle TradeStyle,
    TradeStatus Status,
    decimal PlannedEntry,
    decimal PlannedStopLoss,
    decimal? PlannedTakeProfit,
    decimal Quantity,
    decimal? ActualEntry,
    decimal? ActualQuantity,
    decimal? ExitPrice,
    decimal? ActualPnl,
    ExitReason? ExitReason,
    Timestamp? EntryTime,
    Timestamp? ExitTime,
    Timestamp CreatedAt,
    Timestamp UpdatedAt);

/// <summary>One order of a trade, as journaled before it is sent and updated from the venue.</summary>
public sealed record OrderExecution(
    long Id,
    long TradeId,
    PipelineOrderType OrderType,
    string Side,
    decimal Quantity,
    decimal? LimitPrice,
    decimal? StopPrice,
    string ClientOrderId,
    string? VenueOrderId,
    PipelineOrderStatus Status,
    decimal FilledQuantity,
    decimal? FilledAveragePrice,
    Timestamp? FilledAt,
    Timestamp? SubmittedAt,
    Timestamp UpdatedAt,
    string? Error)
{
    /// <summary>Still working or not yet known to the venue.</summary>
    public bool IsActive => Status is PipelineOrderStatus.Pending or PipelineOrderStatus.Accepted or PipelineOrderStatus.PartiallyFilled;
}

/// <summary>An open position of a trade (the row exists only while the position is open).</summary>
public sealed record PositionTracking(
    long TradeId,
    string Symbol,
    decimal Quantity,
    decimal AverageEntryPrice,
    decimal CostBasis,
    decimal CurrentPrice,
    decimal MarketValue,
    decimal UnrealizedPnl,
    Timestamp LastUpdated,
    long? StopLossOrderId,
    long? TakeProfitOrderId);

/// <summary>An order to journal (the store assigns its id).</summary>
public sealed record NewOrderExecution(
    PipelineOrderType OrderType,
    string Side,
    decimal Quantity,
    decimal? LimitPrice,
    decimal? StopPrice,
    string ClientOrderId);

/// <summary>What the venue says about an order, to record.</summary>
public sealed record OrderUpdate(
    PipelineOrderStatus Status,
    string? VenueOrderId,
    decimal FilledQuantity,
    decimal? FilledAveragePrice,
    Timestamp? FilledAt,
    string? Error = null);

/// <summary>The seed's words for the pipeline's enumerations, both ways.</summary>
/// <summary>One scheduled run of a stage by <c>keel pipeline run</c>: which node ran it, when, and what it did.</summary>
public sealed record PipelineFiring(string Stage, Timestamp FireTime, string Node, Timestamp StartedAt, Timestamp? FinishedAt, string? Outcome);

public static class PipelineText
{
    public static string Of(DecisionAction a) => a switch
    {
        DecisionAction.NewTrade => "NEW_TRADE",
        DecisionAction.Cancel => "CANCEL",
        DecisionAction.Amend => "AMEND",
        _ => throw new ArgumentOutOfRangeException(nameof(a), a, null),
    };

    public static string Of(TradeStyle s) => s == TradeStyle.Swing ? "SWING" : "DAY";

    public static string Of(TradeSide s) => s == TradeSide.Long ? "LONG" : "SHORT";

    public static string Of(TradeStatus s) => s switch
    {
        TradeStatus.Ordered => "ORDERED",
        TradeStatus.Position => "POSITION",
        TradeStatus.Closed => "CLOSED",
        TradeStatus.Cancelled => "CANCELLED",
        _ => throw new ArgumentOutOfRangeException(nameof(s), s, null),
    };

    public static string Of(ExitReason r) => r switch
    {
        ExitReason.StoppedOut => "STOPPED_OUT",
        ExitReason.ProfitTaken => "PROFIT_TAKEN",
        ExitReason.ManualExit => "MANUAL_EXIT",
        _ => throw new ArgumentOutOfRangeException(nameof(r), r, null),
    };

    public static string Of(PipelineOrderType t) => t switch
    {
        PipelineOrderType.Entry => "ENTRY",
        PipelineOrderType.StopLoss => "STOP_LOSS",
        PipelineOrderType.TakeProfit => "TAKE_PROFIT",
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, null),
    };

    public static string Of(PipelineOrderStatus s) => s switch
    {
        PipelineOrderStatus.Pending => "pending",
        PipelineOrderStatus.Accepted => "accepted",
        PipelineOrderStatus.PartiallyFilled => "partially_filled",
        PipelineOrderStatus.Filled => "filled",
        PipelineOrderStatus.Cancelled => "cancelled",
        PipelineOrderStatus.Rejected => "rejected",
        PipelineOrderStatus.Expired => "expired",
        _ => throw new ArgumentOutOfRangeException(nameof(s), s, null),
    };

    public static bool TryAction(string text, out DecisionAction action)
    {
        action = text.Trim().ToUpperInvariant() switch
        {
            "NEW_TRADE" => DecisionAction.NewTrade,
            "CANCEL" => DecisionAction.Cancel,
            "AMEND" => DecisionAction.Amend,
            _ => 0,
        };
        return action != 0;
    }

    public static bool TryStyle(string text, out TradeStyle style)
    {
        style = text.Trim().ToUpperInvariant() switch
        {
            "SWING" => TradeStyle.Swing,
            "DAY" => TradeStyle.Day,
            _ => 0,
        };
        return style != 0;
    }

    public static bool TrySide(string text, out TradeSide side)
    {
        side = text.Trim().ToUpperInvariant() switch
        {
            "LONG" or "BUY" => TradeSide.Long,
            "SHORT" or "SELL" => TradeSide.Short,
            _ => 0,
        };
        return side != 0;
    }

    internal static DecisionAction Action(string text) => TryAction(text, out var a) ? a : throw new StorageException($"unknown decision action '{text}' in the store");

    internal static TradeStyle Style(string text) => TryStyle(text, out var s) ? s : throw new StorageException($"unknown trade style '{text}' in the store");

    internal static TradeSide Side(string text) => TrySide(text, out var s) ? s : throw new StorageException($"unknown trade side '{text}' in the store");

    internal static TradeStatus Status(string text) => text switch
    {
        "ORDERED" => TradeStatus.Ordered,
        "POSITION" => TradeStatus.Position,
        "CLOSED" => TradeStatus.Closed,
        "CANCELLED" => TradeStatus.Cancelled,
        _ => throw new StorageException($"unknown trade status '{text}' in the store"),
    };

    internal static ExitReason Reason(string text) => text switch
    {
        "STOPPED_OUT" => ExitReason.StoppedOut,
        "PROFIT_TAKEN" => ExitReason.ProfitTaken,
        "MANUAL_EXIT" => ExitReason.ManualExit,
        _ => throw new StorageException($"unknown exit reason '{text}' in the store"),
    };

    internal static PipelineOrderType OrderType(string text) => text switch
    {
        "ENTRY" => PipelineOrderType.Entry,
        "STOP_LOSS" => PipelineOrderType.StopLoss,
        "TAKE_PROFIT" => PipelineOrderType.TakeProfit,
        _ => throw new StorageException($"unknown order type '{text}' in the store"),
    };

    internal static PipelineOrderStatus OrderStatus(string text) => text switch
    {
        "pending" => PipelineOrderStatus.Pending,
        "accepted" => PipelineOrderStatus.Accepted,
        "partially_filled" => PipelineOrderStatus.PartiallyFilled,
        "filled" => PipelineOrderStatus.Filled,
        "cancelled" => PipelineOrderStatus.Cancelled,
        "rejected" => PipelineOrderStatus.Rejected,
        "expired" => PipelineOrderStatus.Expired,
        _ => throw new StorageException($"unknown order status '{text}' in the store"),
    };

    /// <summary>An amount of money or a price as exact text with at least two decimals (−53.5 → −53.50, 144.9 → 144.90, 0.0001 kept).</summary>
    public static string Money(decimal value)
    {
        var text = Decimal(value);
        int dot = text.IndexOf('.', StringComparison.Ordinal);
        return dot < 0 ? text + ".00" : text.Length - dot - 1 == 1 ? text + "0" : text;
    }

    /// <summary>A decimal as exact text without trailing zeros (150.2500 → 150.25).</summary>
    public static string Decimal(decimal value) => (value / 1.000000000000000000000000000000000m).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
