using System.Runtime.CompilerServices;
using Keel.Domain;
using Keel.Engine.Kernel;
using Keel.Engine.Persistence;

namespace Keel.Runtime;

/// <summary>One event of a run as hosts see it: its kernel sequence number, type, time and JSON payload (as in the journal).</summary>
public sealed record RunEvent(long Sequence, string Type, Timestamp Time, string Payload);

/// <summary>A subscriber asked for events the run no longer holds in memory and that no store recorded.</summary>
public sealed class RunEventsLostException : Exception
{
    public RunEventsLostException(string message)
        : base(message)
    {
    }

    public RunEventsLostException()
    {
    }

    public RunEventsLostException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// A run's event stream for any number of subscribers. The kernel thread appends each journaled event (order events,
/// notices, lifecycle changes) to a ring; each subscriber reads at its own cursor, so a slow subscriber never slows the
/// kernel or grows memory: the ring is the only buffer. A subscriber resumes after any sequence it last saw; events
/// already gone from the ring are read from the store the run is recorded in.
/// </summary>
/// <remarks>
/// Why the store always has what the ring dropped: the journal writer hands batches of at most 4,096 records through
/// a queue of two, so at most about 16,384 events are ever uncommitted, and the ring holds 65,536 — an event leaves
/// the ring only long after its batch was committed.
/// </remarks>
public sealed class RunEventLog : IEventHandler<OrderUpdate>, IEventHandler<KernelNotice>, IEventHandler<KernelStateChanged>
{
    private const int ReadChunk = 1024;
    private readonly JournalEvent[] _ring;
    private readonly int _mask;
    private readonly object _gate = new();
    private readonly Func<long, int, IReadOnlyList<RunEvent>>? _older;
    private long _count;
    private long _droppedThrough = -1;
    private TaskCompletionSource? _signal;
    private bool _completed;

    /// <param name="older">Reads stored events after a sequence (at most a limit); null when the run is not recorded.</param>
    /// <param name="capacityPow2">The ring holds 2^n events.</param>
    public RunEventLog(Func<long, int, IReadOnlyList<RunEvent>>? older = null, int capacityPow2 = 16)
    {
        _ring = new JournalEvent[1 << capacityPow2];
        _mask = _ring.Length - 1;
        _older = older;
    }

    /// <summary>Sequence of the newest event, or 0 before the first.</summary>
    public long LastSequence
    {
        get
        {
            lock (_gate)
            {
                return _count == 0 ? 0 : _ring[(_count - 1) & _mask].Sequence;
            }
        }
    }

    public void Handle(in OrderUpdate evt, long sequence) => Append(new JournalEvent(sequence, JournalEventTypes.Of(evt.Event), evt.Event.TsEvent, evt.Event));

    public void Handle(in KernelNotice evt, long sequence) => Append(new JournalEvent(sequence, $"notice.{evt.Code}", evt.Time, evt));

    public void Handle(in KernelStateChanged evt, long sequence) => Append(new JournalEvent(sequence, "kernel.state", evt.Time, evt));

    /// <summary>No more events will come: subscribers finish once they have read everything.</summary>
    public void Complete()
    {
        TaskCompletionSource? signal;
        lock (_gate)
        {
            _completed = true;
            signal = _signal;
            _signal = null;
        }

        signal?.TrySetResult();
    }

    /// <summary>
    /// Every event with a sequence above <paramref name="afterSequence"/>, in order, then each new one as it happens,
    /// until the run ends (or <paramref name="ct"/> is cancelled). Resume with the last sequence seen to miss nothing.
    /// </summary>
    public async IAsyncEnumerable<RunEvent> ReadAsync(long afterSequence, [EnumeratorCancellation] CancellationToken ct = default)
    {
        long cursor = afterSequence;
        var chunk = new List<RunEvent>(ReadChunk);
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            Task? wait = null;
            long droppedThrough;
            bool done;
            chunk.Clear();
            lock (_gate)
            {
                droppedThrough = _droppedThrough;
                done = _completed;
                if (cursor >= droppedThrough)
                {
                    long start = Math.Max(0, _count - _ring.Length);
                    long i = FirstAfter(start, cursor);
                    for (; i < _count && chunk.Count < ReadChunk; i++)
                    {
                        var e = _ring[i & _mask];
                        chunk.Add(new RunEvent(e.Sequence, e.Type, e.Time, e.Payload()));
                    }

                    if (chunk.Count == 0 && !done)
                    {
                        _signal ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                        wait = _signal.Task;
                    }
                }
            }

            if (cursor < droppedThrough)
            {
                // Gone from the ring: the store has it (see remarks), or nobody does.
                var stored = _older?.Invoke(cursor, ReadChunk)
                    ?? throw new RunEventsLostException($"events after sequence {cursor} are no longer held (the run keeps the newest {_ring.Length:N0} in memory and is not recorded in a store); resume from {droppedThrough} or later");
                if (stored.Count == 0)
                {
                    throw new RunEventsLostException($"events after sequence {cursor} are neither in memory nor in the store");
                }

                foreach (var e in stored)
                {
                    yield return e;
                    cursor = e.Sequence;
                }

                continue;
            }

            foreach (var e in chunk)
            {
                yield return e;
                cursor = e.Sequence;
            }

            if (chunk.Count > 0)
            {
                continue;
            }

            if (done)
            {
                yield break;
            }

            await wait!.WaitAsync(ct).ConfigureAwait(false);
        }
    }

    private void Append(JournalEvent e)
    {
        TaskCompletionSource? signal;
        lock (_gate)
        {
            long slot = _count & _mask;
            if (_count >= _ring.Length)
            {
                _droppedThrough = _ring[slot].Sequence;
            }

            _ring[slot] = e;
            _count++;
            signal = _signal;
            _signal = null;
        }

        signal?.TrySetResult();
    }

    /// <summary>Index (in append order) of the first held event with a sequence above <paramref name="sequence"/>; sequences rise with the index.</summary>
    private long FirstAfter(long start, long sequence)
    {
        long lo = start, hi = _count;
        while (lo < hi)
        {
            long mid = lo + ((hi - lo) / 2);
            if (_ring[mid & _mask].Sequence <= sequence)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }
}
