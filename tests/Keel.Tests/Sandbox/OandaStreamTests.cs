using System.Net;
using System.Text.Json;
using Keel.Domain;
using Keel.Sandbox;
using static Keel.Tests.Sandbox.SandboxTesting;

namespace Keel.Tests.Sandbox;

/// <summary>The OANDA v20 pricing stream (brokers.md D.6): chunked NDJSON, snapshot, heartbeats.</summary>
public class OandaStreamTests
{
    private static void AssertPriceLine(JsonElement line, string instrument)
    {
        var fixture = JsonDocument.Parse(File.ReadLines(Fixture("oanda.pricing_stream.jsonl")).Last()).RootElement;
        foreach (var p in fixture.EnumerateObject())
        {
            Assert.True(line.TryGetProperty(p.Name, out var v), $"missing '{p.Name}'");
            Assert.Equal(p.Value.ValueKind, v.ValueKind);
        }

        Assert.Equal(instrument, line.GetProperty("instrument").GetString());
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$", line.GetProperty("time").GetString());
        Assert.Equal(JsonValueKind.String, line.GetProperty("bids")[0].GetProperty("price").ValueKind);
        Assert.Equal(JsonValueKind.Number, line.GetProperty("bids")[0].GetProperty("liquidity").ValueKind);
        Assert.Equal(line.GetProperty("bids")[0].GetProperty("price").GetString(), line.GetProperty("closeoutBid").GetString());
    }

    private static decimal Mid(JsonElement line) =>
        (decimal.Parse(line.GetProperty("bids")[0].GetProperty("price").GetString()!, System.Globalization.CultureInfo.InvariantCulture)
         + decimal.Parse(line.GetProperty("asks")[0].GetProperty("price").GetString()!, System.Globalization.CultureInfo.InvariantCulture)) / 2;

    [Fact]
    public async Task Stream_IsChunkedNdjson_WithPricesWhoseMidIsTheReplayedPrice()
    {
        var options = Options(double.PositiveInfinity, new SandboxSeries("IDX_USD", MinuteFile));
        options.HalfSpread = 0.005m;
        await using var server = await SandboxServer.StartAsync(options);
        using var http = Oanda(server);
        await using var stream = await OandaStream.OpenAsync(http, "IDX_USD");
        Assert.Equal(HttpStatusCode.OK, stream.Response.StatusCode);
        Assert.True(stream.Response.Headers.TransferEncodingChunked, "the stream must be HTTP/1.1 chunked");
        Assert.Equal(HttpVersion.Version11, stream.Response.Version);
        var first = await stream.ReadUntilAsync("PRICE");
        AssertPriceLine(first, "IDX_USD");
        Assert.Equal("3578.725", first.GetProperty("bids")[0].GetProperty("price").GetString());
        Assert.Equal("3578.735", first.GetProperty("asks")[0].GetProperty("price").GetString());
        Assert.Equal(3578.73m, Mid(first));
        Assert.Equal("2006-01-02T09:05:00.000000000Z", first.GetProperty("time").GetString());

        // All four ticks of the first bar follow, in the replay order.
        var mids = new List<decimal> { Mid(first) };
        while (mids.Count < 4)
        {
            mids.Add(Mid(await stream.ReadUntilAsync("PRICE")));
        }

        Assert.Equal([3578.73m, 3578.73m, 3587.88m, 3582.99m], mids);
    }

    [Fact]
    public async Task Heartbeats_ComeEveryInterval_EvenWithoutData()
    {
        var options = Options(1, new SandboxSeries("IDX_USD", MinuteFile));
        options.HeartbeatInterval = TimeSpan.FromMilliseconds(100);
        await using var server = await SandboxServer.StartAsync(options);
        using var http = Oanda(server);
        await using var stream = await OandaStream.OpenAsync(http, "IDX_USD", query: "&snapshot=false");
        for (int i = 0; i < 3; i++)
        {
            var beat = await stream.ReadUntilAsync("HEARTBEAT");
            Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$", beat.GetProperty("time").GetString());
        }

        Assert.True(server.Stats.Oanda.HeartbeatsSent >= 3);
    }

    [Fact]
    public async Task Snapshot_SendsTheCurrentPriceFirst()
    {
        var options = Options(1, new SandboxSeries("IDX_USD", MinuteFile));
        options.HeartbeatInterval = TimeSpan.FromSeconds(30);
        await using var server = await SandboxServer.StartAsync(options);
        using var http = Oanda(server);
        await using var first = await OandaStream.OpenAsync(http, "IDX_USD");
        var price = await first.ReadUntilAsync("PRICE");

        // At speed 1 the next tick is 75 s away: the only thing a second stream can receive now is the snapshot.
        await using var second = await OandaStream.OpenAsync(http, "IDX_USD");
        var snapshot = await second.ReadJsonAsync();
        Assert.Equal("PRICE", snapshot.GetProperty("type").GetString());
        Assert.Equal(price.GetRawText(), snapshot.GetRawText());
    }

    [Fact]
    public async Task Stream_ChecksTokenAccountAndInstruments()
    {
        await using var server = await SandboxServer.StartAsync(Options(1, new SandboxSeries("IDX_USD", MinuteFile)));
        using var http = Oanda(server);
        Assert.Equal("Invalid value specified for 'instruments'", (await GetJsonAsync(http, "/v3/accounts/101-001-0000001-001/pricing/stream?instruments=IDX_USD,NOPE_USD", 400)).GetProperty("errorMessage").GetString());
        Assert.Equal("Insufficient authorization to perform request.", (await GetJsonAsync(http, "/v3/accounts/101-001-9999999-001/pricing/stream?instruments=IDX_USD", 401)).GetProperty("errorMessage").GetString());
        using var stranger = Oanda(server, "wrong");
        Assert.Equal("Insufficient authorization to perform request.", (await GetJsonAsync(stranger, "/v3/accounts/101-001-0000001-001/pricing/stream?instruments=IDX_USD", 401)).GetProperty("errorMessage").GetString());
        server.Faults.RejectAuth = true;
        await GetJsonAsync(http, "/v3/accounts/101-001-0000001-001/pricing/stream?instruments=IDX_USD", 401);
    }

    [Fact]
    public async Task UnixTimes_AreHonouredOnTheStream()
    {
        await using var server = await SandboxServer.StartAsync(Options(1, new SandboxSeries("IDX_USD", MinuteFile)));
        using var http = Oanda(server);
        http.DefaultRequestHeaders.Add("Accept-Datetime-Format", "UNIX");
        await using var stream = await OandaStream.OpenAsync(http, "IDX_USD");
        var price = await stream.ReadUntilAsync("PRICE");
        Assert.Equal(Timestamp.Parse("2006-01-02T09:05:00Z").UnixNanos / Timestamp.NanosPerSecond + ".000000000", price.GetProperty("time").GetString());
    }
}
