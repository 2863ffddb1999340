using System.Text.Json;

namespace Keel.Tests.Server;

/// <summary>
/// The REST contract of <c>keel serve</c> on a real Kestrel: every endpoint's status codes, its tokens and scopes, and
/// its validation, with errors as application/problem+json that name what was wrong.
/// </summary>
public class ServerApiTests
{
    private const string ProblemJson = "application/problem+json";

    [Fact]
    public async Task Health_NeedsNoToken_AndSaysTheStoreAnswers()
    {
        await using var h = await ServerHarness.StartAsync();
        var (status, body, type) = await h.SendAsync(HttpMethod.Get, "/health", token: null);
        Assert.Equal(200, status);
        Assert.Equal("application/json", type);
        Assert.Equal("ok", body.GetProperty("status").GetString());
        Assert.Equal("sqlite", body.GetProperty("store").GetString());
        Assert.Equal("127.0.0.1", h.Server.BaseAddress.Host);
    }

    [Theory]
    [InlineData("GET", "/api/runs", null)]
    [InlineData("GET", "/api/runs/x", null)]
    [InlineData("GET", "/api/runs/x/events", null)]
    [InlineData("GET", "/api/runs/x/equity", null)]
    [InlineData("GET", "/api/runs/x/checkpoints", null)]
    [InlineData("GET", "/api/runs/x/orders", null)]
    [InlineData("GET", "/api/runs/x/fills", null)]
    [InlineData("GET", "/api/runs/x/trades", null)]
    [InlineData("GET", "/api/runs/x/positions", null)]
    [InlineData("GET", "/api/runs/x/candles", null)]
    [InlineData("GET", "/metrics", null)]
    [InlineData("POST", "/api/runs/x/continue", null)]
    [InlineData("POST", "/api/runs", "{}")]
    [InlineData("POST", "/api/runs/x/pause", null)]
    [InlineData("POST", "/api/runs/x/resume", null)]
    [InlineData("POST", "/api/runs/x/stop", null)]
    [InlineData("POST", "/api/runs/x/orders", "{}")]
    [InlineData("DELETE", "/api/runs/x/orders/O-1", null)]
    public async Task EveryApiEndpoint_WithoutAToken_Or_WithAWrongOne_Is401(string method, string path, string? json)
    {
        await using var h = await ServerHarness.StartAsync();
        foreach (var token in new[] { null, "not-a-token-of-this-server-at-all" })
        {
            var (status, body, type) = await h.SendAsync(new HttpMethod(method), path, token, json);
            Assert.Equal(401, status);
            Assert.Equal(ProblemJson, type);
            Assert.DoesNotContain("not-a-token", body.ToString(), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("POST", "/api/runs", "{}")]
    [InlineData("POST", "/api/runs/x/pause", null)]
    [InlineData("POST", "/api/runs/x/resume", null)]
    [InlineData("POST", "/api/runs/x/stop", null)]
    [InlineData("POST", "/api/runs/x/continue", null)]
    [InlineData("POST", "/api/runs/x/orders", "{}")]
    [InlineData("DELETE", "/api/runs/x/orders/O-1", null)]
    public async Task EveryEndpointThatChangesState_WithAReadToken_Is403(string method, string path, string? json)
    {
        await using var h = await ServerHarness.StartAsync();
        var (status, body, type) = await h.SendAsync(new HttpMethod(method), path, ServerHarness.ReadToken, json);
        Assert.Equal(403, status);
        Assert.Equal(ProblemJson, type);
        Assert.Contains("trade scope", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownRun_Is404_OnEveryRunEndpoint()
    {
        await using var h = await ServerHarness.StartAsync();
        foreach (var path in new[] { "", "/events", "/equity", "/checkpoints", "/orders", "/fills", "/trades", "/positions", "/candles" })
        {
            var (status, body, type) = await h.SendAsync(HttpMethod.Get, "/api/runs/nope" + path);
            Assert.True(status == 404, path);
            Assert.Equal(ProblemJson, type);
            Assert.Contains("nope", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        foreach (var command in new[] { "pause", "resume", "stop", "continue" })
        {
            Assert.Equal(404, (await h.SendAsync(HttpMethod.Post, $"/api/runs/nope/{command}", ServerHarness.TradeToken)).Status);
        }

        Assert.Equal(404, (await h.SendAsync(HttpMethod.Post, "/api/runs/nope/orders", ServerHarness.TradeToken, "{}")).Status);
        Assert.Equal(404, (await h.SendAsync(HttpMethod.Delete, "/api/runs/nope/orders/O-1", ServerHarness.TradeToken)).Status);
        var (unknown, _, unknownType) = await h.SendAsync(HttpMethod.Get, "/no/such/path");
        Assert.Equal(404, unknown);
        Assert.Equal(ProblemJson, unknownType);
    }

    [Theory]
    [InlineData("not json", "not JSON")]
    [InlineData("[1,2]", "JSON object")]
    [InlineData("{}", "mode is missing")]
    [InlineData("{\"mode\":\"sideways\"}", "mode is 'sideways'")]
    [InlineData("{\"mode\":\"backtest\",\"options\":3}", "options must be an object")]
    [InlineData("{\"mode\":\"backtest\",\"options\":{\"db\":\"/tmp/other.db\"}}", "options.db cannot be set")]
    [InlineData("{\"mode\":\"backtest\",\"options\":{\"out\":\"/etc\"}}", "options.out cannot be set")]
    [InlineData("{\"mode\":\"backtest\",\"options\":{\"dta\":\"x.csv\"}}", "did you mean 'data'")]
    [InlineData("{\"mode\":\"backtest\",\"options\":{\"data\":{\"a\":1}}}", "options.data was object")]
    [InlineData("{\"mode\":\"backtest\",\"options\":{\"strategy\":\"sma-cross\"}}", "data is required")]
    [InlineData("{\"mode\":\"backtest\",\"options\":{\"data\":\"/no/such/file.csv\",\"strategy\":\"sma-cross\"}}", "/no/such/file.csv")]
    [InlineData("{\"mode\":\"backtest\",\"options\":{\"data\":\"ORCL\",\"strategy\":\"sma-cross\",\"cash\":\"lots\"}}", "cash was 'lots'")]
    public async Task CreateRun_WithABadRequest_Is400_NamingWhatIsWrong(string json, string expected)
    {
        await using var h = await ServerHarness.StartAsync();
        json = json.Replace("\"ORCL\"", JsonSerializer.Serialize(ServerHarness.Orcl), StringComparison.Ordinal);
        var (status, body, type) = await h.SendAsync(HttpMethod.Post, "/api/runs", ServerHarness.TradeToken, json);
        Assert.True(status == 400, body.ToString());
        Assert.Equal(ProblemJson, type);
        Assert.Contains(expected, body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, (await h.SendAsync(HttpMethod.Get, "/api/runs")).Body.GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task CreateRun_WithoutJsonContentType_Is415()
    {
        await using var h = await ServerHarness.StartAsync();
        using var request = h.Request(HttpMethod.Post, "/api/runs", ServerHarness.TradeToken);
        request.Content = new StringContent(ServerHarness.BacktestJson, System.Text.Encoding.UTF8, "text/plain");
        using var response = await h.Http.SendAsync(request);
        Assert.Equal(415, (int)response.StatusCode);
    }

    [Fact]
    public async Task Backtest_CreatedThroughTheApi_IsListed_And_ItsEventsOrdersFillsTradesPositionsEquityAndCheckpointsRead()
    {
        await using var h = await ServerHarness.StartAsync();
        using (var request = h.Request(HttpMethod.Post, "/api/runs", ServerHarness.TradeToken, ServerHarness.BacktestJson))
        using (var response = await h.Http.SendAsync(request))
        {
            Assert.Equal(201, (int)response.StatusCode);
            Assert.StartsWith("/api/runs/", response.Headers.Location?.OriginalString, StringComparison.Ordinal);
        }

        var list = (await h.SendAsync(HttpMethod.Get, "/api/runs")).Body;
        Assert.Equal(1, list.GetProperty("total").GetInt64());
        var id = list.GetProperty("runs")[0].GetProperty("id").GetString()!;
        // The store says "completed" a moment before the server lets go of the run (it closes the run's store first).
        await ServerHarness.UntilAsync(
            async () => (await h.SendAsync(HttpMethod.Get, $"/api/runs/{id}")).Body is var r && r.GetProperty("status").GetString() == "completed" && !r.GetProperty("active").GetBoolean(),
            "the backtest to complete");
        var run = (await h.SendAsync(HttpMethod.Get, $"/api/runs/{id[..12]}")).Body;
        Assert.Equal(id, run.GetProperty("id").GetString());
        Assert.Equal(100.0, run.GetProperty("progress").GetDouble());
        Assert.False(run.GetProperty("active").GetBoolean());
        int orders = run.GetProperty("metrics").GetProperty("orders").GetInt32();
        int trades = run.GetProperty("metrics").GetProperty("trades").GetInt32(); // the trades table holds closed round trips
        Assert.True(orders > 10);

        Assert.Equal(1, (await h.SendAsync(HttpMethod.Get, "/api/runs?status=completed&strategy=sma-cross&limit=5")).Body.GetProperty("total").GetInt64());
        Assert.Equal(0, (await h.SendAsync(HttpMethod.Get, "/api/runs?status=failed")).Body.GetProperty("total").GetInt64());

        // Events, a page at a time: every page continues where the last ended, and together they are every event once.
        var sequences = new List<long>();
        long? after = 0;
        while (after is long a)
        {
            var page = (await h.SendAsync(HttpMethod.Get, $"/api/runs/{id}/events?after={a}&limit=100")).Body;
            sequences.AddRange(page.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("sequence").GetInt64()));
            after = page.TryGetProperty("next", out var next) ? next.GetInt64() : null;
        }

        Assert.Equal(sequences.Order().Distinct(), sequences);
        Assert.Equal(run.GetProperty("lastSequence").GetInt64(), sequences[^1]);

        Assert.Equal(orders, (await h.SendAsync(HttpMethod.Get, $"/api/runs/{id}/orders")).Body.GetArrayLength());
        var fills = (await h.SendAsync(HttpMethod.Get, $"/api/runs/{id}/fills?limit=5000")).Body;
        Assert.Equal(orders, fills.GetArrayLength());
        var secondPage = (await h.SendAsync(HttpMethod.Get, $"/api/runs/{id}/fills?after={fills[9].GetProperty("sequence").GetInt64()}&limit=3")).Body;
        Assert.Equal(fills[10].GetProperty("tradeId").GetString(), secondPage[0].GetProperty("tradeId").GetString());
        Assert.Equal(trades, (await h.SendAsync(HttpMethod.Get, $"/api/runs/{id}/trades?limit=5000")).Body.GetArrayLength());
        Assert.Equal(1, (await h.SendAsync(HttpMethod.Get, $"/api/runs/{id}/positions")).Body.GetArrayLength());
        var checkpoints = (await h.SendAsync(HttpMethod.Get, $"/api/runs/{id}/checkpoints")).Body;
        Assert.True(checkpoints.GetArrayLength() >= 1);
        var equity = (await h.SendAsync(HttpMethod.Get, $"/api/runs/{id}/equity?points=2")).Body;
        Assert.InRange(equity.GetArrayLength(), 1, 2);
        Assert.Equal(run.GetProperty("metrics").GetProperty("final_equity").GetDecimal(), decimal.Parse(equity[equity.GetArrayLength() - 1].GetProperty("equity").GetString()!, System.Globalization.CultureInfo.InvariantCulture), 4);

        // A completed run takes no commands and no orders.
        foreach (var command in new[] { "pause", "resume", "stop" })
        {
            var (status, body, type) = await h.SendAsync(HttpMethod.Post, $"/api/runs/{id}/{command}", ServerHarness.TradeToken);
            Assert.Equal(409, status);
            Assert.Equal(ProblemJson, type);
            Assert.Contains("completed", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        Assert.Equal(409, (await h.SendAsync(HttpMethod.Post, $"/api/runs/{id}/orders", ServerHarness.TradeToken, "{\"instrument\":\"ORCL-1995-2014\",\"side\":\"buy\",\"quantity\":\"1\"}")).Status);
        Assert.Equal(409, (await h.SendAsync(HttpMethod.Delete, $"/api/runs/{id}/orders/O-1", ServerHarness.TradeToken)).Status);
        Assert.Equal(409, (await h.SendAsync(HttpMethod.Post, $"/api/runs/{id}/continue", ServerHarness.TradeToken)).Status);
        Assert.Equal(200, (await h.SendAsync(HttpMethod.Get, $"/api/runs/{id}/candles")).Status);
    }

    [Theory]
    [InlineData("/api/runs?status=sideways", "status was 'sideways'")]
    [InlineData("/api/runs?status=2", "status was '2'")]
    [InlineData("/api/runs?limit=0", "limit was '0'")]
    [InlineData("/api/runs?limit=abc", "limit was 'abc'")]
    [InlineData("/api/runs/RUN/events?after=-1", "after was '-1'")]
    [InlineData("/api/runs/RUN/events?limit=5001", "limit was '5001'")]
    [InlineData("/api/runs/RUN/fills?after=x", "after was 'x'")]
    [InlineData("/api/runs/RUN/trades?limit=-3", "limit was '-3'")]
    [InlineData("/api/runs/RUN/equity?points=1", "points was '1'")]
    [InlineData("/api/runs/RUN/equity?points=99999", "points was '99999'")]
    public async Task Queries_OutOfRange_Are400_NamingTheParameter(string path, string expected)
    {
        await using var h = await ServerHarness.StartAsync();
        var id = await h.CompletedBacktestAsync();
        var (status, body, type) = await h.SendAsync(HttpMethod.Get, path.Replace("RUN", id, StringComparison.Ordinal));
        Assert.Equal(400, status);
        Assert.Equal(ProblemJson, type);
        Assert.Contains(expected, body.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PaperRun_PausesResumesTakesAnOrderThroughTheRiskGate_CancelsUnknownAs404_AndStops()
    {
        await using var h = await ServerHarness.StartAsync();
        var id = await h.StartPaperAsync(speed: "1");

        Assert.Equal(409, (await h.SendAsync(HttpMethod.Post, $"/api/runs/{id}/resume", ServerHarness.TradeToken)).Status);
        var (paused, pausedBody, _) = await h.SendAsync(HttpMethod.Post, $"/api/runs/{id}/pause", ServerHarness.TradeToken);
        Assert.Equal(202, paused);
        await ServerHarness.UntilAsync(async () => (await h.SendAsync(HttpMethod.Get, $"/api/runs/{id}")).Body.GetProperty("status").GetString() == "paused", "the run to pause");
        Assert.Equal(409, (await h.SendAsync(HttpMethod.Post, $"/api/runs/{id}/pause", ServerHarness.TradeToken)).Status);
        Assert.Equal(202, (await h.SendAsync(HttpMethod.Post, $"/api/runs/{id}/resume", ServerHarness.TradeToken)).Status);
        await ServerHarness.UntilAsync(async () => (await h.SendAsync(HttpMethod.Get, $"/api/runs/{id}")).Body.GetProperty("status").GetString() == "running", "the run to resume");
        Assert.True(pausedBody.GetProperty("active").GetBoolean());

        // Order validation names the field; a valid order passes the risk gate (a limit far from the price stays working).
        foreach (var (json, field) in new[]
        {
            ("{\"side\":\"buy\",\"quantity\":\"1\"}", "instrument"),
            ("{\"instrument\":\"ORCL-1995-2014\",\"side\":\"up\",\"quantity\":\"1\"}", "side"),
            ("{\"instrument\":\"ORCL-1995-2014\",\"side\":\"buy\",\"quantity\":\"-1\"}", "quantity"),
            ("{\"instrument\":\"ORCL-1995-2014\",\"side\":\"buy\",\"quantity\":1}", "quantity"),
            ("{\"instrument\":\"ORCL-1995-2014\",\"side\":\"buy\",\"type\":\"limit\",\"quantity\":\"1\"}", "limit price"),
            ("{\"instrument\":\"ORCL-1995-2014\",\"side\":\"buy\",\"quantity\":\"1\",\"timeInForce\":\"forever\"}", "timeInForce"),
            ("{\"instrument\":", "not an order"),
        })
        {
            var (status, body, _) = await h.SendAsync(HttpMethod.Post, $"/api/runs/{id}/orders", ServerHarness.TradeToken, json);
            Assert.True(status == 400, json);
            Assert.Contains(field, body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        var (ok, order, _) = await h.SendAsync(HttpMethod.Post, $"/api/runs/{id}/orders", ServerHarness.TradeToken, "{\"instrument\":\"ORCL-1995-2014\",\"side\":\"buy\",\"type\":\"limit\",\"limitPrice\":\"0.01\",\"quantity\":\"1\"}");
        Assert.Equal(200, ok);
        var orderId = order.GetProperty("id").GetString()!;
        Assert.Contains(order.GetProperty("status").GetString(), new[] { "submitted", "accepted" });
        var (cancelled, cancelBody, _) = await h.SendAsync(HttpMethod.Delete, $"/api/runs/{id}/orders/{orderId}", ServerHarness.TradeToken);
        Assert.Equal(200, cancelled);
        Assert.Equal(orderId, cancelBody.GetProperty("id").GetString());
        Assert.Equal(404, (await h.SendAsync(HttpMethod.Delete, $"/api/runs/{id}/orders/O-999999", ServerHarness.TradeToken)).Status);
        await ServerHarness.UntilAsync(async () => (await h.SendAsync(HttpMethod.Get, $"/api/runs/{id}/orders")).Body.EnumerateArray().Any(o => o.GetProperty("id").GetString() == orderId && o.GetProperty("status").GetString() == "canceled"), "the cancel to be journaled");

        Assert.Equal(202, (await h.SendAsync(HttpMethod.Post, $"/api/runs/{id}/stop", ServerHarness.TradeToken)).Status);
        await ServerHarness.UntilAsync(async () => (await h.SendAsync(HttpMethod.Get, $"/api/runs/{id}")).Body.GetProperty("status").GetString() == "stopped", "the run to stop");
    }

    [Fact]
    public async Task OpenApiDocument_DescribesEveryEndpoint()
    {
        await using var h = await ServerHarness.StartAsync();
        var (status, doc, _) = await h.SendAsync(HttpMethod.Get, "/openapi/v1.json", token: null);
        Assert.Equal(200, status);
        var paths = doc.GetProperty("paths");
        foreach (var path in new[] { "/health", "/api/runs", "/api/runs/{id}", "/api/runs/{id}/pause", "/api/runs/{id}/resume", "/api/runs/{id}/stop", "/api/runs/{id}/events", "/api/runs/{id}/equity", "/api/runs/{id}/checkpoints", "/api/runs/{id}/orders", "/api/runs/{id}/orders/{orderId}", "/api/runs/{id}/fills", "/api/runs/{id}/trades", "/api/runs/{id}/positions", "/api/runs/{id}/candles", "/api/runs/{id}/continue", "/api/runs/{id}/stream", "/api/stream", "/webhooks/tradingview/{name}", "/metrics", "/api/decisions", "/api/decisions/{id}", "/api/decisions/{id}/approve", "/api/journal/trades", "/api/journal/orders", "/api/journal/positions" })
        {
            Assert.True(paths.TryGetProperty(path, out _), $"{path} is missing from the OpenAPI document");
        }
    }

    [Fact]
    public async Task ApiDocsPage_IsServed_AndReadsTheOpenApiDocumentFromThisServerOnly()
    {
        await using var h = await ServerHarness.StartAsync();
        using var page = await h.Http.GetAsync("/api-docs");
        Assert.Equal(200, (int)page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("/dashboard/api.js", html, StringComparison.Ordinal);
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);
        Assert.Contains("default-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        using var script = await h.Http.GetAsync("/dashboard/api.js");
        Assert.Equal(200, (int)script.StatusCode);
        Assert.Contains("/openapi/v1.json", await script.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
