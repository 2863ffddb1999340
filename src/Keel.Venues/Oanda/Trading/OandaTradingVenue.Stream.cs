using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Keel.Domain;
using Keel.Domain.Events;
using Keel.Engine.Ports;
using Keel.Venues.Http;

namespace Keel.Venues.Oanda.Trading;

/// <summary>
/// The transactions stream: opened, caught up from REST (<c>sinceid</c> from the last transaction applied), then read
/// line by line. Transactions are applied strictly in id order, each once: a repeat is dropped, one that arrives early
/// waits for the gap before it to be filled from REST. A heartbeat naming a newer transaction than the last applied,
/// a stream silent past the heartbeat timeout, a drop, and a periodic poll all lead to the same REST catch-up.
/// </summary>
public sealed partial class OandaTradingVenue
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly SortedDictionary<long, OandaTransaction?> _early = [];
    private readonly OandaEventMapper _mapper = new();
    private IOrderEventSink? _sink;
    private CancellationTokenSource? _stop;
    private Task? _pump;
    private Task? _poller;
    private long _applied;

    /// <summary>The last transaction id whose events were delivered (the journal's watermark for a later <see cref="ConnectAsync(IOrderEventSink, VenueWatermark?, CancellationToken)"/>).</summary>
    public VenueWatermark Watermark => new(OandaWire.Id(Interlocked.Read(ref _applied)));

    /// <summary>Fills of orders without a Keel client id, seen on the stream and not reported as events.</summary>
    public long UntrackedFills => _mapper.UntrackedFills;

    public Task ConnectAsync(IOrderEventSink sink, CancellationToken ct = default) => ConnectAsync(sink, null, ct);

    /// <summary>
    /// Opens the stream and returns once it is open and caught up. Events start after <paramref name="resumeAfter"/>
    /// (a watermark from a journal: everything after it is delivered first), or after the account's last transaction now.
    /// </summary>
    public async Task ConnectAsync(IOrderEventSink sink, VenueWatermark? resumeAfter, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(sink);
        if (_pump is not null)
        {
            throw new InvalidOperationException("the OANDA venue is already connected; disconnect first");
        }

        long start = resumeAfter is { } w && OandaTransaction.TryId(w.Value, out long given) ? given : await LastTransactionIdAsync(ct).ConfigureAwait(false);
        Interlocked.Exchange(ref _applied, start);
        _sink = sink;
        _stop = new CancellationTokenSource();
        var opened = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stop = _stop.Token;
        _pump = Task.Run(() => PumpAsync(opened, stop), CancellationToken.None);
        _poller = Task.Run(() => PollAsync(stop), CancellationToken.None);
        await opened.Task.WaitAsync(ct).ConfigureAwait(false);
    }

    public async Task DisconnectAsync(CancellationToken ct = default)
    {
        if (_stop is null)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_pump!, _poller!).WaitAsync(ct).ConfigureAwait(false);
        _stop.Dispose();
        _stop = null;
        _pump = null;
        _poller = null;
    }

    public async ValueTask DisposeAsync()
    {
        await DisconnectAsync().ConfigureAwait(false);
        _rest.Dispose();
        _streamHttp.Dispose();
        _ownedHandler?.Dispose();
        _gate.Dispose();
    }

    /// <summary>Fetches and applies every transaction after the last one applied (what a reconnect and the poll do).</summary>
    public async Task CatchUpAsync(string why, CancellationToken ct = default)
    {
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            long from = Interlocked.Read(ref _applied);
            var (transactions, _) = await GetTransactionsSinceAsync(new VenueWatermark(OandaWire.Id(from)), ct).ConfigureAwait(false);
            int applied = 0;
            var events = new List<OrderEvent>();
            foreach (var tx in transactions)
            {
                if (tx.Id > Interlocked.Read(ref _applied))
                {
                    _early[tx.Id] = tx;
                    applied++;
                }
            }

            // REST left out what it could not read; those ids are skipped rather than waited for forever.
            if (transactions.Count > 0)
            {
                long last = transactions[^1].Id;
                for (long id = Interlocked.Read(ref _applied) + 1; id <= last; id++)
                {
                    _early.TryAdd(id, null);
                }
            }

            Drain(events);
            foreach (var key in _early.Keys.Where(k => k <= Interlocked.Read(ref _applied)).ToList())
            {
                _early.Remove(key);
            }

            Stats.CountCatchUp(applied);
            if (applied > 0)
            {
                VenueLog.OandaCaughtUp(_log, applied, from, why);
            }

            Deliver(events);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task PumpAsync(TaskCompletionSource opened, CancellationToken stop)
    {
        var delay = _options.StreamBackoff;
        while (!stop.IsCancellationRequested)
        {
            string reason;
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_options.StreamUrl, $"/v3/accounts/{Uri.EscapeDataString(_options.Account)}/transactions/stream"));
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _options.Token);
                request.Headers.Add("Accept-Datetime-Format", "RFC3339");
                HttpResponseMessage response;

                // A server that never answers the stream request is as silent as one that stops sending heartbeats.
                using (var idle = new CancellationTokenSource(_options.HeartbeatTimeout, _time))
                using (var linked = CancellationTokenSource.CreateLinkedTokenSource(stop, idle.Token))
                {
                    try
                    {
                        response = await _streamHttp.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (idle.IsCancellationRequested && !stop.IsCancellationRequested)
                    {
                        Stats.CountStale();
                        throw new IOException($"the stream request had no answer within {_options.HeartbeatTimeout.TotalSeconds:0.###} s");
                    }
                }

                using var _ = response;
                string? requestId = response.Headers.TryGetValues("RequestID", out var ids) ? ids.FirstOrDefault() : null;
                if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.BadRequest or HttpStatusCode.NotFound)
                {
                    var message = $"HTTP {(int)response.StatusCode}: {await Http.ErrorBodies.ReadMessageAsync(response, stop).ConfigureAwait(false)} (RequestID {requestId})";
                    VenueLog.OandaStreamRefused(_log, message);
                    opened.TrySetException(new VenueQueryException(VenueOutcome.PermanentError("oanda transactions stream: " + message, null, requestId)));
                    return;
                }

                if (!response.IsSuccessStatusCode)
                {
                    reason = $"HTTP {(int)response.StatusCode}";
                    if (RestRetry.VenueWait(response, _time.GetUtcNow()) is { } wait && wait > delay)
                    {
                        delay = wait;
                    }
                }
                else
                {
                    await CatchUpAsync(delay == _options.StreamBackoff && !opened.Task.IsCompleted ? "stream opened" : "stream reopened", stop).ConfigureAwait(false);
                    long caughtUpTo = Interlocked.Read(ref _applied);
                    VenueLog.OandaStreamOpen(_log, requestId, caughtUpTo);
                    opened.TrySetResult();
                    (reason, bool any) = await ReadStreamAsync(response, requestId, stop).ConfigureAwait(false);
                    if (any)
                    {
                        delay = _options.StreamBackoff;
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or VenueQueryException or OperationCanceledException)
            {
                reason = ex.Message;
            }

            if (stop.IsCancellationRequested)
            {
                return;
            }

            // Whatever the stream missed is fetched now, even if it cannot be reopened for a while.
            try
            {
                await CatchUpAsync("stream lost", stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (VenueQueryException ex)
            {
                VenueLog.OandaCatchUpFailed(_log, ex.Message);
            }

            Stats.CountReconnect();
            long delayMs = (long)delay.TotalMilliseconds;
            VenueLog.OandaStreamLost(_log, reason, delayMs);
            try
            {
                await Task.Delay(delay, _time, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.StreamBackoffMax.Ticks));
        }
    }

    /// <summary>Reads lines until the stream ends, breaks or goes quiet past the heartbeat timeout; says why it stopped and whether anything came.</summary>
    private async Task<(string Reason, bool Any)> ReadStreamAsync(HttpResponseMessage response, string? requestId, CancellationToken stop)
    {
        await using var body = await response.Content.ReadAsStreamAsync(stop).ConfigureAwait(false);
        var lines = new NdjsonLines();
        var buffer = new byte[16 * 1024];
        var received = new List<ReadOnlyMemory<byte>>();
        bool any = false;
        while (true)
        {
            int read;
            using (var idle = new CancellationTokenSource(_options.HeartbeatTimeout, _time))
            using (var linked = CancellationTokenSource.CreateLinkedTokenSource(stop, idle.Token))
            {
                try
                {
                    read = await body.ReadAsync(buffer, linked.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (idle.IsCancellationRequested && !stop.IsCancellationRequested)
                {
                    Stats.CountStale();
                    return ($"nothing, not even a heartbeat, for {_options.HeartbeatTimeout.TotalSeconds:0.###} s", any);
                }
            }

            if (read == 0)
            {
                return ("the server ended the stream", any);
            }

            any = true;
            received.Clear();
            lines.Push(buffer.AsSpan(0, read), received.Add);
            foreach (var line in received)
            {
                await OnLineAsync(line, requestId, stop).ConfigureAwait(false);
            }
        }
    }

    private async Task OnLineAsync(ReadOnlyMemory<byte> line, string? requestId, CancellationToken stop)
    {
        long? behind = null;
        await _gate.WaitAsync(stop).ConfigureAwait(false);
        try
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            if (OandaTransaction.Str(root, "type") == "HEARTBEAT")
            {
                if (OandaTransaction.TryId(OandaTransaction.Str(root, "lastTransactionID"), out long last) && last > Interlocked.Read(ref _applied))
                {
                    behind = last;
                }
            }
            else
            {
                bool ok = OandaTransaction.TryParse(root, out var tx, out var problem, out bool unknownType);
                long id = tx?.Id ?? (OandaTransaction.TryId(OandaTransaction.Str(root, "id"), out long i) ? i : -1);
                if (!ok)
                {
                    if (unknownType)
                    {
                        Stats.CountUnknownType();
                    }
                    else
                    {
                        Stats.CountMalformed();
                    }

                    VenueLog.OandaMalformed(_log, "transactions stream", requestId, problem ?? "unreadable transaction");
                    tx = null;
                }

                if (id >= 0)
                {
                    var events = new List<OrderEvent>();
                    Apply(id, tx, events);
                    Deliver(events);
                    if (_early.Count > 0)
                    {
                        behind = _early.Keys.First() - 1;
                    }
                }
            }
        }
        catch (JsonException ex)
        {
            Stats.CountMalformed();
            VenueLog.OandaMalformed(_log, "transactions stream", requestId, $"not JSON: {ex.Message}");
        }
        finally
        {
            _gate.Release();
        }

        if (behind is not null)
        {
            await CatchUpAsync($"the stream skipped transactions before {behind + 1}", stop).ConfigureAwait(false);
        }
    }

    private async Task PollAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(_options.CatchUpInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                try
                {
                    await CatchUpAsync("periodic poll", stop).ConfigureAwait(false);
                }
                catch (VenueQueryException ex)
                {
                    VenueLog.OandaCatchUpFailed(_log, ex.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Under the gate: applies the transaction if it is next, keeps it if early, drops it if seen.</summary>
    private void Apply(long id, OandaTransaction? tx, List<OrderEvent> events)
    {
        if (id <= Interlocked.Read(ref _applied) || _early.ContainsKey(id))
        {
            Stats.CountDuplicate();
            return;
        }

        _early[id] = tx;
        Drain(events);
    }

    private void Drain(List<OrderEvent> events)
    {
        var now = Timestamp.FromDateTimeOffset(_time.GetUtcNow());
        while (_early.Remove(Interlocked.Read(ref _applied) + 1, out var next))
        {
            if (next is not null)
            {
                _mapper.Map(next, now, events);
            }

            Interlocked.Increment(ref _applied);
        }
    }

    private void Deliver(List<OrderEvent> events)
    {
        foreach (var e in events)
        {
            _sink?.OnOrderEvent(e);
        }
    }
}
