using System.Text.Json;
using Keel.Domain;
using Keel.Runtime;
using Keel.Runtime.Alerts;
using Keel.Tests.Runtime;
using Keel.Tests.Support;

namespace Keel.Tests.Alerts;

/// <summary>Alerts of paper and live runs, delivered to a local stand-in for Telegram's Bot API and for a webhook receiver.</summary>
public sealed class AlertTests : IDisposable
{
    private const string Token = "123456:AAE-secret-bot-token_xyz";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    private static AlertDispatcher Dispatcher(IReadOnlyList<IAlertSink> sinks, IReadOnlySet<AlertKind> kinds, ListLogger? log = null) =>
        new(sinks, kinds, log, new AlertDispatcherOptions { Backoff = TimeSpan.FromMilliseconds(20), DrainTime = TimeSpan.FromSeconds(10) });

    [Fact]
    public async Task PaperRun_SendsOneAlertPerFill_ToTelegramAndTheWebhook_TheWebhookSigned()
    {
        await using var telegram = await FakeEndpoint.StartAsync();
        await using var hook = await FakeEndpoint.StartAsync();
        await using var alerts = Dispatcher(
            [new TelegramAlertSink(Http, Token, "-100777", telegram.Url), new WebhookAlertSink(Http, new Uri(hook.Url, "keel"), "hook-secret")],
            AlertKinds.Parse("fill", out _)!);
        await using var host = new RunHost(new RunServices { Alerts = alerts });
        var outDir = _dir.File("out");
        var outcome = await host.Start(RunHostTests.Spec(RunMode.PaperReplay, null, outDir)).Completion.WaitAsync(Patience);
        await alerts.DrainAsync().WaitAsync(Patience);

        var fills = File.ReadAllLines(Path.Combine(outDir, "fills.csv")).Length - 1;
        Assert.True(fills > 10, $"the run should fill orders; it filled {fills}");
        Assert.Equal(fills, outcome.Result.Metrics.Orders);
        Assert.Equal(fills, telegram.Requests.Count);
        Assert.Equal(fills, hook.Requests.Count);
        Assert.Equal(fills, alerts.Sent / 2);
        Assert.Equal(0, alerts.Failed + alerts.Dropped);

        // Telegram: the Bot API's sendMessage, the token in the path only, the chat and a line naming the fill.
        var first = telegram.Requests[0];
        Assert.Equal("POST", first.Method);
        Assert.Equal($"/bot{Token}/sendMessage", first.Path);
        using (var doc = JsonDocument.Parse(first.Body))
        {
            Assert.Equal("-100777", doc.RootElement.GetProperty("chat_id").GetString());
            var text = doc.RootElement.GetProperty("text").GetString()!;
            Assert.Contains("fill", text, StringComparison.Ordinal);
            Assert.Contains("ORCL", text, StringComparison.Ordinal);
            Assert.DoesNotContain(Token, text, StringComparison.Ordinal);
        }

        // The webhook: JSON with kind and run, signed with HMAC-SHA256 of the exact body.
        foreach (var r in hook.Requests)
        {
            Assert.Equal("/keel", r.Path);
            Assert.Equal(WebhookAlertSink.Signature(r.Body, "hook-secret"), r.Headers[WebhookAlertSink.SignatureHeader]);
            Assert.NotEqual(WebhookAlertSink.Signature(r.Body, "another-secret"), r.Headers[WebhookAlertSink.SignatureHeader]);
            using var doc = JsonDocument.Parse(r.Body);
            Assert.Equal("fill", doc.RootElement.GetProperty("kind").GetString());
            Assert.Equal(outcome.RunId ?? "unrecorded", doc.RootElement.GetProperty("run").GetString());
        }

        // In the order the run filled them.
        var times = hook.Requests.Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("time").GetString()!).ToList();
        Assert.Equal(times.Order(StringComparer.Ordinal), times);
    }

    [Fact]
    public async Task Backtest_SendsNoAlerts_AndAnUnwantedKindIsNotSent()
    {
        await using var hook = await FakeEndpoint.StartAsync();
        await using var alerts = Dispatcher([new WebhookAlertSink(Http, hook.Url)], AlertKinds.Parse("fill", out _)!);
        await using var host = new RunHost(new RunServices { Alerts = alerts });
        var backtest = await host.Start(RunHostTests.Spec(RunMode.Backtest, null, null)).Completion.WaitAsync(Patience);
        Assert.True(backtest.Result.Metrics.Orders > 10);

        // A paper run whose every order the risk gate denies: rejections, which this dispatcher was not asked for.
        var denied = await host.Start(RunHostTests.Spec(RunMode.PaperReplay, null, null, maxPosition: Quantity.From(50))).Completion.WaitAsync(Patience);
        Assert.Equal(0, denied.Result.Metrics.Trades);
        await alerts.DrainAsync().WaitAsync(Patience);
        Assert.Empty(hook.Requests);
        Assert.Equal(0, alerts.Sent);
    }

    [Fact]
    public async Task OrdersTheRiskGateDenies_AreRejectionAlerts_WithTheReason()
    {
        await using var hook = await FakeEndpoint.StartAsync();
        await using var alerts = Dispatcher([new WebhookAlertSink(Http, hook.Url)], AlertKinds.Default);
        await using var host = new RunHost(new RunServices { Alerts = alerts });
        var outcome = await host.Start(RunHostTests.Spec(RunMode.PaperReplay, null, null, maxPosition: Quantity.From(50))).Completion.WaitAsync(Patience);
        await alerts.DrainAsync().WaitAsync(Patience);

        Assert.True(outcome.Result.Metrics.Orders > 0);
        Assert.Equal(outcome.Result.Metrics.Orders, hook.Requests.Count);
        foreach (var r in hook.Requests)
        {
            using var doc = JsonDocument.Parse(r.Body);
            Assert.Equal("rejection", doc.RootElement.GetProperty("kind").GetString());
            Assert.Contains("denied by the risk gate", doc.RootElement.GetProperty("text").GetString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task TooManyRequests_IsTriedAgainAfterRetryAfter_ABadToken_IsNot_AndNeitherLogsTheToken()
    {
        await using var telegram = await FakeEndpoint.StartAsync();
        telegram.Answer = (n, r) => n switch
        {
            1 => (429, """{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 0","parameters":{"retry_after":0}}"""),
            2 => (200, """{"ok":true,"result":{}}"""),
            _ => (401, $$"""{"ok":false,"error_code":401,"description":"Unauthorized: bot{{Token}} is not valid"}"""),
        };
        var log = new ListLogger();
        await using var alerts = Dispatcher([new TelegramAlertSink(Http, Token, "42", telegram.Url)], AlertKinds.Default, log);
        Assert.True(alerts.Post(new Alert(AlertKind.Risk, "r1", "t", "risk state ACTIVE -> REDUCING", Timestamp.FromUnixSeconds(1))));
        await alerts.DrainAsync().WaitAsync(Patience);
        Assert.Equal(2, telegram.Requests.Count);
        Assert.Equal(1, alerts.Sent);

        Assert.True(alerts.Post(new Alert(AlertKind.Halted, "r1", "t", "halted", Timestamp.FromUnixSeconds(2))));
        await alerts.DrainAsync().WaitAsync(Patience);
        Assert.Equal(3, telegram.Requests.Count); // a 401 is not tried again
        Assert.Equal(1, alerts.Failed);

        // And it turns the sink off: a wrong token would fail every alert the same way.
        Assert.True(alerts.Post(new Alert(AlertKind.Halted, "r1", "t", "halted again", Timestamp.FromUnixSeconds(3))));
        await alerts.DrainAsync().WaitAsync(Patience);
        Assert.Equal(3, telegram.Requests.Count);
        Assert.Contains(log.Entries, e => e.Id.Id == 1203);
        Assert.False(alerts.Post(new Alert(AlertKind.Fill, "r1", "t", "a fill", Timestamp.FromUnixSeconds(4)))); // not a wanted kind

        Assert.Contains(log.Entries, e => e.Id.Id == 1200 && e.Message.Contains("429", StringComparison.Ordinal));
        Assert.Contains(log.Entries, e => e.Id.Id == 1201 && e.Message.Contains("Unauthorized", StringComparison.Ordinal));
        Assert.DoesNotContain(log.Entries, e => e.Message.Contains(Token, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ADeadEndpoint_NeverSlowsTheRun_AndTheQueueStaysBounded()
    {
        // A listener that accepts and never answers: every delivery waits for its timeout.
        using var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        silent.Start();
        var url = new Uri($"http://127.0.0.1:{((System.Net.IPEndPoint)silent.LocalEndpoint).Port}/");
        using var slowHttp = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        await using var alerts = new AlertDispatcher([new WebhookAlertSink(slowHttp, url)], AlertKinds.Parse("all", out _)!, null, new AlertDispatcherOptions { Capacity = 8, Attempts = 1, DrainTime = TimeSpan.FromMilliseconds(100) });
        await using var host = new RunHost(new RunServices { Alerts = alerts });
        var outcome = await host.Start(RunHostTests.Spec(RunMode.PaperReplay, null, null)).Completion.WaitAsync(Patience);

        // Every fill was posted; all but the one in flight and the 8 queued were dropped, and the run finished regardless.
        Assert.True(outcome.Result.Metrics.Orders > 20);
        Assert.True(alerts.Dropped >= outcome.Result.Metrics.Orders - 9, $"dropped {alerts.Dropped} of {outcome.Result.Metrics.Orders}");
    }

    [Fact]
    public void EventNames_Parse_AndAnUnknownOneIsNamed()
    {
        Assert.Equal([AlertKind.Fill, AlertKind.CircuitBreaker], AlertKinds.Parse("fill, circuit-breaker", out _)!.Order());
        Assert.Equal(6, AlertKinds.Parse("all", out _)!.Count);
        Assert.Empty(AlertKinds.Parse("none", out _)!);
        Assert.Null(AlertKinds.Parse("fill,fils", out var problem));
        Assert.Contains("'fils'", problem, StringComparison.Ordinal);
        Assert.DoesNotContain(AlertKind.Fill, AlertKinds.Default);
    }
}

/// <summary>The <c>alerts</c> configuration section as the command line reads it.</summary>
public sealed class AlertConfigTests
{
    private static string Orcl => Path.Combine(TestPaths.RepoRoot, "samples", "data", "orcl-1995-2014.txt");

    private static CliRunner.Result Paper(TempDir tmp, Dictionary<string, string> env) =>
        CliRunner.Run(tmp.Path, env, ["paper", "--replay", Orcl, "--speed", "max", "--strategy", "sma-cross", "--param", "fast=10", "--param", "slow=30", "--db", "none", "-q"]);

    [Theory]
    [InlineData("KEEL__ALERTS__EVENTS", "fill,fils", "KEEL__ALERTS__EVENTS: 'fils' is not an alert event")]
    [InlineData("KEEL__ALERTS__WEBHOOK_URL", "ftp://example.com/x", "KEEL__ALERTS__WEBHOOK_URL was 'ftp://example.com/x'; it must be an http:// or https:// address")]
    [InlineData("KEEL__ALERTS__TELEGRAM_CHAT", "42", "KEEL__ALERTS__TELEGRAM_CHAT is set but alerts.telegram_token is not")]
    [InlineData("KEEL__ALERTS__TELEGRAM_TOKE", "x", "KEEL__ALERTS__TELEGRAM_TOKE is not a Keel setting")]
    public void ABadSetting_IsOneLineNamingIt_ExitTwo(string name, string value, string message)
    {
        using var tmp = new TempDir();
        var env = new Dictionary<string, string> { [name] = value };
        if (name != "KEEL__ALERTS__WEBHOOK_URL")
        {
            env["KEEL__ALERTS__WEBHOOK_URL"] = "http://127.0.0.1:9/";
        }

        var r = Paper(tmp, env);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(message, r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PaperFromTheCommandLine_SendsItsFillsToTheConfiguredWebhook_ATokenNeverInItsOutput()
    {
        using var tmp = new TempDir();
        await using var hook = await FakeEndpoint.StartAsync();
        const string token = "987654:ZZZ-never-print-me";
        await using var telegram = await FakeEndpoint.StartAsync();
        telegram.Answer = (_, _) => (401, """{"ok":false,"error_code":401,"description":"Unauthorized"}""");
        var r = Paper(tmp, new Dictionary<string, string>
        {
            ["KEEL__ALERTS__EVENTS"] = "fill",
            ["KEEL__ALERTS__WEBHOOK_URL"] = new Uri(hook.Url, "in").ToString(),
            ["KEEL__ALERTS__TELEGRAM_TOKEN"] = token,
            ["KEEL__ALERTS__TELEGRAM_CHAT"] = "7",
            ["KEEL__ALERTS__TELEGRAM_URL"] = telegram.Url.ToString(),
        });
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.True(hook.Requests.Count > 10, $"{hook.Requests.Count} alerts");
        Assert.Single(telegram.Requests); // refused (401): Telegram is off for the rest of the run, the webhook goes on
        Assert.All(hook.Requests, q => Assert.Contains("\"kind\":\"fill\"", q.Text, StringComparison.Ordinal));
        Assert.Contains("Unauthorized", r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(token, r.Stdout + r.Stderr, StringComparison.Ordinal);
    }
}

/// <summary>A live feed that goes down and comes back, on Keel's sandbox: one alert each way.</summary>
public sealed class FeedAlertTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private sealed class States : IRunObserver
    {
        private readonly List<Keel.Engine.Ports.FeedState> _seen = [];

        public IReadOnlyList<Keel.Engine.Ports.FeedState> Seen
        {
            get
            {
                lock (_seen)
                {
                    return [.. _seen];
                }
            }
        }

        public void FeedHealth(Keel.Engine.Ports.FeedHealthSnapshot health)
        {
            lock (_seen)
            {
                _seen.Add(health.State);
            }
        }

        public void Recorded(string runId)
        {
        }

        public void Warning(string message)
        {
        }

        public void Note(string message)
        {
        }

        public void Resuming(string message)
        {
        }

        public void Progress(long done, long total)
        {
        }
    }

    [Fact]
    public async Task AFeedThatDropsAndCannotLogInForAWhile_IsOneFeedDownAlert_ThenOneFeedBack()
    {
        var options = new Keel.Sandbox.SandboxOptions { Lockstep = true };
        options.Series.Add(new Keel.Sandbox.SandboxSeries("ORCL", Keel.Tests.Live.LiveRunTests.OrclSince(_dir, 2014)));
        await using var sandbox = await Keel.Sandbox.SandboxServer.StartAsync(options);
        await using var hook = await FakeEndpoint.StartAsync();
        await using var alerts = new AlertDispatcher([new WebhookAlertSink(new HttpClient(), hook.Url)], AlertKinds.Parse("feed_down", out _)!);
        await using var host = new RunHost(new RunServices
        {
            Feeds = _ => Keel.Tests.Venues.SandboxFeeds.Create("alpaca", sandbox, Keel.Tests.Venues.SandboxFeeds.Fast(breakAfter: 1_000_000)),
            Alerts = alerts,
        });
        var states = new States();
        var spec = RunHostTests.Spec(RunMode.PaperLive, null, null, fast: 3, slow: 8) with { DataFiles = ["live:alpaca:ORCL"], Symbols = ["ORCL"], Venue = "alpaca", Timeframe = "1d" };
        var run = host.Start(spec, states);
        await Keel.Tests.Sandbox.SandboxTesting.Eventually(() => states.Seen.Contains(Keel.Engine.Ports.FeedState.Subscribed), "the feed subscribed", Patience);
        Assert.Empty(hook.Requests);

        // The stream drops and every new login is refused (406 connection limit exceeded): the feed retries, and is down.
        long accepted = sandbox.Stats.Alpaca.ConnectionsAccepted;
        sandbox.Faults.ConnectionLimit = true;
        sandbox.Faults.DropConnections();
        await hook.UntilAsync(r => r.Count >= 1, Patience);
        await Keel.Tests.Sandbox.SandboxTesting.Eventually(() => sandbox.Stats.Alpaca.ConnectionsAccepted >= accepted + 3, "several refused logins", Patience);

        // Logins work again: the feed is back.
        sandbox.Faults.ConnectionLimit = false;
        await hook.UntilAsync(r => r.Count >= 2, Patience);
        run.Stop();

        // The sandbox was never stepped, so the run saw no candle: it ends with that error, not an alert of this kind.
        await Assert.ThrowsAsync<Keel.Engine.Data.DataFormatException>(() => run.Completion.WaitAsync(Patience));
        await alerts.DrainAsync().WaitAsync(Patience);

        var texts = hook.Requests.Select(r => System.Text.Json.JsonDocument.Parse(r.Body).RootElement.GetProperty("title").GetString()).ToList();
        Assert.Equal(2, texts.Count); // however often it tried, one alert down and one back
        Assert.EndsWith("feed down", texts[0], StringComparison.Ordinal);
        Assert.EndsWith("feed back", texts[1], StringComparison.Ordinal);
    }
}
