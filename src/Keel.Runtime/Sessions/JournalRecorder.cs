using System.Collections.Concurrent;
using Keel.Engine.Analytics;
using Keel.Engine.Kernel;
using Keel.Engine.Persistence;

namespace Keel.Runtime.Sessions;

/// <summary>
/// Collects journal records on the kernel thread and writes them on a background thread, in order, in batches of
/// <c>batchSize</c> records (fewer, larger transactions). <see cref="Flush"/> waits until everything handed over is committed.
/// </summary>
public sealed class JournalRecorder : IEventHandler<OrderUpdate>, IEventHandler<FillBooked>, IEventHandler<KernelNotice>, IEventHandler<KernelStateChanged>, IDisposable
{
    private readonly IRunJournal _journal;
    private readonly string _runId;
    private readonly int _batchSize;
    private readonly BlockingCollection<JournalBatch> _queue = new(2);
    private readonly ConcurrentQueue<JournalBatch> _free = new();
    private readonly Thread _thread;
    private readonly object _gate = new();
    private JournalBatch _current;
    private long _handed;
    private long _written;
    private Exception? _error;
    private List<(long Ticket, TaskCompletionSource Done)>? _waiters;

    public JournalRecorder(IRunJournal journal, string runId, int batchSize = 4096)
    {
        _journal = journal;
        _runId = runId;
        _batchSize = batchSize;
        _current = new JournalBatch(runId);
        _thread = new Thread(Run) { IsBackground = true, Name = "keel-journal" };
        _thread.Start();
    }

    private bool _suspended;

    public JournalBatch Current => _current;

    /// <summary>Order events journaled so far (a live session snapshots when it changes).</summary>
    public long OrderUpdates { get; private set; }

    /// <summary>
    /// Stops recording: later events are not journaled. Used when a run stops part-way, so the journal ends exactly at
    /// its last snapshot and a resume writes what follows.
    /// </summary>
    public void Suspend()
    {
        // Orders noted in the current batch are copied now: what the kernel does after this point is not journaled.
        _current.Seal();
        _suspended = true;
    }

    public void Handle(in OrderUpdate evt, long sequence)
    {
        if (_suspended)
        {
            return;
        }

        _current.Events.Add(new JournalEvent(sequence, JournalEventTypes.Of(evt.Event), evt.Event.TsEvent, evt.Event));
        _current.SetOrder(evt.Order, sequence);
        OrderUpdates++;
        HandIfFull();
    }

    public void Handle(in FillBooked evt, long sequence)
    {
        if (_suspended)
        {
            return;
        }

        var p = evt.Position;
        _current.Fills.Add(new FillRecord(evt.Fill, sequence, evt.Effect.RealizedPnl, p.Quantity));
        _current.SetPosition(new PositionRecord(p.Instrument, p.Quantity, p.CostBasis, p.RealizedPnl, p.Commissions, p.LastPrice, evt.Fill.TsEvent));
        HandIfFull();
    }

    public void Handle(in KernelNotice evt, long sequence)
    {
        if (_suspended)
        {
            return;
        }

        _current.Events.Add(new JournalEvent(sequence, $"notice.{evt.Code}", evt.Time, evt));
        HandIfFull();
    }

    public void Handle(in KernelStateChanged evt, long sequence)
    {
        if (_suspended)
        {
            return;
        }

        _current.Events.Add(new JournalEvent(sequence, "kernel.state", evt.Time, evt));
        HandIfFull();
    }

    /// <summary>A closed trade for the trade journal.</summary>
    public void OnTrade(Trade trade)
    {
        if (_suspended)
        {
            return;
        }

        _current.Trades.Add(trade);
        HandIfFull();
    }

    /// <summary>
    /// Hands the current batch to the writer thread. Returns its ticket: once <see cref="WhenWritten"/> of it completes,
    /// everything journaled before this call is committed (an empty batch hands nothing and returns the last ticket).
    /// </summary>
    public long Hand()
    {
        ThrowIfFailed();
        if (_current.IsEmpty)
        {
            lock (_gate)
            {
                return _handed;
            }
        }

        long ticket;
        lock (_gate)
        {
            ticket = ++_handed;
        }

        _current.Seal();
        _queue.Add(_current);
        _current = _free.TryDequeue(out var reused) ? reused : new JournalBatch(_runId);
        return ticket;
    }

    /// <summary>
    /// Completes when the batch of <paramref name="ticket"/> (and every one before it) is committed; faults with the
    /// journal's error when writing failed. Used to send an order only after its intent is durable.
    /// </summary>
    public Task WhenWritten(long ticket)
    {
        lock (_gate)
        {
            if (_error is not null)
            {
                return Task.FromException(Failure());
            }

            if (_written >= ticket)
            {
                return Task.CompletedTask;
            }

            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            (_waiters ??= []).Add((ticket, done));
            return done.Task;
        }
    }

    /// <summary>Hands the current batch and waits until every batch is committed; rethrows a write error.</summary>
    public void Flush()
    {
        Hand();
        lock (_gate)
        {
            while (_written < _handed && _error is null)
            {
                Monitor.Wait(_gate);
            }
        }

        ThrowIfFailed();
    }

    public void ThrowIfFailed()
    {
        if (_error is not null)
        {
            throw Failure();
        }
    }

    private JournalException Failure() => _error as JournalException ?? new JournalException(
        _error!.Message.Contains(_journal.Describe, StringComparison.Ordinal) ? _error.Message : $"{_journal.Describe}: {_error.Message}", _error);

    public void Dispose()
    {
        _queue.CompleteAdding();
        _thread.Join();
        _queue.Dispose();
        lock (_gate)
        {
            // Nothing more will be written: a send still waiting for its batch must not go out.
            _waiters?.ForEach(w => w.Done.TrySetException(new JournalException($"{_journal.Describe}: the journal closed before the batch was written")));
            _waiters = null;
        }
    }

    /// <summary>Hands the current batch when it is full (callers that add records to <see cref="Current"/> themselves).</summary>
    public void HandIfFull()
    {
        if (_current.Count >= _batchSize)
        {
            Hand();
        }
    }

    private void Run()
    {
        foreach (var batch in _queue.GetConsumingEnumerable())
        {
            if (_error is null)
            {
                try
                {
                    _journal.Write(batch);
                    if (_journal.ReleasesBatches && _free.Count < 4)
                    {
                        batch.Clear();
                        _free.Enqueue(batch);
                    }
                }
                catch (Exception ex)
                {
                    _error = ex;
                }
            }

            lock (_gate)
            {
                _written++;
                Monitor.PulseAll(_gate);
                if (_waiters is { Count: > 0 } waiters)
                {
                    for (int i = waiters.Count - 1; i >= 0; i--)
                    {
                        var (ticket, done) = waiters[i];
                        if (_error is not null)
                        {
                            done.TrySetException(Failure());
                            waiters.RemoveAt(i);
                        }
                        else if (_written >= ticket)
                        {
                            done.TrySetResult();
                            waiters.RemoveAt(i);
                        }
                    }
                }
            }
        }
    }
}
