using Keel.Domain;

namespace Keel.Engine.Ports;

/// <summary>Where a live market data feed stands. Stored values: never renumber.</summary>
public enum FeedState
{
    Disconnected = 1,
    Connecting = 2,
    Authenticating = 3,
    Subscribed = 4,
    Reconnecting = 5,

    /// <summary>Connected, but nothing (not even a heartbeat) arrived for too long.</summary>
    Stale = 6,

    /// <summary>Too many consecutive connection failures: the feed gave up.</summary>
    CircuitOpen = 7,

    /// <summary>A failure retrying cannot fix (bad credentials, insufficient subscription).</summary>
    Failed = 8,
    Stopped = 9,
}

/// <summary>Things a feed reports besides data. Stored values: never renumber.</summary>
public enum FeedEventKind
{
    Connected = 1,
    Authenticated = 2,
    Subscribed = 3,
    Disconnected = 4,
    Reconnecting = 5,
    Stale = 6,
    Recovered = 7,

    /// <summary>A message that could not be understood was skipped (the connection stays up).</summary>
    Malformed = 8,

    /// <summary>The server sent an error message (e.g. Alpaca <c>{"T":"error","code":405}</c>).</summary>
    ServerError = 9,
    AuthFailed = 10,
    CircuitOpen = 11,
}

/// <summary>A feed event, with the time Keel saw it (receive time, from the feed's injected clock).</summary>
public sealed record FeedEvent(FeedEventKind Kind, string Venue, Timestamp Time, string Message);

/// <summary>Receives what a live feed produces, on the feed's thread. Implementations must not block for long.</summary>
public interface ILiveDataSink
{
    /// <summary>A trade or quote tick: <see cref="Tick.Time"/> is venue time, <see cref="Tick.ReceivedAt"/> receive time.</summary>
    void OnTick(in Tick tick);

    /// <summary>A bar built by the venue (e.g. Alpaca's minute bars), if subscribed.</summary>
    void OnBar(in Bar bar);

    void OnFeedEvent(FeedEvent feedEvent);
}

/// <summary>Counters and state of a feed, readable from any thread while it runs.</summary>
public sealed record FeedHealthSnapshot(
    string Venue,
    FeedState State,
    Timestamp? ConnectedSince,
    Timestamp? LastMessageAt,
    long Messages,
    long Ticks,
    long Bars,
    long Malformed,
    long ServerErrors,
    long Reconnects,
    int ConsecutiveFailures,
    string? LastError);

/// <summary>
/// A live market data stream (Alpaca market data WebSocket, OANDA pricing stream): connects, authenticates,
/// subscribes, and on any drop reconnects with exponential back-off and jitter and subscribes again, until the token
/// is cancelled. Malformed messages are counted and skipped. An authentication failure is fatal (no retry storm);
/// after <see cref="ReconnectPolicy.CircuitBreakAfter"/> consecutive failures the feed stops with
/// <see cref="FeedState.CircuitOpen"/>. A connection with no message or heartbeat for the staleness window is
/// reported stale and replaced.
/// </summary>
public interface IMarketDataFeed : IAsyncDisposable
{
    string Venue { get; }

    FeedHealthSnapshot Health { get; }

    /// <summary>The connection's state now; cheap enough to read in a loop (<see cref="Health"/> builds a snapshot).</summary>
    FeedState State => Health.State;

    /// <summary>
    /// Streams <paramref name="symbols"/> into <paramref name="sink"/> until <paramref name="ct"/> is cancelled
    /// (returns normally) or a fatal condition (throws <see cref="FeedFailedException"/>).
    /// </summary>
    Task RunAsync(IReadOnlyList<string> symbols, ILiveDataSink sink, CancellationToken ct);
}

/// <summary>The feed stopped for good: authentication failed, or the circuit breaker opened.</summary>
public sealed class FeedFailedException : Exception
{
    public FeedFailedException(string message, FeedState state, Exception? inner = null)
        : base(message, inner)
    {
        State = state;
    }

    public FeedFailedException()
    {
    }

    public FeedFailedException(string message)
        : base(message)
    {
    }

    public FeedFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public FeedState State { get; } = FeedState.Failed;
}

/// <summary>
/// Reconnect timing: attempt <c>n</c> (1-based) waits <c>min(Initial × 2^(n−1), Max)</c>, scaled by a random factor
/// in [1 − Jitter, 1 + Jitter] (and never beyond <c>Max</c>). After <see cref="CircuitBreakAfter"/> consecutive failed
/// attempts the feed gives up. Staleness: no message for <see cref="StaleAfter"/>.
/// </summary>
public sealed record ReconnectPolicy
{
    public TimeSpan Initial { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan Max { get; init; } = TimeSpan.FromSeconds(60);

    public double Jitter { get; init; } = 0.2;

    public int CircuitBreakAfter { get; init; } = 10;

    /// <summary>Silence after which a connection counts as stale (2 heartbeat intervals by default for OANDA's 5 s heartbeats).</summary>
    public TimeSpan StaleAfter { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan Delay(int attempt, double random01)
    {
        double baseMs = Initial.TotalMilliseconds * Math.Pow(2, Math.Max(0, attempt - 1));
        baseMs = Math.Min(baseMs, Max.TotalMilliseconds);
        double factor = 1 + (Jitter * ((2 * random01) - 1));
        return TimeSpan.FromMilliseconds(Math.Min(baseMs * factor, Max.TotalMilliseconds));
    }
}

/// <summary>One page of historical bars from a venue's REST API.</summary>
public sealed record BarPage(IReadOnlyList<Bar> Bars, string? NextPageToken);

/// <summary>Historical bars from a venue (Alpaca bars REST with paging, OANDA candles), for <c>keel data download</c>.</summary>
public interface IHistoricalBarSource
{
    string Venue { get; }

    /// <summary>
    /// Streams the bars of <paramref name="symbol"/> at <paramref name="timeframe"/> (Keel's notation: 1m, 5m, 1h, 1d…)
    /// between <paramref name="from"/> and <paramref name="to"/>, in time order, page by page.
    /// </summary>
    IAsyncEnumerable<BarPage> DownloadAsync(string symbol, string timeframe, Timestamp from, Timestamp to, CancellationToken ct);
}
