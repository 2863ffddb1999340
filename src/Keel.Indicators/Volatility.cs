using Keel.Domain;

namespace Keel.Indicators;

/// <summary>
/// Population standard deviation (divided by <c>period</c>, as TA-Lib's STDDEV and Bollinger's bands) of the last
/// <c>period</c> inputs, and their mean. Updated in O(1) by the sliding-window form of Welford's method; every
/// <c>period</c> updates the window is summed afresh (amortised O(1)) so rounding never accumulates, and a window of
/// identical values has a deviation of exactly zero.
/// </summary>
public sealed class StdDev : IIndicator
{
    private readonly double[] _window;
    private int _next;
    private int _count;
    private double _mean;
    private double _m2;
    private int _sinceResync;
    private int _run;
    private double _last;

    public StdDev(int period = 20)
    {
        Px.RequirePeriod(period, "standard deviation period");
        Period = period;
        _window = new double[period];
    }

    public int Period { get; }

    public bool IsReady => _count >= Period;

    public int WarmUp => Period;

    public double Value => IsReady ? Math.Sqrt(Math.Max(_m2, 0) / Period) : double.NaN;

    /// <summary>The mean of the window (Bollinger's middle band).</summary>
    public double Mean => IsReady ? _mean : double.NaN;

    public void Update(double input)
    {
        if (_count < Period)
        {
            _count++;
            double d = input - _mean;
            _mean += d / _count;
            _m2 += d * (input - _mean);
        }
        else
        {
            double old = _window[_next];
            double mean = _mean + ((input - old) / Period);
            _m2 += (input - old) * (input - mean + old - _mean);
            _mean = mean;
        }

        _window[_next] = input;
        _next = _next + 1 == Period ? 0 : _next + 1;
        _run = _count > 1 && input == _last ? _run + 1 : 1;
        _last = input;
        if (_run >= Period)
        {
            _mean = input;
            _m2 = 0;
            _sinceResync = 0;
        }
        else if (_count == Period && ++_sinceResync >= Period)
        {
            Resync();
        }
    }

    private void Resync()
    {
        var sum = default(CompensatedSum);
        foreach (double x in _window)
        {
            sum.Add(x);
        }

        double mean = sum.Value / Period;
        double m2 = 0;
        foreach (double x in _window)
        {
            double d = x - mean;
            m2 += d * d;
        }

        _mean = mean;
        _m2 = m2;
        _sinceResync = 0;
    }

    public void Reset()
    {
        Array.Clear(_window);
        _next = 0;
        _count = 0;
        _mean = 0;
        _m2 = 0;
        _sinceResync = 0;
        _run = 0;
        _last = 0;
    }
}

/// <summary>
/// Bollinger Bands: middle = SMA(period), upper/lower = middle ± multiplier × population standard deviation of the
/// same window (Bollinger's definition, and TA-Lib's and technicalindicators'); first values after <c>period</c> inputs.
/// </summary>
public sealed class BollingerBands : IIndicator
{
    private readonly StdDev _deviation;

    public BollingerBands(int period = 20, double multiplier = 2)
    {
        Px.RequirePeriod(period, "Bollinger period");
        if (!(multiplier > 0) || double.IsInfinity(multiplier))
        {
            throw new ArgumentOutOfRangeException(nameof(multiplier), $"Bollinger multiplier was {multiplier}; it must be a positive number");
        }

        Multiplier = multiplier;
        _deviation = new StdDev(period);
    }

    public int Period => _deviation.Period;

    public double Multiplier { get; }

    public bool IsReady => _deviation.IsReady;

    public int WarmUp => Period;

    public double Middle => _deviation.Mean;

    public double Upper => _deviation.Mean + (Multiplier * _deviation.Value);

    public double Lower => _deviation.Mean - (Multiplier * _deviation.Value);

    public void Update(double input) => _deviation.Update(input);

    public void Reset() => _deviation.Reset();
}

/// <summary>
/// Wilder's true range: max(high, previous close) − min(low, previous close). The first bar has no previous close
/// and so no true range (as TA-Lib's TRANGE); computed exactly on fixed-point prices.
/// </summary>
public sealed class TrueRange : IIndicator
{
    private long _previousClose;
    private bool _hasPrevious;

    public bool IsReady { get; private set; }

    public int WarmUp => 2;

    public double Value { get; private set; } = double.NaN;

    public void Update(in Bar bar)
    {
        if (_hasPrevious)
        {
            Value = Px.D(Raw(bar.High.Raw, bar.Low.Raw, _previousClose));
            IsReady = true;
        }

        _previousClose = bar.Close.Raw;
        _hasPrevious = true;
    }

    /// <summary>The true range in raw price units.</summary>
    internal static long Raw(long high, long low, long previousClose) =>
        Math.Max(high, previousClose) - Math.Min(low, previousClose);

    public void Reset()
    {
        _previousClose = 0;
        _hasPrevious = false;
        IsReady = false;
        Value = double.NaN;
    }
}

/// <summary>
/// Average true range (Wilder): the mean of the first <c>period</c> true ranges (from the second bar on), then
/// Wilder's smoothing ATR += (TR − ATR) / period; first value after period + 1 bars.
/// </summary>
public sealed class Atr : IIndicator
{
    private readonly WilderAverage _average;
    private long _previousClose;
    private bool _hasPrevious;

    public Atr(int period = 14)
    {
        Px.RequirePeriod(period, "ATR period");
        Period = period;
        _average = new WilderAverage(period);
    }

    public int Period { get; }

    public bool IsReady => _average.IsReady;

    public int WarmUp => Period + 1;

    public double Value => _average.Value;

    public void Update(in Bar bar)
    {
        if (_hasPrevious)
        {
            _average.Update(Px.D(TrueRange.Raw(bar.High.Raw, bar.Low.Raw, _previousClose)));
        }

        _previousClose = bar.Close.Raw;
        _hasPrevious = true;
    }

    public void Reset()
    {
        _average.Reset();
        _previousClose = 0;
        _hasPrevious = false;
    }
}

/// <summary>Donchian channel: upper = highest high, lower = lowest low of the last <c>period</c> bars, middle = their mean.</summary>
public sealed class DonchianChannel : IIndicator
{
    private readonly MonotonicWindow<long> _highs;
    private readonly MonotonicWindow<long> _lows;
    private long _count;

    public DonchianChannel(int period = 20)
    {
        Px.RequirePeriod(period, "Donchian period");
        Period = period;
        _highs = new MonotonicWindow<long>(period, max: true);
        _lows = new MonotonicWindow<long>(period, max: false);
    }

    public int Period { get; }

    public bool IsReady => _count >= Period;

    public int WarmUp => Period;

    public double Upper => IsReady ? Px.D(_highs.Value) : double.NaN;

    public double Lower => IsReady ? Px.D(_lows.Value) : double.NaN;

    public double Middle => IsReady ? (Px.D(_highs.Value) + Px.D(_lows.Value)) / 2 : double.NaN;

    public void Update(in Bar bar)
    {
        _highs.Push(_count, bar.High.Raw);
        _lows.Push(_count, bar.Low.Raw);
        _count++;
    }

    public void Reset()
    {
        _highs.Reset();
        _lows.Reset();
        _count = 0;
    }
}

/// <summary>The highest of the last <c>period</c> inputs (monotonic deque, O(1) amortised).</summary>
public sealed class Highest(int period = 20) : RollingExtreme(period, max: true, "highest");

/// <summary>The lowest of the last <c>period</c> inputs (monotonic deque, O(1) amortised).</summary>
public sealed class Lowest(int period = 20) : RollingExtreme(period, max: false, "lowest");

/// <summary>The highest or lowest of the last <c>period</c> inputs (monotonic deque, O(1) amortised).</summary>
public abstract class RollingExtreme : IIndicator
{
    private readonly MonotonicWindow<double> _window;
    private readonly string _name;
    private long _count;

    protected RollingExtreme(int period, bool max, string name)
    {
        Px.RequirePeriod(period, $"{name} period");
        Period = period;
        _name = name;
        _window = new MonotonicWindow<double>(period, max);
    }

    public int Period { get; }

    public bool IsReady => _count >= Period;

    public int WarmUp => Period;

    public double Value => IsReady ? _window.Value : double.NaN;

    /// <summary>How many inputs ago the extreme value arrived (0 = the latest); the most recent one on ties.</summary>
    public int Age => IsReady ? (int)(_count - 1 - _window.Position) : -1;

    public void Update(double input)
    {
        if (double.IsNaN(input))
        {
            throw new ArgumentException($"{_name}: the input was NaN", nameof(input));
        }

        _window.Push(_count++, input);
    }

    public void Reset()
    {
        _window.Reset();
        _count = 0;
    }
}
