using System.Runtime.CompilerServices;
using Keel.Domain;

namespace Keel.Engine.Data.Live;

/// <summary>Which ticks make candles. Stored values: never renumber.</summary>
public enum CandleSource
{
    /// <summary>Trade ticks: last price, volume = traded size (stocks).</summary>
    Trades = 1,

    /// <summary>Quote ticks: mid price, volume = number of quotes (as OANDA counts candle volume).</summary>
    Quotes = 2,
}

/// <summary>A completed candle: the bar (time = interval start), how many ticks built it, and whether it only fills a gap.</summary>
public readonly record struct Candle(Bar Bar, int TickCount, bool IsGapFill);

/// <summary>Receives completed candles, in time order per instrument.</summary>
public interface ICandleSink
{
    void OnCandle(in Candle candle);

    /// <summary>Intervals with no ticks that were too many to fill (the feed really lost them, or the market was shut).</summary>
    void OnGap(InstrumentId instrument, Timestamp from, Timestamp to) { }
}

/// <summary>Counters of a <see cref="CandleAggregator"/>.</summary>
public sealed record AggregatorStats(long Ticks, long Candles, long GapFills, long GapIntervals, long OutOfOrder, long Duplicates, long Late, long Ignored);

/// <summary>
/// Builds candles from ticks, per instrument, for one timeframe aligned to interval boundaries (UTC). A candle
/// completes when a tick of a later interval arrives, when <see cref="OnClock"/> passes its end plus the grace period,
/// or on <see cref="CompleteAll"/> (shutdown). Rules, applied per instrument in arrival order:
/// <list type="bullet">
/// <item>a tick older than the newest accepted one is out of order: counted and dropped;</item>
/// <item>a tick equal to the previous accepted one (same time, price and size) is a duplicate: counted and dropped;</item>
/// <item>a tick for an interval already completed by the clock is late: counted and dropped;</item>
/// <item>when the next tick skips intervals, up to <c>maxGapFill</c> of them are filled with flat candles at the last
/// close (volume 0, no ticks); a longer gap is left empty and reported through <see cref="ICandleSink.OnGap"/>.</item>
/// </list>
/// One thread feeds it; no allocation per tick.
/// </summary>
public sealed class CandleAggregator
{
    private readonly Timeframe _timeframe;
    private readonly CandleSource _source;
    private readonly ICandleSink _sink;
    private readonly int _maxGapFill;
    private readonly long _graceNanos;
    private readonly InstrumentMap<Slot> _slots = new();
    private long _ticks, _candles, _gapFills, _gapIntervals, _outOfOrder, _duplicates, _late, _ignored;

    public CandleAggregator(Timeframe timeframe, CandleSource source, ICandleSink sink, int maxGapFill = 2, TimeSpan? grace = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxGapFill);
        _timeframe = timeframe;
        _source = source;
        _sink = sink;
        _maxGapFill = maxGapFill;
        _graceNanos = (long)((grace ?? TimeSpan.FromSeconds(2)).Ticks * 100);
    }

    public Timeframe Timeframe => _timeframe;

    public AggregatorStats Stats => new(_ticks, _candles, _gapFills, _gapIntervals, _outOfOrder, _duplicates, _late, _ignored);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void OnTick(in Tick tick)
    {
        long price, size;
        if (_source == CandleSource.Trades)
        {
            if ((tick.Kind & TickKind.Trade) == 0)
            {
                _ignored++;
                return;
            }

            price = tick.Last.Raw;
            size = tick.Size.Raw;
        }
        else
        {
            if ((tick.Kind & TickKind.Quote) == 0)
            {
                _ignored++;
                return;
            }

            price = tick.Mid.Raw;
            size = Quantity.Scale;
        }

        var slot = _slots.Find(tick.Instrument) ?? Add(tick.Instrument);
        long t = tick.Time.UnixNanos;
        if (slot.Seen)
        {
            if (t < slot.LastTime)
            {
                _outOfOrder++;
                return;
            }

            if (t == slot.LastTime && price == slot.LastPrice && size == slot.LastSize)
            {
                _duplicates++;
                return;
            }
        }

        slot.Seen = true;
        slot.LastTime = t;
        slot.LastPrice = price;
        slot.LastSize = size;
        if (slot.Open && t < slot.End)
        {
            if (price > slot.High)
            {
                slot.High = price;
            }
            else if (price < slot.Low)
            {
                slot.Low = price;
            }

            slot.Close = price;
            slot.Volume += size;
            slot.Count++;
            _ticks++;
            return;
        }

        StartCandle(slot, t, price, size);
    }

    private void StartCandle(Slot slot, long t, long price, long size)
    {
        if (slot.Open)
        {
            Emit(slot);
        }
        else if (slot.HasEmitted && t < slot.EmittedEnd)
        {
            // Its interval was already completed (by the clock): too late to change it.
            _late++;
            return;
        }

        long n = _timeframe.Nanos;
        long start = _timeframe.Floor(Timestamp.FromUnixNanos(t)).UnixNanos;
        if (slot.HasEmitted && start > slot.EmittedEnd)
        {
            long missing = (start - slot.EmittedEnd) / n;
            if (missing <= _maxGapFill)
            {
                for (long s = slot.EmittedEnd; s < start; s += n)
                {
                    var c = Price.FromRaw(slot.EmittedClose);
                    _sink.OnCandle(new Candle(new Bar(slot.Instrument, Timestamp.FromUnixNanos(s), c, c, c, c, Quantity.Zero), 0, true));
                    _candles++;
                    _gapFills++;
                }
            }
            else
            {
                _gapIntervals += missing;
                _sink.OnGap(slot.Instrument, Timestamp.FromUnixNanos(slot.EmittedEnd), Timestamp.FromUnixNanos(start));
            }
        }

        slot.Open = true;
        slot.Start = start;
        slot.End = start + n;
        slot.OpenPrice = slot.High = slot.Low = slot.Close = price;
        slot.Volume = size;
        slot.Count = 1;
        _ticks++;
    }

    /// <summary>Completes every candle whose interval ended at least the grace period before <paramref name="now"/> (venue time).</summary>
    public void OnClock(Timestamp now)
    {
        long t = now.UnixNanos;
        foreach (var slot in _slots.AsSpan())
        {
            if (slot.Open && t >= slot.End + _graceNanos)
            {
                Emit(slot);
            }
        }
    }

    /// <summary>Completes every open candle now (shutdown).</summary>
    public void CompleteAll()
    {
        foreach (var slot in _slots.AsSpan())
        {
            if (slot.Open)
            {
                Emit(slot);
            }
        }
    }

    private void Emit(Slot slot)
    {
        _sink.OnCandle(new Candle(
            new Bar(slot.Instrument, Timestamp.FromUnixNanos(slot.Start), Price.FromRaw(slot.OpenPrice), Price.FromRaw(slot.High), Price.FromRaw(slot.Low), Price.FromRaw(slot.Close), Quantity.FromRaw(slot.Volume)),
            slot.Count,
            false));
        _candles++;
        slot.Open = false;
        slot.HasEmitted = true;
        slot.EmittedEnd = slot.End;
        slot.EmittedClose = slot.Close;
    }

    private Slot Add(InstrumentId instrument)
    {
        var slot = new Slot(instrument);
        _slots.Add(instrument, slot);
        return slot;
    }

    private sealed class Slot(InstrumentId instrument)
    {
        public InstrumentId Instrument { get; } = instrument;

        public bool Seen;
        public long LastTime;
        public long LastPrice;
        public long LastSize;
        public bool Open;
        public long Start;
        public long End;
        public long OpenPrice;
        public long High;
        public long Low;
        public long Close;
        public long Volume;
        public int Count;
        public bool HasEmitted;
        public long EmittedEnd;
        public long EmittedClose;
    }
}
