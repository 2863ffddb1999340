using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Keel.Sandbox;
using Keel.Sandbox.Wire;
using static Keel.Tests.Sandbox.SandboxTesting;

namespace Keel.Tests.Sandbox;

/// <summary>
/// MessagePack on the Alpaca data stream, as alpaca-py asks for it (<c>Content-Type: application/msgpack</c> on the
/// upgrade): binary frames both ways, times as MessagePack timestamps (extension −1).
/// </summary>
public class MsgPackTests
{
    [Fact]
    public void EncodingFollowsTheSpecificationByteForByte()
    {
        // {"T":"t","p":126.55,"s":1,"t":"2021-02-22T15:51:44.208Z"} written out by hand from the MessagePack spec.
        var bytes = MsgPack.FromJson("""{"T":"t","p":126.55,"s":1,"t":"2021-02-22T15:51:44.208Z"}"""u8);
        byte[] expected =
        [
            0x84, // fixmap, 4 entries
            0xa1, (byte)'T', 0xa1, (byte)'t',
            0xa1, (byte)'p', 0xcb, .. BitConverter.GetBytes(126.55).Reverse(),
            0xa1, (byte)'s', 0x01,
            0xa1, (byte)'t', 0xc7, 0x0c, 0xff, 0x0c, 0x65, 0xd4, 0x00, 0x00, 0x00, 0x00, 0x00, 0x60, 0x33, 0xd3, 0x10,
        ];
        Assert.Equal(expected, bytes);
        Assert.Equal("""{"T":"t","p":126.55,"s":1,"t":"2021-02-22T15:51:44.208Z"}""", Encoding.UTF8.GetString(MsgPack.ToJson(bytes)));
    }

    [Theory]
    [InlineData(40)]
    [InlineData(300)]
    [InlineData(70_000)]
    public void LongStringsMapsAndWideIntegersRoundTrip(int length)
    {
        var text = new string('x', length);
        var fields = string.Join(",", Enumerable.Range(0, 20).Select(i => $"\"k{i}\":{(i % 2 == 0 ? -100_000L * i : 5_000_000_000L + i)}"));
        var json = $"{{\"s\":\"{text}\",{fields},\"a\":[{string.Join(",", Enumerable.Range(0, 20))}]}}";
        var bytes = MsgPack.FromJson(Encoding.UTF8.GetBytes(json));
        Assert.Equal(json, Encoding.UTF8.GetString(MsgPack.ToJson(bytes)));
        Assert.Equal(0xde, bytes[0]); // 22 entries: map 16
    }

    [Theory]
    [InlineData(new byte[] { 0xd6, 0xff, 0x60, 0x33, 0xd3, 0x10 }, "2021-02-22T15:51:44Z")] // timestamp 32
    [InlineData(new byte[] { 0xd7, 0xff, 0x31, 0x97, 0x50, 0x00, 0x60, 0x33, 0xd3, 0x10 }, "2021-02-22T15:51:44.208Z")] // timestamp 64: 208,000,000 ns << 2
    public void TheShorterTimestampFormsAreReadToo(byte[] timestamp, string expected)
    {
        byte[] data = [0x81, 0xa1, (byte)'t', .. timestamp];
        Assert.Equal($$"""{"t":"{{expected}}"}""", Encoding.UTF8.GetString(MsgPack.ToJson(data)));
    }

    [Theory]
    [InlineData(new byte[] { 0x82, 0xa1, (byte)'a' })]
    [InlineData(new byte[] { 0x81, 0x01, 0x02 })]
    [InlineData(new byte[] { 0xc1 })]
    [InlineData(new byte[] { 0xd4, 0x05, 0x00 })] // an extension type other than the timestamp
    [InlineData(new byte[] { 0xc7, 0x0c, 0xff, 0x00 })] // a timestamp cut short
    [InlineData(new byte[] { 0x01, 0x02 })] // bytes after the value
    public void MalformedMessagePackIsRefused(byte[] data) => Assert.Throws<FormatException>(() => MsgPack.ToJson(data));

    [Fact]
    public async Task AMsgPackClientGetsBinaryFramesAndTimestampExtensions()
    {
        await using var server = await SandboxServer.StartAsync(Options(double.PositiveInfinity, new SandboxSeries("IDX", MinuteFile)));
        using var socket = await ConnectWithContentType(server.AlpacaStreamBase, "/v2/iex", "application/msgpack");

        async Task<(WebSocketMessageType Type, byte[] Bytes)> Receive()
        {
            using var cts = new CancellationTokenSource(SandboxTesting.Timeout);
            var buffer = new byte[1 << 20];
            int n = 0;
            ValueWebSocketReceiveResult r;
            do
            {
                r = await socket.ReceiveAsync(buffer.AsMemory(n), cts.Token);
                n += r.Count;
            }
            while (!r.EndOfMessage);
            return (r.MessageType, buffer[..n]);
        }

        Task Send(string json) => socket.SendAsync(MsgPack.FromJson(Encoding.UTF8.GetBytes(json)), WebSocketMessageType.Binary, true, CancellationToken.None);

        var connected = await Receive();
        Assert.Equal(WebSocketMessageType.Binary, connected.Type);
        Assert.Equal("""[{"T":"success","msg":"connected"}]""", Encoding.UTF8.GetString(MsgPack.ToJson(connected.Bytes)));
        await Send("""{"action":"auth","key":"sandbox-key","secret":"sandbox-secret"}""");
        Assert.Equal("""[{"T":"success","msg":"authenticated"}]""", Encoding.UTF8.GetString(MsgPack.ToJson((await Receive()).Bytes)));
        await Send("""{"action":"subscribe","trades":["IDX"]}""");
        var subscription = JsonDocument.Parse(MsgPack.ToJson((await Receive()).Bytes)).RootElement[0];
        Assert.Equal("subscription", subscription.GetProperty("T").GetString());

        var data = await Receive();
        Assert.Equal(WebSocketMessageType.Binary, data.Type);
        Assert.True(data.Bytes.AsSpan().IndexOf(new byte[] { 0xa1, (byte)'t', 0xc7, 0x0c, 0xff }) > 0, "the trade time should be a MessagePack timestamp");
        var first = JsonDocument.Parse(MsgPack.ToJson(data.Bytes)).RootElement[0];
        Assert.Equal("t", first.GetProperty("T").GetString());
        Assert.Equal("IDX", first.GetProperty("S").GetString());
        Assert.Equal("2006-01-02T09:05:00Z", first.GetProperty("t").GetString());
        Assert.Equal(3578.73, first.GetProperty("p").GetDouble());
    }

    /// <summary>
    /// ClientWebSocket drops a Content-Type header on the upgrade (it is a content header on a GET), so the handshake is
    /// written by hand, as Python's websockets library sends it, and the stream is then wrapped as a client WebSocket.
    /// </summary>
    private static async Task<WebSocket> ConnectWithContentType(Uri server, string path, string contentType)
    {
        var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(server.Host, server.Port);
        var stream = tcp.GetStream();
        var key = Convert.ToBase64String(Guid.NewGuid().ToByteArray());
        var request = $"GET {path} HTTP/1.1\r\nHost: {server.Authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + $"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nContent-Type: {contentType}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        var head = new List<byte>();
        var one = new byte[1];
        while (!(head.Count >= 4 && head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n'))
        {
            if (await stream.ReadAsync(one) == 0)
            {
                throw new IOException("the server closed the connection during the handshake");
            }

            head.Add(one[0]);
        }

        var response = Encoding.ASCII.GetString([.. head]);
        Assert.StartsWith("HTTP/1.1 101", response, StringComparison.Ordinal);
        return WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = TimeSpan.Zero });
    }
}
