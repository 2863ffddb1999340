using System.Runtime.CompilerServices;
using System.Text.Json;
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
public sealed class PerformanceTracker : IEventHandler<SliceClosed>, ISnapshotable
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
        double equityValue = equity.ToDouble();
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
            drawdown = _peakValue > 0 ? (_peakValue - equityValue) / _peakValue : 0;
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

    public void Save(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.Write("peak", _peak);
        w.WriteNumber("peakValue", _peakValue);
        w.Write("peakTime", _peakTime);
        w.WriteNumber("underwater", _underwaterSlices);
        w.WriteNumber("currentDay", _currentDay);
        w.Write("dayEnd", _dayEnd);
        w.Write("previousDayEnd", _previousDayEnd);
        w.Write("previousSlice", _previousSlice);
        w.WriteNumber("minInterval", _minInterval);
        w.WriteNumber("maxDrawdownNanos", _maxDrawdownNanos);
        w.Write("lastEquity", LastEquity);
        w.WriteNumber("slices", Slices);
        w.WriteNumber("inMarket", SlicesInMarket);
        w.Write("first", FirstTime);
        w.Write("last", LastTime);
        w.Write("maxDrawdownValue", MaxDrawdownValue);
        w.WriteNumber("maxDrawdown", MaxDrawdown);
        w.WriteNumber("maxDrawdownSlices", MaxDrawdownDurationSlices);
        w.WritePropertyName("daily");
        _daily.Save(w);
        w.WritePropertyName("perSlice");
        _perSlice.Save(w);
        w.WritePropertyName("curve");
        Curve.Save(w);
        w.WriteEndObject();
    }

    public void Load(JsonElement e)
    {
        _peak = e.GetMoney("peak");
        _peakValue = e.GetDouble("peakValue");
        _peakTime = e.GetTime("peakTime");
        _underwaterSlices = e.GetLong("underwater");
        _currentDay = e.GetLong("currentDay");
        _dayEnd = e.GetMoney("dayEnd");
        _previousDayEnd = e.GetMoney("previousDayEnd");
        _previousSlice = e.GetMoney("previousSlice");
        _minInterval = e.GetLong("minInterval");
        _maxDrawdownNanos = e.GetLong("maxDrawdownNanos");
        LastEquity = e.GetMoney("lastEquity");
        Slices = e.GetLong("slices");
        SlicesInMarket = e.GetLong("inMarket");
        FirstTime = e.GetTimeOrNull("first");
        LastTime = e.GetTimeOrNull("last");
        MaxDrawdownValue = e.GetMoney("maxDrawdownValue");
        MaxDrawdown = e.GetDouble("maxDrawdown");
        MaxDrawdownDurationSlices = e.GetLong("maxDrawdownSlices");
        _daily.Load(e.Get("daily"));
        _perSlice.Load(e.Get("perSlice"));
        Curve.Load(e.Get("curve"));
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
public sealed class ReturnStats : ISnapshotable
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

    public void Save(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteNumber("n", Count);
        w.WriteNumber("mean", _mean);
        w.WriteNumber("m2", _m2);
        w.WriteNumber("down", _downsideSquares);
        w.WriteEndObject();
    }

    public void Load(JsonElement e)
    {
        Count = e.GetLong("n");
        _mean = e.GetDouble("mean");
        _m2 = e.GetDouble("m2");
        _downsideSquares = e.GetDouble("down");
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
public sealed class EquityCurve : ISnapshotable
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

    public void Save(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteNumber("perBucket", _perBucket);
        w.WriteNumber("inCurrent", _inCurrent);
        w.WriteStartArray("points");
        foreach (var p in Points)
        {
            w.WriteStartArray();
            w.WriteNumberValue(p.Time.UnixNanos);
            w.WriteNumberValue(p.Equity);
            w.WriteNumberValue(p.Low);
            w.WriteNumberValue(p.High);
            w.WriteNumberValue(p.Drawdown);
            w.WriteEndArray();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    public void Load(JsonElement e)
    {
        _perBucket = e.GetLong("perBucket");
        _inCurrent = e.GetLong("inCurrent");
        _count = 0;
        foreach (var p in e.Get("points").EnumerateArray())
        {
            if (_count == _points.Length)
            {
                throw new SnapshotException($"the snapshot's equity curve has more than {_points.Length} points");
            }

            _points[_count++] = new Point(Timestamp.FromUnixNanos(p[0].GetInt64()), p[1].GetDouble(), p[2].GetDouble(), p[3].GetDouble(), p[4].GetDouble());
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
