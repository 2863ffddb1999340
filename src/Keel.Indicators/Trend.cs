using Keel.Domain;

namespace Keel.Indicators;

/// <summary>
/// Average directional index with +DI and −DI, as Wilder defined them. From the second bar on: +DM = up-move when it
/// is positive and larger than the down-move, else 0 (−DM the mirror; equal moves give neither), and the true
/// range. TR, +DM and −DM are Wilder-smoothed sums (the sum of the first <c>period</c>, then S − S/period + x);
/// ±DI = 100·smoothed ±DM / smoothed TR (from bar period + 1 on), DX = 100·|+DI − −DI| / (+DI + −DI), and ADX is
/// the mean of the first <c>period</c> DX values, then Wilder-smoothed (from bar 2·period on). Zero denominators give 0.
/// </summary>
public sealed class Adx : IIndicator
{
    private readonly WilderAverage _adx;
    private long _count;
    private long _previousHigh;
    private long _previousLow;
    private long _previousClose;
    private double _tr;
    private double _plusDm;
    private double _minusDm;

    public Adx(int period = 14)
    {
        Px.RequirePeriod(period, "ADX period");
        Period = period;
        _adx = new WilderAverage(period);
    }

    public int Period { get; }

    public bool IsReady => _adx.IsReady;

    public int WarmUp => 2 * Period;

    public double Value => _adx.Value;

    public double PlusDi { get; private set; } = double.NaN;

    public double MinusDi { get; private set; } = double.NaN;

    public void Update(in Bar bar)
    {
        long high = bar.High.Raw;
        long low = bar.Low.Raw;
        if (_count++ > 0)
        {
            long up = high - _previousHigh;
            long down = _previousLow - low;
            double tr = Px.D(TrueRange.Raw(high, low, _previousClose));
            double plus = up > down && up > 0 ? Px.D(up) : 0;
            double minus = down > up && down > 0 ? Px.D(down) : 0;
            long seen = _count - 1;
            if (seen <= Period)
            {
                _tr += tr;
                _plusDm += plus;
                _minusDm += minus;
            }
            else
            {
                _tr = _tr - (_tr / Period) + tr;
                _plusDm = _plusDm - (_plusDm / Period) + plus;
                _minusDm = _minusDm - (_minusDm / Period) + minus;
            }

            if (seen >= Period)
            {
                PlusDi = _tr == 0 ? 0 : _plusDm * 100 / _tr;
                MinusDi = _tr == 0 ? 0 : _minusDm * 100 / _tr;
                double sum = PlusDi + MinusDi;
                _adx.Update(sum == 0 ? 0 : Math.Abs(PlusDi - MinusDi) / sum * 100);
            }
        }

        _previousHigh = high;
        _previousLow = low;
        _previousClose = bar.Close.Raw;
    }

    public void Reset()
    {
        _adx.Reset();
        _count = 0;
        _previousHigh = 0;
        _previousLow = 0;
        _previousClose = 0;
        _tr = 0;
        _plusDm = 0;
        _minusDm = 0;
        PlusDi = double.NaN;
        MinusDi = double.NaN;
    }
}

/// <summary>
/// Parabolic stop-and-reverse (Wilder), laid out as TA-Lib's SAR: the first trade is long unless the second bar's
/// down-move is positive and larger than its up-move; it starts from the first bar's low (high when short) with the
/// second bar's high (low) as extreme point. Each bar: the SAR moves by af·(EP − SAR); af starts at
/// <c>step</c> and grows by <c>step</c> with every new extreme, up to <c>max</c>; the SAR for the next bar never
/// enters the range of this bar or the one before. A trade reverses when a bar's low falls below (high rises above)
/// its SAR — touching is not penetrating; TA-Lib reverses on a touch — and the new SAR is the old trade's extreme.
/// First value on the second bar.
/// </summary>
public sealed class ParabolicSar : IIndicator
{
    private long _count;
    private long _firstHigh;
    private long _firstLow;
    private double _sar;
    private double _ep;
    private double _af;
    private double _previousHigh;
    private double _previousLow;

    public ParabolicSar(double step = 0.02, double max = 0.2)
    {
        if (!(step > 0) || step > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(step), $"PSAR step was {step}; it must be above 0 and at most 1");
        }

        if (!(max >= step) || max > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(max), $"PSAR maximum was {max}; it must be at least the step {step} and at most 1");
        }

        Step = step;
        Max = max;
    }

    public double Step { get; }

    public double Max { get; }

    public bool IsReady => _count >= 2;

    public int WarmUp => 2;

    /// <summary>The SAR for the latest bar.</summary>
    public double Value { get; private set; } = double.NaN;

    /// <summary>True while the trade the SAR follows is long (the SAR is below the prices).</summary>
    public bool IsLong { get; private set; }

    public void Update(in Bar bar)
    {
        _count++;
        if (_count == 1)
        {
            _firstHigh = bar.High.Raw;
            _firstLow = bar.Low.Raw;
            return;
        }

        double high = bar.High.ToDouble();
        double low = bar.Low.ToDouble();
        if (_count == 2)
        {
            long up = bar.High.Raw - _firstHigh;
            long down = _firstLow - bar.Low.Raw;
            IsLong = !(down > 0 && down > up);
            _sar = IsLong ? Px.D(_firstLow) : Px.D(_firstHigh);
            _ep = IsLong ? high : low;
            _af = Step;

            // As TA-Lib: on the first step the second bar stands in for "the bar before".
            _previousHigh = high;
            _previousLow = low;
        }

        double next;
        if (IsLong)
        {
            if (low < _sar)
            {
                IsLong = false;
                _sar = Math.Max(_ep, Math.Max(_previousHigh, high));
                Value = _sar;
                _af = Step;
                _ep = low;
                next = _sar + (_af * (_ep - _sar));
                next = Math.Max(next, Math.Max(_previousHigh, high));
            }
            else
            {
                Value = _sar;
                if (high > _ep)
                {
                    _ep = high;
                    _af = Math.Min(_af + Step, Max);
                }

                next = _sar + (_af * (_ep - _sar));
                next = Math.Min(next, Math.Min(_previousLow, low));
            }
        }
        else
        {
            if (high > _sar)
            {
                IsLong = true;
                _sar = Math.Min(_ep, Math.Min(_previousLow, low));
                Value = _sar;
                _af = Step;
                _ep = high;
                next = _sar + (_af * (_ep - _sar));
                next = Math.Min(next, Math.Min(_previousLow, low));
            }
            else
            {
                Value = _sar;
                if (low < _ep)
                {
                    _ep = low;
                    _af = Math.Min(_af + Step, Max);
                }

                next = _sar + (_af * (_ep - _sar));
                next = Math.Max(next, Math.Max(_previousHigh, high));
            }
        }

        _sar = next;
        _previousHigh = high;
        _previousLow = low;
    }

    public void Reset()
    {
        _count = 0;
        _firstHigh = 0;
        _firstLow = 0;
        _sar = 0;
        _ep = 0;
        _af = 0;
        _previousHigh = 0;
        _previousLow = 0;
        Value = double.NaN;
        IsLong = false;
    }
}
