using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Mvc;

namespace Keel.Server;

/// <summary>A run as the API shows it: its record in the store, and whether this server is running it now.</summary>
public sealed record RunView(
    string Id,
    string Kind,
    string Status,
    string Strategy,
    string Parameters,
    string Data,
    double Progress,
    string CreatedAt,
    string UpdatedAt,
    string? StartedAt,
    string? FinishedAt,
    string? Error,
    long LastSequence,
    bool Active,
    JsonElement? Metrics);

/// <summary>A page of runs, newest first.</summary>
public sealed record RunList(IReadOnlyList<RunView> Runs, long Total);

/// <summary>A journaled event (documentation shape; the server writes it directly).</summary>
public sealed record EventView(long Sequence, string Type, string Time, JsonElement Payload);

/// <summary>A page of events: <see cref="Next"/> is the <c>after</c> of the next page, null when there is no more yet.</summary>
public sealed record EventPage(IReadOnlyList<EventView> Events, long? Next);

/// <summary>An order of a run, latest status.</summary>
public sealed record OrderView(string Id, long Number, string Instrument, string Side, string Type, string Quantity, string? LimitPrice, string? StopPrice, string TimeInForce, string Status);

public sealed record FillView(string TradeId, long Sequence, string ClientOrderId, string Instrument, string Side, string Quantity, string Price, string Commission, string RealizedPnl, string PositionAfter, string Time);

public sealed record TradeView(long TradeId, string Instrument, string Direction, string EntryTime, string EntryPrice, string? ExitTime, string? ExitPrice, string Quantity, string GrossPnl, string Commission, string NetPnl, double Return, long BarsHeld);

public sealed record PositionView(string Instrument, string Quantity, string CostBasis, string RealizedPnl, string Commissions, string LastPrice, string UpdatedAt);

/// <summary>A point of a run's equity curve: equity after <see cref="Sequence"/> journal events.</summary>
public sealed record EquityPoint(string Time, long Sequence, string Equity, double TotalReturn, double MaxDrawdown);

/// <summary>A candle for a chart: time in Unix seconds, prices as numbers.</summary>
public sealed record CandleView(long Time, double Open, double High, double Low, double Close);

/// <summary>A metrics checkpoint (taken with each snapshot).</summary>
public sealed record CheckpointView(long Sequence, long Processed, double TotalReturn, string Pnl, double? WinRate, double MaxDrawdown, double? Sharpe, double? ProfitFactor, string CreatedAt);

/// <summary>An order submitted through the API: through the run's risk gate and journal like a strategy's.</summary>
public sealed record OrderRequestBody(string? Instrument, string? Side, string? Type, string? Quantity, string? LimitPrice, string? StopPrice, string? TimeInForce, string? Tag);

/// <summary>What became of an order from outside the strategy.</summary>
public sealed record OrderResultView(string? Id, string Status, string? Reason);

/// <summary>The server's health: ok, degraded (a run's feed or venue is unwell: still 200) or down (the store: 503); its store, and the runs it holds.</summary>
public sealed record HealthView(string Status, string Store, string? StoreProblem, int ActiveRuns, string Version, IReadOnlyList<RunHealthView> Runs);

/// <summary>A running run's venue (risk mode, circuit breaker) and feed (a live feed's state, or historical), and why it is degraded if it is.</summary>
public sealed record RunHealthView(
    string Run, string Mode, string Status, string Venue, string VenueState, string? RiskMode, bool? CircuitBreakerOpen, string? Feed, string FeedState,
    string? FeedLastMessageAt, long? FeedReconnects, bool Degraded, string? Problem);

/// <summary>The answer to a TradingView alert: accepted (queued) or a duplicate.</summary>
public sealed record WebhookAnswer(string Status, string Key);

/// <summary>Request to create a run: its mode (backtest, paper, live) and options named as the command line's.</summary>
public sealed record CreateRunBody(string Mode, Dictionary<string, JsonElement> Options);

/// <summary>A decision as the API takes it (documentation shape): the decisions file's columns; numbers as strings or numbers.</summary>
public sealed record DecisionBody(
    [property: JsonPropertyName("symbol")] string Symbol,
    [property: JsonPropertyName("action")] string? Action,
    [property: JsonPropertyName("side")] string? Side,
    [property: JsonPropertyName("planned_entry")] string? PlannedEntry,
    [property: JsonPropertyName("planned_sl")] string? PlannedSl,
    [property: JsonPropertyName("planned_tp")] string? PlannedTp,
    [property: JsonPropertyName("quantity")] string? Quantity,
    [property: JsonPropertyName("trade_style")] string? TradeStyle,
    [property: JsonPropertyName("target_decision_id")] long? TargetDecisionId,
    [property: JsonPropertyName("approved")] bool? Approved,
    [property: JsonPropertyName("source")] string? Source,
    [property: JsonPropertyName("note")] string? Note);

/// <summary>A decision of the pipeline; prices and quantities as decimal strings.</summary>
public sealed record DecisionView(
    long Id, string Symbol, string Action, string Side, string TradeStyle, string? PlannedEntry, string? PlannedStopLoss, string? PlannedTakeProfit, string? Quantity,
    long? TargetDecisionId, bool Approved, bool Executed, string? Outcome, string? Source, string? Note, string CreatedAt, string? ExecutedAt);

/// <summary>A trade of the pipeline's journal.</summary>
public sealed record JournalTradeView(
    long Id, long DecisionId, string Symbol, string Side, string TradeStyle, string Status, string PlannedEntry, string PlannedStopLoss, string? PlannedTakeProfit, string Quantity,
    string? ActualEntry, string? ActualQuantity, string? ExitPrice, string? ActualPnl, string? ExitReason, string? EntryTime, string? ExitTime, string CreatedAt, string UpdatedAt);

/// <summary>An order of a pipeline trade (entry, stop-loss, take-profit), as journaled and updated from the venue.</summary>
public sealed record OrderExecutionView(
    long Id, long TradeId, string OrderType, string Side, string Quantity, string? LimitPrice, string? StopPrice, string ClientOrderId, string? VenueOrderId, string Status,
    string FilledQuantity, string? FilledAveragePrice, string? FilledAt, string? SubmittedAt, string UpdatedAt, string? Error);

/// <summary>An open position of a pipeline trade.</summary>
public sealed record TrackedPositionView(
    long TradeId, string Symbol, string Quantity, string AverageEntryPrice, string CostBasis, string CurrentPrice, string MarketValue, string UnrealizedPnl, string LastUpdated,
    long? StopLossOrderId, long? TakeProfitOrderId);

/// <summary>A decision with its trade, the trade's orders and its open position (when there are).</summary>
public sealed record DecisionDetail(DecisionView Decision, JournalTradeView? Trade, IReadOnlyList<OrderExecutionView> Orders, TrackedPositionView? Position);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RunView))]
[JsonSerializable(typeof(RunList))]
[JsonSerializable(typeof(EventPage))]
[JsonSerializable(typeof(IReadOnlyList<OrderView>))]
[JsonSerializable(typeof(IReadOnlyList<FillView>))]
[JsonSerializable(typeof(IReadOnlyList<TradeView>))]
[JsonSerializable(typeof(IReadOnlyList<PositionView>))]
[JsonSerializable(typeof(IReadOnlyList<EquityPoint>))]
[JsonSerializable(typeof(IReadOnlyList<CandleView>))]
[JsonSerializable(typeof(IReadOnlyList<CheckpointView>))]
[JsonSerializable(typeof(OrderRequestBody))]
[JsonSerializable(typeof(OrderResultView))]
[JsonSerializable(typeof(HealthView))]
[JsonSerializable(typeof(WebhookAnswer))]
[JsonSerializable(typeof(CreateRunBody))]
[JsonSerializable(typeof(ProblemDetails))]
[JsonSerializable(typeof(DecisionBody))]
[JsonSerializable(typeof(DecisionView))]
[JsonSerializable(typeof(IReadOnlyList<DecisionView>))]
[JsonSerializable(typeof(DecisionDetail))]
[JsonSerializable(typeof(IReadOnlyList<JournalTradeView>))]
[JsonSerializable(typeof(IReadOnlyList<OrderExecutionView>))]
[JsonSerializable(typeof(IReadOnlyList<TrackedPositionView>))]
internal sealed partial class ServerJson : JsonSerializerContext;
