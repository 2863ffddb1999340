using System.Globalization;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;

namespace Keel.Tests.Server;

/// <summary><c>/metrics</c>: Prometheus text format, read scope, runs by status and the series of a running run.</summary>
public partial class ServerMetricsTests
{
    [GeneratedRegex(@"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*=""([^""\\]|\\.)*"",?)*\})? -?[0-9.eE+\-]+$|^-?NaN$")]
    private static partial Regex SampleLine();

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
        }

        Assert.Equal(1, Value(text, "keel_runs{status=\"completed\"}"));
        Assert.Equal(1, Value(text, "keel_runs{status=\"running\"}"));
        Assert.Equal(1, Value(text, "keel_server_runs_active"));
        var labels = $"run=\"{id}\",strategy=\"sma-cross\",mode=\"paper\",venue=\"simulated\"";
        Assert.Equal(1, Value(text, $"keel_run_risk_mode{{{labels},mode=\"active\"}}"));
        Assert.Equal(0, Value(text, $"keel_run_circuit_breaker_open{{{labels}}}"));
        Assert.True(Value(text, $"keel_run_journal_lag_events{{{labels}}}") >= 0);
        Assert.Contains("# TYPE keel_run_orders_total counter", text, StringComparison.Ordinal);
        Assert.Contains("keel_tradingview_alerts_total{outcome=\"accepted\"} 0", text, StringComparison.Ordinal);
        Assert.NotNull(order.GetProperty("id").GetString());
    }
}
