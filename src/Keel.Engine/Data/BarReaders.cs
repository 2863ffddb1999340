using Keel.Domain;

namespace Keel.Engine.Data;

/// <summary>A forward-only stream of bars in time order.</summary>
public interface IBarReader : IDisposable
{
    /// <summary>Reads the next bar; false at the end. Throws <see cref="DataFormatException"/> on bad data.</summary>
    bool TryRead(out Bar bar);

    /// <summary>Bytes consumed so far and in total (for progress); total is 0 when unknown.</summary>
    (long Done, long Total) Progress { get; }
}

/// <summary>Merges several readers into one stream ordered by time; equal times keep the readers' order.</summary>
public sealed class MergedBarReader : IBarReader
{
    private readonly IBarReader[] _readers;
    private readonly Bar[] _heads;
    private readonly bool[] _has;
    private bool _primed;

    public MergedBarReader(IReadOnlyList<IBarReader> readers)
    {
        if (readers.Count == 0)
        {
            throw new ArgumentException("at least one data source is needed", nameof(readers));
        }

        _readers = [.. readers];
        _heads = new Bar[readers.Count];
        _has = new bool[readers.Count];
    }

    public (long Done, long Total) Progress
    {
        get
        {
            long done = 0, total = 0;
            foreach (var r in _readers)
            {
                var (d, t) = r.Progress;
                done += d;
                total += t;
            }

            return (done, total);
        }
    }

    public bool TryRead(out Bar bar)
    {
        if (_readers.Length == 1)
        {
            return _readers[0].TryRead(out bar);
        }

        if (!_primed)
        {
            for (int i = 0; i < _readers.Length; i++)
            {
                _has[i] = _readers[i].TryRead(out _heads[i]);
            }

            _primed = true;
        }

        int best = -1;
        for (int i = 0; i < _readers.Length; i++)
        {
            if (_has[i] && (best < 0 || _heads[i].Time < _heads[best].Time))
            {
                best = i;
            }
        }

        if (best < 0)
        {
            bar = default;
            return false;
        }

        bar = _heads[best];
        _has[best] = _readers[best].TryRead(out _heads[best]);
        return true;
    }

    public void Dispose()
    {
        foreach (var r in _readers)
        {
            r.Dispose();
        }
    }
}

/// <summary>Keeps only bars with <c>from ≤ time ≤ to</c>, and stops reading after <c>to</c>.</summary>
public sealed class TimeWindowBarReader(IBarReader inner, Timestamp? from, Timestamp? to) : IBarReader
{
    private bool _done;

    public (long Done, long Total) Progress => inner.Progress;

    public bool TryRead(out Bar bar)
    {
        while (!_done && inner.TryRead(out bar))
        {
            if (from is Timestamp f && bar.Time < f)
            {
                continue;
            }

            if (to is Timestamp t && bar.Time > t)
            {
                _done = true;
                break;
            }

            return true;
        }

        bar = default;
        return false;
    }

    public void Dispose() => inner.Dispose();
}

/// <summary>Bars from memory (tests, benchmarks, the data store).</summary>
public sealed class ListBarReader(IReadOnlyList<Bar> bars) : IBarReader
{
    private int _next;

    public (long Done, long Total) Progress => (_next, bars.Count);

    public bool TryRead(out Bar bar)
    {
        if (_next < bars.Count)
        {
            bar = bars[_next++];
            return true;
        }

        bar = default;
        return false;
    }

    public void Dispose()
    {
    }
}

/// <summary>Skips the first <c>count</c> bars of another reader (a resumed run continues where its snapshot was taken).</summary>
public sealed class SkippingBarReader(IBarReader inner, long count) : IBarReader
{
    private readonly long _count = count;
    private long _toSkip = count;

    public (long Done, long Total) Progress => inner.Progress;

    public bool TryRead(out Bar bar)
    {
        while (_toSkip > 0)
        {
            if (!inner.TryRead(out _))
            {
                throw new DataFormatException($"the data has fewer bars than the {_count} the run had already processed; was the data file changed since the run started?");
            }

            _toSkip--;
        }

        return inner.TryRead(out bar);
    }

    public void Dispose() => inner.Dispose();
}

/// <summary>
/// Bars already in memory, read without copying the array (a parameter sweep reads one parsed file many times, one
/// reader per combination).
/// </summary>
public sealed class MemoryBarReader(ReadOnlyMemory<Bar> bars) : IBarReader
{
    private int _next;

    public (long Done, long Total) Progress => (_next, bars.Length);

    public bool TryRead(out Bar bar)
    {
        var span = bars.Span;
        if (_next < span.Length)
        {
            bar = span[_next++];
            return true;
        }

        bar = default;
        return false;
    }

    public void Dispose()
    {
    }
}
