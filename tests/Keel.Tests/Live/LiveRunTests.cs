using System.Text.Json;
using Keel.Domain;
using Keel.Engine.Ports;
using Keel.Runtime;
using Keel.Sandbox;
using Keel.Storage;
using Keel.Tests.Runtime;
using Keel.Tests.Sandbox;
using Keel.Tests.Support;
using Keel.Tests.Venues;
using Keel.Venues.Alpaca.Trading;
using Keel.Venues.Oanda.Trading;

namespace Keel.Tests.Live;

/// <summary>
/// <c>keel live</c> through the run host against the sandbox's Alpaca: the sandbox replays real ORCL bars as trades and
/// matches the run's orders on them. Every order the run journaled is at the venue exactly once, under the run's client
/// ids, and the run's position is the venue's.
/// </summary>
public sealed class LiveRunTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task SmaCross_LiveOnAlpaca_EveryJournaledOrderIsAtTheVenueOnce_AndPositionsAgree()
    {
        // In lockstep: replayed as fast as the run takes it, so every order meets a market that still moves and the orders
        // are the same every time. Free-running, CI once saw only 3 orders, most likely because a run that fell behind on
        // the loaded machine sent its orders after the last tick, and the sandbox fills only on a later tick.
        var file = OrclSince(_dir, 2013);
        var options = new SandboxOptions { Lockstep = true };
        options.Series.Add(new SandboxSeries("ORCL", file));
        await using var sandbox = await SandboxServer.StartAsync(options);
        var db = _dir.File("keel.db");
        var (outcome, runId) = await RunLive(sandbox, db, file, lockstep: true);
        Assert.Equal(RunEnd.Stopped, outcome.End);

        var journal = Journal(db, runId);
        Assert.True(journal.Submitted.Count >= 20, $"the run submitted {journal.Submitted.Count} orders");
        Assert.All(journal.Submitted, id => Assert.StartsWith($"K{runId}-", id, StringComparison.Ordinal));

        await using var venue = Venue(sandbox);
        var atVenue = await AllOrdersRaw(sandbox);
        var ours = atVenue.Where(o => o.ClientOrderId?.StartsWith($"K{runId}-", StringComparison.Ordinal) == true).ToList();

        // Nothing doubled: one venue order per client id; nothing lost: every journaled order reached the venue.
        Assert.Equal(ours.Count, ours.Select(o => o.ClientOrderId).Distinct().Count());
        Assert.Equal(journal.Submitted.OrderBy(x => x, StringComparer.Ordinal), ours.Select(o => o.ClientOrderId!).OrderBy(x => x, StringComparer.Ordinal));

        // The venue is the truth for positions: the run booked exactly its fills.
        var positions = await venue.GetPositionsAsync();
        var venueQty = positions.SingleOrDefault(p => p.Instrument.Symbol == "ORCL")?.Quantity ?? Quantity.Zero;
        Assert.Equal(venueQty, journal.Position);
        Assert.Equal(journal.Fills, journal.Fills.Distinct().ToList());

        // Every input the kernel took is journaled (the candles, the venue's events), in sequence.
        using var store = KeelStore.Open(db);
        var inputs = store.ReadInputs(runId, 0, 100_000);
        Assert.Equal(Enumerable.Range(1, inputs.Count).Select(i => (long)i), inputs.Select(i => i.Sequence));
        Assert.Contains(inputs, i => i.Kind == Keel.Engine.Persistence.InputKind.Bar);
        Assert.True(inputs.Any(i => i.Kind == Keel.Engine.Persistence.InputKind.OrderEvent),
            $"no order event among the journaled inputs ({string.Join(", ", inputs.GroupBy(i => i.Kind).Select(g => $"{g.Key} {g.Count()}"))}); the journal has {journal.Submitted.Count} orders, {journal.Fills.Count} fills");
        store.Dispose();
        AssertReplaysExactly(db, runId);
    }

    [Fact]
    public async Task SmaCross_LiveOnOanda_EveryJournaledOrderIsAtTheVenue_FillsOnce_AndPositionsAgree()
    {
        // Real 5-minute bars replayed as OANDA prices (IDX_USD), 5-minute candles drive the strategy.
        var file = SandboxFeeds.SampleFile(_dir.Path, 400);
        var options = new SandboxOptions { Speed = double.PositiveInfinity, HalfSpread = 0.25m };
        options.Series.Add(new SandboxSeries("IDX_USD", file));
        await using var sandbox = await SandboxServer.StartAsync(options);
        var db = _dir.File("keel.db");
        await using var venue = Port(sandbox, "oanda");
        var (outcome, runId) = await RunLive(sandbox, db, file, venue: "oanda", symbol: "IDX_USD", timeframe: "5m", settled: async id =>
            Journal(db, id).Position == ((await venue.GetPositionsAsync()).SingleOrDefault(p => p.Instrument.Symbol == "IDX_USD")?.Quantity ?? Quantity.Zero));
        Assert.Equal(RunEnd.Stopped, outcome.End);

        var journal = Journal(db, runId);
        Assert.True(journal.Submitted.Count >= 4, $"the run submitted {journal.Submitted.Count} orders");
        foreach (var id in journal.Submitted)
        {
            var order = await venue.GetOrderAsync(new ClientOrderId(id));
            Assert.True(order is not null, $"order {id} is not at OANDA");
        }

        var fills = (await venue.GetFillsSinceAsync(null)).Fills.Where(f => f.ClientOrderId?.Value.StartsWith($"K{runId}-", StringComparison.Ordinal) == true).Select(f => f.ExecutionId.Value).Order(StringComparer.Ordinal).ToList();
        Assert.NotEmpty(fills);
        Assert.Equal(fills, journal.Fills.Order(StringComparer.Ordinal));
        AssertReplaysExactly(db, runId);
    }

    /// <summary><c>keel replay</c>'s proof: the run's journaled inputs, re-run through a fresh kernel, create exactly its orders.</summary>
    internal static void AssertReplaysExactly(string db, string runId)
    {
        var (_, spec) = RunHost.FindRecorded(db, runId);
        using var store = KeelStore.Open(db);
        var result = Keel.Runtime.Live.LiveReplay.Run(store, runId, spec, new RunServices());
        Assert.True(result.Identical, string.Join(Environment.NewLine, result.Differences));
        var journal = Journal(db, runId);
        Assert.Equal(store.ReadOrders(runId).Count, result.Orders); // denied ones too
        Assert.Equal(journal.Fills.Count, result.Fills);
        Assert.True(result.Inputs > 0);
    }

    internal static RunServices Services(SandboxServer sandbox, string venue = "alpaca") => new()
    {
        Feeds = _ => SandboxFeeds.Create(venue, sandbox, SandboxFeeds.Fast()),
        Venues = _ => Port(sandbox, venue),
    };

    internal static IVenuePort Port(SandboxServer sandbox, string venue) => venue == "alpaca"
        ? new AlpacaTradingVenue(new AlpacaTradingOptions
        {
            Key = "sandbox-key",
            Secret = "sandbox-secret",
            BaseUrl = sandbox.AlpacaRestBase,
            StreamUrl = new Uri(sandbox.AlpacaStreamBase, "/stream"),
            RequestTimeout = TimeSpan.FromSeconds(5),
            QueryRetryDelay = TimeSpan.FromMilliseconds(50),
            ReconnectDelay = TimeSpan.FromMilliseconds(50),
            ReconnectMaxDelay = TimeSpan.FromMilliseconds(500),
        })
        : new OandaTradingVenue(new OandaTradingOptions
        {
            Token = "sandbox-token",
            Account = "101-001-0000001-001",
            RestUrl = sandbox.OandaRestBase,
            StreamUrl = sandbox.OandaStreamBase,
            RequestTimeout = TimeSpan.FromSeconds(5),
            QueryRetryDelay = TimeSpan.FromMilliseconds(50),
            StreamBackoff = TimeSpan.FromMilliseconds(50),
            StreamBackoffMax = TimeSpan.FromMilliseconds(500),
        });

    internal static async Task<(RunOutcome Outcome, string RunId)> RunLive(
        SandboxServer sandbox, string db, string file, LiveSettings? live = null, Func<string, Task<bool>>? settled = null, string venue = "alpaca", string symbol = "ORCL", string timeframe = "1d", bool lockstep = false)
    {
        await using var host = new RunHost(Services(sandbox, venue));
        var spec = RunHostTests.Spec(RunMode.Live, db, null, fast: 3, slow: 8) with
        {
            DataFiles = [$"live:{venue}:{symbol}"],
            Symbols = [symbol],
            Venue = venue,
            Timeframe = timeframe,
            Stake = Quantity.From(10),
            Commission = 0m,
            Brokerage = venue,
            Live = live ?? new LiveSettings { ReconcileSeconds = 1, ResendAfterSeconds = 1 },
        };
        var run = host.Start(spec);
        if (lockstep)
        {
            // The sandbox runs in lockstep (SandboxOptions.Lockstep): step it to the end, each event taken and answered.
            await new Lockstep(sandbox, run, venue: true, symbol, Patience) { VenueBook = venue == "oanda" ? sandbox.OandaBook : null }.RunToEndAsync();
        }
        else
        {
            await sandbox.ReplayCompleted.WaitAsync(Patience);
        }

        int candles = File.ReadLines(file).Count() - 2;
        await SandboxTesting.Eventually(() => Stored(db, symbol, timeframe) >= candles, "every candle recorded", Patience);

        // The store records a candle before the kernel takes it (a loaded machine shows the lag): wait until the kernel
        // has taken every closed candle (the last may stay open) before looking at its orders.
        await SandboxTesting.Eventually(() => KernelBars(db, run.RunId!) >= candles - 1, "every closed candle taken by the kernel", Patience);

        // Settled: every order the run sent has its answer (none submitted or unknown).
        await SandboxTesting.Eventually(() => Journal(db, run.RunId!).Unsettled == 0, "every order answered", Patience);
        if (settled is not null)
        {
            using var timeout = new CancellationTokenSource(Patience);
            while (!await settled(run.RunId!))
            {
                await Task.Delay(20, timeout.Token);
            }
        }

        run.Stop();
        return (await run.Completion.WaitAsync(Patience), run.RunId!);
    }

    private static int KernelBars(string db, string runId)
    {
        using var store = KeelStore.Open(db);
        return store.ReadInputs(runId, 0, 1_000_000).Count(i => i.Kind == Keel.Engine.Persistence.InputKind.Bar);
    }

    private static int Stored(string db, string symbol, string timeframe)
    {
        using var store = KeelStore.Open(db);
        return store.TickCounts(symbol, timeframe).Count(kv => kv.Value > 0);
    }

    internal static AlpacaTradingVenue Venue(SandboxServer sandbox) => new(new AlpacaTradingOptions
    {
        Key = "sandbox-key",
        Secret = "sandbox-secret",
        BaseUrl = sandbox.AlpacaRestBase,
        RequestTimeout = TimeSpan.FromSeconds(5),
    });

    /// <summary>Every order the sandbox's account holds, open or closed, as Alpaca's REST API lists them.</summary>
    internal static async Task<List<(string? ClientOrderId, string Status)>> AllOrdersRaw(SandboxServer sandbox)
    {
        using var http = new HttpClient { BaseAddress = sandbox.AlpacaRestBase };
        http.DefaultRequestHeaders.Add("APCA-API-KEY-ID", "sandbox-key");
        http.DefaultRequestHeaders.Add("APCA-API-SECRET-KEY", "sandbox-secret");
        var json = await http.GetStringAsync("/v2/orders?status=all&limit=500&direction=asc");
        using var doc = JsonDocument.Parse(json);
        return [.. doc.RootElement.EnumerateArray().Select(o => (o.GetProperty("client_order_id").GetString(), o.GetProperty("status").GetString()!))];
    }

    /// <summary>What the run's journal says: orders submitted (by client id), fills (by execution id), the net position, orders not yet answered.</summary>
    internal static (List<string> Submitted, List<string> Fills, Quantity Position, int Unsettled, int Unknown) Journal(string db, string runId)
    {
        using var store = KeelStore.Open(db);
        var submitted = new List<string>();
        var fills = new List<string>();
        var last = new Dictionary<string, string>();
        var position = Quantity.Zero;
        int unknown = 0;
        long since = 0;
        while (true)
        {
            var page = store.ReadEvents(runId, since, 1000);
            if (page.Count == 0)
            {
                break;
            }

            foreach (var e in page)
            {
                since = e.Sequence;
                if (!e.Type.StartsWith("order.", StringComparison.Ordinal))
                {
                    continue;
                }

                using var doc = JsonDocument.Parse(e.Payload);
                var id = doc.RootElement.GetProperty("order").GetString()!;
                last[id] = e.Type;
                if (e.Type == "order.unknown")
                {
                    unknown++;
                }

                if (e.Type == "order.submitted")
                {
                    submitted.Add(id);
                }
                else if (e.Type == "order.filled")
                {
                    fills.Add(doc.RootElement.GetProperty("trade").GetString()!);
                    var q = Quantity.Parse(doc.RootElement.GetProperty("quantity").GetString()!);
                    position += doc.RootElement.GetProperty("side").GetString() == "buy" ? q : -q;
                }
            }
        }

        int unsettled = last.Values.Count(t => t is "order.submitted" or "order.unknown");
        return (submitted, fills, position, unsettled, unknown);
    }

    internal static string OrclSince(TempDir dir, int year, string until = "9999")
    {
        var file = dir.File("orcl.txt");
        var source = File.ReadAllLines(Path.Combine(TestPaths.RepoRoot, "samples", "data", "orcl-1995-2014.txt"));
        File.WriteAllLines(file, [source[0], .. source.Skip(1).Where(l => string.CompareOrdinal(l, year.ToString(System.Globalization.CultureInfo.InvariantCulture)) >= 0 && string.CompareOrdinal(l, until) < 0)]);
        return file;
    }
}
