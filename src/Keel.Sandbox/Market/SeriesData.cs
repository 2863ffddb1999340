using System.Collections.Concurrent;
using Keel.Data;
using Keel.Domain;
using Keel.Engine.Data;
using Keel.Engine.Data.Live;

namespace Keel.Sandbox.Market;

/// <summary>A bar as served by the REST APIs: OHLCV, tick count and the VWAP of its ticks.</summary>
internal readonly record struct ServedBar(long Time, long Open, long High, long Low, long Close, long Volume, int Ticks, decimal Vwap);

/// <summary>A replayed bar file, loaded once: its bars, interval and price precision.</summary>
internal sealed class SeriesData
{
    private readonly ConcurrentDictionary<long, ServedBar[]> _aggregates = new();

    private SeriesData(string symbol, string path, Bar[] bars, long interval, int decimals)
    {
        Symbol = symbol;
        Path = path;
        Bars = bars;
        Interval = interval;
        Decimals = decimals;
    }

    public string Symbol { get; }

    public string Path { get; }

    public IReadOnlyList<Bar> Bars { get; }

    /// <summary>Bar interval in nanoseconds.</summary>
    public long Interval { get; }

    /// <summary>Decimals the file's prices use (at most 9): OANDA prices are written with exactly this many.</summary>
    public int Decimals { get; }

    /// <summary>Reads a bar file with Keel's CSV reader, infers or checks the interval and the alignment of every bar.</summary>
    public static SeriesData Load(SandboxSeries series)
    {
        if (string.IsNullOrWhiteSpace(series.Symbol))
        {
            throw new ArgumentException($"series {series.Path} has no symbol", nameof(series));
        }

        var bars = new List<Bar>();
        using (var reader = CsvBarReader.Open(series.Path, new InstrumentId(series.Symbol)))
        {
            while (reader.TryRead(out var bar))
            {
                bars.Add(bar);
            }
        }

        if (bars.Count == 0)
        {
            throw new DataFormatException(series.Path, 0, 0, null, "has no bars to replay");
        }

        long interval;
        if (series.Timeframe is { } text)
        {
            if (!Timeframe.TryParse(text, out var tf))
            {
                throw new DataFormatException(series.Path, 0, 0, null, $"timeframe '{text}' is not one of 5s, 1m, 5m, 1h, 1d (or S5, M1, M5, H1, D); it must divide a day");
            }

            interval = tf.Nanos;
        }
        else
        {
            interval = long.MaxValue;
            for (int i = 1; i < bars.Count; i++)
            {
                interval = Math.Min(interval, bars[i].Time.UnixNanos - bars[i - 1].Time.UnixNanos);
            }

            if (interval == long.MaxValue)
            {
                throw new DataFormatException(series.Path, 0, 0, null, "has a single bar, so its interval cannot be inferred; give the series a timeframe (e.g. SYMBOL:5m=FILE)");
            }

            if (interval % Timestamp.NanosPerSecond != 0 || Timestamp.NanosPerDay % interval != 0)
            {
                throw new DataFormatException(series.Path, 0, 0, null,
                    $"the smallest gap between bars is {TimeSpan.FromTicks(interval / 100)}; the sandbox replays bars whose interval is whole seconds dividing a day (5s … 1d)");
            }
        }

        int decimals = 0;
        for (int i = 0; i < bars.Count; i++)
        {
            var b = bars[i];
            if (b.Time.UnixNanos % interval != 0)
            {
                throw new DataFormatException(series.Path, 0, 0, null,
                    $"bar {i + 1} at {b.Time} is not aligned to the {TimeSpan.FromTicks(interval / 100)} interval (bars must start at multiples of it since 1970-01-01 UTC)");
            }

            if (i > 0 && b.Time.UnixNanos - bars[i - 1].Time.UnixNanos < interval)
            {
                throw new DataFormatException(series.Path, 0, 0, null,
                    $"bar {i + 1} at {b.Time} starts less than one interval ({TimeSpan.FromTicks(interval / 100)}) after the previous bar");
            }

            decimals = Math.Max(decimals, Math.Max(Math.Max(DecimalsOf(b.Open.Raw), DecimalsOf(b.High.Raw)), Math.Max(DecimalsOf(b.Low.Raw), DecimalsOf(b.Close.Raw))));
        }

        return new SeriesData(series.Symbol, series.Path, [.. bars], interval, decimals);
    }

    /// <summary>Significant decimals of a raw 9-decimal value.</summary>
    public static int DecimalsOf(long raw)
    {
        if (raw == 0)
        {
            return 0;
        }

        int d = 9;
        while (d > 0 && raw % 10 == 0)
        {
            raw /= 10;
            d--;
        }

        return d;
    }

    /// <summary>The four ticks of a bar (<see cref="BarTicks.Split"/>): what a backtest with <c>--bar-ticks</c> replays too.</summary>
    public static void Ticks(in Bar bar, long interval, Span<BarTick> ticks) => BarTicks.Split(bar, interval, ticks);

    /// <summary>The bars aggregated to <paramref name="interval"/> (a multiple of the file's, aligned since the epoch), cached.</summary>
    public ServedBar[] Aggregate(long interval) => _aggregates.GetOrAdd(interval, Build);

    private ServedBar[] Build(long interval)
    {
        var result = new List<ServedBar>();
        Span<BarTick> ticks = stackalloc BarTick[4];
        ServedBar current = default;
        bool open = false;
        decimal pv = 0, prices = 0;
        foreach (var bar in Bars)
        {
            long start = bar.Time.UnixNanos - (bar.Time.UnixNanos % interval);
            if (open && start != current.Time)
            {
                result.Add(Finish(current, pv, prices));
                open = false;
            }

            Ticks(bar, Interval, ticks);
            if (!open)
            {
                current = new ServedBar(start, bar.Open.Raw, bar.High.Raw, bar.Low.Raw, bar.Close.Raw, 0, 0, 0);
                pv = 0;
                prices = 0;
                open = true;
            }

            current = current with
            {
                High = Math.Max(current.High, bar.High.Raw),
                Low = Math.Min(current.Low, bar.Low.Raw),
                Close = bar.Close.Raw,
                Volume = checked(current.Volume + bar.Volume.Raw),
                Ticks = current.Ticks + 4,
            };
            foreach (var t in ticks)
            {
                decimal p = Price.FromRaw(t.Price).ToDecimal();
                pv += p * Quantity.FromRaw(t.Size).ToDecimal();
                prices += p;
            }
        }

        if (open)
        {
            result.Add(Finish(current, pv, prices));
        }

        return [.. result];

        static ServedBar Finish(ServedBar bar, decimal pv, decimal prices)
        {
            // A bar without volume (an index) has no volume weights: its VWAP is the plain mean of its ticks.
            decimal vwap = bar.Volume == 0 ? prices / bar.Ticks : pv / Quantity.FromRaw(bar.Volume).ToDecimal();
            return bar with { Vwap = Math.Round(vwap, 6, MidpointRounding.ToEven) };
        }
    }
}
