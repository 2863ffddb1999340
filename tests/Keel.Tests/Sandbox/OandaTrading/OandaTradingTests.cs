using System.Globalization;
using System.Net;

namespace Keel.Tests.Sandbox.OandaTrading;

/// <summary>The sandbox's OANDA v20 trading side against the wire truth in shared/reference (fixtures oanda.order_create.*, trades_positions, transactions_stream).</summary>
public class OandaTradingTests
{
    private static long Id(string text) => long.Parse(text, CultureInfo.InvariantCulture);

    [Fact]
    public async Task MarketOrder_BuysAtTheAsk_SellsAtTheBid_WithRealizedPl()
    {
        await using var c = await OandaTradingClient.StartAsync();
        await c.PricesAsync("1.10000");
        var buy = await c.OrderAsync("""{"type":"MARKET","instrument":"EUR_USD","units":"1000"}""");
        Assert.Equal(HttpStatusCode.Created, buy.Status);
        Assert.Equal("MARKET_ORDER", buy.S("orderCreateTransaction", "type"));
        Assert.Equal("FOK", buy.S("orderCreateTransaction", "timeInForce"));
        Assert.Equal("ORDER_FILL", buy.S("orderFillTransaction", "type"));
        Assert.Equal("1.10010", buy.S("orderFillTransaction", "price"));
        Assert.Equal("1000", buy.S("orderFillTransaction", "tradeOpened", "units"));
        Assert.Equal("0.0000", buy.S("orderFillTransaction", "financing"));
        Assert.Equal(buy.S("orderFillTransaction", "id"), buy.S("orderFillTransaction", "tradeOpened", "tradeID"));
        Assert.Equal(buy.S("orderFillTransaction", "id"), buy.S("lastTransactionID"));
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$", buy.S("orderFillTransaction", "time"));
        Assert.Equal([buy.S("orderCreateTransaction", "id"), buy.S("orderFillTransaction", "id")], buy.Body.GetProperty("relatedTransactionIDs").EnumerateArray().Select(e => e.GetString()!));

        var sell = await c.OrderAsync("""{"type":"MARKET","instrument":"EUR_USD","units":"-1000"}""");
        Assert.Equal(HttpStatusCode.Created, sell.Status);
        Assert.Equal("1.09990", sell.S("orderFillTransaction", "price"));
        Assert.Equal("-0.2000", sell.S("orderFillTransaction", "tradesClosed", "0", "realizedPL"));
        Assert.Equal("-0.2000", sell.S("orderFillTransaction", "pl"));
        Assert.Equal("99999.8000", sell.S("orderFillTransaction", "accountBalance"));
        var summary = await c.GetAsync("/summary");
        Assert.Equal("99999.8000", summary.S("account", "balance"));
        Assert.Equal(0, summary.Body.GetProperty("account").GetProperty("openTradeCount").GetInt32());
    }

    [Fact]
    public async Task LimitOrder_PendsThenFillsWhenTheAskReachesIt()
    {
        await using var c = await OandaTradingClient.StartAsync();
        await c.PricesAsync("1.10000");
        var limit = await c.OrderAsync("""{"type":"LIMIT","instrument":"EUR_USD","units":"500","price":"1.09900","clientExtensions":{"id":"lim-1"}}""");
        Assert.Equal(HttpStatusCode.Created, limit.Status);
        Assert.False(limit.Has("orderFillTransaction"));
        Assert.Equal("LIMIT_ORDER", limit.S("orderCreateTransaction", "type"));
        Assert.Equal("GTC", limit.S("orderCreateTransaction", "timeInForce"));
        string id = limit.S("orderCreateTransaction", "id");
        var pending = await c.GetAsync("/pendingOrders");
        Assert.Equal(id, pending.S("orders", "0", "id"));

        await c.PricesAsync("1.09950"); // ask 1.09960: not yet
        Assert.Equal("PENDING", (await c.GetAsync("/orders/@lim-1")).S("order", "state"));
        await c.PricesAsync("1.09890"); // ask 1.09900: reached
        var order = await c.GetAsync("/orders/" + id);
        Assert.Equal("FILLED", order.S("order", "state"));
        var trade = await c.GetAsync("/trades/" + order.S("order", "tradeOpenedID"));
        Assert.Equal("1.09900", trade.S("trade", "price"));
        Assert.Equal("500", trade.S("trade", "currentUnits"));
        var fill = (await c.SinceAsync(Id(id))).Single(t => t.GetProperty("type").GetString() == "ORDER_FILL");
        Assert.Equal("LIMIT_ORDER", fill.GetProperty("reason").GetString());
        Assert.Equal("lim-1", fill.GetProperty("clientOrderID").GetString());
        var position = await c.GetAsync("/positions/EUR_USD");
        Assert.Equal("500", position.S("position", "long", "units"));
        Assert.Equal("1.09900", position.S("position", "long", "averagePrice"));
    }

    [Fact]
    public async Task TakeProfitAndStopLossOnFill_TakeProfitHitClosesTheTradeAndCancelsTheStopLoss()
    {
        await using var c = await OandaTradingClient.StartAsync();
        await c.PricesAsync("1.10000");
        // The shape of shared/reference/fixtures/oanda.order_request.market_tp_sl.json, with this test's prices.
        const string request = """
            {"order":{"type":"MARKET","instrument":"EUR_USD","units":"1000","timeInForce":"FOK","positionFill":"DEFAULT",
              "clientExtensions":{"id":"tv-EURUSD-20240102T143000Z","tag":"tradingview","comment":"Long"},
              "takeProfitOnFill":{"price":"1.10200","timeInForce":"GTC"},"stopLossOnFill":{"price":"1.09800","timeInForce":"GTC"}}}
            """;
        var reply = await c.SendAsync(HttpMethod.Post, "/v3/accounts/" + OandaTradingClient.Account + "/orders", request);
        Assert.Equal(HttpStatusCode.Created, reply.Status);
        var related = reply.Body.GetProperty("relatedTransactionIDs").EnumerateArray().Select(e => Id(e.GetString()!)).ToList();
        Assert.Equal(4, related.Count);
        Assert.Equal(Enumerable.Range(0, 4).Select(i => related[0] + i), related);
        string tradeId = reply.S("orderFillTransaction", "tradeOpened", "tradeID");
        var trade = await c.GetAsync("/trades/" + tradeId);
        Assert.Equal("1.10200", trade.S("trade", "takeProfitOrder", "price"));
        Assert.Equal("1.09800", trade.S("trade", "stopLossOrder", "price"));
        string slId = trade.S("trade", "stopLossOrder", "id");
        long before = await c.LastIdAsync();

        await c.PricesAsync("1.10150", "1.10210"); // bid 1.10140 (not yet), then 1.10200: the take profit is reached

        trade = await c.GetAsync("/trades/" + tradeId);
        Assert.Equal("CLOSED", trade.S("trade", "state"));
        Assert.Equal("0", trade.S("trade", "currentUnits"));
        Assert.Equal("CANCELLED", (await c.GetAsync("/orders/" + slId)).S("order", "state"));
        var after = await c.SinceAsync(before);
        Assert.Equal(["ORDER_FILL", "ORDER_CANCEL"], after.Select(t => t.GetProperty("type").GetString()!));
        Assert.Equal("TAKE_PROFIT_ORDER", after[0].GetProperty("reason").GetString());
        Assert.Equal("1.10200", after[0].GetProperty("price").GetString());
        Assert.Equal("1.9000", after[0].GetProperty("pl").GetString()); // (1.10200 − 1.10010) × 1000
        Assert.Equal("LINKED_TRADE_CLOSED", after[1].GetProperty("reason").GetString());
        Assert.Equal(slId, after[1].GetProperty("orderID").GetString());
        Assert.Equal(0, (await c.GetAsync("/openTrades")).Body.GetProperty("trades").GetArrayLength());
    }

    [Fact]
    public async Task StopLoss_HitClosesTheTradeAtTheBid()
    {
        await using var c = await OandaTradingClient.StartAsync();
        await c.PricesAsync("1.10000");
        var reply = await c.OrderAsync("""{"type":"MARKET","instrument":"EUR_USD","units":"1000","stopLossOnFill":{"distance":"0.00100"}}""");
        string tradeId = reply.S("orderFillTransaction", "tradeOpened", "tradeID");
        Assert.Equal("1.09910", (await c.GetAsync("/trades/" + tradeId)).S("trade", "stopLossOrder", "price"));
        await c.PricesAsync("1.09900"); // bid 1.09890 ≤ 1.09910
        var trade = await c.GetAsync("/trades/" + tradeId);
        Assert.Equal("CLOSED", trade.S("trade", "state"));
        Assert.Equal("-1.2000", trade.S("trade", "realizedPL")); // sold at the bid that crossed the stop: (1.09890 − 1.10010) × 1000
    }

    [Fact]
    public async Task Replace_CancelsTheOldOrder_AndCreatesOneWithANewId_CancelTwiceIs404()
    {
        await using var c = await OandaTradingClient.StartAsync();
        await c.PricesAsync("1.10000");
        var first = await c.OrderAsync("""{"type":"LIMIT","instrument":"EUR_USD","units":"100","price":"1.09000","clientExtensions":{"id":"r-1"}}""");
        string oldId = first.S("orderCreateTransaction", "id");
        var replaced = await c.PutAsync("/orders/" + oldId, """{"order":{"type":"LIMIT","instrument":"EUR_USD","units":"200","price":"1.09100","clientExtensions":{"id":"r-1"}}}""");
        Assert.Equal(HttpStatusCode.Created, replaced.Status);
        Assert.Equal("CLIENT_REQUEST_REPLACED", replaced.S("orderCancelTransaction", "reason"));
        string newId = replaced.S("orderCreateTransaction", "id");
        Assert.NotEqual(oldId, newId);
        Assert.Equal(newId, replaced.S("orderCancelTransaction", "replacedByOrderID"));
        Assert.Equal(oldId, replaced.S("orderCreateTransaction", "replacesOrderID"));
        Assert.Equal("REPLACEMENT", replaced.S("orderCreateTransaction", "reason"));
        Assert.Equal("CANCELLED", (await c.GetAsync("/orders/" + oldId)).S("order", "state"));
        Assert.Equal(newId, (await c.GetAsync("/orders/@r-1")).S("order", "id"));

        var cancel = await c.PutAsync("/orders/@r-1/cancel");
        Assert.Equal(HttpStatusCode.OK, cancel.Status);
        Assert.Equal("ORDER_CANCEL", cancel.S("orderCancelTransaction", "type"));
        Assert.Equal("CLIENT_REQUEST", cancel.S("orderCancelTransaction", "reason"));
        Assert.Equal(newId, cancel.S("orderCancelTransaction", "orderID"));
        var again = await c.PutAsync("/orders/" + newId + "/cancel");
        Assert.Equal(HttpStatusCode.NotFound, again.Status);
        Assert.Equal("ORDER_DOESNT_EXIST", again.S("errorCode"));
        Assert.Equal("ORDER_CANCEL_REJECT", again.S("orderCancelRejectTransaction", "type"));
        Assert.Equal(0, (await c.GetAsync("/pendingOrders")).Body.GetProperty("orders").GetArrayLength());
    }

    [Fact]
    public async Task ClientOrderId_IsUniqueOnlyAmongPendingOrders()
    {
        await using var c = await OandaTradingClient.StartAsync();
        await c.PricesAsync("1.10000");
        Assert.Equal(HttpStatusCode.Created, (await c.OrderAsync("""{"type":"LIMIT","instrument":"EUR_USD","units":"100","price":"1.09000","clientExtensions":{"id":"dup"}}""")).Status);
        var dup = await c.OrderAsync("""{"type":"STOP","instrument":"EUR_USD","units":"100","price":"1.11000","clientExtensions":{"id":"dup"}}""");
        Assert.Equal(HttpStatusCode.BadRequest, dup.Status);
        Assert.Equal("CLIENT_ORDER_ID_ALREADY_EXISTS", dup.S("errorCode"));
        Assert.Equal("STOP_ORDER_REJECT", dup.S("orderRejectTransaction", "type"));
        Assert.Equal("CLIENT_ORDER_ID_ALREADY_EXISTS", dup.S("orderRejectTransaction", "rejectReason"));
        Assert.Equal(dup.S("orderRejectTransaction", "id"), dup.S("lastTransactionID"));

        for (int i = 0; i < 2; i++)
        {
            var market = await c.OrderAsync("""{"type":"MARKET","instrument":"EUR_USD","units":"100","clientExtensions":{"id":"mkt"}}""");
            Assert.Equal(HttpStatusCode.Created, market.Status);
            Assert.Equal("mkt", market.S("orderFillTransaction", "clientOrderID"));
        }
    }

    [Fact]
    public async Task Rejects_HaveOandasShapes()
    {
        await using var c = await OandaTradingClient.StartAsync();
        await c.PricesAsync("1.10000");
        var margin = await c.OrderAsync("""{"type":"MARKET","instrument":"EUR_USD","units":"100000000"}""");
        Assert.Equal(HttpStatusCode.Created, margin.Status);
        Assert.Equal("INSUFFICIENT_MARGIN", margin.S("orderCancelTransaction", "reason"));
        Assert.False(margin.Has("orderFillTransaction"));

        var zero = await c.OrderAsync("""{"type":"MARKET","instrument":"EUR_USD","units":"0"}""");
        Assert.Equal(HttpStatusCode.BadRequest, zero.Status);
        Assert.Equal("UNITS_INVALID", zero.S("errorCode"));
        Assert.Equal("Order units specified are invalid", zero.S("errorMessage"));
        Assert.Equal("MARKET_ORDER_REJECT", zero.S("orderRejectTransaction", "type"));
        Assert.Equal("UNITS_PRECISION_EXCEEDED", (await c.OrderAsync("""{"type":"MARKET","instrument":"EUR_USD","units":"1.5"}""")).S("errorCode"));
        Assert.Equal("PRICE_PRECISION_EXCEEDED", (await c.OrderAsync("""{"type":"LIMIT","instrument":"EUR_USD","units":"1","price":"1.100001"}""")).S("errorCode"));
        Assert.Equal("TIME_IN_FORCE_INVALID", (await c.OrderAsync("""{"type":"MARKET","instrument":"EUR_USD","units":"1","timeInForce":"GTC"}""")).S("errorCode"));

        var badInstrument = await c.OrderAsync("""{"type":"MARKET","instrument":"XXX_YYY","units":"1"}""");
        Assert.Equal(HttpStatusCode.BadRequest, badInstrument.Status);
        Assert.Equal("Invalid value specified for 'order.instrument'", badInstrument.S("errorMessage"));
        foreach (var body in new[] { "not json", "[]", "{\"order\":5}", "{\"order\":{\"type\":\"MARKET\",\"instrument\":\"EUR_USD\",\"units\":{}}}" })
        {
            var r = await c.SendAsync(HttpMethod.Post, "/v3/accounts/" + OandaTradingClient.Account + "/orders", body);
            Assert.Equal(HttpStatusCode.BadRequest, r.Status);
            Assert.True(r.Has("errorMessage"), body);
        }

        var noPrice = await c.SendAsync(HttpMethod.Post, "/v3/accounts/" + OandaTradingClient.Account + "/orders", """{"order":{"type":"MARKET","instrument":"EUR_USD","units":"1"}}""");
        Assert.Equal(HttpStatusCode.Created, noPrice.Status);

        c.Http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "wrong");
        var denied = await c.GetAsync("/summary");
        Assert.Equal(HttpStatusCode.Unauthorized, denied.Status);
        Assert.Equal("Insufficient authorization to perform request.", denied.S("errorMessage"));
        c.Http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "sandbox-token");
        Assert.Equal(HttpStatusCode.Forbidden, (await c.SendAsync(HttpMethod.Get, "/v3/accounts/101-001-9999999-001/summary", null)).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await c.SendAsync(HttpMethod.Get, "/v3/accounts/nonsense/summary", null)).Status);
    }

    [Fact]
    public async Task MarketOrder_WithoutAnyPrice_Is201WithACancel()
    {
        await using var c = await OandaTradingClient.StartAsync();
        var reply = await c.OrderAsync("""{"type":"MARKET","instrument":"EUR_USD","units":"10"}""");
        Assert.Equal(HttpStatusCode.Created, reply.Status);
        Assert.Equal("ORDER_CANCEL", reply.S("orderCancelTransaction", "type"));
        Assert.Equal(reply.S("orderCreateTransaction", "id"), reply.S("orderCancelTransaction", "orderID"));
    }

    [Fact]
    public async Task TransactionIds_AreMonotone_AndSinceIdAndChangesReturnExactlyWhatCameAfter()
    {
        await using var c = await OandaTradingClient.StartAsync();
        await c.PricesAsync("1.10000");
        long mark = await c.LastIdAsync();
        await c.OrderAsync("""{"type":"MARKET","instrument":"EUR_USD","units":"100"}""");
        var limit = await c.OrderAsync("""{"type":"LIMIT","instrument":"EUR_USD","units":"100","price":"1.09000"}""");
        var since = await c.SinceAsync(mark);
        Assert.Equal(Enumerable.Range(1, 3).Select(i => mark + i), since.Select(t => Id(t.GetProperty("id").GetString()!)));
        Assert.Equal(["MARKET_ORDER", "ORDER_FILL", "LIMIT_ORDER"], since.Select(t => t.GetProperty("type").GetString()!));

        var changes = await c.GetAsync($"/changes?sinceTransactionID={mark + 1}");
        Assert.Equal((mark + 3).ToString(CultureInfo.InvariantCulture), changes.S("lastTransactionID"));
        Assert.Equal(2, changes.Body.GetProperty("changes").GetProperty("transactions").GetArrayLength());
        Assert.Equal(limit.S("orderCreateTransaction", "id"), changes.S("changes", "ordersCreated", "0", "id"));
        Assert.Single(changes.Body.GetProperty("changes").GetProperty("tradesOpened").EnumerateArray());
        Assert.True(changes.Body.GetProperty("state").TryGetProperty("NAV", out _));

        var range = await c.GetAsync($"/transactions/idrange?from={mark + 1}&to={mark + 2}");
        Assert.Equal(2, range.Body.GetProperty("transactions").GetArrayLength());
        var pages = await c.GetAsync("/transactions?pageSize=2");
        Assert.Equal((int)(mark + 3), pages.Body.GetProperty("count").GetInt32());
        var firstPage = pages.S("pages", "0");
        Assert.StartsWith(c.Server.OandaRestBase.ToString().TrimEnd('/') + "/v3/accounts/" + OandaTradingClient.Account + "/transactions/idrange?from=1&to=2", firstPage);
    }

    [Fact]
    public async Task CloseTrade_AndClosePosition_AndCloseByHand()
    {
        await using var c = await OandaTradingClient.StartAsync();
        await c.PricesAsync("1.10000");
        string t1 = (await c.OrderAsync("""{"type":"MARKET","instrument":"EUR_USD","units":"300"}""")).S("orderFillTransaction", "tradeOpened", "tradeID");
        var partial = await c.PutAsync($"/trades/{t1}/close", """{"units":"100"}""");
        Assert.Equal(HttpStatusCode.OK, partial.Status);
        Assert.Equal("MARKET_ORDER_TRADE_CLOSE", partial.S("orderFillTransaction", "reason"));
        Assert.Equal("-100", partial.S("orderFillTransaction", "tradeReduced", "units"));
        Assert.Equal("REDUCE_ONLY", partial.S("orderCreateTransaction", "positionFill"));
        Assert.Equal("200", (await c.GetAsync("/trades/" + t1)).S("trade", "currentUnits"));

        long before = await c.LastIdAsync();
        var hand = await c.SendAsync(HttpMethod.Post, "/_sandbox/oanda/close", $"{{\"tradeID\":\"{t1}\"}}");
        Assert.Equal(HttpStatusCode.OK, hand.Status);
        var after = await c.SinceAsync(before);
        Assert.Equal(["MARKET_ORDER", "ORDER_FILL"], after.Select(t => t.GetProperty("type").GetString()!));
        Assert.Equal("TRADE_CLOSE", after[0].GetProperty("reason").GetString());
        Assert.Equal("CLOSED", (await c.GetAsync("/trades/" + t1)).S("trade", "state"));

        await c.OrderAsync("""{"type":"MARKET","instrument":"EUR_USD","units":"-50"}""");
        var close = await c.PutAsync("/positions/EUR_USD/close", """{"shortUnits":"ALL"}""");
        Assert.Equal(HttpStatusCode.OK, close.Status);
        Assert.Equal("MARKET_ORDER_POSITION_CLOSEOUT", close.S("shortOrderFillTransaction", "reason"));
        Assert.Equal("50", close.S("shortOrderFillTransaction", "units"));
        Assert.Equal(0, (await c.GetAsync("/openPositions")).Body.GetProperty("positions").GetArrayLength());
        Assert.Equal(HttpStatusCode.BadRequest, (await c.PutAsync("/positions/EUR_USD/close", """{"longUnits":"ALL"}""")).Status);
    }

    [Fact]
    public async Task Stream_DeliversAFillsTransactionsInOrder_AndHeartbeatsCarryTheLastId()
    {
        await using var c = await OandaTradingClient.StartAsync();
        await c.PricesAsync("1.10000");
        await c.OrderAsync("""{"type":"MARKET","instrument":"EUR_USD","units":"1"}"""); // before the stream: not replayed
        await using var stream = await TransactionStream.OpenAsync(c);
        var beat = (await stream.NextAsync())!.Value;
        Assert.Equal("HEARTBEAT", beat.GetProperty("type").GetString());
        Assert.Equal((await c.LastIdAsync()).ToString(CultureInfo.InvariantCulture), beat.GetProperty("lastTransactionID").GetString());

        var reply = await c.OrderAsync("""{"type":"MARKET","instrument":"EUR_USD","units":"5","takeProfitOnFill":{"price":"1.20000"}}""");
        var ids = reply.Body.GetProperty("relatedTransactionIDs").EnumerateArray().Select(e => e.GetString()).ToList();
        var got = new List<string?>();
        for (int i = 0; i < 3; i++)
        {
            got.Add((await stream.NextTransactionAsync()).GetProperty("id").GetString());
        }

        Assert.Equal(ids, got);
        var next = await stream.NextAsync();
        Assert.Equal("HEARTBEAT", next!.Value.GetProperty("type").GetString());
        Assert.Equal(ids[^1], next.Value.GetProperty("lastTransactionID").GetString());
    }
}
