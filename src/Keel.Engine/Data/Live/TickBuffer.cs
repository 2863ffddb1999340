using System.Threading.Channels;
using Keel.Domain;

namespace Keel.Engine.Data.Live;

/// <summary>Counters of a <see cref="TickBuffer"/>.</summary>
public sealed record TickBufferStats(long Enqueued, long Dequeued, long Dropped, long Evicted, int Count, int Capacity, int HighWater)
{
    /// <summary>How full the buffer is, 0–1.</summary>
    public double Utilization => Capacity == 0 ? 0 : (double)Count / Capacity;
}

/// <summary>
/// The hand-over from a feed's thread to the consumer (aggregator, kernel): bounded (default 10,000 ticks); when full
/// the oldest tick is dropped and counted, so a slow consumer loses old data rather than stalling the feed. Ticks
/// older than the time to live (default 60 s, by receive time) are evicted and counted instead of delivered. Any number
/// of writers, one reader. Time is passed in by the caller (the core reads no clock).
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "ManualResetEventSlim holds an OS handle only once its WaitHandle is read, which this type never does.")]
public sealed class TickBuffer
{
    private readonly Channel<Tick> _channel;
    private readonly long _ttlNanos;
    private long _enqueued, _dequeued, _dropped, _evicted;
    private int _highWater;

    // Wakes a consumer blocked in WaitToRead without a thread-pool thread: the live consumer is a dedicated thread that
    // also feeds the kernel's inbox, and on a small machine the pool is busy with the kernel and the sockets.
    private readonly ManualResetEventSlim _available = new(false);
    private int _woken;

    public TickBuffer(int capacity = 10_000, TimeSpan? timeToLive = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        _ttlNanos = (long)((timeToLive ?? TimeSpan.FromSeconds(60)).Ticks * 100);
        _channel = Channel.CreateBounded<Tick>(
            new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = false },
            _ => Interlocked.Increment(ref _dropped));
    }

    public int Capacity { get; }

    public int Count => _channel.Reader.Count;

    public TickBufferStats Stats => new(
        Interlocked.Read(ref _enqueued), Interlocked.Read(ref _dequeued), Interlocked.Read(ref _dropped), Interlocked.Read(ref _evicted),
        Count, Capacity, Volatile.Read(ref _highWater));

    /// <summary>Adds a tick; never blocks (when full, the oldest tick makes room). False once completed.</summary>
    public bool Write(in Tick tick)
    {
        if (!_channel.Writer.TryWrite(tick))
        {
            return false;
        }

        Interlocked.Increment(ref _enqueued);
        if (!_available.IsSet)
        {
            _available.Set();
        }

        int count = _channel.Reader.Count;
        if (count > Volatile.Read(ref _highWater))
        {
            Volatile.Write(ref _highWater, count);
        }

        return true;
    }

    /// <summary>The next tick that is still fresh at <paramref name="now"/>; stale ones on the way are evicted.</summary>
    public bool TryRead(Timestamp now, out Tick tick)
    {
        while (_channel.Reader.TryRead(out tick))
        {
            if (now.UnixNanos - tick.ReceivedAt.UnixNanos > _ttlNanos)
            {
                Interlocked.Increment(ref _evicted);
                continue;
            }

            Interlocked.Increment(ref _dequeued);
            return true;
        }

        return false;
    }

    /// <summary>Evicts expired ticks at the head of the buffer (the periodic flush); returns how many.</summary>
    public int EvictExpired(Timestamp now)
    {
        int evicted = 0;
        while (_channel.Reader.TryPeek(out var tick) && now.UnixNanos - tick.ReceivedAt.UnixNanos > _ttlNanos && _channel.Reader.TryRead(out _))
        {
            evicted++;
        }

        Interlocked.Add(ref _evicted, evicted);
        return evicted;
    }

    /// <summary>Completes when a tick may be available (false once completed and empty).</summary>
    public ValueTask<bool> WaitToReadAsync(CancellationToken ct) => _channel.Reader.WaitToReadAsync(ct);

    /// <summary>
    /// Blocks the calling thread until a tick may be available, the buffer completes, <see cref="Wake"/> is called or
    /// <paramref name="timeout"/> passes. False once the buffer is completed and drained.
    /// </summary>
    public bool WaitToRead(TimeSpan timeout)
    {
        var reader = _channel.Reader;
        if (reader.Count > 0)
        {
            return true;
        }

        // Reset, then look again: a write or a wake after the second look sets the event (writers set it whenever it is
        // clear), and one before it is seen by the look.
        _available.Reset();
        if (reader.Count == 0 && !reader.Completion.IsCompleted && Interlocked.Exchange(ref _woken, 0) == 0)
        {
            _available.Wait(timeout);
        }

        Volatile.Write(ref _woken, 0);
        return !reader.Completion.IsCompleted;
    }

    /// <summary>Ends a <see cref="WaitToRead"/> early, or the next one if none is waiting (a stop request, the feed ended).</summary>
    public void Wake()
    {
        Volatile.Write(ref _woken, 1);
        _available.Set();
    }

    /// <summary>No more writes; the reader drains what is left.</summary>
    public void Complete()
    {
        _channel.Writer.TryComplete();
        _available.Set();
    }
}
