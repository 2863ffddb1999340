using Keel.Domain;
using Keel.Domain.Events;
using Keel.Domain.Orders;
using Keel.Engine.Clock;
using Keel.Engine.Ports;
using Keel.Engine.Simulation;
using Keel.Pipeline;
using Keel.Storage;
using Keel.Storage.Pipeline;
using Keel.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Keel.Tests.Pipeline;

/// <summary>
/// The three stages over simulated days against the simulated venue: the seed's SWING example to the cent, a position
/// closed by hand, and a crash in the middle of each stage.
/// </summary>
public sealed class PipelineStagesTests : IDisposable
{
    private static readonly DateOnly Day1 = new(2024, 1, 16);   // the seed's 2024-01-15 is Martin Luther King Jr. Day
    private static readonly DateOnly Day2 = new(2024, 1, 17);
    private readonly TempDir _dir = new();
    private readonly KeelStore _store;
    private readonly SimulatedVenue _sim;
    private readonly CountingVenue _venue;
    private readonly SettableQuotes _quotes = new();
    private readonly SimulatedClock _clock = new();
    private readonly InstrumentId _aapl = new("AAPL");
    private readonly List<(Timestamp Time, decimal? Bid, decimal? Ask)> _market = [];
    private int _fed;

    public PipelineStagesTests()
    {
        _store = KeelStore.Open(_dir.File("keel.db"));
        _sim = new SimulatedVenue([Instrument.Equity("AAPL")], Money.From(100_000));
        _sim.ConnectAsync(new NoSink()).GetAwaiter().GetResult();
        _venue = new CountingVenue(_sim);
    }

    public void Dispose()
    {
        _store.Dispose();
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    private PipelineStore P => _store.Pipeline;

    private static Timestamp Et(DateOnly day, int hour, int minute, int second = 0) => NyseCalendar.ToUtc(day, new TimeOnly(hour, minute, second));

    private void Quote(Timestamp time, decimal? bid, decimal? ask) => _market.Add((time, bid, ask));

    /// <summary>The seed's market: the entry fills at 150.25 at 10:03:22, quotes give 151.00 at 10:15 and 148.75 at 14:30, and day 2 gaps through the stop to 144.90 at 14:43:11.</summary>
    private void SeedMarket()
    {
        Quote(Et(Day1, 9, 31), 150.40m, 150.60m);
        Quote(Et(Day1, 10, 3, 22), 150.20m, 150.25m);
        Quote(Et(Day1, 10, 14), 150.90m, 151.10m);
        Quote(Et(Day1, 14, 29), 148.70m, 148.80m);
        Quote(Et(Day2, 9, 31), 147.00m, 147.10m);
        Quote(Et(Day2, 14, 43, 11), 144.90m, 145.00m);
        Quote(Et(Day2, 14, 44), 144.80m, 144.95m);
    }

    private Task Advance(Timestamp until, CancellationToken ct)
    {
        while (_fed < _market.Count && _market[_fed].Time <= until)
        {
            var (time, bid, ask) = _market[_fed++];
            if (bid is decimal b && ask is decimal a)
            {
                _sim.OnTick(Tick.Quote(_aapl, time, Price.From(b), Price.From(a), Quantity.From(1000), Quantity.From(1000)));
            }

            _quotes.Set("AAPL", new PipelineQuote(bid, ask, time));
        }

        return Task.CompletedTask;
    }

    private (DecisionExecutor, OrderMonitor, PositionMonitor, PipelineDriver) Stages(IVenuePort? venue = null)
    {
        venue ??= _venue;
        var executor = new DecisionExecutor(P, venue, _clock);
        var orders = new OrderMonitor(P, venue, _clock);
        var positions = new PositionMonitor(P, venue, _quotes, _clock);
        return (executor, orders, positions, new PipelineDriver(executor, orders, positions, _clock));
    }

    private long SeedDecision() => P.AddDecisions([new NewDecision("AAPL", DecisionAction.NewTrade, TradeSide.Long, 150.25m, 145.00m, 160.00m, 10m, TradeStyle.Swing, Approved: true)], Et(Day1, 8, 0))[0];

    [Fact]
    public async Task The_SeedSwingExample_IsReproducedToTheCent_OverSimulatedDays()
    {
        SeedMarket();
        long decision = SeedDecision();
        var (_, _, positions, driver) = Stages();
        var valuations = new List<(Timestamp Time, decimal Price, decimal Pnl)>();
        await driver.RunAsync(Day1, Day2, Advance, (f, _) =>
        {
            if (f.Stage == PipelineStage.PositionMonitor)
            {
                valuations.AddRange(positions.LastValuations.Select(v => (f.Time, v.Position.CurrentPrice, v.Position.UnrealizedPnl)));
            }
        });

        var trade = P.TradeOfDecision(decision)!;
        Assert.Equal(TradeStatus.Closed, trade.Status);
        Assert.Equal(150.25m, trade.ActualEntry);
        Assert.Equal(10m, trade.ActualQuantity);
        Assert.Equal(144.90m, trade.ExitPrice);
        Assert.Equal(-53.50m, trade.ActualPnl);
        Assert.Equal(ExitReason.StoppedOut, trade.ExitReason);
        Assert.Equal(Et(Day2, 14, 43, 11), trade.ExitTime);
        Assert.Null(P.FindPosition(trade.Id));
        Assert.Single(P.Trades());

        var orders = P.OrdersOfTrade(trade.Id);
        Assert.Equal([PipelineOrderType.Entry, PipelineOrderType.StopLoss, PipelineOrderType.TakeProfit], orders.Select(o => o.OrderType));
        Assert.Equal((PipelineOrderStatus.Filled, 150.25m, (decimal?)null), (orders[0].Status, orders[0].FilledAveragePrice!.Value, orders[0].StopPrice));
        Assert.Equal((PipelineOrderStatus.Filled, 144.90m, 145.00m), (orders[1].Status, orders[1].FilledAveragePrice!.Value, orders[1].StopPrice!.Value));
        Assert.Equal((PipelineOrderStatus.Cancelled, 160.00m), (orders[2].Status, orders[2].LimitPrice!.Value));
        Assert.Equal(Et(Day1, 10, 3, 22), orders[0].FilledAt);

        // Valued at 10:10 (entry price), 10:20 … : the seed's 151.00 (+7.50) after 10:14 and 148.75 (−15.00) at 14:30.
        Assert.Contains((Et(Day1, 10, 20), 151.00m, 7.50m), valuations);
        Assert.Contains((Et(Day1, 14, 30), 148.75m, -15.00m), valuations);
        Assert.DoesNotContain(valuations, v => v.Time > Et(Day2, 14, 45));
        Assert.True(P.FindDecision(decision)!.Executed);
        Assert.Equal(1, _venue.Submits(P.OrdersOfTrade(trade.Id)[0].ClientOrderId));
    }

    [Fact]
    public async Task A_Position_ClosedByHand_IsReconciledAsManualExit_AtTheLastKnownPrice_AndItsOrdersCancelled()
    {
        Quote(Et(Day1, 9, 31), 150.20m, 150.25m);
        Quote(Et(Day1, 10, 14), 150.90m, 151.10m);
        long decision = SeedDecision();
        var (executor, orders, positions, _) = Stages();
        await Advance(Et(Day1, 9, 45), default);
        _clock.Set(Et(Day1, 9, 45));
        await executor.RunOnceAsync();
        await Advance(Et(Day1, 10, 14), default);
        _clock.Set(Et(Day1, 10, 15));
        await orders.RunOnceAsync();
        await positions.RunOnceAsync();
        var trade = P.TradeOfDecision(decision)!;
        Assert.Equal(151.00m, P.FindPosition(trade.Id)!.CurrentPrice);

        // The user sells in the broker's app.
        var manual = await _sim.SubmitAsync(new SubmitOrder(new ClientOrderId("app-sell-1"), _aapl, OrderSide.Sell, OrderType.Market, Quantity.From(10), null, null, TimeInForce.Day, ContingencyType.None, null, [], Et(Day1, 11, 0)));
        Assert.True(manual.IsAccepted, manual.Reason);
        Assert.Empty(await _sim.GetPositionsAsync());

        _clock.Set(Et(Day1, 11, 10));
        await positions.RunOnceAsync();
        trade = P.FindTrade(trade.Id)!;
        Assert.Equal(TradeStatus.Closed, trade.Status);
        Assert.Equal(ExitReason.ManualExit, trade.ExitReason);
        Assert.Equal(151.00m, trade.ExitPrice);
        Assert.Equal(7.50m, trade.ActualPnl);
        Assert.Null(P.FindPosition(trade.Id));
        Assert.All(P.OrdersOfTrade(trade.Id).Skip(1), o => Assert.Equal(PipelineOrderStatus.Cancelled, o.Status));
        Assert.Empty(await _sim.GetOpenOrdersAsync());
    }

    [Fact]
    public async Task A_Position_WhoseStopFilled_WhileTheOrderMonitorMissedIt_IsReconciledAsStoppedOut()
    {
        Quote(Et(Day1, 9, 31), 150.20m, 150.25m);
        Quote(Et(Day1, 12, 0), 144.90m, 145.00m);
        long decision = SeedDecision();
        var (executor, orders, positions, _) = Stages();
        await Advance(Et(Day1, 9, 45), default);
        _clock.Set(Et(Day1, 9, 45));
        await executor.RunOnceAsync();
        await orders.RunOnceAsync();
        await Advance(Et(Day1, 12, 0), default);

        _clock.Set(Et(Day1, 12, 10));
        await positions.RunOnceAsync();
        var trade = P.TradeOfDecision(decision)!;
        Assert.Equal(ExitReason.StoppedOut, trade.ExitReason);
        Assert.Equal(144.90m, trade.ExitPrice);
        Assert.Equal(-53.50m, trade.ActualPnl);
        var exits = P.OrdersOfTrade(trade.Id).Skip(1).ToList();
        Assert.Equal([PipelineOrderStatus.Filled, PipelineOrderStatus.Cancelled], exits.Select(o => o.Status));
    }

    [Fact]
    public async Task A_Crash_InEachStage_Restarted_ExecutesNoDecisionTwice_AndLosesNoUpdate()
    {
        SeedMarket();
        long decision = SeedDecision();

        // Executor: the venue takes the order, then the process dies before the journal records it.
        var crashing = new CountingVenue(_sim) { CrashAfterSubmit = 1 };
        var (crashExecutor, crashOrders, _, _) = Stages(crashing);
        await Advance(Et(Day1, 9, 45), default);
        _clock.Set(Et(Day1, 9, 45));
        await Assert.ThrowsAsync<SimulatedCrash>(() => crashExecutor.RunOnceAsync());
        Assert.False(P.FindDecision(decision)!.Executed);
        var (executor, orders, positions, _) = Stages();
        await executor.RunOnceAsync();
        await executor.RunOnceAsync();
        var entryId = new PipelineOptions().EntryId(decision);
        Assert.Equal(1, crashing.Submits(entryId) + _venue.Submits(entryId));
        Assert.True(P.FindDecision(decision)!.Executed);

        // Order monitor: the protective OCO pair reaches the venue, then the process dies.
        await Advance(Et(Day1, 10, 5), default);
        _clock.Set(Et(Day1, 10, 5));
        crashing.CrashAfterSubmit = 1;
        await Assert.ThrowsAsync<SimulatedCrash>(() => crashOrders.RunOnceAsync());
        await orders.RunOnceAsync();
        await orders.RunOnceAsync();
        var trade = P.TradeOfDecision(decision)!;
        Assert.Equal(TradeStatus.Position, trade.Status);
        Assert.Equal(2, (await _sim.GetOpenOrdersAsync()).Count);
        Assert.All(P.OrdersOfTrade(trade.Id), o => Assert.NotNull(o.VenueOrderId));

        // Position monitor: dies on the venue's positions; the next run values the position.
        await Advance(Et(Day1, 10, 20), default);
        _clock.Set(Et(Day1, 10, 20));
        var (_, _, crashPositions, _) = Stages(new CountingVenue(_sim) { FailPositions = true });
        var failed = await crashPositions.RunOnceAsync();
        Assert.Equal(1, failed.Failed);
        Assert.Equal(TradeStatus.Position, P.FindTrade(trade.Id)!.Status);
        await positions.RunOnceAsync();
        Assert.Equal(7.50m, P.FindPosition(trade.Id)!.UnrealizedPnl);

        // The rest of the story still ends as the seed says.
        await Advance(Et(Day2, 14, 45), default);
        _clock.Set(Et(Day2, 14, 45));
        await orders.RunOnceAsync();
        Assert.Equal(-53.50m, P.FindTrade(trade.Id)!.ActualPnl);
        Assert.Single(P.Trades());
    }

    [Fact]
    public async Task A_Cancel_Decision_CancelsAnUnfilledEntry_AndAnAmend_ReplacesIt()
    {
        Quote(Et(Day1, 9, 31), 151.00m, 151.20m);
        long first = SeedDecision();
        var (executor, _, _, _) = Stages();
        await Advance(Et(Day1, 9, 45), default);
        _clock.Set(Et(Day1, 9, 45));
        await executor.RunOnceAsync();
        long amend = P.AddDecisions([new NewDecision("AAPL", DecisionAction.Amend, TradeSide.Long, 150.75m, 146m, 160m, 5m, TradeStyle.Swing, first, Approved: true)], _clock.Now)[0];
        await executor.RunOnceAsync();
        Assert.Equal(TradeStatus.Cancelled, P.TradeOfDecision(first)!.Status);
        var replaced = P.TradeOfDecision(amend)!;
        Assert.Equal(TradeStatus.Ordered, replaced.Status);
        Assert.Equal(150.75m, replaced.PlannedEntry);
        var open = await _sim.GetOpenOrdersAsync();
        Assert.Equal([new PipelineOptions().EntryId(amend)], open.Select(o => o.ClientOrderId!.Value.Value));

        long cancel = P.AddDecisions([new NewDecision("AAPL", DecisionAction.Cancel, TradeSide.Long, null, null, null, null, TradeStyle.Day, amend, Approved: true)], _clock.Now)[0];
        await executor.RunOnceAsync();
        Assert.Equal(TradeStatus.Cancelled, P.TradeOfDecision(amend)!.Status);
        Assert.StartsWith("cancelled trade", P.FindDecision(cancel)!.Outcome, StringComparison.Ordinal);
        Assert.Empty(await _sim.GetOpenOrdersAsync());
    }

    [Fact]
    public async Task A_Rejected_Entry_IsLogged_TheTradeCancelled_AndTheOtherDecisionsPlaced()
    {
        Quote(Et(Day1, 9, 31), 151.00m, 151.20m);
        var ids = P.AddDecisions(
            [
                new NewDecision("AAPL", DecisionAction.NewTrade, TradeSide.Long, 150m, 140m, 160m, 100_000m, TradeStyle.Swing, Approved: true),
                new NewDecision("AAPL", DecisionAction.NewTrade, TradeSide.Long, 150m, 140m, 160m, 10m, TradeStyle.Swing, Approved: true),
            ],
            Et(Day1, 8, 0));
        var (executor, _, _, _) = Stages();
        await Advance(Et(Day1, 9, 45), default);
        _clock.Set(Et(Day1, 9, 45));
        var result = await executor.RunOnceAsync();
        Assert.Equal(2, result.Done);
        Assert.Equal(TradeStatus.Cancelled, P.TradeOfDecision(ids[0])!.Status);
        Assert.StartsWith("rejected by the venue", P.FindDecision(ids[0])!.Outcome, StringComparison.Ordinal);
        Assert.Equal(TradeStatus.Ordered, P.TradeOfDecision(ids[1])!.Status);
    }

    [Fact]
    public async Task Every_Entry_GoesThroughTheRiskGate_ADenialIsJournaled_AndTheProtectiveOrdersAreAlwaysAllowed()
    {
        SeedMarket();
        var ids = P.AddDecisions(
            [
                new NewDecision("AAPL", DecisionAction.NewTrade, TradeSide.Long, 150.25m, 145m, 160m, 10m, TradeStyle.Swing, Approved: true),
                new NewDecision("AAPL", DecisionAction.NewTrade, TradeSide.Long, 150.25m, 145m, 160m, 100m, TradeStyle.Swing, Approved: true),
            ],
            Et(Day1, 8, 0));

        // Entries worth at most 2,000: the first (1,502.50) passes, the second (15,025) does not.
        var gate = new PipelineRiskGate(new Keel.Engine.Risk.RiskLimits(null, Money.From(2_000)));
        var executor = new DecisionExecutor(P, _venue, _clock, risk: gate);
        var orders = new OrderMonitor(P, _venue, _clock);
        var positions = new PositionMonitor(P, _venue, _quotes, _clock);
        await new PipelineDriver(executor, orders, positions, _clock).RunAsync(Day1, Day1, Advance);

        var denied = P.TradeOfDecision(ids[1])!;
        Assert.Equal(TradeStatus.Cancelled, denied.Status);
        Assert.Equal("denied by the risk gate: order notional 15025.00 is above the limit of 2000.00", P.FindDecision(ids[1])!.Outcome);
        var entry = Assert.Single(P.OrdersOfTrade(denied.Id));
        Assert.Equal((PipelineOrderStatus.Rejected, "denied by the risk gate: order notional 15025.00 is above the limit of 2000.00"), (entry.Status, entry.Error));
        Assert.Equal(0, _venue.Submits(entry.ClientOrderId));

        // The approved trade got its position and both exits (protective orders are never put to the gate).
        var placed = P.TradeOfDecision(ids[0])!;
        Assert.Equal(TradeStatus.Position, placed.Status);
        Assert.Equal(3, P.OrdersOfTrade(placed.Id).Count(o => o.Status is not PipelineOrderStatus.Rejected));

        // A re-run after a crash between the denial and the decision's mark gives the same outcome, still without a send.
        var again = await new DecisionExecutor(P, _venue, _clock, risk: gate).RunOnceAsync();
        Assert.Equal(0, again.Done + again.Failed);
        Assert.Equal(0, _venue.Submits(entry.ClientOrderId));
    }

    [Fact]
    public async Task A_PartialEntryFill_GrowsThePosition_AndTheExitsCoverWhatFilled()
    {
        Quote(Et(Day1, 9, 31), 150.40m, 150.60m);
        long decision = SeedDecision();
        var (executor, orders, _, _) = Stages();
        await Advance(Et(Day1, 9, 45), default);
        _clock.Set(Et(Day1, 9, 45));
        await executor.RunOnceAsync();

        _sim.OnTick(Tick.Quote(_aapl, Et(Day1, 10, 1), Price.From(150.20m), Price.From(150.25m), Quantity.From(100), Quantity.From(4)));
        _clock.Set(Et(Day1, 10, 5));
        await orders.RunOnceAsync();
        var trade = P.TradeOfDecision(decision)!;
        Assert.Equal(TradeStatus.Position, trade.Status);
        Assert.Equal(4m, P.FindPosition(trade.Id)!.Quantity);
        Assert.Single(P.OrdersOfTrade(trade.Id));
        Assert.Equal(PipelineOrderStatus.PartiallyFilled, P.OrdersOfTrade(trade.Id)[0].Status);

        _sim.OnTick(Tick.Quote(_aapl, Et(Day1, 10, 7), Price.From(150.20m), Price.From(150.25m), Quantity.From(100), Quantity.From(6)));
        _clock.Set(Et(Day1, 10, 10));
        await orders.RunOnceAsync();
        Assert.Equal(10m, P.FindPosition(trade.Id)!.Quantity);
        Assert.Equal(1502.50m, P.FindPosition(trade.Id)!.CostBasis);
        var exits = P.OrdersOfTrade(trade.Id).Skip(1).ToList();
        Assert.Equal([10m, 10m], exits.Select(o => o.Quantity));
        Assert.All(exits, o => Assert.Equal(PipelineOrderStatus.Accepted, o.Status));

        // The take-profit fills 3 of 10: the position row shrinks to 7, the journal keeps the entry's 10.
        _sim.OnTick(Tick.Quote(_aapl, Et(Day1, 11, 1), Price.From(160.00m), Price.From(160.10m), Quantity.From(3), Quantity.From(100)));
        _clock.Set(Et(Day1, 11, 5));
        await orders.RunOnceAsync();
        var shrunk = P.FindPosition(trade.Id)!;
        Assert.Equal((7m, 1051.75m), (shrunk.Quantity, shrunk.CostBasis));
        Assert.Equal((TradeStatus.Position, 10m), (P.FindTrade(trade.Id)!.Status, P.FindTrade(trade.Id)!.ActualQuantity));

        // The rest fills: closed, PROFIT_TAKEN on all 10, the stop cancelled, the row gone.
        _sim.OnTick(Tick.Quote(_aapl, Et(Day1, 11, 7), Price.From(160.00m), Price.From(160.10m), Quantity.From(100), Quantity.From(100)));
        _clock.Set(Et(Day1, 11, 10));
        await orders.RunOnceAsync();
        var closed = P.FindTrade(trade.Id)!;
        Assert.Equal((TradeStatus.Closed, ExitReason.ProfitTaken, 97.50m), (closed.Status, closed.ExitReason!.Value, closed.ActualPnl!.Value));
        Assert.Null(P.FindPosition(trade.Id));
    }

    [Fact]
    public void A_Quote_IsPricedAtTheMid_OrTheOneSideThereIs_OrNotAtAll()
    {
        var t = Et(Day1, 10, 0);
        Assert.Equal(151.00m, new PipelineQuote(150.90m, 151.10m, t).Price);
        Assert.Equal(151.10m, new PipelineQuote(null, 151.10m, t).Price);
        Assert.Equal(150.90m, new PipelineQuote(150.90m, null, t).Price);
        Assert.Null(new PipelineQuote(null, null, t).Price);
    }

    private sealed class NoSink : IOrderEventSink
    {
        public void OnOrderEvent(OrderEvent orderEvent)
        {
        }
    }

    private sealed class SimulatedCrash : Exception
    {
        public SimulatedCrash()
            : base("the process died")
        {
        }
    }

    /// <summary>The venue with a count of submits per client id, and switches that make the caller "die" after a submit.</summary>
    private sealed class CountingVenue(IVenuePort inner) : IVenuePort
    {
        private readonly Dictionary<string, int> _submits = [];

        public int CrashAfterSubmit { get; set; }

        public bool FailPositions { get; set; }

        public int Submits(string clientId) => _submits.GetValueOrDefault(clientId);

        public string Name => inner.Name;

        public Task ConnectAsync(IOrderEventSink sink, CancellationToken ct = default) => inner.ConnectAsync(sink, ct);

        public Task DisconnectAsync(CancellationToken ct = default) => inner.DisconnectAsync(ct);

        public async Task<VenueOutcome> SubmitAsync(SubmitOrder order, CancellationToken ct = default)
        {
            _submits[order.ClientOrderId.Value] = Submits(order.ClientOrderId.Value) + 1;
            var outcome = await inner.SubmitAsync(order, ct);
            return Crash(outcome);
        }

        public async Task<VenueOutcome> SubmitListAsync(SubmitOrderList list, CancellationToken ct = default)
        {
            foreach (var o in list.Orders)
            {
                _submits[o.ClientOrderId.Value] = Submits(o.ClientOrderId.Value) + 1;
            }

            return Crash(await inner.SubmitListAsync(list, ct));
        }

        private VenueOutcome Crash(VenueOutcome outcome)
        {
            if (CrashAfterSubmit > 0 && --CrashAfterSubmit == 0)
            {
                throw new SimulatedCrash();
            }

            return outcome;
        }

        public Task<VenueOutcome> CancelAsync(CancelOrder cancel, CancellationToken ct = default) => inner.CancelAsync(cancel, ct);

        public Task<VenueOutcome> ReplaceAsync(ReplaceOrder replace, CancellationToken ct = default) => inner.ReplaceAsync(replace, ct);

        public Task<VenueOrder?> GetOrderAsync(ClientOrderId clientOrderId, CancellationToken ct = default) => inner.GetOrderAsync(clientOrderId, ct);

        public Task<VenueOrder?> GetOrderByVenueIdAsync(VenueOrderId venueOrderId, CancellationToken ct = default) => inner.GetOrderByVenueIdAsync(venueOrderId, ct);

        public Task<IReadOnlyList<VenueOrder>> GetOpenOrdersAsync(CancellationToken ct = default) => inner.GetOpenOrdersAsync(ct);

        public Task<VenueFillPage> GetFillsSinceAsync(VenueWatermark? since, CancellationToken ct = default) => inner.GetFillsSinceAsync(since, ct);

        public Task<IReadOnlyList<VenuePosition>> GetPositionsAsync(CancellationToken ct = default) =>
            FailPositions ? throw new VenueQueryException("the venue did not answer") : inner.GetPositionsAsync(ct);

        public Task<VenueAccount> GetAccountAsync(CancellationToken ct = default) => inner.GetAccountAsync(ct);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
