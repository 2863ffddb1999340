using System.Buffers;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Keel.Sandbox.Market;
using Keel.Sandbox.Wire;
using Microsoft.AspNetCore.Http;

namespace Keel.Sandbox.Streaming;

/// <summary>Shared state of the Alpaca market data stream endpoint: which key holds the one authenticated connection.</summary>
internal sealed class AlpacaStreamHub(SandboxOptions options, SandboxFaults faults, SandboxStats stats, VenueFeed feed, TimeProvider time)
{
    public static readonly string[] Feeds = ["iex", "sip", "test", "delayed_sip", "boats", "overnight"];

    public SandboxOptions Options { get; } = options;

    public SandboxFaults Faults { get; } = faults;

    public SandboxStats Stats { get; } = stats;

    public VenueFeed Feed { get; } = feed;

    public TimeProvider Time { get; } = time;

    /// <summary>Alpaca allows one authenticated market data connection per key (406 on the second).</summary>
    public ConcurrentDictionary<string, AlpacaSession> KeySlots { get; } = new(StringComparer.Ordinal);

    public async Task HandleAsync(HttpContext context, string feedName, CancellationToken stopping)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            context.Response.ContentType = "application/json";
            await context.Response.Body.WriteAsync("{\"message\":\"this endpoint speaks WebSocket only\"}"u8.ToArray(), context.RequestAborted).ConfigureAwait(false);
            return;
        }

        // Alpaca supports permessage-deflate (RFC 7692); it is used only when the client offers it.
        var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { DangerousEnableCompression = true }).ConfigureAwait(false);
        var session = new AlpacaSession(this, context, socket, feedName, stopping);
        await session.RunAsync().ConfigureAwait(false);
    }
}

/// <summary>
/// One Alpaca market data WebSocket (v2): <c>connected</c> greeting, auth by message or upgrade headers within the
/// auth timeout, subscribe/unsubscribe with full-set replies, error codes 400–409, data batched into JSON arrays.
/// </summary>
internal sealed class AlpacaSession : StreamSession
{
    private const int MaxMessage = 1 << 20;
    private const int MaxBatch = 1000;
    private static readonly string[] DataChannels = ["trades", "quotes", "bars", "updatedBars", "dailyBars", "statuses", "lulds"];
    private readonly AlpacaStreamHub _hub;
    private readonly WebSocket _socket;
    private readonly string _feedName;
    private readonly Lock _subscriptionGate = new();
    private volatile Subscriptions _subscriptions = Subscriptions.Empty;
    private volatile bool _authenticated;
    private volatile bool _closing;
    private string? _key;
    private long _malformed;

    // alpaca-py and others ask for MessagePack with this header on the upgrade request; binary frames both ways then.
    private bool MsgPackWire => Context.Request.Headers.ContentType.ToString().Contains("application/msgpack", StringComparison.OrdinalIgnoreCase);

    public AlpacaSession(AlpacaStreamHub hub, HttpContext context, WebSocket socket, string feedName, CancellationToken stopping)
        : base(context, hub.Feed, hub.Faults, hub.Stats, stopping)
    {
        _hub = hub;
        _socket = socket;
        _feedName = feedName;
    }

    public override bool Wants(MarketEvent e)
    {
        if (!_authenticated)
        {
            return false;
        }

        var s = _subscriptions;
        return e.Kind == MarketEventKind.Tick
            ? s.Has("trades", e.Symbol) || s.Has("quotes", e.Symbol)
            : s.Has("bars", e.Symbol);
    }

    public override void Abort()
    {
        ReleaseKey();
        base.Abort();
    }

    public async Task RunAsync()
    {
        Stats.Accepted();
        Stats.StreamOpened();
        Feed.Register(this, null);
        var writer = Task.Run(WriteLoopAsync, CancellationToken.None);
        try
        {
            await SendAsync(new Outgoing(OutgoingKind.Control, AlpacaWire.Control("success", "connected"))).ConfigureAwait(false);
            var headers = Context.Request.Headers;
            if (headers.ContainsKey("APCA-API-KEY-ID") || headers.ContainsKey("APCA-API-SECRET-KEY"))
            {
                await AuthenticateAsync(headers["APCA-API-KEY-ID"].ToString(), headers["APCA-API-SECRET-KEY"].ToString()).ConfigureAwait(false);
            }

            _ = AuthTimeoutAsync();
            await ReceiveLoopAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException)
        {
            // The client went away or the connection was aborted.
        }
        finally
        {
            ReleaseKey();
            Feed.Unregister(this);
            CompleteQueue();
            try
            {
                await writer.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException)
            {
            }

            Stats.StreamClosed();
            DisposeSession();
        }
    }

    private async Task AuthTimeoutAsync()
    {
        try
        {
            await Task.Delay(_hub.Options.AuthTimeout, _hub.Time, Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        if (!_authenticated && !_closing)
        {
            await ErrorAsync(404, "auth timeout", close: true).ConfigureAwait(false);
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        while (true)
        {
            buffer.ResetWrittenCount();
            ValueWebSocketReceiveResult result;
            do
            {
                result = await _socket.ReceiveAsync(buffer.GetMemory(4096), Token).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    if (!_closing)
                    {
                        _closing = true;
                        await SendAsync(new Outgoing(OutgoingKind.Close, Reason: string.Empty)).ConfigureAwait(false);
                    }

                    return;
                }

                buffer.Advance(result.Count);
                if (buffer.WrittenCount > MaxMessage)
                {
                    await ErrorAsync(400, "invalid syntax", close: true).ConfigureAwait(false);
                    return;
                }
            }
            while (!result.EndOfMessage);

            await HandleAsync(buffer.WrittenMemory).ConfigureAwait(false);
        }
    }

    private async Task HandleAsync(ReadOnlyMemory<byte> message)
    {
        if (message.Length > 0 && message.Span[0] is (>= 0x80 and <= 0x8f) or 0xde or 0xdf)
        {
            // A MessagePack map (a JSON message starts with '{' or whitespace): read it as the JSON it stands for.
            try
            {
                message = Wire.MsgPack.ToJson(message);
            }
            catch (FormatException)
            {
                await ErrorAsync(400, "invalid syntax").ConfigureAwait(false);
                return;
            }
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(message);
        }
        catch (JsonException)
        {
            await ErrorAsync(400, "invalid syntax").ConfigureAwait(false);
            return;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("action", out var action) || action.ValueKind != JsonValueKind.String)
            {
                await ErrorAsync(400, "invalid syntax").ConfigureAwait(false);
                return;
            }

            switch (action.GetString())
            {
                case "auth":
                    if (_authenticated)
                    {
                        await ErrorAsync(403, "already authenticated").ConfigureAwait(false);
                        return;
                    }

                    await AuthenticateAsync(Text(root, "key"), Text(root, "secret")).ConfigureAwait(false);
                    return;
                case "subscribe":
                case "unsubscribe":
                    if (!_authenticated)
                    {
                        await ErrorAsync(401, "not authenticated").ConfigureAwait(false);
                        return;
                    }

                    await SubscribeAsync(root, action.GetString() == "subscribe").ConfigureAwait(false);
                    return;
                default:
                    await ErrorAsync(400, "invalid syntax").ConfigureAwait(false);
                    return;
            }
        }

        static string Text(JsonElement root, string name) =>
            root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() ?? string.Empty : string.Empty;
    }

    private async Task AuthenticateAsync(string key, string secret)
    {
        var options = _hub.Options;
        if (Faults.RejectAuth || !SameText(key, options.AlpacaKey) || !SameText(secret, options.AlpacaSecret))
        {
            Stats.AuthFailed();
            await ErrorAsync(402, "auth failed").ConfigureAwait(false);
            return;
        }

        if (options.AlpacaFreePlan && _feedName == "sip")
        {
            Stats.AuthFailed();
            await ErrorAsync(409, "insufficient subscription").ConfigureAwait(false);
            return;
        }

        if (Faults.ConnectionLimit || !_hub.KeySlots.TryAdd(key, this))
        {
            Stats.AuthFailed();
            await ErrorAsync(406, "connection limit exceeded", close: true).ConfigureAwait(false);
            return;
        }

        _key = key;
        _authenticated = true;
        Stats.AuthOk();
        await SendAsync(new Outgoing(OutgoingKind.Control, AlpacaWire.Control("success", "authenticated"))).ConfigureAwait(false);
    }

    private static bool SameText(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));

    private async Task SubscribeAsync(JsonElement root, bool subscribe)
    {
        var requested = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var property in root.EnumerateObject())
        {
            if (property.Name == "action")
            {
                continue;
            }

            bool known = Array.IndexOf(DataChannels, property.Name) >= 0;
            if (!known && property.Name is not ("corrections" or "cancelErrors"))
            {
                // Unknown keys are ignored, as brokers add channels over time.
                continue;
            }

            if (property.Value.ValueKind != JsonValueKind.Array || property.Value.EnumerateArray().Any(v => v.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(v.GetString())))
            {
                await ErrorAsync(400, "invalid syntax").ConfigureAwait(false);
                return;
            }

            if (known)
            {
                requested[property.Name] = [.. property.Value.EnumerateArray().Select(v => v.GetString()!)];
            }
        }

        Subscriptions updated;
        lock (_subscriptionGate)
        {
            updated = _subscriptions.With(requested, subscribe);
            if (_feedName == "iex" && updated.SymbolCount() > _hub.Options.AlpacaSymbolLimit && updated.SymbolCount() > _subscriptions.SymbolCount())
            {
                updated = null!;
            }
            else
            {
                _subscriptions = updated;
            }
        }

        if (updated is null)
        {
            await ErrorAsync(405, "symbol limit exceeded").ConfigureAwait(false);
            return;
        }

        await SendAsync(new Outgoing(OutgoingKind.Control, updated.ToMessage())).ConfigureAwait(false);
        if (subscribe)
        {
            Feed.StartIfWanted(requested.Values.SelectMany(v => v));
        }
    }

    private async Task ErrorAsync(int code, string message, bool close = false)
    {
        await SendAsync(new Outgoing(OutgoingKind.Control, AlpacaWire.Error(code, message))).ConfigureAwait(false);
        if (close)
        {
            _closing = true;
            await SendAsync(new Outgoing(OutgoingKind.Close, Reason: message)).ConfigureAwait(false);
        }
    }

    private void ReleaseKey()
    {
        if (_key is { } key)
        {
            _hub.KeySlots.TryRemove(new KeyValuePair<string, AlpacaSession>(key, this));
        }
    }

    private async Task WriteLoopAsync()
    {
        var frame = new ArrayBufferWriter<byte>(1 << 16);
        var pending = new List<Outgoing>();
        try
        {
            while (await Queue.WaitToReadAsync(Token).ConfigureAwait(false))
            {
                while (Queue.TryRead(out var item))
                {
                    switch (item.Kind)
                    {
                        case OutgoingKind.Data:
                            pending.Add(item);
                            if (pending.Count >= MaxBatch)
                            {
                                await WriteDataAsync(pending, frame).ConfigureAwait(false);
                            }

                            break;
                        case OutgoingKind.Control:
                            await WriteDataAsync(pending, frame).ConfigureAwait(false);
                            await WriteFrameAsync(item.Bytes!).ConfigureAwait(false);
                            break;
                        case OutgoingKind.Marker:
                            await WriteDataAsync(pending, frame).ConfigureAwait(false);
                            item.Marker!.TrySetResult();
                            break;
                        case OutgoingKind.Close:
                            await WriteDataAsync(pending, frame).ConfigureAwait(false);
                            await CloseAsync(item.Reason ?? string.Empty).ConfigureAwait(false);
                            return;
                    }
                }

                await WriteDataAsync(pending, frame).ConfigureAwait(false);
            }
        }
        finally
        {
            CloseQueue();
        }
    }

    /// <summary>Sends the pending data as one JSON array (Alpaca batches data messages), preceded by a malformed frame when one is due.</summary>
    private async Task WriteDataAsync(List<Outgoing> pending, ArrayBufferWriter<byte> frame)
    {
        if (pending.Count == 0)
        {
            return;
        }

        var s = _subscriptions;
        frame.ResetWrittenCount();
        frame.Write("["u8);
        int messages = 0;
        foreach (var item in pending)
        {
            var e = item.Event!;
            if (e.Kind == MarketEventKind.Tick)
            {
                if (s.Has("trades", e.Symbol))
                {
                    Append(frame, e.Primary!, ref messages);
                }

                if (s.Has("quotes", e.Symbol))
                {
                    Append(frame, e.Secondary!, ref messages);
                }
            }
            else if (s.Has("bars", e.Symbol))
            {
                Append(frame, e.Primary!, ref messages);
            }
        }

        pending.Clear();
        if (messages == 0)
        {
            return;
        }

        frame.Write("]"u8);
        await WriteFrameAsync(frame.WrittenMemory).ConfigureAwait(false);
        Stats.Sent(messages);

        static void Append(ArrayBufferWriter<byte> frame, byte[] element, ref int messages)
        {
            if (messages > 0)
            {
                frame.Write(","u8);
            }

            frame.Write(element);
            messages++;
        }
    }

    private async Task WriteFrameAsync(ReadOnlyMemory<byte> bytes)
    {
        if (await BeforeWriteAsync().ConfigureAwait(false))
        {
            await _socket.SendAsync(AlpacaWire.Malformed(_malformed++), WebSocketMessageType.Text, true, Token).ConfigureAwait(false);
            Stats.Frame();
        }

        if (MsgPackWire)
        {
            await _socket.SendAsync(Wire.MsgPack.FromJson(bytes.Span), WebSocketMessageType.Binary, true, Token).ConfigureAwait(false);
        }
        else
        {
            await _socket.SendAsync(bytes, WebSocketMessageType.Text, true, Token).ConfigureAwait(false);
        }

        Stats.Frame();
    }

    private async Task CloseAsync(string reason)
    {
        var status = reason.Length == 0 ? WebSocketCloseStatus.NormalClosure : WebSocketCloseStatus.PolicyViolation;
        if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            try
            {
                await _socket.CloseOutputAsync(status, reason, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        if (_socket.State != WebSocketState.Closed)
        {
            // Give the client a moment to answer the close; a client that does not is cut off.
            _ = Task.Delay(TimeSpan.FromSeconds(2), _hub.Time, Token).ContinueWith(_ => Abort(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
        }
    }

    /// <summary>An immutable subscription set per channel; replaced as a whole on every change.</summary>
    private sealed class Subscriptions
    {
        private static readonly string[] ReplyChannels = ["trades", "quotes", "bars", "updatedBars", "dailyBars", "statuses", "lulds", "corrections", "cancelErrors"];

        public static readonly Subscriptions Empty = new(DataChannels.ToDictionary(c => c, _ => new List<string>(), StringComparer.Ordinal));
        private readonly Dictionary<string, List<string>> _lists;
        private readonly Dictionary<string, HashSet<string>> _sets;

        private Subscriptions(Dictionary<string, List<string>> lists)
        {
            _lists = lists;
            _sets = lists.ToDictionary(p => p.Key, p => new HashSet<string>(p.Value, StringComparer.Ordinal), StringComparer.Ordinal);
        }

        public bool Has(string channel, string symbol) => _sets[channel] is { Count: > 0 } set && (set.Contains(symbol) || set.Contains("*"));

        /// <summary>Symbols counted against the plan's cap: trades and quotes (a wildcard counts once).</summary>
        public int SymbolCount() => _sets["trades"].Union(_sets["quotes"]).Count();

        public Subscriptions With(Dictionary<string, List<string>> change, bool add)
        {
            var lists = _lists.ToDictionary(p => p.Key, p => new List<string>(p.Value), StringComparer.Ordinal);
            foreach (var (channel, symbols) in change)
            {
                var list = lists[channel];
                foreach (var symbol in symbols)
                {
                    if (add && !list.Contains(symbol))
                    {
                        list.Add(symbol);
                    }
                    else if (!add)
                    {
                        list.Remove(symbol);
                    }
                }
            }

            return new Subscriptions(lists);
        }

        /// <summary>The complete <c>subscription</c> message; corrections and cancel errors follow trades, as on the real server.</summary>
        public byte[] ToMessage() => AlpacaWire.Frame(AlpacaWire.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("T", "subscription");
            foreach (var channel in ReplyChannels)
            {
                w.WriteStartArray(channel);
                foreach (var symbol in _lists[channel is "corrections" or "cancelErrors" ? "trades" : channel])
                {
                    w.WriteStringValue(symbol);
                }

                w.WriteEndArray();
            }

            w.WriteEndObject();
        }));
    }
}
