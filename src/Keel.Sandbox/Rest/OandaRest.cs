using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Keel.Domain;
using Keel.Sandbox.Market;
using Keel.Sandbox.Streaming;
using Keel.Sandbox.Wire;
using Microsoft.AspNetCore.Http;

namespace Keel.Sandbox.Rest;

/// <summary>
/// OANDA v20 REST and streaming entry points: Bearer token and account checks, candles (price M/B/A, granularity
/// aggregation, count/from/to/includeFirst, RFC 3339 or UNIX times), the pricing snapshot and the pricing stream.
/// Every response carries a <c>RequestID</c>.
/// </summary>
internal sealed class OandaRest(SandboxOptions options, SandboxFaults faults, SandboxStats allStats, VenueFeed feed, IReadOnlyDictionary<string, SeriesData> series,
    Func<string, int> decimals, TimeProvider time)
{
    private const string Unauthorized = "Insufficient authorization to perform request.";
    private static readonly string[] Granularities = ["S5", "S10", "S15", "S30", "M1", "M2", "M4", "M5", "M10", "M15", "M30", "H1", "H2", "H3", "H4", "H6", "H8", "H12", "D", "W", "M"];
    private long _requestId = 100_000_000;
    private readonly long _halfSpread = Price.From(options.HalfSpread).Raw;

    private VenueStats Stats => allStats.Oanda;

    public Task CandlesAsync(HttpContext context) => CandlesCoreAsync(context, checkAccount: false);

    public Task AccountCandlesAsync(HttpContext context) => CandlesCoreAsync(context, checkAccount: true);

    public async Task PricingAsync(HttpContext context)
    {
        if (!await AdmitAsync(context, checkAccount: true, rest: true).ConfigureAwait(false))
        {
            return;
        }

        var instruments = await InstrumentsAsync(context).ConfigureAwait(false);
        if (instruments is null)
        {
            return;
        }

        bool unix = UnixTimes(context);
        var prices = feed.LastTicks(instruments);
        var body = AlpacaWire.Write(w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("prices");
            foreach (var e in prices)
            {
                using var line = JsonDocument.Parse(OandaWire.Price(e, _halfSpread, decimals(e.Symbol), unix));
                line.RootElement.WriteTo(w);
            }

            w.WriteEndArray();
            long now = Timestamp.FromDateTimeOffset(time.GetUtcNow()).UnixNanos;
            w.WriteString("time", unix ? WireText.Unix9(now) : WireText.Time9(now));
            w.WriteEndObject();
        });
        await AlpacaRest.JsonAsync(context, StatusCodes.Status200OK, body).ConfigureAwait(false);
    }

    public async Task StreamAsync(HttpContext context, CancellationToken stopping)
    {
        if (!await AdmitAsync(context, checkAccount: true, rest: false).ConfigureAwait(false))
        {
            return;
        }

        var instruments = await InstrumentsAsync(context).ConfigureAwait(false);
        if (instruments is null)
        {
            return;
        }

        bool snapshot = !string.Equals(context.Request.Query["snapshot"].ToString(), "false", StringComparison.OrdinalIgnoreCase);
        var session = new OandaSession(context, feed, faults, allStats, instruments, UnixTimes(context), options, decimals, time, stopping) { SnapshotWanted = snapshot };
        await session.RunAsync().ConfigureAwait(false);
    }

    private async Task CandlesCoreAsync(HttpContext context, bool checkAccount)
    {
        if (!await AdmitAsync(context, checkAccount, rest: true).ConfigureAwait(false))
        {
            return;
        }

        var query = context.Request.Query;
        var instrument = (string)context.Request.RouteValues["instrument"]!;
        if (!series.TryGetValue(instrument, out var data))
        {
            await ErrorAsync(context, StatusCodes.Status400BadRequest, "Invalid value specified for 'instrument'").ConfigureAwait(false);
            return;
        }

        var price = query.ContainsKey("price") ? query["price"].ToString() : "M";
        if (price.Length == 0 || price.Any(c => c is not ('M' or 'B' or 'A')) || price.Distinct().Count() != price.Length)
        {
            await ErrorAsync(context, StatusCodes.Status400BadRequest, "Invalid value specified for 'price'").ConfigureAwait(false);
            return;
        }

        var granularity = query.ContainsKey("granularity") ? query["granularity"].ToString() : "S5";
        if (!Granularities.Contains(granularity))
        {
            await ErrorAsync(context, StatusCodes.Status400BadRequest, "Invalid value specified for 'granularity'").ConfigureAwait(false);
            return;
        }

        if (granularity is "W" or "M" || !Keel.Engine.Data.Live.Timeframe.TryParse(granularity, out var tf) || tf.Nanos % data.Interval != 0)
        {
            await ErrorAsync(context, StatusCodes.Status400BadRequest,
                $"Invalid value specified for 'granularity': the sandbox data for {instrument} has {data.Interval / Timestamp.NanosPerSecond}-second candles; ask for a multiple of that, up to D").ConfigureAwait(false);
            return;
        }

        bool unix = UnixTimes(context);
        long? from = null, to = null;
        foreach (var (name, assign) in new (string, Action<long>)[] { ("from", v => from = v), ("to", v => to = v) })
        {
            if (!query.ContainsKey(name))
            {
                continue;
            }

            var text = query[name].ToString();
            if (!(unix ? WireText.TryParseUnix(text, out long value) : WireText.TryParseTime(text, out value) || WireText.TryParseUnix(text, out value)))
            {
                await ErrorAsync(context, StatusCodes.Status400BadRequest, $"Invalid value specified for '{name}'").ConfigureAwait(false);
                return;
            }

            assign(value);
        }

        int count = 500;
        if (query.ContainsKey("count"))
        {
            if (!int.TryParse(query["count"], NumberStyles.None, CultureInfo.InvariantCulture, out count) || count < 1 || count > 5000)
            {
                await ErrorAsync(context, StatusCodes.Status400BadRequest, "Invalid value specified for 'count'. Must be between 1 and 5000").ConfigureAwait(false);
                return;
            }

            if (from is not null && to is not null)
            {
                await ErrorAsync(context, StatusCodes.Status400BadRequest, "'count' cannot be specified when both 'from' and 'to' are specified").ConfigureAwait(false);
                return;
            }
        }

        bool includeFirst = !string.Equals(query["includeFirst"].ToString(), "false", StringComparison.OrdinalIgnoreCase);
        bool smooth = string.Equals(query["smooth"].ToString(), "true", StringComparison.OrdinalIgnoreCase);
        var all = data.Aggregate(tf.Nanos);
        int start, end;
        if (from is long f)
        {
            start = 0;
            while (start < all.Length && (all[start].Time < f || (!includeFirst && all[start].Time == f)))
            {
                start++;
            }

            end = to is long t ? Bound(all, t, start) : Math.Min(all.Length, start + count);
        }
        else
        {
            end = to is long t ? Bound(all, t, 0) : all.Length;
            start = Math.Max(0, end - count);
        }

        int decimalsOf = decimals(instrument);
        var body = AlpacaWire.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("instrument", instrument);
            w.WriteString("granularity", granularity);
            w.WriteStartArray("candles");
            for (int i = start; i < end; i++)
            {
                var c = all[i];
                long open = smooth && i > 0 ? all[i - 1].Close : c.Open;
                w.WriteStartObject();
                w.WriteBoolean("complete", true);
                w.WriteNumber("volume", c.Ticks);
                w.WriteString("time", unix ? WireText.Unix9(c.Time) : WireText.Time9(c.Time));
                foreach (var (letter, name, shift) in new[] { ('B', "bid", -_halfSpread), ('A', "ask", _halfSpread), ('M', "mid", 0L) })
                {
                    if (!price.Contains(letter, StringComparison.Ordinal))
                    {
                        continue;
                    }

                    w.WriteStartObject(name);
                    w.WriteString("o", WireText.Fixed(open + shift, decimalsOf));
                    w.WriteString("h", WireText.Fixed(c.High + shift, decimalsOf));
                    w.WriteString("l", WireText.Fixed(c.Low + shift, decimalsOf));
                    w.WriteString("c", WireText.Fixed(c.Close + shift, decimalsOf));
                    w.WriteEndObject();
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        });
        await AlpacaRest.JsonAsync(context, StatusCodes.Status200OK, body).ConfigureAwait(false);

        // First candle index at or after `to` (exclusive end).
        static int Bound(ServedBar[] bars, long to, int from)
        {
            int i = from;
            while (i < bars.Length && bars[i].Time < to)
            {
                i++;
            }

            return i;
        }
    }

    /// <summary>RequestID, the 429 switch (REST only), the Bearer token and (where the path has one) the account id.</summary>
    private async Task<bool> AdmitAsync(HttpContext context, bool checkAccount, bool rest)
    {
        context.Response.Headers["RequestID"] = Interlocked.Increment(ref _requestId).ToString(CultureInfo.InvariantCulture);
        if (rest)
        {
            Stats.Rest();
            if (faults.TryTakeRateLimit())
            {
                Stats.Limited();
                await ErrorAsync(context, StatusCodes.Status429TooManyRequests, "Requests per second exceeded").ConfigureAwait(false);
                return false;
            }
        }

        var authorization = context.Request.Headers.Authorization.ToString();
        bool tokenOk = authorization.StartsWith("Bearer ", StringComparison.Ordinal) && Same(authorization["Bearer ".Length..].Trim(), options.OandaToken);
        bool accountOk = !checkAccount || string.Equals((string?)context.Request.RouteValues["accountId"], options.OandaAccount, StringComparison.Ordinal);
        if (faults.RejectAuth || !tokenOk || !accountOk)
        {
            Stats.AuthFailed();
            await ErrorAsync(context, StatusCodes.Status401Unauthorized, Unauthorized).ConfigureAwait(false);
            return false;
        }

        return true;
    }

    private async Task<HashSet<string>?> InstrumentsAsync(HttpContext context)
    {
        var list = context.Request.Query["instruments"].ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (list.Length == 0 || list.Any(i => !feed.Symbols.Contains(i)))
        {
            await ErrorAsync(context, StatusCodes.Status400BadRequest, "Invalid value specified for 'instruments'").ConfigureAwait(false);
            return null;
        }

        return [.. list];
    }

    private static bool UnixTimes(HttpContext context) =>
        string.Equals(context.Request.Headers["Accept-Datetime-Format"].ToString(), "UNIX", StringComparison.OrdinalIgnoreCase);

    private static bool Same(string a, string b) => CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));

    private static Task ErrorAsync(HttpContext context, int status, string message) =>
        AlpacaRest.JsonAsync(context, status, OandaWire.Error(message));
}
