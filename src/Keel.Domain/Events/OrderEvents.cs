using Keel.Domain.Orders;

namespace Keel.Domain.Events;

/// <summary>
/// A fact about one order. <see cref="TsEvent"/> is when it happened (venue or simulated time),
/// <see cref="TsInit"/> when Keel learned of it.
/// </summary>
public abstract record OrderEvent(ClientOrderId ClientOrderId, Timestamp TsEvent, Timestamp TsInit)
{
    public abstract OrderEventKind Kind { get; }
}

public sealed record OrderSubmitted(ClientOrderId ClientOrderId, Timestamp TsEvent, Timestamp TsInit)
    : OrderEvent(ClientOrderId, TsEvent, TsInit)
{
    public override OrderEventKind Kind => OrderEventKind.Submitted;
}

public sealed record OrderAccepted(ClientOrderId ClientOrderId, VenueOrderId VenueOrderId, Timestamp TsEvent, Timestamp TsInit)
    : OrderEvent(ClientOrderId, TsEvent, TsInit)
{
    public override OrderEventKind Kind => OrderEventKind.Accepted;
}

public sealed record OrderRejected(ClientOrderId ClientOrderId, string Reason, Timestamp TsEvent, Timestamp TsInit)
    : OrderEvent(ClientOrderId, TsEvent, TsInit)
{
    public override OrderEventKind Kind => OrderEventKind.Rejected;
}

/// <summary>The risk gate (or the circuit breaker) refused the order; it was never sent.</summary>
public sealed record OrderDenied(ClientOrderId ClientOrderId, string Reason, Timestamp TsEvent, Timestamp TsInit)
    : OrderEvent(ClientOrderId, TsEvent, TsInit)
{
    public override OrderEventKind Kind => OrderEventKind.Denied;
}

public sealed record OrderPendingCancel(ClientOrderId ClientOrderId, Timestamp TsEvent, Timestamp TsInit)
    : OrderEvent(ClientOrderId, TsEvent, TsInit)
{
    public override OrderEventKind Kind => OrderEventKind.PendingCancel;
}

public sealed record OrderCancelRejected(ClientOrderId ClientOrderId, string Reason, Timestamp TsEvent, Timestamp TsInit)
    : OrderEvent(ClientOrderId, TsEvent, TsInit)
{
    public override OrderEventKind Kind => OrderEventKind.CancelRejected;
}

public sealed record OrderCanceled(ClientOrderId ClientOrderId, string? Reason, Timestamp TsEvent, Timestamp TsInit)
    : OrderEvent(ClientOrderId, TsEvent, TsInit)
{
    public override OrderEventKind Kind => OrderEventKind.Canceled;
}

public sealed record OrderExpired(ClientOrderId ClientOrderId, Timestamp TsEvent, Timestamp TsInit)
    : OrderEvent(ClientOrderId, TsEvent, TsInit)
{
    public override OrderEventKind Kind => OrderEventKind.Expired;
}

public sealed record OrderReplaced(ClientOrderId ClientOrderId, ClientOrderId ReplacedBy, Timestamp TsEvent, Timestamp TsInit)
    : OrderEvent(ClientOrderId, TsEvent, TsInit)
{
    public override OrderEventKind Kind => OrderEventKind.Replaced;
}

/// <summary>
/// The order was sent but the venue's answer never came (timeout, lost response, 5xx): it may be at the venue or not.
/// The order stays working until a lookup resolves it; <see cref="Reason"/> says what was lost.
/// </summary>
public sealed record OrderStatusUnknown(ClientOrderId ClientOrderId, string Reason, Timestamp TsEvent, Timestamp TsInit)
    : OrderEvent(ClientOrderId, TsEvent, TsInit)
{
    public override OrderEventKind Kind => OrderEventKind.Unknown;
}

/// <summary>One execution. <see cref="LastQty"/> is positive; the side says which way.</summary>
public sealed record OrderFilled(
    ClientOrderId ClientOrderId,
    VenueOrderId VenueOrderId,
    TradeId TradeId,
    InstrumentId Instrument,
    OrderSide Side,
    Quantity LastQty,
    Price LastPx,
    Money Commission,
    Timestamp TsEvent,
    Timestamp TsInit)
    : OrderEvent(ClientOrderId, TsEvent, TsInit)
{
    public override OrderEventKind Kind => OrderEventKind.Filled;
}
