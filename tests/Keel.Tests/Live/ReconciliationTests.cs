using Keel.Domain;
using Keel.Domain.Orders;
using Keel.Engine.Ports;
using Keel.Runtime.Live;

namespace Keel.Tests.Live;

public sealed class ReconciliationTests
{
    private const string Prefix = "r7-";

    // The lead's OrderStatus.Unknown ("sent, outcome unknown"); not final, so reconciliation must treat it as working.
    private const OrderStatus UnknownStatus = (OrderStatus)12;

    private static readonly InstrumentId Aapl = new("AAPL");
    private static readonly InstrumentId Msft = new("MSFT");
    private static readonly InstrumentId Tsla = new("TSLA");
    private static readonly ReconcileOptions Stop = new(Adopt: false);
    private static readonly ReconcileOptions Adopt = new(Adopt: true);

    [Fact]
    public void Compare_BooksAgree_CleanReport()
    {
        var keel = Keel(
            [Order(1, OrderStatus.PartiallyFilled, filled: 4, venueId: "V1", applied: ["E1"])],
            positions: [(Aapl, 4)]);
        var venue = Venue(
            open: [VOrder(Id(1), "V1", OrderStatus.PartiallyFilled, filled: 4)],
            fills: [Fill("E1", Id(1), "V1", 4)],
            positions: [(Aapl, 4, 100)]);

        var report = Reconciliation.Compare(keel, venue, Stop);

        Assert.True(report.IsClean);
        Assert.False(report.MustStop);
        Assert.Empty(report.Actions);
        Assert.Empty(report.Differences);
        Assert.Equal("reconciliation: clean", report.Summary());
        Assert.Equal("reconciliation: clean\n", report.Render());
    }

    [Fact]
    public void Compare_FillMissedWhileStreamDown_AppliesItWithoutAsking()
    {
        var keel = Keel([Order(1, OrderStatus.Accepted, venueId: "V1")]);
        var venue = Venue(
            open: [VOrder(Id(1), "V1", OrderStatus.PartiallyFilled, filled: 4)],
            fills: [Fill("E1", Id(1), "V1", 4)],
            positions: [(Aapl, 4, 100)]);

        var report = Reconciliation.Compare(keel, venue, Stop);

        var action = Assert.Single(report.Actions);
        Assert.Equal(ReconcileActionKind.ApplyFill, action.Kind);
        Assert.Equal(new TradeId("E1"), action.Fill!.ExecutionId);
        Assert.Equal(Id(1), action.ClientOrderId);
        Assert.False(action.Adopted);
        Assert.Empty(report.Differences);
        Assert.False(report.MustStop);
        Assert.False(report.IsClean);
    }

    [Fact]
    public void Compare_FillWithoutClientId_MatchedByVenueOrderId()
    {
        var keel = Keel([Order(1, OrderStatus.Accepted, venueId: "V1")]);
        var venue = Venue(
            open: [VOrder(Id(1), "V1", OrderStatus.PartiallyFilled, filled: 4)],
            fills: [Fill("E1", null, "V1", 4)],
            positions: [(Aapl, 4, 100)]);

        var report = Reconciliation.Compare(keel, venue, Stop);

        Assert.Equal(ReconcileActionKind.ApplyFill, Assert.Single(report.Actions).Kind);
        Assert.Empty(report.Differences);
    }

    [Fact]
    public void Compare_SameFillReportedTwice_AppliedOnce()
    {
        var keel = Keel([Order(1, OrderStatus.Accepted, venueId: "V1")]);
        var venue = Venue(
            open: [VOrder(Id(1), "V1", OrderStatus.PartiallyFilled, filled: 4)],
            fills: [Fill("E1", Id(1), "V1", 4), Fill("E1", Id(1), "V1", 4)],
            positions: [(Aapl, 4, 100)]);

        var report = Reconciliation.Compare(keel, venue, Stop);

        Assert.Single(report.Actions);
        Assert.Empty(report.Differences);
    }

    [Fact]
    public void Compare_FillAlreadyApplied_IgnoredAndOnlyTheNewPartialFillApplied()
    {
        var keel = Keel(
            [Order(1, OrderStatus.PartiallyFilled, filled: 4, venueId: "V1", applied: ["E1"])],
            positions: [(Aapl, 4)]);
        var venue = Venue(
            open: [VOrder(Id(1), "V1", OrderStatus.PartiallyFilled, filled: 7)],
            fills: [Fill("E1", Id(1), "V1", 4, time: 1), Fill("E2", Id(1), "V1", 3, time: 2)],
            positions: [(Aapl, 7, 100)]);

        var report = Reconciliation.Compare(keel, venue, Stop);

        var action = Assert.Single(report.Actions);
        Assert.Equal(new TradeId("E2"), action.Fill!.ExecutionId);
        Assert.Empty(report.Differences);
    }

    [Fact]
    public void Compare_PartlyFilledThenCanceledAtVenue_FillsFirstThenCanceled()
    {
        var keel = Keel(
            [Order(1, OrderStatus.PartiallyFilled, filled: 3, venueId: "V1", applied: ["E1"])],
            positions: [(Aapl, 3)]);
        var venue = Venue(
            fills: [Fill("E3", Id(1), "V1", 1, time: 3), Fill("E2", Id(1), "V1", 1, time: 2)],
            positions: [(Aapl, 5, 100)],
            lookups: [(Id(1), VOrder(Id(1), "V1", OrderStatus.Canceled, filled: 5))]);

        var report = Reconciliation.Compare(keel, venue, Stop);

        Assert.Equal(
            [(ReconcileActionKind.ApplyFill, "E2"), (ReconcileActionKind.ApplyFill, "E3"), (ReconcileActionKind.Finish, "")],
            report.Actions.Select(a => (a.Kind, a.Fill?.ExecutionId.Value ?? string.Empty)).ToArray());
        Assert.Equal(OrderStatus.Canceled, report.Actions[2].Status);
        Assert.Empty(report.Differences);
    }

    [Fact]
    public void Compare_PositionClosedByHandWithoutAdopt_MustStopWithAdjustmentItWouldMake()
    {
        var keel = Keel([], positions: [(Aapl, 10)]);
        var venue = Venue();

        var report = Reconciliation.Compare(keel, venue, Stop);

        Assert.True(report.MustStop);
        Assert.False(report.IsClean);
        Assert.Empty(report.Actions);
        var difference = Assert.Single(report.Differences);
        Assert.Equal(DifferenceKind.PositionMismatch, difference.Kind);
        Assert.Equal("position 10", difference.KeelHolds);
        Assert.Equal("flat (no position)", difference.VenueSays);
        Assert.StartsWith("stop; with --adopt: sets the position 10 -> 0", difference.Resolution, StringComparison.Ordinal);
        Assert.Equal(ReconcileActionKind.AdjustPosition, difference.Remedy!.Kind);
        Assert.Contains("MUST STOP", report.Summary(), StringComparison.Ordinal);
    }

    [Fact]
    public void Compare_PositionClosedByHandWithAdopt_AdjustsToTheVenue()
    {
        var keel = Keel([], positions: [(Aapl, 10), (Msft, -5)]);
        var venue = Venue(positions: [(Msft, -2, 250)]);

        var report = Reconciliation.Compare(keel, venue, Adopt);

        Assert.False(report.MustStop);
        Assert.Equal(2, report.Differences.Count);
        Assert.All(report.Differences, d => Assert.StartsWith("adopted: ", d.Resolution, StringComparison.Ordinal));
        Assert.Equal(2, report.Actions.Count);
        var aapl = report.Actions[0];
        Assert.Equal((ReconcileActionKind.AdjustPosition, Aapl, Quantity.Zero, (Price?)null, true), (aapl.Kind, aapl.Instrument, aapl.Quantity!.Value, aapl.Price, aapl.Adopted));
        var msft = report.Actions[1];
        Assert.Equal((Msft, Quantity.From(-2), (Price?)Price.From(250)), (msft.Instrument, msft.Quantity!.Value, msft.Price));
    }

    [Fact]
    public void Compare_HandTradeVisibleInFills_ForeignFillExplainsThePosition()
    {
        var keel = Keel([], positions: [(Aapl, 10)]);
        var venue = Venue(fills: [Fill("H1", null, "X9", 10, side: OrderSide.Sell)]);

        var stop = Reconciliation.Compare(keel, venue, Stop);
        var adopt = Reconciliation.Compare(keel, venue, Adopt);

        // One row, not two: adopting the fill closes the position, so no adjustment is added on top of it.
        var difference = Assert.Single(stop.Differences);
        Assert.Equal(DifferenceKind.ForeignFill, difference.Kind);
        Assert.True(stop.MustStop);
        var action = Assert.Single(adopt.Actions);
        Assert.Equal(ReconcileActionKind.AdoptFill, action.Kind);
        Assert.Equal(new TradeId("H1"), action.Fill!.ExecutionId);
    }

    [Fact]
    public void Compare_FillOfAnotherProgramOnTheRunsInstrument_ForeignFill_OnAnotherInstrument_Ignored()
    {
        var keel = Keel([], positions: [(Aapl, 0)]);
        var venue = Venue(
            fills: [Fill("F1", new ClientOrderId("other-3"), "X1", 2, instrument: Aapl), Fill("F2", new ClientOrderId("other-4"), "X2", 2, instrument: Tsla)],
            positions: [(Aapl, 2, 100), (Tsla, 2, 200)]);

        var report = Reconciliation.Compare(keel, venue, Stop);

        Assert.Equal(
            [DifferenceKind.ForeignFill, DifferenceKind.OtherInstrumentPosition],
            report.Differences.Select(d => d.Kind).ToArray());
        Assert.Equal(new ClientOrderId("other-3"), report.Differences[0].ClientOrderId);
        Assert.True(report.MustStop);
    }

    [Fact]
    public void Compare_OpenOrderWithKeelPrefixKeelDoesNotHold_LostOrder_ForeignOnRunInstrument_ForeignOrder()
    {
        var keel = Keel([]);
        var venue = Venue(open:
        [
            VOrder(Id(9), "V9", OrderStatus.Accepted, instrument: Tsla),
            VOrder(new ClientOrderId("other-1"), "X1", OrderStatus.Accepted),
            VOrder(null, "X2", OrderStatus.Accepted),
            VOrder(new ClientOrderId("other-2"), "X3", OrderStatus.Accepted, instrument: Tsla),
        ]);

        var stop = Reconciliation.Compare(keel, venue, Stop);
        var adopt = Reconciliation.Compare(keel, venue, Adopt);

        Assert.Equal(
            [(DifferenceKind.ForeignOrder, "X2"), (DifferenceKind.ForeignOrder, "X1"), (DifferenceKind.LostOrder, "V9")],
            stop.Differences.Select(d => (d.Kind, d.VenueOrderId!.Value.Value)).ToArray());
        Assert.True(stop.MustStop);
        Assert.Empty(stop.Actions);
        Assert.Equal(3, adopt.Actions.Count);
        Assert.All(adopt.Actions, a => Assert.Equal(ReconcileActionKind.AdoptOrder, a.Kind));
        Assert.Equal(new VenueOrderId("V9"), adopt.Actions.Single(a => a.ClientOrderId == Id(9)).Order!.VenueOrderId);
        Assert.False(adopt.MustStop);
    }

    [Fact]
    public void Compare_IdThatOnlyLooksLikeKeels_IsForeign()
    {
        var keel = Keel([]);
        var venue = Venue(open: [VOrder(new ClientOrderId("r7-1a"), "X1", OrderStatus.Accepted), VOrder(new ClientOrderId("r77-1"), "X2", OrderStatus.Accepted)]);

        var report = Reconciliation.Compare(keel, venue, Stop);

        Assert.All(report.Differences, d => Assert.Equal(DifferenceKind.ForeignOrder, d.Kind));
        Assert.Equal(2, report.Differences.Count);
    }

    [Theory]
    [InlineData(OrderStatus.Submitted)]
    [InlineData(UnknownStatus)]
    public void Compare_UnknownOutcomeFoundAccepted_AcceptsWithTheVenueId(OrderStatus status)
    {
        var keel = Keel([Order(1, status)]);
        var venue = Venue(lookups: [(Id(1), VOrder(Id(1), "V1", OrderStatus.Accepted))]);

        var report = Reconciliation.Compare(keel, venue, Stop);

        var action = Assert.Single(report.Actions);
        Assert.Equal((ReconcileActionKind.Accept, new VenueOrderId("V1")), (action.Kind, action.VenueOrderId!.Value));
        Assert.Empty(report.Differences);
    }

    [Fact]
    public void Compare_UnknownOutcomeAlreadyFilled_AcceptFillThenFinish()
    {
        var keel = Keel([Order(1, UnknownStatus)]);
        var venue = Venue(
            fills: [Fill("E1", Id(1), "V1", 6, time: 1), Fill("E2", Id(1), "V1", 4, time: 2)],
            positions: [(Aapl, 10, 100)],
            lookups: [(Id(1), VOrder(Id(1), "V1", OrderStatus.Filled, filled: 10))]);

        var report = Reconciliation.Compare(keel, venue, Stop);

        Assert.Equal(
            [ReconcileActionKind.Accept, ReconcileActionKind.ApplyFill, ReconcileActionKind.ApplyFill, ReconcileActionKind.Finish],
            report.Actions.Select(a => a.Kind).ToArray());
        Assert.Equal(OrderStatus.Filled, report.Actions[3].Status);
        Assert.Empty(report.Differences);
    }

    [Theory]
    [InlineData(OrderStatus.Submitted)]
    [InlineData(UnknownStatus)]
    public void Compare_UnknownOutcomeNotAtVenue_ResendOnceUnderTheSameId(OrderStatus status)
    {
        var keel = Keel([Order(1, status)]);
        var venue = Venue(lookups: [(Id(1), null)]);

        var report = Reconciliation.Compare(keel, venue, Stop);

        var action = Assert.Single(report.Actions);
        Assert.Equal((ReconcileActionKind.ResendOnce, Id(1)), (action.Kind, action.ClientOrderId!.Value));
        Assert.Contains("re-sent once under the same client id", action.Effect, StringComparison.Ordinal);
        Assert.Empty(report.Differences);
        Assert.False(report.MustStop);
    }

    [Fact]
    public void Compare_UnknownOutcomeNotFoundButFilled_NeverResent()
    {
        var keel = Keel([Order(1, UnknownStatus)]);
        var venue = Venue(fills: [Fill("E1", Id(1), "V1", 10)], positions: [(Aapl, 10, 100)], lookups: [(Id(1), null)]);

        var report = Reconciliation.Compare(keel, venue, Stop);

        Assert.DoesNotContain(report.Actions, a => a.Kind == ReconcileActionKind.ResendOnce);
        Assert.Equal(ReconcileActionKind.ApplyFill, Assert.Single(report.Actions).Kind);
        Assert.Equal(DifferenceKind.OrderMissingAtVenue, Assert.Single(report.Differences).Kind);
    }

    [Fact]
    public void Compare_PendingOrderNeverSent_NothingToDo()
    {
        var keel = Keel([Order(1, OrderStatus.Pending)]);

        var report = Reconciliation.Compare(keel, Venue(), Stop);

        Assert.True(report.IsClean);
    }

    [Fact]
    public void Compare_AcceptedOrderTheVenueNoLongerHas_StopsOrClosesItWhenAdopting()
    {
        var keel = Keel([Order(1, OrderStatus.Accepted, venueId: "V1")]);
        var venue = Venue(lookups: [(Id(1), null)]);

        var stop = Reconciliation.Compare(keel, venue, Stop);
        var adopt = Reconciliation.Compare(keel, venue, Adopt);

        Assert.Equal(DifferenceKind.OrderMissingAtVenue, Assert.Single(stop.Differences).Kind);
        Assert.True(stop.MustStop);
        var action = Assert.Single(adopt.Actions);
        Assert.Equal((ReconcileActionKind.CloseMissing, OrderStatus.Canceled, true), (action.Kind, action.Status!.Value, action.Adopted));
    }

    [Fact]
    public void Compare_LateFillOfCompletedOrder_RecognisedAsTheRunsNotForeign()
    {
        var done = Order(1, OrderStatus.Canceled, filled: 2, venueId: "V1", applied: ["E1"]);
        var keel = Keel([], completed: [done], positions: [(Aapl, 2)]);
        var venue = Venue(fills: [Fill("E1", Id(1), "V1", 2), Fill("E2", Id(1), "V1", 1)], positions: [(Aapl, 3, 100)]);

        var report = Reconciliation.Compare(keel, venue, Stop);

        var difference = Assert.Single(report.Differences);
        Assert.Equal((DifferenceKind.LateFill, Id(1)), (difference.Kind, difference.ClientOrderId!.Value));
        Assert.Equal(ReconcileActionKind.AdoptFill, difference.Remedy!.Kind);
    }

    [Fact]
    public void Compare_FillOfCompletedOrderAlreadyApplied_Clean()
    {
        var done = Order(1, OrderStatus.Filled, filled: 10, venueId: "V1", applied: ["E1"]);
        var keel = Keel([], completed: [done], positions: [(Aapl, 10)]);
        var venue = Venue(fills: [Fill("E1", Id(1), "V1", 10)], positions: [(Aapl, 10, 100)]);

        Assert.True(Reconciliation.Compare(keel, venue, Stop).IsClean);
    }

    [Fact]
    public void Compare_FillOfLostOrder_LostOrderFill()
    {
        var keel = Keel([]);
        var venue = Venue(fills: [Fill("E5", Id(5), "V5", 3)], positions: [(Aapl, 3, 100)]);

        var report = Reconciliation.Compare(keel, venue, Stop);

        Assert.Equal(DifferenceKind.LostOrderFill, Assert.Single(report.Differences).Kind);
    }

    [Fact]
    public void Compare_VenueFilledMoreThanItsHistoryShows_FillsUnaccountedAndPositionFollowsTheVenue()
    {
        var keel = Keel([Order(1, OrderStatus.Accepted, venueId: "V1")]);
        var venue = Venue(positions: [(Aapl, 10, 101)], lookups: [(Id(1), VOrder(Id(1), "V1", OrderStatus.Filled, filled: 10))]);

        var report = Reconciliation.Compare(keel, venue, Adopt);

        Assert.Equal([DifferenceKind.FillsUnaccounted, DifferenceKind.PositionMismatch], report.Differences.Select(d => d.Kind).ToArray());
        Assert.Equal(
            [(ReconcileActionKind.Finish, true), (ReconcileActionKind.AdjustPosition, true)],
            report.Actions.Select(a => (a.Kind, a.Adopted)).ToArray());
    }

    [Fact]
    public void Compare_AdoptedExternalOrder_RecognisedByVenueIdWithItsFills()
    {
        var keel = Keel([Order(4, OrderStatus.Accepted, venueId: "X1")]);
        var venue = Venue(
            open: [VOrder(new ClientOrderId("other-1"), "X1", OrderStatus.PartiallyFilled, filled: 2)],
            fills: [Fill("F1", new ClientOrderId("other-1"), "X1", 2)],
            positions: [(Aapl, 2, 100)]);

        var report = Reconciliation.Compare(keel, venue, Stop);

        var action = Assert.Single(report.Actions);
        Assert.Equal((ReconcileActionKind.ApplyFill, Id(4)), (action.Kind, action.ClientOrderId!.Value));
        Assert.Empty(report.Differences);
    }

    [Fact]
    public void Compare_FillAdoptedEarlier_NotAdoptedAgain()
    {
        var keel = Keel([], positions: [(Aapl, 0)]) with { AdoptedTradeIds = [new TradeId("H1")] };
        var venue = Venue(fills: [Fill("H1", null, "X9", 10, side: OrderSide.Sell)], positions: [(Aapl, 0, 0)]);

        Assert.True(Reconciliation.Compare(keel, venue, Adopt).IsClean);
    }

    [Fact]
    public void Compare_PositionOnInstrumentTheRunDoesNotTrade_InformationOnly()
    {
        var keel = Keel([]);
        var venue = Venue(positions: [(Tsla, 7, 200)]);

        var report = Reconciliation.Compare(keel, venue, Stop);

        Assert.True(report.IsClean);
        Assert.False(report.MustStop);
        var info = Assert.Single(report.Differences);
        Assert.True(info.IsInformation);
        Assert.Equal("reconciliation: clean (1 for information)", report.Summary());
    }

    [Fact]
    public void Compare_WorkingOrderWithoutLookup_IsNotJudged_ButItsListedFillIsApplied()
    {
        // An order placed after the venue was read has no lookup: no difference and no action for it this round, but
        // a fill of it that the read caught is still applied.
        var keel = Keel([Order(1, OrderStatus.Accepted, venueId: "V1")]);

        var report = Reconciliation.Compare(keel, Venue(fills: [Fill("E1", Id(1), "V1", 4)], positions: [(Aapl, 4, 100)]), Stop);
        Assert.Empty(report.Differences);
        var action = Assert.Single(report.Actions);
        Assert.Equal(ReconcileActionKind.ApplyFill, action.Kind);
    }

    [Fact]
    public void Compare_FinalOrderAmongWorkingOrders_Throws()
    {
        var keel = Keel([Order(1, OrderStatus.Filled, filled: 10)]);

        Assert.Throws<ArgumentException>(() => Reconciliation.Compare(keel, Venue(), Stop));
    }

    [Fact]
    public void Render_MixedReport_StableAndIndependentOfInputOrder()
    {
        var orders = new List<KeelOrder> { Order(1, OrderStatus.Accepted, venueId: "V1"), Order(2, UnknownStatus), Order(3, OrderStatus.Submitted) };
        var fills = new List<VenueFill> { Fill("E1", Id(1), "V1", 4, time: 5), Fill("H1", null, "X9", 10, side: OrderSide.Sell, instrument: Msft, time: 3) };
        var open = new List<VenueOrder> { VOrder(Id(1), "V1", OrderStatus.PartiallyFilled, filled: 4), VOrder(new ClientOrderId("other-1"), "X1", OrderStatus.Accepted, instrument: Msft) };
        var positions = new List<(InstrumentId, decimal, decimal)> { (Aapl, 4, 100), (Msft, 0, 0), (Tsla, 7, 200) };
        var lookups = new List<(ClientOrderId, VenueOrder?)> { (Id(2), VOrder(Id(2), "V2", OrderStatus.Accepted)), (Id(3), null) };
        var keelPositions = new List<(InstrumentId, decimal)> { (Aapl, 0), (Msft, 15) };

        string first = Reconciliation.Compare(Keel(orders, positions: keelPositions), Venue(open, fills, positions, lookups), Stop).Render();
        orders.Reverse();
        fills.Reverse();
        open.Reverse();
        positions.Reverse();
        lookups.Reverse();
        keelPositions.Reverse();
        string second = Reconciliation.Compare(Keel(orders, positions: keelPositions), Venue(open, fills, positions, lookups), Stop).Render();

        Assert.Equal(first, second);
        Assert.Equal(ExpectedRender, first);
    }

    private const string ExpectedRender = """
        reconciliation: 3 actions, 3 unexplained differences, 1 for information; MUST STOP: Keel cannot explain the differences (resolve them by hand, or start with --adopt to adopt the venue's state)

        Actions Keel would apply (none applied: the start stops)
          #  action       instrument  order      keel holds                                   venue says                 keel does
          1  accept       AAPL        r7-2 / V2  unknown buy 10, filled 0                     accepted buy 10, filled 0  marks it accepted as venue order V2
          2  apply fill   AAPL        r7-1 / V1  accepted buy 10, filled 0; fill not applied  fill E1: buy 4 @ 100       applies the fill
          3  resend once  AAPL        r7-3       submitted buy 10, filled 0; outcome unknown  no such order              never reached the venue: may be re-sent once under the same client id (looked up again before any other send)

        Differences
          #  difference               instrument  order         keel holds                            venue says                 resolution
          1  foreign fill             MSFT        venue X9      no such order                         fill H1: sell 10 @ 100     stop; with --adopt: applies sell 10 @ 100 to the run's position and cash
          2  foreign order            MSFT        other-1 / X1  no such order                         accepted buy 10, filled 0  stop; with --adopt: adopts it as an external order of the run (its fills count for the run)
          3  position differs         MSFT        -             position 15; 5 after the fills above  flat (no position)         stop; with --adopt: sets the position 5 -> 0 at Keel's own cost (no profit or loss booked)
          4  other instrument (info)  TSLA        -             not traded by this run                position 7 @ 200           ignored (another run's, or by hand)
        """ + "\n";

    private static ClientOrderId Id(int n) => ClientOrderId.Create(Prefix, n);

    private static KeelOrder Order(int n, OrderStatus status, decimal quantity = 10, decimal filled = 0, string? venueId = null,
        OrderSide side = OrderSide.Buy, InstrumentId? instrument = null, string[]? applied = null) =>
        new(Id(n), instrument ?? Aapl, side, Quantity.From(quantity), Quantity.From(filled), status,
            venueId is null ? null : new VenueOrderId(venueId), (applied ?? []).Select(a => new TradeId(a)).ToArray());

    private static VenueOrder VOrder(ClientOrderId? id, string venueId, OrderStatus status, decimal quantity = 10, decimal filled = 0,
        InstrumentId? instrument = null, OrderSide side = OrderSide.Buy) =>
        new(id, new VenueOrderId(venueId), instrument ?? Aapl, side, OrderType.Limit, Quantity.From(quantity), Quantity.From(filled),
            filled > 0 ? Price.From(100) : null, Price.From(100), null, TimeInForce.Gtc, status, Timestamp.FromUnixSeconds(1), Timestamp.FromUnixSeconds(2));

    private static VenueFill Fill(string execution, ClientOrderId? id, string venueId, decimal quantity, decimal price = 100,
        OrderSide side = OrderSide.Buy, InstrumentId? instrument = null, long time = 1) =>
        new(new TradeId(execution), id, new VenueOrderId(venueId), instrument ?? Aapl, side, Quantity.From(quantity), Price.From(price),
            Money.Zero, Timestamp.FromUnixSeconds(time));

    private static KeelBook Keel(IEnumerable<KeelOrder> orders, IEnumerable<KeelOrder>? completed = null,
        IEnumerable<(InstrumentId Instrument, decimal Quantity)>? positions = null) =>
        new(Prefix, [Aapl, Msft], orders.ToArray(), (completed ?? []).ToArray(),
            (positions ?? []).ToDictionary(p => p.Instrument, p => Quantity.From(p.Quantity)));

    private static VenueBook Venue(IEnumerable<VenueOrder>? open = null, IEnumerable<VenueFill>? fills = null,
        IEnumerable<(InstrumentId Instrument, decimal Quantity, decimal Price)>? positions = null,
        IEnumerable<(ClientOrderId Id, VenueOrder? Order)>? lookups = null) =>
        new((open ?? []).ToArray(), (fills ?? []).ToArray(), new VenueWatermark("w2"),
            (positions ?? []).Select(p => new VenuePosition(p.Instrument, Quantity.From(p.Quantity), Price.From(p.Price))).ToArray(),
            (lookups ?? []).ToDictionary(l => l.Id, l => l.Order));
}
