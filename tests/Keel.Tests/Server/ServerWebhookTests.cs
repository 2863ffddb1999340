using System.Globalization;
using System.Text;
using System.Text.Json;
using Keel.Server;

namespace Keel.Tests.Server;

/// <summary>
/// TradingView webhooks: a valid alert places exactly one order through the run's risk gate and journal; a forged
/// secret, a stale or replayed alert, a duplicate (in this process or after a restart), an address off the allow-list
/// place none; secrets never reach the log.
/// </summary>
public class ServerWebhookTests
{
    private const string Secret = "tv-secret-0123456789abcdef";
    private const string Instrument = "ORCL-1995-2014";

    private static TradingViewHook Hook(IReadOnlyList<string>? allow = null) =>
        new() { Name = "main", Secret = Secret, Run = "active", Window = TimeSpan.FromSeconds(60), AllowFrom = allow ?? [] };

    private static string Now(double offsetSeconds = 0) => DateTime.UtcNow.AddSeconds(offsetSeconds).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    private static string Json(string secret = Secret, string action = "buy", string contracts = "3", string? time = null, string id = "Long") =>
        $$"""{"secret": "{{secret}}", "ticker": "{{Instrument}}", "action": "{{action}}", "contracts": "{{contracts}}", "time": "{{time ?? Now()}}", "id": "{{id}}", "interval": "1D"}""";

    /// <summary>A paper run that never trades by itself (its averages need 1,000 daily bars; one comes a day).</summary>
    private static async Task<string> QuietRunAsync(ServerHarness h)
    {
        var request = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["mode"] = "paper",
            ["options"] = new Dictionary<string, object> { ["replay"] = ServerHarness.Orcl, ["strategy"] = "sma-cross", ["param"] = new[] { "fast=999", "slow=1000" }, ["speed"] = "1" },
        });
        var (status, body, _) = await h.SendAsync(HttpMethod.Post, "/api/runs", ServerHarness.TradeToken, request);
        Assert.True(status == 201, body.ToString());
        var id = body.GetProperty("id").GetString()!;
        await ServerHarness.UntilAsync(async () => (await h.SendAsync(HttpMethod.Get, $"/api/runs/{id}")).Body.GetProperty("status").GetString() == "running", "the run to start");
        return id;
    }

    private static async Task<(int Status, JsonElement Body)> PostAsync(ServerHarness h, string body, string contentType = "application/json", string hook = "main")
    {
        using var content = new StringContent(body, Encoding.UTF8, contentType);
        using var response = await h.Http.PostAsync($"/webhooks/tradingview/{hook}", content);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    private static async Task<List<JsonElement>> OrdersAfterDrainAsync(ServerHarness h, string runId, int expected)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await h.Server.Webhooks.DrainedAsync("main", timeout.Token);
        await ServerHarness.UntilAsync(async () => (await h.SendAsync(HttpMethod.Get, $"/api/runs/{runId}/orders")).Body.GetArrayLength() >= expected, $"{expected} order(s) in the journal");
        return [.. (await h.SendAsync(HttpMethod.Get, $"/api/runs/{runId}/orders")).Body.EnumerateArray()];
    }

    [Fact]
    public async Task ValidJsonAlert_PlacesExactlyOneOrder_AndTheSameAlertAgainPlacesNone()
    {
        await using var h = await ServerHarness.StartAsync([Hook()]);
        var run = await QuietRunAsync(h);
        var alert = Json();

        var (status, body) = await PostAsync(h, alert);
        Assert.Equal(202, status);
        Assert.Equal("accepted", body.GetProperty("status").GetString());
        var orders = await OrdersAfterDrainAsync(h, run, 1);
        Assert.Single(orders);
        Assert.Equal(Instrument, orders[0].GetProperty("instrument").GetString());
        Assert.Equal("buy", orders[0].GetProperty("side").GetString());
        Assert.Equal("3", orders[0].GetProperty("quantity").GetString());

        var (again, againBody) = await PostAsync(h, alert);
        Assert.Equal(200, again);
        Assert.Equal("duplicate", againBody.GetProperty("status").GetString());
        Assert.Equal(body.GetProperty("key").GetString(), againBody.GetProperty("key").GetString());

        // A different alert goes through behind it: the duplicate queued nothing.
        Assert.Equal(202, (await PostAsync(h, Json(action: "sell", id: "Exit"))).Status);
        orders = await OrdersAfterDrainAsync(h, run, 2);
        Assert.Equal(2, orders.Count);
        Assert.Equal(2, h.Server.Webhooks.Placed("main"));
    }

    [Fact]
    public async Task ForgedSecret_StaleTime_FutureTime_Replay_AndBadFields_PlaceNoOrder()
    {
        await using var h = await ServerHarness.StartAsync([Hook()]);
        var run = await QuietRunAsync(h);
        var old = Json(time: Now(-600));

        foreach (var (body, expected, contentType) in new[]
        {
            (Json(secret: "wrong-secret-0123456789abcdef"), 401, "application/json"),
            (Json(secret: Secret[..^1]), 401, "application/json"),
            (Json().Replace($"\"secret\": \"{Secret}\", ", string.Empty, StringComparison.Ordinal), 401, "application/json"),
            (old, 422, "application/json"), // stale: ten minutes old
            (Json(time: Now(600)), 422, "application/json"), // from the future
            (Json(action: "hold"), 400, "application/json"),
            (Json(contracts: "-2"), 400, "application/json"),
            (Json(contracts: ""), 400, "application/json"),
            (Json(time: "yesterday"), 400, "application/json"),
            ("{\"secret\": \"" + Secret + "\", \"ticker\": \"" + Instrument + "\", \"action\": \"buy\", \"contracts\": , \"time\": \"" + Now() + "\"}", 400, "text/plain"), // an empty placeholder
            ("just some text", 401, "text/plain"),
        })
        {
            var (status, problem) = await PostAsync(h, body, contentType);
            Assert.True(status == expected, $"{body} → {status}: {problem}");
            Assert.DoesNotContain(Secret, problem.ToString(), StringComparison.Ordinal);
        }

        // The stale alert replayed again, and again: still refused.
        Assert.Equal(422, (await PostAsync(h, old)).Status);
        Assert.Equal(404, (await PostAsync(h, Json(), hook: "other")).Status);

        // A valid alert behind them all is the only order.
        Assert.Equal(202, (await PostAsync(h, Json(action: "sell"))).Status);
        var orders = await OrdersAfterDrainAsync(h, run, 1);
        Assert.Single(orders);
        Assert.Equal("sell", orders[0].GetProperty("side").GetString());
        Assert.Equal(1, h.Server.Webhooks.Placed("main"));
        Assert.DoesNotContain(h.Logs.Logger.Entries, e => e.Message.Contains(Secret[..10], StringComparison.Ordinal) || e.Message.Contains(ServerHarness.TradeToken, StringComparison.Ordinal));
    }

    [Fact]
    public async Task PlainTextAlert_PlacesItsOrder()
    {
        await using var h = await ServerHarness.StartAsync([Hook()]);
        var run = await QuietRunAsync(h);
        var (status, _) = await PostAsync(h, $"secret={Secret}\naction=sell ticker={Instrument} contracts=2\ntime={Now()}", "text/plain");
        Assert.Equal(202, status);
        var orders = await OrdersAfterDrainAsync(h, run, 1);
        Assert.Equal("sell", Assert.Single(orders).GetProperty("side").GetString());
    }

    [Fact]
    public async Task AddressOffTheAllowList_IsRefused_AndPlacesNothing()
    {
        await using var h = await ServerHarness.StartAsync([Hook(TradingViewHook.TradingViewAddresses)]);
        await QuietRunAsync(h);
        var (status, problem) = await PostAsync(h, Json());
        Assert.Equal(403, status);
        Assert.Contains("127.0.0.1", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, h.Server.Webhooks.Placed("main"));
    }

    [Fact]
    public async Task NoRunGoing_IsA409_SoTheSenderKnows()
    {
        await using var h = await ServerHarness.StartAsync([Hook()]);
        Assert.Equal(409, (await PostAsync(h, Json())).Status);
    }

    [Fact]
    public async Task SameAlert_AfterTheServerRestarts_PlacesNoSecondOrder()
    {
        var h = await ServerHarness.StartAsync([Hook()]);
        try
        {
            var run = await QuietRunAsync(h);
            var alert = Json();
            Assert.Equal(202, (await PostAsync(h, alert)).Status);
            Assert.Single(await OrdersAfterDrainAsync(h, run, 1));

            // A new process: the set of keys seen is empty; the run's own orders remember the alert.
            h = await h.RestartAsync();
            Assert.Equal(202, (await h.SendAsync(HttpMethod.Post, $"/api/runs/{run}/continue", ServerHarness.TradeToken)).Status);
            await ServerHarness.UntilAsync(async () => (await h.SendAsync(HttpMethod.Get, $"/api/runs/{run}")).Body.GetProperty("status").GetString() == "running", "the run to continue");
            Assert.Equal(202, (await PostAsync(h, alert)).Status);
            Assert.Single(await OrdersAfterDrainAsync(h, run, 1));
            Assert.Equal(0, h.Server.Webhooks.Placed("main"));
        }
        finally
        {
            await h.DisposeAsync();
        }
    }
}
