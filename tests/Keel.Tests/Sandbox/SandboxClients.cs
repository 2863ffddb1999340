using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Keel.Sandbox;
using Keel.Tests.Support;

namespace Keel.Tests.Sandbox;

/// <summary>Raw protocol clients for the sandbox tests: a bare <see cref="ClientWebSocket"/> and <see cref="HttpClient"/>, not Keel's venue clients.</summary>
internal static class SandboxTesting
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    public static string Fixture(string name) => TestPaths.Data(Path.Combine("fixtures", name));

    public static string MinuteFile => TestPaths.Data("2006-min-005.txt");

    public static SandboxOptions Options(double speed = double.PositiveInfinity, params SandboxSeries[] series)
    {
        var options = new SandboxOptions { Speed = speed };
        foreach (var s in series)
        {
            options.Series.Add(s);
        }

        return options;
    }

    /// <summary>Waits until <paramref name="condition"/> holds, polling; fails after the timeout (never a bare sleep).</summary>
    public static async Task Eventually(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > (timeout ?? Timeout))
            {
                Assert.Fail($"timed out waiting for {what}");
            }

            await Task.Delay(10);
        }
    }

    public static HttpClient Alpaca(SandboxServer server, bool auth = true)
    {
        var http = new HttpClient { BaseAddress = server.AlpacaRestBase, Timeout = Timeout };
        if (auth)
        {
            http.DefaultRequestHeaders.Add("APCA-API-KEY-ID", "sandbox-key");
            http.DefaultRequestHeaders.Add("APCA-API-SECRET-KEY", "sandbox-secret");
        }

        return http;
    }

    public static HttpClient Oanda(SandboxServer server, string token = "sandbox-token")
    {
        var http = new HttpClient { BaseAddress = server.OandaRestBase, Timeout = System.Threading.Timeout.InfiniteTimeSpan };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    public static async Task<JsonElement> GetJsonAsync(HttpClient http, string url, int expectedStatus = 200)
    {
        using var response = await http.GetAsync(url);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == expectedStatus, $"GET {url} answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}

/// <summary>An Alpaca market data WebSocket client at the frame level.</summary>
internal sealed class AlpacaWs : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;

    private AlpacaWs(ClientWebSocket socket) => _socket = socket;

    public WebSocketState State => _socket.State;

    /// <summary>The upgrade response's headers (e.g. <c>Sec-WebSocket-Extensions</c>).</summary>
    public IReadOnlyDictionary<string, IEnumerable<string>>? UpgradeHeaders => _socket.HttpResponseHeaders;

    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    public static async Task<AlpacaWs> ConnectAsync(SandboxServer server, string feed = "iex", (string Key, string Secret)? headers = null, bool deflate = false)
    {
        var socket = new ClientWebSocket();
        if (deflate)
        {
            socket.Options.DangerousDeflateOptions = new WebSocketDeflateOptions();
        }

        socket.Options.CollectHttpResponseDetails = true;

        if (headers is { } h)
        {
            socket.Options.SetRequestHeader("APCA-API-KEY-ID", h.Key);
            socket.Options.SetRequestHeader("APCA-API-SECRET-KEY", h.Secret);
        }

        using var cts = new CancellationTokenSource(SandboxTesting.Timeout);
        await socket.ConnectAsync(new Uri(server.AlpacaStreamBase, "/v2/" + feed), cts.Token);
        return new AlpacaWs(socket);
    }

    /// <summary>Connects, checks the greeting and authenticates with the default sandbox credentials.</summary>
    public static async Task<AlpacaWs> AuthenticatedAsync(SandboxServer server, string feed = "iex")
    {
        var ws = await ConnectAsync(server, feed);
        Assert.Equal("connected", (await ws.ReceiveArrayAsync())[0].GetProperty("msg").GetString());
        await ws.SendAsync("""{"action":"auth","key":"sandbox-key","secret":"sandbox-secret"}""");
        Assert.Equal("authenticated", (await ws.ReceiveArrayAsync())[0].GetProperty("msg").GetString());
        return ws;
    }

    public async Task SendAsync(string text)
    {
        using var cts = new CancellationTokenSource(SandboxTesting.Timeout);
        await _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, cts.Token);
    }

    /// <summary>The next frame as text, or null when the server closed. Asserts text frames.</summary>
    public async Task<string?> ReceiveTextAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? SandboxTesting.Timeout);
        var buffer = new byte[1 << 16];
        using var message = new MemoryStream();
        ValueWebSocketReceiveResult result;
        do
        {
            result = await _socket.ReceiveAsync(buffer.AsMemory(), cts.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            Assert.Equal(WebSocketMessageType.Text, result.MessageType);
            message.Write(buffer, 0, result.Count);
        }
        while (!result.EndOfMessage);
        return Encoding.UTF8.GetString(message.ToArray());
    }

    /// <summary>The next frame, which must be a JSON array (every Alpaca server message is).</summary>
    public async Task<JsonElement> ReceiveArrayAsync(TimeSpan? timeout = null)
    {
        var text = await ReceiveTextAsync(timeout) ?? throw new InvalidOperationException("the server closed the connection");
        var root = JsonDocument.Parse(text).RootElement.Clone();
        Assert.Equal(JsonValueKind.Array, root.ValueKind);
        return root;
    }

    /// <summary>Reads frames until one holds a message of type <paramref name="type"/>.</summary>
    public async Task<JsonElement> ReceiveUntilAsync(string type)
    {
        while (true)
        {
            foreach (var m in (await ReceiveArrayAsync()).EnumerateArray())
            {
                if (m.GetProperty("T").GetString() == type)
                {
                    return m;
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", cts.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
            }
        }

        _socket.Dispose();
    }
}

/// <summary>An OANDA pricing stream read line by line.</summary>
internal sealed class OandaStream : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private OandaStream(HttpResponseMessage response, StreamReader reader)
    {
        _response = response;
        _reader = reader;
    }

    public HttpResponseMessage Response => _response;

    public static async Task<OandaStream> OpenAsync(HttpClient http, string instruments, string account = "101-001-0000001-001", string? query = null)
    {
        var response = await http.GetAsync($"/v3/accounts/{account}/pricing/stream?instruments={instruments}{query}", HttpCompletionOption.ResponseHeadersRead);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        return new OandaStream(response, reader);
    }

    public async Task<string> ReadLineAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? SandboxTesting.Timeout);
        return await _reader.ReadLineAsync(cts.Token) ?? throw new InvalidOperationException("the stream ended");
    }

    public async Task<JsonElement> ReadJsonAsync(TimeSpan? timeout = null) => JsonDocument.Parse(await ReadLineAsync(timeout)).RootElement.Clone();

    public async Task<JsonElement> ReadUntilAsync(string type)
    {
        while (true)
        {
            var line = await ReadJsonAsync();
            if (line.GetProperty("type").GetString() == type)
            {
                return line;
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _response.Dispose();
        return ValueTask.CompletedTask;
    }
}
