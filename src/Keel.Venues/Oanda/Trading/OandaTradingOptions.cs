namespace Keel.Venues.Oanda.Trading;

/// <summary>
/// How the OANDA execution adapter reaches v20 and how patient it is. Practice endpoints by default; the token goes
/// only into the Authorization header, never into a log line or an error message.
/// </summary>
public sealed record OandaTradingOptions
{
    public required string Token { get; init; }

    public required string Account { get; init; }

    /// <summary>REST base: fxTrade Practice by default.</summary>
    public Uri RestUrl { get; init; } = OandaOptions.PracticeRestUrl;

    /// <summary>Streaming base (the transactions stream): fxTrade Practice by default.</summary>
    public Uri StreamUrl { get; init; } = OandaOptions.PracticeStreamUrl;

    /// <summary>How long one REST request may take before its outcome is unknown (an order request) or it is retried (a query).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>An order request answered 429 is sent again after Retry-After, at most this many times in all; then it is RateLimited.</summary>
    public int RateLimitAttempts { get; init; } = 3;

    /// <summary>The longest Retry-After the adapter waits out before a request; a longer one is reported as RateLimited at once.</summary>
    public TimeSpan RateLimitMaxWait { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The first back-off of a query retried after 429, 5xx or a timeout (it doubles, with jitter).</summary>
    public TimeSpan QueryRetryDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The first wait before reconnecting a dropped transactions stream; it doubles up to <see cref="StreamBackoffMax"/>.</summary>
    public TimeSpan StreamBackoff { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan StreamBackoffMax { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>OANDA sends a heartbeat every 5 s; a stream silent for longer than this is replaced (and caught up from REST).</summary>
    public TimeSpan HeartbeatTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How often transactions are fetched from REST regardless of the stream (a stream can stay healthy and still lose lines).</summary>
    public TimeSpan CatchUpInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How many transactions back a client-id scan looks when it knows no watermark from before the send.</summary>
    public int ClientIdScanDepth { get; init; } = 1000;

    /// <summary>The same account and token as a market-data configuration, with the adapter's defaults.</summary>
    public static OandaTradingOptions From(OandaOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new OandaTradingOptions { Token = options.Token, Account = options.Account, RestUrl = options.RestUrl, StreamUrl = options.StreamUrl, HeartbeatTimeout = 2 * options.HeartbeatInterval };
    }

    public override string ToString() => $"OandaTradingOptions {{ RestUrl = {RestUrl}, StreamUrl = {StreamUrl}, Account = {Account}, Token = *** }}";
}
