using System.Globalization;
using System.Text;
using System.Text.Json;
using Keel.Domain;
using Keel.Engine.Risk;

namespace Keel.Runtime;

/// <summary>
/// A run's resolved options as stored with its run record, so <c>keel resume</c> continues it with exactly the same
/// settings. Exact values are written as their decimal text; data paths are absolute.
/// </summary>
public static class RunSpecJson
{
    public const int Format = 1;

    public static string Write(RunSpec s)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("format", Format);
            w.WriteString("mode", ModeName(s.Mode));
            w.WriteStartArray("data");
            foreach (var d in s.DataFiles)
            {
                w.WriteStringValue(RunSpec.IsStoreSource(d) || RunSpec.IsLiveSource(d) ? d : Path.GetFullPath(d));
            }

            w.WriteEndArray();
            if (s.Symbols is not null)
            {
                w.WriteStartArray("symbols");
                foreach (var sym in s.Symbols)
                {
                    w.WriteStringValue(sym);
                }

                w.WriteEndArray();
            }

            w.WriteString("strategy", s.Strategy);
            w.WriteStartArray("parameters");
            foreach (var p in s.Parameters)
            {
                w.WriteStringValue(p);
            }

            w.WriteEndArray();
            w.WriteString("stake", s.Stake.ToString());
            w.WriteString("cash", s.Cash.ToString());
            w.WriteString("commission", s.Commission.ToString(CultureInfo.InvariantCulture));
            w.WriteString("commissionPerShare", s.CommissionPerShare.ToString());
            w.WriteString("commissionMin", s.CommissionMinimum.ToString());
            w.WriteString("commissionPerOrder", s.CommissionPerOrder.ToString());
            w.WriteString("slippage", s.Slippage.ToString(CultureInfo.InvariantCulture));
            w.WriteBoolean("fillAtClose", s.FillAtClose);
            if (s.BarTicks)
            {
                w.WriteBoolean("barTicks", true);
            }

            if (s.Strict)
            {
                w.WriteBoolean("strict", true);
            }
            Opt(w, "volumeParticipation", s.VolumeParticipation?.ToString(CultureInfo.InvariantCulture));
            if (s.From is Timestamp from)
            {
                w.WriteNumber("from", from.UnixNanos);
            }

            if (s.To is Timestamp to)
            {
                w.WriteNumber("to", to.UnixNanos);
            }

            Opt(w, "out", s.OutDir is null ? null : Path.GetFullPath(s.OutDir));
            w.WriteString("assetClass", s.AssetClass.ToString());
            Opt(w, "tickSize", s.TickSize?.ToString());
            Opt(w, "lotSize", s.LotSize?.ToString());
            w.WriteString("leverage", s.Leverage.ToString(CultureInfo.InvariantCulture));
            Opt(w, "maxPosition", s.MaxPosition?.ToString());
            Opt(w, "maxOrderNotional", s.MaxOrderNotional?.ToString());
            if (s.MaxOpenOrders is int mo)
            {
                w.WriteNumber("maxOpenOrders", mo);
            }

            Opt(w, "maxDailyLoss", LossText(s.MaxDailyLoss));
            Opt(w, "maxDrawdown", LossText(s.MaxDrawdown));
            Opt(w, "riskWarning", s.RiskWarning?.ToString(CultureInfo.InvariantCulture));
            if (s.MaxOrdersPerMinute is int mpm)
            {
                w.WriteNumber("maxOrdersPerMinute", mpm);
            }

            if (s.MaxExposure is { } exposure)
            {
                w.WriteStartObject("maxExposure");
                foreach (var (symbol, limit) in exposure.OrderBy(x => x.Key, StringComparer.Ordinal))
                {
                    w.WriteString(symbol, limit.ToString());
                }

                w.WriteEndObject();
            }

            Opt(w, "maxTotalExposure", s.MaxTotalExposure?.ToString());
            if (s.Benchmark is not null)
            {
                w.WriteString("benchmark", Path.GetFullPath(s.Benchmark));
            }

            if (!s.Sizing.IsStake)
            {
                w.WriteString("size", s.Sizing.ToString());
            }

            if (s.PatternDayTrader)
            {
                w.WriteBoolean("pdt", true);
            }

            if (s.PeriodsPerYear is int ppy)
            {
                w.WriteNumber("periodsPerYear", ppy);
            }

            if (s.Inputs is { } inputs)
            {
                w.WriteStartArray("inputs");
                foreach (var f in inputs)
                {
                    w.WriteStartObject();
                    w.WriteString("path", f.Path);
                    w.WriteNumber("length", f.Length);
                    w.WriteString("xxh128", f.Hash);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
            }

            if (s.Brokerage != "none")
            {
                // Written only when chosen, so the specs of runs without a model stay as they were.
                w.WriteString("brokerage", s.Brokerage);
            }

            if (s.Live is { } live)
            {
                // Only live runs carry these, so every other spec stays as it was.
                Opt(w, "venue", s.Venue);
                Opt(w, "venueUrl", s.VenueUrl);
                Opt(w, "config", s.ConfigPath);
                Opt(w, "timeframe", s.Timeframe);
                w.WriteStartObject("live");
                w.WriteString("reconcileSeconds", live.ReconcileSeconds.ToString("R", CultureInfo.InvariantCulture));
                w.WriteString("resendAfterSeconds", live.ResendAfterSeconds.ToString("R", CultureInfo.InvariantCulture));
                w.WriteBoolean("adopt", live.Adopt);
                w.WriteBoolean("cancelOnStop", live.CancelOnStop);
                w.WriteBoolean("realMoney", live.RealMoney);
                w.WriteEndObject();
            }

            w.WriteString("speed", double.IsFinite(s.Speed) ? s.Speed.ToString("R", CultureInfo.InvariantCulture) : "max");
            w.WriteNumber("snapshotEvery", s.SnapshotEvery);
            w.WriteString("snapshotSeconds", s.SnapshotSeconds.ToString("R", CultureInfo.InvariantCulture));
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Reads a stored spec; <paramref name="db"/> is the store the run lives in.</summary>
    public static RunSpec Read(string json, string runId, string? db)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var e = doc.RootElement;
            if (e.GetProperty("format").GetInt32() != Format)
            {
                throw new UsageException($"run {runId} was recorded by a different Keel (spec format {e.GetProperty("format").GetInt32()}); it cannot be resumed by this one");
            }

            string? S(string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            string R(string name) => S(name) ?? throw new FormatException($"'{name}' is missing");
            long? L(string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : null;
            List<string>? A(string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array ? v.EnumerateArray().Select(x => x.GetString() ?? string.Empty).ToList() : null;
            decimal D(string name) => decimal.Parse(R(name), NumberStyles.Number, CultureInfo.InvariantCulture);
            var speed = R("speed");
            return new RunSpec
            {
                // Specs from before run modes say "paper": true|false (a live paper run was never resumable).
                Mode = S("mode") is string mode ? ParseMode(mode) : e.GetProperty("paper").GetBoolean() ? RunMode.PaperReplay : RunMode.Backtest,
                DataFiles = A("data") ?? throw new FormatException("'data' is missing"),
                Symbols = A("symbols"),
                Strategy = R("strategy"),
                Parameters = A("parameters") ?? [],
                Stake = Quantity.Parse(R("stake")),
                Cash = Money.Parse(R("cash")),
                Commission = D("commission"),
                CommissionPerShare = Money.Parse(R("commissionPerShare")),
                CommissionMinimum = Money.Parse(R("commissionMin")),
                CommissionPerOrder = Money.Parse(R("commissionPerOrder")),
                Slippage = D("slippage"),
                FillAtClose = e.GetProperty("fillAtClose").GetBoolean(),
                BarTicks = e.TryGetProperty("barTicks", out var bt) && bt.ValueKind == JsonValueKind.True,
                Strict = e.TryGetProperty("strict", out var st) && st.ValueKind == JsonValueKind.True,
                VolumeParticipation = S("volumeParticipation") is string vp ? decimal.Parse(vp, NumberStyles.Number, CultureInfo.InvariantCulture) : null,
                From = L("from") is long from ? Timestamp.FromUnixNanos(from) : null,
                To = L("to") is long to ? Timestamp.FromUnixNanos(to) : null,
                OutDir = S("out"),
                AssetClass = Enum.Parse<AssetClass>(R("assetClass")),
                TickSize = S("tickSize") is string ts ? Price.Parse(ts) : null,
                LotSize = S("lotSize") is string ls ? Quantity.Parse(ls) : null,
                Leverage = D("leverage"),
                MaxPosition = S("maxPosition") is string mp ? Quantity.Parse(mp) : null,
                MaxOrderNotional = S("maxOrderNotional") is string mn ? Money.Parse(mn) : null,
                MaxOpenOrders = L("maxOpenOrders") is long mo ? (int)mo : null,
                PeriodsPerYear = L("periodsPerYear") is long ppy ? (int)ppy : null,
                MaxDailyLoss = S("maxDailyLoss") is string mdl ? LossLimit.TryParse(mdl) : null,
                MaxDrawdown = S("maxDrawdown") is string mdd ? LossLimit.TryParse(mdd) : null,
                RiskWarning = S("riskWarning") is string rw ? decimal.Parse(rw, NumberStyles.Number, CultureInfo.InvariantCulture) : null,
                MaxOrdersPerMinute = L("maxOrdersPerMinute") is long mpm ? (int)mpm : null,
                MaxExposure = e.TryGetProperty("maxExposure", out var mx) && mx.ValueKind == JsonValueKind.Object
                    ? mx.EnumerateObject().ToDictionary(p => p.Name, p => Money.Parse(p.Value.GetString()!), StringComparer.Ordinal)
                    : null,
                MaxTotalExposure = S("maxTotalExposure") is string mte ? Money.Parse(mte) : null,
                PatternDayTrader = e.TryGetProperty("pdt", out var pdt) && pdt.ValueKind == JsonValueKind.True,
                Benchmark = S("benchmark"),
                Sizing = S("size") is string size ? Keel.Engine.Risk.PositionSizing.Parse(size, out var sizeError) ?? throw new FormatException($"'size' {sizeError}") : default,
                Quiet = false,
                Speed = speed == "max" ? double.PositiveInfinity : double.Parse(speed, NumberStyles.Float, CultureInfo.InvariantCulture),
                Db = db,
                SnapshotEvery = L("snapshotEvery") ?? 200_000,
                Brokerage = S("brokerage") ?? "none",
                SnapshotSeconds = double.Parse(R("snapshotSeconds"), NumberStyles.Float, CultureInfo.InvariantCulture),
                Venue = S("venue"),
                VenueUrl = S("venueUrl"),
                ConfigPath = S("config"),
                Timeframe = S("timeframe"),
                Live = e.TryGetProperty("live", out var lv) && lv.ValueKind == JsonValueKind.Object
                    ? new LiveSettings
                    {
                        ReconcileSeconds = double.Parse(lv.GetProperty("reconcileSeconds").GetString()!, NumberStyles.Float, CultureInfo.InvariantCulture),
                        ResendAfterSeconds = double.Parse(lv.GetProperty("resendAfterSeconds").GetString()!, NumberStyles.Float, CultureInfo.InvariantCulture),
                        Adopt = lv.GetProperty("adopt").GetBoolean(),
                        CancelOnStop = lv.GetProperty("cancelOnStop").GetBoolean(),
                        RealMoney = lv.GetProperty("realMoney").GetBoolean(),
                    }
                    : null,
                Inputs = e.TryGetProperty("inputs", out var inputs) && inputs.ValueKind == JsonValueKind.Array
                    ? [.. inputs.EnumerateArray().Select(x => new InputFingerprint(x.GetProperty("path").GetString()!, x.GetProperty("length").GetInt64(), x.GetProperty("xxh128").GetString()!))]
                    : null,
            };
        }
        catch (Exception ex) when (ex is JsonException or FormatException or KeyNotFoundException or InvalidOperationException or ArgumentException or OverflowException)
        {
            throw new UsageException($"run {runId} has a damaged stored specification ({ex.Message}); it cannot be resumed");
        }
    }

    public static string ModeName(RunMode mode) => mode switch
    {
        RunMode.Backtest => "backtest",
        RunMode.PaperReplay => "paper-replay",
        RunMode.PaperLive => "paper-live",
        RunMode.Live => "live",
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown run mode"),
    };

    private static RunMode ParseMode(string text) => text switch
    {
        "backtest" => RunMode.Backtest,
        "paper-replay" => RunMode.PaperReplay,
        "paper-live" => RunMode.PaperLive,
        "live" => RunMode.Live,
        _ => throw new FormatException($"mode '{text}' is not one this Keel knows"),
    };

    private static string? LossText(LossLimit? limit) => limit?.ToText();

    private static void Opt(Utf8JsonWriter w, string name, string? value)
    {
        if (value is not null)
        {
            w.WriteString(name, value);
        }
    }
}
