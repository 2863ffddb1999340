using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Keel.Sandbox;
using static Keel.Tests.Sandbox.SandboxTesting;

namespace Keel.Tests.Sandbox;

/// <summary>The sandbox's Alpaca Trading API v2 and trade_updates stream, seen from raw HTTP and WebSocket clients.</summary>
public class AlpacaTradingTests
{
    private static async Task<SandboxServer> StartAsync(decimal halfSpread = 0m)
    {
        var options = Options();
        options.HalfSpread = halfSpread;
        return await SandboxServer.StartAsync(options);
    }

    [Fact]
    public async Task MarketOrder_FillsAtTheNextPrice_BuyingAtTheAsk()
    {
        await using var server = await StartAsync(halfSpread: 0.01m);
        using var http = Alpaca(server);
        await Trading.PricesAsync(http, "AAPL", "100");
        var placed = await Trading.PostOrderAsync(http, """{"symbol":"AAPL","qty":"10","side":"buy","type":"market","time_in_force":"day","client_order_id":"m-1"}""");
        Assert.Equal("new", placed.GetProperty("status").GetString());
        Assert.Equal("10", placed.GetProperty("qty").GetString());
        Assert.Equal("0", placed.GetProperty("filled_qty").GetString());
        Assert.Equal(JsonValueKind.Null, placed.GetProperty("filled_avg_price").ValueKind);

        await Trading.PricesAsync(http, "AAPL", "101");
        var order = await GetJsonAsync(http, "/v2/orders/" + placed.GetProperty("id").GetString());
        Assert.Equal("filled", order.GetProperty("status").GetString());
        Assert.Equal("101.01", order.GetProperty("filled_avg_price").GetString());
        Assert.Equal("10", order.GetProperty("filled_qty").GetString());
        Assert.Equal(JsonValueKind.String, order.GetProperty("filled_at").ValueKind);

        var position = await GetJsonAsync(http, "/v2/positions/AAPL");
        Assert.Equal("10", position.GetProperty("qty").GetString());
        Assert.Equal("101.01", position.GetProperty("avg_entry_price").GetString());
        Assert.Equal("long", position.GetProperty("side").GetString());
        var account = await GetJsonAsync(http, "/v2/account");
        Assert.Equal("98989.9", account.GetProperty("cash").GetString());
        Assert.False(account.TryGetProperty("pattern_day_trader", out _));
    }

    [Fact]
    public async Task LimitOrder_WaitsUntilThePriceReachesIt_ThenFillsAtThatPrice()
    {
        await using var server = await StartAsync();
        using var http = Alpaca(server);
        await Trading.PricesAsync(http, "MSFT", "100");
        var placed = await Trading.PostOrderAsync(http, """{"symbol":"MSFT","qty":5,"side":"buy","type":"limit","limit_price":99.5,"time_in_force":"gtc"}""");
        string id = placed.GetProperty("id").GetString()!;
        await Trading.PricesAsync(http, "MSFT", "100.2", "99.8");
        Assert.Equal("new", (await GetJsonAsync(http, "/v2/orders/" + id)).GetProperty("status").GetString());
        await Trading.PricesAsync(http, "MSFT", "99.4");
        var order = await GetJsonAsync(http, "/v2/orders/" + id);
        Assert.Equal("filled", order.GetProperty("status").GetString());
        Assert.Equal("99.4", order.GetProperty("filled_avg_price").GetString());
        Assert.Equal("99.5", order.GetProperty("limit_price").GetString());
    }

    [Fact]
    public async Task DuplicateClientOrderId_Answers422_EvenAfterCancel_AndLeavesTheOriginal()
    {
        await using var server = await StartAsync();
        using var http = Alpaca(server);
        await Trading.PricesAsync(http, "AAPL", "100");
        var first = await Trading.PostOrderAsync(http, """{"symbol":"AAPL","qty":"1","side":"buy","type":"limit","limit_price":"90","time_in_force":"gtc","client_order_id":"dup-1"}""");
        using (var cancel = await http.DeleteAsync("/v2/orders/" + first.GetProperty("id").GetString()))
        {
            Assert.Equal(HttpStatusCode.NoContent, cancel.StatusCode);
        }

        var (status, body) = await Trading.PostAsync(http, "/v2/orders", """{"symbol":"AAPL","qty":"2","side":"buy","type":"limit","limit_price":"95","time_in_force":"gtc","client_order_id":"dup-1"}""");
        Assert.Equal(422, status);
        Assert.Equal(40010001, body.GetProperty("code").GetInt32());
        Assert.Equal("client_order_id must be unique", body.GetProperty("message").GetString());
        var original = await GetJsonAsync(http, "/v2/orders:by_client_order_id?client_order_id=dup-1");
        Assert.Equal(first.GetProperty("id").GetString(), original.GetProperty("id").GetString());
        Assert.Equal("90", original.GetProperty("limit_price").GetString());
        Assert.Equal("canceled", original.GetProperty("status").GetString());
        Assert.Single((await GetJsonAsync(http, "/v2/orders?status=all")).EnumerateArray());
    }

    [Fact]
    public async Task InsufficientBuyingPower_Answers403_WithTheAlpacaBody()
    {
        await using var server = await StartAsync();
        using var http = Alpaca(server);
        await Trading.PostAsync(http, "/_sandbox/alpaca/reset", """{"cash":"1000"}""");
        await Trading.PricesAsync(http, "AAPL", "100");
        var (status, body) = await Trading.PostAsync(http, "/v2/orders", """{"symbol":"AAPL","qty":"11","side":"buy","type":"limit","limit_price":"100","time_in_force":"day"}""");
        Assert.Equal(403, status);
        Assert.Equal(40310000, body.GetProperty("code").GetInt32());
        Assert.Equal("insufficient buying power", body.GetProperty("message").GetString());
        Assert.Equal("1000", body.GetProperty("buying_power").GetString());

        // Open buy orders hold buying power: 6 + 5 shares at 100 do not fit into 1000.
        await Trading.PostOrderAsync(http, """{"symbol":"AAPL","qty":"6","side":"buy","type":"limit","limit_price":"100","time_in_force":"day"}""");
        Assert.Equal(403, (await Trading.PostAsync(http, "/v2/orders", """{"symbol":"AAPL","qty":"5","side":"buy","type":"limit","limit_price":"100","time_in_force":"day"}""")).Status);
    }

    [Fact]
    public async Task InvalidRequests_AnswerAlpacaShapedErrors_AndNeverCrash()
    {
        await using var server = await StartAsync();
        using var http = Alpaca(server);
        await Trading.PricesAsync(http, "AAPL", "100");
        var (status, body) = await Trading.PostAsync(http, "/v2/orders", "{not json");
        Assert.Equal((400, 40010000), (status, body.GetProperty("code").GetInt32()));
        (status, body) = await Trading.PostAsync(http, "/v2/orders", """{"symbol":"AAPL","qty":"1","side":"buy","type":"limit","time_in_force":"day"}""");
        Assert.Equal((422, 40010001), (status, body.GetProperty("code").GetInt32()));
        (status, body) = await Trading.PostAsync(http, "/v2/orders", $$"""{"symbol":"AAPL","qty":"1","side":"buy","type":"market","time_in_force":"day","client_order_id":"{{new string('x', 129)}}"}""");
        Assert.Equal(422, status);
        Assert.Equal("client_order_id must be no more than 128 characters", body.GetProperty("message").GetString());
        (status, _) = await Trading.PostAsync(http, "/v2/orders", """{"symbol":"NOPE","qty":"1","side":"buy","type":"market","time_in_force":"day"}""");
        Assert.Equal(422, status);
        (status, body) = await Trading.PostAsync(http, "/v2/orders", """[1,2]""");
        Assert.Equal(400, status);
        using var noKeys = Alpaca(server, auth: false);
        using var unauthorized = await noKeys.GetAsync("/v2/account");
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
        using var missing = await http.GetAsync("/v2/orders/" + Guid.NewGuid());
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("order not found", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.True(missing.Headers.Contains("X-Ratelimit-Limit"));
    }

    [Fact]
    public async Task Replace_GivesANewOrder_AndTheOldOneIsReplaced_ThenNotReplaceable()
    {
        await using var server = await StartAsync();
        using var http = Alpaca(server);
        await Trading.PricesAsync(http, "AAPL", "100");
        var old = await Trading.PostOrderAsync(http, """{"symbol":"AAPL","qty":"10","side":"buy","type":"limit","limit_price":"99","time_in_force":"gtc"}""");
        string oldId = old.GetProperty("id").GetString()!;
        var (status, replacement) = await Trading.SendAsync(http, HttpMethod.Patch, "/v2/orders/" + oldId, """{"limit_price":"98","qty":"7"}""");
        Assert.Equal(200, status);
        string newId = replacement.GetProperty("id").GetString()!;
        Assert.NotEqual(oldId, newId);
        Assert.Equal(oldId, replacement.GetProperty("replaces").GetString());
        Assert.Equal("98", replacement.GetProperty("limit_price").GetString());
        Assert.Equal("7", replacement.GetProperty("qty").GetString());
        var oldNow = await GetJsonAsync(http, "/v2/orders/" + oldId);
        Assert.Equal("replaced", oldNow.GetProperty("status").GetString());
        Assert.Equal(newId, oldNow.GetProperty("replaced_by").GetString());
        var (again, error) = await Trading.SendAsync(http, HttpMethod.Patch, "/v2/orders/" + oldId, """{"limit_price":"97"}""");
        Assert.Equal((422, 42210000), (again, error.GetProperty("code").GetInt32()));
        await Trading.PricesAsync(http, "AAPL", "98.5", "97.9");
        Assert.Equal("97.9", (await GetJsonAsync(http, "/v2/orders/" + newId)).GetProperty("filled_avg_price").GetString());
    }

    [Fact]
    public async Task Cancel_Answers204_ThenNotCancelable422_AndCancelAll207()
    {
        await using var server = await StartAsync();
        using var http = Alpaca(server);
        await Trading.PricesAsync(http, "AAPL", "100");
        var order = await Trading.PostOrderAsync(http, """{"symbol":"AAPL","qty":"1","side":"buy","type":"limit","limit_price":"90","time_in_force":"gtc"}""");
        string url = "/v2/orders/" + order.GetProperty("id").GetString();
        using (var first = await http.DeleteAsync(url))
        {
            Assert.Equal(HttpStatusCode.NoContent, first.StatusCode);
        }

        using (var second = await http.DeleteAsync(url))
        {
            Assert.Equal(HttpStatusCode.UnprocessableEntity, second.StatusCode);
        }

        Assert.Equal("canceled", (await GetJsonAsync(http, url)).GetProperty("status").GetString());
        await Trading.PostOrderAsync(http, """{"symbol":"AAPL","qty":"1","side":"buy","type":"limit","limit_price":"91","time_in_force":"gtc"}""");
        await Trading.PostOrderAsync(http, """{"symbol":"AAPL","qty":"1","side":"buy","type":"limit","limit_price":"92","time_in_force":"gtc"}""");
        using var all = await http.DeleteAsync("/v2/orders");
        Assert.Equal(207, (int)all.StatusCode);
        var results = JsonDocument.Parse(await all.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(2, results.GetArrayLength());
        Assert.All(results.EnumerateArray(), r => Assert.Equal(200, r.GetProperty("status").GetInt32()));
        Assert.Empty((await GetJsonAsync(http, "/v2/orders")).EnumerateArray());
    }

    [Fact]
    public async Task Bracket_LegsAreHeldUntilTheEntryFills_ThenOneExitFillsAndTheOtherIsCanceled()
    {
        await using var server = await StartAsync();
        using var http = Alpaca(server);
        await Trading.PricesAsync(http, "SPY", "100");
        var entry = await Trading.PostOrderAsync(http, """{"symbol":"SPY","qty":"10","side":"buy","type":"market","time_in_force":"gtc","order_class":"bracket","take_profit":{"limit_price":"110"},"stop_loss":{"stop_price":"90"}}""");
        Assert.Equal("bracket", entry.GetProperty("order_class").GetString());
        var legs = entry.GetProperty("legs").EnumerateArray().ToList();
        Assert.Equal(2, legs.Count);
        Assert.All(legs, l => Assert.Equal("held", l.GetProperty("status").GetString()));
        Assert.Equal(("limit", "sell", "110"), (legs[0].GetProperty("type").GetString(), legs[0].GetProperty("side").GetString(), legs[0].GetProperty("limit_price").GetString()));
        Assert.Equal(("stop", "90"), (legs[1].GetProperty("type").GetString(), legs[1].GetProperty("stop_price").GetString()));

        // Held legs do not fill even when the price goes through them before the entry fills … but the entry fills first here.
        await Trading.PricesAsync(http, "SPY", "100.5");
        var nested = await GetJsonAsync(http, $"/v2/orders/{entry.GetProperty("id").GetString()}?nested=true");
        Assert.Equal("filled", nested.GetProperty("status").GetString());
        Assert.All(nested.GetProperty("legs").EnumerateArray(), l => Assert.Equal("new", l.GetProperty("status").GetString()));

        await Trading.PricesAsync(http, "SPY", "105", "111");
        var tp = await GetJsonAsync(http, "/v2/orders/" + legs[0].GetProperty("id").GetString());
        var sl = await GetJsonAsync(http, "/v2/orders/" + legs[1].GetProperty("id").GetString());
        Assert.Equal(("filled", "111"), (tp.GetProperty("status").GetString(), tp.GetProperty("filled_avg_price").GetString()));
        Assert.Equal("canceled", sl.GetProperty("status").GetString());
        using var position = await http.GetAsync("/v2/positions/SPY");
        Assert.Equal(HttpStatusCode.NotFound, position.StatusCode);
    }

    [Fact]
    public async Task Activities_PageWithPageToken_AndCarryCumAndLeavesQty()
    {
        await using var server = await StartAsync();
        using var http = Alpaca(server);
        await Trading.PricesAsync(http, "AAPL", "100");
        var ids = new List<string>();
        for (int i = 1; i <= 3; i++)
        {
            ids.Add((await Trading.PostOrderAsync(http, $$"""{"symbol":"AAPL","qty":"{{i}}","side":"buy","type":"market","time_in_force":"day"}""")).GetProperty("id").GetString()!);
            await Trading.PricesAsync(http, "AAPL", (100 + i).ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        var page1 = (await GetJsonAsync(http, "/v2/account/activities/FILL?direction=asc&page_size=2")).EnumerateArray().ToList();
        Assert.Equal(2, page1.Count);
        Assert.Equal(ids[0], page1[0].GetProperty("order_id").GetString());
        Assert.Equal(("FILL", "fill", "1", "0", "101"), (page1[0].GetProperty("activity_type").GetString(), page1[0].GetProperty("type").GetString(),
            page1[0].GetProperty("cum_qty").GetString(), page1[0].GetProperty("leaves_qty").GetString(), page1[0].GetProperty("price").GetString()));
        var page2 = (await GetJsonAsync(http, $"/v2/account/activities?activity_types=FILL&direction=asc&page_size=2&page_token={Uri.EscapeDataString(page1[1].GetProperty("id").GetString()!)}")).EnumerateArray().ToList();
        Assert.Equal(ids[2], Assert.Single(page2).GetProperty("order_id").GetString());
        var desc = (await GetJsonAsync(http, "/v2/account/activities/FILL")).EnumerateArray().ToList();
        Assert.Equal(ids[2], desc[0].GetProperty("order_id").GetString());
    }

    [Fact]
    public async Task ClockAndCalendar_HaveAlpacaShapes()
    {
        await using var server = await StartAsync();
        using var http = Alpaca(server);
        var clock = await GetJsonAsync(http, "/v2/clock");
        Assert.True(clock.GetProperty("is_open").GetBoolean());
        Assert.Matches("^[0-9-]{10}T[0-9:]{8}-0[45]:00$", clock.GetProperty("next_close").GetString()!);
        var days = (await GetJsonAsync(http, "/v2/calendar?start=2025-01-02T00%3A00%3A00.000Z&end=2025-01-06")).EnumerateArray().ToList();
        Assert.Equal(["2025-01-02", "2025-01-03", "2025-01-06"], days.Select(d => d.GetProperty("date").GetString()));
        Assert.Equal(("09:30", "0400", "2025-01-03"), (days[0].GetProperty("open").GetString(), days[0].GetProperty("session_open").GetString(), days[0].GetProperty("settlement_date").GetString()));
    }

    [Fact]
    public async Task Stream_SendsNewThenFill_InBinaryFrames_WithExecutionIdAndPositionQty()
    {
        await using var server = await StartAsync();
        using var http = Alpaca(server);
        await using var ws = await TradeWs.ListeningAsync(server);
        await Trading.PricesAsync(http, "AAPL", "100");
        var placed = await Trading.PostOrderAsync(http, """{"symbol":"AAPL","qty":"3","side":"buy","type":"market","time_in_force":"day","client_order_id":"s-1"}""");
        await Trading.PricesAsync(http, "AAPL", "100.25");
        var created = await ws.ReceiveAsync();
        Assert.Equal("trade_updates", created.GetProperty("stream").GetString());
        Assert.Equal("new", created.GetProperty("data").GetProperty("event").GetString());
        var fill = (await ws.ReceiveAsync()).GetProperty("data");
        Assert.Equal("fill", fill.GetProperty("event").GetString());
        Assert.Equal(("100.25", "3", "3"), (fill.GetProperty("price").GetString(), fill.GetProperty("qty").GetString(), fill.GetProperty("position_qty").GetString()));
        Assert.True(Guid.TryParse(fill.GetProperty("execution_id").GetString(), out _));
        Assert.Equal(placed.GetProperty("id").GetString(), fill.GetProperty("order").GetProperty("id").GetString());
        Assert.Equal("filled", fill.GetProperty("order").GetProperty("status").GetString());
        Assert.True(ws.AllBinary);
        var activity = (await GetJsonAsync(http, "/v2/account/activities/FILL")).EnumerateArray().Single();
        Assert.EndsWith("::" + fill.GetProperty("execution_id").GetString(), activity.GetProperty("id").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stream_RejectsBadKeys_AndAnswersListenBeforeAuthAsUnauthorized()
    {
        await using var server = await StartAsync();
        await using var ws = await TradeWs.ConnectAsync(server);
        await ws.SendAsync("""{"action":"listen","data":{"streams":["trade_updates"]}}""");
        var early = (await ws.ReceiveAsync()).GetProperty("data");
        Assert.Equal(("unauthorized", "listen"), (early.GetProperty("status").GetString(), early.GetProperty("action").GetString()));
        await ws.SendAsync("""{"action":"authenticate","data":{"key_id":"sandbox-key","secret_key":"wrong"}}""");
        Assert.Equal("unauthorized", (await ws.ReceiveAsync()).GetProperty("data").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Chaos_ServerErrorsAboutOneSubmissionInTwo_AndIsCheckedAndCleared()
    {
        await using var server = await StartAsync();
        using var http = Alpaca(server);
        await Trading.PricesAsync(http, "AAPL", "100");
        var (bad, body) = await Trading.PostAsync(http, "/_sandbox/alpaca/faults", """{"chaos":1.5}""");
        Assert.Equal(422, bad);
        Assert.Contains("chaos (a probability 0–1)", body.GetProperty("message").GetString(), StringComparison.Ordinal);

        // In process, so the control requests themselves are not rate-limited.
        server.Faults.AlpacaTrading.ChaosSeed = 3;
        server.Faults.AlpacaTrading.Chaos = 0.5;
        int failed = 0;
        for (int i = 0; i < 40; i++)
        {
            using var once = Alpaca(server);
            try
            {
                var (status, _) = await Trading.PostAsync(once, "/v2/orders", $$"""{"symbol":"AAPL","qty":"1","side":"buy","type":"limit","limit_price":"90","time_in_force":"gtc","client_order_id":"chaos-{{i}}"}""");
                failed += status == 200 ? 0 : 1;
            }
            catch (HttpRequestException)
            {
                failed++; // the answer was lost
            }
        }

        // Each submission draws a rate limit, a 500 and a lost answer at one in two each: about seven in eight fail.
        Assert.InRange(failed, 25, 39);
        Assert.Equal(0.5, (await GetJsonAsync(http, "/_sandbox/alpaca/faults")).GetProperty("chaos").GetDouble());
        await Trading.PostAsync(http, "/_sandbox/alpaca/faults", """{"reset":true}""");
        Assert.Equal(0, server.Faults.AlpacaTrading.Chaos);
    }

    [Fact]
    public async Task LostResponse_TheOrderExistsThoughTheClientGotNoAnswer()
    {
        await using var server = await StartAsync();
        using var http = Alpaca(server);
        await Trading.PricesAsync(http, "AAPL", "100");
        await Trading.PostAsync(http, "/_sandbox/alpaca/faults", """{"lose_response_next":1}""");

        // A client of its own: a fresh connection, which HttpClient never retries on its own.
        using var once = Alpaca(server);
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => once.PostAsync("/v2/orders", Trading.Json("""{"symbol":"AAPL","qty":"1","side":"buy","type":"limit","limit_price":"90","time_in_force":"gtc","client_order_id":"lost-1"}""")));
        var order = await GetJsonAsync(http, "/v2/orders:by_client_order_id?client_order_id=lost-1");
        Assert.Equal("new", order.GetProperty("status").GetString());
        var (status, body) = await Trading.PostAsync(http, "/v2/orders", """{"symbol":"AAPL","qty":"1","side":"buy","type":"limit","limit_price":"90","time_in_force":"gtc","client_order_id":"lost-1"}""");
        Assert.Equal((422, 40010001), (status, body.GetProperty("code").GetInt32()));
    }

    [Fact]
    public async Task RateLimitAndServerError_Switches_Answer429WithRetryAfter_And500WithoutAnOrder()
    {
        await using var server = await StartAsync();
        using var http = Alpaca(server);
        await Trading.PricesAsync(http, "AAPL", "100");
        await Trading.PostAsync(http, "/_sandbox/alpaca/faults", """{"rate_limit_next":1,"server_error_next":1}""");
        using (var limited = await http.GetAsync("/v2/account"))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
            Assert.NotNull(limited.Headers.RetryAfter);
            Assert.Equal("0", limited.Headers.GetValues("X-Ratelimit-Remaining").Single());
            Assert.True(long.Parse(limited.Headers.GetValues("X-Ratelimit-Reset").Single(), System.Globalization.CultureInfo.InvariantCulture) > DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 1);
        }

        var (status, _) = await Trading.PostAsync(http, "/v2/orders", """{"symbol":"AAPL","qty":"1","side":"buy","type":"market","time_in_force":"day","client_order_id":"e-1"}""");
        Assert.Equal(500, status);
        Assert.Empty((await GetJsonAsync(http, "/v2/orders?status=all")).EnumerateArray());
        (status, _) = await Trading.PostAsync(http, "/v2/orders", """{"symbol":"AAPL","qty":"1","side":"buy","type":"market","time_in_force":"day","client_order_id":"e-1"}""");
        Assert.Equal(200, status);
    }

    [Fact]
    public async Task Stall_OutlastsTheClientTimeout_AndTheOrderIsPlacedAfterwards()
    {
        await using var server = await StartAsync();
        using var http = Alpaca(server);
        await Trading.PricesAsync(http, "AAPL", "100");
        await Trading.PostAsync(http, "/_sandbox/alpaca/faults", """{"stall_ms":1500}""");
        using (var impatient = Alpaca(server))
        {
            impatient.Timeout = TimeSpan.FromMilliseconds(200);
            await Assert.ThrowsAnyAsync<TaskCanceledException>(() => impatient.PostAsync("/v2/orders", Trading.Json("""{"symbol":"AAPL","qty":"1","side":"buy","type":"limit","limit_price":"90","time_in_force":"gtc","client_order_id":"slow-1"}""")));
        }

        await Trading.PostAsync(http, "/_sandbox/alpaca/faults", """{"stall_ms":0}""");
        await EventuallyAsync(
            async () =>
            {
                using var found = await http.GetAsync("/v2/orders:by_client_order_id?client_order_id=slow-1");
                return found.StatusCode == HttpStatusCode.OK;
            },
            "the stalled order to be placed");
    }

    [Fact]
    public async Task DuplicateEvents_RepeatTheSameExecutionId()
    {
        await using var server = await StartAsync();
        using var http = Alpaca(server);
        await using var ws = await TradeWs.ListeningAsync(server);
        await Trading.PricesAsync(http, "AAPL", "100");
        await Trading.PostOrderAsync(http, """{"symbol":"AAPL","qty":"1","side":"buy","type":"market","time_in_force":"day"}""");
        Assert.Equal("new", (await ws.ReceiveAsync()).GetProperty("data").GetProperty("event").GetString());
        await Trading.PostAsync(http, "/_sandbox/alpaca/faults", """{"duplicate_events_next":1}""");
        await Trading.PricesAsync(http, "AAPL", "101");
        var a = (await ws.ReceiveAsync()).GetProperty("data");
        var b = (await ws.ReceiveAsync()).GetProperty("data");
        Assert.Equal(("fill", "fill"), (a.GetProperty("event").GetString(), b.GetProperty("event").GetString()));
        Assert.Equal(a.GetProperty("execution_id").GetString(), b.GetProperty("execution_id").GetString());
    }

    [Theory]
    [InlineData("""{"drop_fill_events_next":1}""")]
    [InlineData("""{"silent_stream":true}""")]
    public async Task DroppedFillOrSilentStream_TheFillIsOnRestButNeverOnTheStream(string fault)
    {
        await using var server = await StartAsync();
        using var http = Alpaca(server);
        await using var ws = await TradeWs.ListeningAsync(server);
        await Trading.PricesAsync(http, "AAPL", "100");
        var order = await Trading.PostOrderAsync(http, """{"symbol":"AAPL","qty":"1","side":"buy","type":"market","time_in_force":"day"}""");
        Assert.Equal("new", (await ws.ReceiveAsync()).GetProperty("data").GetProperty("event").GetString());
        await Trading.PostAsync(http, "/_sandbox/alpaca/faults", fault);
        await Trading.PricesAsync(http, "AAPL", "101");
        Assert.Equal("filled", (await GetJsonAsync(http, "/v2/orders/" + order.GetProperty("id").GetString())).GetProperty("status").GetString());
        Assert.Single((await GetJsonAsync(http, "/v2/account/activities/FILL")).EnumerateArray());

        // The next event the stream carries is a later order's, so the fill was never sent.
        await Trading.PostAsync(http, "/_sandbox/alpaca/faults", """{"silent_stream":false}""");
        var marker = await Trading.PostOrderAsync(http, """{"symbol":"AAPL","qty":"1","side":"buy","type":"limit","limit_price":"50","time_in_force":"gtc"}""");
        var next = (await ws.ReceiveAsync()).GetProperty("data");
        Assert.Equal(("new", marker.GetProperty("id").GetString()), (next.GetProperty("event").GetString(), next.GetProperty("order").GetProperty("id").GetString()));
    }

    [Fact]
    public async Task OutOfOrderAndDropStream_HoldAnEventBackOnce_AndCutTheConnection()
    {
        await using var server = await StartAsync();
        using var http = Alpaca(server);
        var ws = await TradeWs.ListeningAsync(server);
        await Trading.PricesAsync(http, "AAPL", "100");
        await Trading.PostAsync(http, "/_sandbox/alpaca/faults", """{"out_of_order_next":1,"retry_after_s":2}""");
        await Trading.PostOrderAsync(http, """{"symbol":"AAPL","qty":"1","side":"buy","type":"market","time_in_force":"day"}""");
        await Trading.PricesAsync(http, "AAPL", "101");
        Assert.Equal("fill", (await ws.ReceiveAsync()).GetProperty("data").GetProperty("event").GetString());
        Assert.Equal("new", (await ws.ReceiveAsync()).GetProperty("data").GetProperty("event").GetString());

        await Trading.PostAsync(http, "/_sandbox/alpaca/faults", """{"rate_limit_next":1}""");
        using (var limited = await http.GetAsync("/v2/account"))
        {
            Assert.Equal(TimeSpan.FromSeconds(2), limited.Headers.RetryAfter?.Delta);
            Assert.True(limited.Headers.Contains("X-Request-ID"));
        }

        await Trading.PostAsync(http, "/_sandbox/alpaca/faults", """{"drop_stream":true}""");
        await Assert.ThrowsAnyAsync<Exception>(() => ws.ReceiveAsync());
        await ws.DisposeAsync();
        Assert.Equal(0, (await GetJsonAsync(http, "/_sandbox/alpaca/faults")).GetProperty("trade_stream_listeners").GetInt32());
    }

    [Fact]
    public async Task CloseByHand_SellsThePositionAtTheLastPrice_WithItsEvents()
    {
        await using var server = await StartAsync(halfSpread: 0.05m);
        using var http = Alpaca(server);
        await Trading.PricesAsync(http, "AAPL", "100");
        await Trading.PostOrderAsync(http, """{"symbol":"AAPL","qty":"4","side":"buy","type":"market","time_in_force":"day"}""");
        await Trading.PricesAsync(http, "AAPL", "102");
        await using var ws = await TradeWs.ListeningAsync(server);
        var (status, closing) = await Trading.PostAsync(http, "/_sandbox/alpaca/close_position", """{"symbol":"AAPL"}""");
        Assert.Equal(200, status);
        Assert.Equal(("sell", "filled", "101.95"), (closing.GetProperty("side").GetString(), closing.GetProperty("status").GetString(), closing.GetProperty("filled_avg_price").GetString()));
        Assert.Equal("new", (await ws.ReceiveAsync()).GetProperty("data").GetProperty("event").GetString());
        var fill = (await ws.ReceiveAsync()).GetProperty("data");
        Assert.Equal(("fill", "0"), (fill.GetProperty("event").GetString(), fill.GetProperty("position_qty").GetString()));
        using var position = await http.GetAsync("/v2/positions/AAPL");
        Assert.Equal(HttpStatusCode.NotFound, position.StatusCode);
    }

    private static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < SandboxTesting.Timeout, $"timed out waiting for {what}");
            await Task.Delay(20);
        }
    }
}

/// <summary>Raw HTTP helpers for the trading API.</summary>
internal static class Trading
{
    public static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    public static Task<(int Status, JsonElement Body)> PostAsync(HttpClient http, string url, string body) => SendAsync(http, HttpMethod.Post, url, body);

    public static async Task<(int Status, JsonElement Body)> SendAsync(HttpClient http, HttpMethod method, string url, string body)
    {
        using var request = new HttpRequestMessage(method, url) { Content = Json(body) };
        using var response = await http.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    public static async Task<JsonElement> PostOrderAsync(HttpClient http, string body)
    {
        var (status, json) = await PostAsync(http, "/v2/orders", body);
        Assert.True(status == 200, $"POST /v2/orders answered {status}: {json}");
        return json;
    }

    public static async Task PricesAsync(HttpClient http, string symbol, params string[] prices)
    {
        string body = $"{{\"symbol\":\"{symbol}\",\"prices\":[{string.Join(',', prices.Select(p => $"\"{p}\""))}]}}";
        var (status, json) = await PostAsync(http, "/_sandbox/alpaca/prices", body);
        Assert.True(status == 200, $"scripting prices answered {status}: {json}");
    }
}

/// <summary>A trade_updates client at the frame level; records whether every frame was binary, as Alpaca's paper endpoint sends.</summary>
internal sealed class TradeWs : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;

    private TradeWs(ClientWebSocket socket) => _socket = socket;

    public bool AllBinary { get; private set; } = true;

    public static async Task<TradeWs> ConnectAsync(SandboxServer server)
    {
        var socket = new ClientWebSocket();
        using var cts = new CancellationTokenSource(SandboxTesting.Timeout);
        await socket.ConnectAsync(new Uri(server.AlpacaStreamBase, "/stream"), cts.Token);
        return new TradeWs(socket);
    }

    public static async Task<TradeWs> ListeningAsync(SandboxServer server)
    {
        var ws = await ConnectAsync(server);
        await ws.SendAsync("""{"action":"authenticate","data":{"key_id":"sandbox-key","secret_key":"sandbox-secret"}}""");
        var auth = await ws.ReceiveAsync();
        Assert.Equal(("authorization", "authorized"), (auth.GetProperty("stream").GetString(), auth.GetProperty("data").GetProperty("status").GetString()));
        await ws.SendAsync("""{"action":"listen","data":{"streams":["trade_updates"]}}""");
        var listening = await ws.ReceiveAsync();
        Assert.Equal("listening", listening.GetProperty("stream").GetString());
        Assert.Equal("trade_updates", listening.GetProperty("data").GetProperty("streams")[0].GetString());
        return ws;
    }

    public async Task SendAsync(string text)
    {
        using var cts = new CancellationTokenSource(SandboxTesting.Timeout);
        await _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, cts.Token);
    }

    public async Task<JsonElement> ReceiveAsync()
    {
        using var cts = new CancellationTokenSource(SandboxTesting.Timeout);
        var buffer = new byte[1 << 16];
        using var message = new MemoryStream();
        ValueWebSocketReceiveResult result;
        do
        {
            result = await _socket.ReceiveAsync(buffer.AsMemory(), cts.Token);
            Assert.NotEqual(WebSocketMessageType.Close, result.MessageType);
            AllBinary &= result.MessageType == WebSocketMessageType.Binary;
            message.Write(buffer, 0, result.Count);
        }
        while (!result.EndOfMessage);
        return JsonDocument.Parse(message.ToArray()).RootElement.Clone();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, string.Empty, cts.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
        }

        _socket.Dispose();
    }
}
