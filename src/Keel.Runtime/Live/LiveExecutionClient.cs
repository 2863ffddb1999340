using System.Threading.Channels;
using Keel.Domain;
using Keel.Domain.Events;
using Keel.Domain.Orders;
using Keel.Engine.Kernel;
using Keel.Engine.Ports;
using Keel.Runtime.Sessions;
using Microsoft.Extensions.Logging;

namespace Keel.Runtime.Live;

/// <summary>Settings of a <see cref="LiveExecutionClient"/> (from the run's <see cref="LiveSettings"/>; tests shorten the times).</summary>
public sealed record LiveExecutionOptions
{
    /// <summary>Time between reconciliations while the run trades.</summary>
    public TimeSpan ReconcileEvery { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>An order whose answer was lost and which the venue does not show may be sent again (once) after this long.</summary>
    public TimeSpan ResendAfter { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How soon after a lost answer the client looks the order up.</summary>
    public TimeSpan LookupDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Attempts for a request the venue refused for its rate limit (nothing was placed, so trying again is safe).</summary>
    public int RateLimitAttempts { get; init; } = 5;

    /// <summary>First back-off after a rate-limited answer without Retry-After; doubles each time.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Adopt the venue's state when it differs in a way Keel cannot explain, instead of stopping.</summary>
    public bool Adopt { get; init; }

    /// <summary>Cancel the run's working orders when it stops.</summary>
    public bool CancelOnStop { get; init; }

    /// <summary>
    /// A crash drill: called with <c>before-send</c> or <c>after-send</c> and the request's number (1, 2, … in this
    /// process) just before a request leaves and just after its answer came, before the answer is recorded. The crash
    /// tests kill the process there (<c>KEEL_CRASH_DRILL=before-send:3</c>); null in normal runs.
    /// </summary>
    public Action<string, long>? Drill { get; init; }

    /// <summary>How long a stopping run waits for its last requests (cancels) to be answered.</summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(4);

    public static LiveExecutionOptions From(LiveSettings? settings) => settings is null ? new() : new()
    {
        ReconcileEvery = TimeSpan.FromSeconds(settings.ReconcileSeconds),
        ResendAfter = TimeSpan.FromSeconds(settings.ResendAfterSeconds),
        Adopt = settings.Adopt,
        CancelOnStop = settings.CancelOnStop,
    };
}

/// <summary>
/// The kernel's execution venue in a live run: it stands between the synchronous kernel and an asynchronous
/// <see cref="IVenuePort"/> (Alpaca, OANDA, the simulated venue).
/// <list type="bullet">
/// <item><b>Journal before send.</b> A command the kernel gives is held until the end of the inbox item, then queued
/// with the ticket of the journal batch that holds its order's <c>submitted</c> event; the sender sends it only once
/// that batch is committed. A crash before the commit loses an intent nobody saw; after it, a restart finds the order
/// in the journal and looks it up at the venue.</item>
/// <item><b>Answers are events.</b> The venue's answer goes into the kernel's inbox as an order event (accepted with the
/// venue's id, rejected with its code, <see cref="OrderStatusUnknown"/> when the answer was lost), so it is journaled and
/// replayed like any input. A lost answer is never taken for a rejection: the order stays UNKNOWN until a reconciliation
/// finds it, or finds for sure that it never arrived.</item>
/// <item><b>Reconciliation</b> (<see cref="LiveReconciler"/>) at start, every <see cref="LiveExecutionOptions.ReconcileEvery"/>
/// and soon after a lost answer.</item>
/// </list>
/// </summary>
public sealed partial class LiveExecutionClient : IExecutionVenue, ISessionVenueHooks, IAsyncDisposable
{
    private readonly IVenuePort _port;
    private readonly LiveExecutionOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly string _runId;
    private readonly List<object> _held = [];
    private readonly Channel<Outgoing> _outbox = Channel.CreateUnbounded<Outgoing>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<ClientOrderId, long> _sentAt = [];
    private readonly HashSet<ClientOrderId> _inFlight = [];
    private readonly Dictionary<ClientOrderId, int> _resent = [];
    private int _portReleased;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _reconcileSoon = new(0, 1);
    private Inbox? _inbox;
    private JournalRecorder? _journal;
    private InboxItemObserver? _recordInput;
    private Task? _sender;
    private Task? _reconciling;
    private bool _stopped;

    public LiveExecutionClient(IVenuePort port, LiveExecutionOptions options, string runId, TimeProvider? time = null, ILogger? logger = null)
    {
        _port = port;
        _options = options;
        _runId = runId;
        _time = time ?? TimeProvider.System;
        _log = logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        Reconciler = new LiveReconciler(this);
    }

    public string Name => _port.Name;

    /// <summary>The port this client sends through.</summary>
    public IVenuePort Port => _port;

    /// <summary>Reconciles the kernel with the venue.</summary>
    public LiveReconciler Reconciler { get; }

    /// <summary>Requests sent, for tests and benchmarks.</summary>
    public long Sent { get; private set; }

    internal LiveExecutionOptions Options => _options;

    internal TimeProvider Time => _time;

    internal ILogger Log => _log;

    internal string RunId => _runId;

    // ---- IExecutionVenue: the kernel thread. Nothing leaves before the end of the item. ----

    public void Submit(SubmitOrder command) => _held.Add(command);

    public void SubmitList(SubmitOrderList command) => _held.Add(command);

    public void Cancel(CancelOrder command) => _held.Add(command);

    public void Replace(ReplaceOrder command) => _held.Add(command);

    // ---- ISessionVenueHooks ----

    public void Attach(Inbox inbox, JournalRecorder? journal, TradingKernel kernel, InboxItemObserver? recordInput)
    {
        _inbox = inbox;
        _journal = journal;
        _recordInput = recordInput;
    }

    /// <summary>
    /// Hands the kernel an event found by reconciliation, on the kernel thread, journaled as an input first like
    /// everything the kernel takes — so a replay of the session applies it at the same point.
    /// </summary>
    internal void Apply(TradingKernel kernel, OrderEvent e)
    {
        _recordInput?.Invoke(InboxItem.ForOrderEvent(e));
        kernel.ProcessVenueEvent(e);
    }

    /// <summary>Makes a reconciliation's change on the kernel thread, journaled as an input first so a replay makes it at the same point.</summary>
    internal void Adjust(TradingKernel kernel, KernelAdjustment adjustment)
    {
        _recordInput?.Invoke(InboxItem.ForAdjustment(adjustment));
        adjustment.ApplyTo(kernel);
    }

    public void Start(TradingKernel kernel, CancellationToken ct)
    {
        _ = _inbox ?? throw new InvalidOperationException("the live execution client was not attached to a session");

        // Commands given while the session re-ran its journal (a restart) are not sent as they are: the start
        // reconciliation looks every unanswered order up and sends it once if the venue never got it. A cancel may be
        // asked again safely, so cancels go out.
        _held.RemoveAll(c => c is not CancelOrder);
        _port.ConnectAsync(new InboxSink(this), ct).GetAwaiter().GetResult();

        // Before the first trade: what the venue holds against what the run holds (after a resume, its snapshot).
        Reconciler.ReconcileAtStart(kernel, ct);
        AfterItem(kernel);

        // What the start reconciliation applied is on record before the first trade.
        _journal?.Hand();
        _sender = Task.Run(SendLoop, CancellationToken.None);
        _reconciling = Task.Run(ReconcileLoop, CancellationToken.None);
    }

    public void AfterItem(TradingKernel kernel)
    {
        if (_held.Count == 0)
        {
            return;
        }

        // Everything the kernel journaled for this item goes to the writer now; its commands wait for that batch.
        long ticket = _journal?.Hand() ?? 0;
        foreach (var command in _held)
        {
            // From here until its answer the order is in flight: no reconciliation may send it again meanwhile, however
            // long the journal or the venue takes (a venue that does not deduplicate would place it twice).
            foreach (var id in Submitted(command))
            {
                MarkInFlight(id);
            }

            _outbox.Writer.TryWrite(new Outgoing(command, ticket));
        }

        _held.Clear();
    }

    public void Stop(TradingKernel kernel)
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        if (_options.CancelOnStop && _sender is not null)
        {
            int asked = kernel.CancelOpenOrders();
            if (asked > 0)
            {
                LiveLog.CancellingOnStop(_log, _runId, asked);
            }
        }

        AfterItem(kernel);
        _outbox.Writer.TryComplete();
        try
        {
            // The last requests (cancels) get their deadline; what is left is found by the next start's reconciliation.
            _sender?.Wait(_options.StopTimeout);
        }
        catch (AggregateException)
        {
            // Logged by the sender.
        }

        _stopping.Cancel();
        try
        {
            _reconciling?.Wait(_options.StopTimeout);
        }
        catch (AggregateException)
        {
        }

        try
        {
            _port.DisconnectAsync(CancellationToken.None).Wait(_options.StopTimeout);
        }
        catch (AggregateException ex)
        {
            LiveLog.DisconnectFailed(_log, _runId, _port.Name, ex.InnerException?.Message ?? ex.Message);
        }

        // Nothing of this session may reach the venue any more (a request waiting to be retried, a stream reconnecting):
        // the port goes with the session. Then another run (or this one, resumed) may take the account.
        ReleasePort();
        AccountLock?.Dispose();
    }

    private void ReleasePort()
    {
        if (Interlocked.Exchange(ref _portReleased, 1) != 0)
        {
            return;
        }

        try
        {
            _port.DisposeAsync().AsTask().Wait(_options.StopTimeout);
        }
        catch (AggregateException ex)
        {
            LiveLog.DisconnectFailed(_log, _runId, _port.Name, ex.InnerException?.Message ?? ex.Message);
        }
    }

    /// <summary>The fill watermark reached, kept in the run's snapshots so a restart asks the venue only for newer fills.</summary>
    public string? CaptureState() => Reconciler.Watermark?.Value;

    public void RestoreState(string? state) => Reconciler.Watermark = state is null ? null : new VenueWatermark(state);

    /// <summary>The run's hold on its venue account (<see cref="Live.AccountLock"/>), released with the client.</summary>
    internal AccountLock? AccountLock { get; init; }

    public async ValueTask DisposeAsync()
    {
        _outbox.Writer.TryComplete();
        _stopping.Cancel();
        if (Interlocked.Exchange(ref _portReleased, 1) == 0)
        {
            await _port.DisposeAsync().ConfigureAwait(false);
        }

        AccountLock?.Dispose();
        _stopping.Dispose();
        _reconcileSoon.Dispose();
    }

    /// <summary>Asks for a reconciliation soon (a lost answer, a reconnect); several requests make one.</summary>
    public void ReconcileSoon()
    {
        try
        {
            if (_reconcileSoon.CurrentCount == 0)
            {
                _reconcileSoon.Release();
            }
        }
        catch (SemaphoreFullException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>How many times an order the venue does not have is sent again before Keel leaves it to the operator.</summary>
    internal const int MaxResends = 5;

    /// <summary>
    /// Sends an order the venue does not have again, under its own client id (the venue refuses a second order with it):
    /// after a restart (its journal says it was submitted, the venue has never seen it) or after a lost answer the venue
    /// still does not show <see cref="LiveExecutionOptions.ResendAfter"/> after the last attempt ended, never while one is in
    /// flight (queued behind the journal or waiting for its answer). Each time the venue was
    /// asked first; at most <see cref="MaxResends"/> times (a venue that keeps failing is then the operator's: the order
    /// stays unknown and every round says so). Returns false when it may not go. Called on the kernel thread.
    /// </summary>
    internal bool TryResend(Order order)
    {
        int sent = _resent.GetValueOrDefault(order.Id);
        if (sent >= MaxResends)
        {
            return false;
        }

        lock (_sentAt)
        {
            if (_inFlight.Contains(order.Id) || (_sentAt.TryGetValue(order.Id, out long at) && _time.GetElapsedTime(at) < _options.ResendAfter))
            {
                return false;
            }
        }

        _resent[order.Id] = sent + 1;
        _held.Add(SubmitOrder.From(order, Timestamp.FromDateTimeOffset(_time.GetUtcNow())));
        LiveLog.Resending(_log, _runId, order.Id.Value, _port.Name);
        return true;
    }

    /// <summary>Posts a venue fact into the kernel's inbox (from any thread); it becomes a journaled input.</summary>
    internal void Post(OrderEvent e)
    {
        if (_inbox is { } inbox && !inbox.TryWrite(InboxItem.ForOrderEvent(e)))
        {
            try
            {
                inbox.Write(InboxItem.ForOrderEvent(e), _stopping.Token);
            }
            catch (OperationCanceledException)
            {
                // The run is stopping: the next start's reconciliation finds what this said.
            }
        }
    }

    /// <summary>Runs <paramref name="call"/> on the kernel thread, between two events, and returns its result.</summary>
    internal Task<T> OnKernel<T>(Func<TradingKernel, T> call)
    {
        var item = InboxItem.ForCall(call, out var answer);
        if (_inbox is not { } inbox)
        {
            return Task.FromException<T>(new InvalidOperationException("not attached"));
        }

        if (!inbox.TryWrite(item))
        {
            var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
            _ = inbox.WriteAsync(item, _stopping.Token).AsTask().ContinueWith(t => done.TrySetCanceled(), TaskContinuationOptions.NotOnRanToCompletion | TaskContinuationOptions.ExecuteSynchronously);
            _ = answer.ContinueWith(t => done.TrySetFromTask(t), TaskContinuationOptions.ExecuteSynchronously);
            return done.Task;
        }

        return answer;
    }

    private Timestamp Now() => Timestamp.FromDateTimeOffset(_time.GetUtcNow());

    private async Task SendLoop()
    {
        var ct = _stopping.Token;
        try
        {
            await foreach (var o in _outbox.Reader.ReadAllAsync(ct).ConfigureAwait(false))
            {
                if (_journal is not null && o.Ticket > 0)
                {
                    // Journal before send: the order's submitted event must be durable before the venue sees the order.
                    await _journal.WhenWritten(o.Ticket).WaitAsync(ct).ConfigureAwait(false);
                }

                await SendOne(o.Command, ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            // The journal failed: nothing more may be sent (the kernel stops the run on the same error).
            LiveLog.SenderStopped(_log, _runId, ex.Message);
        }
    }

    private long _requests;

    private async Task SendOne(object command, CancellationToken ct)
    {
        long n = ++_requests;
        _options.Drill?.Invoke("before-send", n);
        switch (command)
        {
            case SubmitOrder s:
                Answer([s.ClientOrderId], Drilled(n, await WithRateLimit(c => _port.SubmitAsync(s, c), ct).ConfigureAwait(false)), single: true);
                break;
            case SubmitOrderList l:
                Answer([.. l.Orders.Select(o => o.ClientOrderId)], Drilled(n, await WithRateLimit(c => _port.SubmitListAsync(l, c), ct).ConfigureAwait(false)), single: false);
                break;
            case ReplaceOrder r:
                Answer([r.Replacement.ClientOrderId], Drilled(n, await WithRateLimit(c => _port.ReplaceAsync(r, c), ct).ConfigureAwait(false)), single: true);
                break;
            case CancelOrder c:
                var outcome = Drilled(n, await WithRateLimit(x => _port.CancelAsync(c, x), ct).ConfigureAwait(false));
                Sent++;
                if (_log.IsEnabled(LogLevel.Debug))
                {
                    LiveLog.Answered(_log, _runId, "cancel", c.ClientOrderId.Value, outcome.Kind, outcome.RequestId ?? "-");
                }

                switch (outcome.Kind)
                {
                    case VenueOutcomeKind.Accepted:
                        break;
                    case VenueOutcomeKind.Unknown:
                        // A cancel may be asked again safely; the next reconciliation sees whether it is still working.
                        ReconcileSoon();
                        break;
                    default:
                        Post(new OrderCancelRejected(c.ClientOrderId, Describe(outcome), Now(), Now()));
                        ReconcileSoon();
                        break;
                }

                break;
        }
    }

    private VenueOutcome Drilled(long n, VenueOutcome outcome)
    {
        _options.Drill?.Invoke("after-send", n);
        return outcome;
    }

    private void MarkInFlight(ClientOrderId id)
    {
        lock (_sentAt)
        {
            _inFlight.Add(id);
        }
    }

    /// <summary>The request for the order was answered (or its answer lost): a resend waits <see cref="LiveExecutionOptions.ResendAfter"/> from now.</summary>
    private void MarkAnswered(IReadOnlyList<ClientOrderId> ids)
    {
        lock (_sentAt)
        {
            long now = _time.GetTimestamp();
            foreach (var id in ids)
            {
                _inFlight.Remove(id);
                _sentAt[id] = now;
            }
        }
    }

    private static IEnumerable<ClientOrderId> Submitted(object command) => command switch
    {
        SubmitOrder s => [s.ClientOrderId],
        SubmitOrderList l => l.Orders.Select(o => o.ClientOrderId),
        ReplaceOrder r => [r.Replacement.ClientOrderId],
        _ => [],
    };

    private void Answer(IReadOnlyList<ClientOrderId> ids, VenueOutcome outcome, bool single)
    {
        MarkAnswered(ids);
        Sent++;
        if (_log.IsEnabled(LogLevel.Debug))
        {
            LiveLog.Answered(_log, _runId, "submit", ids[0].Value, outcome.Kind, outcome.RequestId ?? "-");
        }

        var now = Now();
        switch (outcome.Kind)
        {
            case VenueOutcomeKind.Accepted:
                if (single && outcome.VenueOrderId is { } venueId)
                {
                    // The stream says so too; the kernel books whichever comes first and drops the other.
                    Post(new OrderAccepted(ids[0], venueId, now, now));
                }

                break;
            case VenueOutcomeKind.Unknown:
                foreach (var id in ids)
                {
                    Post(new OrderStatusUnknown(id, $"{_port.Name}: {outcome.Reason ?? "no answer"}; looking it up", now, now));
                }

                LiveLog.AnswerLost(_log, _runId, ids[0].Value, _port.Name, outcome.Reason ?? "no answer");
                ReconcileSoon();
                break;
            default:
                foreach (var id in ids)
                {
                    Post(new OrderRejected(id, Describe(outcome), now, now));
                }

                break;
        }
    }

    private string Describe(VenueOutcome outcome)
    {
        var reason = outcome.Kind switch
        {
            VenueOutcomeKind.RateLimited => $"rate limited after {_options.RateLimitAttempts} attempts",
            VenueOutcomeKind.InsufficientFunds => $"insufficient funds: {outcome.Reason}",
            _ => outcome.Reason ?? outcome.Kind.ToString(),
        };
        return outcome.VenueCode is { Length: > 0 } code ? $"{_port.Name} {code}: {reason}" : $"{_port.Name}: {reason}";
    }

    /// <summary>A rate-limited request placed nothing: it is sent again after the venue's wait (or a doubling back-off).</summary>
    private async Task<VenueOutcome> WithRateLimit(Func<CancellationToken, Task<VenueOutcome>> send, CancellationToken ct)
    {
        var delay = _options.RetryDelay;
        for (int attempt = 1; ; attempt++)
        {
            var outcome = await send(ct).ConfigureAwait(false);
            if (outcome.Kind != VenueOutcomeKind.RateLimited || attempt >= _options.RateLimitAttempts)
            {
                return outcome;
            }

            var wait = outcome.RetryAfter is { } after && after > delay ? after : delay;
            LiveLog.RateLimited(_log, _runId, _port.Name, wait.TotalSeconds);
            await Task.Delay(wait, _time, ct).ConfigureAwait(false);
            delay *= 2;
        }
    }

    private async Task ReconcileLoop()
    {
        var ct = _stopping.Token;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                bool soon = await _reconcileSoon.WaitAsync(_options.ReconcileEvery, ct).ConfigureAwait(false);
                if (soon)
                {
                    // Give a lost answer's order a moment to show at the venue.
                    await Task.Delay(_options.LookupDelay, _time, ct).ConfigureAwait(false);
                }

                await Reconciler.ReconcileAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // A venue that does not answer now is asked again at the next round; nothing is assumed meanwhile.
                LiveLog.ReconcileFailed(_log, _runId, _port.Name, ex.Message);
            }
        }
    }

    private readonly record struct Outgoing(object Command, long Ticket);

    /// <summary>The venue's stream writes its order events into the kernel's inbox, as the client's own answers do.</summary>
    private sealed class InboxSink(LiveExecutionClient client) : IOrderEventSink
    {
        public void OnOrderEvent(OrderEvent orderEvent) => client.Post(orderEvent);
    }
}
