using Keel.Domain;
using Keel.Engine.Ports;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Keel.Venues.Feeds;

/// <summary>A failure that retrying cannot fix (bad credentials, a feed the plan does not include, an unknown instrument).</summary>
public sealed class FatalFeedException(string message, FeedEventKind kind = FeedEventKind.AuthFailed) : Exception(message)
{
    public FeedEventKind Kind { get; } = kind;
}

/// <summary>
/// The reconnecting part every streaming feed shares: connect, run one session, and on any drop wait
/// <see cref="ReconnectPolicy.Delay"/> (exponential, jittered) and try again; a session that got as far as subscribed
/// resets the failure count, <see cref="ReconnectPolicy.CircuitBreakAfter"/> consecutive failed attempts open the
/// circuit; a <see cref="FatalFeedException"/> stops at once (no retry storm on bad credentials). A watchdog replaces a
/// connection that has been silent (no data, no heartbeat) for <see cref="ReconnectPolicy.StaleAfter"/>.
/// </summary>
public abstract class StreamingFeed : IMarketDataFeed
{
    private readonly Lock _gate = new();
    private readonly Random _random;
    private FeedState _state = FeedState.Disconnected;
    private Timestamp? _connectedSince;
    private long _lastMessageTicks;
    private long _messages;
    private long _ticks;
    private long _bars;
    private long _malformed;
    private long _serverErrors;
    private long _reconnects;
    private int _failures;
    private string? _lastError;
    private bool _subscribedThisSession;
    private bool _established;
    private bool _recovering;
    private ILiveDataSink? _sink;
    private int _malformedLogged;

    /// <summary>At most this many malformed messages are logged (all are counted in <see cref="Health"/>).</summary>
    private const int MalformedLogLimit = 20;

    protected StreamingFeed(string venue, ReconnectPolicy? policy, TimeProvider? time, int seed)
    {
        Venue = venue;
        Policy = policy ?? new ReconnectPolicy();
        Time = time ?? TimeProvider.System;
        _random = new Random(seed);
    }

    public string Venue { get; }

    public ReconnectPolicy Policy { get; }

    /// <summary>Where the connection's life is logged (connecting, subscribed, disconnected, reconnecting, gave up); nothing per message.</summary>
    public ILogger Logger { get; init; } = NullLogger.Instance;

    protected TimeProvider Time { get; }

    public FeedHealthSnapshot Health
    {
        get
        {
            lock (_gate)
            {
                long last = Volatile.Read(ref _lastMessageTicks);
                Timestamp? lastAt = Interlocked.Read(ref _messages) == 0 ? null
                    : Timestamp.FromUnixNanos(Now().UnixNanos - (long)(Time.GetElapsedTime(last).Ticks * 100));
                return new FeedHealthSnapshot(
                    Venue, _state, _connectedSince, lastAt, Interlocked.Read(ref _messages), Interlocked.Read(ref _ticks),
                    Interlocked.Read(ref _bars), Interlocked.Read(ref _malformed), Interlocked.Read(ref _serverErrors),
                    Interlocked.Read(ref _reconnects), _failures, _lastError);
            }
        }
    }

    public async Task RunAsync(IReadOnlyList<string> symbols, ILiveDataSink sink, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(symbols);
        ArgumentNullException.ThrowIfNull(sink);
        if (symbols.Count == 0)
        {
            throw new ArgumentException($"{Venue}: no symbols to stream; name at least one", nameof(symbols));
        }

        _sink = sink;
        int attempt = 0;
        while (!ct.IsCancellationRequested)
        {
            SetState(attempt == 0 ? FeedState.Connecting : FeedState.Reconnecting);
            VenueLog.FeedConnecting(Logger, Venue, Endpoint is null ? Venue : VenueLog.Safe(Endpoint));
            _subscribedThisSession = false;
            Volatile.Write(ref _lastMessageTicks, Time.GetTimestamp());
            string reason;
            Exception? error = null;
            var stale = new StrongBox();
            using (var session = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                var watchdog = WatchAsync(session, stale);
                try
                {
                    await RunSessionAsync(symbols, sink, session.Token).ConfigureAwait(false);
                    reason = "the server closed the stream";
                }
                catch (FatalFeedException ex)
                {
                    await StopWatchdog(session, watchdog).ConfigureAwait(false);
                    Fail(ex.Message);
                    SetState(FeedState.Failed);
                    VenueLog.FeedGaveUp(Logger, Venue, ex.Message);
                    Emit(ex.Kind, ex.Message);
                    throw new FeedFailedException($"{Venue}: {ex.Message}", FeedState.Failed, ex);
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    await StopWatchdog(session, watchdog).ConfigureAwait(false);
                    break;
                }
                catch (Exception ex) when (stale.Value)
                {
                    error = ex;
                    reason = $"stale: nothing received for {Policy.StaleAfter.TotalSeconds:0.###} s ({ex.GetType().Name})";
                }
                catch (Exception ex)
                {
                    error = ex;
                    reason = Describe(ex);
                }

                await StopWatchdog(session, watchdog).ConfigureAwait(false);
            }

            if (ct.IsCancellationRequested)
            {
                break;
            }

            if (!_established && error is not null && !stale.Value)
            {
                // Never connected: a wrong URL, a closed port or a dead host. Retrying would only delay the message.
                // (A server that is merely slow to answer is retried: under load that is a hiccup, not a wrong URL.)
                var message = $"could not connect to {Endpoint?.ToString() ?? Venue}: {ConnectFailure(error)}";
                Fail(message);
                SetState(FeedState.Failed);
                var logged = $"could not connect to {(Endpoint is null ? Venue : VenueLog.Safe(Endpoint))}: {ConnectFailure(error)}";
                VenueLog.FeedGaveUp(Logger, Venue, logged);
                Emit(FeedEventKind.Disconnected, message);
                throw new FeedFailedException($"{Venue}: {message}", FeedState.Failed, error);
            }

            Fail(reason);
            lock (_gate)
            {
                _connectedSince = null;
                _failures = _subscribedThisSession ? 1 : _failures + 1;
                attempt = _failures;
                _recovering = true;
            }

            VenueLog.FeedDisconnected(Logger, Venue, reason);
            Emit(FeedEventKind.Disconnected, reason);
            if (attempt >= Policy.CircuitBreakAfter)
            {
                SetState(FeedState.CircuitOpen);
                var message = $"circuit breaker open after {attempt} consecutive failed connection attempts; last error: {reason}";
                VenueLog.FeedGaveUp(Logger, Venue, message);
                Emit(FeedEventKind.CircuitOpen, message);
                throw new FeedFailedException($"{Venue}: {message}", FeedState.CircuitOpen);
            }

            var delay = Policy.Delay(attempt, _random.NextDouble());
            Interlocked.Increment(ref _reconnects);
            SetState(FeedState.Reconnecting);
            VenueLog.FeedReconnecting(Logger, Venue, (long)delay.TotalMilliseconds, attempt, Policy.CircuitBreakAfter);
            Emit(FeedEventKind.Reconnecting, $"reconnecting in {delay.TotalMilliseconds:0} ms (attempt {attempt})");
            try
            {
                await Task.Delay(delay, Time, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        SetState(FeedState.Stopped);
        VenueLog.FeedStopped(Logger, Venue);
        lock (_gate)
        {
            _connectedSince = null;
        }
    }

    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    /// <summary>One connection: connect, authenticate, subscribe, then stream until the server closes it or it fails.</summary>
    protected abstract Task RunSessionAsync(IReadOnlyList<string> symbols, ILiveDataSink sink, CancellationToken ct);

    /// <summary>Receive time for ticks: the injected clock.</summary>
    protected Timestamp Now()
    {
        var now = Time.GetUtcNow();
        return Timestamp.FromUnixNanos((now.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100);
    }

    /// <summary>Anything arrived (data, heartbeat, control): the connection is alive.</summary>
    protected void MessageReceived()
    {
        Volatile.Write(ref _lastMessageTicks, Time.GetTimestamp());
        Interlocked.Increment(ref _messages);
    }

    /// <summary>Where the feed connects, for messages (never with credentials); null names the venue instead.</summary>
    protected virtual Uri? Endpoint => null;

    /// <summary>The server answered: from now on a lost connection is reconnected with back-off rather than reported.</summary>
    protected void Connected()
    {
        lock (_gate)
        {
            _connectedSince = Now();
            _established = true;
        }

        SetState(FeedState.Authenticating);
        VenueLog.FeedConnected(Logger, Venue);
        Emit(FeedEventKind.Connected, "connected");
    }

    protected void Authenticated()
    {
        VenueLog.FeedAuthenticated(Logger, Venue);
        Emit(FeedEventKind.Authenticated, "authenticated");
    }

    protected void Subscribed(string detail)
    {
        bool recovered;
        lock (_gate)
        {
            _subscribedThisSession = true;
            _failures = 0;
            recovered = _recovering;
            _recovering = false;
        }

        SetState(FeedState.Subscribed);
        VenueLog.FeedSubscribed(Logger, Venue, detail);
        Emit(FeedEventKind.Subscribed, detail);
        if (recovered)
        {
            VenueLog.FeedRecovered(Logger, Venue);
            Emit(FeedEventKind.Recovered, "streaming again after a reconnect");
        }
    }

    protected void CountTick() => Interlocked.Increment(ref _ticks);

    protected void CountBar() => Interlocked.Increment(ref _bars);

    /// <summary>A message that could not be understood: counted, reported, skipped; the connection stays up.</summary>
    protected void Malformed(string detail)
    {
        Interlocked.Increment(ref _malformed);
        if (Interlocked.Increment(ref _malformedLogged) <= MalformedLogLimit)
        {
            VenueLog.FeedMalformed(Logger, Venue, detail);
        }

        Emit(FeedEventKind.Malformed, detail);
    }

    protected void ServerError(string detail)
    {
        Interlocked.Increment(ref _serverErrors);
        lock (_gate)
        {
            _lastError = detail;
        }

        VenueLog.FeedServerError(Logger, Venue, detail);
        Emit(FeedEventKind.ServerError, detail);
    }

    protected void Emit(FeedEventKind kind, string message) => _sink?.OnFeedEvent(new FeedEvent(kind, Venue, Now(), message));

    private static string Describe(Exception ex) => ex switch
    {
        System.Net.WebSockets.WebSocketException ws => $"connection lost: {ws.Message}",
        HttpRequestException http => $"connection failed: {http.Message}",
        IOException io => $"connection lost: {io.Message}",
        _ => $"{ex.GetType().Name}: {ex.Message}",
    };

    /// <summary>Why a connection could not be made, in words: "connection refused", "host not found", the HTTP status.</summary>
    private static string ConnectFailure(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is System.Net.Sockets.SocketException socket)
            {
                return socket.SocketErrorCode switch
                {
                    System.Net.Sockets.SocketError.ConnectionRefused => "connection refused",
                    System.Net.Sockets.SocketError.HostNotFound or System.Net.Sockets.SocketError.NoData or System.Net.Sockets.SocketError.TryAgain => "host not found",
                    System.Net.Sockets.SocketError.TimedOut => "timed out",
                    System.Net.Sockets.SocketError.NetworkUnreachable or System.Net.Sockets.SocketError.HostUnreachable => "no route to the host",
                    _ => socket.Message,
                };
            }

            if (e is System.Security.Authentication.AuthenticationException)
            {
                return $"the TLS handshake failed ({e.Message})";
            }
        }

        return ex.Message;
    }

    private static async Task StopWatchdog(CancellationTokenSource session, Task watchdog)
    {
        await session.CancelAsync().ConfigureAwait(false);
        await watchdog.ConfigureAwait(false);
    }

    private async Task WatchAsync(CancellationTokenSource session, StrongBox stale)
    {
        var window = Policy.StaleAfter;
        var step = TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerMillisecond, window.Ticks / 20));
        try
        {
            while (!session.IsCancellationRequested)
            {
                await Task.Delay(step, Time, session.Token).ConfigureAwait(false);
                if (Time.GetElapsedTime(Volatile.Read(ref _lastMessageTicks)) > window)
                {
                    stale.Value = true;
                    SetState(FeedState.Stale);
                    VenueLog.FeedStale(Logger, Venue, window.TotalSeconds);
                    Emit(FeedEventKind.Stale, $"nothing received for {window.TotalSeconds:0.###} s; replacing the connection");
                    await session.CancelAsync().ConfigureAwait(false);
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The session ended.
        }
    }

    /// <summary>The state now (an int-sized field: the read is atomic; the loop that polls it reads again soon).</summary>
    public FeedState State => _state;

    private void SetState(FeedState state)
    {
        lock (_gate)
        {
            _state = state;
        }
    }

    private void Fail(string reason)
    {
        lock (_gate)
        {
            _lastError = reason;
        }
    }

    private sealed class StrongBox
    {
        public volatile bool Value;
    }
}
