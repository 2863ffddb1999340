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

    /// <summary>An order as the journal holds it: its row, when it was submitted (kernel time) and its fills in order.</summary>
    internal sealed record PlacedOrder(StoredOrder Order, Timestamp Created, List<(string Quantity, string Price)> Fills);

    internal static List<PlacedOrder> Placed(string db, string runId)
    {
        using var store = KeelStore.Open(db);
        var orders = store.ReadOrders(runId).ToDictionary(o => o.Id, o => new PlacedOrder(o, default, []));
        foreach (var e in store.ReadEvents(runId, 0, 1_000_000))
        {
            if (e.Type is not ("order.submitted" or "order.filled"))
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
            else
            {
                orders[id].Fills.Add((root.GetProperty("quantity").GetString()!, root.GetProperty("price").GetString()!));
            }
        }

        return [.. orders.Values.OrderBy(o => o.Order.Number)];
    }

    private static RunSpec Spec(RunMode mode, string db, string file, Func<RunSpec, RunSpec>? strategy = null) => (strategy ?? (s => s))(RunHostTests.Spec(mode, db, null, fast: 3, slow: 8) with
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

    private async Task<List<PlacedOrder>> OnSandbox(string file, RunMode mode, Func<RunSpec, RunSpec>? strategy = null)
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
        return Placed(db, run.RunId!);
    }
}
