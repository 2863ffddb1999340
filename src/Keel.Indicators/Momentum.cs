namespace Keel.Indicators;

/// <summary>
/// Relative strength index with Wilder's smoothing: average gain and average loss start as the plain mean of the
/// first <c>period</c> changes and then move by 1/period, RSI = 100·gain / (gain + loss). The first value comes
/// after period + 1 inputs. When nothing moved at all (both averages zero) the RSI is 50, neither strong nor weak.
/// </summary>
public sealed class Rsi : IIndicator
{
    private readonly WilderAverage _gain;
    private readonly WilderAverage _loss;
    private long _count;
    private double _previous;

    public Rsi(int period = 14)
    {
        Px.RequirePeriod(period, "RSI period");
        Period = period;
        _gain = new WilderAverage(period);
        _loss = new WilderAverage(period);
    }

    public int Period { get; }

    public bool IsReady => _gain.IsReady;

    public int WarmUp => Period + 1;

    public double Value
    {
        get
        {
            if (!_gain.IsReady)
            {
                return double.NaN;
            }

            double gain = _gain.Value;
            double total = gain + _loss.Value;
            return total == 0 ? 50 : 100 * gain / total;
        }
    }

    public void Update(double input)
    {
        if (++_count > 1)
        {
            double change = input - _previous;
            _gain.Update(change > 0 ? change : 0);
            _loss.Update(change < 0 ? -change : 0);
        }

        _previous = input;
    }

    public void Reset()
    {
        _gain.Reset();
        _loss.Reset();
        _count = 0;
        _previous = 0;
    }
}

/// <summary>
/// MACD (Appel): line = EMA(fast) − EMA(slow), signal = EMA(signal) of the line, histogram = line − signal. Every EMA
/// is seeded with the SMA of its first inputs and both price EMAs start at the first input, so the line has a value
/// from input <c>slow</c> on and the signal and histogram from input slow + signal − 1 on. (TA-Lib instead delays
/// the fast EMA's start to line up with the slow one; the two agree once the seed has decayed.)
/// </summary>
public sealed class Macd : IIndicator
{
    private readonly Ema _fast;
    private readonly Ema _slow;
    private readonly Ema _signal;

    public Macd(int fast = 12, int slow = 26, int signal = 9)
    {
        Px.RequirePeriod(fast, "MACD fast period");
        Px.RequirePeriod(signal, "MACD signal period");
        if (slow <= fast)
        {
            throw new ArgumentOutOfRangeException(nameof(slow), $"MACD slow period was {slow}; it must be greater than the fast period {fast}");
        }

        _fast = new Ema(fast);
        _slow = new Ema(slow);
        _signal = new Ema(signal);
    }

    public int FastPeriod => _fast.Period;

    public int SlowPeriod => _slow.Period;

    public int SignalPeriod => _signal.Period;

    public bool IsReady => _signal.IsReady;

    public int WarmUp => SlowPeriod + SignalPeriod - 1;

    /// <summary>EMA(fast) − EMA(slow); NaN before input <c>slow</c>.</summary>
    public double Line => _slow.IsReady ? _fast.Value - _slow.Value : double.NaN;

    public double Signal => _signal.Value;

    public double Histogram => _signal.IsReady ? Line - _signal.Value : double.NaN;

    public void Update(double input)
    {
        _fast.Update(input);
        _slow.Update(input);
        if (_slow.IsReady)
        {
            _signal.Update(_fast.Value - _slow.Value);
        }
    }

    public void Reset()
    {
        _fast.Reset();
        _slow.Reset();
        _signal.Reset();
    }
}

/// <summary>Momentum: x − x[period], the change over the last <c>period</c> inputs; first value after period + 1 inputs.</summary>
public sealed class Momentum : IIndicator
{
    private readonly Ring _window;
    private double _value = double.NaN;

    public Momentum(int period = 10)
    {
        Px.RequirePeriod(period, "momentum period");
        Period = period;
        _window = new Ring(period);
    }

    public int Period { get; }

    public bool IsReady => !double.IsNaN(_value);

    public int WarmUp => Period + 1;

    public double Value => _value;

    public void Update(double input)
    {
        if (_window.Push(input, out double then))
        {
            _value = input - then;
        }
    }

    public void Reset()
    {
        _window.Clear();
        _value = double.NaN;
    }
}

/// <summary>
/// Rate of change in percent: 100·(x − x[period]) / x[period]; first value after period + 1 inputs. NaN where
/// x[period] is zero (no rate of change from nothing).
/// </summary>
public sealed class RateOfChange : IIndicator
{
    private readonly Ring _window;
    private long _count;
    private double _value = double.NaN;

    public RateOfChange(int period = 10)
    {
        Px.RequirePeriod(period, "rate-of-change period");
        Period = period;
        _window = new Ring(period);
    }

    public int Period { get; }

    public bool IsReady => _count > Period;

    public int WarmUp => Period + 1;

    public double Value => _value;

    public void Update(double input)
    {
        _count++;
        if (_window.Push(input, out double then))
        {
            _value = then == 0 ? double.NaN : (input - then) / then * 100;
        }
    }

    public void Reset()
    {
        _window.Clear();
        _count = 0;
        _value = double.NaN;
    }
}

/// <summary>
/// TRIX (Hutson): the one-input rate of change, in percent, of a triple-smoothed EMA (each EMA seeded with the SMA
/// of its first <c>period</c> inputs); first value after 3·period − 1 inputs.
/// </summary>
public sealed class Trix : IIndicator
{
    private readonly Ema _e1;
    private readonly Ema _e2;
    private readonly Ema _e3;
    private long _count;
    private double _previous = double.NaN;
    private double _value = double.NaN;

    public Trix(int period = 15)
    {
        Px.RequirePeriod(period, "TRIX period");
        Period = period;
        _e1 = new Ema(period);
        _e2 = new Ema(period);
        _e3 = new Ema(period);
    }

    public int Period { get; }

    public bool IsReady => _count >= WarmUp;

    public int WarmUp => (3 * Period) - 1;

    public double Value => _value;

    public void Update(double input)
    {
        _count++;
        _e1.Update(input);
        if (!_e1.IsReady)
        {
            return;
        }

        _e2.Update(_e1.Value);
        if (!_e2.IsReady)
        {
            return;
        }

        _e3.Update(_e2.Value);
        if (!_e3.IsReady)
        {
            return;
        }

        double current = _e3.Value;
        if (!double.IsNaN(_previous))
        {
            _value = _previous == 0 ? double.NaN : (current - _previous) / _previous * 100;
        }

        _previous = current;
    }

    public void Reset()
    {
        _e1.Reset();
        _e2.Reset();
        _e3.Reset();
        _previous = double.NaN;
        _value = double.NaN;
        _count = 0;
    }
}
