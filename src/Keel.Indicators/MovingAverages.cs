using Keel.Domain;

namespace Keel.Indicators;

/// <summary>Simple moving average over doubles; O(1) per update with a compensated running sum (no drift over long runs).</summary>
public sealed class Sma : IIndicator
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

    public int WarmUp => Period;

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

    public bool IsReady
    {
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        get => _count >= Period;
    }

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

        // The low halves are unsigned: reinterpreted, not converted (a checked conversion would throw on the top bit).
        return unchecked((ulong)leftLow).CompareTo(unchecked((ulong)rightLow));
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
public sealed class Ema : IIndicator
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

    public int WarmUp => Period;

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

    public void Reset()
    {
        _seedSum = 0;
        _count = 0;
        _value = double.NaN;
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

/// <summary>
/// Linearly weighted moving average: weights 1 … period, the newest input weighing most. O(1): when a value enters,
/// every older value loses one weight, which is the plain sum of the window (both sums compensated).
/// </summary>
public sealed class Wma : IIndicator
{
    private readonly Ring _window;
    private readonly double _denominator;
    private CompensatedSum _sum;
    private CompensatedSum _weighted;

    public Wma(int period)
    {
        Px.RequirePeriod(period, "WMA period");
        Period = period;
        _window = new Ring(period);
        _denominator = period * (period + 1.0) / 2.0;
    }

    public int Period { get; }

    public bool IsReady => _window.IsFull;

    public int WarmUp => Period;

    public double Value => IsReady ? _weighted.Value / _denominator : double.NaN;

    public void Update(double input)
    {
        double before = _sum.Value;
        if (_window.Push(input, out double old))
        {
            _weighted.Add(-before);
            _weighted.Add(Period * input);
            _sum.Add(-old);
        }
        else
        {
            _weighted.Add(_window.Count * input);
        }

        _sum.Add(input);
    }

    public void Reset()
    {
        _window.Clear();
        _sum.Reset();
        _weighted.Reset();
    }
}

/// <summary>
/// Double exponential moving average (Mulloy): 2·EMA(x) − EMA(EMA(x)), each EMA seeded with the SMA of its first
/// <c>period</c> inputs, so the first value comes after 2·period − 1 inputs (as TA-Lib).
/// </summary>
public sealed class Dema : IIndicator
{
    private readonly Ema _e1;
    private readonly Ema _e2;

    public Dema(int period)
    {
        Px.RequirePeriod(period, "DEMA period");
        Period = period;
        _e1 = new Ema(period);
        _e2 = new Ema(period);
    }

    public int Period { get; }

    public bool IsReady => _e2.IsReady;

    public int WarmUp => (2 * Period) - 1;

    public double Value => _e2.IsReady ? (2 * _e1.Value) - _e2.Value : double.NaN;

    public void Update(double input)
    {
        _e1.Update(input);
        if (_e1.IsReady)
        {
            _e2.Update(_e1.Value);
        }
    }

    public void Reset()
    {
        _e1.Reset();
        _e2.Reset();
    }
}

/// <summary>
/// Triple exponential moving average (Mulloy): 3·EMA1 − 3·EMA2 + EMA3, where each EMA smooths the previous one and
/// is seeded with the SMA of its first <c>period</c> inputs; the first value comes after 3·period − 2 inputs.
/// </summary>
public sealed class Tema : IIndicator
{
    private readonly Ema _e1;
    private readonly Ema _e2;
    private readonly Ema _e3;

    public Tema(int period)
    {
        Px.RequirePeriod(period, "TEMA period");
        Period = period;
        _e1 = new Ema(period);
        _e2 = new Ema(period);
        _e3 = new Ema(period);
    }

    public int Period { get; }

    public bool IsReady => _e3.IsReady;

    public int WarmUp => (3 * Period) - 2;

    public double Value => _e3.IsReady ? (3 * _e1.Value) - (3 * _e2.Value) + _e3.Value : double.NaN;

    public void Update(double input)
    {
        _e1.Update(input);
        if (!_e1.IsReady)
        {
            return;
        }

        _e2.Update(_e1.Value);
        if (_e2.IsReady)
        {
            _e3.Update(_e2.Value);
        }
    }

    public void Reset()
    {
        _e1.Reset();
        _e2.Reset();
        _e3.Reset();
    }
}

/// <summary>
/// Kaufman's adaptive moving average. Efficiency ratio ER = |x − x[period]| / Σ|Δx| over the last <c>period</c>
/// changes (1 when nothing moved), smoothing constant sc = (ER·(2/(fast+1) − 2/(slow+1)) + 2/(slow+1))²,
/// KAMA += sc·(x − KAMA). Seeded with the input at position <c>period</c> (as TA-Lib), so the first value comes
/// after period + 1 inputs.
/// </summary>
public sealed class Kama : IIndicator
{
    private readonly Ring _prices;
    private readonly RollingSum _volatility;
    private readonly double _fastSc;
    private readonly double _slowSc;
    private long _count;
    private double _previous;
    private double _value = double.NaN;

    public Kama(int period, int fast = 2, int slow = 30)
    {
        Px.RequirePeriod(period, "KAMA period");
        Px.RequirePeriod(fast, "KAMA fast period");
        if (slow <= fast)
        {
            throw new ArgumentOutOfRangeException(nameof(slow), $"KAMA slow period was {slow}; it must be greater than the fast period {fast}");
        }

        Period = period;
        Fast = fast;
        Slow = slow;
        _prices = new Ring(period);
        _volatility = new RollingSum(period);
        _fastSc = 2.0 / (fast + 1);
        _slowSc = 2.0 / (slow + 1);
    }

    public int Period { get; }

    public int Fast { get; }

    public int Slow { get; }

    public bool IsReady => _count > Period;

    public int WarmUp => Period + 1;

    public double Value => IsReady ? _value : double.NaN;

    public void Update(double input)
    {
        _count++;
        if (_count > 1)
        {
            _volatility.Push(Math.Abs(input - _previous));
        }

        _previous = input;
        bool full = _prices.Push(input, out double then);
        if (_count == Period)
        {
            _value = input;
        }
        else if (full)
        {
            double net = Math.Abs(input - then);
            double volatility = _volatility.Value;
            double er = volatility <= net ? 1.0 : net / volatility;
            double sc = (er * (_fastSc - _slowSc)) + _slowSc;
            _value += sc * sc * (input - _value);
        }
    }

    public void Reset()
    {
        _prices.Clear();
        _volatility.Reset();
        _count = 0;
        _previous = 0;
        _value = double.NaN;
    }
}
