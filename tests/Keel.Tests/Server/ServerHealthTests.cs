using Keel.Engine.Persistence;
using Keel.Engine.Ports;
using Keel.Engine.Risk;
using Keel.Runtime;
using Keel.Server;
using Keel.Tests.Runtime;

namespace Keel.Tests.Server;

/// <summary>
/// <c>/health</c>: ok with the store reachable and each running run's venue and feed; degraded (still 200) when a feed is
/// not subscribed or a circuit breaker is open; 503 when the store is down.
/// </summary>
public class ServerHealthTests
{
    [Fact]
    public async Task Health_ListsEachRunningRun_WithItsVenueAndFeed()
    {
        await using var h = await ServerHarness.StartAsync();
        var id = await h.StartPaperAsync(speed: "1");
        var (status, body, _) = await h.SendAsync(HttpMethod.Get, "/health", token: null);
        Assert.Equal(200, status);
        Assert.Equal("ok", body.GetProperty("status").GetString());
        Assert.Equal(1, body.GetProperty("activeRuns").GetInt32());
        var run = Assert.Single(body.GetProperty("runs").EnumerateArray());
        Assert.Equal(id, run.GetProperty("run").GetString());
        Assert.Equal("paper", run.GetProperty("mode").GetString());
        Assert.Equal("simulated", run.GetProperty("venue").GetString());
        Assert.Equal("ok", run.GetProperty("venueState").GetString());
        Assert.Equal("active", run.GetProperty("riskMode").GetString());
        Assert.False(run.GetProperty("circuitBreakerOpen").GetBoolean());
        Assert.Equal("historical", run.GetProperty("feedState").GetString());
        Assert.False(run.GetProperty("degraded").GetBoolean());

        Assert.Equal(202, (await h.SendAsync(HttpMethod.Post, $"/api/runs/{id}/stop", ServerHarness.TradeToken)).Status);
        await ServerHarness.UntilAsync(async () => (await h.SendAsync(HttpMethod.Get, "/health", token: null)).Body.GetProperty("activeRuns").GetInt32() == 0, "the stopped run to leave /health");
    }

    [Fact]
    public async Task Health_WithTheStoreGone_Is503_Down_AndComesBackWithIt()
    {
        await using var h = await ServerHarness.StartAsync();
        var saved = h.Db + ".saved";
        File.Move(h.Db, saved);
        Directory.CreateDirectory(h.Db); // a directory where the database was: nothing can open it
        try
        {
            var (status, body, type) = await h.SendAsync(HttpMethod.Get, "/health", token: null);
            Assert.Equal(503, status);
            Assert.Equal("application/json", type);
            Assert.Equal("down", body.GetProperty("status").GetString());
            Assert.Contains("store", body.GetProperty("storeProblem").GetString(), StringComparison.Ordinal);
            Assert.DoesNotContain(h.Db, body.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(h.Db);
            File.Move(saved, h.Db);
        }

        Assert.Equal(200, (await h.SendAsync(HttpMethod.Get, "/health", token: null)).Status);
    }

    [Fact]
    public void ALiveFeedNotSubscribed_OrAnOpenCircuitBreaker_MakesTheRunDegraded()
    {
        var spec = RunHostTests.Spec(RunMode.PaperLive, null, null, fast: 3, slow: 8) with { DataFiles = ["live:alpaca:ORCL"], Symbols = ["ORCL"], Venue = "alpaca" };
        static FeedHealthSnapshot Feed(FeedState state, string? error = null) => new("alpaca", state, null, null, 10, 5, 0, 0, 0, 2, 1, error);

        var ok = Health.Describe("r1", spec, RunStatus.Running, Feed(FeedState.Subscribed), RiskMode.Active, false);
        Assert.False(ok.Degraded);
        Assert.Equal("subscribed", ok.FeedState);
        Assert.Equal("alpaca", ok.Feed);
        Assert.Equal("ok", ok.VenueState);

        var starting = Health.Describe("r1", spec, RunStatus.Running, null, RiskMode.Active, false);
        Assert.Equal("starting", starting.FeedState);
        Assert.False(starting.Degraded);

        var reconnecting = Health.Describe("r1", spec, RunStatus.Running, Feed(FeedState.Reconnecting, "connection reset"), RiskMode.Active, false);
        Assert.True(reconnecting.Degraded);
        Assert.Equal("reconnecting", reconnecting.FeedState);
        Assert.Contains("feed alpaca is reconnecting (connection reset)", reconnecting.Problem, StringComparison.Ordinal);
        Assert.Equal(2, reconnecting.FeedReconnects);

        Assert.Equal("circuit_open", Health.Describe("r1", spec, RunStatus.Running, Feed(FeedState.CircuitOpen), RiskMode.Active, false).FeedState);

        var breaker = Health.Describe("r1", spec, RunStatus.Running, Feed(FeedState.Subscribed), RiskMode.Active, true);
        Assert.True(breaker.Degraded);
        Assert.Equal("circuit_open", breaker.VenueState);

        var halted = Health.Describe("r1", spec, RunStatus.Running, Feed(FeedState.Subscribed), RiskMode.Halted, false);
        Assert.True(halted.Degraded);
        Assert.Equal("halted", halted.VenueState);

        Assert.Equal("unknown", Health.Describe("r1", spec, RunStatus.Running, Feed(FeedState.Subscribed), null, null).VenueState);
    }
}
