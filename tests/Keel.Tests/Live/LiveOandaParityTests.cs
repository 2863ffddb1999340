using Keel.Runtime;
using Keel.Sandbox;
using Keel.Tests.Runtime;
using Keel.Tests.Support;
using Keel.Tests.Venues;
using static Keel.Tests.Live.LiveParityTests;

namespace Keel.Tests.Live;

/// <summary>
/// Seed 002's flow: Floor trading OANDA prices (bid/ask) on paper against the sandbox's feed and live against its
/// practice account, in lockstep, so both see the same quotes in the same order.
/// </summary>
public sealed class LiveOandaParityTests : IDisposable
{
    private const string Instrument = "IDX_USD";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Floor_PaperAndLiveOnOanda_PlaceAndFillTheSameOrders()
    {
        // Real 5-minute bars replayed as OANDA prices (IDX_USD, half-spread 0.25). Floor sends market orders on quotes;
        // OANDA fills one at the price it arrives on, which in lockstep is the quote it was placed on: paper fills there
        // too with --fill-at close, so both fill at the same prices and every later decision is the same.
        var file = SandboxFeeds.SampleFile(_dir.Path, 400);
        var (paper, _, _) = await OnSandbox(file, RunMode.PaperLive);
        var (live, db, runId) = await OnSandbox(file, RunMode.Live);

        static List<string> Orders(IEnumerable<PlacedOrder> orders) =>
            [.. orders.Select(o => $"{o.Created} {o.Order.Side} {o.Order.Type} {o.Order.Quantity} {o.Order.Status} {string.Join('+', o.Fills.Select(f => $"{f.Quantity}@{f.Price}"))}")];

        var expected = Orders(paper);
        Assert.True(expected.Count >= 6, $"paper placed only {expected.Count} orders: {string.Join(" | ", expected)}");
        Assert.True(expected.SequenceEqual(Orders(live)), $"paper and live differ; live denied: {string.Join(" | ", live.Where(o => o.Reason is not null).Select(o => $"{o.Created} {o.Reason}"))}; first difference: {expected.Zip(Orders(live)).FirstOrDefault(p => p.First != p.Second)}");
        Assert.Contains(paper, o => o.Order.Quantity == "3");

        // Every order is at the venue once, its fills are journaled once, and the session replays to the same orders.
        var journal = LiveRunTests.Journal(db, runId);
        Assert.Equal(live.Count, journal.Submitted.Count);
        Assert.Equal(journal.Fills.Count, journal.Fills.Distinct(StringComparer.Ordinal).Count());
        LiveRunTests.AssertReplaysExactly(db, runId);
    }

    private static RunSpec Spec(RunMode mode, string db) => RunHostTests.Spec(mode, db, null, fast: 3, slow: 8) with
    {
        Strategy = "floor",
        Parameters = ["initial_units=1", "retracement_pips=2", "take_profit_pips=3", "volatility_threshold=0", "size_multiplier=1", "max_layers=3"],
        DataFiles = [$"live:oanda:{Instrument}"],
        Symbols = [Instrument],
        Venue = "oanda",
        Timeframe = "5m",
        Commission = 0m,
        Brokerage = mode == RunMode.Live ? "oanda" : "none",
        FillAtClose = true,
        Live = mode == RunMode.Live ? new LiveSettings { ReconcileSeconds = 1, ResendAfterSeconds = 1 } : null,
    };

    private async Task<(List<PlacedOrder> Orders, string Db, string RunId)> OnSandbox(string file, RunMode mode)
    {
        var options = new SandboxOptions { Lockstep = true, HalfSpread = 0.25m };
        options.Series.Add(new SandboxSeries(Instrument, file));
        await using var sandbox = await SandboxServer.StartAsync(options);
        var db = _dir.File($"{mode}-{Guid.NewGuid():N}.db");
        using var log = new ListLoggerFactory();
        var services = new RunServices
        {
            Feeds = _ => SandboxFeeds.Create("oanda", sandbox, SandboxFeeds.Fast()),
            Venues = mode == RunMode.Live ? _ => LiveRunTests.Port(sandbox, "oanda") : null,
            LoggerFactory = log,
        };
        await using var host = new RunHost(services);
        var run = host.Start(Spec(mode, db));
        var lockstep = new Lockstep(sandbox, run, venue: mode == RunMode.Live, Instrument, Patience) { VenueBook = sandbox.OandaBook };
        try
        {
            await lockstep.RunToEndAsync();
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}; the run's log ends:{Environment.NewLine}{log.Tail()}", e);
        }

        if (mode == RunMode.Live)
        {
            Assert.Equal(sandbox.OandaBook(Instrument).Position, LiveRunTests.Journal(db, run.RunId!).Position);
        }

        run.Stop();
        await run.Completion.WaitAsync(Patience);
        return (Placed(db, run.RunId!), db, run.RunId!);
    }
}
