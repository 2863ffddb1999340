using Keel.Domain;
using Keel.Domain.Orders;

namespace Keel.Engine.Ports;

/// <summary>What became of a request sent to a venue (submit, cancel, replace).</summary>
public enum VenueOutcomeKind
{
    /// <summary>The venue took the request (an order accepted, a cancel or replace taken); events follow on the stream.</summary>
    Accepted = 1,

    /// <summary>The venue refused the request; nothing was placed. <see cref="VenueOutcome.Reason"/> and <see cref="VenueOutcome.VenueCode"/> say why.</summary>
    Rejected = 2,

    /// <summary>The venue refused the order for lack of cash, buying power or margin; nothing was placed.</summary>
    InsufficientFunds = 3,

    /// <summary>The venue refused the request because of its rate limit; nothing was placed. Wait <see cref="VenueOutcome.RetryAfter"/>.</summary>
    RateLimited = 4,

    /// <summary>
    /// The request may or may not have reached the venue (a timeout, a lost response, a connection reset or a 5xx after
    /// sending). Never treated as rejected: resolve it by looking the order up by its client id before anything is re-sent.
    /// </summary>
    Unknown = 5,

    /// <summary>A failure that will not go away by trying again (bad credentials, a forbidden account, a malformed reply).</summary>
    PermanentError = 6,
}

/// <summary>The typed answer of a venue to one request.</summary>
/// <param name="Kind">What happened.</param>
/// <param name="VenueOrderId">The venue's id of the order placed or replaced, when it said.</param>
/// <param name="Reason">The venue's message, or what went wrong on the way, for people.</param>
/// <param name="VenueCode">The venue's own error code or reject reason (Alpaca <c>40310000</c>, OANDA <c>INSUFFICIENT_MARGIN</c>).</param>
/// <param name="RetryAfter">For <see cref="VenueOutcomeKind.RateLimited"/>: how long the venue asked to wait.</param>
/// <param name="RequestId">The venue's request id (Alpaca <c>X-Request-ID</c>, OANDA <c>RequestID</c>) for support and logs.</param>
public sealed record VenueOutcome(
    VenueOutcomeKind Kind,
    VenueOrderId? VenueOrderId = null,
    string? Reason = null,
    string? VenueCode = null,
    TimeSpan? RetryAfter = null,
    string? RequestId = null)
{
    public bool IsAccepted => Kind == VenueOutcomeKind.Accepted;

    public static VenueOutcome Accepted(VenueOrderId? venueOrderId, string? requestId = null) =>
        new(VenueOutcomeKind.Accepted, venueOrderId, RequestId: requestId);

    public static VenueOutcome Rejected(string reason, string? venueCode = null, string? requestId = null) =>
        new(VenueOutcomeKind.Rejected, Reason: reason, VenueCode: venueCode, RequestId: requestId);

    public static VenueOutcome InsufficientFunds(string reason, string? venueCode = null, string? requestId = null) =>
        new(VenueOutcomeKind.InsufficientFunds, Reason: reason, VenueCode: venueCode, RequestId: requestId);

    public static VenueOutcome RateLimited(TimeSpan retryAfter, string? reason = null, string? requestId = null) =>
        new(VenueOutcomeKind.RateLimited, Reason: reason ?? "rate limited", RetryAfter: retryAfter, RequestId: requestId);

    public static VenueOutcome Unknown(string reason, string? requestId = null) =>
        new(VenueOutcomeKind.Unknown, Reason: reason, RequestId: requestId);

    public static VenueOutcome PermanentError(string reason, string? venueCode = null, string? requestId = null) =>
        new(VenueOutcomeKind.PermanentError, Reason: reason, VenueCode: venueCode, RequestId: requestId);
}

/// <summary>A query to a venue failed; <see cref="Outcome"/> says how (rate limited, unknown, permanent).</summary>
public sealed class VenueQueryException : Exception
{
    public VenueQueryException(VenueOutcome outcome)
        : base(outcome.Reason ?? outcome.Kind.ToString())
    {
        Outcome = outcome;
    }

    public VenueQueryException(string message)
        : this(VenueOutcome.PermanentError(message))
    {
    }

    public VenueQueryException(string message, Exception innerException)
        : base(message, innerException)
    {
        Outcome = VenueOutcome.PermanentError(message);
    }

    public VenueQueryException()
        : this("venue query failed")
    {
    }

    public VenueOutcome Outcome { get; }
}

/// <summary>An order as the venue holds it.</summary>
/// <param name="ClientOrderId">Keel's client id, when the order carries one (an order placed in the broker's app has none).</param>
/// <param name="Status">The venue's status mapped to Keel's; a venue status Keel does not know is an error, not a guess.</param>
/// <param name="FilledQuantity">Quantity filled so far.</param>
/// <param name="AveragePrice">Average fill price, when anything filled.</param>
/// <param name="ReplacedBy">The venue id of the order that replaced this one.</param>
/// <param name="ParentVenueOrderId">For a leg of a bracket or OCO: the venue id of the order it belongs to.</param>
public sealed record VenueOrder(
    ClientOrderId? ClientOrderId,
    VenueOrderId VenueOrderId,
    InstrumentId Instrument,
    OrderSide Side,
    OrderType Type,
    Quantity Quantity,
    Quantity FilledQuantity,
    Price? AveragePrice,
    Price? LimitPrice,
    Price? StopPrice,
    TimeInForce TimeInForce,
    OrderStatus Status,
    Timestamp CreatedAt,
    Timestamp UpdatedAt,
    VenueOrderId? ReplacedBy = null,
    VenueOrderId? ParentVenueOrderId = null)
{
    /// <summary>Still able to fill: accepted, partly filled or waiting for a cancel to be confirmed.</summary>
    public bool IsOpen => Status is OrderStatus.Submitted or OrderStatus.Accepted or OrderStatus.PartiallyFilled or OrderStatus.PendingCancel or OrderStatus.Pending;
}

/// <summary>One execution as the venue reports it; <see cref="ExecutionId"/> identifies it for deduplication.</summary>
/// <param name="ExecutionId">Unique per execution at the venue (Alpaca activity or execution id, OANDA ORDER_FILL transaction id).</param>
/// <param name="Quantity">Positive; <see cref="Side"/> says which way.</param>
public sealed record VenueFill(
    TradeId ExecutionId,
    ClientOrderId? ClientOrderId,
    VenueOrderId VenueOrderId,
    InstrumentId Instrument,
    OrderSide Side,
    Quantity Quantity,
    Price Price,
    Money Commission,
    Timestamp Time);

/// <summary>A venue's bookmark in its own history (Alpaca: an activity id; OANDA: a transaction id). Opaque to Keel.</summary>
public readonly record struct VenueWatermark(string Value)
{
    public override string ToString() => Value;
}

/// <summary>Fills after a watermark, oldest first, and the watermark to ask from next time.</summary>
public sealed record VenueFillPage(IReadOnlyList<VenueFill> Fills, VenueWatermark? Next);

/// <summary>A position as the venue holds it. <see cref="Quantity"/> is signed (negative = short).</summary>
public sealed record VenuePosition(InstrumentId Instrument, Quantity Quantity, Price AveragePrice);

/// <summary>The account's money as the venue reports it, in its currency.</summary>
public sealed record VenueAccount(string Currency, Money Cash, Money BuyingPower, Money Equity);

/// <summary>
/// A trading venue as an adapter sees it: asynchronous, cancellable, with typed outcomes. Order events (accepted,
/// filled, cancelled…) arrive on the sink given to <see cref="ConnectAsync"/>, each at most once (a venue that repeats
/// an event is deduplicated by the adapter); queries read the venue's record, which is the truth when a stream and
/// a query disagree. The simulated exchange, Alpaca and OANDA implement it; one contract test suite holds them to it.
/// The kernel stays synchronous: an execution client calls this port and posts what comes back to the kernel's inbox.
/// A request whose cancellation token fires while it is in flight answers <see cref="VenueOutcomeKind.Unknown"/> (it
/// may have reached the venue); a token cancelled before anything was sent throws <see cref="OperationCanceledException"/>.
/// </summary>
public interface IVenuePort : IAsyncDisposable
{
    /// <summary>The venue's name in logs and records: <c>simulated</c>, <c>alpaca</c>, <c>oanda</c>.</summary>
    string Name { get; }

    /// <summary>
    /// The account this port trades, for people and for the one-live-run-per-account lock: venue, address and account
    /// (never a secret). Two ports with the same value trade the same positions.
    /// </summary>
    string Account => Name;

    /// <summary>Opens the venue's event stream (and reconnects it when it drops) and delivers order events to <paramref name="sink"/>.</summary>
    Task ConnectAsync(IOrderEventSink sink, CancellationToken ct = default);

    /// <summary>Closes the event stream; queries and requests still work.</summary>
    Task DisconnectAsync(CancellationToken ct = default);

    Task<VenueOutcome> SubmitAsync(SubmitOrder order, CancellationToken ct = default);

    /// <summary>Submits a contingent group (a bracket: entry, take-profit, stop-loss; an OCO pair; an OTO) as one request.</summary>
    Task<VenueOutcome> SubmitListAsync(SubmitOrderList list, CancellationToken ct = default);

    /// <summary>Asks for a cancel. Accepted means the venue took the request; the order is cancelled when the event says so.</summary>
    Task<VenueOutcome> CancelAsync(CancelOrder cancel, CancellationToken ct = default);

    /// <summary>Replaces a working order's quantity and prices; the replacement carries the new client id.</summary>
    Task<VenueOutcome> ReplaceAsync(ReplaceOrder replace, CancellationToken ct = default);

    /// <summary>The order with this client id, or null when the venue has none.</summary>
    Task<VenueOrder?> GetOrderAsync(ClientOrderId clientOrderId, CancellationToken ct = default);

    /// <summary>The order with this venue id, or null when the venue has none.</summary>
    Task<VenueOrder?> GetOrderByVenueIdAsync(VenueOrderId venueOrderId, CancellationToken ct = default);

    Task<IReadOnlyList<VenueOrder>> GetOpenOrdersAsync(CancellationToken ct = default);

    /// <summary>Fills after <paramref name="since"/> (all of them when null), oldest first, following the venue's pages.</summary>
    Task<VenueFillPage> GetFillsSinceAsync(VenueWatermark? since, CancellationToken ct = default);

    Task<IReadOnlyList<VenuePosition>> GetPositionsAsync(CancellationToken ct = default);

    Task<VenueAccount> GetAccountAsync(CancellationToken ct = default);
}
