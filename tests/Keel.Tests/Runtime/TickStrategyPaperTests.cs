using System.Globalization;
using Keel.Domain;
using Keel.Runtime;
using Keel.Sandbox;
using Keel.Storage;
using Keel.Tests.Support;
using Keel.Tests.Venues;

namespace Keel.Tests.Runtime;

/// <summary>
/// Seed 000's ladder trades on price updates and seed 002's floor on bid/ask ticks: in paper on a live feed (the
/// sandbox replaying real bars as ticks) they see every tick of their kind, not candles, and place their orders on them.
/// </summary>
public sealed class TickStrategyPaperTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Ladder_OnTheAlpacaTradeStream_PlacesItsOrdersOnPriceUpdates()
    {
        // ORCL daily 2010–2014 (as samples/strategies/ladder.json), one candle a day, four trades a candle.
        var file = _dir.File("orcl.txt");
        var source = File.ReadAllLines(Path.Combine(TestPaths.RepoRoot, "samples", "data", "orcl-1995-2014.txt"));
        File.WriteAllLines(file, [source[0], .. source.Skip(1).Where(l => string.CompareOrdinal(l, "2010") >= 0)]);
        var levels = _dir.File("levels.csv");
        File.Copy(Path.Combine(TestPaths.RepoRoot, "samples", "strategies", "ladder-orcl.csv"), levels);

        var outcome = await PaperLive("alpaca", "ORCL", file, "1d", "ladder", [$"levels={levels}", "cancel_distance=0.01"], Money.From(20_000));

        var orders = Orders(outcome);
        Assert.True(orders.Count > 5, $"the ladder placed {orders.Count} orders");
        Assert.Contains(orders, o => o["status"] == "filled");

        // Orders go in as the price moves within the day, not on the daily candles (which are stamped at midnight).
        Assert.Contains(orders, o => TimeOfDay(o["created_time"]) != TimeSpan.Zero);
        Assert.Equal(0, outcome.Result.Metrics.Errors);
    }

    [Fact]
    public async Task Floor_OnTheOandaQuoteStream_TradesOnBidAskTicks_BuyingAtTheAsk()
    {
        var file = Path.Combine(TestPaths.RepoRoot, "samples", "data", "2006-min-005.txt");
        string[] parameters = ["initial_units=2", "max_layers=4", "retracement_pips=400", "take_profit_pips=600", "volatility_threshold=0.8", "volatility_period=14", "size_multiplier=1.5", "direction=long"];
        var outcome = await PaperLive("oanda", "IDX_USD", file, "5m", "floor", parameters, Money.From(100_000), halfSpread: 0.25m);

        var orders = Orders(outcome);
        Assert.True(orders.Count > 5, $"floor placed {orders.Count} orders");
        var filledBuys = orders.Where(o => o["side"] == "buy" && o["status"] == "filled").ToList();
        Assert.NotEmpty(filledBuys);

        // Placed on quotes inside the 5-minute candles, not on the candles.
        Assert.Contains(orders, o => TimeOfDay(o["created_time"]).Ticks % TimeSpan.FromMinutes(5).Ticks != 0);

        // Market buys filled at the ask: the sandbox quotes each replayed price p (a bar's open, high, low, close) as
        // bid p − 0.25 and ask p + 0.25.
        var prices = File.ReadLines(file).Skip(1).SelectMany(l => l.Split(',')[2..6]).Select(x => decimal.Parse(x, CultureInfo.InvariantCulture)).ToHashSet();
        var marketBuys = filledBuys.Where(o => o["type"] == "market").ToList();
        Assert.NotEmpty(marketBuys);
        Assert.All(marketBuys, o => Assert.Contains(decimal.Parse(o["avg_fill_price"], CultureInfo.InvariantCulture) - 0.25m, prices));
        Assert.Equal(0, outcome.Result.Metrics.Errors);
    }

    private async Task<RunOutcome> PaperLive(string venue, string symbol, string file, string timeframe, string strategy, IReadOnlyList<string> parameters, Money cash, decimal halfSpread = 0)
    {
        var options = new SandboxOptions { Speed = double.PositiveInfinity, HalfSpread = halfSpread };
        options.Series.Add(new SandboxSeries(symbol, file));
        await using var sandbox = await SandboxServer.StartAsync(options);
        var db = _dir.File("keel.db");
        var services = new RunServices { Feeds = _ => SandboxFeeds.Create(venue, sandbox, SandboxFeeds.Fast()) };
        await using var host = new RunHost(services);
        var spec = RunHostTests.Spec(RunMode.PaperLive, db, _dir.File("out")) with
        {
            DataFiles = [$"live:{venue}:{symbol}"],
            Symbols = [symbol],
            Venue = venue,
            Timeframe = timeframe,
            Strategy = strategy,
            Parameters = parameters,
            Stake = Quantity.From(1),
            Cash = cash,
            Commission = 0m,
            AssetClass = AssetClass.Equity,
        };
        var run = host.Start(spec);

        // The whole file has been sent; wait until its last ticks went through the recorder (every candle but the
        // still-open last one stored), then end the feed: the run completes with what it saw.
        await sandbox.ReplayCompleted.WaitAsync(Patience);
        int candles = File.ReadLines(file).Count() - 2;
        using (var timeout = new CancellationTokenSource(Patience))
        {
            while (Stored(db, symbol, timeframe) < candles)
            {
                await Task.Delay(20, timeout.Token);
            }
        }

        run.Stop();
        var outcome = await run.Completion.WaitAsync(Patience);
        Assert.Equal(RunEnd.Completed, outcome.End);
        return outcome;
    }

    private static int Stored(string db, string symbol, string timeframe)
    {
        using var store = KeelStore.Open(db);
        return store.TickCounts(symbol, timeframe).Count(kv => kv.Value > 0);
    }

    private static List<Dictionary<string, string>> Orders(RunOutcome outcome)
    {
        var lines = File.ReadAllLines(Path.Combine(outcome.OutDir!, "orders.csv"));
        var header = lines[0].Split(',');
        return [.. lines.Skip(1).Where(l => l.Length > 0).Select(l => header.Zip(l.Split(',')).ToDictionary(p => p.First, p => p.Second))];
    }

    private static TimeSpan TimeOfDay(string isoTime) => DateTimeOffset.Parse(isoTime, CultureInfo.InvariantCulture).UtcDateTime.TimeOfDay;
}
