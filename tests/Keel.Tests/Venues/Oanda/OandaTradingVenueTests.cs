using Keel.Domain;
using Keel.Domain.Events;
using Keel.Domain.Orders;
using Keel.Engine.Ports;
using Keel.Venues.Oanda.Trading;
using static Keel.Tests.Venues.Oanda.OandaVenueHarness;

namespace Keel.Tests.Venues.Oanda;

/// <summary>The OANDA execution adapter against the sandbox's OANDA v20 trading side: orders, exits on fill, closes, queries agreeing with events.</summary>
public class OandaTradingVenueTests
{
    private static Price P(string text) => Price.Parse(text);

    [Fact]
    public async Task Market_FillsAtTheAsk_AcceptedThenFilled_QueriesAgree()
    {
        await using var h = await StartAsync();
        var id = NewId("mkt");
        var outcome = await h.Venue.SubmitAsync(Order(id, OrderSide.Buy, OrderType.Market, 1000));
        Assert.Equal(VenueOutcomeKind.Accepted, outcome.Kind);
        Assert.NotNull(outcome.RequestId);

        var events = await h.Sink.WaitForAsync(id, OrderEventKind.Filled);
        Assert.Equal([OrderEventKind.Accepted, OrderEventKind.Filled], h.Sink.For(id).Select(e => e.Kind));
        var fill = Assert.IsType<OrderFilled>(h.Sink.For(id)[1]);
        Assert.Equal(outcome.VenueOrderId, fill.VenueOrderId);
        Assert.Equal(P("1.10010"), fill.LastPx);
        Assert.Equal(Quantity.From(1000), fill.LastQty);
        Assert.Equal(OrderSide.Buy, fill.Side);

        var order = await h.Venue.GetOrderAsync(id);
        Assert.NotNull(order);
        Assert.Equal(OrderStatus.Filled, order.Status);
        Assert.Equal(P("1.10010"), order.AveragePrice);
        Assert.Equal(Quantity.From(1000), order.FilledQuantity);

        var fills = await h.Venue.GetFillsSinceAsync(null);
        var venueFill = Assert.Single(fills.Fills);
        Assert.Equal(fill.TradeId, venueFill.ExecutionId);
        Assert.Equal(id, venueFill.ClientOrderId);
        Assert.Equal(fill.LastPx, venueFill.Price);
        Assert.Empty((await h.Venue.GetFillsSinceAsync(fills.Next)).Fills);

        var position = Assert.Single(await h.Venue.GetPositionsAsync());
        Assert.Equal(Quantity.From(1000), position.Quantity);
        Assert.Equal(P("1.10010"), position.AveragePrice);
        var account = await h.Venue.GetAccountAsync();
        Assert.Equal("USD", account.Currency);
        Assert.Equal(Money.From(100_000), account.Cash);
        Assert.True(account.BuyingPower < account.Equity);
    }

    [Fact]
    public async Task Limit_PendsThenFillsAtItsPrice_WhenTheAskReachesIt()
    {
        await using var h = await StartAsync();
        var id = NewId("lim");
        var outcome = await h.Venue.SubmitAsync(Order(id, OrderSide.Buy, OrderType.Limit, 500, limit: "1.09900"));
        Assert.Equal(VenueOutcomeKind.Accepted, outcome.Kind);
        await h.Sink.WaitForAsync(id, OrderEventKind.Accepted);
        var open = Assert.Single(await h.Venue.GetOpenOrdersAsync());
        Assert.Equal(id, open.ClientOrderId);
        Assert.Equal(OrderType.Limit, open.Type);
        Assert.Equal(P("1.09900"), open.LimitPrice);
        Assert.Equal(OrderStatus.Accepted, open.Status);

        await h.Client.PricesAsync("1.09950", "1.09890");
        await h.Sink.WaitForAsync(id, OrderEventKind.Filled);
        Assert.Equal(P("1.09900"), h.Sink.For(id).OfType<OrderFilled>().Single().LastPx);
        Assert.Empty(await h.Venue.GetOpenOrdersAsync());
        Assert.Equal(OrderStatus.Filled, (await h.Venue.GetOrderByVenueIdAsync(outcome.VenueOrderId!.Value))!.Status);
    }

    [Fact]
    public async Task Stop_FillsWhenTheAskReachesTheStop()
    {
        await using var h = await StartAsync();
        var id = NewId("stp");
        Assert.True((await h.Venue.SubmitAsync(Order(id, OrderSide.Buy, OrderType.Stop, 200, stop: "1.10100"))).IsAccepted);
        await h.Sink.WaitForAsync(id, OrderEventKind.Accepted);
        await h.Client.PricesAsync("1.10050", "1.10090"); // asks 1.10060, then 1.10100
        await h.Sink.WaitForAsync(id, OrderEventKind.Filled);
        Assert.Equal(P("1.10100"), h.Sink.For(id).OfType<OrderFilled>().Single().LastPx);
    }

    [Fact]
    public async Task MarketIfTouched_SellAboveTheMarket_FillsWhenTheBidTouchesIt()
    {
        await using var h = await StartAsync();
        var id = NewId("mit");
        var outcome = await h.Venue.SubmitAsync(Order(id, OrderSide.Sell, OrderType.Limit, 300, limit: "1.10200"), new OandaOrderExtras(MarketIfTouched: true));
        Assert.True(outcome.IsAccepted, outcome.Reason);
        await h.Sink.WaitForAsync(id, OrderEventKind.Accepted);
        Assert.DoesNotContain(h.Sink.For(id), e => e.Kind == OrderEventKind.Filled);
        await h.Client.PricesAsync("1.10150", "1.10210"); // bids 1.10140, then 1.10200
        await h.Sink.WaitForAsync(id, OrderEventKind.Filled);
        var fill = h.Sink.For(id).OfType<OrderFilled>().Single();
        Assert.Equal(P("1.10200"), fill.LastPx);
        Assert.Equal(OrderSide.Sell, fill.Side);
    }

    [Fact]
    public async Task Cancel_IsAccepted_ThenTheEventSaysCanceled()
    {
        await using var h = await StartAsync();
        var id = NewId("cxl");
        await h.Venue.SubmitAsync(Order(id, OrderSide.Buy, OrderType.Limit, 100, limit: "1.09000"));
        var outcome = await h.Venue.CancelAsync(new CancelOrder(id, new InstrumentId("EUR_USD"), Timestamp.Epoch));
        Assert.Equal(VenueOutcomeKind.Accepted, outcome.Kind);
        await h.Sink.WaitForAsync(id, OrderEventKind.Canceled);
        Assert.Equal("CLIENT_REQUEST", h.Sink.For(id).OfType<OrderCanceled>().Single().Reason);
        Assert.Equal(OrderStatus.Canceled, (await h.Venue.GetOrderAsync(id))!.Status);
        Assert.Empty(await h.Venue.GetOpenOrdersAsync());

        var again = await h.Venue.CancelAsync(new CancelOrder(id, new InstrumentId("EUR_USD"), Timestamp.Epoch));
        Assert.Equal(VenueOutcomeKind.Rejected, again.Kind);
        Assert.Equal("ORDER_DOESNT_EXIST", again.VenueCode);
    }

    [Fact]
    public async Task Replace_GivesANewOrder_ReplacedOnTheOldId_AcceptedOnTheNew()
    {
        await using var h = await StartAsync();
        var id = NewId("rep");
        var first = await h.Venue.SubmitAsync(Order(id, OrderSide.Buy, OrderType.Limit, 100, limit: "1.09000"));
        var next = NewId("rep");
        var outcome = await h.Venue.ReplaceAsync(new ReplaceOrder(id, Order(next, OrderSide.Buy, OrderType.Limit, 150, limit: "1.09500"), Timestamp.Epoch));
        Assert.Equal(VenueOutcomeKind.Accepted, outcome.Kind);
        Assert.NotEqual(first.VenueOrderId, outcome.VenueOrderId);
        await h.Sink.WaitForAsync(next, OrderEventKind.Accepted);
        var replaced = h.Sink.For(id).OfType<OrderReplaced>().Single();
        Assert.Equal(next, replaced.ReplacedBy);
        Assert.DoesNotContain(h.Sink.For(id), e => e.Kind == OrderEventKind.Canceled);

        var old = await h.Venue.GetOrderAsync(id);
        Assert.Equal(OrderStatus.Replaced, old!.Status);
        Assert.Equal(outcome.VenueOrderId, old.ReplacedBy);
        var open = Assert.Single(await h.Venue.GetOpenOrdersAsync());
        Assert.Equal(next, open.ClientOrderId);
        Assert.Equal(Quantity.From(150), open.Quantity);
        Assert.Equal(P("1.09500"), open.LimitPrice);
    }

    [Fact]
    public async Task Reject_CarriesOandasReason_AndTheEventSaysRejected()
    {
        await using var h = await StartAsync();
        var id = NewId("rej");
        var outcome = await h.Venue.SubmitAsync(Order(id, OrderSide.Buy, OrderType.Limit, 100, limit: "1.099001"));
        Assert.Equal(VenueOutcomeKind.Rejected, outcome.Kind);
        Assert.Equal("PRICE_PRECISION_EXCEEDED", outcome.VenueCode);
        Assert.Contains("precision", outcome.Reason, StringComparison.Ordinal);
        await h.Sink.WaitForAsync(id, OrderEventKind.Rejected);
        Assert.Equal("PRICE_PRECISION_EXCEEDED", h.Sink.For(id).OfType<OrderRejected>().Single().Reason);
        Assert.Null(await h.Venue.GetOrderAsync(id));
    }

    [Fact]
    public async Task InsufficientMargin_IsInsufficientFunds_AndTheMarketOrderIsRejectedNotAcceptedThenCanceled()
    {
        await using var h = await StartAsync();
        var id = NewId("big");
        var outcome = await h.Venue.SubmitAsync(Order(id, OrderSide.Buy, OrderType.Market, 100_000_000));
        Assert.Equal(VenueOutcomeKind.InsufficientFunds, outcome.Kind);
        Assert.Equal("INSUFFICIENT_MARGIN", outcome.VenueCode);
        await h.Sink.WaitForAsync(id, OrderEventKind.Rejected);
        Assert.Equal([OrderEventKind.Rejected], h.Sink.For(id).Select(e => e.Kind));
        Assert.Empty(await h.Venue.GetPositionsAsync());
    }

    [Theory]
    [InlineData("1.10210", true)]  // bid 1.10200: the take-profit
    [InlineData("1.09810", false)] // bid 1.09800: the stop-loss
    public async Task Bracket_EntryWithTakeProfitAndStopLossOnFill_EachExit(string exitMid, bool takeProfit)
    {
        await using var h = await StartAsync();
        var entry = NewId("entry");
        var tp = NewId("tp");
        var sl = NewId("sl");
        var list = new SubmitOrderList(
        [
            Order(entry, OrderSide.Buy, OrderType.Market, 1000) with { Contingency = ContingencyType.Oto, LinkedIds = [tp, sl] },
            Order(tp, OrderSide.Sell, OrderType.Limit, 1000, limit: "1.10200", parent: entry) with { LinkedIds = [sl] },
            Order(sl, OrderSide.Sell, OrderType.Stop, 1000, stop: "1.09800", parent: entry) with { LinkedIds = [tp] },
        ], Timestamp.Epoch);
        var outcome = await h.Venue.SubmitListAsync(list);
        Assert.True(outcome.IsAccepted, outcome.Reason);
        await h.Sink.WaitAsync(e => e.Count(x => x.Kind == OrderEventKind.Accepted) == 3 && e.Any(x => x.Kind == OrderEventKind.Filled), "entry filled, both exits accepted");
        Assert.Equal(2, (await h.Venue.GetOpenOrdersAsync()).Count);
        Assert.All(await h.Venue.GetOpenOrdersAsync(), o => Assert.Equal(OrderSide.Sell, o.Side));

        await h.Client.PricesAsync(exitMid);
        var (hit, other) = takeProfit ? (tp, sl) : (sl, tp);
        await h.Sink.WaitForAsync(hit, OrderEventKind.Filled);
        await h.Sink.WaitForAsync(other, OrderEventKind.Canceled);
        Assert.Equal(P(takeProfit ? "1.10200" : "1.09800"), h.Sink.For(hit).OfType<OrderFilled>().Single().LastPx);
        Assert.Equal("LINKED_TRADE_CLOSED", h.Sink.For(other).OfType<OrderCanceled>().Single().Reason);
        Assert.Empty(await h.Venue.GetPositionsAsync());
        Assert.Empty(await h.Venue.GetOpenOrdersAsync());
    }

    [Fact]
    public async Task Bracket_ThatOandaCannotExpress_IsRejectedBeforeSending()
    {
        await using var h = await StartAsync(connect: false);
        var a = NewId("oco");
        var b = NewId("oco");
        var outcome = await h.Venue.SubmitListAsync(new SubmitOrderList(
            [Order(a, OrderSide.Buy, OrderType.Limit, 10, limit: "1.09000"), Order(b, OrderSide.Buy, OrderType.Stop, 10, stop: "1.11000")], Timestamp.Epoch));
        Assert.Equal(VenueOutcomeKind.Rejected, outcome.Kind);
        Assert.Equal("NOT_EXPRESSIBLE", outcome.VenueCode);
        Assert.Null(outcome.RequestId);
    }

    [Fact]
    public async Task TradesAndPositions_Close()
    {
        await using var h = await StartAsync();
        var a = NewId("t");
        await h.Venue.SubmitAsync(Order(a, OrderSide.Buy, OrderType.Market, 100));
        var trade = Assert.Single(await h.Venue.GetOpenTradesAsync());
        Assert.Equal(Quantity.From(100), trade.Units);
        Assert.True((await h.Venue.CloseTradeAsync(trade.Id)).IsAccepted);
        Assert.Empty(await h.Venue.GetOpenTradesAsync());
        Assert.Empty(await h.Venue.GetPositionsAsync());

        await h.Venue.SubmitAsync(Order(NewId("s"), OrderSide.Sell, OrderType.Market, 70));
        await h.Venue.SubmitAsync(Order(NewId("s"), OrderSide.Sell, OrderType.Market, 30));
        var shortPosition = Assert.Single(await h.Venue.GetPositionsAsync());
        Assert.Equal(Quantity.From(-100), shortPosition.Quantity);
        Assert.Equal(P("1.09990"), shortPosition.AveragePrice);
        Assert.True((await h.Venue.ClosePositionAsync(new InstrumentId("EUR_USD"))).IsAccepted);
        Assert.Empty(await h.Venue.GetPositionsAsync());
        Assert.Equal(VenueOutcomeKind.Rejected, (await h.Venue.ClosePositionAsync(new InstrumentId("EUR_USD"))).Kind);

        // The closing fills have no Keel client id: in the fill history, not among the order events.
        var fills = (await h.Venue.GetFillsSinceAsync(null)).Fills;
        Assert.Equal(5, fills.Count);
        Assert.Equal(2, fills.Count(f => f.ClientOrderId is null));
        var marker = NewId("marker");
        await h.Venue.SubmitAsync(Order(marker, OrderSide.Buy, OrderType.Market, 1));
        await h.Sink.WaitForAsync(marker, OrderEventKind.Filled);
        Assert.Equal(4, h.Sink.Events.Count(e => e.Kind == OrderEventKind.Filled));
        Assert.Equal(2, h.Venue.UntrackedFills);
    }

    [Fact]
    public async Task Changes_SinceATransaction_NameTheOrdersAndTrades()
    {
        await using var h = await StartAsync(connect: false);
        long before = await h.Venue.LastTransactionIdAsync();
        var outcome = await h.Venue.SubmitAsync(Order(NewId("chg"), OrderSide.Buy, OrderType.Market, 10));
        var changes = await h.Venue.GetChangesAsync(new VenueWatermark(before.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal([outcome.VenueOrderId!.Value.Value], changes.OrdersFilled);
        Assert.Single(changes.TradesOpened);
        Assert.Equal(2, changes.Transactions.Count);
        Assert.Equal(changes.Transactions[^1].Id.ToString(System.Globalization.CultureInfo.InvariantCulture), changes.Last.Value);
    }
}
