using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Keel.Domain;
using Keel.Sandbox.Market;
using Keel.Sandbox.Wire;
using Microsoft.AspNetCore.Http;

namespace Keel.Sandbox.Rest;

/// <summary>
/// Alpaca market data REST (v2 stocks bars): single and multi-symbol bars with <c>next_page_token</c> paging,
/// timeframe aggregation, <c>APCA-*</c> header auth, <c>X-Ratelimit-*</c> headers and a switchable 429.
/// </summary>
internal sealed partial class AlpacaRest(SandboxOptions options, SandboxFaults faults, VenueStats stats, IReadOnlyDictionary<string, SeriesData> series, TimeProvider time)
{
    private const int RateLimit = 200;
    private static readonly string[] Feeds = ["iex", "sip", "otc", "delayed_sip", "boats", "overnight"];
    private readonly Lock _gate = new();
    private long _window;
    private int _used;

    [GeneratedRegex("^([1-9][0-9]*)(Min|T|Hour|H|Day|D|Week|W|Month|M)$")]
    private static partial Regex TimeframePattern();

    public Task SingleAsync(HttpContext context) => HandleAsync(context, (string)context.Request.RouteValues["symbol"]!, multi: false);

    public Task MultiAsync(HttpContext context) => HandleAsync(context, null, multi: true);

    private async Task HandleAsync(HttpContext context, string? symbol, bool multi)
    {
        stats.Rest();
        var response = context.Response;
        bool limited = faults.TryTakeRateLimit();
        RateHeaders(response, limited);
        if (limited)
        {
            stats.Limited();
            await ErrorAsync(context, StatusCodes.Status429TooManyRequests, "too many requests").ConfigureAwait(false);
            return;
        }

        var headers = context.Request.Headers;
        if (faults.RejectAuth || !Same(headers["APCA-API-KEY-ID"].ToString(), options.AlpacaKey) || !Same(headers["APCA-API-SECRET-KEY"].ToString(), options.AlpacaSecret))
        {
            await ErrorAsync(context, StatusCodes.Status401Unauthorized, "unauthorized").ConfigureAwait(false);
            return;
        }

        var query = context.Request.Query;
        string[] symbols;
        if (multi)
        {
            symbols = [.. query["symbols"].ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
            if (symbols.Length == 0)
            {
                await ErrorAsync(context, StatusCodes.Status400BadRequest, "missing symbols").ConfigureAwait(false);
                return;
            }
        }
        else
        {
            symbols = [symbol!];
        }

        var tfText = query["timeframe"].ToString();
        if (tfText.Length == 0)
        {
            await ErrorAsync(context, StatusCodes.Status422UnprocessableEntity, "missing timeframe").ConfigureAwait(false);
            return;
        }

        if (!TryParseTimeframe(tfText, out long interval, out string? unsupported))
        {
            await ErrorAsync(context, StatusCodes.Status400BadRequest, unsupported ?? $"invalid timeframe: {tfText}").ConfigureAwait(false);
            return;
        }

        long from = long.MinValue, to = long.MaxValue;
        if (query.ContainsKey("start") && !WireText.TryParseTime(query["start"], out from))
        {
            await ErrorAsync(context, StatusCodes.Status400BadRequest, "invalid start").ConfigureAwait(false);
            return;
        }

        if (query.ContainsKey("end") && !WireText.TryParseTime(query["end"], out to))
        {
            await ErrorAsync(context, StatusCodes.Status400BadRequest, "invalid end").ConfigureAwait(false);
            return;
        }

        int limit = 1000;
        if (query.ContainsKey("limit") && (!int.TryParse(query["limit"], NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > 10_000))
        {
            await ErrorAsync(context, StatusCodes.Status400BadRequest, "invalid limit: must be between 1 and 10000").ConfigureAwait(false);
            return;
        }

        if (query.ContainsKey("feed") && !Feeds.Contains(query["feed"].ToString()))
        {
            await ErrorAsync(context, StatusCodes.Status400BadRequest, $"invalid feed: {query["feed"]}").ConfigureAwait(false);
            return;
        }

        if (query.ContainsKey("adjustment") && query["adjustment"].ToString() is not ("raw" or "split" or "dividend" or "all"))
        {
            await ErrorAsync(context, StatusCodes.Status400BadRequest, "invalid adjustment").ConfigureAwait(false);
            return;
        }

        bool descending = false;
        if (query.ContainsKey("sort"))
        {
            var sort = query["sort"].ToString();
            if (sort is not ("asc" or "desc"))
            {
                await ErrorAsync(context, StatusCodes.Status400BadRequest, "invalid sort: must be asc or desc").ConfigureAwait(false);
                return;
            }

            descending = sort == "desc";
        }

        // Every symbol's bars in page order: symbols alphabetically, each in time order.
        var lists = new List<(string Symbol, ServedBar[] Bars, int First, int Count)>();
        foreach (var s in symbols)
        {
            if (!series.TryGetValue(s, out var data))
            {
                continue;
            }

            if (interval % data.Interval != 0)
            {
                await ErrorAsync(context, StatusCodes.Status422UnprocessableEntity,
                    $"timeframe {tfText} cannot be built from the sandbox data for {s}, which has {Describe(data.Interval)} bars").ConfigureAwait(false);
                return;
            }

            var bars = data.Aggregate(interval);
            int first = LowerBound(bars, from);
            int end = UpperBound(bars, to);
            lists.Add((s, bars, first, Math.Max(0, end - first)));
        }

        int listIndex = 0, offset = 0;
        if (query.ContainsKey("page_token"))
        {
            if (!TryDecodeToken(query["page_token"].ToString(), out var tokenSymbol, out long tokenTime)
                || !TryLocate(lists, tokenSymbol, tokenTime, descending, out listIndex, out offset))
            {
                await ErrorAsync(context, StatusCodes.Status400BadRequest, "invalid page token").ConfigureAwait(false);
                return;
            }
        }

        var page = new List<(string Symbol, ServedBar Bar)>(Math.Min(limit, 10_000));
        while (listIndex < lists.Count && page.Count < limit)
        {
            var (s, bars, first, count) = lists[listIndex];
            if (offset >= count)
            {
                listIndex++;
                offset = 0;
                continue;
            }

            page.Add((s, bars[descending ? first + count - 1 - offset : first + offset]));
            offset++;
        }

        string? next = null;
        while (listIndex < lists.Count && offset >= lists[listIndex].Count)
        {
            listIndex++;
            offset = 0;
        }

        if (listIndex < lists.Count)
        {
            var (s, bars, first, count) = lists[listIndex];
            next = EncodeToken(s, bars[descending ? first + count - 1 - offset : first + offset].Time);
        }

        var body = AlpacaWire.Write(w =>
        {
            w.WriteStartObject();
            if (multi)
            {
                w.WriteStartObject("bars");
                foreach (var group in page.GroupBy(p => p.Symbol))
                {
                    w.WriteStartArray(group.Key);
                    foreach (var (_, bar) in group)
                    {
                        AlpacaWire.WriteBar(w, bar, null);
                    }

                    w.WriteEndArray();
                }

                w.WriteEndObject();
            }
            else
            {
                w.WriteStartArray("bars");
                foreach (var (_, bar) in page)
                {
                    AlpacaWire.WriteBar(w, bar, null);
                }

                w.WriteEndArray();
                w.WriteString("symbol", symbol);
            }

            if (next is null)
            {
                w.WriteNull("next_page_token");
            }
            else
            {
                w.WriteString("next_page_token", next);
            }

            w.WriteEndObject();
        });
        await JsonAsync(context, StatusCodes.Status200OK, body).ConfigureAwait(false);
    }

    /// <summary><c>{N}Min</c> (1–59), <c>{N}Hour</c> (1–23), <c>1Day</c>, and the old aliases <c>T</c>/<c>H</c>/<c>D</c>; weeks and months are valid but not served.</summary>
    internal static bool TryParseTimeframe(string text, out long interval, out string? problem)
    {
        interval = 0;
        problem = null;
        var m = TimeframePattern().Match(text);
        if (!m.Success || !int.TryParse(m.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out int n))
        {
            return false;
        }

        switch (m.Groups[2].Value)
        {
            case "Min" or "T" when n <= 59:
                interval = n * Timestamp.NanosPerMinute;
                return true;
            case "Hour" or "H" when n <= 23:
                interval = n * Timestamp.NanosPerHour;
                return true;
            case "Day" or "D" when n == 1:
                interval = Timestamp.NanosPerDay;
                return true;
            case "Week" or "W" when n == 1:
            case "Month" or "M" when n is 1 or 2 or 3 or 4 or 6 or 12:
                problem = $"timeframe {text} is valid on Alpaca but the sandbox serves bars up to 1Day only";
                return false;
            default:
                return false;
        }
    }

    private static string Describe(long interval) =>
        interval % Timestamp.NanosPerDay == 0 ? $"{interval / Timestamp.NanosPerDay}Day"
        : interval % Timestamp.NanosPerHour == 0 ? $"{interval / Timestamp.NanosPerHour}Hour"
        : interval % Timestamp.NanosPerMinute == 0 ? $"{interval / Timestamp.NanosPerMinute}Min"
        : $"{interval / Timestamp.NanosPerSecond}-second";

    private static int LowerBound(ServedBar[] bars, long time)
    {
        int lo = 0, hi = bars.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (bars[mid].Time < time)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    private static int UpperBound(ServedBar[] bars, long time)
    {
        int lo = 0, hi = bars.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (bars[mid].Time <= time)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    private static bool TryLocate(List<(string Symbol, ServedBar[] Bars, int First, int Count)> lists, string symbol, long time, bool descending, out int listIndex, out int offset)
    {
        for (listIndex = 0; listIndex < lists.Count; listIndex++)
        {
            var (s, bars, first, count) = lists[listIndex];
            if (s != symbol)
            {
                continue;
            }

            for (offset = 0; offset < count; offset++)
            {
                if (bars[descending ? first + count - 1 - offset : first + offset].Time == time)
                {
                    return true;
                }
            }
        }

        offset = 0;
        return false;
    }

    /// <summary>Opaque to clients; like Alpaca's, base64 of the symbol and the time of the next bar.</summary>
    private static string EncodeToken(string symbol, long time) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{symbol}|{WireText.Time9(time)}"));

    private static bool TryDecodeToken(string token, out string symbol, out long time)
    {
        symbol = string.Empty;
        time = 0;
        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(token));
            int bar = text.LastIndexOf('|');
            if (bar <= 0)
            {
                return false;
            }

            symbol = text[..bar];
            return WireText.TryParseTime(text[(bar + 1)..], out time);
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private void RateHeaders(HttpResponse response, bool limited)
    {
        long now = time.GetUtcNow().ToUnixTimeSeconds();
        int remaining;
        long reset;
        lock (_gate)
        {
            long window = now / 60;
            if (window != _window)
            {
                _window = window;
                _used = 0;
            }

            _used++;
            remaining = limited ? 0 : Math.Max(0, RateLimit - _used);
            reset = (window + 1) * 60;
        }

        response.Headers["X-Ratelimit-Limit"] = RateLimit.ToString(CultureInfo.InvariantCulture);
        response.Headers["X-Ratelimit-Remaining"] = remaining.ToString(CultureInfo.InvariantCulture);
        response.Headers["X-Ratelimit-Reset"] = reset.ToString(CultureInfo.InvariantCulture);
    }

    private static bool Same(string a, string b) => CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));

    internal static Task ErrorAsync(HttpContext context, int status, string message) =>
        JsonAsync(context, status, AlpacaWire.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("message", message);
            w.WriteEndObject();
        }));

    internal static async Task JsonAsync(HttpContext context, int status, byte[] body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }

    internal static JsonDocument? TryParse(byte[] body)
    {
        try
        {
            return JsonDocument.Parse(body);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
