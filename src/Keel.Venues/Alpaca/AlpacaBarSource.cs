using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Keel.Domain;
using Keel.Engine.Data.Live;
using Keel.Engine.Ports;
using Keel.Venues.Http;

namespace Keel.Venues.Alpaca;

/// <summary>
/// Historical bars from Alpaca's market data REST (§C): <c>GET /v2/stocks/{symbol}/bars</c>, page after page through
/// <c>next_page_token</c> (all other parameters repeated unchanged), 429 waited out. Prices are read exactly from the
/// JSON numbers.
/// </summary>
public sealed class AlpacaBarSource : IHistoricalBarSource, IDisposable
{
    private readonly AlpacaOptions _options;
    private readonly HttpClient _http;
    private readonly TimeProvider _time;

    /// <summary>The server has answered once: from then on a refused connection is retried as a hiccup.</summary>
    private bool _answered;

    public AlpacaBarSource(AlpacaOptions options, TimeProvider? time = null, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _time = time ?? TimeProvider.System;
        _http = new HttpClient(handler ?? new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.All }) { Timeout = TimeSpan.FromSeconds(60) };
    }

    public string Venue => "alpaca";

    /// <summary>Bars per page (1–10000).</summary>
    public int PageSize { get; init; } = 10_000;

    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxRetryWait { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Where retries are logged (event 2020).</summary>
    public Microsoft.Extensions.Logging.ILogger Logger { get; init; } = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    /// <summary>Alpaca's name for a timeframe: <c>{N}Min</c>, <c>{N}Hour</c> or <c>1Day</c>.</summary>
    public static string TimeframeName(Timeframe timeframe) =>
        timeframe.Seconds == 86_400 ? "1Day"
        : timeframe.Seconds % 3_600 == 0 ? $"{timeframe.Seconds / 3_600}Hour"
        : timeframe.Seconds % 60 == 0 ? $"{timeframe.Seconds / 60}Min"
        : throw new ArgumentException($"Alpaca has no {timeframe.Name} bars; the finest timeframe is 1m");

    public async IAsyncEnumerable<BarPage> DownloadAsync(string symbol, string timeframe, Timestamp from, Timestamp to, [EnumeratorCancellation] CancellationToken ct)
    {
        if (!Timeframe.TryParse(timeframe, out var tf))
        {
            throw new ArgumentException($"timeframe '{timeframe}' is not one Keel knows (1m, 5m, 15m, 1h, 1d …)");
        }

        var instrument = new InstrumentId(symbol);
        string? token = null;
        var basePath = $"/v2/stocks/{Uri.EscapeDataString(symbol)}/bars?timeframe={TimeframeName(tf)}&start={Rfc3339(from)}&end={Rfc3339(to)}"
            + $"&limit={PageSize.ToString(CultureInfo.InvariantCulture)}&adjustment=raw&feed={Uri.EscapeDataString(_options.Feed)}&sort=asc";
        int page = 0;
        var retry = new RestRetry(_time, RetryDelay, MaxRetryWait, Logger);
        do
        {
            page++;
            var url = new Uri(_options.RestUrl, token is null ? basePath : basePath + "&page_token=" + Uri.EscapeDataString(token));
            using var response = await retry.SendAsync(_http, () => Request(url), $"alpaca bars {symbol} page {page}", ct, firstContact: !_answered).ConfigureAwait(false);
            _answered = true;
            var body = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                var text = ErrorBodies.ErrorText(System.Text.Encoding.UTF8.GetString(body), "message");
                throw new VenueRequestException($"alpaca bars {symbol}: HTTP {(int)response.StatusCode}: {text}"
                    + (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden ? " (check KEEL__ALPACA__KEY/SECRET and the feed your plan includes)" : string.Empty), response.StatusCode);
            }

            var (bars, next) = ParsePage(body, instrument, $"alpaca bars {symbol} page {page}");
            yield return new BarPage(bars, next);
            token = next;
        }
        while (token is not null);
    }

    /// <summary>Parses <c>{"bars":[…],"symbol":…,"next_page_token":…}</c>; <c>bars</c> may be null when there are none.</summary>
    internal static (IReadOnlyList<Bar> Bars, string? Next) ParsePage(byte[] body, InstrumentId instrument, string what)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            var bars = new List<Bar>();
            if (root.TryGetProperty("bars", out var array) && array.ValueKind == JsonValueKind.Array)
            {
                int i = 0;
                foreach (var b in array.EnumerateArray())
                {
                    bars.Add(new Bar(
                        instrument,
                        Time(b, "t", what, i),
                        Price.FromRaw(Number(b, "o", what, i, Price.Decimals)),
                        Price.FromRaw(Number(b, "h", what, i, Price.Decimals)),
                        Price.FromRaw(Number(b, "l", what, i, Price.Decimals)),
                        Price.FromRaw(Number(b, "c", what, i, Price.Decimals)),
                        Quantity.FromRaw(Number(b, "v", what, i, Quantity.Decimals))));
                    i++;
                }
            }
            else if (root.TryGetProperty("bars", out var missing) && missing.ValueKind != JsonValueKind.Null)
            {
                throw new VenueRequestException($"{what}: 'bars' is {missing.ValueKind}, expected an array");
            }

            string? next = root.TryGetProperty("next_page_token", out var token) && token.ValueKind == JsonValueKind.String ? token.GetString() : null;
            return (bars, string.IsNullOrEmpty(next) ? null : next);
        }
        catch (JsonException ex)
        {
            throw new VenueRequestException($"{what}: the response is not valid JSON ({ex.Message})");
        }
    }

    public void Dispose() => _http.Dispose();

    /// <summary>RFC 3339 UTC (<c>2024-01-02T14:30:00Z</c>), escaped for a query string.</summary>
    internal static string Rfc3339(Timestamp t) => Uri.EscapeDataString(t.ToString());

    private static long Number(JsonElement bar, string name, string what, int index, int decimals)
    {
        if (bar.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && FixedPoint.TryParse(v.GetRawText().AsSpan(), decimals, out long raw))
        {
            return raw;
        }

        throw new VenueRequestException($"{what}: bar {index} has no valid number '{name}'");
    }

    private static Timestamp Time(JsonElement bar, string name, string what, int index)
    {
        if (bar.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && Timestamp.TryParse(v.GetString(), out var t))
        {
            return t;
        }

        throw new VenueRequestException($"{what}: bar {index} has no valid time '{name}'");
    }

    private HttpRequestMessage Request(Uri url)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Add("APCA-API-KEY-ID", _options.Key);
        request.Headers.Add("APCA-API-SECRET-KEY", _options.Secret);
        return request;
    }
}
