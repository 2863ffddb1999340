using System.Runtime.CompilerServices;
using Keel.Domain;
using Keel.Domain.Portfolio;
using Keel.Engine.Kernel;
using Keel.Engine.Persistence;

namespace Keel.Engine.Analytics;

/// <summary>Receives the equity of every time slice (for equity.csv).</summary>
public interface IEquitySink
{
    void OnEquity(Timestamp time, Money equity, Money cash, double drawdown);
}

public sealed record PerformanceOptions
{
    /// <summary>Annualisation periods; null picks 252 (daily returns) for daily or finer data, 52 for weekly, 12 for monthly.</summary>
    public int? PeriodsPerYear { get; init; }

    /// <summary>Number of points kept for charts, however long the run.</summary>
    public int ChartPoints { get; init; } = 1024;
}

/// <summary>
/// Streaming performance statistics in O(1) memory: equity peak and drawdown (value, percent, duration), exposure,
/// periodic returns for Sharpe and Sortino, and a bounded equity curve for charts.
/// Returns are daily (from the last equity of each UTC day) for daily and intraday data, per bar for weekly or
/// monthly data. Sharpe = mean / sample standard deviation × √periods; Sortino = mean / √(mean of squared negative
/// returns) × √periods; the risk-free rate is 0.
/// </summary>
public sealed class PerformanceTracker : IEventHandler<SliceClosed>, ISnapshotable<PerformanceSnapshot>
{
    private readonly IPortfolioView _portfolio;
    private readonly PerformanceOptions _options;
    private readonly IEquitySink? _sink;
    private readonly ReturnStats _daily = new();
    private readonly ReturnStats _perSlice = new();
    private Money _peak;
    private Timestamp _peakTime;
    private long _underwaterSlices;
    private long _currentDay = long.MinValue;
    private Money _dayEnd;
    private Money _previousDayEnd;
    private Money _previousSlice;
    private long _minInterval = long.MaxValue;
    private double _peakValue;
    private long _maxDrawdownNanos;

    // The last conversions, reused while their inputs repeat (the equity does not move without a position): each is a
    // division the slice would otherwise wait for. Exact memos of pure functions, so nothing to snapshot or reset.
    private Money _valuedEquity;
    private double _equityValue = double.NaN;
    private double _drawdownEquity = double.NaN;
    private double _drawdownPeak = double.NaN;
    private double _drawdown;

    public PerformanceTracker(IPortfolioView portfolio, PerformanceOptions? options = null, IEquitySink? sink = null)
    {
        _portfolio = portfolio;
        _options = options ?? new PerformanceOptions();
        _sink = sink;
        InitialEquity = portfolio.Equity;
        _peak = InitialEquity;
        _peakValue = InitialEquity.ToDouble();
        _previousDayEnd = InitialEquity;
        _previousSlice = InitialEquity;
        Curve = new EquityCurve(_options.ChartPoints);
    }

    public Money InitialEquity { get; }

    public Money LastEquity { get; private set; }

    public long Slices { get; private set; }

    public long SlicesInMarket { get; private set; }

    public Timestamp? FirstTime { get; private set; }

    public Timestamp? LastTime { get; private set; }

    public Money MaxDrawdownValue { get; private set; }

    public double MaxDrawdown { get; private set; }

    public long MaxDrawdownDurationSlices { get; private set; }

    public TimeSpan MaxDrawdownDuration => TimeSpan.FromTicks(_maxDrawdownNanos / 100);

    public EquityCurve Curve { get; }

    public void Handle(in SliceClosed evt, long sequence) => Record(evt.Time, _portfolio.Equity, _portfolio.Cash);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Record(Timestamp time, Money equity, Money cash)
    {
        Slices++;
        if (LastTime is Timestamp last)
        {
            long interval = time.UnixNanos - last.UnixNanos;
            if (interval > 0 && interval < _minInterval)
            {
                _minInterval = interval;
            }
        }
        else
        {
            FirstTime = time;
            _peakTime = time;
        }

        LastTime = time;
        LastEquity = equity;

        double drawdown = 0;
        double equityValue;
        if (equity == _valuedEquity && !double.IsNaN(_equityValue))
        {
            equityValue = _equityValue;
        }
        else
        {
            equityValue = equity.ToDouble();
            _valuedEquity = equity;
            _equityValue = equityValue;
        }

        if (equity >= _peak)
        {
            _peak = equity;
            _peakValue = equityValue;
            _peakTime = time;
            _underwaterSlices = 0;
        }
        else
        {
            var dd = _peak - equity;
            if (_peakValue > 0)
            {
                if (equityValue != _drawdownEquity || _peakValue != _drawdownPeak)
                {
                    _drawdown = (_peakValue - equityValue) / _peakValue;
                    _drawdownEquity = equityValue;
                    _drawdownPeak = _peakValue;
                }

                drawdown = _drawdown;
            }
            if (dd > MaxDrawdownValue)
            {
                MaxDrawdownValue = dd;
            }

            if (drawdown > MaxDrawdown)
            {
                MaxDrawdown = drawdown;
            }

            _underwaterSlices++;
            if (_underwaterSlices > MaxDrawdownDurationSlices)
            {
                MaxDrawdownDurationSlices = _underwaterSlices;
            }

            long duration = time.UnixNanos - _peakTime.UnixNanos;
            if (duration > _maxDrawdownNanos)
            {
                _maxDrawdownNanos = duration;
            }
        }

        if (_portfolio.HasOpenPositions)
        {
            SlicesInMarket++;
        }

        long day = time.UtcDayNumber;
        if (day != _currentDay)
        {
            if (_currentDay != long.MinValue)
            {
                _daily.Add(Return(_dayEnd, _previousDayEnd));
                _previousDayEnd = _dayEnd;
            }

            _currentDay = day;
        }

        _dayEnd = equity;

        // Per-bar returns are only used for weekly or coarser data; once bars are known to be closer than that, skip them.
        if (_minInterval >= 5 * Timestamp.NanosPerDay)
        {
            _perSlice.Add(Return(equity, _previousSlice));
        }

        _previousSlice = equity;
        Curve.Add(time, equityValue, drawdown);
        _sink?.OnEquity(time, equity, cash, drawdown);
    }

    public PerformanceSnapshot Capture() => new(
        _peak, _peakValue, _peakTime, _underwaterSlices, _currentDay, _dayEnd, _previousDayEnd, _previousSlice, _minInterval, _maxDrawdownNanos,
        LastEquity, Slices, SlicesInMarket, FirstTime, LastTime, MaxDrawdownValue, MaxDrawdown, MaxDrawdownDurationSlices,
        _daily.Capture(), _perSlice.Capture(), Curve.Capture());

    public void Restore(PerformanceSnapshot snapshot)
    {
        _peak = snapshot.Peak;
        _peakValue = snapshot.PeakValue;
        _peakTime = snapshot.PeakTime;
        _underwaterSlices = snapshot.UnderwaterSlices;
        _currentDay = snapshot.CurrentDay;
        _dayEnd = snapshot.DayEnd;
        _previousDayEnd = snapshot.PreviousDayEnd;
        _previousSlice = snapshot.PreviousSlice;
        _minInterval = snapshot.MinInterval;
        _maxDrawdownNanos = snapshot.MaxDrawdownNanos;
        LastEquity = snapshot.LastEquity;
        Slices = snapshot.Slices;
        SlicesInMarket = snapshot.SlicesInMarket;
        FirstTime = snapshot.FirstTime;
        LastTime = snapshot.LastTime;
        MaxDrawdownValue = snapshot.MaxDrawdownValue;
        MaxDrawdown = snapshot.MaxDrawdown;
        MaxDrawdownDurationSlices = snapshot.MaxDrawdownDurationSlices;
        _daily.Restore(snapshot.Daily);
        _perSlice.Restore(snapshot.PerSlice);
        Curve.Restore(snapshot.Curve);
    }

    private static double Return(Money now, Money before) => before.IsPositive ? Money.Ratio(now - before, before) : 0;

    /// <summary>The sampling of returns used for Sharpe and Sortino, and periods per year.</summary>
    public (string Period, int PeriodsPerYear, ReturnStats Stats) ReturnBasis()
    {
        var daily = _daily.Snapshot();
        if (_currentDay != long.MinValue)
        {
            daily.Add(Return(_dayEnd, _previousDayEnd));
        }

        const long day = Timestamp.NanosPerDay;
        if (_minInterval != long.MaxValue && _minInterval >= 25 * day)
        {
            return ("monthly", _options.PeriodsPerYear ?? 12, _perSlice);
        }

        if (_minInterval != long.MaxValue && _minInterval >= 5 * day)
        {
            return ("weekly", _options.PeriodsPerYear ?? 52, _perSlice);
        }

        return ("daily", _options.PeriodsPerYear ?? 252, daily);
    }
}

/// <summary>Mean, sample variance (Welford) and downside deviation of a stream of returns.</summary>
public sealed class ReturnStats : ISnapshotable<ReturnStatsSnapshot>
{
    private double _mean;
    private double _m2;
    private double _downsideSquares;

    public long Count { get; private set; }

    public double Mean => Count > 0 ? _mean : double.NaN;

    public double SampleStdDev => Count > 1 ? Math.Sqrt(_m2 / (Count - 1)) : double.NaN;

    /// <summary>√(Σ min(r, 0)² / N).</summary>
    public double DownsideDeviation => Count > 0 ? Math.Sqrt(_downsideSquares / Count) : double.NaN;

    public void Add(double r)
    {
        Count++;
        double delta = r - _mean;
        _mean += delta / Count;
        _m2 += delta * (r - _mean);
        if (r < 0)
        {
            _downsideSquares += r * r;
        }
    }

    public ReturnStats Snapshot() => new() { _mean = _mean, _m2 = _m2, _downsideSquares = _downsideSquares, Count = Count };

    public ReturnStatsSnapshot Capture() => new(Count, _mean, _m2, _downsideSquares);

    public void Restore(ReturnStatsSnapshot snapshot)
    {
        Count = snapshot.Count;
        _mean = snapshot.Mean;
        _m2 = snapshot.M2;
        _downsideSquares = snapshot.DownsideSquares;
    }

    public double? Sharpe(int periodsPerYear)
    {
        double sd = SampleStdDev;
        return Count > 1 && sd > 0 && double.IsFinite(sd) ? Mean / sd * Math.Sqrt(periodsPerYear) : null;
    }

    public double? Sortino(int periodsPerYear)
    {
        double dd = DownsideDeviation;
        return Count > 1 && dd > 0 && double.IsFinite(dd) ? Mean / dd * Math.Sqrt(periodsPerYear) : null;
    }
}

/// <summary>
/// A bounded equity curve for charts: at most <c>capacity</c> buckets; when full, neighbouring buckets merge and
/// each bucket covers twice as many slices. Each bucket keeps its last equity, its low and high, and its deepest drawdown.
/// </summary>
public sealed class EquityCurve : ISnapshotable<EquityCurveSnapshot>
{
    private readonly Point[] _points;
    private int _count;
    private long _perBucket = 1;
    private long _inCurrent;

    public EquityCurve(int capacity)
    {
        if (capacity < 8 || capacity % 2 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), $"chart capacity was {capacity}; it must be an even number of at least 8");
        }

        _points = new Point[capacity];
    }

    public readonly record struct Point(Timestamp Time, double Equity, double Low, double High, double Drawdown);

    public int Count => _count;

    public ReadOnlySpan<Point> Points => _points.AsSpan(0, _count);

    public EquityCurveSnapshot Capture() => new(_perBucket, _inCurrent, Points.ToArray());

    public void Restore(EquityCurveSnapshot snapshot)
    {
        if (snapshot.Points.Count > _points.Length)
        {
            throw new SnapshotException($"the snapshot's equity curve has {snapshot.Points.Count} points; this run keeps at most {_points.Length}");
        }

        _perBucket = snapshot.PerBucket;
        _inCurrent = snapshot.InCurrent;
        _count = 0;
        foreach (var p in snapshot.Points)
        {
            _points[_count++] = p;
        }
    }

    public void Add(Timestamp time, double equity, double drawdown)
    {
        if (_count > 0 && _inCurrent < _perBucket)
        {
            ref var p = ref _points[_count - 1];
            p = new Point(time, equity, Math.Min(p.Low, equity), Math.Max(p.High, equity), Math.Max(p.Drawdown, drawdown));
            _inCurrent++;
            return;
        }

        if (_count == _points.Length)
        {
            for (int i = 0; i < _count / 2; i++)
            {
                var a = _points[2 * i];
                var b = _points[(2 * i) + 1];
                _points[i] = new Point(b.Time, b.Equity, Math.Min(a.Low, b.Low), Math.Max(a.High, b.High), Math.Max(a.Drawdown, b.Drawdown));
            }

            // Every bucket was full, so each merged bucket is full at the doubled width.
            _count /= 2;
            _perBucket *= 2;
        }

        _points[_count++] = new Point(time, equity, equity, equity, drawdown);
        _inCurrent = 1;
    }
}

/// <summary>The state of a <see cref="PerformanceTracker"/>.</summary>
public sealed record PerformanceSnapshot(
    Money Peak,
    double PeakValue,
    Timestamp PeakTime,
    long UnderwaterSlices,
    long CurrentDay,
    Money DayEnd,
    Money PreviousDayEnd,
    Money PreviousSlice,
    long MinInterval,
    long MaxDrawdownNanos,
    Money LastEquity,
    long Slices,
    long SlicesInMarket,
    Timestamp? FirstTime,
    Timestamp? LastTime,
    Money MaxDrawdownValue,
    double MaxDrawdown,
    long MaxDrawdownDurationSlices,
    ReturnStatsSnapshot Daily,
    ReturnStatsSnapshot PerSlice,
    EquityCurveSnapshot Curve);

/// <summary>The state of a <see cref="ReturnStats"/>.</summary>
public sealed record ReturnStatsSnapshot(long Count, double Mean, double M2, double DownsideSquares);

/// <summary>The state of an <see cref="EquityCurve"/>.</summary>
public sealed record EquityCurveSnapshot(long PerBucket, long InCurrent, IReadOnlyList<EquityCurve.Point> Points);
