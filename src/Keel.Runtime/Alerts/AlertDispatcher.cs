using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Keel.Runtime.Alerts;

/// <summary>
/// Delivers alerts to their sinks on a background task, so a slow or dead endpoint never slows a run: runs post into
/// a bounded queue (<see cref="Post"/> never blocks; when the queue is full the oldest alert is dropped and counted),
/// and each alert is tried on every sink, transient failures again with back-off (or after the endpoint's
/// <c>retry_after</c>), up to <see cref="AlertDispatcherOptions.Attempts"/> times. Failures are logged without secrets.
/// One dispatcher serves every run of a host.
/// </summary>
public sealed class AlertDispatcher : IAsyncDisposable
{
    private readonly IReadOnlyList<IAlertSink> _sinks;
    private readonly AlertDispatcherOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Channel<Alert> _queue;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _sent;
    private long _failed;
    private long _dropped;

    public AlertDispatcher(IReadOnlyList<IAlertSink> sinks, IReadOnlySet<AlertKind> kinds, ILogger? logger = null, AlertDispatcherOptions? options = null, TimeProvider? time = null)
    {
        _sinks = sinks;
        Kinds = kinds;
        _options = options ?? new AlertDispatcherOptions();
        _logger = logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        _time = time ?? TimeProvider.System;
        _queue = Channel.CreateBounded<Alert>(
            new BoundedChannelOptions(_options.Capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            dropped =>
            {
                Interlocked.Increment(ref _dropped);
                AlertLog.Dropped(_logger, AlertKinds.Name(dropped.Kind), dropped.RunId);
                Done();
            });
        _loop = Task.Run(DeliverAsync);
    }

    /// <summary>The kinds this dispatcher sends; others are not even built.</summary>
    public IReadOnlySet<AlertKind> Kinds { get; }

    /// <summary>Where alerts go, by name (for status pages); a sink that refused us (401, 403, 404) is off from then on.</summary>
    public IEnumerable<string> Sinks => _sinks.Select(s => s.Name);

    /// <summary>Deliveries that succeeded (one per alert and sink).</summary>
    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>Deliveries that failed for good.</summary>
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Alerts dropped because the queue was full.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public bool Wants(AlertKind kind) => _sinks.Count > 0 && Kinds.Contains(kind);

    /// <summary>Queues an alert of a wanted kind; never blocks. False when the dispatcher is closed or does not want it.</summary>
    public bool Post(Alert alert)
    {
        if (!Wants(alert.Kind))
        {
            return false;
        }

        lock (_gate)
        {
            _pending++;
        }

        if (_queue.Writer.TryWrite(alert))
        {
            return true;
        }

        Done();
        return false;
    }

    /// <summary>Completes when everything posted so far has been delivered, dropped or given up on (tests, orderly shutdown).</summary>
    public Task DrainAsync(CancellationToken ct = default)
    {
        lock (_gate)
        {
            if (_pending == 0)
            {
                return Task.CompletedTask;
            }

            _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _idle.Task.WaitAsync(ct);
        }
    }

    private readonly object _gate = new();
    private readonly HashSet<IAlertSink> _off = [];
    private long _pending;
    private TaskCompletionSource? _idle;

    /// <summary>One posted alert is finished with (sent, failed or dropped).</summary>
    private void Done()
    {
        TaskCompletionSource? idle = null;
        lock (_gate)
        {
            if (--_pending == 0)
            {
                idle = _idle;
                _idle = null;
            }
        }

        idle?.TrySetResult();
    }

    private async Task DeliverAsync()
    {
        try
        {
            while (await _queue.Reader.WaitToReadAsync(_stop.Token).ConfigureAwait(false))
            {
                while (_queue.Reader.TryRead(out var alert))
                {
                    try
                    {
                        foreach (var sink in _sinks)
                        {
                            if (!_off.Contains(sink))
                            {
                                await DeliverAsync(sink, alert).ConfigureAwait(false);
                            }
                        }
                    }
                    finally
                    {
                        Done();
                    }
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Shutting down: what is still queued is given up (the drain time has passed).
        }
    }

    private async Task DeliverAsync(IAlertSink sink, Alert alert)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await sink.SendAsync(alert, _stop.Token).ConfigureAwait(false);
                Interlocked.Increment(ref _sent);
                return;
            }
            catch (AlertDeliveryException ex) when (ex.Transient && attempt < _options.Attempts)
            {
                var wait = ex.RetryAfter ?? TimeSpan.FromTicks(_options.Backoff.Ticks << (attempt - 1));
                if (wait > _options.MaxWait)
                {
                    wait = _options.MaxWait;
                }

                AlertLog.Retrying(_logger, sink.Name, AlertKinds.Name(alert.Kind), alert.RunId, attempt, ex.Message, wait.TotalSeconds);
                await Task.Delay(wait, _time, _stop.Token).ConfigureAwait(false);
            }
            catch (AlertDeliveryException ex)
            {
                Interlocked.Increment(ref _failed);
                AlertLog.Failed(_logger, sink.Name, AlertKinds.Name(alert.Kind), alert.RunId, attempt, ex.Message);
                if (ex.Refused)
                {
                    // A wrong token or address: every later alert would be refused too, and log the same error.
                    _off.Add(sink);
                    AlertLog.SinkOff(_logger, sink.Name);
                }

                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A sink's own bug must not end deliveries to the others; the type and message, never a request's URL.
                Interlocked.Increment(ref _failed);
                AlertLog.Failed(_logger, sink.Name, AlertKinds.Name(alert.Kind), alert.RunId, attempt, ex.GetType().Name);
                return;
            }
        }
    }

    /// <summary>Stops taking alerts, gives the queue <see cref="AlertDispatcherOptions.DrainTime"/> to empty, then stops.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        try
        {
            await _loop.WaitAsync(_options.DrainTime).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            await _stop.CancelAsync().ConfigureAwait(false);
            await _loop.ConfigureAwait(false);
        }

        _stop.Dispose();
    }
}

/// <summary>Limits of an <see cref="AlertDispatcher"/>.</summary>
public sealed record AlertDispatcherOptions
{
    /// <summary>Alerts waiting to be sent; when full, the oldest is dropped.</summary>
    public int Capacity { get; init; } = 256;

    /// <summary>Tries per alert and sink (transient failures only are tried again).</summary>
    public int Attempts { get; init; } = 4;

    /// <summary>The first wait before trying again; it doubles each time.</summary>
    public TimeSpan Backoff { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between tries, whatever the endpoint asks.</summary>
    public TimeSpan MaxWait { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long disposing waits for queued alerts to go out.</summary>
    public TimeSpan DrainTime { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>Alert log entries: event ids 1200–1209 (docs/logging.md).</summary>
internal static partial class AlertLog
{
    [LoggerMessage(EventId = 1200, Level = LogLevel.Warning, Message = "alert to {Sink} ({Kind}, run {RunId}) failed on try {Attempt}: {Reason}; trying again in {Seconds} s")]
    public static partial void Retrying(ILogger logger, string sink, string kind, string runId, int attempt, string reason, double seconds);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Error, Message = "alert to {Sink} ({Kind}, run {RunId}) not delivered after {Attempts} tries: {Reason}")]
    public static partial void Failed(ILogger logger, string sink, string kind, string runId, int attempts, string reason);

    [LoggerMessage(EventId = 1203, Level = LogLevel.Error, Message = "alerts to {Sink} are off until keel restarts: it refused the request (check its token, chat or address)")]
    public static partial void SinkOff(ILogger logger, string sink);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Warning, Message = "alert queue full: dropped the oldest alert ({Kind}, run {RunId})")]
    public static partial void Dropped(ILogger logger, string kind, string runId);
}
