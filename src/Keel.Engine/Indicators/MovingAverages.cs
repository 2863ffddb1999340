using Keel.Domain;

namespace Keel.Engine.Indicators;

/// <summary>Simple moving average over doubles; O(1) per update with a compensated running sum (no drift over long runs).</summary>
public sealed class Sma
{
    private readonly double[] _window;
    private int _next;
    private long _count;
    private double _sum;
    private double _compensation;

    public Sma(int period)
    {
        if (period < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(period), $"SMA period was {period}; it must be at least 1");
        }

        Period = period;
        _window = new double[period];
    }

    public int Period { get; }

    public bool IsReady => _count >= Period;

    /// <summary>The average of the last <see cref="Period"/> inputs; NaN before warm-up.</summary>
    public double Value => IsReady ? (_sum + _compensation) / Period : double.NaN;

    public void Update(double input)
    {
        if (_count >= Period)
        {
            Add(-_window[_next]);
        }

        Add(input);
        _window[_next] = input;
        _next = _next + 1 == Period ? 0 : _next + 1;
        _count++;
    }

    // Neumaier's compensated summation.
    private void Add(double x)
    {
        double t = _sum + x;
        _compensation += Math.Abs(_sum) >= Math.Abs(x) ? (_sum - t) + x : (x - t) + _sum;
        _sum = t;
    }

    public void Reset()
    {
        Array.Clear(_window);
        _next = 0;
        _count = 0;
        _sum = 0;
        _compensation = 0;
    }
}

/// <summary>
/// Simple moving average of exact prices: the running sum is an exact integer, so comparisons between averages
/// (<see cref="Compare"/>) are exact and crossovers never flicker on rounding noise. The sum is checked: a window
/// whose total exceeds 9.2e9 (price × period) throws instead of wrapping.
/// </summary>
public sealed class PriceSma
{
    private readonly long[] _window;
    private int _next;
    private long _count;
    private long _sum;

    public PriceSma(int period)
    {
        if (period < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(period), $"SMA period was {period}; it must be at least 1");
        }

        Period = period;
        _window = new long[period];
    }

    public int Period { get; }

    public bool IsReady => _count >= Period;

    /// <summary>The exact sum of the window in raw price units.</summary>
    public long RawSum => _sum;

    public double Value => IsReady ? _sum / ((double)Period * Price.Scale) : double.NaN;

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public void Update(Price price)
    {
        long raw = price.Raw;
        int next = _next;
        if (_count >= Period)
        {
            _sum -= _window[next];
        }

        _sum += raw;
        _window[next] = raw;
        _next = next + 1 == Period ? 0 : next + 1;
        _count++;
    }

    /// <summary>Exact sign of <c>a.Value − b.Value</c> (both must be ready): compares a.sum × b.period with b.sum × a.period in 128 bits.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static int Compare(PriceSma a, PriceSma b)
    {
        long leftHigh = Math.BigMul(a._sum, (long)b.Period, out long leftLow);
        long rightHigh = Math.BigMul(b._sum, (long)a.Period, out long rightLow);
        if (leftHigh != rightHigh)
        {
            return leftHigh < rightHigh ? -1 : 1;
        }

        return ((ulong)leftLow).CompareTo((ulong)rightLow);
    }

    /// <summary>State for snapshots: the window in insertion order and the count.</summary>
    public (long[] Window, long Count) Export()
    {
        int n = (int)Math.Min(_count, Period);
        var w = new long[n];
        for (int i = 0; i < n; i++)
        {
            int idx = (int)((_next - n + i + Period) % Period);
            w[i] = _window[idx];
        }

        return (w, _count);
    }

    public void Import(long[] window, long count)
    {
        Array.Clear(_window);
        _sum = 0;
        _next = 0;
        foreach (long raw in window)
        {
            _sum += raw;
            _window[_next] = raw;
            _next = _next + 1 == Period ? 0 : _next + 1;
        }

        _count = count;
    }
}

/// <summary>Exponential moving average, alpha = 2 / (period + 1), seeded with the SMA of the first <c>period</c> inputs.</summary>
public sealed class Ema
{
    private readonly double _alpha;
    private double _seedSum;
    private long _count;
    private double _value = double.NaN;

    public Ema(int period)
    {
        if (period < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(period), $"EMA period was {period}; it must be at least 1");
        }

        Period = period;
        _alpha = 2.0 / (period + 1);
    }

    public int Period { get; }

    public bool IsReady => _count >= Period;

    public double Value => IsReady ? _value : double.NaN;

    public void Update(double input)
    {
        _count++;
        if (_count < Period)
        {
            _seedSum += input;
        }
        else if (_count == Period)
        {
            _value = (_seedSum + input) / Period;
        }
        else
        {
            _value += _alpha * (input - _value);
        }
    }
}

/// <summary>
/// Crossover of two lines, with the standard handling of touches: the line "crosses up" at t when it is above the
/// other at t and the last non-zero difference before t was negative (so touching and then crossing counts once,
/// touching and turning back does not). <see cref="Value"/> is +1 (up), −1 (down) or 0.
/// </summary>
public sealed class CrossOver
{
    private int _lastNonZero;
    private bool _seeded;

    public int Value { get; private set; }

    public bool CrossedUp => Value > 0;

    public bool CrossedDown => Value < 0;

    /// <summary>Feeds the sign of (a − b) at the current step.</summary>
    public int UpdateSign(int sign)
    {
        int previous = _lastNonZero;
        Value = _seeded && sign > 0 && previous < 0 ? 1 : _seeded && sign < 0 && previous > 0 ? -1 : 0;
        if (sign != 0)
        {
            _lastNonZero = sign;
        }

        _seeded = true;
        return Value;
    }

    public int Update(double a, double b) => UpdateSign(a > b ? 1 : a < b ? -1 : 0);

    public (int LastNonZero, bool Seeded) Export() => (_lastNonZero, _seeded);

    public void Import(int lastNonZero, bool seeded)
    {
        _lastNonZero = lastNonZero;
        _seeded = seeded;
        Value = 0;
    }
}
