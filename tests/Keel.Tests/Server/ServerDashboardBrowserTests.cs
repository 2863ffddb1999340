using Keel.Domain;
using Keel.Storage;
using Keel.Storage.Pipeline;
using Keel.Tests.Browser;
using Microsoft.Playwright;

namespace Keel.Tests.Server;

/// <summary>
/// The dashboard in real headless Chromium (Debian's chromium, driven by Playwright), served by <c>keel serve</c>: it
/// lists the run, and while the run goes its candles, its event log (over the WebSocket) and its orders grow on screen,
/// with no script error and nothing fetched from anywhere but the server.
/// </summary>
public class ServerDashboardBrowserTests
{
    [Fact]
    public async Task Dashboard_ShowsARunUpdatingOnScreen_AsItGoes()
    {
        Assert.True(File.Exists(ReportBrowserTests.Chromium), $"{ReportBrowserTests.Chromium} is missing: ./test.sh installs Debian's chromium package (apt-get install chromium)");
        await using var h = await ServerHarness.StartAsync();
        // About 100 daily bars a second: the whole file takes ~50 s, the test watches a few seconds of it.
        var id = await h.StartPaperAsync(speed: "8640000");

        // A pending decision to approve on screen, and a journaled trade of another to show in the trade journal.
        var (created, decision, _) = await h.SendAsync(HttpMethod.Post, "/api/decisions", ServerHarness.TradeToken, "{\"symbol\":\"AAPL\",\"planned_entry\":\"100\",\"planned_sl\":\"95\",\"quantity\":\"3\",\"trade_style\":\"DAY\"}");
        Assert.Equal(201, created);
        long decisionId = decision.GetProperty("id").GetInt64();
        using (var store = KeelStore.Open(h.Db))
        {
            var now = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow);
            var other = store.Pipeline.AddDecisions([new NewDecision("MSFT", DecisionAction.NewTrade, TradeSide.Long, 400m, 390m, null, 2m, TradeStyle.Day, Approved: true)], now)[0];
            store.Pipeline.OpenTrade(store.Pipeline.FindDecision(other)!, new NewOrderExecution(PipelineOrderType.Entry, "buy", 2m, 400m, null, "BROWSER-ENTRY"), now);
        }

        bool forbiddenExpected = false;

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = ReportBrowserTests.Chromium, Headless = true });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1200, Height = 900 } });
        var errors = new List<string>();
        page.PageError += (_, e) => errors.Add(e);
        page.Console += (_, m) =>
        {
            if (m.Type == "error" && !(forbiddenExpected && m.Text.Contains("403", StringComparison.Ordinal)))
            {
                errors.Add(m.Text);
            }
        };
        page.Request += (_, r) =>
        {
            if (!r.Url.StartsWith(h.Server.BaseAddress.GetLeftPart(UriPartial.Authority), StringComparison.Ordinal) && !r.Url.StartsWith("ws://" + h.Server.BaseAddress.Authority, StringComparison.Ordinal))
            {
                errors.Add("the dashboard fetched " + r.Url);
            }
        };

        await page.GotoAsync(new Uri(h.Server.BaseAddress, "/#token=" + ServerHarness.ReadToken).AbsoluteUri);
        Assert.DoesNotContain(ServerHarness.ReadToken, page.Url, StringComparison.Ordinal); // taken out of the address bar
        await page.WaitForFunctionAsync($"() => window.keelDashboard && window.keelDashboard.ready && window.keelDashboard.runId === '{id}'", null, new() { Timeout = 30_000 });
        await Assertions.Expect(page.Locator($"#runs tr[data-run='{id}'] td:nth-child(4)")).ToHaveTextAsync("running", new() { Timeout = 10_000 });

        // It goes on as we watch: more candles, more events on the log, more orders in the table.
        await page.WaitForFunctionAsync("() => window.keelDashboard.candles.data().length > 0 && window.keelDashboard.events.length > 0", null, new() { Timeout = 30_000 });
        int candles = await page.EvaluateAsync<int>("() => window.keelDashboard.candles.data().length");
        int events = await page.EvaluateAsync<int>("() => window.keelDashboard.events.length");
        int shown = await page.Locator("#events li").CountAsync();
        await page.WaitForFunctionAsync($"() => window.keelDashboard.candles.data().length > {candles} && window.keelDashboard.events.length > {events}", null, new() { Timeout = 30_000 });
        await page.WaitForFunctionAsync($"() => document.querySelectorAll('#events li').length > {shown}", null, new() { Timeout = 30_000 });
        await page.WaitForFunctionAsync("() => document.querySelectorAll('#orders tbody tr').length > 0 && window.keelDashboard.markers.markers().length > 0", null, new() { Timeout = 30_000 });
        Assert.True(await page.Locator("#price-chart canvas").CountAsync() > 0, "the price chart drew nothing");
        Assert.True(await page.EvaluateAsync<int>("() => window.keelDashboard.equity.data().length") > 0, "the equity chart has no points");

        // Stopped through the API, the page shows it.
        Assert.Equal(202, (await h.SendAsync(HttpMethod.Post, $"/api/runs/{id}/stop", ServerHarness.TradeToken)).Status);
        await Assertions.Expect(page.Locator("#run-status")).ToHaveTextAsync("stopped", new() { Timeout = 15_000 });

        // Decisions: the pending one is listed with an Approve button. The page's read token cannot approve (said on
        // screen); with a trade token typed into the page it is approved, on screen and in the store.
        var row = page.Locator($"#decisions tr[data-decision='{decisionId}']");
        await Assertions.Expect(row.Locator("td.approved")).ToHaveTextAsync("no", new() { Timeout = 15_000 });
        await Assertions.Expect(page.Locator("#journal tbody tr")).ToHaveCountAsync(1, new() { Timeout = 15_000 });
        await Assertions.Expect(page.Locator("#journal tbody tr td").Nth(4)).ToHaveTextAsync("ORDERED");
        forbiddenExpected = true;
        await row.Locator("button.approve").ClickAsync();
        await Assertions.Expect(page.Locator("#decision-message")).ToContainTextAsync("trade scope", new() { Timeout = 10_000 });
        using (var store = KeelStore.Open(h.Db))
        {
            Assert.False(store.Pipeline.FindDecision(decisionId)!.Approved);
        }

        forbiddenExpected = false;
        await page.Locator("#trade-token").FillAsync(ServerHarness.TradeToken);
        await row.Locator("button.approve").ClickAsync();
        await Assertions.Expect(row.Locator("td.approved")).ToHaveTextAsync("yes", new() { Timeout = 10_000 });
        await Assertions.Expect(row.Locator("button.approve")).ToHaveCountAsync(0);
        using (var store = KeelStore.Open(h.Db))
        {
            Assert.True(store.Pipeline.FindDecision(decisionId)!.Approved);
        }

        // The API reference renders the OpenAPI document, from this server only.
        var docs = await browser.NewPageAsync();
        docs.PageError += (_, e) => errors.Add("api-docs: " + e);
        docs.Request += (_, r) =>
        {
            if (!r.Url.StartsWith(h.Server.BaseAddress.GetLeftPart(UriPartial.Authority), StringComparison.Ordinal))
            {
                errors.Add("the API reference fetched " + r.Url);
            }
        };
        await docs.GotoAsync(new Uri(h.Server.BaseAddress, "/api-docs").AbsoluteUri);
        await docs.WaitForFunctionAsync("() => window.keelApiDocs && window.keelApiDocs.ready && window.keelApiDocs.operations >= 25", null, new() { Timeout = 15_000 });
        Assert.Equal(1, await docs.Locator("section.operation[data-method='post'][data-path='/api/decisions/{id}/approve']").CountAsync());
        Assert.Empty(errors);
    }
}
