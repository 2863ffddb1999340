using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text.Json;

namespace Keel.Tests.Server;

/// <summary>
/// The WebSocket streams: every event once and in order, resumable from a sequence after a reconnect, one stream for
/// all runs, tokens required, and a client too slow to read dropped with a reason while the run goes on unslowed.
/// </summary>
public class ServerStreamTests
{
    private static async Task<ClientWebSocket> ConnectAsync(ServerHarness h, string path, string? token = ServerHarness.ReadToken, bool asProtocol = false, int? receiveBuffer = null)
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (token is not null && !asProtocol)
        {
            socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
        }
        else if (token is not null)
        {
            socket.Options.AddSubProtocol("keel");
            socket.Options.AddSubProtocol("keel.bearer." + token);
        }

        var uri = new UriBuilder(h.Server.BaseAddress) { Scheme = "ws", Path = path.Split('?')[0], Query = path.Contains('?', StringComparison.Ordinal) ? path.Split('?', 2)[1] : string.Empty }.Uri;
        if (receiveBuffer is int size)
        {
            // A client whose socket takes little before the server's sends must wait: a slow reader, for real.
            using var handler = new SocketsHttpHandler
            {
                ConnectCallback = async (context, ct) =>
                {
                    var s = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = size };
                    await s.ConnectAsync(context.DnsEndPoint, ct);
                    return new NetworkStream(s, ownsSocket: true);
                },
            };
            using var invoker = new HttpMessageInvoker(handler, disposeHandler: false);
            await socket.ConnectAsync(uri, invoker, CancellationToken.None);
            return socket;
        }

        await socket.ConnectAsync(uri, CancellationToken.None);
        return socket;
    }

    /// <summary>Reads frames until the server closes (or <paramref name="stopAfter"/> events); returns them and the close status.</summary>
    private static async Task<(List<JsonElement> Events, WebSocketCloseStatus? Status, string? Reason)> ReadAsync(ClientWebSocket socket, int stopAfter = int.MaxValue, double seconds = 60)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        var events = new List<JsonElement>();
        var buffer = new byte[64 * 1024];
        var message = new MemoryStream();
        while (events.Count < stopAfter)
        {
            var r = await socket.ReceiveAsync(buffer, timeout.Token);
            if (r.MessageType == WebSocketMessageType.Close)
            {
                return (events, r.CloseStatus, r.CloseStatusDescription);
            }

            message.Write(buffer, 0, r.Count);
            if (r.EndOfMessage)
            {
                events.Add(JsonDocument.Parse(message.ToArray()).RootElement.Clone());
                message.SetLength(0);
            }
        }

        return (events, null, null);
    }

    private static async Task<List<long>> StoredSequencesAsync(ServerHarness h, string id)
    {
        var all = new List<long>();
        long? after = 0;
        while (after is long a)
        {
            var page = (await h.SendAsync(HttpMethod.Get, $"/api/runs/{id}/events?after={a}&limit=5000")).Body;
            all.AddRange(page.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("sequence").GetInt64()));
            after = page.TryGetProperty("next", out var next) ? next.GetInt64() : null;
        }

        return all;
    }

    [Fact]
    public async Task RunStream_OfARecordedRun_SendsEveryEventInOrder_ThenCloses_AndResumesFromASequence()
    {
        await using var h = await ServerHarness.StartAsync();
        var id = await h.CompletedBacktestAsync();
        var stored = await StoredSequencesAsync(h, id);

        using var socket = await ConnectAsync(h, $"/api/runs/{id}/stream?after=0");
        var (events, status, _) = await ReadAsync(socket);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, status);
        Assert.Equal(stored, events.Select(e => e.GetProperty("sequence").GetInt64()));
        Assert.Equal("kernel.state", events[0].GetProperty("type").GetString());

        long middle = stored[stored.Count / 2];
        using var again = await ConnectAsync(h, $"/api/runs/{id}/stream?after={middle}");
        var (rest, _, _) = await ReadAsync(again);
        Assert.Equal(stored.Where(s => s > middle), rest.Select(e => e.GetProperty("sequence").GetInt64()));
    }

    [Fact]
    public async Task RunStream_OfALiveRun_ResumedAfterADisconnect_MissesNothing_AndDoublesNothing()
    {
        await using var h = await ServerHarness.StartAsync();
        var id = await h.StartPaperAsync(speed: "200000000"); // ~0.4 ms between daily bars: a few seconds of run

        var seen = new List<long>();
        using (var first = await ConnectAsync(h, $"/api/runs/{id}/stream"))
        {
            var (events, _, _) = await ReadAsync(first, stopAfter: 20);
            seen.AddRange(events.Select(e => e.GetProperty("sequence").GetInt64()));
            await first.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
        }

        using (var second = await ConnectAsync(h, $"/api/runs/{id}/stream?after={seen[^1]}", ServerHarness.ReadToken, asProtocol: true))
        {
            Assert.Equal("keel", second.SubProtocol);
            var (events, status, _) = await ReadAsync(second);
            Assert.Equal(WebSocketCloseStatus.NormalClosure, status);
            seen.AddRange(events.Select(e => e.GetProperty("sequence").GetInt64()));
        }

        Assert.Equal("completed", (await h.SendAsync(HttpMethod.Get, $"/api/runs/{id}")).Body.GetProperty("status").GetString());
        Assert.Equal(await StoredSequencesAsync(h, id), seen);
    }

    [Fact]
    public async Task AllRunsStream_SendsTheEventsOfARunStartedLater_TaggedWithItsId_ThenItsEnd()
    {
        await using var h = await ServerHarness.StartAsync();
        using var socket = await ConnectAsync(h, "/api/stream");
        var (status, body, _) = await h.SendAsync(HttpMethod.Post, "/api/runs", ServerHarness.TradeToken, ServerHarness.BacktestJson);
        Assert.Equal(201, status);
        var id = body.GetProperty("id").GetString()!;

        var events = new List<JsonElement>();
        while (events.Count == 0 || events[^1].GetProperty("type").GetString() != "run.ended")
        {
            var (batch, closed, _) = await ReadAsync(socket, stopAfter: 1);
            Assert.Null(closed);
            events.AddRange(batch);
        }

        Assert.All(events, e => Assert.Equal(id, e.GetProperty("run").GetString()));
        Assert.Equal("completed", events[^1].GetProperty("status").GetString());
        Assert.Equal(await StoredSequencesAsync(h, id), events.SkipLast(1).Select(e => e.GetProperty("sequence").GetInt64()));
    }

    [Theory]
    [InlineData(null, false, HttpStatusCode.Unauthorized)]
    [InlineData("wrong-token-0123456789abcdef", false, HttpStatusCode.Unauthorized)]
    [InlineData("wrong-token-0123456789abcdef", true, HttpStatusCode.Unauthorized)]
    public async Task Streams_WithoutAValidToken_AreRefusedBeforeTheUpgrade(string? token, bool asProtocol, HttpStatusCode expected)
    {
        await using var h = await ServerHarness.StartAsync();
        var id = await h.CompletedBacktestAsync();
        foreach (var path in new[] { $"/api/runs/{id}/stream", "/api/stream" })
        {
            var ex = await Assert.ThrowsAsync<WebSocketException>(() => ConnectAsync(h, path, token, asProtocol));
            Assert.Contains(((int)expected).ToString(System.Globalization.CultureInfo.InvariantCulture), ex.Message, StringComparison.Ordinal);
        }

        Assert.Equal(400, (await h.SendAsync(HttpMethod.Get, $"/api/runs/{id}/stream")).Status); // not a WebSocket request
        var bad = await Assert.ThrowsAsync<WebSocketException>(() => ConnectAsync(h, $"/api/runs/{id}/stream?after=x"));
        Assert.Contains("400", bad.Message, StringComparison.Ordinal);
        var badAll = await Assert.ThrowsAsync<WebSocketException>(() => ConnectAsync(h, "/api/stream?after=nocolon"));
        Assert.Contains("400", badAll.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SlowClient_IsDisconnectedWithAReason_WhileTheRunCompletesUnslowed()
    {
        await using var h = await ServerHarness.StartAsync(clientBuffer: 16);

        // A backtest that trades every few bars: far more events than the sockets between server and client can hold.
        using var tmp = new Keel.Tests.Support.TempDir();
        var csv = new System.Text.StringBuilder("datetime,open,high,low,close,volume\n");
        var random = new Random(7);
        double price = 100;
        var start = new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        for (int i = 0; i < 60_000; i++)
        {
            double next = Math.Max(1, price + ((random.NextDouble() - 0.5) * 2));
            csv.Append(System.Globalization.CultureInfo.InvariantCulture, $"{start.AddMinutes(i):yyyy-MM-dd HH:mm:ss},{price:F2},{Math.Max(price, next) + 0.1:F2},{Math.Min(price, next) - 0.1:F2},{next:F2},1000\n");
            price = next;
        }

        var file = tmp.Write("walk.csv", csv.ToString());
        var request = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["mode"] = "paper",
            ["options"] = new Dictionary<string, object> { ["replay"] = file, ["strategy"] = "sma-cross", ["param"] = new[] { "fast=2", "slow=3" }, ["speed"] = "max" },
        });
        var (created, body, _) = await h.SendAsync(HttpMethod.Post, "/api/runs", ServerHarness.TradeToken, request);
        Assert.True(created == 201, body.ToString());
        var id = body.GetProperty("id").GetString()!;

        // Connected, but reading nothing: its small socket fills, then its 16-event buffer.
        using var slow = await ConnectAsync(h, $"/api/runs/{id}/stream?after=0", receiveBuffer: 1024);
        await ServerHarness.UntilAsync(() => Task.FromResult(h.Server.Stats.Dropped == 1), "the slow client to be dropped", seconds: 60);
        await ServerHarness.UntilAsync(async () => (await h.SendAsync(HttpMethod.Get, $"/api/runs/{id}")).Body.GetProperty("status").GetString() == "completed", "the run to complete", seconds: 60);

        // What it had been sent, then the close frame with the reason and where to resume.
        var (events, status, reason) = await ReadAsync(slow);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, status);
        Assert.Contains("client too slow", reason, StringComparison.Ordinal);
        Assert.Contains("reconnect with after=", reason, StringComparison.Ordinal);
        Assert.True(events.Count < (await StoredSequencesAsync(h, id)).Count);
        await ServerHarness.UntilAsync(() => Task.FromResult(h.Server.Stats.Clients == 0), "the server to let the client go");
    }
}
