using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Keel.Sandbox;
using static Keel.Tests.Sandbox.SandboxTesting;

namespace Keel.Tests.Sandbox;

/// <summary>Each fault switch, observed from a raw client.</summary>
public class FaultTests
{
    private static SandboxOptions Generated(int rate = 200)
    {
        var options = Options();
        options.Generator = new SandboxGenerator(["GEN", "GEN_USD"], rate);
        return options;
    }

    [Fact]
    public async Task Drop_AbortsAlpacaAndOandaStreams_WithoutACleanClose()
    {
        await using var server = await SandboxServer.StartAsync(Generated());
        await using var ws = await AlpacaWs.AuthenticatedAsync(server);
        using var http = Oanda(server);
        await using var stream = await OandaStream.OpenAsync(http, "GEN_USD");
        await stream.ReadUntilAsync("PRICE");
        server.Faults.DropConnections();
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            while (await ws.ReceiveTextAsync() is not null)
            {
            }
        });
        await Assert.ThrowsAnyAsync<IOException>(async () =>
        {
            while (true)
            {
                await stream.ReadLineAsync();
            }
        });
        Assert.Equal(1, server.Stats.Alpaca.Drops);
        Assert.Equal(1, server.Stats.Oanda.Drops);
    }

    [Fact]
    public async Task Stall_SendsNothingForTheDuration_OnTheOandaStream_ThenResumes()
    {
        var options = Generated();
        options.HeartbeatInterval = TimeSpan.FromMilliseconds(50);
        await using var server = await SandboxServer.StartAsync(options);
        using var http = Oanda(server);
        await using var stream = await OandaStream.OpenAsync(http, "GEN_USD");
        await stream.ReadUntilAsync("PRICE");
        await AssertStallAsync(server, async () => await stream.ReadLineAsync());
    }

    [Fact]
    public async Task Stall_SendsNothingForTheDuration_OnTheAlpacaStream_ThenResumes()
    {
        await using var server = await SandboxServer.StartAsync(Generated());
        await using var ws = await AlpacaWs.AuthenticatedAsync(server);
        await ws.SendAsync("""{"action":"subscribe","trades":["GEN"]}""");
        await ws.ReceiveArrayAsync();
        await ws.ReceiveUntilAsync("t");
        await AssertStallAsync(server, async () => await ws.ReceiveTextAsync());
    }

    /// <summary>
    /// Stalls for 800 ms while reading: whatever was already in flight may still arrive at once, but after that the
    /// first byte must come no earlier than the end of the stall.
    /// </summary>
    private static async Task AssertStallAsync(SandboxServer server, Func<Task> readOne)
    {
        var stall = TimeSpan.FromMilliseconds(800);
        var clock = Stopwatch.StartNew();
        server.Faults.Stall(stall);
        Assert.NotNull(server.Faults.StalledUntil);
        TimeSpan arrival;
        do
        {
            await readOne();
            arrival = clock.Elapsed;
        }
        while (arrival < TimeSpan.FromMilliseconds(100));

        Assert.True(arrival >= stall - TimeSpan.FromMilliseconds(60), $"data arrived {arrival.TotalMilliseconds} ms into an {stall.TotalMilliseconds} ms stall");
        await readOne();
    }

    [Fact]
    public async Task Malformed_SendsExactlyNBadFramesOnAlpaca_InterleavedWithGoodData()
    {
        await using var server = await SandboxServer.StartAsync(Generated());
        await using var ws = await AlpacaWs.AuthenticatedAsync(server);
        await ws.SendAsync("""{"action":"subscribe","trades":["GEN"]}""");
        await ws.ReceiveArrayAsync();
        await ws.ReceiveUntilAsync("t");
        server.Faults.SendMalformed(3);
        int bad = 0, goodAfterLastBad = 0;
        while (bad < 3 || goodAfterLastBad < 5)
        {
            var text = await ws.ReceiveTextAsync() ?? throw new InvalidOperationException("closed");
            if (IsGoodAlpacaFrame(text))
            {
                goodAfterLastBad++;
            }
            else
            {
                bad++;
                goodAfterLastBad = 0;
            }
        }

        Assert.Equal(3, bad);
        Assert.Equal(3, server.Stats.MalformedSent);
        Assert.Equal(0, server.Faults.MalformedPending);
    }

    [Fact]
    public async Task Malformed_SendsBadLinesOnTheOandaStream_AndGoodPricesContinue()
    {
        await using var server = await SandboxServer.StartAsync(Generated());
        using var http = Oanda(server);
        await using var stream = await OandaStream.OpenAsync(http, "GEN_USD");
        await stream.ReadUntilAsync("PRICE");
        server.Faults.SendMalformed(3);
        int bad = 0, good = 0;
        while (bad < 3 || good < 5)
        {
            var line = await stream.ReadLineAsync();
            bool ok;
            try
            {
                var json = JsonDocument.Parse(line).RootElement;
                ok = json.GetProperty("type").GetString() switch
                {
                    "PRICE" => json.GetProperty("instrument").ValueKind == JsonValueKind.String && json.GetProperty("bids").ValueKind == JsonValueKind.Array
                        && json.GetProperty("time").ValueKind == JsonValueKind.String,
                    "HEARTBEAT" => true,
                    _ => false,
                };
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                ok = false;
            }

            if (ok)
            {
                good++;
            }
            else
            {
                bad++;
            }
        }

        Assert.Equal(3, bad);
    }

    [Fact]
    public async Task RejectAuth_Answers402OnTheAlpacaStream_And401OnRest()
    {
        await using var server = await SandboxServer.StartAsync(Generated());
        server.Faults.RejectAuth = true;
        await using var ws = await AlpacaWs.ConnectAsync(server);
        await ws.ReceiveArrayAsync();
        await ws.SendAsync("""{"action":"auth","key":"sandbox-key","secret":"sandbox-secret"}""");
        AlpacaStreamTests.AssertError(await ws.ReceiveArrayAsync(), 402, "auth failed");
        using var http = Alpaca(server);
        await GetJsonAsync(http, "/v2/stocks/GEN/bars?timeframe=1Min", 401);
        server.Faults.Reset();
        await ws.SendAsync("""{"action":"auth","key":"sandbox-key","secret":"sandbox-secret"}""");
        Assert.Equal("authenticated", (await ws.ReceiveArrayAsync())[0].GetProperty("msg").GetString());
    }

    [Fact]
    public async Task ConnectionLimit_Answers406_EvenForTheFirstConnection()
    {
        await using var server = await SandboxServer.StartAsync(Generated());
        server.Faults.ConnectionLimit = true;
        await using var ws = await AlpacaWs.ConnectAsync(server);
        await ws.ReceiveArrayAsync();
        await ws.SendAsync("""{"action":"auth","key":"sandbox-key","secret":"sandbox-secret"}""");
        AlpacaStreamTests.AssertError(await ws.ReceiveArrayAsync(), 406, "connection limit exceeded");
    }

    [Fact]
    public async Task ControlEndpoint_SwitchesFaults_AndReportsStats_OnBothPorts()
    {
        await using var server = await SandboxServer.StartAsync(Options(1, new SandboxSeries("IDX", MinuteFile)));
        using var control = new HttpClient { BaseAddress = server.OandaRestBase };
        using (var post = await control.PostAsync("/_sandbox/faults", new StringContent("""{"rate_limit_next":2,"reject_auth":true,"malformed":1}""", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.OK, post.StatusCode);
            var state = JsonDocument.Parse(await post.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal(2, state.GetProperty("rate_limit_next").GetInt32());
            Assert.True(state.GetProperty("reject_auth").GetBoolean());
        }

        Assert.True(server.Faults.RejectAuth);
        using var http = Alpaca(server);
        await GetJsonAsync(http, "/v2/stocks/IDX/bars?timeframe=5Min", 429);
        using (var reset = await new HttpClient { BaseAddress = server.AlpacaRestBase }.PostAsync("/_sandbox/faults", new StringContent("""{"reset":true}""")))
        {
            Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        }

        Assert.False(server.Faults.RejectAuth);
        Assert.Equal(0, server.Faults.RateLimitNext);
        using (var wrong = await control.PostAsync("/_sandbox/faults", new StringContent("""{"stall":"long"}""")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
        }

        var stats = await GetJsonAsync(control, "/_sandbox/stats");
        Assert.Equal(1, stats.GetProperty("alpaca").GetProperty("rate_limited").GetInt64());
        Assert.Equal(JsonValueKind.Number, stats.GetProperty("oanda").GetProperty("ticks_lost").ValueKind);
    }

    /// <summary>A frame a strict client accepts: a JSON array of messages with known types and correctly typed fields.</summary>
    private static bool IsGoodAlpacaFrame(string text)
    {
        try
        {
            var root = JsonDocument.Parse(text).RootElement;
            if (root.ValueKind != JsonValueKind.Array)
            {
                return false;
            }

            foreach (var m in root.EnumerateArray())
            {
                switch (m.GetProperty("T").GetString())
                {
                    case "t":
                        _ = m.GetProperty("i").GetInt64();
                        _ = m.GetProperty("S").GetString()!.Length;
                        _ = m.GetProperty("p").GetDecimal();
                        _ = m.GetProperty("s").GetDecimal();
                        _ = DateTimeOffset.Parse(m.GetProperty("t").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
                        if (m.GetProperty("c").ValueKind != JsonValueKind.Array)
                        {
                            return false;
                        }

                        break;
                    case "q" or "b" or "success" or "subscription" or "error":
                        break;
                    default:
                        return false;
                }
            }

            return true;
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or NullReferenceException)
        {
            return false;
        }
    }
}
