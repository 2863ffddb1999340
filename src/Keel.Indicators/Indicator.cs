using System.Numerics;
using System.Runtime.CompilerServices;

namespace Keel.Indicators;

/// <summary>
/// What every streaming indicator has. Inputs arrive one at a time (a value or a bar); each update is O(1)
/// (O(1) amortised where a window extreme is kept in a monotonic deque, O(log period) for CCI's mean deviation)
/// and allocates nothing. Output lines are NaN until they have a value.
/// </summary>
public interface IIndicator
{
    /// <summary>True once every output line has a value.</summary>
    bool IsReady { get; }

    /// <summary>How many inputs it takes until <see cref="IsReady"/>: every line has a value from that input on.</summary>
    int WarmUp { get; }

    /// <summary>Forgets every input: the indicator is as it was just constructed.</summary>
    void Reset();
}

/// <summary>Neumaier-compensated running sum: adding and later subtracting the same values leaves next to no drift.</summary>
internal struct CompensatedSum
{
    private double _sum;
    private double _compensation;

    public readonly double Value => _sum + _compensation;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(double x)
    {
        double t = _sum + x;
        _compensation += Math.Abs(_sum) >= Math.Abs(x) ? (_sum - t) + x : (x - t) + _sum;
        _sum = t;
    }

    public void Reset()
    {
        _sum = 0;
        _compensation = 0;
    }
}

/// <summary>The last <c>capacity</c> values, oldest first out.</summary>
internal sealed class Ring
{
    private readonly double[] _items;
    private int _next;

    public Ring(int capacity) => _items = new double[capacity];

    public int Count { get; private set; }

    public bool IsFull => Count == _items.Length;

    /// <summary>Appends <paramref name="value"/>; when the ring was full, returns true and the value that fell out.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Push(double value, out double evicted)
    {
        bool full = Count == _items.Length;
        evicted = full ? _items[_next] : 0;
        _items[_next] = value;
        _next = _next + 1 == _items.Length ? 0 : _next + 1;
        if (!full)
        {
            Count++;
        }

        return full;
    }

    /// <summary>The value <paramref name="back"/> steps before the newest (0 = newest).</summary>
    public double Back(int back)
    {
        int i = _next - 1 - back;
        return _items[i < 0 ? i + _items.Length : i];
    }

    public void Clear()
    {
        Array.Clear(_items);
        _next = 0;
        Count = 0;
    }
}

/// <summary>
/// Sum of the last <c>period</c> values. Compensated, and exactly zero whenever every value in the window is zero
/// (rounding residue from earlier, larger values would otherwise make "no movement at all" look like a tiny one).
/// </summary>
internal sealed class RollingSum
{
    private readonly Ring _window;
    private CompensatedSum _sum;
    private int _nonZero;

    public RollingSum(int period) => _window = new Ring(period);

    public bool IsFull => _window.IsFull;

    public double Value => _nonZero == 0 ? 0 : _sum.Value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Push(double value)
    {
        if (_window.Push(value, out double old))
        {
            _sum.Add(-old);
            if (old != 0)
            {
                _nonZero--;
            }
        }

        _sum.Add(value);
        if (value != 0)
        {
            _nonZero++;
        }
        else if (_nonZero == 0)
        {
            _sum.Reset();
        }
    }

    public void Reset()
    {
        _window.Clear();
        _sum.Reset();
        _nonZero = 0;
    }
}

/// <summary>
/// Exact sum of the last <c>period</c> integers (raw fixed-point prices or their differences): no rounding at all,
/// so a window that sums to zero is exactly zero. Overflow throws (this assembly is compiled with checked arithmetic, see Directory.Build.props).
/// </summary>
internal sealed class RollingLongSum
{
    private readonly long[] _items;
    private int _next;
    private int _count;

    public RollingLongSum(int period) => _items = new long[period];

    public long Value { get; private set; }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Push(long value)
    {
        if (_count == _items.Length)
        {
            Value -= _items[_next];
        }
        else
        {
            _count++;
        }

        Value += value;
        _items[_next] = value;
        _next = _next + 1 == _items.Length ? 0 : _next + 1;
    }

    public void Reset()
    {
        Array.Clear(_items);
        _next = 0;
        _count = 0;
        Value = 0;
    }
}

/// <summary>
/// Wilder's smoothing as an average: the mean of the first <c>period</c> inputs, then
/// <c>avg += (x − avg) / period</c> (the same as <c>(avg·(period−1) + x) / period</c>).
/// </summary>
internal sealed class WilderAverage
{
    private readonly int _period;
    private readonly double _k;
    private double _seed;
    private int _count;

    public WilderAverage(int period)
    {
        _period = period;
        _k = 1.0 / period;
    }

    public bool IsReady => _count >= _period;

    public double Value { get; private set; } = double.NaN;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Update(double x)
    {
        if (_count >= _period)
        {
            Value += (x - Value) * _k;
            return;
        }

        _count++;
        _seed += x;
        if (_count == _period)
        {
            Value = _seed / _period;
        }
    }

    public void Reset()
    {
        _seed = 0;
        _count = 0;
        Value = double.NaN;
    }
}

/// <summary>
/// The largest (or smallest) of the last <c>period</c> values with the position it arrived at, in O(1) amortised
/// per value: a monotonic deque, each value entering and leaving it once. Ties go to the most recent value.
/// </summary>
internal sealed class MonotonicWindow<T>
    where T : struct, IComparisonOperators<T, T, bool>
{
    private readonly T[] _values;
    private readonly long[] _positions;
    private readonly int _period;
    private readonly bool _max;
    private int _head;
    private int _count;

    public MonotonicWindow(int period, bool max)
    {
        _period = period;
        _max = max;
        _values = new T[period];
        _positions = new long[period];
    }

    /// <summary>The extreme of the window (valid after the first push).</summary>
    public T Value => _values[_head];

    /// <summary>The position (as given to <see cref="Push"/>) of <see cref="Value"/>.</summary>
    public long Position => _positions[_head];

    /// <summary>Adds the value at <paramref name="position"/> (strictly increasing) and drops what left the window.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Push(long position, T value)
    {
        int n = _values.Length;
        if (_count > 0 && _positions[_head] <= position - _period)
        {
            _head = _head + 1 == n ? 0 : _head + 1;
            _count--;
        }

        while (_count > 0)
        {
            int back = _head + _count - 1;
            if (back >= n)
            {
                back -= n;
            }

            if (_max ? _values[back] > value : _values[back] < value)
            {
                break;
            }

            _count--;
        }

        int slot = _head + _count;
        if (slot >= n)
        {
            slot -= n;
        }

        _values[slot] = value;
        _positions[slot] = position;
        _count++;
    }

    public void Reset()
    {
        _head = 0;
        _count = 0;
    }
}

/// <summary>Price as the double indicators compute with (the nearest double to the exact decimal).</summary>
internal static class Px
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double D(long raw) => raw / (double)Keel.Domain.Price.Scale;

    public static void RequirePeriod(int period, string what, int min = 1)
    {
        if (period < min)
        {
            throw new ArgumentOutOfRangeException(nameof(period), $"{what} was {period}; it must be at least {min}");
        }
    }
}
