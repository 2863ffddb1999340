using System.Buffers;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Keel.Sandbox.Wire;
using Microsoft.AspNetCore.Http;

namespace Keel.Sandbox.Trading.Alpaca;

/// <summary>
/// Alpaca's account stream at <c>/stream</c>: <c>authenticate</c> (or <c>auth</c>) then <c>listen</c> to
/// <c>trade_updates</c>, then one JSON message per event, sent in binary frames as the paper endpoint does. The
/// fault switches act here: a silent stream, dropped fill events, duplicated events.
/// </summary>
internal sealed class AlpacaTradeStream(SandboxOptions options, SandboxFaults faults)
{
    private const int MaxMessage = 1 << 16;
    private readonly ConcurrentDictionary<long, Session> _sessions = new();
    private long _nextId;
    private byte[]? _held;

    /// <summary>Connections that listen to trade_updates now.</summary>
    public int Listening => _sessions.Values.Count(s => s.Listening);

    /// <summary>Sends one event to every listener (called under the account lock, so events keep their order).</summary>
    public void Publish(TradeUpdate update)
    {
        var f = faults.AlpacaTrading;
        if (f.SilentStream || (update.IsFill && f.TryTakeDropFill()))
        {
            return;
        }

        if (_held is null && f.TryTakeOutOfOrder())
        {
            // Sent after the next event (Publish runs under the account lock, so _held needs no lock of its own).
            _held = update.Frame;
            return;
        }

        bool twice = f.TryTakeDuplicate();
        var held = _held;
        _held = null;
        foreach (var session in _sessions.Values)
        {
            if (session.Listening)
            {
                session.Enqueue(update.Frame);
                if (twice)
                {
                    session.Enqueue(update.Frame);
                }

                if (held is not null)
                {
                    session.Enqueue(held);
                }
            }
        }
    }

    /// <summary>Aborts every trade_updates connection at once (no close frame); events until the client reconnects are lost.</summary>
    public void Drop()
    {
        foreach (var session in _sessions.Values)
        {
            session.Abort();
        }
    }

    public async Task HandleAsync(HttpContext context, CancellationToken stopping)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await AlpacaTradingApi.WriteAsync(context, ApiResult.Error(400, 40010000, "this endpoint speaks WebSocket only")).ConfigureAwait(false);
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(stopping, context.RequestAborted);
        var session = new Session(socket);
        long id = Interlocked.Increment(ref _nextId);
        _sessions[id] = session;
        var sending = session.SendLoopAsync(cts.Token);
        try
        {
            await ReceiveLoopAsync(session, socket, cts.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
        }
        finally
        {
            _sessions.TryRemove(id, out _);
            session.Complete();
            try
            {
                await sending.WaitAsync(TimeSpan.FromSeconds(2), CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or TimeoutException)
            {
            }

            await cts.CancelAsync().ConfigureAwait(false);
        }
    }

    private async Task ReceiveLoopAsync(Session session, WebSocket socket, CancellationToken ct)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        while (true)
        {
            buffer.ResetWrittenCount();
            ValueWebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer.GetMemory(1024), ct).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    session.Close();
                    return;
                }

                buffer.Advance(result.Count);
                if (buffer.WrittenCount > MaxMessage)
                {
                    session.Enqueue(Error("message too large"));
                    session.Close();
                    return;
                }
            }
            while (!result.EndOfMessage);

            if (!Handle(session, buffer.WrittenMemory))
            {
                return;
            }
        }
    }

    /// <summary>Answers one client message; false when the connection is to close.</summary>
    private bool Handle(Session session, ReadOnlyMemory<byte> message)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(message);
        }
        catch (JsonException)
        {
            session.Enqueue(Error("invalid syntax"));
            return true;
        }

        using (document)
        {
            var root = document.RootElement;
            string action = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("action", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString()! : string.Empty;
            var data = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("data", out var d) && d.ValueKind == JsonValueKind.Object ? d : default;
            switch (action)
            {
                case "auth" or "authenticate":
                    {
                        string key = Text(root, "key") ?? Text(data, "key_id") ?? string.Empty;
                        string secret = Text(root, "secret") ?? Text(data, "secret_key") ?? string.Empty;
                        bool ok = !faults.RejectAuth && Same(key, options.AlpacaKey) && Same(secret, options.AlpacaSecret);
                        session.Authorized = ok;
                        session.Enqueue(Authorization(ok, action));
                        if (!ok)
                        {
                            session.Close();
                            return false;
                        }

                        return true;
                    }

                case "listen":
                    {
                        if (!session.Authorized)
                        {
                            session.Enqueue(Authorization(false, "listen"));
                            return true;
                        }

                        bool wanted = false;
                        if (data.ValueKind == JsonValueKind.Object && data.TryGetProperty("streams", out var streams) && streams.ValueKind == JsonValueKind.Array)
                        {
                            foreach (var s in streams.EnumerateArray())
                            {
                                wanted |= s.ValueKind == JsonValueKind.String && s.GetString() == "trade_updates";
                            }
                        }

                        // Idempotent: the 4.x SDK sends listen twice; each gets the full set in reply.
                        session.Listening = wanted;
                        session.Enqueue(AlpacaWire.Write(w =>
                        {
                            w.WriteStartObject();
                            w.WriteString("stream", "listening");
                            w.WriteStartObject("data");
                            w.WriteStartArray("streams");
                            if (wanted)
                            {
                                w.WriteStringValue("trade_updates");
                            }

                            w.WriteEndArray();
                            w.WriteEndObject();
                            w.WriteEndObject();
                        }));
                        return true;
                    }

                default:
                    session.Enqueue(Error($"unrecognized action '{action}'"));
                    return true;
            }
        }
    }

    private static string? Text(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static bool Same(string a, string b) => CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));

    private static byte[] Authorization(bool ok, string action) => AlpacaWire.Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("stream", "authorization");
        w.WriteStartObject("data");
        w.WriteString("status", ok ? "authorized" : "unauthorized");
        w.WriteString("action", action);
        w.WriteEndObject();
        w.WriteEndObject();
    });

    // Every server message carries a data object: the 3.x client reads message.data unconditionally.
    private static byte[] Error(string message) => AlpacaWire.Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("stream", "error");
        w.WriteStartObject("data");
        w.WriteString("error_message", message);
        w.WriteEndObject();
        w.WriteEndObject();
    });

    /// <summary>One connection: a single writer loop sends queued frames in order, then a close when asked.</summary>
    private sealed class Session(WebSocket socket)
    {
        private static readonly byte[] CloseMarker = [];
        private readonly Channel<byte[]> _outbox = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
        private volatile bool _authorized;
        private volatile bool _listening;

        public bool Authorized
        {
            get => _authorized;
            set => _authorized = value;
        }

        public bool Listening
        {
            get => _listening && _authorized;
            set => _listening = value;
        }

        public void Enqueue(byte[] frame) => _outbox.Writer.TryWrite(frame);

        public void Abort()
        {
            _listening = false;
            _outbox.Writer.TryComplete();
            socket.Abort();
        }

        public void Close()
        {
            _outbox.Writer.TryWrite(CloseMarker);
            _outbox.Writer.TryComplete();
        }

        public void Complete() => _outbox.Writer.TryComplete();

        public async Task SendLoopAsync(CancellationToken ct)
        {
            await foreach (var frame in _outbox.Reader.ReadAllAsync(ct).ConfigureAwait(false))
            {
                if (ReferenceEquals(frame, CloseMarker))
                {
                    if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                    {
                        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, string.Empty, ct).ConfigureAwait(false);
                    }

                    return;
                }

                await socket.SendAsync(frame, WebSocketMessageType.Binary, true, ct).ConfigureAwait(false);
            }
        }
    }
}
