using System.Net;

namespace Keel.Tests.Sandbox.OandaTrading;

/// <summary>Each <c>/_sandbox/oanda/faults</c> switch, by what a client sees.</summary>
public class OandaTradingFaultTests
{
    private const string Buy = """{"type":"MARKET","instrument":"EUR_USD","units":"10"}""";

    [Fact]
    public async Task RateLimit_Answers429WithRetryAfter_ThenRecovers()
    {
        await using var c = await OandaTradingClient.StartAsync();
        Assert.Equal(HttpStatusCode.OK, (await c.FaultsAsync("""{"rate_limit_next":1,"retry_after_s":3}""")).Status);
        var limited = await c.GetAsync("/summary");
        Assert.Equal((HttpStatusCode)429, limited.Status);
        Assert.Equal(TimeSpan.FromSeconds(3), limited.Headers.RetryAfter?.Delta);
        Assert.True(limited.Has("errorMessage"));
        Assert.Equal(HttpStatusCode.OK, (await c.GetAsync("/summary")).Status);
    }

    [Fact]
    public async Task OrderError_Answers503_AndCreatesNothing()
    {
        await using var c = await OandaTradingClient.StartAsync();
        await c.PricesAsync("1.10000");
        long before = await c.LastIdAsync();
        await c.FaultsAsync("""{"order_error_next":1}""");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await c.OrderAsync(Buy)).Status);
        Assert.Equal(before, await c.LastIdAsync());
        Assert.Equal(HttpStatusCode.Created, (await c.OrderAsync(Buy)).Status);
    }

    [Fact]
    public async Task LostResponse_AbortsTheConnection_ButTheOrderFilled()
    {
        await using var c = await OandaTradingClient.StartAsync();
        await c.PricesAsync("1.10000");
        long before = await c.LastIdAsync();
        await c.FaultsAsync("""{"lose_order_response_next":1}""");
        await Assert.ThrowsAsync<HttpRequestException>(() => c.OrderAsync("""{"type":"MARKET","instrument":"EUR_USD","units":"10","clientExtensions":{"id":"lost-1"}}"""));
        var after = await c.SinceAsync(before);
        Assert.Equal(["MARKET_ORDER", "ORDER_FILL"], after.Select(t => t.GetProperty("type").GetString()!));
        Assert.Equal("lost-1", after[1].GetProperty("clientOrderID").GetString());
    }

    [Fact]
    public async Task SlowResponse_OutlastsTheClientTimeout_ButTheOrderFilled()
    {
        await using var c = await OandaTradingClient.StartAsync();
        await c.PricesAsync("1.10000");
        long before = await c.LastIdAsync();
        await c.FaultsAsync("""{"slow_next":1,"slow_ms":3000}""");
        using var impatient = new HttpClient { BaseAddress = c.Server.OandaRestBase, Timeout = TimeSpan.FromMilliseconds(300) };
        impatient.DefaultRequestHeaders.Authorization = c.Http.DefaultRequestHeaders.Authorization;
        using var content = new StringContent("{\"order\":" + Buy + "}", System.Text.Encoding.UTF8, "application/json");
        await Assert.ThrowsAnyAsync<TaskCanceledException>(() => impatient.PostAsync("/v3/accounts/" + OandaTradingClient.Account + "/orders", content));
        Assert.Equal(2, (await c.SinceAsync(before)).Count);
    }

    [Fact]
    public async Task Stream_DuplicateAndOutOfOrderLines()
    {
        await using var c = await OandaTradingClient.StartAsync();
        await c.PricesAsync("1.10000");
        await using var stream = await TransactionStream.OpenAsync(c);
        await c.FaultsAsync("""{"stream_duplicate_next":1}""");
        var reply = await c.OrderAsync(Buy);
        string create = reply.S("orderCreateTransaction", "id"), fill = reply.S("orderFillTransaction", "id");
        var ids = new List<string?>();
        for (int i = 0; i < 3; i++)
        {
            ids.Add((await stream.NextTransactionAsync()).GetProperty("id").GetString());
        }

        Assert.Equal([create, create, fill], ids);

        await c.FaultsAsync("""{"stream_out_of_order_next":1}""");
        reply = await c.OrderAsync(Buy);
        create = reply.S("orderCreateTransaction", "id");
        fill = reply.S("orderFillTransaction", "id");
        Assert.Equal(fill, (await stream.NextTransactionAsync()).GetProperty("id").GetString());
        Assert.Equal(create, (await stream.NextTransactionAsync()).GetProperty("id").GetString());
    }

    [Fact]
    public async Task Stream_SilentWithHeartbeats_WhileFillsHappen()
    {
        await using var c = await OandaTradingClient.StartAsync();
        await c.PricesAsync("1.10000");
        await using var stream = await TransactionStream.OpenAsync(c);
        await c.FaultsAsync("""{"stream_silence":"heartbeats"}""");
        var fill = (await c.OrderAsync(Buy)).S("orderFillTransaction", "id");

        // Heartbeats go on and reveal the new last id; the transactions themselves never come.
        for (int seen = 0; seen < 3;)
        {
            var line = await stream.NextAsync();
            Assert.NotNull(line);
            Assert.Equal("HEARTBEAT", line.Value.GetProperty("type").GetString());
            if (line.Value.GetProperty("lastTransactionID").GetString() == fill)
            {
                seen++;
            }
        }

        await c.FaultsAsync("""{"stream_silence":"nothing"}""");
        await Task.Yield();
        var drained = await stream.NextAsync(TimeSpan.FromSeconds(1)); // at most one heartbeat already queued
        Assert.Null(drained is { } d && d.GetProperty("type").GetString() == "HEARTBEAT" ? await stream.NextAsync(TimeSpan.FromSeconds(1)) : drained);
    }
}
