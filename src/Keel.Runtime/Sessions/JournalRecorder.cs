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
    private readonly Thread _thread;
    private readonly object _gate = new();
    private JournalBatch _current;
    private long _handed;
    private long _written;
    private Exception? _error;

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

    /// <summary>
    /// Stops recording: later events are not journaled. Used when a run stops part-way, so the journal ends exactly at
    /// its last snapshot and a resume writes what follows.
    /// </summary>
    public void Suspend() => _suspended = true;

    public void Handle(in OrderUpdate evt, long sequence)
    {
        if (_suspended)
        {
            return;
        }

        _current.Events.Add(new JournalEvent(sequence, JournalEventTypes.Of(evt.Event), evt.Event.TsEvent, evt.Event));
        _current.SetOrder(OrderRecord.Of(evt.Order));
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

    /// <summary>Hands the current batch to the writer thread.</summary>
    public void Hand()
    {
        ThrowIfFailed();
        if (_current.IsEmpty)
        {
            return;
        }

        lock (_gate)
        {
            _handed++;
        }

        _queue.Add(_current);
        _current = new JournalBatch(_runId);
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
            throw _error as JournalException ?? new JournalException(
                _error.Message.Contains(_journal.Describe, StringComparison.Ordinal) ? _error.Message : $"{_journal.Describe}: {_error.Message}", _error);
        }
    }

    public void Dispose()
    {
        _queue.CompleteAdding();
        _thread.Join();
        _queue.Dispose();
    }

    private void HandIfFull()
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
            }
        }
    }
}
