namespace Keel.Venues.Alpaca.Trading;

/// <summary>
/// How to reach Alpaca's Trading API v2 and its <c>trade_updates</c> stream. The paper endpoint is the default; the
/// key and secret go only into request headers and the stream's auth message, never into logs or error messages.
/// </summary>
public sealed record AlpacaTradingOptions
{
    /// <summary>Alpaca's paper trading endpoint (the live one is <c>https://api.alpaca.markets</c>).</summary>
    public static Uri PaperUrl { get; } = new("https://paper-api.alpaca.markets");

    public required string Key { get; init; }

    public required string Secret { get; init; }

    /// <summary>The Trading API base (orders, positions, account, activities).</summary>
    public Uri BaseUrl { get; init; } = PaperUrl;

    /// <summary>Market data's REST base, for the latest quote (<c>https://data.alpaca.markets</c>); null = that.</summary>
    public Uri? DataUrl { get; init; }

    /// <summary>The <c>trade_updates</c> WebSocket; null = <see cref="BaseUrl"/> with <c>wss</c> (or <c>ws</c>) and <c>/stream</c>.</summary>
    public Uri? StreamUrl { get; init; }

    /// <summary>How long one request may take before its outcome is unknown (a submit) or it fails (a query).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How many times a request refused with 429 is sent again after the wait the venue names.</summary>
    public int RateLimitRetries { get; init; } = 3;

    /// <summary>A 429 asking for a longer wait than this is returned as rate limited at once instead of waited out.</summary>
    public TimeSpan MaxRateLimitWait { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The first back-off of a query retried after a 5xx or a connection failure (it doubles, with jitter).</summary>
    public TimeSpan QueryRetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The first wait before the stream reconnects; it doubles up to <see cref="ReconnectMaxDelay"/>.</summary>
    public TimeSpan ReconnectDelay { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan ReconnectMaxDelay { get; init; } = TimeSpan.FromSeconds(90);

    /// <summary>How often fills and open orders are read from REST while connected, for what a silent stream never sent; zero = never.</summary>
    public TimeSpan CatchUpInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Where the fill history starts for the first catch-up (an activity id kept from a previous session); null = the
    /// newest activity when <see cref="AlpacaTradingVenue.ConnectAsync"/> runs, so only later fills are caught up.
    /// </summary>
    public string? StartWatermark { get; init; }

    internal Uri ResolvedStreamUrl => StreamUrl ?? new UriBuilder(BaseUrl)
    {
        Scheme = BaseUrl.Scheme == Uri.UriSchemeHttp ? "ws" : "wss",
        Path = "/stream",
        Port = BaseUrl.IsDefaultPort ? -1 : BaseUrl.Port,
    }.Uri;

    public override string ToString() => $"AlpacaTradingOptions {{ BaseUrl = {BaseUrl}, StreamUrl = {ResolvedStreamUrl}, Key = ***, Secret = *** }}";
}
