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
/// The ring is small on purpose (4,096 events of plain structs, no allocation per event): a larger one kept every
/// order event of a backtest alive long enough to be promoted by the GC, which cost a 1M-bar backtest 90 ms and 28 MB.
/// An event can leave the ring before the journal writer has committed it; a subscriber that needs it then waits for
/// the next event (or the end of the run) and asks the store again, so it still misses nothing.
/// </remarks>
public sealed class RunEventLog : IEventHandler<OrderUpdate>, IEventHandler<KernelNotice>, IEventHandler<KernelStateChanged>
{
    private const int ReadChunk = 1024;
    private readonly Entry[] _ring;
    private readonly int _mask;
    private readonly object _gate = new();
    private readonly Func<long, int, IReadOnlyList<RunEvent>>? _older;
    private long _count;
    private long _droppedThrough = -1;
    private TaskCompletionSource? _signal;
    private bool _completed;

    /// <param name="older">Reads stored events after a sequence (at most a limit); null when the run is not recorded.</param>
    /// <param name="capacityPow2">The ring holds 2^n events.</param>
    public RunEventLog(Func<long, int, IReadOnlyList<RunEvent>>? older = null, int capacityPow2 = 12)
    {
        _ring = new Entry[1 << capacityPow2];
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

    public void Handle(in OrderUpdate evt, long sequence) => Append(new Entry(sequence, JournalEventTypes.Of(evt.Event), evt.Event.TsEvent, evt.Event));

    public void Handle(in KernelNotice evt, long sequence) => Append(new Entry(sequence, null, evt.Time, evt));

    public void Handle(in KernelStateChanged evt, long sequence) => Append(new Entry(sequence, "kernel.state", evt.Time, evt));

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
                        chunk.Add(new RunEvent(e.Sequence, e.Type ?? $"notice.{((KernelNotice)e.Source).Code}", e.Time, JournalPayload.Format(e.Source)));
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
                // Gone from the ring: the store has it, or will once the journal writer commits it.
                if (_older is null)
                {
                    throw new RunEventsLostException($"events after sequence {cursor} are no longer held (the run keeps the newest {_ring.Length:N0} in memory and is not recorded in a store); resume from {droppedThrough} or later");
                }

                Task? next = null;
                lock (_gate)
                {
                    if (!_completed)
                    {
                        _signal ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                        next = _signal.Task;
                    }
                }

                var stored = _older(cursor, ReadChunk);
                foreach (var e in stored)
                {
                    yield return e;
                    cursor = e.Sequence;
                }

                if (stored.Count == 0)
                {
                    if (next is null)
                    {
                        throw new RunEventsLostException($"events after sequence {cursor} are neither in memory nor in the store");
                    }

                    // Not committed yet: the journal catches up as the run goes on; look again after the next event.
                    await next.WaitAsync(ct).ConfigureAwait(false);
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

    private void Append(in Entry e)
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

    /// <summary>A held event: its payload is formatted only when a subscriber reads it.</summary>
    private readonly record struct Entry(long Sequence, string? Type, Timestamp Time, object Source);
}
