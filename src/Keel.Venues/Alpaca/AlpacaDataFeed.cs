using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using Keel.Domain;
using Keel.Engine.Ports;
using Keel.Venues.Feeds;

namespace Keel.Venues.Alpaca;

/// <summary>
/// Alpaca market data stream v2 (§B.2 of the reference): WebSocket, every server message a JSON array, text or binary
/// frames. Handshake: <c>connected</c> → <c>{"action":"auth",…}</c> → <c>authenticated</c> →
/// <c>{"action":"subscribe",…}</c> → the full <c>subscription</c> set. Error 402 (auth failed), 409 (insufficient
/// subscription) and 405 (symbol limit) are fatal; 406 (connection limit), 404 (auth timeout) and drops are retried
/// with back-off; other errors are counted and reported while streaming continues.
/// </summary>
public sealed class AlpacaDataFeed : StreamingFeed
{
    private readonly AlpacaOptions _options;

    public AlpacaDataFeed(AlpacaOptions options, ReconnectPolicy? policy = null, TimeProvider? time = null, int seed = 1)
        : base("alpaca", policy ?? new ReconnectPolicy { StaleAfter = TimeSpan.FromSeconds(60) }, time, seed)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
    }

    protected override Uri? Endpoint => _options.StreamUrl;

    protected override async Task RunSessionAsync(IReadOnlyList<string> symbols, ILiveDataSink sink, CancellationToken ct)
    {
        using var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.FromSeconds(20);
        socket.Options.CollectHttpResponseDetails = true;
        try
        {
            await socket.ConnectAsync(_options.StreamUrl, ct).ConfigureAwait(false);
        }
        catch (WebSocketException ex) when (socket.HttpStatusCode != 0)
        {
            // A web server that is not a WebSocket endpoint (a wrong path answers 404): say so, not "unable to connect".
            throw new WebSocketException($"the server answered HTTP {(int)socket.HttpStatusCode} ({socket.HttpStatusCode}) instead of opening a WebSocket", ex);
        }

        Connected();
        var handler = new Handler(this, sink, symbols);
        var parser = new AlpacaMessageParser(symbols);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            while (true)
            {
                int length = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    if (length == buffer.Length)
                    {
                        var bigger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                        buffer.AsSpan(0, length).CopyTo(bigger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = bigger;
                    }

                    result = await socket.ReceiveAsync(buffer.AsMemory(length), ct).ConfigureAwait(false);
                    length += result.Count;
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    var status = socket.CloseStatusDescription;
                    try
                    {
                        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, ct).ConfigureAwait(false);
                    }
                    catch (WebSocketException)
                    {
                        // Already gone.
                    }

                    throw new WebSocketException($"the server closed the connection ({socket.CloseStatus}{(string.IsNullOrEmpty(status) ? string.Empty : ": " + status)})");
                }

                MessageReceived();
                parser.Parse(buffer.AsSpan(0, length), Now(), handler);
                if (handler.Pending is { } send)
                {
                    handler.Pending = null;
                    await socket.SendAsync(send, WebSocketMessageType.Text, true, ct).ConfigureAwait(false);
                }

                if (handler.Fatal is { } fatal)
                {
                    throw fatal;
                }

                if (handler.Retry is { } retry)
                {
                    throw new WebSocketException(retry);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            socket.Abort();
        }
    }

    private sealed class Handler(AlpacaDataFeed feed, ILiveDataSink sink, IReadOnlyList<string> symbols) : IAlpacaMessageHandler
    {
        private Phase _phase = Phase.AwaitConnected;

        public byte[]? Pending { get; set; }

        public FatalFeedException? Fatal { get; private set; }

        public string? Retry { get; private set; }

        public void OnTick(in Tick tick)
        {
            feed.CountTick();
            sink.OnTick(tick);
        }

        public void OnBar(in Bar bar)
        {
            feed.CountBar();
            sink.OnBar(bar);
        }

        public void OnMalformed(string detail) => feed.Malformed(detail);

        public void OnControl(AlpacaControl kind, int code, string message)
        {
            switch (kind)
            {
                case AlpacaControl.Success when message == "connected" && _phase == Phase.AwaitConnected:
                    _phase = Phase.AwaitAuthenticated;
                    Pending = Auth(feed._options);
                    return;
                case AlpacaControl.Success when message == "authenticated" && _phase == Phase.AwaitAuthenticated:
                    _phase = Phase.AwaitSubscription;
                    feed.Authenticated();
                    Pending = Subscribe(feed._options, symbols);
                    return;
                case AlpacaControl.Subscription:
                    if (_phase == Phase.AwaitSubscription)
                    {
                        _phase = Phase.Streaming;
                        feed.Subscribed($"subscribed ({message})");
                    }

                    return;
                case AlpacaControl.Error:
                    var text = $"error {code}: {message}";
                    switch (code)
                    {
                        case 402:
                            Fatal = new FatalFeedException($"authentication failed ({text}); check KEEL__ALPACA__KEY and KEEL__ALPACA__SECRET");
                            return;
                        case 409:
                            Fatal = new FatalFeedException($"{text}: the account's plan does not include this feed ({feed._options.StreamUrl.AbsolutePath}); use the iex feed");
                            return;
                        case 405:
                            Fatal = new FatalFeedException($"{text}: too many symbols for the plan", FeedEventKind.ServerError);
                            return;
                        case 406 or 404 or 401 or 407:
                            feed.ServerError(text);
                            Retry = $"server error {text}";
                            return;
                        default:
                            feed.ServerError(text);
                            return;
                    }

                default:
                    return;
            }
        }

        private static byte[] Auth(AlpacaOptions options)
        {
            using var stream = new MemoryStream();
            using (var json = new Utf8JsonWriter(stream))
            {
                json.WriteStartObject();
                json.WriteString("action", "auth");
                json.WriteString("key", options.Key);
                json.WriteString("secret", options.Secret);
                json.WriteEndObject();
            }

            return stream.ToArray();
        }

        private static byte[] Subscribe(AlpacaOptions options, IReadOnlyList<string> symbols)
        {
            using var stream = new MemoryStream();
            using (var json = new Utf8JsonWriter(stream))
            {
                json.WriteStartObject();
                json.WriteString("action", "subscribe");
                void List(string name)
                {
                    json.WriteStartArray(name);
                    foreach (var s in symbols)
                    {
                        json.WriteStringValue(s);
                    }

                    json.WriteEndArray();
                }

                if (options.Trades)
                {
                    List("trades");
                }

                if (options.Quotes)
                {
                    List("quotes");
                }

                if (options.Bars)
                {
                    List("bars");
                }

                json.WriteEndObject();
            }

            return stream.ToArray();
        }

        private enum Phase
        {
            AwaitConnected,
            AwaitAuthenticated,
            AwaitSubscription,
            Streaming,
        }
    }
}
