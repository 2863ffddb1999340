using Keel.Domain;
using Keel.Runtime;
using Keel.Sandbox;
using Keel.Storage;
using Keel.Tests.Runtime;
using Keel.Tests.Support;
using Keel.Tests.Venues;

namespace Keel.Tests.Live;

/// <summary>
/// One strategy, one data file, three modes: a backtest on the file, paper trading on the sandbox's feed of it, and live
/// trading against the sandbox's venue. The sandbox runs in lockstep (<see cref="Lockstep"/>), so the live modes see the
/// market exactly as the backtest does, event by event, and must place exactly the same orders.
/// </summary>
public sealed class LiveParityTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task SmaCross_Backtest_Paper_AndLive_PlaceTheSameOrders()
    {
        var file = LiveRunTests.OrclSince(_dir, 2014);
        var lastBar = Timestamp.Parse(File.ReadLines(file).Last().Split(',')[0]);

        var backtest = await Backtest(file);
        var paper = await OnSandbox(file, RunMode.PaperLive);
        var live = await OnSandbox(file, RunMode.Live);

        // The last candle is completed only when the run stops (no later tick closes it): compare what came before it.
        static List<string> Intents(IEnumerable<PlacedOrder> orders, Timestamp before) =>
            [.. orders.Where(o => o.Created < before).Select(o => $"{o.Created} {o.Order.Side} {o.Order.Type} {o.Order.Quantity} {o.Order.LimitPrice}")];

        var expected = Intents(backtest, lastBar);
        Assert.True(expected.Count >= 6, $"the backtest placed only {expected.Count} orders");
        Assert.Equal(expected, Intents(paper, lastBar));
        Assert.Equal(expected, Intents(live, lastBar));

        // Paper without quotes fills on the next candle's open, as the backtest does: the same prices. The venue fills on
        // its next price (the next candle's first tick after the order arrived), so live has the same fills in number
        // and size, at the venue's prices.
        static List<string> Fills(IEnumerable<PlacedOrder> orders, Timestamp before, bool prices) =>
            [.. orders.Where(o => o.Created < before).Select(o => $"{o.Order.Status} {string.Join('+', o.Fills.Select(f => prices ? $"{f.Quantity}@{f.Price}" : f.Quantity))}")];
        Assert.Equal(Fills(backtest, lastBar, prices: true), Fills(paper, lastBar, prices: true));
        Assert.Equal(Fills(backtest, lastBar, prices: false), Fills(live, lastBar, prices: false));
    }

    [Fact]
    public async Task Ladder_BacktestOnBarTicks_Paper_AndLive_PlaceAndFillTheSameOrders()
    {
        // ORCL's 2010 daily bars cross the sample ladder's levels (22–34) many times. The ladder trades on every price:
        // live and on paper on the sandbox's four trades a bar, in the backtest on the same four ticks (--bar-ticks).
        var file = LiveRunTests.OrclSince(_dir, 2010, until: "2011");
        var levels = _dir.File("levels.csv");
        File.Copy(Path.Combine(TestPaths.RepoRoot, "samples", "strategies", "ladder-orcl.csv"), levels);
        RunSpec Ladder(RunSpec s) => s with
        {
            Strategy = "ladder",
            Parameters = [$"levels={levels}", "cancel_distance=0.01"],
            Cash = Money.From(20_000),
            BarTicks = s.Mode == RunMode.Backtest,
        };

        var backtest = await Backtest(file, Ladder);
        var paper = await OnSandbox(file, RunMode.PaperLive, Ladder);
        var live = await OnSandbox(file, RunMode.Live, Ladder);

        static List<string> Orders(IEnumerable<PlacedOrder> orders) =>
            [.. orders.Select(o => $"{o.Created} {o.Order.Side} {o.Order.Type} {o.Order.Quantity} {o.Order.LimitPrice} {o.Order.Status} {string.Join('+', o.Fills.Select(f => $"{f.Quantity}@{f.Price}"))}")];

        var expected = Orders(backtest);
        Assert.True(expected.Count >= 6, $"the backtest placed only {expected.Count} orders");
        Assert.Contains(backtest, o => o.Order.Status == "canceled");
        Assert.Contains(backtest, o => o.Order.Status == "filled");
        Assert.Equal(expected, Orders(paper));
        Assert.Equal(expected, Orders(live));
    }

    [Fact]
    public async Task Slob_EntersWithBrackets_TheSameInABacktestOnBarTicksAndLive()
    {
        // Seed 001: SLOB enters with a bracket (market entry, stop-loss, take-profit). Live, the bracket goes to Alpaca as
        // one order_class=bracket request and the venue works the exits; in the backtest the simulated exchange works
        // them on the same four ticks a bar. Loosened so that ORCL 2010–2014 daily gives several setups.
        var file = LiveRunTests.OrclSince(_dir, 2010);
        RunSpec Slob(RunSpec s) => s with
        {
            Strategy = "slob",
            Parameters = ["min_quality=0", "consol_range=4", "lookback=10", "consol_min=2", "rr=1"],
            BarTicks = s.Mode == RunMode.Backtest,
        };

        var backtest = await Backtest(file, Slob);
        var classes = new List<string>();
        var live = await OnSandbox(file, RunMode.Live, Slob, async sandbox =>
        {
            // Each entry reached Alpaca as one bracket request: the venue lists the entry and both legs as order_class bracket.
            using var http = new HttpClient { BaseAddress = sandbox.AlpacaRestBase };
            http.DefaultRequestHeaders.Add("APCA-API-KEY-ID", "sandbox-key");
            http.DefaultRequestHeaders.Add("APCA-API-SECRET-KEY", "sandbox-secret");
            using var doc = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync("/v2/orders?status=all&limit=500&direction=asc"));
            classes.AddRange(doc.RootElement.EnumerateArray().Select(o => $"{o.GetProperty("type").GetString()} {o.GetProperty("order_class").GetString()}"));
        });

        // The market entry is placed when the bar closes. In the backtest that is after the bar's last tick, and the entry
        // fills at the next bar's open. Live, a daily bar closes when the next day's first trade arrives, so the venue
        // fills the entry at the trade after that one. The exits are resting orders that both sides work on the same
        // ticks, so they fill at the same prices.
        static List<string> Orders(IEnumerable<PlacedOrder> orders) =>
            [.. orders.Select(o => $"{o.Created} {o.Order.Side} {o.Order.Type} {o.Order.Quantity} {o.Order.LimitPrice} {o.Order.StopPrice} {o.Order.Status} {string.Join('+', o.Fills.Select(f => o.Order.Type == "market" ? f.Quantity : $"{f.Quantity}@{f.Price}"))}")];

        var expected = Orders(backtest);
        Assert.True(backtest.Count(o => o.Order.Type == "limit") >= 3, $"the backtest placed only {backtest.Count} orders");
        Assert.Equal(string.Join('\n', expected), string.Join('\n', Orders(live)));
        Assert.Contains(backtest, o => o.Order.Type == "stop" && o.Order.Status == "filled");
        Assert.Contains(backtest, o => o.Order.Type == "limit" && o.Order.Status == "filled");
        Assert.Equal(backtest.Count, classes.Count);
        Assert.All(classes, c => Assert.EndsWith(" bracket", c, StringComparison.Ordinal));
        Assert.Equal(backtest.Count(o => o.Order.Type == "market"), classes.Count(c => c.StartsWith("market", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task SmaCross_ThroughTheEnhancedRiskGate_DeniesTheSameOrdersInABacktestAndLive()
    {
        // An exposure limit of 400 in ORCL: 10 shares are allowed while ORCL is below 40, denied above it (mid-2014 on).
        var file = LiveRunTests.OrclSince(_dir, 2014);
        var lastBar = Timestamp.Parse(File.ReadLines(file).Last().Split(',')[0]);
        static RunSpec Limited(RunSpec s) => s with { MaxExposure = new Dictionary<string, Money>(StringComparer.Ordinal) { ["ORCL"] = Money.From(400) } };

        var backtest = await Backtest(file, Limited);
        var live = await OnSandbox(file, RunMode.Live, Limited);

        static List<string> Decisions(IEnumerable<PlacedOrder> orders, Timestamp before) =>
            [.. orders.Where(o => o.Order.Status == "denied" || o.Created < before).Select(o => $"{o.Order.Side} {o.Order.Quantity} {o.Order.Status}")];
        var expected = Decisions(backtest, lastBar);
        Assert.Contains(backtest, o => o.Order.Status == "denied");
        Assert.Contains(backtest, o => o.Order.Status == "filled");
        Assert.Equal(expected, Decisions(live, lastBar));

        // A denied order never reaches the venue; the journal says why.
        Assert.All(live.Where(o => o.Order.Status == "denied"), o => Assert.Empty(o.Fills));
        Assert.Contains("exposure in ORCL would reach", DeniedReasons(live).First(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ladder_Live_ItsLevelsFileChangesOnlyWithConfirmedFills()
    {
        // Seed 000: the ladder CSV is the book of record. Written back after every fill (write_back), it must hold exactly
        // the venue's position at every moment between two market events: never an order that is only working.
        var file = LiveRunTests.OrclSince(_dir, 2010, until: "2011");
        var levels = _dir.File("levels-live.csv");
        File.Copy(Path.Combine(TestPaths.RepoRoot, "samples", "strategies", "ladder-orcl.csv"), levels);
        var options = new SandboxOptions { Lockstep = true };
        options.Series.Add(new SandboxSeries("ORCL", file));
        await using var sandbox = await SandboxServer.StartAsync(options);
        var db = _dir.File("ladder-live.db");
        await using var host = new RunHost(LiveRunTests.Services(sandbox));
        var run = host.Start(Spec(RunMode.Live, db, file, s => s with
        {
            Strategy = "ladder",
            Parameters = [$"levels={levels}", "cancel_distance=0.01", "write_back=true"],
            Cash = Money.From(20_000),
        }));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var lockstep = new Lockstep(sandbox, run, venue: true, "ORCL", Patience)
        {
            BeforeStep = step =>
            {
                var held = LadderHeld(levels);
                Assert.Equal(sandbox.AlpacaBook("ORCL").Position, held);
                seen.Add(held.ToString());
                return Task.CompletedTask;
            },
        };
        await lockstep.RunToEndAsync();
        run.Stop();
        await run.Completion.WaitAsync(Patience);

        Assert.True(seen.Count >= 4, $"the ladder's holdings took only {seen.Count} values: {string.Join(", ", seen)}");
        Assert.Equal(sandbox.AlpacaBook("ORCL").Position, LadderHeld(levels));
        Assert.Equal(LiveRunTests.Journal(db, run.RunId!).Position, LadderHeld(levels));
        LiveRunTests.AssertReplaysExactly(db, run.RunId!);
        Assert.Contains(Keel.Strategies.LadderFile.Read(levels), l => l.Profit > Money.Zero);
    }

    private static Quantity LadderHeld(string levels) =>
        Keel.Strategies.LadderFile.Read(levels).Aggregate(Quantity.Zero, (sum, l) => sum + l.Held);

    private List<string> DeniedReasons(IEnumerable<PlacedOrder> orders) => [.. orders.Where(o => o.Order.Status == "denied").Select(o => o.Reason ?? string.Empty)];

    /// <summary>An order as the journal holds it: its row, when it was submitted (kernel time) and its fills in order.</summary>
    internal sealed record PlacedOrder(StoredOrder Order, Timestamp Created, List<(string Quantity, string Price)> Fills, string? Reason = null);

    internal static List<PlacedOrder> Placed(string db, string runId)
    {
        using var store = KeelStore.Open(db);
        var orders = store.ReadOrders(runId).ToDictionary(o => o.Id, o => new PlacedOrder(o, default, []));
        foreach (var e in store.ReadEvents(runId, 0, 1_000_000))
        {
            if (e.Type is not ("order.submitted" or "order.filled" or "order.denied"))
            {
                continue;
            }

            using var doc = System.Text.Json.JsonDocument.Parse(e.Payload);
            var root = doc.RootElement;
            var id = root.GetProperty("order").GetString()!;
            if (e.Type == "order.submitted")
            {
                orders[id] = orders[id] with { Created = e.Time };
            }
            else if (e.Type == "order.denied")
            {
                orders[id] = orders[id] with { Created = e.Time, Reason = root.GetProperty("reason").GetString() };
            }
            else
            {
                orders[id].Fills.Add((root.GetProperty("quantity").GetString()!, root.GetProperty("price").GetString()!));
            }
        }

        return [.. orders.Values.OrderBy(o => o.Order.Number)];
    }

    /// <summary>sma-cross (3/8, 10 shares, no commission) on ORCL: a backtest on <paramref name="file"/>, or paper or live on the sandbox's Alpaca.</summary>
    internal static RunSpec Spec(RunMode mode, string db, string file, Func<RunSpec, RunSpec>? strategy = null) => (strategy ?? (s => s))(RunHostTests.Spec(mode, db, null, fast: 3, slow: 8) with
    {
        DataFiles = mode == RunMode.Backtest ? [file] : ["live:alpaca:ORCL"],
        Symbols = ["ORCL"],
        Venue = mode == RunMode.Backtest ? null : "alpaca",
        Timeframe = mode == RunMode.Backtest ? null : "1d",
        Stake = Quantity.From(10),
        Commission = 0m,
        Brokerage = mode == RunMode.Live ? "alpaca" : "none",
        Live = mode == RunMode.Live ? new LiveSettings { ReconcileSeconds = 1, ResendAfterSeconds = 1 } : null,
    });

    private async Task<List<PlacedOrder>> Backtest(string file, Func<RunSpec, RunSpec>? strategy = null)
    {
        var db = _dir.File($"backtest-{Guid.NewGuid():N}.db");
        await using var host = new RunHost();
        var run = host.Start(Spec(RunMode.Backtest, db, file, strategy));
        await run.Completion.WaitAsync(Patience);
        return Placed(db, run.RunId!);
    }

    private async Task<List<PlacedOrder>> OnSandbox(string file, RunMode mode, Func<RunSpec, RunSpec>? strategy = null, Func<SandboxServer, Task>? atEnd = null)
    {
        var options = new SandboxOptions { Lockstep = true };
        options.Series.Add(new SandboxSeries("ORCL", file));
        await using var sandbox = await SandboxServer.StartAsync(options);
        var db = _dir.File($"{mode}-{Guid.NewGuid():N}.db");
        var services = mode == RunMode.Live
            ? LiveRunTests.Services(sandbox)
            : new RunServices { Feeds = _ => SandboxFeeds.Create("alpaca", sandbox, SandboxFeeds.Fast()) };
        await using var host = new RunHost(services);
        var run = host.Start(Spec(mode, db, file, strategy));
        var lockstep = new Lockstep(sandbox, run, venue: mode == RunMode.Live, "ORCL", Patience);
        int steps = await lockstep.RunToEndAsync();
        Assert.Equal(5 * (File.ReadLines(file).Count() - 1), steps);
        run.Stop();
        await run.Completion.WaitAsync(Patience);
        if (atEnd is not null)
        {
            await atEnd(sandbox);
        }

        if (mode == RunMode.Live)
        {
            LiveRunTests.AssertReplaysExactly(db, run.RunId!);
        }

        return Placed(db, run.RunId!);
    }
}
