using Keel.Domain;
using Keel.Domain.Events;
using Keel.Domain.Orders;
using Keel.Engine.Ports;

namespace Keel.Tests.Venues.Contract;

/// <summary>
/// What every venue behind <see cref="IVenuePort"/> must do, whatever it is: the simulated exchange, Alpaca over the
/// sandbox, OANDA over the sandbox. Each test opens a fresh account, scripts prices, sends orders through the port and
/// checks three things agree: the outcomes, the events on the stream (in order, none twice) and the venue's own record
/// (order queries, fills since a watermark, positions).
/// </summary>
/// <remarks>
/// A venue is described by its instrument, a middle price, a price step (the distance the tests move the market), an
/// order size and the half spread its quotes have: bids are mid − half spread, asks mid + half spread. Buys fill at the
/// ask, sells at the bid. What a venue cannot do natively (a venue without OCO, say) it says through the capability
/// properties, and the tests that need it end early with the reason.
/// </remarks>
public abstract class VenueContract : IAsyncLifetime
{
    protected static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private long _ids;

    protected IVenuePort Venue { get; private set; } = null!;

    protected EventRecorder Events { get; } = new();

    /// <summary>The instrument the tests trade.</summary>
    protected abstract InstrumentId Instrument { get; }

    /// <summary>The price the market starts at.</summary>
    protected abstract decimal Mid { get; }

    /// <summary>How far the tests move the market for a limit or a stop to trigger (many ticks).</summary>
    protected abstract decimal Step { get; }

    /// <summary>The quantity of one order.</summary>
    protected abstract decimal Size { get; }

    /// <summary>Half the spread of the venue's quotes.</summary>
    protected abstract decimal HalfSpread { get; }

    /// <summary>A limit price this venue refuses for <see cref="Instrument"/> (finer than its price increment).</summary>
    protected abstract decimal UnacceptablePrice { get; }

    /// <summary>The venue fills an order in parts when the market shows less than it wants (see <see cref="SetPriceAsync"/>'s size).</summary>
    protected virtual bool PartialFills => true;

    /// <summary>The venue takes a stand-alone one-cancels-other pair of exits for a position.</summary>
    protected virtual bool Oco => true;

    /// <summary>A fresh venue with a fresh account (100,000 in its currency) trading <see cref="Instrument"/>.</summary>
    protected abstract Task<IVenuePort> StartVenueAsync();

    /// <summary>Moves the market to <paramref name="mid"/>; with <paramref name="size"/>, the quote shows only that much on each side.</summary>
    protected abstract Task SetPriceAsync(decimal mid, decimal? size = null);

    /// <summary>Stops what <see cref="StartVenueAsync"/> started.</summary>
    protected virtual Task StopVenueAsync() => Task.CompletedTask;

    public async Task InitializeAsync()
    {
        Venue = await StartVenueAsync();
        await SetPriceAsync(Mid);
        await Venue.ConnectAsync(Events);
    }

    public async Task DisposeAsync()
    {
        await Venue.DisposeAsync();
        await StopVenueAsync();
    }

    [Fact]
    public async Task AMarketOrder_FillsAtTheAsk_AndEveryRecordAgrees()
    {
        var buy = Order(OrderSide.Buy, OrderType.Market);
        var outcome = await Venue.SubmitAsync(buy);
        Assert.Equal(VenueOutcomeKind.Accepted, outcome.Kind);
        await QuoteAgainAsync();

        var fill = await Events.WaitForAsync<OrderFilled>(buy.ClientOrderId, Patience);
        Assert.Equal(Q(Size), fill.LastQty);
        Assert.Equal(P(Mid + HalfSpread), fill.LastPx);
        Assert.Equal(OrderSide.Buy, fill.Side);

        var order = await Venue.GetOrderAsync(buy.ClientOrderId);
        Assert.NotNull(order);
        Assert.Equal(OrderStatus.Filled, order.Status);
        Assert.Equal(Q(Size), order.FilledQuantity);
        Assert.Equal(P(Mid + HalfSpread), order.AveragePrice);
        Assert.Equal(buy.ClientOrderId, order.ClientOrderId);
        Assert.Equal(order, await Venue.GetOrderByVenueIdAsync(order.VenueOrderId));

        var fills = await Venue.GetFillsSinceAsync(null);
        var mine = Assert.Single(fills.Fills, f => f.VenueOrderId == order.VenueOrderId);
        Assert.Equal(fill.TradeId, mine.ExecutionId);
        Assert.Equal(fill.LastPx, mine.Price);
        Assert.Equal(Q(Size), mine.Quantity);

        var position = Assert.Single(await Venue.GetPositionsAsync(), p => p.Instrument == Instrument);
        Assert.Equal(Q(Size), position.Quantity);
        Assert.Empty(await Venue.GetOpenOrdersAsync());
        AssertWellFormedEvents();
    }

    [Fact]
    public async Task ALimitOrder_RestsUntilTheMarketReachesIt_ThenFillsAtItsPrice()
    {
        decimal limit = Mid - Step;
        var buy = Order(OrderSide.Buy, OrderType.Limit, limit: limit);
        Assert.Equal(VenueOutcomeKind.Accepted, (await Venue.SubmitAsync(buy)).Kind);
        await Events.WaitForAsync<OrderAccepted>(buy.ClientOrderId, Patience);

        var open = Assert.Single(await Venue.GetOpenOrdersAsync());
        Assert.Equal(buy.ClientOrderId, open.ClientOrderId);
        Assert.Equal(P(limit), open.LimitPrice);
        Assert.Empty(Events.For(buy.ClientOrderId).OfType<OrderFilled>());

        // The ask comes down to the limit exactly: it fills there.
        await SetPriceAsync(limit - HalfSpread);
        var fill = await Events.WaitForAsync<OrderFilled>(buy.ClientOrderId, Patience);
        Assert.Equal(P(limit), fill.LastPx);
        Assert.Equal(Q(Size), fill.LastQty);
        Assert.Empty(await Venue.GetOpenOrdersAsync());
        Assert.Equal(OrderStatus.Filled, (await Venue.GetOrderAsync(buy.ClientOrderId))!.Status);
        AssertWellFormedEvents();
    }

    [Fact]
    public async Task AStopOrder_TriggersWhenTheMarketCrossesIt_AndFillsAtTheMarket()
    {
        decimal stop = Mid + Step;
        var buy = Order(OrderSide.Buy, OrderType.Stop, stop: stop);
        Assert.Equal(VenueOutcomeKind.Accepted, (await Venue.SubmitAsync(buy)).Kind);
        await Events.WaitForAsync<OrderAccepted>(buy.ClientOrderId, Patience);

        await SetPriceAsync(Mid + (Step / 2));
        Assert.Empty(Events.For(buy.ClientOrderId).OfType<OrderFilled>());
        Assert.Single(await Venue.GetOpenOrdersAsync());

        await SetPriceAsync(stop + Step);
        var fill = await Events.WaitForAsync<OrderFilled>(buy.ClientOrderId, Patience);
        Assert.Equal(P(stop + Step + HalfSpread), fill.LastPx);
        AssertWellFormedEvents();
    }

    [Fact]
    public async Task AnOrderLargerThanTheMarketShows_FillsInParts_AndTheOrderAddsThemUp()
    {
        if (!PartialFills)
        {
            return;
        }

        decimal limit = Mid - Step;
        var buy = Order(OrderSide.Buy, OrderType.Limit, limit: limit);
        Assert.Equal(VenueOutcomeKind.Accepted, (await Venue.SubmitAsync(buy)).Kind);

        decimal part = Size * 0.3m;
        await SetPriceAsync(limit - HalfSpread, part);
        var first = await Events.WaitForAsync<OrderFilled>(buy.ClientOrderId, Patience);
        Assert.Equal(Q(part), first.LastQty);
        var partly = (await Venue.GetOrderAsync(buy.ClientOrderId))!;
        Assert.Equal(OrderStatus.PartiallyFilled, partly.Status);
        Assert.Equal(Q(part), partly.FilledQuantity);
        Assert.Single(await Venue.GetOpenOrdersAsync());

        await SetPriceAsync(limit - HalfSpread);
        await Events.WaitUntilAsync(() => Events.For(buy.ClientOrderId).OfType<OrderFilled>().Count() == 2, Patience);
        var fills = Events.For(buy.ClientOrderId).OfType<OrderFilled>().ToList();
        Assert.Equal(Q(Size - part), fills[1].LastQty);
        Assert.NotEqual(fills[0].TradeId, fills[1].TradeId);
        var done = (await Venue.GetOrderAsync(buy.ClientOrderId))!;
        Assert.Equal(OrderStatus.Filled, done.Status);
        Assert.Equal(Q(Size), done.FilledQuantity);
        Assert.Equal(2, (await Venue.GetFillsSinceAsync(null)).Fills.Count(f => f.VenueOrderId == done.VenueOrderId));
        AssertWellFormedEvents();
    }

    [Fact]
    public async Task ACancelledOrder_IsGoneFromTheBook_AndASecondCancelIsRefused()
    {
        var buy = Order(OrderSide.Buy, OrderType.Limit, limit: Mid - (5 * Step));
        Assert.Equal(VenueOutcomeKind.Accepted, (await Venue.SubmitAsync(buy)).Kind);
        await Events.WaitForAsync<OrderAccepted>(buy.ClientOrderId, Patience);

        var cancel = await Venue.CancelAsync(new CancelOrder(buy.ClientOrderId, Instrument, default));
        Assert.Equal(VenueOutcomeKind.Accepted, cancel.Kind);
        await Events.WaitForAsync<OrderCanceled>(buy.ClientOrderId, Patience);
        Assert.Empty(await Venue.GetOpenOrdersAsync());
        Assert.Equal(OrderStatus.Canceled, (await Venue.GetOrderAsync(buy.ClientOrderId))!.Status);

        var again = await Venue.CancelAsync(new CancelOrder(buy.ClientOrderId, Instrument, default));
        Assert.NotEqual(VenueOutcomeKind.Accepted, again.Kind);
        Assert.NotEqual(VenueOutcomeKind.Unknown, again.Kind);

        // The market passing the old limit fills nothing.
        await SetPriceAsync(Mid - (6 * Step));
        await SettleAsync();
        Assert.Empty(Events.For(buy.ClientOrderId).OfType<OrderFilled>());
        AssertWellFormedEvents();
    }

    [Fact]
    public async Task AReplacedOrder_WorksOnUnderItsNewTerms_AndTheOldOneIsReplaced()
    {
        var first = Order(OrderSide.Buy, OrderType.Limit, limit: Mid - (5 * Step));
        Assert.Equal(VenueOutcomeKind.Accepted, (await Venue.SubmitAsync(first)).Kind);
        await Events.WaitForAsync<OrderAccepted>(first.ClientOrderId, Patience);

        decimal newLimit = Mid - Step;
        var second = Order(OrderSide.Buy, OrderType.Limit, limit: newLimit, size: Size * 2);
        var outcome = await Venue.ReplaceAsync(new ReplaceOrder(first.ClientOrderId, second, default));
        Assert.Equal(VenueOutcomeKind.Accepted, outcome.Kind);
        await Events.WaitForAsync<OrderAccepted>(second.ClientOrderId, Patience);

        var open = Assert.Single(await Venue.GetOpenOrdersAsync());
        Assert.Equal(second.ClientOrderId, open.ClientOrderId);
        Assert.Equal(P(newLimit), open.LimitPrice);
        Assert.Equal(Q(Size * 2), open.Quantity);
        var old = (await Venue.GetOrderAsync(first.ClientOrderId))!;
        Assert.Equal(OrderStatus.Replaced, old.Status);
        Assert.Equal(open.VenueOrderId, old.ReplacedBy);

        await SetPriceAsync(newLimit - HalfSpread);
        var fill = await Events.WaitForAsync<OrderFilled>(second.ClientOrderId, Patience);
        Assert.Equal(Q(Size * 2), fill.LastQty);
        Assert.Empty(Events.For(first.ClientOrderId).OfType<OrderFilled>());
        AssertWellFormedEvents();
    }

    [Fact]
    public async Task AnOrderTheVenueRefuses_IsRejectedWithItsReason_AndNothingIsPlaced()
    {
        var bad = Order(OrderSide.Buy, OrderType.Limit, limit: UnacceptablePrice);
        var outcome = await Venue.SubmitAsync(bad);
        Assert.Equal(VenueOutcomeKind.Rejected, outcome.Kind);
        Assert.False(string.IsNullOrWhiteSpace(outcome.Reason));
        await SettleAsync();
        Assert.Empty(await Venue.GetOpenOrdersAsync());
        Assert.Empty(Events.For(bad.ClientOrderId).OfType<OrderFilled>());
        Assert.Empty(await Venue.GetPositionsAsync());
        AssertWellFormedEvents();
    }

    [Fact]
    public async Task AnOrderTheAccountCannotPayFor_IsInsufficientFunds_AndNothingIsHeld()
    {
        // Far more than 100,000 of cash can buy, whatever the venue's leverage.
        var huge = Order(OrderSide.Buy, OrderType.Market, size: Size * 1_000_000);
        var outcome = await Venue.SubmitAsync(huge);
        Assert.Equal(VenueOutcomeKind.InsufficientFunds, outcome.Kind);
        Assert.False(string.IsNullOrWhiteSpace(outcome.Reason));
        await SettleAsync();
        Assert.Empty(await Venue.GetPositionsAsync());
        Assert.Empty(Events.For(huge.ClientOrderId).OfType<OrderFilled>());
        AssertWellFormedEvents();
    }

    [Fact]
    public async Task ABracket_ExitsAtItsTakeProfit_AndCancelsItsStopLoss() =>
        await BracketAsync(takeProfit: true);

    [Fact]
    public async Task ABracket_ExitsAtItsStopLoss_AndCancelsItsTakeProfit() =>
        await BracketAsync(takeProfit: false);

    [Fact]
    public async Task AnOcoPair_FillsOneExit_AndCancelsTheOther()
    {
        if (!Oco)
        {
            return;
        }

        var entry = Order(OrderSide.Buy, OrderType.Market);
        Assert.Equal(VenueOutcomeKind.Accepted, (await Venue.SubmitAsync(entry)).Kind);
        await QuoteAgainAsync();
        await Events.WaitForAsync<OrderFilled>(entry.ClientOrderId, Patience);

        var (tpId, slId) = (NextId(), NextId());
        var tp = Order(OrderSide.Sell, OrderType.Limit, limit: Mid + (2 * Step), id: tpId) with { Contingency = ContingencyType.Oco, LinkedIds = [slId], TimeInForce = TimeInForce.Gtc };
        var sl = Order(OrderSide.Sell, OrderType.Stop, stop: Mid - (2 * Step), id: slId) with { Contingency = ContingencyType.Oco, LinkedIds = [tpId], TimeInForce = TimeInForce.Gtc };
        Assert.Equal(VenueOutcomeKind.Accepted, (await Venue.SubmitListAsync(new SubmitOrderList([tp, sl], default))).Kind);
        await Events.WaitForAsync<OrderAccepted>(tp.ClientOrderId, Patience);
        Assert.Equal(2, (await Venue.GetOpenOrdersAsync()).Count);

        await SetPriceAsync(Mid - (3 * Step));
        var stopped = await Events.WaitForAsync<OrderFilled>(sl.ClientOrderId, Patience);
        Assert.Equal(P(Mid - (3 * Step) - HalfSpread), stopped.LastPx);
        await Events.WaitForAsync<OrderCanceled>(tp.ClientOrderId, Patience);
        Assert.Empty(await Venue.GetOpenOrdersAsync());
        Assert.Empty(await Venue.GetPositionsAsync());
        AssertWellFormedEvents();
    }

    [Fact]
    public async Task TheFillsSinceAWatermark_AreExactlyTheNewOnes()
    {
        var a = Order(OrderSide.Buy, OrderType.Market);
        await Venue.SubmitAsync(a);
        await QuoteAgainAsync();
        await Events.WaitForAsync<OrderFilled>(a.ClientOrderId, Patience);
        var before = await Venue.GetFillsSinceAsync(null);
        Assert.NotNull(before.Next);

        var b = Order(OrderSide.Sell, OrderType.Market);
        await Venue.SubmitAsync(b);
        await QuoteAgainAsync();
        var fill = await Events.WaitForAsync<OrderFilled>(b.ClientOrderId, Patience);

        var after = await Venue.GetFillsSinceAsync(before.Next);
        var only = Assert.Single(after.Fills);
        Assert.Equal(fill.TradeId, only.ExecutionId);
        Assert.Equal(P(Mid - HalfSpread), only.Price);
        Assert.Equal(OrderSide.Sell, only.Side);
        Assert.Empty((await Venue.GetFillsSinceAsync(after.Next)).Fills);
        Assert.Empty(await Venue.GetPositionsAsync());

        var account = await Venue.GetAccountAsync();
        Assert.False(string.IsNullOrEmpty(account.Currency));
        Assert.True(account.Equity.IsPositive, $"equity {account.Equity}");
        AssertWellFormedEvents();
    }

    /// <summary>
    /// The market quotes again where it is. A venue matches a market order against the current quote; a sandbox may
    /// wait for its next price to do so, so the tests give it one after every market order.
    /// </summary>
    protected Task QuoteAgainAsync() => SetPriceAsync(Mid);

    /// <summary>Gives a venue with asynchronous streams time to deliver anything still in flight (a round trip through a query).</summary>
    protected virtual async Task SettleAsync() => await Venue.GetOpenOrdersAsync();

    protected SubmitOrder Order(OrderSide side, OrderType type, decimal? limit = null, decimal? stop = null, decimal? size = null, ClientOrderId? id = null) =>
        new(id ?? NextId(), Instrument, side, type, Q(size ?? Size), limit is { } l ? P(l) : null, stop is { } s ? P(s) : null,
            TimeInForce.Gtc, ContingencyType.None, null, [], default);

    protected ClientOrderId NextId() => ClientOrderId.Create("kc-", Interlocked.Increment(ref _ids));

    protected static Price P(decimal value) => Price.From(value);

    protected static Quantity Q(decimal value) => Quantity.From(value);

    /// <summary>Every order's events make a lifecycle: accepted before anything else, nothing after the end, no fill twice.</summary>
    protected void AssertWellFormedEvents()
    {
        var all = Events.All;
        var tradeIds = all.OfType<OrderFilled>().Select(f => f.TradeId).ToList();
        Assert.Equal(tradeIds.Count, tradeIds.Distinct().Count());
        foreach (var group in all.GroupBy(e => e.ClientOrderId))
        {
            // A refused cancel changes nothing, so a venue may report one at any time (OANDA streams ORDER_CANCEL_REJECT).
            var kinds = group.Select(e => e.Kind).Where(k => k != OrderEventKind.CancelRejected).ToList();
            int accepted = kinds.IndexOf(OrderEventKind.Accepted);
            int firstFill = kinds.IndexOf(OrderEventKind.Filled);
            if (firstFill >= 0)
            {
                Assert.True(accepted >= 0 && accepted < firstFill, $"{group.Key}: a fill came before the order was accepted ({string.Join(", ", kinds)})");
            }

            Assert.True(kinds.Count(k => k == OrderEventKind.Accepted) <= 1, $"{group.Key}: accepted twice ({string.Join(", ", kinds)})");
            int end = kinds.FindIndex(k => k is OrderEventKind.Canceled or OrderEventKind.Rejected or OrderEventKind.Expired or OrderEventKind.Replaced);
            if (end >= 0)
            {
                Assert.True(end == kinds.Count - 1, $"{group.Key}: events after it ended ({string.Join(", ", kinds)})");
            }
        }
    }

    private async Task BracketAsync(bool takeProfit)
    {
        var (entryId, tpId, slId) = (NextId(), NextId(), NextId());
        var entry = Order(OrderSide.Buy, OrderType.Market, id: entryId) with { Contingency = ContingencyType.Oto, LinkedIds = [tpId, slId] };
        var tp = Order(OrderSide.Sell, OrderType.Limit, limit: Mid + (2 * Step), id: tpId) with { Contingency = ContingencyType.Oco, ParentId = entryId, LinkedIds = [slId], TimeInForce = TimeInForce.Gtc };
        var sl = Order(OrderSide.Sell, OrderType.Stop, stop: Mid - (2 * Step), id: slId) with { Contingency = ContingencyType.Oco, ParentId = entryId, LinkedIds = [tpId], TimeInForce = TimeInForce.Gtc };
        var outcome = await Venue.SubmitListAsync(new SubmitOrderList([entry, tp, sl], default));
        Assert.Equal(VenueOutcomeKind.Accepted, outcome.Kind);
        await QuoteAgainAsync();

        var filled = await Events.WaitForAsync<OrderFilled>(entryId, Patience);
        Assert.Equal(P(Mid + HalfSpread), filled.LastPx);
        Assert.Equal(Q(Size), Assert.Single(await Venue.GetPositionsAsync()).Quantity);

        decimal exitMid = takeProfit ? Mid + (3 * Step) : Mid - (3 * Step);
        await SetPriceAsync(exitMid);
        var (hit, other) = takeProfit ? (tpId, slId) : (slId, tpId);
        var exit = await Events.WaitForAsync<OrderFilled>(hit, Patience);
        Assert.Equal(OrderSide.Sell, exit.Side);
        Assert.Equal(Q(Size), exit.LastQty);
        Assert.Equal(P(exitMid - HalfSpread), exit.LastPx); // the market went through the exit: it fills at the bid
        await Events.WaitForAsync<OrderCanceled>(other, Patience);
        Assert.Empty(Events.For(other).OfType<OrderFilled>());
        Assert.Empty(await Venue.GetPositionsAsync());
        Assert.Empty(await Venue.GetOpenOrdersAsync());
        Assert.Equal(OrderStatus.Filled, (await Venue.GetOrderAsync(hit))!.Status);
        AssertWellFormedEvents();
    }
}
