using Keel.Domain;
using Keel.Engine.Kernel;
using Keel.Engine.Persistence;
using Keel.Engine.Strategies;

namespace Keel.Engine.Analytics;

/// <summary>One UTC day of a run: its closing equity, the benchmark instrument's closing price, and time in the market.</summary>
public readonly record struct DayPoint(long Day, Money Equity, Price Close, int Slices, int InMarket);

/// <summary>A candle of the report's chart: one or more bars of the traded instrument merged.</summary>
public readonly record struct ChartCandle(Timestamp Time, Price Open, Price High, Price Low, Price Close, Quantity Volume);

/// <summary>
/// What a <see cref="ReportSeries"/> holds between events, for snapshots. The candles (up to 8,192 of them, in every
/// snapshot of a long run) are one base64 block of their raw 64-bit values (time, open, high, low, close, volume), not
/// thousands of JSON objects: a snapshot stays cheap to encode.
/// </summary>
public sealed record ReportSeriesSnapshot(
    IReadOnlyList<DayPoint> Days,
    DayPoint? Today,
    string Candles,
    long PerBucket,
    long InCurrent,
    Timestamp? LastBarTime);

/// <summary>
/// The series a report draws and period statistics are computed from, kept as the run goes: per UTC day the closing
/// equity and the first instrument's closing price (the buy-and-hold benchmark), and the first instrument's bars merged
/// into at most <c>capacity</c> candles (pairs merge when full, so memory stays flat however long the run). A few
/// nanoseconds per slice; nothing allocated except when a day closes.
/// </summary>
public sealed class ReportSeries : IEventHandler<SliceClosed>, ISnapshotable<ReportSeriesSnapshot>
{
    private readonly IMarketView _market;
    private readonly InstrumentId _instrument;
    private readonly List<DayPoint> _days = [];
    private readonly ChartCandle[] _candles;
    private int _candleCount;
    private long _perBucket = 1;
    private long _inCurrent;

    // The current day, kept field by field and updated in place (a DayPoint? rebuilt every slice was a 48-byte copy
    // out and back on the kernel thread).
    private bool _hasToday;
    private long _todayDay;
    private Money _todayEquity;
    private Price _todayClose;
    private int _todaySlices;
    private int _todayInMarket;
    private bool _hasLastBar;
    private Timestamp _lastBarTime;

    public ReportSeries(IMarketView market, InstrumentId instrument, int capacity = 8192)
    {
        ArgumentNullException.ThrowIfNull(market);
        if (capacity < 8 || capacity % 2 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), $"chart capacity was {capacity}; it must be an even number of at least 8");
        }

        _market = market;
        _instrument = instrument;
        _candles = new ChartCandle[capacity];
    }

    /// <summary>The instrument whose price is the benchmark and whose candles are drawn.</summary>
    public InstrumentId Instrument => _instrument;

    /// <summary>Every day so far, the current one included (a copy: read it once, at the end of a run).</summary>
    public IReadOnlyList<DayPoint> Days => Today is DayPoint t ? [.. _days, t] : _days;

    /// <summary>How many days <see cref="Days"/> holds, without copying them.</summary>
    public int DayCount => _days.Count + (_hasToday ? 1 : 0);

    private DayPoint? Today => _hasToday ? new DayPoint(_todayDay, _todayEquity, _todayClose, _todaySlices, _todayInMarket) : null;

    public ReadOnlySpan<ChartCandle> Candles => _candles.AsSpan(0, _candleCount);

    /// <summary>How many bars each candle merges (a power of two).</summary>
    public long BarsPerCandle => _perBucket;

    public void Handle(in SliceClosed evt, long sequence)
    {
        var time = evt.Time;
        Price close = default;
        if (_market.TryGetLastBar(_instrument, out var bar))
        {
            close = bar.Close;
            if (!_hasLastBar || _lastBarTime != bar.Time)
            {
                _hasLastBar = true;
                _lastBarTime = bar.Time;
                AddBar(bar);
            }
        }
        else if (_market.TryGetLastTick(_instrument, out var tick))
        {
            close = tick.Mark;
        }

        long day = time.UtcDayNumber;
        var equity = _market.Portfolio.Equity;
        bool inMarket = _market.Portfolio.HasOpenPositions;
        if (_hasToday && _todayDay == day)
        {
            _todayEquity = equity;
            if (close.IsPositive)
            {
                _todayClose = close;
            }

            _todaySlices++;
            _todayInMarket += inMarket ? 1 : 0;
        }
        else
        {
            if (_hasToday)
            {
                _days.Add(new DayPoint(_todayDay, _todayEquity, _todayClose, _todaySlices, _todayInMarket));
            }

            _hasToday = true;
            _todayDay = day;
            _todayEquity = equity;
            _todayClose = close;
            _todaySlices = 1;
            _todayInMarket = inMarket ? 1 : 0;
        }
    }

    private void AddBar(in Bar bar)
    {
        if (_inCurrent > 0 && _inCurrent < _perBucket)
        {
            ref var c = ref _candles[_candleCount - 1];
            c = new ChartCandle(c.Time, c.Open, Price.Max(c.High, bar.High), Price.Min(c.Low, bar.Low), bar.Close, c.Volume + bar.Volume);
            _inCurrent++;
            return;
        }

        if (_candleCount == _candles.Length)
        {
            // Full: merge neighbours (every candle is complete), halving the count; each candle takes twice as many bars from now on.
            for (int i = 0; i < _candleCount / 2; i++)
            {
                var a = _candles[2 * i];
                var b = _candles[(2 * i) + 1];
                _candles[i] = new ChartCandle(a.Time, a.Open, Price.Max(a.High, b.High), Price.Min(a.Low, b.Low), b.Close, a.Volume + b.Volume);
            }

            _candleCount /= 2;
            _perBucket *= 2;
        }

        _candles[_candleCount++] = new ChartCandle(bar.Time, bar.Open, bar.High, bar.Low, bar.Close, bar.Volume);
        _inCurrent = 1;
    }

    public ReportSeriesSnapshot Capture()
    {
        var raw = new long[_candleCount * 6];
        for (int i = 0; i < _candleCount; i++)
        {
            ref readonly var c = ref _candles[i];
            raw[(i * 6) + 0] = c.Time.UnixNanos;
            raw[(i * 6) + 1] = c.Open.Raw;
            raw[(i * 6) + 2] = c.High.Raw;
            raw[(i * 6) + 3] = c.Low.Raw;
            raw[(i * 6) + 4] = c.Close.Raw;
            raw[(i * 6) + 5] = c.Volume.Raw;
        }

        return new([.. _days], Today, Convert.ToBase64String(System.Runtime.InteropServices.MemoryMarshal.AsBytes(raw.AsSpan())), _perBucket, _inCurrent, _hasLastBar ? _lastBarTime : null);
    }

    public void Restore(ReportSeriesSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var bytes = Convert.FromBase64String(snapshot.Candles);
        if (bytes.Length % 48 != 0)
        {
            throw new SnapshotException($"the snapshot's chart candles are {bytes.Length} bytes, not a whole number of 48-byte candles");
        }

        var raw = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(bytes);
        int count = raw.Length / 6;
        if (count > _candles.Length)
        {
            throw new SnapshotException($"the snapshot's chart has {count} candles; this run keeps at most {_candles.Length}");
        }

        _days.Clear();
        _days.AddRange(snapshot.Days);
        _hasToday = snapshot.Today is not null;
        var today = snapshot.Today.GetValueOrDefault();
        (_todayDay, _todayEquity, _todayClose, _todaySlices, _todayInMarket) = (today.Day, today.Equity, today.Close, today.Slices, today.InMarket);
        for (int i = 0; i < count; i++)
        {
            _candles[i] = new ChartCandle(Timestamp.FromUnixNanos(raw[i * 6]), Price.FromRaw(raw[(i * 6) + 1]), Price.FromRaw(raw[(i * 6) + 2]), Price.FromRaw(raw[(i * 6) + 3]), Price.FromRaw(raw[(i * 6) + 4]), Quantity.FromRaw(raw[(i * 6) + 5]));
        }

        _candleCount = count;

        _perBucket = snapshot.PerBucket;
        _inCurrent = snapshot.InCurrent;
        _hasLastBar = snapshot.LastBarTime is not null;
        _lastBarTime = snapshot.LastBarTime.GetValueOrDefault();
    }
}
