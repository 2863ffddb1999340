using System.Collections.Concurrent;
using System.Threading.Channels;
using Keel.Domain;
using Keel.Sandbox.Wire;
using Microsoft.AspNetCore.Http;

namespace Keel.Sandbox.Trading.Oanda;

/// <summary>
/// The account's transactions stream (<c>GET …/transactions/stream</c>): from "now" (no replay), one NDJSON line per
/// transaction, each written and flushed alone (the official JS client parses every piece it receives), a HEARTBEAT
/// with <c>lastTransactionID</c> at once and every heartbeat interval. Duplicate, out-of-order and silent delivery
/// are switchable faults, decided once per transaction for every connected client.
/// </summary>
internal sealed class OandaTransactionStream
{
    private readonly OandaAccount _account;
    private readonly OandaTradingFaults _faults;
    private readonly TimeSpan _heartbeat;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<long, Session> _sessions = new();
    private long _nextSession;
    private byte[]? _held;

    public OandaTransactionStream(OandaAccount account, OandaTradingFaults faults, TimeSpan heartbeat, TimeProvider time)
    {
        _account = account;
        _faults = faults;
        _heartbeat = heartbeat;
        _time = time;
        account.Published = Publish;
    }

    public int Clients => _sessions.Count;

    /// <summary>Aborts every stream connection.</summary>
    public void Drop()
    {
        foreach (var s in _sessions.Values)
        {
            s.Context.Abort();
        }
    }

    public async Task RunAsync(HttpContext context, CancellationToken stopping)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/octet-stream";
        response.Headers.CacheControl = "no-cache";
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(stopping, context.RequestAborted);
        var session = new Session(context);
        long id = Interlocked.Increment(ref _nextSession);
        _account.Locked(() =>
        {
            _sessions[id] = session;
            Heartbeat(session);
            return 0;
        });
        var beats = BeatAsync(session, cts.Token);
        try
        {
            await response.StartAsync(cts.Token).ConfigureAwait(false);
            var body = response.Body;
            while (await session.Lines.Reader.WaitToReadAsync(cts.Token).ConfigureAwait(false))
            {
                while (session.Lines.Reader.TryRead(out var line))
                {
                    await body.WriteAsync(line, cts.Token).ConfigureAwait(false);
                    await body.FlushAsync(cts.Token).ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The client went away, the connection was dropped or the server is stopping.
        }
        finally
        {
            _sessions.TryRemove(id, out _);
            await cts.CancelAsync().ConfigureAwait(false);
            await beats.ConfigureAwait(false);
        }
    }

    private async Task BeatAsync(Session session, CancellationToken ct)
    {
        try
        {
            using var timer = new PeriodicTimer(_heartbeat, _time);
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                _account.Locked(() =>
                {
                    Heartbeat(session);
                    return 0;
                });
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Queues a heartbeat (under the account's lock, so its lastTransactionID matches the lines before it).</summary>
    private void Heartbeat(Session session)
    {
        if (_faults.Silence == OandaStreamSilence.Nothing)
        {
            return;
        }

        long now = Timestamp.FromDateTimeOffset(_time.GetUtcNow()).UnixNanos;
        var line = AlpacaWire.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("type", "HEARTBEAT");
            w.WriteString("lastTransactionID", OandaOrder.Text(_account.LastTransactionId));
            w.WriteString("time", WireText.Time9(now));
            w.WriteEndObject();
        });
        session.Lines.Writer.TryWrite(WithNewline(line));
    }

    /// <summary>Called by the account, under its lock, for every new transaction in id order.</summary>
    private void Publish(OandaTransaction tx)
    {
        if (_faults.Silence != OandaStreamSilence.Off)
        {
            return;
        }

        var line = WithNewline(tx.Json);
        if (_held is null && _faults.TakeOutOfOrder())
        {
            _held = line; // sent after the next transaction
            return;
        }

        int copies = _faults.TakeDuplicate() ? 2 : 1;
        foreach (var s in _sessions.Values)
        {
            for (int i = 0; i < copies; i++)
            {
                s.Lines.Writer.TryWrite(line);
            }

            if (_held is not null)
            {
                s.Lines.Writer.TryWrite(_held);
            }
        }

        _held = null;
    }

    private static byte[] WithNewline(byte[] json)
    {
        var line = new byte[json.Length + 1];
        json.CopyTo(line, 0);
        line[^1] = (byte)'\n';
        return line;
    }

    private sealed class Session(HttpContext context)
    {
        public HttpContext Context { get; } = context;

        public Channel<byte[]> Lines { get; } = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = false });
    }
}
