using System.Globalization;
using System.Text.Json;
using Keel.Tests.Support;
using Microsoft.Playwright;

namespace Keel.Tests.Browser;

/// <summary>
/// The quickstart's report.html opened in real headless Chromium (Debian's chromium, driven by Playwright): the
/// candlesticks with a marker per entry and exit, the benchmark line, the monthly table, and the trade table sorting,
/// filtering and paging, with no script error. ./test.sh installs chromium when it is missing.
/// </summary>
public class ReportBrowserTests
{
    internal const string Chromium = "/usr/bin/chromium";

    [Fact]
    public async Task QuickstartReport_ShowsCandlesWithTrades_TheBenchmark_MonthlyReturns_AndATableThatSorts()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: ./test.sh installs Debian's chromium package (apt-get install chromium)");
        using var tmp = new TempDir();
        var run = CliRunner.Run(tmp.Path, null, "backtest", "--data", Path.Combine(TestPaths.RepoRoot, "samples", "data", "orcl-1995-2014.txt"), "--strategy", "sma-cross",
            "--param", "fast=10", "--param", "slow=30", "--size", "equity:90%", "--commission", "0.001", "--cash", "100000", "--out", "results", "--db", "none", "-q");
        Assert.True(run.ExitCode == 0, run.ToString());
        using var metricsDoc = JsonDocument.Parse(File.ReadAllText(tmp.File("results/metrics.json")));
        var metrics = metricsDoc.RootElement;
        var trades = File.ReadAllLines(tmp.File("results/trades.csv")).Skip(1).Select(l => l.Split(',')).ToList();
        var header = File.ReadLines(tmp.File("results/trades.csv")).First().Split(',');
        int net = Array.IndexOf(header, "net_pnl"), status = Array.IndexOf(header, "status");
        int closed = trades.Count(t => t[status] != "open");

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = Chromium, Headless = true });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1100, Height = 900 } });
        var errors = new List<string>();
        page.PageError += (_, e) => errors.Add(e);
        page.Console += (_, m) =>
        {
            if (m.Type == "error")
            {
                errors.Add(m.Text);
            }
        };
        page.Request += (_, r) =>
        {
            if (!r.Url.StartsWith("file:", StringComparison.Ordinal) && !r.Url.StartsWith("data:", StringComparison.Ordinal))
            {
                errors.Add("the report fetched " + r.Url);
            }
        };
        await page.GotoAsync(new Uri(tmp.File("results/report.html")).AbsoluteUri);
        await page.WaitForFunctionAsync("() => window.keelReport && window.keelReport.ready", null, new() { Timeout = 30_000 });

        // One candle per daily bar, and a marker for every entry and every exit.
        Assert.Equal(metrics.GetProperty("bars").GetInt32(), await page.EvaluateAsync<int>("() => window.keelReport.price.data().length"));
        Assert.Equal(trades.Count + closed, await page.EvaluateAsync<int>("() => window.keelReport.markers.markers().length"));
        Assert.Equal("candlestick", await page.EvaluateAsync<string>("() => window.keelReport.price.seriesType().toLowerCase()"));

        // sma-cross declares its two averages; each line starts once the average has its window.
        Assert.Equal(2, await page.EvaluateAsync<int>("() => window.keelReport.indicators.length"));
        Assert.Equal(metrics.GetProperty("bars").GetInt32() - 29, await page.EvaluateAsync<int>("() => window.keelReport.indicators[1].data().length"));

        // Every trade has its adverse and favourable excursions, the adverse never above 0 for a long.
        var mae = await page.Locator("#trades tbody tr:first-child td:nth-child(12)").TextContentAsync();
        Assert.EndsWith("%", mae, StringComparison.Ordinal);

        // The benchmark ends where metrics.json says buy-and-hold ended: 100,000 × (1 + its return).
        double benchLast = await page.EvaluateAsync<double>("() => { const d = window.keelReport.benchmark.data(); return d[d.length - 1].value; }");
        Assert.Equal(100_000 * (1 + metrics.GetProperty("benchmark").GetProperty("total_return").GetDouble()), benchLast, 3);
        Assert.True(await page.Locator("#equity-chart canvas").CountAsync() > 0, "the equity chart drew nothing");

        // The monthly table holds metrics.json's monthly returns.
        var monthly = metrics.GetProperty("monthly_returns");
        Assert.Equal(monthly.EnumerateObject().Count(), await page.Locator("#monthly-returns td[data-period*='-']").CountAsync());
        var dec2014 = await page.Locator("#monthly-returns td[data-period='2014-12']").GetAttributeAsync("data-return");
        Assert.Equal(monthly.GetProperty("2014-12").GetDouble(), double.Parse(dec2014!, CultureInfo.InvariantCulture));

        // Every trade, 50 to a page; sorting by net P&L puts the largest first, then (clicked again) the smallest.
        Assert.Equal(Math.Min(50, trades.Count), await page.Locator("#trades tbody tr").CountAsync());
        Assert.Contains($"page 1 of {(trades.Count + 49) / 50} · {trades.Count} trades", await page.Locator("#trade-pager").TextContentAsync() ?? string.Empty, StringComparison.Ordinal);
        var nets = trades.Select(t => decimal.Parse(t[net], CultureInfo.InvariantCulture)).ToList();
        await page.ClickAsync("#trades th[data-key=net_pnl]");
        Assert.Equal(nets.Max().ToString("0.00", CultureInfo.InvariantCulture), await page.Locator("#trades tbody tr:first-child td:nth-child(9)").TextContentAsync());
        await page.ClickAsync("#trades th[data-key=net_pnl]");
        Assert.Equal(nets.Min().ToString("0.00", CultureInfo.InvariantCulture), await page.Locator("#trades tbody tr:first-child td:nth-child(9)").TextContentAsync());
        await page.ClickAsync("#trade-next");
        Assert.Equal(Math.Min(50, trades.Count - 50), await page.Locator("#trades tbody tr").CountAsync());

        // Filtering keeps only matching rows.
        await page.FillAsync("#trade-filter", "2008-");
        var entries = await page.Locator("#trades tbody tr").AllTextContentsAsync();
        Assert.NotEmpty(entries);
        Assert.All(entries, row => Assert.Contains("2008-", row, StringComparison.Ordinal));

        // Log scale switches the equity chart's price scale.
        await page.CheckAsync("#log-scale");
        Assert.Equal(1, await page.EvaluateAsync<int>("() => window.keelReport.equityChart.priceScale('right').options().mode"));

        var shot = Path.Combine(TestPaths.RepoRoot, "artifacts", "test-results", "report.png");
        Directory.CreateDirectory(Path.GetDirectoryName(shot)!);
        await page.FillAsync("#trade-filter", string.Empty);
        await page.ScreenshotAsync(new() { Path = shot, FullPage = true });
        Assert.Empty(errors);
    }
}
