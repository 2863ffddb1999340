namespace Keel.Domain.Orders;

// Stored values: never renumber; 0 is never valid.
public enum OrderSide : byte
{
    Buy = 1,
    Sell = 2,
}

public enum OrderType : byte
{
    Market = 1,
    Limit = 2,
    Stop = 3,
    StopLimit = 4,
}

public enum TimeInForce : byte
{
    /// <summary>Good for the trading day (UTC calendar day in backtests); expires at the first bar of a later day.</summary>
    Day = 1,

    /// <summary>Good until cancelled.</summary>
    Gtc = 2,

    /// <summary>Immediate or cancel: what cannot fill on the first evaluation is cancelled.</summary>
    Ioc = 3,

    /// <summary>Fill or kill: fills completely on the first evaluation or is cancelled.</summary>
    Fok = 4,
}

public enum OrderStatus : byte
{
    /// <summary>Created and journaled by Keel, not yet sent (bracket children wait here for their parent).</summary>
    Pending = 1,
    Submitted = 2,
    Accepted = 3,
    PartiallyFilled = 4,
    Filled = 5,
    Canceled = 6,
    Rejected = 7,
    Expired = 8,
    Replaced = 9,

    /// <summary>A cancel was requested; the venue has not confirmed it yet.</summary>
    PendingCancel = 10,

    /// <summary>The risk gate refused it; never sent.</summary>
    Denied = 11,

    /// <summary>
    /// Sent, but the venue's answer was lost (a timeout, a reset connection, a 5xx): it may or may not be at the venue.
    /// Resolved by looking it up (by client id, open orders, fill history), never by re-sending blindly.
    /// </summary>
    Unknown = 12,
}

/// <summary>How an order is linked to others.</summary>
public enum ContingencyType : byte
{
    None = 1,

    /// <summary>One-triggers-other: this is a parent whose fill releases its children (bracket entry).</summary>
    Oto = 2,

    /// <summary>One-cancels-other: the first fill of this order cancels its siblings.</summary>
    Oco = 3,
}

public enum OrderEventKind : byte
{
    Submitted = 1,
    Accepted = 2,
    Rejected = 3,
    Denied = 4,
    PendingCancel = 5,
    CancelRejected = 6,
    Canceled = 7,
    Expired = 8,
    Replaced = 9,
    Filled = 10,

    /// <summary>The outcome of sending the order is unknown; see <see cref="OrderStatus.Unknown"/>.</summary>
    Unknown = 11,
}

public static class OrderEnumText
{
    public static string ToText(this OrderSide side) => side == OrderSide.Buy ? "buy" : "sell";

    public static string ToText(this OrderType type) => type switch
    {
        OrderType.Market => "market",
        OrderType.Limit => "limit",
        OrderType.Stop => "stop",
        OrderType.StopLimit => "stop_limit",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown order type"),
    };

    public static string ToText(this TimeInForce tif) => tif switch
    {
        TimeInForce.Day => "day",
        TimeInForce.Gtc => "gtc",
        TimeInForce.Ioc => "ioc",
        TimeInForce.Fok => "fok",
        _ => throw new ArgumentOutOfRangeException(nameof(tif), tif, "unknown time in force"),
    };

    public static string ToText(this OrderStatus status) => status switch
    {
        OrderStatus.Pending => "pending",
        OrderStatus.Submitted => "submitted",
        OrderStatus.Accepted => "accepted",
        OrderStatus.PartiallyFilled => "partially_filled",
        OrderStatus.Filled => "filled",
        OrderStatus.Canceled => "canceled",
        OrderStatus.Rejected => "rejected",
        OrderStatus.Expired => "expired",
        OrderStatus.Replaced => "replaced",
        OrderStatus.PendingCancel => "pending_cancel",
        OrderStatus.Denied => "denied",
        OrderStatus.Unknown => "unknown",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "unknown order status"),
    };

    public static string ToText(this ContingencyType type) => type switch
    {
        ContingencyType.None => string.Empty,
        ContingencyType.Oto => "oto",
        ContingencyType.Oco => "oco",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown contingency"),
    };

    public static OrderSide Opposite(this OrderSide side) => side == OrderSide.Buy ? OrderSide.Sell : OrderSide.Buy;
}
