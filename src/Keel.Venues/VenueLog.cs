using Microsoft.Extensions.Logging;

namespace Keel.Venues;

/// <summary>
/// The venues' log entries: event ids 2000–2999 (docs/logging.md lists each and what to do about it). Feeds log their
/// connection's life, REST clients their retries, the recorder its gaps; nothing is logged per tick or per bar.
/// </summary>
internal static partial class VenueLog
{
    [LoggerMessage(EventId = 2000, Level = LogLevel.Information, Message = "{Venue}: connecting to {Endpoint}")]
    public static partial void FeedConnecting(ILogger logger, string venue, string endpoint);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "{Venue}: connected")]
    public static partial void FeedConnected(ILogger logger, string venue);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Debug, Message = "{Venue}: authenticated")]
    public static partial void FeedAuthenticated(ILogger logger, string venue);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Information, Message = "{Venue}: subscribed: {Detail}")]
    public static partial void FeedSubscribed(ILogger logger, string venue, string detail);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Warning, Message = "{Venue}: disconnected: {Reason}")]
    public static partial void FeedDisconnected(ILogger logger, string venue, string reason);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Warning, Message = "{Venue}: reconnecting in {DelayMs} ms (attempt {Attempt}; the circuit opens after {MaxAttempts})")]
    public static partial void FeedReconnecting(ILogger logger, string venue, long delayMs, int attempt, int maxAttempts);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Information, Message = "{Venue}: streaming again after a reconnect")]
    public static partial void FeedRecovered(ILogger logger, string venue);

    [LoggerMessage(EventId = 2007, Level = LogLevel.Warning, Message = "{Venue}: nothing received for {Seconds} s; replacing the connection")]
    public static partial void FeedStale(ILogger logger, string venue, double seconds);

    [LoggerMessage(EventId = 2008, Level = LogLevel.Information, Message = "{Venue}: gave up: {Reason}")]
    public static partial void FeedGaveUp(ILogger logger, string venue, string reason);

    [LoggerMessage(EventId = 2009, Level = LogLevel.Warning, Message = "{Venue}: malformed message skipped: {Detail}")]
    public static partial void FeedMalformed(ILogger logger, string venue, string detail);

    [LoggerMessage(EventId = 2010, Level = LogLevel.Warning, Message = "{Venue}: the server reported an error: {Detail}")]
    public static partial void FeedServerError(ILogger logger, string venue, string detail);

    [LoggerMessage(EventId = 2011, Level = LogLevel.Information, Message = "{Venue}: stream stopped")]
    public static partial void FeedStopped(ILogger logger, string venue);

    [LoggerMessage(EventId = 2020, Level = LogLevel.Warning, Message = "{What}: attempt {Attempt} got {Outcome}; retrying in {DelayMs} ms")]
    public static partial void RestRetrying(ILogger logger, string what, int attempt, string outcome, long delayMs);

    [LoggerMessage(EventId = 2030, Level = LogLevel.Information, Message = "recording {Symbols} as {Timeframe} candles")]
    public static partial void RecorderStarted(ILogger logger, string symbols, string timeframe);

    [LoggerMessage(EventId = 2031, Level = LogLevel.Information, Message = "recording stopped: {Generated} candles generated, {Persisted} persisted, {Gaps} gaps")]
    public static partial void RecorderStopped(ILogger logger, long generated, long persisted, long gaps);

    [LoggerMessage(EventId = 2032, Level = LogLevel.Warning, Message = "gap {Symbol} {From} → {To}: {Reason}")]
    public static partial void GapDisconnected(ILogger logger, string symbol, Keel.Domain.Timestamp from, Keel.Domain.Timestamp to, string reason);

    [LoggerMessage(EventId = 2033, Level = LogLevel.Information, Message = "gap {Symbol} {From} → {To}: {Reason}")]
    public static partial void GapNoTicks(ILogger logger, string symbol, Keel.Domain.Timestamp from, Keel.Domain.Timestamp to, string reason);

    [LoggerMessage(EventId = 2034, Level = LogLevel.Debug, Message = "{Symbol}: the {Timeframe} interval at {Time} had no ticks; filled with a flat candle")]
    public static partial void GapFilled(ILogger logger, string symbol, string timeframe, Keel.Domain.Timestamp time);

    // ---- OANDA execution adapter (Oanda/Trading) ------------------------------------------------------------------

    [LoggerMessage(EventId = 2200, Level = LogLevel.Warning, Message = "oanda: {What}: outcome unknown ({Reason}; RequestID {RequestId}); resolve it by client id {ClientOrderId} before sending again")]
    public static partial void OandaOutcomeUnknown(ILogger logger, string what, string reason, string? requestId, string? clientOrderId);

    [LoggerMessage(EventId = 2201, Level = LogLevel.Warning, Message = "oanda: {What}: rate limited (attempt {Attempt}); waiting {DelayMs} ms as Retry-After asks")]
    public static partial void OandaRateLimited(ILogger logger, string what, int attempt, long delayMs);

    [LoggerMessage(EventId = 2202, Level = LogLevel.Warning, Message = "oanda: {What}: malformed reply skipped (RequestID {RequestId}): {Detail}")]
    public static partial void OandaMalformed(ILogger logger, string what, string? requestId, string detail);

    [LoggerMessage(EventId = 2203, Level = LogLevel.Error, Message = "oanda: {What} failed for good: {Reason} (RequestID {RequestId})")]
    public static partial void OandaPermanentError(ILogger logger, string what, string reason, string? requestId);

    [LoggerMessage(EventId = 2204, Level = LogLevel.Information, Message = "oanda: transactions stream open (RequestID {RequestId}); applied up to transaction {TransactionId}")]
    public static partial void OandaStreamOpen(ILogger logger, string? requestId, long transactionId);

    [LoggerMessage(EventId = 2205, Level = LogLevel.Warning, Message = "oanda: transactions stream lost ({Reason}); reconnecting in {DelayMs} ms")]
    public static partial void OandaStreamLost(ILogger logger, string reason, long delayMs);

    [LoggerMessage(EventId = 2206, Level = LogLevel.Information, Message = "oanda: caught up {Count} transactions from REST after {From} ({Why})")]
    public static partial void OandaCaughtUp(ILogger logger, int count, long from, string why);

    [LoggerMessage(EventId = 2207, Level = LogLevel.Error, Message = "oanda: transactions stream refused ({Reason}); not reconnecting")]
    public static partial void OandaStreamRefused(ILogger logger, string reason);

    [LoggerMessage(EventId = 2208, Level = LogLevel.Warning, Message = "oanda: catching up transactions failed: {Reason}")]
    public static partial void OandaCatchUpFailed(ILogger logger, string reason);
    // Alpaca trading adapter (Keel.Venues.Alpaca.Trading): 2100–2119.
    [LoggerMessage(EventId = 2100, Level = LogLevel.Information, Message = "{Venue}: trade_updates listening")]
    public static partial void TradeStreamListening(ILogger logger, string venue);

    [LoggerMessage(EventId = 2101, Level = LogLevel.Warning, Message = "{Venue}: trade_updates disconnected: {Reason}; reconnecting in {DelayMs} ms (attempt {Attempt})")]
    public static partial void TradeStreamReconnecting(ILogger logger, string venue, string reason, long delayMs, int attempt);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Warning, Message = "{Venue}: unreadable reply to {What} (request id {RequestId}): {Detail}")]
    public static partial void UnreadableReply(ILogger logger, string venue, string what, string requestId, string detail);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Warning, Message = "{Venue}: {What} was rate limited; sending it again in {DelayMs} ms (attempt {Attempt})")]
    public static partial void OrderRateLimited(ILogger logger, string venue, string what, long delayMs, int attempt);

    [LoggerMessage(EventId = 2104, Level = LogLevel.Warning, Message = "{Venue}: the outcome of {What} is unknown: {Reason}")]
    public static partial void OutcomeUnknown(ILogger logger, string venue, string what, string reason);

    [LoggerMessage(EventId = 2105, Level = LogLevel.Information, Message = "{Venue}: caught up from REST: {Fills} fills and {Events} order events the stream had not delivered")]
    public static partial void CaughtUp(ILogger logger, string venue, int fills, int events);

    [LoggerMessage(EventId = 2106, Level = LogLevel.Debug, Message = "{Venue}: repeated {Event} for order {VenueOrderId} ignored")]
    public static partial void DuplicateEvent(ILogger logger, string venue, Keel.Domain.Orders.OrderEventKind @event, string venueOrderId);

    [LoggerMessage(EventId = 2107, Level = LogLevel.Warning, Message = "{Venue}: catch-up from REST failed: {Reason}")]
    public static partial void CatchUpFailed(ILogger logger, string venue, string reason);

    [LoggerMessage(EventId = 2108, Level = LogLevel.Warning, Message = "{Venue}: trade_updates message skipped: {Detail}")]
    public static partial void TradeUpdateSkipped(ILogger logger, string venue, string detail);

    [LoggerMessage(EventId = 2109, Level = LogLevel.Error, Message = "{Venue}: trade_updates refused the credentials; not reconnecting")]
    public static partial void TradeStreamUnauthorized(ILogger logger, string venue);

    [LoggerMessage(EventId = 2110, Level = LogLevel.Information, Message = "{Venue}: client order id {ClientOrderId} was already used; it is order {VenueOrderId}, placed by an earlier submission")]
    public static partial void DuplicateClientOrderId(ILogger logger, string venue, string clientOrderId, string venueOrderId);

    /// <summary>A URL for logs and messages: scheme, host, port and path only, never user info or a query (either may hold a secret).</summary>
    public static string Safe(Uri? url) => url is null ? "(no address)"
        : !url.IsAbsoluteUri ? "(a relative address)"
        : new UriBuilder(url) { UserName = string.Empty, Password = string.Empty, Query = string.Empty, Fragment = string.Empty }.Uri.ToString();
}
