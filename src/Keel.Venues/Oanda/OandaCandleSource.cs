using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Keel.Domain;
using Keel.Engine.Data.Live;
using Keel.Engine.Ports;
using Keel.Venues.Alpaca;
using Keel.Venues.Http;

namespace Keel.Venues.Oanda;

/// <summary>
/// Historical candles from OANDA v20 (§D.3): <c>GET /v3/instruments/{instrument}/candles</c> with
/// <c>from</c> + <c>count</c> (never count with both from and to), walking forward from the last candle received
/// (<c>includeFirst=false</c>) until <c>to</c>. Mid prices by default; daily and hourly candles aligned to UTC
/// midnight (<c>dailyAlignment=0&amp;alignmentTimezone=UTC</c>) so they line up with Keel's candles. Only complete
/// candles are returned; volume is OANDA's tick count.
/// </summary>
public sealed class OandaCandleSource : IHistoricalBarSource, IDisposable
{
    private static readonly string[] Granularities = ["S5", "S10", "S15", "S30", "M1", "M2", "M4", "M5", "M10", "M15", "M30", "H1", "H2", "H3", "H4", "H6", "H8", "H12", "D"];

    private readonly OandaOptions _options;
    private readonly HttpClient _http;
    private readonly TimeProvider _time;

    /// <summary>The server has answered once: from then on a refused connection is retried as a hiccup.</summary>
    private bool _answered;

    public OandaCandleSource(OandaOptions options, TimeProvider? time = null, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _time = time ?? TimeProvider.System;
        _http = new HttpClient(handler ?? new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.All }) { Timeout = TimeSpan.FromSeconds(60) };
    }

    public string Venue => "oanda";

    /// <summary>Candles per request (1–5000).</summary>
    public int PageSize { get; init; } = 5_000;

    /// <summary><c>M</c> (mid), <c>B</c> (bid) or <c>A</c> (ask).</summary>
    public string PriceComponent { get; init; } = "M";

    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxRetryWait { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Where retries are logged (event 2020).</summary>
    public Microsoft.Extensions.Logging.ILogger Logger { get; init; } = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    /// <summary>OANDA's granularity for a timeframe (S5 … H12, D).</summary>
    public static string GranularityName(Timeframe timeframe)
    {
        var name = timeframe.Seconds == 86_400 ? "D"
            : timeframe.Seconds % 3_600 == 0 ? $"H{timeframe.Seconds / 3_600}"
            : timeframe.Seconds % 60 == 0 ? $"M{timeframe.Seconds / 60}"
            : $"S{timeframe.Seconds}";
        return Array.IndexOf(Granularities, name) >= 0 ? name
            : throw new ArgumentException($"OANDA has no {timeframe.Name} candles; granularities are {string.Join(' ', Granularities)}");
    }

    public async IAsyncEnumerable<BarPage> DownloadAsync(string symbol, string timeframe, Timestamp from, Timestamp to, [EnumeratorCancellation] CancellationToken ct)
    {
        if (!Timeframe.TryParse(timeframe, out var tf))
        {
            throw new ArgumentException($"timeframe '{timeframe}' is not one Keel knows (S5, M1, M5, H1, D …)");
        }

        var granularity = GranularityName(tf);
        var instrument = new InstrumentId(symbol);
        var cursor = from;
        bool first = true;
        int page = 0;
        var retry = new RestRetry(_time, RetryDelay, MaxRetryWait, Logger);
        while (cursor < to)
        {
            page++;
            var url = new Uri(_options.RestUrl, $"/v3/instruments/{Uri.EscapeDataString(symbol)}/candles?granularity={granularity}&price={PriceComponent}"
                + $"&from={AlpacaBarSource.Rfc3339(cursor)}&count={PageSize.ToString(CultureInfo.InvariantCulture)}&includeFirst={(first ? "true" : "false")}"
                + "&dailyAlignment=0&alignmentTimezone=UTC");
            var what = $"oanda candles {symbol} page {page}";
            using var response = await retry.SendAsync(_http, () => Request(url), what, ct, firstContact: !_answered).ConfigureAwait(false);
            _answered = true;
            var body = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                var text = ErrorBodies.ErrorText(System.Text.Encoding.UTF8.GetString(body), "errorMessage");
                throw new VenueRequestException($"{what}: HTTP {(int)response.StatusCode}: {text}"
                    + (response.StatusCode == HttpStatusCode.Unauthorized ? " (check KEEL__OANDA__TOKEN and KEEL__OANDA__ACCOUNT)" : string.Empty), response.StatusCode);
            }

            var (bars, received, last) = ParseCandles(body, instrument, PriceComponent, to, what);
            first = false;
            if (received == 0 || last is null || last.Value <= cursor)
            {
                if (bars.Count > 0)
                {
                    yield return new BarPage(bars, null);
                }

                yield break;
            }

            cursor = last.Value;
            bool more = received >= PageSize && cursor < to;
            yield return new BarPage(bars, more ? cursor.ToString() : null);
            if (!more)
            {
                yield break;
            }
        }
    }

    /// <summary>
    /// Parses a candles response; returns complete candles before <paramref name="to"/>, how many candles came in all,
    /// and the time of the last one (the next page starts after it).
    /// </summary>
    internal static (IReadOnlyList<Bar> Bars, int Received, Timestamp? Last) ParseCandles(byte[] body, InstrumentId instrument, string component, Timestamp to, string what)
    {
        var key = component switch { "B" => "bid", "A" => "ask", _ => "mid" };
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (!doc.RootElement.TryGetProperty("candles", out var candles) || candles.ValueKind != JsonValueKind.Array)
            {
                throw new VenueRequestException($"{what}: the response has no 'candles' array");
            }

            var bars = new List<Bar>();
            Timestamp? last = null;
            int i = 0;
            foreach (var c in candles.EnumerateArray())
            {
                if (!c.TryGetProperty("time", out var timeText) || timeText.ValueKind != JsonValueKind.String
                    || !OandaPriceParser.TryTime(System.Text.Encoding.UTF8.GetBytes(timeText.GetString()!), out var time))
                {
                    throw new VenueRequestException($"{what}: candle {i} has no valid 'time'");
                }

                last = time;
                bool complete = c.TryGetProperty("complete", out var done) && done.ValueKind == JsonValueKind.True;
                if (complete && time < to)
                {
                    if (!c.TryGetProperty(key, out var ohlc) || ohlc.ValueKind != JsonValueKind.Object)
                    {
                        throw new VenueRequestException($"{what}: candle {i} has no '{key}' prices (asked for price={component})");
                    }

                    long volume = c.TryGetProperty("volume", out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out long n) ? n : 0;
                    bars.Add(new Bar(instrument, time, P(ohlc, "o", what, i), P(ohlc, "h", what, i), P(ohlc, "l", what, i), P(ohlc, "c", what, i), Quantity.From(volume)));
                }

                i++;
            }

            return (bars, i, last);
        }
        catch (JsonException ex)
        {
            throw new VenueRequestException($"{what}: the response is not valid JSON ({ex.Message})");
        }
    }

    public void Dispose() => _http.Dispose();

    private static Price P(JsonElement ohlc, string name, string what, int index)
    {
        if (ohlc.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && Price.TryParse(v.GetString(), out var p))
        {
            return p;
        }

        throw new VenueRequestException($"{what}: candle {index} has no valid price '{name}'");
    }

    private HttpRequestMessage Request(Uri url)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _options.Token);
        request.Headers.Add("Accept-Datetime-Format", "RFC3339");
        return request;
    }
}
