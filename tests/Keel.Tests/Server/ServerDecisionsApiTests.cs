using System.Text.Json;
using Keel.Domain;
using Keel.Storage;
using Keel.Storage.Pipeline;

namespace Keel.Tests.Server;

/// <summary>
/// The decision pipeline over the API: decisions created (checked as the CSV import checks them, a wrong field a 400
/// naming it), listed, shown and approved (trade scope), and the trade journal, its orders and its positions read.
/// </summary>
public class ServerDecisionsApiTests
{
    private const string ProblemJson = "application/problem+json";
    private const string GoodLong = "{\"symbol\":\"AAPL\",\"action\":\"NEW_TRADE\",\"side\":\"LONG\",\"planned_entry\":\"100.50\",\"planned_sl\":\"95\",\"planned_tp\":110,\"quantity\":\"10\",\"trade_style\":\"SWING\",\"note\":\"from the API\"}";

    [Theory]
    [InlineData("GET", "/api/decisions", null)]
    [InlineData("GET", "/api/decisions/1", null)]
    [InlineData("POST", "/api/decisions", GoodLong)]
    [InlineData("POST", "/api/decisions/1/approve", null)]
    [InlineData("GET", "/api/journal/trades", null)]
    [InlineData("GET", "/api/journal/orders", null)]
    [InlineData("GET", "/api/journal/positions", null)]
    public async Task EveryDecisionAndJournalEndpoint_WithoutAToken_Or_WithAWrongOne_Is401(string method, string path, string? json)
    {
        await using var h = await ServerHarness.StartAsync();
        foreach (var token in new[] { null, "not-a-token-of-this-server-at-all" })
        {
            var (status, _, type) = await h.SendAsync(new HttpMethod(method), path, token, json);
            Assert.Equal(401, status);
            Assert.Equal(ProblemJson, type);
        }
    }

    [Theory]
    [InlineData("/api/decisions", GoodLong)]
    [InlineData("/api/decisions/1/approve", null)]
    public async Task CreatingOrApproving_WithAReadToken_Is403_AndChangesNothing(string path, string? json)
    {
        await using var h = await ServerHarness.StartAsync();
        using (var store = KeelStore.Open(h.Db))
        {
            store.Pipeline.AddDecisions([new NewDecision("AAPL", DecisionAction.NewTrade, TradeSide.Long, 100m, 95m, null, 1m, TradeStyle.Day)], Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow));
        }

        var (status, body, type) = await h.SendAsync(HttpMethod.Post, path, ServerHarness.ReadToken, json);
        Assert.Equal(403, status);
        Assert.Equal(ProblemJson, type);
        Assert.Contains("trade scope", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        using var after = KeelStore.Open(h.Db);
        var decisions = after.Pipeline.ListDecisions();
        Assert.Single(decisions);
        Assert.False(decisions[0].Approved);
    }

    [Theory]
    [InlineData("{\"symbol\":\"AAPL\",\"action\":\"BUY_EVERYTHING\",\"planned_entry\":\"100\",\"planned_sl\":\"95\",\"quantity\":\"1\",\"trade_style\":\"DAY\"}", "action", "unknown action 'BUY_EVERYTHING'")]
    [InlineData("{\"symbol\":\"AAPL\",\"planned_entry\":\"100\",\"planned_sl\":\"105\",\"quantity\":\"1\",\"trade_style\":\"DAY\"}", "planned_sl", "stop-loss 105 is above or at the entry 100 for a long")]
    [InlineData("{\"symbol\":\"AAPL\",\"planned_entry\":\"100\",\"planned_sl\":\"95\",\"quantity\":0,\"trade_style\":\"DAY\"}", "quantity", "quantity is 0")]
    [InlineData("{\"symbol\":\"ZZZZ\",\"planned_entry\":\"100\",\"planned_sl\":\"95\",\"quantity\":\"1\",\"trade_style\":\"DAY\"}", "symbol", "unknown symbol 'ZZZZ'")]
    [InlineData("{\"symbol\":\"no good!\",\"planned_entry\":\"100\",\"planned_sl\":\"95\",\"quantity\":\"1\",\"trade_style\":\"DAY\"}", "symbol", "is not a symbol")]
    [InlineData("{\"symbol\":\"AAPL\",\"planned_entry\":\"100\",\"planned_sl\":\"95\",\"quantity\":\"1\",\"trade_style\":\"SWING\"}", "planned_tp", "needs planned_tp")]
    [InlineData("{\"symbol\":\"AAPL\",\"plannedEntry\":\"abc\",\"plannedSl\":\"95\",\"quantity\":\"1\",\"tradeStyle\":\"DAY\"}", "planned_entry", "planned_entry 'abc' is not a number")]
    [InlineData("{\"symbol\":\"AAPL\",\"planned_entry\":1e400,\"planned_sl\":\"95\",\"quantity\":\"1\",\"trade_style\":\"DAY\"}", "planned_entry", "is not a number")]
    [InlineData("{\"symbol\":\"AAPL\",\"planned_entry\":\"100\",\"planned_sl\":\"95\",\"quantity\":\"1\",\"trade_style\":\"DAY\",\"side\":\"SIDEWAYS\"}", "side", "side 'SIDEWAYS'")]
    [InlineData("{\"symbol\":\"AAPL\",\"action\":\"CANCEL\",\"target_decision_id\":\"99\"}", "target_decision_id", "there is no decision 99")]
    [InlineData("{\"symbol\":\"AAPL\",\"price\":\"100\"}", "price", "price is not a field of a decision")]
    [InlineData("{\"symbol\":{\"a\":1}}", "symbol", "symbol was object")]
    public async Task CreateDecision_ThatIsNotValid_Is400_NamingTheField_AndStoresNothing(string json, string field, string expected)
    {
        await using var h = await ServerHarness.StartAsync();
        var (status, body, type) = await h.SendAsync(HttpMethod.Post, "/api/decisions", ServerHarness.TradeToken, json);
        Assert.True(status == 400, body.ToString());
        Assert.Equal(ProblemJson, type);
        Assert.Equal(field, body.GetProperty("field").GetString());
        Assert.Contains(expected, body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, (await h.SendAsync(HttpMethod.Get, "/api/decisions")).Body.GetArrayLength());
    }

    [Theory]
    [InlineData("not json", "not JSON")]
    [InlineData("[1]", "JSON object")]
    [InlineData("{}", "the symbol is empty")]
    public async Task CreateDecision_WithABodyThatIsNoDecision_Is400(string json, string expected)
    {
        await using var h = await ServerHarness.StartAsync();
        var (status, body, type) = await h.SendAsync(HttpMethod.Post, "/api/decisions", ServerHarness.TradeToken, json);
        Assert.Equal(400, status);
        Assert.Equal(ProblemJson, type);
        Assert.Contains(expected, body.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Decision_CreatedListedShownAndApproved_IsApprovedInTheStore()
    {
        await using var h = await ServerHarness.StartAsync();
        using var request = h.Request(HttpMethod.Post, "/api/decisions", ServerHarness.TradeToken, GoodLong);
        using var response = await h.Http.SendAsync(request);
        Assert.Equal(201, (int)response.StatusCode);
        var created = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
        long id = created.GetProperty("id").GetInt64();
        Assert.Equal($"/api/decisions/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal("AAPL", created.GetProperty("symbol").GetString());
        Assert.Equal("100.5", created.GetProperty("plannedEntry").GetString());
        Assert.Equal("110", created.GetProperty("plannedTakeProfit").GetString());
        Assert.Equal("SWING", created.GetProperty("tradeStyle").GetString());
        Assert.Equal("api:trader", created.GetProperty("source").GetString());
        Assert.False(created.GetProperty("approved").GetBoolean());

        var pending = (await h.SendAsync(HttpMethod.Get, "/api/decisions?pending=true")).Body;
        Assert.Equal(id, Assert.Single(pending.EnumerateArray()).GetProperty("id").GetInt64());
        Assert.Equal(400, (await h.SendAsync(HttpMethod.Get, "/api/decisions?pending=maybe")).Status);

        var shown = (await h.SendAsync(HttpMethod.Get, $"/api/decisions/{id}")).Body;
        Assert.Equal(id, shown.GetProperty("decision").GetProperty("id").GetInt64());
        Assert.False(shown.TryGetProperty("trade", out _));
        Assert.Equal(0, shown.GetProperty("orders").GetArrayLength());

        var (approved, approvedBody, _) = await h.SendAsync(HttpMethod.Post, $"/api/decisions/{id}/approve", ServerHarness.TradeToken);
        Assert.Equal(200, approved);
        Assert.True(approvedBody.GetProperty("approved").GetBoolean());
        Assert.Equal(200, (await h.SendAsync(HttpMethod.Post, $"/api/decisions/{id}/approve", ServerHarness.TradeToken)).Status); // twice is harmless
        using (var store = KeelStore.Open(h.Db))
        {
            Assert.True(store.Pipeline.FindDecision(id)!.Approved);
            Assert.Single(store.Pipeline.ApprovedUnexecuted());
        }

        Assert.Contains(h.Logs.Logger.Entries, e => e.Id.Id == 7007 && e.Message.Contains("trader", StringComparison.Ordinal) && !e.Message.Contains(ServerHarness.TradeToken, StringComparison.Ordinal));

        // Unknown and malformed ids.
        Assert.Equal(404, (await h.SendAsync(HttpMethod.Get, "/api/decisions/999")).Status);
        Assert.Equal(404, (await h.SendAsync(HttpMethod.Post, "/api/decisions/999/approve", ServerHarness.TradeToken)).Status);
        foreach (var bad in new[] { "abc", "0", "-1", "99999999999999999999999" })
        {
            var (status, body, type) = await h.SendAsync(HttpMethod.Get, $"/api/decisions/{bad}");
            Assert.Equal(400, status);
            Assert.Equal(ProblemJson, type);
            Assert.Contains("decision id", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.Equal(400, (await h.SendAsync(HttpMethod.Post, $"/api/decisions/{bad}/approve", ServerHarness.TradeToken)).Status);
        }

        // A CANCEL of it is checked against the decisions there are.
        var (cancel, cancelBody, _) = await h.SendAsync(HttpMethod.Post, "/api/decisions", ServerHarness.TradeToken, $"{{\"symbol\":\"AAPL\",\"action\":\"CANCEL\",\"targetDecisionId\":{id},\"approved\":true}}");
        Assert.True(cancel == 201, cancelBody.ToString());
        Assert.True(cancelBody.GetProperty("approved").GetBoolean());
        Assert.Equal(2, (await h.SendAsync(HttpMethod.Get, "/api/decisions")).Body.GetArrayLength());
    }

    [Fact]
    public async Task TradeJournal_ItsOrdersAndPositions_AreRead_AndShownWithTheirDecision()
    {
        await using var h = await ServerHarness.StartAsync();
        var now = Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 12, 1, 15, 0, 0, TimeSpan.Zero));
        long tradeId;
        long id;
        using (var store = KeelStore.Open(h.Db))
        {
            var p = store.Pipeline;
            id = p.AddDecisions([new NewDecision("MSFT", DecisionAction.NewTrade, TradeSide.Long, 400m, 390m, 420m, 5m, TradeStyle.Swing, Approved: true)], now)[0];
            var (trade, _) = p.OpenTrade(p.FindDecision(id)!, new NewOrderExecution(PipelineOrderType.Entry, "buy", 5m, 400m, null, "D1-ENTRY"), now);
            tradeId = trade.Id;
            p.OpenPosition(trade.Id, 5m, 399.75m, now, now);
        }

        var trades = (await h.SendAsync(HttpMethod.Get, "/api/journal/trades")).Body;
        var t = Assert.Single(trades.EnumerateArray());
        Assert.Equal(tradeId, t.GetProperty("id").GetInt64());
        Assert.Equal(id, t.GetProperty("decisionId").GetInt64());
        Assert.Equal("POSITION", t.GetProperty("status").GetString());
        Assert.Equal("399.75", t.GetProperty("actualEntry").GetString());

        var orders = (await h.SendAsync(HttpMethod.Get, "/api/journal/orders")).Body;
        var o = Assert.Single(orders.EnumerateArray());
        Assert.Equal("ENTRY", o.GetProperty("orderType").GetString());
        Assert.Equal("D1-ENTRY", o.GetProperty("clientOrderId").GetString());
        Assert.Equal(1, (await h.SendAsync(HttpMethod.Get, $"/api/journal/orders?trade={tradeId}")).Body.GetArrayLength());
        Assert.Equal(0, (await h.SendAsync(HttpMethod.Get, "/api/journal/orders?trade=999")).Body.GetArrayLength());
        var (badTrade, badBody, _) = await h.SendAsync(HttpMethod.Get, "/api/journal/orders?trade=x");
        Assert.Equal(400, badTrade);
        Assert.Equal("trade", badBody.GetProperty("field").GetString());

        var positions = (await h.SendAsync(HttpMethod.Get, "/api/journal/positions")).Body;
        var pos = Assert.Single(positions.EnumerateArray());
        Assert.Equal("MSFT", pos.GetProperty("symbol").GetString());
        Assert.Equal("5", pos.GetProperty("quantity").GetString());

        var shown = (await h.SendAsync(HttpMethod.Get, $"/api/decisions/{id}")).Body;
        Assert.Equal(tradeId, shown.GetProperty("trade").GetProperty("id").GetInt64());
        Assert.Equal(1, shown.GetProperty("orders").GetArrayLength());
        Assert.Equal("399.75", shown.GetProperty("position").GetProperty("averageEntryPrice").GetString());
    }
}
