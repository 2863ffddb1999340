using Keel.Engine.Ports;
using Keel.Venues.Alpaca;
using Keel.Venues.Oanda;
using Microsoft.Extensions.Configuration;

namespace Keel.Cli;

/// <summary>
/// Venue settings from configuration: keel.json <c>{"alpaca": {"key": …, "secret": …}}</c> or the environment
/// (<c>KEEL__ALPACA__KEY</c>, <c>KEEL__ALPACA__SECRET</c>, <c>KEEL__ALPACA__STREAM_URL</c>, <c>KEEL__ALPACA__REST_URL</c> (or <c>KEEL__ALPACA__DATA_URL</c>),
/// <c>KEEL__ALPACA__FEED</c>; <c>KEEL__OANDA__TOKEN</c>, <c>KEEL__OANDA__ACCOUNT</c>, <c>KEEL__OANDA__STREAM_URL</c>,
/// <c>KEEL__OANDA__REST_URL</c> (or <c>KEEL__OANDA__URL</c>)). Secrets are never printed.
/// </summary>
internal static class VenueConfig
{
    public const string Venues = "alpaca or oanda";

    /// <summary>The reconnect settings both venue sections accept.</summary>
    public static readonly string[] PolicyKeys = ["stale_seconds", "reconnect_initial_seconds", "reconnect_max_seconds"];

    public static string Normalize(string? venue, string name = "--venue") => (venue ?? throw new UsageException($"{name} is required: {Venues}")).Trim().ToLowerInvariant() switch
    {
        "alpaca" => "alpaca",
        "oanda" => "oanda",
        var other => throw new UsageException($"{name} was '{other}'; it must be {Venues}"),
    };

    /// <summary>
    /// Alpaca options; <paramref name="url"/> (from --url) overrides the stream URL when it is ws:// or wss:// (a bare
    /// host gets <c>/v2/{feed}</c>), and the REST URL when it is http:// or https://.
    /// </summary>
    public static AlpacaOptions Alpaca(IConfiguration config, string? url, bool quotes = false)
    {
        var s = config.GetSection("alpaca");
        var key = s["key"];
        var secret = s["secret"];
        if (string.IsNullOrWhiteSpace(key) || string.IsNullOrWhiteSpace(secret))
        {
            throw new UsageException("Alpaca credentials are missing: set KEEL__ALPACA__KEY and KEEL__ALPACA__SECRET (or alpaca.key and alpaca.secret in keel.json); 'keel sandbox' prints the ones its local sandbox accepts");
        }

        var feed = s["feed"] ?? "iex";
        var stream = Url(config, "alpaca", "stream_url", "streamUrl") ?? AlpacaOptions.DefaultStreamUrl;
        var rest = Url(config, "alpaca", "rest_url", "restUrl", "data_url") ?? AlpacaOptions.DefaultRestUrl;
        if (Url(url, "--url") is { } u)
        {
            if (u.Scheme is "ws" or "wss")
            {
                stream = u.AbsolutePath is "/" or "" ? new Uri(u, $"/v2/{feed}") : u;
            }
            else
            {
                rest = u;
            }
        }

        return new AlpacaOptions { Key = key, Secret = secret, StreamUrl = stream, RestUrl = rest, Feed = feed, Trades = true, Quotes = quotes };
    }

    /// <summary>OANDA options; <paramref name="url"/> (from --url) is the base of both the stream and REST (as the sandbox serves them).</summary>
    public static OandaOptions Oanda(IConfiguration config, string? url)
    {
        var s = config.GetSection("oanda");
        var token = s["token"];
        var account = s["account"];
        if (string.IsNullOrWhiteSpace(token) || string.IsNullOrWhiteSpace(account))
        {
            throw new UsageException("OANDA credentials are missing: set KEEL__OANDA__TOKEN and KEEL__OANDA__ACCOUNT (or oanda.token and oanda.account in keel.json); 'keel sandbox' prints the ones its local sandbox accepts");
        }

        var stream = Url(config, "oanda", "stream_url", "streamUrl") ?? OandaOptions.PracticeStreamUrl;
        var rest = Url(config, "oanda", "rest_url", "restUrl", "url") ?? OandaOptions.PracticeRestUrl;
        if (Url(url, "--url") is { } u)
        {
            stream = u;
            rest = u;
        }

        return new OandaOptions { Token = token, Account = account, StreamUrl = stream, RestUrl = rest };
    }

    /// <summary>Alpaca's real-money Trading API (the paper one is the default).</summary>
    public static readonly Uri AlpacaLiveUrl = new("https://api.alpaca.markets");

    /// <summary>OANDA's real-money REST and stream endpoints (practice ones are the default).</summary>
    public static readonly Uri OandaLiveRestUrl = new("https://api-fxtrade.oanda.com");

    public static readonly Uri OandaLiveStreamUrl = new("https://stream-fxtrade.oanda.com");

    /// <summary>
    /// The trading connection of a live run: credentials from configuration (never printed), the paper/practice endpoint
    /// unless <paramref name="realMoney"/>, or the sandbox named by <paramref name="url"/> (an Alpaca <c>ws://</c> stream
    /// address means its Trading API on the same host and port). A real-money address without <paramref name="realMoney"/>
    /// is refused.
    /// </summary>
    public static IVenuePort TradingPort(string venue, IConfiguration config, string? url, bool realMoney, Microsoft.Extensions.Logging.ILogger logger)
    {
        if (venue == "alpaca")
        {
            var data = Alpaca(config, null);
            var baseUrl = Url(config, "alpaca", "trading_url", "tradingUrl") ?? (realMoney ? AlpacaLiveUrl : Keel.Venues.Alpaca.Trading.AlpacaTradingOptions.PaperUrl);
            if (Url(url, "--url") is { } u)
            {
                baseUrl = new UriBuilder(u) { Scheme = u.Scheme is "ws" or "http" ? "http" : "https", Path = "/" }.Uri;
            }

            RefuseRealMoney(baseUrl.Host == AlpacaLiveUrl.Host, realMoney, "alpaca", baseUrl);
            // Latest quotes come from market data (data_url), or from the --url host (the sandbox serves both).
            var dataUrl = url is null ? data.RestUrl : baseUrl;
            return new Keel.Venues.Alpaca.Trading.AlpacaTradingVenue(new Keel.Venues.Alpaca.Trading.AlpacaTradingOptions { Key = data.Key, Secret = data.Secret, BaseUrl = baseUrl, DataUrl = dataUrl }, logger: logger);
        }

        var o = Oanda(config, url);
        var rest = o.RestUrl;
        var stream = o.StreamUrl;
        if (realMoney && url is null && Url(config, "oanda", "rest_url", "restUrl", "url") is null)
        {
            rest = OandaLiveRestUrl;
            stream = OandaLiveStreamUrl;
        }

        RefuseRealMoney(rest.Host == OandaLiveRestUrl.Host || stream.Host == OandaLiveStreamUrl.Host, realMoney, "oanda", rest);
        return new Keel.Venues.Oanda.Trading.OandaTradingVenue(new Keel.Venues.Oanda.Trading.OandaTradingOptions { Token = o.Token, Account = o.Account, RestUrl = rest, StreamUrl = stream }, logger: logger);
    }

    private static void RefuseRealMoney(bool isRealMoney, bool allowed, string venue, Uri address)
    {
        if (isRealMoney && !allowed)
        {
            throw new UsageException($"{venue}: {address.Host} is a real-money endpoint; trading there needs --real-money (paper/practice endpoints are the default)");
        }
    }

    public static ReconnectPolicy Policy(IConfiguration config, string venue, TimeSpan defaultStale)
    {
        var s = config.GetSection(venue);
        return new ReconnectPolicy
        {
            StaleAfter = Seconds(s["stale_seconds"], CliConfig.Name(config, $"{venue}:stale_seconds", $"{venue}.stale_seconds")) ?? defaultStale,
            Initial = Seconds(s["reconnect_initial_seconds"], CliConfig.Name(config, $"{venue}:reconnect_initial_seconds", $"{venue}.reconnect_initial_seconds")) ?? TimeSpan.FromSeconds(1),
            Max = Seconds(s["reconnect_max_seconds"], CliConfig.Name(config, $"{venue}:reconnect_max_seconds", $"{venue}.reconnect_max_seconds")) ?? TimeSpan.FromSeconds(60),
        };
    }

    public static IReadOnlyList<string> Symbols(string? text, string venue)
    {
        var symbols = (text ?? throw new UsageException("--symbols is required, e.g. --symbols AAPL,MSFT (Alpaca) or --symbols EUR_USD (OANDA)"))
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (symbols.Length == 0)
        {
            throw new UsageException("--symbols is empty; name at least one symbol");
        }

        foreach (var s in symbols)
        {
            bool ok = s.Length <= 32 && s.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' || c is '_' || c is '/' || c is '-');
            if (!ok)
            {
                throw new UsageException($"--symbols: '{s}' is not a symbol (letters, digits, '.', '_', '/', '-')");
            }

            if (venue == "oanda" && !s.Contains('_', StringComparison.Ordinal))
            {
                throw new UsageException($"--symbols: OANDA instruments are written with an underscore, e.g. EUR_USD (got '{s}')");
            }
        }

        return symbols.Distinct(StringComparer.Ordinal).ToList();
    }

    private static TimeSpan? Seconds(string? text, string name) =>
        text is null ? null
        : double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double s) && s > 0 && s <= 86_400
            ? TimeSpan.FromSeconds(s)
            : throw new UsageException($"{name} was '{text}'; it must be a number of seconds between 0 and 86400");

    /// <summary>The first of <paramref name="keys"/> set in <paramref name="section"/>, as a URL, named by where it came from.</summary>
    private static Uri? Url(IConfiguration config, string section, params string[] keys)
    {
        foreach (var key in keys)
        {
            if (config.GetSection(section)[key] is string text)
            {
                return Url(text, CliConfig.Name(config, $"{section}:{key}", $"{section}.{key}"));
            }
        }

        return null;
    }

    private static Uri? Url(string? text, string name)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (!Uri.TryCreate(text.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https" or "ws" or "wss"))
        {
            throw new UsageException($"{name} was '{text}'; it must be an http(s):// or ws(s):// URL");
        }

        return uri;
    }
}
