namespace Keel.Domain.Orders;

/// <summary>
/// The order lifecycle as an explicit table: (status, event) → next status. A fill moves to
/// <see cref="OrderStatus.PartiallyFilled"/> or <see cref="OrderStatus.Filled"/> depending on the filled quantity.
/// Anything not in the table is illegal and throws.
/// </summary>
public static class OrderStateMachine
{
    private const OrderStatus FillTarget = (OrderStatus)255;
    private const OrderStatus BackFromCancel = (OrderStatus)254;

    private static readonly Dictionary<(OrderStatus, OrderEventKind), OrderStatus> Table = new()
    {
        [(OrderStatus.Pending, OrderEventKind.Submitted)] = OrderStatus.Submitted,
        [(OrderStatus.Pending, OrderEventKind.Denied)] = OrderStatus.Denied,
        [(OrderStatus.Pending, OrderEventKind.Canceled)] = OrderStatus.Canceled,
        [(OrderStatus.Pending, OrderEventKind.Rejected)] = OrderStatus.Rejected,

        [(OrderStatus.Submitted, OrderEventKind.Accepted)] = OrderStatus.Accepted,
        [(OrderStatus.Submitted, OrderEventKind.Rejected)] = OrderStatus.Rejected,
        [(OrderStatus.Submitted, OrderEventKind.Filled)] = FillTarget,
        [(OrderStatus.Submitted, OrderEventKind.PendingCancel)] = OrderStatus.PendingCancel,
        [(OrderStatus.Submitted, OrderEventKind.Canceled)] = OrderStatus.Canceled,
        [(OrderStatus.Submitted, OrderEventKind.Expired)] = OrderStatus.Expired,
        [(OrderStatus.Submitted, OrderEventKind.Unknown)] = OrderStatus.Unknown,

        // Sent, answer lost: whatever the venue turns out to hold (a lookup, the stream, the fill history).
        [(OrderStatus.Unknown, OrderEventKind.Unknown)] = OrderStatus.Unknown,
        [(OrderStatus.Unknown, OrderEventKind.Accepted)] = OrderStatus.Accepted,
        [(OrderStatus.Unknown, OrderEventKind.Rejected)] = OrderStatus.Rejected,
        [(OrderStatus.Unknown, OrderEventKind.Filled)] = FillTarget,
        [(OrderStatus.Unknown, OrderEventKind.PendingCancel)] = OrderStatus.PendingCancel,
        [(OrderStatus.Unknown, OrderEventKind.Canceled)] = OrderStatus.Canceled,
        [(OrderStatus.Unknown, OrderEventKind.Expired)] = OrderStatus.Expired,

        [(OrderStatus.Accepted, OrderEventKind.Filled)] = FillTarget,
        [(OrderStatus.Accepted, OrderEventKind.PendingCancel)] = OrderStatus.PendingCancel,
        [(OrderStatus.Accepted, OrderEventKind.Canceled)] = OrderStatus.Canceled,
        [(OrderStatus.Accepted, OrderEventKind.Expired)] = OrderStatus.Expired,
        [(OrderStatus.Accepted, OrderEventKind.Replaced)] = OrderStatus.Replaced,
        [(OrderStatus.Accepted, OrderEventKind.Rejected)] = OrderStatus.Rejected,

        [(OrderStatus.PartiallyFilled, OrderEventKind.Filled)] = FillTarget,
        [(OrderStatus.PartiallyFilled, OrderEventKind.PendingCancel)] = OrderStatus.PendingCancel,
        [(OrderStatus.PartiallyFilled, OrderEventKind.Canceled)] = OrderStatus.Canceled,
        [(OrderStatus.PartiallyFilled, OrderEventKind.Expired)] = OrderStatus.Expired,
        [(OrderStatus.PartiallyFilled, OrderEventKind.Replaced)] = OrderStatus.Replaced,

        [(OrderStatus.PendingCancel, OrderEventKind.Filled)] = FillTarget,
        [(OrderStatus.PendingCancel, OrderEventKind.Canceled)] = OrderStatus.Canceled,
        [(OrderStatus.PendingCancel, OrderEventKind.Expired)] = OrderStatus.Expired,
        [(OrderStatus.PendingCancel, OrderEventKind.CancelRejected)] = BackFromCancel,
    };

    // The same table as a dense array for the hot path: [status, event] → next (0 = not allowed).
    private static readonly OrderStatus[,] Dense = BuildDense();

    /// <summary>Every (status, event) pair the table allows, for documentation and tests.</summary>
    public static IEnumerable<(OrderStatus From, OrderEventKind On)> AllowedTransitions => Table.Keys;

    private static OrderStatus[,] BuildDense()
    {
        var dense = new OrderStatus[16, 16];
        foreach (var ((from, kind), to) in Table)
        {
            dense[(int)from, (int)kind] = to;
        }

        return dense;
    }

    public static bool IsTerminal(OrderStatus status) => status is OrderStatus.Filled or OrderStatus.Canceled
        or OrderStatus.Rejected or OrderStatus.Expired or OrderStatus.Replaced or OrderStatus.Denied;

    /// <summary>True when the order may still fill (it is at, or on its way to, the venue).</summary>
    public static bool IsWorking(OrderStatus status) => status is OrderStatus.Submitted or OrderStatus.Accepted
        or OrderStatus.PartiallyFilled or OrderStatus.PendingCancel or OrderStatus.Unknown;

    public static bool CanApply(OrderStatus from, OrderEventKind kind) => Lookup(from, kind) != 0;

    private static OrderStatus Lookup(OrderStatus from, OrderEventKind kind) =>
        (uint)from < 16 && (uint)kind < 16 ? Dense[(int)from, (int)kind] : 0;

    /// <summary>
    /// The status after <paramref name="kind"/> is applied to an order in <paramref name="from"/>.
    /// For fills, <paramref name="completelyFilled"/> picks Filled over PartiallyFilled; for a rejected cancel,
    /// <paramref name="hasFills"/> picks PartiallyFilled over Accepted.
    /// </summary>
    public static OrderStatus Next(OrderStatus from, OrderEventKind kind, bool completelyFilled = false, bool hasFills = false)
    {
        var to = Lookup(from, kind);
        if (to == 0)
        {
            throw new InvalidOrderTransitionException(from, kind);
        }

        return to switch
        {
            FillTarget => completelyFilled ? OrderStatus.Filled : OrderStatus.PartiallyFilled,
            BackFromCancel => hasFills ? OrderStatus.PartiallyFilled : OrderStatus.Accepted,
            _ => to,
        };
    }
}

/// <summary>Thrown when an event does not fit an order's lifecycle. It is a bug, or a venue reply Keel cannot trust.</summary>
public sealed class InvalidOrderTransitionException : InvalidOperationException
{
    public InvalidOrderTransitionException(OrderStatus from, OrderEventKind kind)
        : base($"order event '{kind}' is not allowed when the order is '{from.ToText()}'")
    {
        From = from;
        Kind = kind;
    }

    public InvalidOrderTransitionException(string message)
        : base(message)
    {
    }

    public InvalidOrderTransitionException()
        : base("illegal order transition")
    {
    }

    public InvalidOrderTransitionException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public OrderStatus From { get; }

    public OrderEventKind Kind { get; }
}
