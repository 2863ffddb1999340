using Keel.Domain;

namespace Keel.Indicators;

/// <summary>
/// Stochastic oscillator (Lane). Raw %K = 100·(close − lowest low) / (highest high − lowest low) over <c>period</c>
/// bars (0 when the range is empty, as TA-Lib and both JavaScript libraries); %K = SMA(kSmoothing) of raw %K;
/// %D = SMA(dSmoothing) of %K. kSmoothing 1 gives the fast stochastic, 3 the usual slow one. %K has a value from bar
/// period + kSmoothing − 1 on, %D from period + kSmoothing + dSmoothing − 2 on. Ranges are exact (fixed-point prices).
/// </summary>
public sealed class Stochastic : IIndicator
{
    private readonly MonotonicWindow<long> _highs;
    private readonly MonotonicWindow<long> _lows;
    private readonly Sma _k;
    private readonly Sma _d;
    private long _count;

    public Stochastic(int period = 14, int kSmoothing = 3, int dSmoothing = 3)
    {
        Px.RequirePeriod(period, "stochastic period");
        Px.RequirePeriod(kSmoothing, "stochastic %K smoothing");
        Px.RequirePeriod(dSmoothing, "stochastic %D smoothing");
        Period = period;
        _highs = new MonotonicWindow<long>(period, max: true);
        _lows = new MonotonicWindow<long>(period, max: false);
        _k = new Sma(kSmoothing);
        _d = new Sma(dSmoothing);
    }

    public int Period { get; }

    public int KSmoothing => _k.Period;

    public int DSmoothing => _d.Period;

    public bool IsReady => _d.IsReady;

    public int WarmUp => Period + KSmoothing + DSmoothing - 2;

    public double K => _k.Value;

    public double D => _d.Value;

    public void Update(in Bar bar)
    {
        _highs.Push(_count, bar.High.Raw);
        _lows.Push(_count, bar.Low.Raw);
        if (++_count < Period)
        {
            return;
        }

        long low = _lows.Value;
        long range = _highs.Value - low;
        double raw = range == 0 ? 0 : (double)(bar.Close.Raw - low) * 100 / range;
        _k.Update(raw);
        if (_k.IsReady)
        {
            _d.Update(_k.Value);
        }
    }

    public void Reset()
    {
        _highs.Reset();
        _lows.Reset();
        _k.Reset();
        _d.Reset();
        _count = 0;
    }
}

/// <summary>
/// Williams %R: −100·(highest high − close) / (highest high − lowest low) over <c>period</c> bars, from −100 (close at
/// the low) to 0 (close at the high). An empty range gives −100, consistent with the stochastic's 0 (%R = %K − 100).
/// </summary>
public sealed class WilliamsR : IIndicator
{
    private readonly MonotonicWindow<long> _highs;
    private readonly MonotonicWindow<long> _lows;
    private long _count;
    private double _value = double.NaN;

    public WilliamsR(int period = 14)
    {
        Px.RequirePeriod(period, "Williams %R period");
        Period = period;
        _highs = new MonotonicWindow<long>(period, max: true);
        _lows = new MonotonicWindow<long>(period, max: false);
    }

    public int Period { get; }

    public bool IsReady => _count >= Period;

    public int WarmUp => Period;

    public double Value => _value;

    public void Update(in Bar bar)
    {
        _highs.Push(_count, bar.High.Raw);
        _lows.Push(_count, bar.Low.Raw);
        if (++_count < Period)
        {
            return;
        }

        long high = _highs.Value;
        long range = high - _lows.Value;
        _value = range == 0 ? -100 : (double)(high - bar.Close.Raw) / range * -100;
    }

    public void Reset()
    {
        _highs.Reset();
        _lows.Reset();
        _count = 0;
        _value = double.NaN;
    }
}

/// <summary>
/// Commodity channel index (Lambert): typical price TP = (high + low + close) / 3; CCI = (TP − SMA(TP)) /
/// (0.015 · mean absolute deviation of TP about that SMA), over <c>period</c> bars; 0 when every TP in the window is
/// the same. Computed exactly on fixed-point prices (3·TP is an integer) with an order-statistic tree, O(log period)
/// per bar; a window whose sum of high + low + close exceeds about 9.2e9 price units throws instead of wrapping.
/// </summary>
public sealed class Cci : IIndicator
{
    /// <summary>Lambert's constant: scales the index so that most values fall between −100 and +100.</summary>
    public const double Constant = 0.015;

    private readonly OrderStatisticTree _tree;
    private int _next;
    private long _count;
    private double _value = double.NaN;

    public Cci(int period = 20)
    {
        Px.RequirePeriod(period, "CCI period");
        Period = period;
        _tree = new OrderStatisticTree(period);
    }

    public int Period { get; }

    public bool IsReady => _count >= Period;

    public int WarmUp => Period;

    public double Value => _value;

    public void Update(in Bar bar)
    {
        long typical3 = bar.High.Raw + bar.Low.Raw + bar.Close.Raw;
        if (_count >= Period)
        {
            _tree.Remove(_next);
        }

        _tree.Insert(_next, typical3);
        if (++_count < Period)
        {
            _next++;
            return;
        }

        // With T = 3·TP and S = ΣT: TP − mean = (nT − S)/3n and the mean deviation is Σ|nTᵢ − S| / 3n², so
        // CCI = n·(nT − S) / (0.015·Σ|nTᵢ − S|), every term an exact integer. The deviations above and below the mean
        // cancel, so with c values summing to s at or below it (nTᵢ ≤ S ⇔ Tᵢ ≤ ⌊S/n⌋): Σ|nTᵢ − S| = 2·(S·c − n·s).
        long n = Period;
        long total = _tree.Total;
        _tree.AtMost(Math.DivRem(total, n, out long remainder) - (remainder < 0 ? 1 : 0), out int below, out long belowSum);
        Int128 deviation = 2 * (((Int128)total * below) - ((Int128)n * belowSum));
        _value = deviation == 0 ? 0 : (double)(((Int128)n * typical3) - total) * n / (Constant * (double)deviation);
        _next = _next + 1 == Period ? 0 : _next + 1;
    }

    public void Reset()
    {
        _tree.Clear();
        _next = 0;
        _count = 0;
        _value = double.NaN;
    }
}

/// <summary>
/// Ultimate oscillator (Williams): buying pressure BP = close − min(low, previous close), true range TR =
/// max(high, previous close) − min(low, previous close); Aₙ = ΣBP / ΣTR over the last n bars; UO = 100·(4·A_short +
/// 2·A_medium + A_long) / 7. First value after long + 1 bars; 50 when the short window has no range at all. The sums
/// are exact (fixed-point prices).
/// </summary>
public sealed class UltimateOscillator : IIndicator
{
    private readonly RollingLongSum _bpShort;
    private readonly RollingLongSum _trShort;
    private readonly RollingLongSum _bpMedium;
    private readonly RollingLongSum _trMedium;
    private readonly RollingLongSum _bpLong;
    private readonly RollingLongSum _trLong;
    private long _count;
    private long _previousClose;
    private double _value = double.NaN;

    public UltimateOscillator(int shortPeriod = 7, int mediumPeriod = 14, int longPeriod = 28)
    {
        Px.RequirePeriod(shortPeriod, "ultimate oscillator short period");
        if (mediumPeriod <= shortPeriod)
        {
            throw new ArgumentOutOfRangeException(nameof(mediumPeriod), $"ultimate oscillator medium period was {mediumPeriod}; it must be greater than the short period {shortPeriod}");
        }

        if (longPeriod <= mediumPeriod)
        {
            throw new ArgumentOutOfRangeException(nameof(longPeriod), $"ultimate oscillator long period was {longPeriod}; it must be greater than the medium period {mediumPeriod}");
        }

        ShortPeriod = shortPeriod;
        MediumPeriod = mediumPeriod;
        LongPeriod = longPeriod;
        _bpShort = new RollingLongSum(shortPeriod);
        _trShort = new RollingLongSum(shortPeriod);
        _bpMedium = new RollingLongSum(mediumPeriod);
        _trMedium = new RollingLongSum(mediumPeriod);
        _bpLong = new RollingLongSum(longPeriod);
        _trLong = new RollingLongSum(longPeriod);
    }

    public int ShortPeriod { get; }

    public int MediumPeriod { get; }

    public int LongPeriod { get; }

    public bool IsReady => _count > LongPeriod;

    public int WarmUp => LongPeriod + 1;

    public double Value => _value;

    public void Update(in Bar bar)
    {
        if (_count++ > 0)
        {
            long close = bar.Close.Raw;
            long trueLow = Math.Min(bar.Low.Raw, _previousClose);
            long bp = close - trueLow;
            long tr = Math.Max(bar.High.Raw, _previousClose) - trueLow;
            _bpShort.Push(bp);
            _trShort.Push(tr);
            _bpMedium.Push(bp);
            _trMedium.Push(tr);
            _bpLong.Push(bp);
            _trLong.Push(tr);
            if (_count > LongPeriod)
            {
                // The short window lies inside the others: a range there means a range in all three.
                _value = _trShort.Value == 0 ? 50 : 100 * ((4 * Ratio(_bpShort, _trShort)) + (2 * Ratio(_bpMedium, _trMedium)) + Ratio(_bpLong, _trLong)) / 7;
            }
        }

        _previousClose = bar.Close.Raw;
    }

    private static double Ratio(RollingLongSum bp, RollingLongSum tr) => (double)bp.Value / tr.Value;

    public void Reset()
    {
        _bpShort.Reset();
        _trShort.Reset();
        _bpMedium.Reset();
        _trMedium.Reset();
        _bpLong.Reset();
        _trLong.Reset();
        _count = 0;
        _previousClose = 0;
        _value = double.NaN;
    }
}

/// <summary>
/// Aroon (Chande) over the last period + 1 bars: up = 100·(period − bars since the highest high) / period,
/// down = 100·(period − bars since the lowest low) / period; on ties the most recent extreme counts (as TA-Lib).
/// First values after period + 1 bars.
/// </summary>
public sealed class Aroon : IIndicator
{
    private readonly MonotonicWindow<long> _highs;
    private readonly MonotonicWindow<long> _lows;
    private long _count;

    public Aroon(int period = 25)
    {
        Px.RequirePeriod(period, "Aroon period");
        Period = period;
        _highs = new MonotonicWindow<long>(period + 1, max: true);
        _lows = new MonotonicWindow<long>(period + 1, max: false);
    }

    public int Period { get; }

    public bool IsReady => _count > Period;

    public int WarmUp => Period + 1;

    public double Up => IsReady ? 100.0 * (Period - (_count - 1 - _highs.Position)) / Period : double.NaN;

    public double Down => IsReady ? 100.0 * (Period - (_count - 1 - _lows.Position)) / Period : double.NaN;

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
