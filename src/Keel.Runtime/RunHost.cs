using System.Collections.Concurrent;
using Keel.Domain;
using Keel.Domain.Orders;
using Keel.Engine.Kernel;
using Keel.Engine.Persistence;
using Keel.Runtime.Sessions;
using Keel.Storage;

namespace Keel.Runtime;

/// <summary>
/// Starts and resumes runs and holds them while they go: any number at once in one process, each on its own kernel
/// thread. Every host (the CLI, a server, the decision pipeline) starts runs here and talks to them through their
/// <see cref="RunHandle"/>.
/// </summary>
public sealed class RunHost(RunServices? services = null) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<RunHandle, byte> _runs = new();

    public RunServices Services { get; } = services ?? new RunServices();

    /// <summary>The runs this host started that have not ended yet.</summary>
    public IReadOnlyCollection<RunHandle> Runs => [.. _runs.Keys];

    /// <summary>
    /// Checks, records and starts a run; returns at once with its handle. A request a user got wrong (a missing file,
    /// an unknown strategy, a stake the instrument cannot trade) throws here, before anything is recorded.
    /// </summary>
    public RunHandle Start(RunSpec spec, IRunObserver? observer = null) => Launch(spec, null, observer);

    /// <summary>Continues a recorded run that stopped, crashed, failed or was paused, from its newest intact snapshot.</summary>
    public RunHandle Resume(RunRecord record, RunSpec spec, IRunObserver? observer = null) => Launch(spec, record, observer);

    /// <summary>Finds a recorded run by id or unique prefix and reads its stored specification.</summary>
    public static (RunRecord Run, RunSpec Spec) FindRecorded(string db, string idOrPrefix)
    {
        using var store = KeelStore.Open(db);
        var run = store.FindRun(idOrPrefix) ?? throw new UsageException($"no run {idOrPrefix} in {store.Describe}");
        return (run, RunSpecJson.Read(run.Spec, run.Id, db));
    }

    /// <summary>Stops every run (each snapshots and can be resumed) and waits for them to end.</summary>
    public async ValueTask DisposeAsync()
    {
        var runs = Runs;
        foreach (var run in runs)
        {
            run.Stop();
        }

        foreach (var run in runs)
        {
            try
            {
                await run.Completion.ConfigureAwait(false);
            }
            catch (Exception)
            {
                // The run's own failure belongs to whoever awaits its handle; disposing the host only ends it.
            }
        }
    }

    private RunHandle Launch(RunSpec spec, RunRecord? resume, IRunObserver? observer)
    {
        var handle = new RunHandle(spec, observer ?? SilentRunObserver.Instance);
        var prepared = RunService.Prepare(spec, resume, Services, handle.Observer);
        handle.Begin(prepared);
        _runs[handle] = 0;
        _ = handle.Completion.ContinueWith(_ => _runs.TryRemove(handle, out byte _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return handle;
    }
}

/// <summary>
/// A running run, as its host sees it: commands in (pause, resume, stop, reset the circuit breaker, submit and
/// cancel orders from outside the strategy), events out (an async stream per subscriber, resumable from a sequence),
/// its status and progress, and a task that completes when it ends.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "The stop source has no timer and holds nothing to release; a handle outlives its run so Stop() stays callable.")]
public sealed class RunHandle
{
    private readonly TaskCompletionSource<RunOutcome> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<Inbox> _attached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private RunEventLog _events = new(capacityPow2: 0); // replaced in Begin
    private PreparedRun? _run;
    private Alerts.AlertWatcher? _alerts;
    private int _status = (int)RunStatus.Created;
    private long _progressBits;
    private long _feedTicks;
    private Keel.Engine.Ports.FeedHealthSnapshot? _feedHealth;

    internal RunHandle(RunSpec spec, IRunObserver observer)
    {
        Spec = spec;
        Observer = new Tracking(this, observer);
    }

    public RunSpec Spec { get; }

    /// <summary>The run's id in the store; null when it is not recorded (<c>--db none</c>).</summary>
    public string? RunId => _run?.RunId;

    public RunStatus Status => (RunStatus)Volatile.Read(ref _status);

    /// <summary>How far through its data the run is, 0–100 (0 for a live feed).</summary>
    public double Progress => BitConverter.Int64BitsToDouble(Interlocked.Read(ref _progressBits));

    /// <summary>Ticks a live feed has handed the run so far (0 for a file): with <see cref="QueryAsync"/>, how a host knows the run has taken everything the feed delivered.</summary>
    public long FeedTicks => Interlocked.Read(ref _feedTicks);

    /// <summary>The live feed's health as it last reported it (null for a run on historical data, or before its feed reports).</summary>
    public Keel.Engine.Ports.FeedHealthSnapshot? FeedHealth => Volatile.Read(ref _feedHealth);

    /// <summary>Sequence number of the newest event so far.</summary>
    public long LastSequence => _events.LastSequence;

    /// <summary>Completes with the outcome when the run ends; faults with the error when it fails.</summary>
    public Task<RunOutcome> Completion => _completion.Task;

    internal IRunObserver Observer { get; }

    /// <summary>
    /// The run's events with a sequence above <paramref name="afterSequence"/>, then each new one as it happens, until
    /// the run ends. A subscriber that disconnects resumes with the last sequence it saw and misses nothing.
    /// </summary>
    public IAsyncEnumerable<RunEvent> Events(long afterSequence = 0, CancellationToken ct = default) =>
        _run is { Services.KeepEvents: false }
            ? throw new InvalidOperationException("this host does not keep run events (RunServices.KeepEvents is off)")
            : _events.ReadAsync(afterSequence, ct);

    /// <summary>
    /// Runs <paramref name="query"/> on the kernel's thread, after everything already in its inbox and between two inputs,
    /// and returns its result: a consistent read of the run's orders, positions and state. The query must only read,
    /// and quickly: the kernel waits for it. It is not an input (a live run does not journal it).
    /// </summary>
    public async Task<T> QueryAsync<T>(Func<TradingKernel, T> query, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        await PostAsync(InboxItem.ForCall(query, out var answer), ct).ConfigureAwait(false);
        if (await Task.WhenAny(answer, Completion).WaitAsync(ct).ConfigureAwait(false) != answer)
        {
            throw new InvalidOperationException($"run {RunId ?? Spec.Strategy} ended before it answered the query");
        }

        return await answer.ConfigureAwait(false);
    }

    public Task PauseAsync(CancellationToken ct = default) => PostAsync(InboxItem.ForCommand(KernelCommand.Pause), ct);

    public Task ResumeAsync(CancellationToken ct = default) => PostAsync(InboxItem.ForCommand(KernelCommand.Resume), ct);

    /// <summary>Lets new orders through again after an operator has looked at the errors that opened the breaker.</summary>
    public Task ResetCircuitBreakerAsync(CancellationToken ct = default) => PostAsync(InboxItem.ForCommand(KernelCommand.ResetCircuitBreaker), ct);

    /// <summary>Stops the run part-way, as Ctrl+C does: it snapshots and a recorded run can be resumed. A live feed ends and the run completes.</summary>
    public void Stop() => _stop.Cancel();

    /// <summary>
    /// An order from outside the strategy. It is journaled and passes the same validation, circuit breaker and risk
    /// gate as a strategy's intent; the result says what became of it (denied, submitted, accepted, filled…).
    /// </summary>
    public Task<ExternalOrderResult> SubmitOrderAsync(OrderRequest order, CancellationToken ct = default) =>
        SendAsync(ExternalOrderRequest.Submit(order), ct);

    /// <summary>Cancels a working order, through the same path as a strategy's cancel.</summary>
    public Task<ExternalOrderResult> CancelOrderAsync(ClientOrderId id, CancellationToken ct = default) =>
        SendAsync(ExternalOrderRequest.Cancel(id), ct);

    internal void Begin(PreparedRun run)
    {
        _run = run;
        if (!run.Services.KeepEvents)
        {
            // Nothing subscribes it to the bus: a one-entry ring instead of 4,096 empty entries (128 KB on the large object heap).
            _events = new RunEventLog(capacityPow2: 0);
        }
        else if (run.Store is not null && run.RunId is { } id)
        {
            _events = new RunEventLog((after, limit) => ReadStored(run.Spec.Db!, id, after, limit), run.Services.EventsHeldPow2);
        }
        else
        {
            _events = new RunEventLog(capacityPow2: run.Services.EventsHeldPow2);
        }

        if (run.Services.Alerts is { } alerts && run.Wiring.SendsAlerts)
        {
            _alerts = new Alerts.AlertWatcher(alerts, run.RunId ?? "unrecorded");
        }

        var thread = new Thread(Run) { IsBackground = true, Name = $"keel-run-{run.RunId ?? "unrecorded"}" };
        thread.Start();
    }

    private static IReadOnlyList<RunEvent> ReadStored(string db, string runId, long after, int limit)
    {
        // Its own connection: the run's store belongs to the kernel and journal threads.
        using var store = KeelStore.Open(db);
        return [.. store.ReadEvents(runId, after, limit).Select(e => new RunEvent(e.Sequence, e.Type, e.Time, e.Payload))];
    }

    private void Run()
    {
        var run = _run!;
        var link = new SessionLink
        {
            Attached = (inbox, bus, kernel) =>
            {
                if (run.Services.KeepEvents)
                {
                    bus.Subscribe<OrderUpdate>(_events, "events");
                    bus.Subscribe<KernelNotice>(_events, "events");
                    bus.Subscribe<KernelStateChanged>(_events, "events");
                }

                if (_alerts is not null)
                {
                    bus.Subscribe<OrderUpdate>(_alerts, "alerts");
                    bus.Subscribe<KernelNotice>(_alerts, "alerts");
                }

                SetStatus(kernel.State == KernelState.Paused ? RunStatus.Paused : RunStatus.Running);
                _attached.TrySetResult(inbox);
            },
            AfterItem = kernel => SetStatus(kernel.State == KernelState.Paused ? RunStatus.Paused : RunStatus.Running),
        };
        try
        {
            var outcome = RunService.Execute(run, link, _stop.Token);
            SetStatus(outcome.End switch
            {
                RunEnd.Stopped => RunStatus.Stopped,
                RunEnd.Halted => RunStatus.Halted,
                _ => RunStatus.Completed,
            });
            Finish();
            _completion.TrySetResult(outcome);
        }
        catch (OperationCanceledException ex)
        {
            SetStatus(RunStatus.Stopped);
            Finish();
            _completion.TrySetCanceled(ex.CancellationToken);
        }
        catch (Exception ex)
        {
            _alerts?.Failed(ex.Message, Timestamp.FromDateTimeOffset(run.Services.Time.GetUtcNow()));
            SetStatus(RunStatus.Failed);
            Finish();
            _completion.TrySetException(ex);
        }
    }

    private void Finish()
    {
        _events.Complete();
        _attached.TrySetCanceled();
        _run?.Dispose();
    }

    private void SetStatus(RunStatus status) => Volatile.Write(ref _status, (int)status);

    private async Task PostAsync(InboxItem item, CancellationToken ct)
    {
        var inbox = await AttachedAsync(ct).ConfigureAwait(false);
        await inbox.WriteAsync(item, ct).ConfigureAwait(false);
    }

    private async Task<ExternalOrderResult> SendAsync(ExternalOrderRequest request, CancellationToken ct)
    {
        var inbox = await AttachedAsync(ct).ConfigureAwait(false);
        await inbox.WriteAsync(InboxItem.ForExternal(request), ct).ConfigureAwait(false);

        // The run may end with the request still in its inbox; then nobody will answer it.
        var done = await Task.WhenAny(request.Result, Completion).WaitAsync(ct).ConfigureAwait(false);
        if (done != request.Result)
        {
            request.Abandon("the run ended before it took the order");
        }

        return await request.Result.ConfigureAwait(false);
    }

    private async Task<Inbox> AttachedAsync(CancellationToken ct)
    {
        try
        {
            return await _attached.Task.WaitAsync(ct).ConfigureAwait(false);
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new InvalidOperationException($"run {RunId ?? Spec.Strategy} has ended; it takes no more commands");
        }
    }

    /// <summary>Records progress for <see cref="Progress"/> on the way to the host's own observer.</summary>
    private sealed class Tracking(RunHandle handle, IRunObserver inner) : IRunObserver
    {
        public void Recorded(string runId) => inner.Recorded(runId);

        public void Warning(string message) => inner.Warning(message);

        public void Note(string message) => inner.Note(message);

        public void Resuming(string message) => inner.Resuming(message);

        public void FeedTick()
        {
            Interlocked.Increment(ref handle._feedTicks);
            inner.FeedTick();
        }

        public void FeedHealth(Keel.Engine.Ports.FeedHealthSnapshot health)
        {
            Volatile.Write(ref handle._feedHealth, health);
            handle._alerts?.Feed(health, Timestamp.FromDateTimeOffset(handle._run?.Services.Time.GetUtcNow() ?? DateTimeOffset.UnixEpoch));
            inner.FeedHealth(health);
        }

        public void Progress(long done, long total)
        {
            Interlocked.Exchange(ref handle._progressBits, BitConverter.DoubleToInt64Bits(total > 0 ? Math.Round(100.0 * done / total, 2) : 0));
            inner.Progress(done, total);
        }
    }
}
