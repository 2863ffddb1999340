using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using Keel.Domain;
using Keel.Engine.Persistence;
using Keel.Engine.Ports;
using Keel.Engine.Risk;
using Keel.Runtime;
using Keel.Server;
using Keel.Tests.Runtime;

namespace Keel.Tests.Server;

/// <summary><c>/metrics</c>: Prometheus text format, read scope, runs by status and the series of a running run.</summary>
public partial class ServerMetricsTests
{
    [GeneratedRegex(@"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*=""([^""\\]|\\.)*"",?)*\})? -?[0-9.eE+\-]+$|^-?NaN$")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"[{,]([a-zA-Z_][a-zA-Z0-9_]*)=""")]
    private static partial Regex LabelName();

    private static async Task<(int Status, string Text, string? Type)> ScrapeAsync(ServerHarness h, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        using var response = await h.Http.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(), response.Content.Headers.ContentType?.ToString());
    }

    private static double Value(string text, string series) =>
        double.Parse(text.Split('\n').Single(l => l.StartsWith(series + " ", StringComparison.Ordinal))[(series.Length + 1)..], CultureInfo.InvariantCulture);

    [Fact]
    public async Task Metrics_NeedAReadToken_AreValidTextFormat_AndCountRunsOrdersAndRisk()
    {
        await using var h = await ServerHarness.StartAsync();
        Assert.Equal(401, (await ScrapeAsync(h, null)).Status);
        await h.CompletedBacktestAsync();
        var id = await h.StartPaperAsync(speed: "1");
        var (ok, order, _) = await h.SendAsync(HttpMethod.Post, $"/api/runs/{id}/orders", ServerHarness.TradeToken, "{\"instrument\":\"ORCL-1995-2014\",\"side\":\"buy\",\"type\":\"limit\",\"limitPrice\":\"0.01\",\"quantity\":\"1\"}");
        Assert.Equal(200, ok);

        var (status, text, type) = await ScrapeAsync(h, ServerHarness.ReadToken);
        Assert.Equal(200, status);
        Assert.StartsWith("text/plain; version=0.0.4", type, StringComparison.Ordinal);
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith('#')))
        {
            Assert.Matches(SampleLine(), line);
            var names = LabelName().Matches(line).Select(m => m.Groups[1].Value).ToList();
            Assert.True(names.Count == names.Distinct(StringComparer.Ordinal).Count(), $"a label name repeats (Prometheus refuses the scrape): {line}");
        }

        Assert.Equal(1, Value(text, "keel_runs{status=\"completed\"}"));
        Assert.Equal(1, Value(text, "keel_runs{status=\"running\"}"));
        Assert.Equal(1, Value(text, "keel_server_runs_active"));
        var labels = $"run=\"{id}\",strategy=\"sma-cross\",mode=\"paper\",venue=\"simulated\"";
        Assert.Equal(1, Value(text, $"keel_run_risk_mode{{{labels},state=\"active\"}}"));
        Assert.Equal(0, Value(text, $"keel_run_risk_mode{{{labels},state=\"halted\"}}"));
        Assert.Equal(0, Value(text, $"keel_run_circuit_breaker_open{{{labels}}}"));
        Assert.True(Value(text, $"keel_run_journal_lag_events{{{labels}}}") >= 0);
        Assert.Contains("# TYPE keel_run_orders_total counter", text, StringComparison.Ordinal);
        Assert.Contains("keel_tradingview_alerts_total{outcome=\"accepted\"} 0", text, StringComparison.Ordinal);
        Assert.NotNull(order.GetProperty("id").GetString());

        // Feed and venue health, as /health has them: a replayed file is historical and up; the simulated venue is ok.
        Assert.Equal(1, Value(text, $"keel_run_feed_up{{{labels}}}"));
        Assert.Equal(1, Value(text, $"keel_run_feed_state{{{labels},state=\"historical\"}}"));
        Assert.Equal(0, Value(text, $"keel_run_feed_state{{{labels},state=\"subscribed\"}}"));
        Assert.Equal(1, Value(text, $"keel_run_venue_up{{{labels}}}"));
        Assert.Equal(1, Value(text, $"keel_run_venue_state{{{labels},state=\"ok\"}}"));
        Assert.Equal(0, Value(text, $"keel_run_venue_state{{{labels},state=\"circuit_open\"}}"));
        Assert.DoesNotContain("keel_run_feed_messages_total{", text, StringComparison.Ordinal); // no live feed, no feed counters
        Assert.Contains("# TYPE keel_run_feed_up gauge", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE keel_run_venue_up gauge", text, StringComparison.Ordinal);
    }

    [Fact]
    public void ALiveFeed_HasItsStateAndCounters_AndAnUnsubscribedFeedOrOpenBreakerIsDown()
    {
        var spec = RunHostTests.Spec(RunMode.PaperLive, null, null, fast: 3, slow: 8) with { DataFiles = ["live:alpaca:ORCL"], Symbols = ["ORCL"], Venue = "alpaca" };
        var at = Timestamp.FromUnixNanos(1_700_000_000_500_000_000);
        var subscribed = new FeedHealthSnapshot("alpaca", FeedState.Subscribed, null, at, 10, 5, 0, 0, 0, 2, 0, null);
        var reconnecting = subscribed with { State = FeedState.Reconnecting, Reconnects = 3, LastError = "connection reset" };
        (string, string)[] up = [("run", "r1")], down = [("run", "r2")], starting = [("run", "r3")];
        var text = new StringBuilder();
        Keel.Server.Metrics.WriteHealth(text,
        [
            (up, Health.Describe("r1", spec, RunStatus.Running, subscribed, RiskMode.Active, false), subscribed),
            (down, Health.Describe("r2", spec, RunStatus.Running, reconnecting, RiskMode.Active, true), reconnecting),
            (starting, Health.Describe("r3", spec, RunStatus.Running, null, null, null), null),
        ]);
        var t = text.ToString();
        foreach (var line in t.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith('#')))
        {
            Assert.Matches(SampleLine(), line);
        }

        Assert.Equal(1, Value(t, "keel_run_feed_up{run=\"r1\"}"));
        Assert.Equal(1, Value(t, "keel_run_feed_state{run=\"r1\",state=\"subscribed\"}"));
        Assert.Equal(10, Value(t, "keel_run_feed_messages_total{run=\"r1\"}"));
        Assert.Equal(1_700_000_000.5, Value(t, "keel_run_feed_last_message_timestamp_seconds{run=\"r1\"}"));
        Assert.Equal(1, Value(t, "keel_run_venue_up{run=\"r1\"}"));

        Assert.Equal(0, Value(t, "keel_run_feed_up{run=\"r2\"}"));
        Assert.Equal(1, Value(t, "keel_run_feed_state{run=\"r2\",state=\"reconnecting\"}"));
        Assert.Equal(0, Value(t, "keel_run_feed_state{run=\"r2\",state=\"subscribed\"}"));
        Assert.Equal(3, Value(t, "keel_run_feed_reconnects_total{run=\"r2\"}"));
        Assert.Equal(0, Value(t, "keel_run_venue_up{run=\"r2\"}"));
        Assert.Equal(1, Value(t, "keel_run_venue_state{run=\"r2\",state=\"circuit_open\"}"));
        Assert.DoesNotContain("connection reset", t, StringComparison.Ordinal); // the error text stays in /health

        Assert.Equal(0, Value(t, "keel_run_feed_up{run=\"r3\"}"));
        Assert.Equal(1, Value(t, "keel_run_feed_state{run=\"r3\",state=\"starting\"}"));
        Assert.Equal(1, Value(t, "keel_run_venue_state{run=\"r3\",state=\"unknown\"}"));
        Assert.DoesNotContain("keel_run_feed_messages_total{run=\"r3\"}", t, StringComparison.Ordinal);
    }

    /// <summary>A histogram's cumulative buckets in order of <c>le</c>, checked to grow and to end at <c>+Inf</c> = <c>_count</c>.</summary>
    private static long[] Buckets(string text, string name, string label)
    {
        var prefix = $"{name}_bucket{{{label},le=\"";
        var lines = text.Split('\n').Where(l => l.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        Assert.Equal(LatencyHistogram.Bounds.Length + 1, lines.Count);
        Assert.StartsWith(prefix + "+Inf\"}", lines[^1], StringComparison.Ordinal);
        var bounds = lines.Take(lines.Count - 1).Select(l => double.Parse(l[prefix.Length..l.IndexOf('"', prefix.Length)], CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(bounds.Order(), bounds);
        var counts = lines.Select(l => long.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture)).ToArray();
        for (int i = 1; i < counts.Length; i++)
        {
            Assert.True(counts[i] >= counts[i - 1], $"{name}{{{label}}}: bucket {i} ({counts[i]}) is below bucket {i - 1} ({counts[i - 1]})");
        }

        Assert.Equal(counts[^1], Value(text, $"{name}_count{{{label}}}"));
        Assert.True(Value(text, $"{name}_sum{{{label}}}") >= 0);
        return counts;
    }

    [Fact]
    public async Task RequestAndWebhookLatencies_AreCumulativeHistograms_ThatCountEachRequest()
    {
        const string secret = "tv-secret-0123456789abcdef";
        await using var h = await ServerHarness.StartAsync([new TradingViewHook { Name = "main", Secret = secret, Run = "active", Window = TimeSpan.FromSeconds(60) }]);
        var (_, before, _) = await ScrapeAsync(h, ServerHarness.ReadToken);
        Assert.Contains("# TYPE keel_http_request_duration_seconds histogram", before, StringComparison.Ordinal);
        Assert.Contains("# TYPE keel_tradingview_accept_duration_seconds histogram", before, StringComparison.Ordinal);
        long api0 = Buckets(before, "keel_http_request_duration_seconds", "group=\"api\"")[^1];
        long hooks0 = Buckets(before, "keel_http_request_duration_seconds", "group=\"webhooks\"")[^1];
        Assert.Equal(0, Buckets(before, "keel_tradingview_accept_duration_seconds", "hook=\"all\"")[^1]);

        var id = await h.StartPaperAsync(speed: "1");
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(200, (await h.SendAsync(HttpMethod.Get, $"/api/runs/{id}")).Status);
        }

        Assert.Equal(401, (await h.SendAsync(HttpMethod.Get, "/api/runs", token: null)).Status); // refused requests are timed too
        string Alert(string s) => $$"""{"secret": "{{s}}", "ticker": "ORCL-1995-2014", "action": "buy", "contracts": "1", "time": "{{DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)}}", "id": "Long"}""";
        using (var forged = new StringContent(Alert("wrong-secret-0123456789abcdef"), Encoding.UTF8, "application/json"))
        using (var refused = await h.Http.PostAsync("/webhooks/tradingview/main", forged))
        {
            Assert.Equal(401, (int)refused.StatusCode);
        }

        using (var valid = new StringContent(Alert(secret), Encoding.UTF8, "application/json"))
        using (var accepted = await h.Http.PostAsync("/webhooks/tradingview/main", valid))
        {
            Assert.Equal(202, (int)accepted.StatusCode);
        }

        // A request is observed when its pipeline returns, which may be just after its client has the answer.
        string after = string.Empty;
        await ServerHarness.UntilAsync(async () =>
        {
            after = (await ScrapeAsync(h, ServerHarness.ReadToken)).Text;
            return Value(after, "keel_http_request_duration_seconds_count{group=\"webhooks\"}") >= hooks0 + 2 && Value(after, "keel_http_request_duration_seconds_count{group=\"api\"}") >= api0 + 6;
        }, "the requests in the histograms", seconds: 10);
        var api = Buckets(after, "keel_http_request_duration_seconds", "group=\"api\"");
        Assert.True(api[^1] >= api0 + 6, $"api requests counted: {api[^1]}, before {api0}");
        Assert.Equal(hooks0 + 2, Buckets(after, "keel_http_request_duration_seconds", "group=\"webhooks\"")[^1]);
        var accept = Buckets(after, "keel_tradingview_accept_duration_seconds", "hook=\"all\"");
        Assert.Equal(1, accept[^1]); // the accepted alert, not the forged one
        Assert.True(Value(after, "keel_tradingview_accept_duration_seconds_sum{hook=\"all\"}") > 0);
    }

    [Fact]
    public void Histogram_PutsEachDurationInItsBucket_AndTheSumInSeconds()
    {
        var histogram = new LatencyHistogram();
        histogram.ObserveTicks(Stopwatch.Frequency / 2000); // 0.5 ms
        histogram.ObserveTicks(Stopwatch.Frequency / 100); // 10 ms: on a bound, so in its bucket (le is inclusive)
        histogram.ObserveTicks(Stopwatch.Frequency * 60); // a minute: only +Inf
        var text = new StringBuilder();
        histogram.Write(text, "x", "group", "g");
        var t = text.ToString();
        Assert.Equal(0, Value(t, "x_bucket{group=\"g\",le=\"0.00025\"}"));
        Assert.Equal(1, Value(t, "x_bucket{group=\"g\",le=\"0.0005\"}"));
        Assert.Equal(1, Value(t, "x_bucket{group=\"g\",le=\"0.005\"}"));
        Assert.Equal(2, Value(t, "x_bucket{group=\"g\",le=\"0.01\"}"));
        Assert.Equal(2, Value(t, "x_bucket{group=\"g\",le=\"10\"}"));
        Assert.Equal(3, Value(t, "x_bucket{group=\"g\",le=\"+Inf\"}"));
        Assert.Equal(3, Value(t, "x_count{group=\"g\"}"));
        Assert.Equal(60.0105, Value(t, "x_sum{group=\"g\"}"), 6);
        Assert.Equal(3, histogram.Count);
    }
}
