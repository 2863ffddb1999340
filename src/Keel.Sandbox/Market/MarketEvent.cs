using Keel.Domain;
using Keel.Engine.Data;

namespace Keel.Sandbox.Market;

internal enum MarketEventKind
{
    Tick = 1,

    /// <summary>A replayed bar whose interval has just ended (Alpaca <c>T:"b"</c>).</summary>
    BarClosed = 2,
}

/// <summary>
/// Something a venue publishes: a tick (trade price and size) or a finished bar. The venue that publishes it fills in
/// its trade id and the encoded message(s), once, for all its clients.
/// </summary>
internal sealed class MarketEvent
{
    public MarketEventKind Kind { get; init; }

    public required string Symbol { get; init; }

    /// <summary>Venue time, ns since the epoch.</summary>
    public long Time { get; init; }

    public long Price { get; init; }

    public long Size { get; init; }

    /// <summary>Price decimals of the symbol (OANDA strings carry exactly this many).</summary>
    public int Decimals { get; init; }

    /// <summary>The finished bar of a <see cref="MarketEventKind.BarClosed"/> event.</summary>
    public ServedBar Bar { get; init; }

    public long TradeId { get; set; }

    /// <summary>Alpaca: the trade (or bar) object; OANDA: the PRICE line.</summary>
    public byte[]? Primary { get; set; }

    /// <summary>Alpaca: the quote object.</summary>
    public byte[]? Secondary { get; set; }

    public static MarketEvent FromTick(string symbol, long time, long price, long size, int decimals) =>
        new() { Kind = MarketEventKind.Tick, Symbol = symbol, Time = time, Price = price, Size = size, Decimals = decimals };

    public static MarketEvent FromBar(string symbol, long time, in ServedBar bar, int decimals) =>
        new() { Kind = MarketEventKind.BarClosed, Symbol = symbol, Time = time, Price = bar.Close, Size = bar.Volume, Bar = bar, Decimals = decimals };

    public override string ToString() => $"{Kind} {Symbol} {Timestamp.FromUnixNanos(Time)} {Keel.Domain.Price.FromRaw(Price)}";
}

/// <summary>
/// Walks every replayed series as one time-ordered stream of events: per bar four ticks, then the finished bar at its
/// end. Equal times keep the series' order.
/// </summary>
internal sealed class ReplayCursor
{
    private readonly IReadOnlyList<SeriesData> _series;
    private readonly int[] _bar;
    private readonly int[] _phase;
    private readonly BarTick[] _ticks = new BarTick[4];

    public ReplayCursor(IReadOnlyList<SeriesData> series)
    {
        _series = series;
        _bar = new int[series.Count];
        _phase = new int[series.Count];
    }

    public bool TryNext(out MarketEvent next)
    {
        int best = -1;
        long bestTime = long.MaxValue;
        for (int s = 0; s < _series.Count; s++)
        {
            if (_bar[s] >= _series[s].Bars.Count)
            {
                continue;
            }

            long t = TimeOf(s);
            if (t < bestTime)
            {
                best = s;
                bestTime = t;
            }
        }

        if (best < 0)
        {
            next = null!;
            return false;
        }

        var series = _series[best];
        var bar = series.Bars[_bar[best]];
        int phase = _phase[best];
        if (phase < 4)
        {
            SeriesData.Ticks(bar, series.Interval, _ticks);
            var tick = _ticks[phase];
            next = MarketEvent.FromTick(series.Symbol, bestTime, tick.Price, tick.Size, series.Decimals);
            _phase[best] = phase + 1;
        }
        else
        {
            var served = new ServedBar(bar.Time.UnixNanos, bar.Open.Raw, bar.High.Raw, bar.Low.Raw, bar.Close.Raw, bar.Volume.Raw, 4, series.Aggregate(series.Interval)[_bar[best]].Vwap);
            next = MarketEvent.FromBar(series.Symbol, bestTime, served, series.Decimals);
            _phase[best] = 0;
            _bar[best]++;
        }

        return true;
    }

    private long TimeOf(int s)
    {
        var series = _series[s];
        long start = series.Bars[_bar[s]].Time.UnixNanos;
        return start + (_phase[s] * (series.Interval / 4));
    }
}

/// <summary>A deterministic random-walk tick source (SplitMix64), so a seed always gives the same prices and sizes.</summary>
internal sealed class RandomWalk
{
    private readonly IReadOnlyList<string> _symbols;
    private readonly long[] _prices;
    private readonly long _tick;
    private ulong _state;

    public RandomWalk(SandboxGenerator generator)
    {
        _symbols = generator.Symbols;
        _state = (ulong)generator.Seed;
        long start = Keel.Domain.Price.From(generator.StartPrice).Raw;
        int decimals = Math.Max(SeriesData.DecimalsOf(start), generator.StartPrice >= 10m ? 2 : 5);
        Decimals = Math.Min(decimals, 9);
        _tick = Pow10(9 - Decimals);
        _prices = new long[_symbols.Count];
        Array.Fill(_prices, start);
    }

    public int Decimals { get; }

    /// <summary>The next symbol, price and size (a whole number of shares/units between 1 and 100).</summary>
    public (string Symbol, long Price, long Size) Next()
    {
        int s = (int)(NextUInt64() % (ulong)_symbols.Count);
        long steps = (long)(NextUInt64() % 7) - 3;
        long price = _prices[s] + (steps * _tick);
        if (price < _tick)
        {
            price = _tick;
        }

        _prices[s] = price;
        long size = ((long)(NextUInt64() % 100) + 1) * Quantity.Scale;
        return (_symbols[s], price, size);
    }

    private ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static long Pow10(int k)
    {
        long v = 1;
        for (int i = 0; i < k; i++)
        {
            v *= 10;
        }

        return v;
    }
}
