using Keel.Domain;
using Keel.Domain.Orders;
using Keel.Engine.Kernel;
using Keel.Engine.Simulation;
using Keel.Engine.Strategies;
using Keel.Tests.Support;
using static Keel.Tests.Support.Harness;

namespace Keel.Tests.Engine;

public class SimulatedExchangeTests
{
    private static readonly Quantity Ten = Quantity.From(10);

    private static Action<int, Bar, IMarketView, IIntents> OnBar(int index, Action<Bar, IMarketView, IIntents> act) =>
        (i, bar, market, intents) =>
        {
            if (i == index)
            {
                act(bar, market, intents);
            }
        };

    [Fact]
    public void Market_FillsAtNextBarOpen_WithPercentCommission()
    {
        var h = new Harness(OnBar(0, (b, m, t) => t.Submit(OrderRequest.Market(b.Instrument, OrderSide.Buy, Ten))),
            new SimulatedExchangeOptions { Commission = new PercentCommission(0.001m) });
        h.Run(Bar(2, "100", "101", "99", "100.5"), Bar(3, "101", "102", "100", "101.5"));

        var fill = Assert.Single(h.Fills);
        Assert.Equal(Price.Parse("101"), fill.LastPx);
        Assert.Equal(Timestamp.FromParts(2024, 1, 3), fill.TsEvent);
        Assert.Equal(Money.Parse("1.01"), fill.Commission);
        Assert.Equal(Money.Parse("98988.99"), h.Portfolio.Cash);
        Assert.Equal(Money.Parse("100003.99"), h.Equity[^1].Equity);
        Assert.Equal(Money.Parse("100000"), h.Equity[0].Equity);
        Assert.Equal(OrderStatus.Filled, h.Status("O-1"));
    }

    [Fact]
    public void Market_FillAtSignalClose_FillsOnSameBar()
    {
        var h = new Harness(OnBar(0, (b, m, t) => t.Submit(OrderRequest.Market(b.Instrument, OrderSide.Buy, Ten))),
            new SimulatedExchangeOptions { MarketFill = MarketFillTiming.SignalBarClose });
        h.Run(Bar(2, "100", "101", "99", "100.5"), Bar(3, "101", "102", "100", "101.5"));
        Assert.Equal(Price.Parse("100.5"), Assert.Single(h.Fills).LastPx);
        Assert.Equal(Timestamp.FromParts(2024, 1, 2), h.Fills[0].TsEvent);
    }

    [Fact]
    public void BuyLimit_FillsAtLimitWhenTouchedOnPath_NotBefore()
    {
        var h = new Harness(OnBar(0, (b, m, t) => t.Submit(OrderRequest.Limit(b.Instrument, OrderSide.Buy, Ten, Price.Parse("99.5")))));
        h.Run(Bar(2, "100", "101", "99.8", "100"), Bar(3, "101", "102", "100", "101.5"), Bar(4, "100.5", "101", "99", "99.8"));
        var fill = Assert.Single(h.Fills);
        Assert.Equal(Price.Parse("99.5"), fill.LastPx);
        Assert.Equal(Timestamp.FromParts(2024, 1, 4), fill.TsEvent);
    }

    [Fact]
    public void BuyLimit_GapBelowLimit_FillsAtOpen()
    {
        var h = new Harness(OnBar(0, (b, m, t) => t.Submit(OrderRequest.Limit(b.Instrument, OrderSide.Buy, Ten, Price.Parse("99.5")))));
        h.Run(Bar(2, "100", "101", "99.8", "100"), Bar(3, "98", "98.5", "97", "98.2"));
        Assert.Equal(Price.Parse("98"), Assert.Single(h.Fills).LastPx);
    }

    [Fact]
    public void SellStop_TouchedIntrabar_FillsAtStop_GapFillsAtOpen()
    {
        var h = new Harness((i, b, m, t) =>
        {
            if (i == 0)
            {
                t.Submit(OrderRequest.Market(b.Instrument, OrderSide.Buy, Quantity.From(20)));
            }
            else if (i == 1)
            {
                t.Submit(OrderRequest.Stop(b.Instrument, OrderSide.Sell, Ten, Price.Parse("95")));
                t.Submit(OrderRequest.Stop(b.Instrument, OrderSide.Sell, Ten, Price.Parse("94")));
            }
        });
        h.Run(Bar(2, "100", "100", "100", "100"), Bar(3, "100", "100", "100", "100"), Bar(4, "96", "97", "94.5", "94.8"), Bar(5, "93", "93.5", "92", "92.5"));
        Assert.Equal(3, h.Fills.Count);
        Assert.Equal(Price.Parse("95"), h.Fills[1].LastPx);
        Assert.Equal(Timestamp.FromParts(2024, 1, 4), h.Fills[1].TsEvent);
        Assert.Equal(Price.Parse("93"), h.Fills[2].LastPx);
        Assert.Equal(Timestamp.FromParts(2024, 1, 5), h.Fills[2].TsEvent);
    }

    [Fact]
    public void BuyStop_WithSlippage_RoundsAgainstTraderAndStaysInsideBar()
    {
        var h = new Harness((i, b, m, t) =>
        {
            if (i == 0)
            {
                t.Submit(OrderRequest.Stop(b.Instrument, OrderSide.Buy, Ten, Price.Parse("105")));
            }
        }, new SimulatedExchangeOptions { Slippage = new PercentSlippage(0.001m) });
        h.Run(Bar(2, "100", "100", "100", "100"), Bar(3, "104", "106", "103.5", "105.5"));
        Assert.Equal(Price.Parse("105.11"), Assert.Single(h.Fills).LastPx);

        var clamped = new Harness(OnBar(0, (b, m, t) => t.Submit(OrderRequest.Stop(b.Instrument, OrderSide.Buy, Ten, Price.Parse("105")))),
            new SimulatedExchangeOptions { Slippage = new PercentSlippage(0.01m) });
        clamped.Run(Bar(2, "100", "100", "100", "100"), Bar(3, "104", "106", "103.5", "105.5"));
        Assert.Equal(Price.Parse("106"), Assert.Single(clamped.Fills).LastPx);
    }

    [Fact]
    public void StopLimit_StaysTriggeredAfterStopIsReached()
    {
        var h = new Harness(OnBar(0, (b, m, t) => t.Submit(OrderRequest.StopLimit(b.Instrument, OrderSide.Buy, Ten, Price.Parse("105"), Price.Parse("104.5")))));
        h.Run(
            Bar(2, "100", "100", "100", "100"),
            Bar(3, "104", "106", "103.8", "105.8"),
            Bar(4, "104.8", "104.9", "104", "104.2"));
        var fill = Assert.Single(h.Fills);
        Assert.Equal(Price.Parse("104.5"), fill.LastPx);
        Assert.Equal(Timestamp.FromParts(2024, 1, 4), fill.TsEvent);
    }

    [Fact]
    public void StopLimit_TriggeredAndFillableOnSameBar_FillsAtTriggerPoint()
    {
        var h = new Harness(OnBar(0, (b, m, t) => t.Submit(OrderRequest.StopLimit(b.Instrument, OrderSide.Buy, Ten, Price.Parse("105"), Price.Parse("105.2")))));
        h.Run(Bar(2, "100", "100", "100", "100"), Bar(3, "104", "106", "103.8", "105.8"));
        Assert.Equal(Price.Parse("105"), Assert.Single(h.Fills).LastPx);
    }

    [Theory]
    [InlineData("100", "103.5", "97.5", "101", "stop_loss", "98")]   // low is nearer the open: the path reaches the stop first
    [InlineData("100", "103.5", "98.5", "101", "take_profit", "103")] // the stop is never reached
    [InlineData("100", "103", "96.5", "101", "take_profit", "103")]   // high is nearer: the path reaches the target first
    public void Bracket_BothExitsInsideOneBar_PathDecides(string o, string hi, string lo, string c, string winner, string price)
    {
        var h = new Harness(OnBar(0, (b, m, t) => t.SubmitBracket(OrderRequest.Market(b.Instrument, OrderSide.Buy, Ten), Price.Parse("98"), Price.Parse("103"))));
        h.Run(Bar(2, "100", "100", "100", "100"), Bar(3, o, hi, lo, c));

        Assert.Equal(2, h.Fills.Count);
        Assert.Equal(Price.Parse("100"), h.Fills[0].LastPx);
        Assert.Equal(Price.Parse(price), h.Fills[1].LastPx);
        var exit = h.Order(h.Fills[1].ClientOrderId.Value);
        Assert.Equal(winner, exit.Tag);
        var other = exit.Id.Value == "O-2" ? "O-3" : "O-2";
        Assert.Equal(OrderStatus.Canceled, h.Status(other));
        Assert.Contains("OCO", h.Order(other).Reason);
        Assert.True(h.Portfolio.GetPosition(h.Id)!.IsFlat);
    }

    [Fact]
    public void Bracket_ExitsWaitForEntry_AndCancelWhenEntryIsCancelled()
    {
        BracketOrderIds ids = default;
        var h = new Harness((i, b, m, t) =>
        {
            if (i == 0)
            {
                ids = t.SubmitBracket(OrderRequest.Limit(b.Instrument, OrderSide.Buy, Ten, Price.Parse("90")), Price.Parse("85"), Price.Parse("95"));
            }
            else if (i == 2)
            {
                t.Cancel(ids.Entry);
            }
        });
        h.Run(Bar(2, "100", "100", "100", "100"), Bar(3, "100", "101", "84", "100"), Bar(4, "100", "101", "99", "100"), Bar(5, "100", "101", "80", "100"));

        // Bar 3 drops through both the entry (90) and the stop (85): the entry fills at 90, the stop at 85 later on the path.
        Assert.Equal(2, h.Fills.Count);
        Assert.Equal(Price.Parse("90"), h.Fills[0].LastPx);
        Assert.Equal(Price.Parse("85"), h.Fills[1].LastPx);
        Assert.Equal(OrderStatus.Canceled, h.Status(ids.TakeProfit.Value));
    }

    [Fact]
    public void Bracket_EntryCancelledBeforeFill_CancelsExits()
    {
        BracketOrderIds ids = default;
        var h = new Harness((i, b, m, t) =>
        {
            if (i == 0)
            {
                ids = t.SubmitBracket(OrderRequest.Limit(b.Instrument, OrderSide.Buy, Ten, Price.Parse("90")), Price.Parse("85"), Price.Parse("95"));
            }
            else if (i == 1)
            {
                t.Cancel(ids.Entry);
            }
        });
        h.Run(Bar(2, "100", "100", "100", "100"), Bar(3, "100", "101", "99", "100"), Bar(4, "80", "81", "70", "75"));
        Assert.Empty(h.Fills);
        Assert.Equal(OrderStatus.Canceled, h.Status(ids.Entry.Value));
        Assert.Equal(OrderStatus.Canceled, h.Status(ids.StopLoss.Value));
        Assert.Equal(OrderStatus.Canceled, h.Status(ids.TakeProfit.Value));
    }

    [Fact]
    public void Bracket_StopAboveTarget_IsDeniedWithReason()
    {
        var h = new Harness(OnBar(0, (b, m, t) => t.SubmitBracket(OrderRequest.Market(b.Instrument, OrderSide.Buy, Ten), Price.Parse("104"), Price.Parse("103"))));
        h.Run(Bar(2, "100", "100", "100", "100"), Bar(3, "100", "100", "100", "100"));
        Assert.Equal(OrderStatus.Denied, h.Status("O-1"));
        Assert.Contains("below take-profit", h.Order("O-1").Reason);
        Assert.Equal(OrderStatus.Denied, h.Status("O-2"));
    }

    [Fact]
    public void Oco_FirstFillCancelsSibling()
    {
        var h = new Harness((i, b, m, t) =>
        {
            if (i == 0)
            {
                t.Submit(OrderRequest.Market(b.Instrument, OrderSide.Buy, Ten));
            }
            else if (i == 1)
            {
                t.SubmitOco(
                    OrderRequest.Limit(b.Instrument, OrderSide.Sell, Ten, Price.Parse("105")),
                    OrderRequest.Stop(b.Instrument, OrderSide.Sell, Ten, Price.Parse("95")));
            }
        });
        h.Run(Bar(2, "100", "100", "100", "100"), Bar(3, "100", "100", "100", "100"), Bar(4, "100", "106", "99", "104"));
        Assert.Equal(Price.Parse("105"), h.Fills[^1].LastPx);
        Assert.Equal(OrderStatus.Filled, h.Status("O-2"));
        Assert.Equal(OrderStatus.Canceled, h.Status("O-3"));
    }

    [Fact]
    public void VolumeParticipation_SplitsFillsAcrossBars()
    {
        var h = new Harness(OnBar(0, (b, m, t) => t.Submit(OrderRequest.Market(b.Instrument, OrderSide.Buy, Quantity.From(250)))),
            new SimulatedExchangeOptions { VolumeParticipation = 0.1m });
        h.Run(Bar(2, "100", "100", "100", "100"), Bar(3, "101", "101", "101", "101"), Bar(4, "102", "102", "102", "102"), Bar(5, "103", "103", "103", "103"));
        Assert.Equal(new[] { "100", "100", "50" }, h.Fills.Select(f => f.LastQty.ToString()));
        Assert.Equal(new[] { "101", "102", "103" }, h.Fills.Select(f => f.LastPx.ToString()));
        Assert.Equal(OrderStatus.Filled, h.Status("O-1"));
        Assert.Equal(Price.Parse("101.8"), h.Order("O-1").AverageFillPrice);
        Assert.Contains(h.Updates, u => u.Order.Id.Value == "O-1" && u.Event is Keel.Domain.Events.OrderFilled && u.Order.Status == OrderStatus.Filled);
    }

    [Fact]
    public void DayOrder_GoodForFirstTradableDay_ThenExpires()
    {
        var h = new Harness(OnBar(0, (b, m, t) => t.Submit(OrderRequest.Limit(b.Instrument, OrderSide.Buy, Ten, Price.Parse("90"), TimeInForce.Day))));
        h.Run(Bar(2, "100", "100", "100", "100"), Bar(3, "100", "101", "95", "100"), Bar(4, "89", "90", "88", "89"));
        Assert.Empty(h.Fills);
        Assert.Equal(OrderStatus.Expired, h.Status("O-1"));
        Assert.Equal(Timestamp.FromParts(2024, 1, 4), h.Order("O-1").LastEventAt);

        var sameDay = new Harness(OnBar(0, (b, m, t) => t.Submit(OrderRequest.Limit(b.Instrument, OrderSide.Buy, Ten, Price.Parse("90"), TimeInForce.Day))));
        sameDay.Run(Bar(2, "100", "100", "100", "100"), Bar(3, "95", "96", "89", "90"));
        Assert.Equal(Price.Parse("90"), Assert.Single(sameDay.Fills).LastPx);
    }

    [Fact]
    public void Ioc_UnfilledRemainderIsCancelled_FokNeverFillsPartially()
    {
        var ioc = new Harness(OnBar(0, (b, m, t) => t.Submit(OrderRequest.Limit(b.Instrument, OrderSide.Buy, Ten, Price.Parse("90"), TimeInForce.Ioc))));
        ioc.Run(Bar(2, "100", "100", "100", "100"), Bar(3, "100", "101", "95", "100"), Bar(4, "80", "81", "79", "80"));
        Assert.Empty(ioc.Fills);
        Assert.Equal(OrderStatus.Canceled, ioc.Status("O-1"));

        var fok = new Harness(OnBar(0, (b, m, t) => t.Submit(new OrderRequest(b.Instrument, OrderSide.Buy, OrderType.Market, Quantity.From(250), TimeInForce: TimeInForce.Fok))),
            new SimulatedExchangeOptions { VolumeParticipation = 0.1m });
        fok.Run(Bar(2, "100", "100", "100", "100"), Bar(3, "101", "101", "101", "101"));
        Assert.Empty(fok.Fills);
        Assert.Equal(OrderStatus.Canceled, fok.Status("O-1"));
        Assert.Contains("fill-or-kill", fok.Order("O-1").Reason);
    }

    [Fact]
    public void InsufficientBuyingPower_RejectsWithAmounts()
    {
        var h = new Harness(OnBar(0, (b, m, t) => t.Submit(OrderRequest.Market(b.Instrument, OrderSide.Buy, Ten))), cash: 1_000m);
        h.Run(Bar(2, "100", "100", "100", "100"), Bar(3, "101", "102", "100", "101"));
        Assert.Empty(h.Fills);
        Assert.Equal(OrderStatus.Rejected, h.Status("O-1"));
        Assert.Equal("insufficient buying power: the fill needs 1010.00, the account has 1000.00", h.Order("O-1").Reason);
        Assert.Contains(h.Notices, n => n.Code == "order_rejected");
        Assert.Equal(Money.From(1_000), h.Portfolio.Cash);
    }

    [Fact]
    public void Cancel_WorkingOrder_ThenCancelAgainIsIgnored()
    {
        var h = new Harness((i, b, m, t) =>
        {
            if (i == 0)
            {
                t.Submit(OrderRequest.Limit(b.Instrument, OrderSide.Buy, Ten, Price.Parse("90")));
            }
            else if (i is 1 or 2)
            {
                t.Cancel(new ClientOrderId("O-1"));
            }
        });
        h.Run(Bar(2, "100", "100", "100", "100"), Bar(3, "100", "101", "95", "100"), Bar(4, "89", "90", "88", "89"));
        Assert.Empty(h.Fills);
        Assert.Equal(OrderStatus.Canceled, h.Status("O-1"));
        Assert.Contains(h.Notices, n => n.Code == "cancel_ignored" && n.Level == NoticeLevel.Warning);
    }

    [Fact]
    public void Replace_MovesLimit_OldIsReplacedNewFills()
    {
        var h = new Harness((i, b, m, t) =>
        {
            if (i == 0)
            {
                t.Submit(OrderRequest.Limit(b.Instrument, OrderSide.Buy, Ten, Price.Parse("95")));
            }
            else if (i == 1)
            {
                Assert.Equal("O-2", t.Replace(new ClientOrderId("O-1"), limitPrice: Price.Parse("99.5")).Value);
            }
        });
        h.Run(Bar(2, "100", "100", "100", "100"), Bar(3, "100", "101", "99.8", "100"), Bar(4, "100", "100.5", "99", "99.6"));
        Assert.Equal(OrderStatus.Replaced, h.Status("O-1"));
        Assert.Equal(OrderStatus.Filled, h.Status("O-2"));
        Assert.Equal(Price.Parse("99.5"), Assert.Single(h.Fills).LastPx);
    }

    [Fact]
    public void PerShareCommission_WithMinimum_AndPerOrderFee()
    {
        var model = new CompositeCommission([new PerShareCommission(Money.Parse("0.005"), Money.Parse("1")), new PerOrderCommission(Money.Parse("0.5"))]);
        var h = new Harness(OnBar(0, (b, m, t) => t.Submit(OrderRequest.Market(b.Instrument, OrderSide.Buy, Quantity.From(100)))),
            new SimulatedExchangeOptions { Commission = model, VolumeParticipation = 0.5m });
        h.Run(Bar(2, "10", "10", "10", "10", 100), Bar(3, "10", "10", "10", "10", 100), Bar(4, "10", "10", "10", "10", 120));
        Assert.Equal(new[] { Money.Parse("1.5"), Money.Parse("1") }, h.Fills.Select(f => f.Commission));
    }

    [Fact]
    public void OffTickLimitPrice_IsRejectedByVenue()
    {
        var h = new Harness(OnBar(0, (b, m, t) => t.Submit(OrderRequest.Limit(b.Instrument, OrderSide.Buy, Ten, Price.Parse("99.995")))));
        h.Run(Bar(2, "100", "100", "100", "100"), Bar(3, "100", "100", "100", "100"));
        Assert.Equal(OrderStatus.Rejected, h.Status("O-1"));
        Assert.Contains("tick size 0.01", h.Order("O-1").Reason);
    }

    [Fact]
    public void QuoteTicks_BuyAtAsk_SellAtBid()
    {
        var inst = Instrument.ForexPair("EUR_USD");
        var t0 = Timestamp.Parse("2024-01-02T10:00:00Z");
        var tickStrategy = new TickOrders(inst.Id);
        var portfolio = new Keel.Domain.Portfolio.Portfolio(Money.From(100_000));
        var exchange = new SimulatedExchange(new SimulatedExchangeOptions(), [inst], portfolio);
        var kernel = new TradingKernel(new Keel.Engine.Clock.SimulatedClock(), exchange, new StrategyHost<TickOrders.State>("ticks", tickStrategy), portfolio, [inst], new EventBus(), null, [exchange]);
        exchange.Connect(kernel);
        kernel.Start();
        kernel.OnTick(Tick.Quote(inst.Id, t0, Price.Parse("1.10000"), Price.Parse("1.10010")));
        kernel.OnTick(Tick.Quote(inst.Id, t0.AddNanos(1_000_000_000), Price.Parse("1.10020"), Price.Parse("1.10030")));
        kernel.OnTick(Tick.Quote(inst.Id, t0.AddNanos(2_000_000_000), Price.Parse("1.10040"), Price.Parse("1.10050")));
        kernel.Stop();
        Assert.Equal(Price.Parse("1.1003"), kernel.GetOrder(new ClientOrderId("O-1"))!.AverageFillPrice);
        Assert.Equal(Price.Parse("1.1004"), kernel.GetOrder(new ClientOrderId("O-2"))!.AverageFillPrice);
        Assert.Equal(Money.Parse("1"), portfolio.GetPosition(inst.Id)!.RealizedPnl);
    }

    [Fact]
    public void QuoteTicks_FillAtSignalClose_FillAtTheQuoteTheOrderWasPlacedOn()
    {
        // --fill-at close on quotes: a market order fills at the quote the strategy saw when it placed it (the ask for a
        // buy, the bid for a sell), as a venue answering at once fills it; the strategy hears the fill in the same event.
        var inst = Instrument.ForexPair("EUR_USD");
        var t0 = Timestamp.Parse("2024-01-02T10:00:00Z");
        var portfolio = new Keel.Domain.Portfolio.Portfolio(Money.From(100_000));
        var exchange = new SimulatedExchange(new SimulatedExchangeOptions { MarketFill = MarketFillTiming.SignalBarClose }, [inst], portfolio);
        var kernel = new TradingKernel(new Keel.Engine.Clock.SimulatedClock(), exchange, new StrategyHost<TickOrders.State>("ticks", new TickOrders(inst.Id)), portfolio, [inst], new EventBus(), null, [exchange]);
        exchange.Connect(kernel);
        kernel.Start();
        kernel.OnTick(Tick.Quote(inst.Id, t0, Price.Parse("1.10000"), Price.Parse("1.10010")));
        Assert.Equal(OrderStatus.Filled, kernel.GetOrder(new ClientOrderId("O-1"))!.Status);
        kernel.OnTick(Tick.Quote(inst.Id, t0.AddNanos(1_000_000_000), Price.Parse("1.10020"), Price.Parse("1.10030")));
        kernel.Stop();
        Assert.Equal(Price.Parse("1.1001"), kernel.GetOrder(new ClientOrderId("O-1"))!.AverageFillPrice);
        Assert.Equal(Price.Parse("1.1002"), kernel.GetOrder(new ClientOrderId("O-2"))!.AverageFillPrice);
        Assert.Equal(Money.Parse("1"), portfolio.GetPosition(inst.Id)!.RealizedPnl);
    }

    [Fact]
    public void QuotesACandleStrategyDoesNotTradeOn_DriveFillsForTheInstrument_BarsNoLongerMatch_AndTheStrategyDoesNotSeeThem()
    {
        // Live paper: the strategy trades on candles (StrategyTicks = none); quotes are ordinary ticks that only the
        // exchange matches on. A buy limit at 1.0999 placed on
        // the first bar is not filled by the second bar's low of 1.0990 (the quotes drive fills now), only by the
        // first quote whose ask reaches it, at that ask.
        var inst = Instrument.ForexPair("EUR_USD");
        var t0 = Timestamp.Parse("2024-01-02T10:00:00Z");
        var strategy = new BarLimit(inst.Id, Price.Parse("1.0999"));
        var portfolio = new Keel.Domain.Portfolio.Portfolio(Money.From(100_000));
        var exchange = new SimulatedExchange(new SimulatedExchangeOptions(), [inst], portfolio);
        var slices = new List<Timestamp>();
        var bus = new EventBus();
        bus.Subscribe<SliceClosed>(new SliceRecorder(slices), "slices");
        var kernel = new TradingKernel(new Keel.Engine.Clock.SimulatedClock(), exchange, new StrategyHost<BarLimit.State>("bar-limit", strategy), portfolio, [inst], bus, new KernelOptions { StrategyTicks = MarketDataKinds.Bars }, [exchange]);
        exchange.Connect(kernel);
        kernel.Start();
        Bar BarAt(int minute, string low) => new(inst.Id, t0.AddNanos(minute * Timestamp.NanosPerMinute), Price.Parse("1.1000"), Price.Parse("1.1005"), Price.Parse(low), Price.Parse("1.1002"), Quantity.From(100));
        Tick QuoteAt(int seconds, string bid, string ask) => Tick.Quote(inst.Id, t0.AddNanos(seconds * 1_000_000_000L), Price.Parse(bid), Price.Parse(ask));

        kernel.OnBar(BarAt(0, "1.0998"));
        kernel.OnTick(QuoteAt(61, "1.1000", "1.1001"));
        kernel.OnBar(BarAt(1, "1.0990"));
        var order = kernel.GetOrder(new ClientOrderId("O-1"))!;
        Assert.Equal(OrderStatus.Accepted, order.Status);

        kernel.OnTick(QuoteAt(125, "1.0996", "1.0997"));
        kernel.Stop();
        Assert.Equal(OrderStatus.Filled, order.Status);
        Assert.Equal(Price.Parse("1.0997"), order.AverageFillPrice);
        Assert.Equal(0, strategy.TicksSeen);

        // The quotes end the open bar slice (as the next bar would in a backtest) but are no slices of their own.
        Assert.Equal([t0, t0.AddNanos(Timestamp.NanosPerMinute)], slices);
    }

    [Fact]
    public void TicksOfTheKindsTheStrategyTradesOn_AreSlicesTheStrategySees_OthersAreForTheVenueOnly()
    {
        // A ladder on a live feed trades on price updates (trade ticks); quotes only fill its orders.
        var inst = Instrument.Equity("X");
        var t0 = Timestamp.Parse("2024-01-02T15:00:00Z");
        var strategy = new BarLimit(inst.Id, Price.Parse("10"));
        var portfolio = new Keel.Domain.Portfolio.Portfolio(Money.From(100_000));
        var exchange = new SimulatedExchange(new SimulatedExchangeOptions(), [inst], portfolio);
        var slices = new List<Timestamp>();
        var bus = new EventBus();
        bus.Subscribe<SliceClosed>(new SliceRecorder(slices), "slices");
        var kernel = new TradingKernel(new Keel.Engine.Clock.SimulatedClock(), exchange, new StrategyHost<BarLimit.State>("ticks", strategy), portfolio, [inst], bus, new KernelOptions { StrategyTicks = MarketDataKinds.Trades }, [exchange]);
        exchange.Connect(kernel);
        kernel.Start();
        kernel.OnTick(Tick.Trade(inst.Id, t0, Price.Parse("10.5"), Quantity.From(1)));
        kernel.OnTick(Tick.Quote(inst.Id, t0.AddNanos(1_000_000_000), Price.Parse("10.4"), Price.Parse("10.6")));
        kernel.OnTick(Tick.Trade(inst.Id, t0.AddNanos(2_000_000_000), Price.Parse("10.6"), Quantity.From(1)));
        kernel.Stop();
        Assert.Equal(2, strategy.TicksSeen);
        Assert.Equal(t0, slices[0]);
        Assert.DoesNotContain(t0.AddNanos(1_000_000_000), slices);
    }

    private sealed class SliceRecorder(List<Timestamp> slices) : IEventHandler<SliceClosed>
    {
        public void Handle(in SliceClosed evt, long sequence) => slices.Add(evt.Time);
    }

    private sealed class BarLimit(InstrumentId id, Price limit) : IStrategy<BarLimit.State>
    {
        public int TicksSeen { get; private set; }

        public State CreateState() => new();

        public State OnBar(State state, in Bar bar, IMarketView market, IIntents intents)
        {
            if (state.Bars++ == 0)
            {
                intents.Submit(OrderRequest.Limit(id, OrderSide.Buy, Quantity.From(10_000), limit));
            }

            return state;
        }

        public State OnTick(State state, in Tick tick, IMarketView market, IIntents intents)
        {
            TicksSeen++;
            return state;
        }

        public sealed class State
        {
            public int Bars { get; set; }
        }
    }

    private sealed class TickOrders(InstrumentId id) : IStrategy<TickOrders.State>
    {
        public State CreateState() => new();

        public State OnBar(State state, in Bar bar, IMarketView market, IIntents intents) => state;

        public State OnTick(State state, in Tick tick, IMarketView market, IIntents intents)
        {
            if (state.Ticks == 0)
            {
                intents.Submit(OrderRequest.Market(id, OrderSide.Buy, Quantity.From(10_000)));
            }
            else if (state.Ticks == 1)
            {
                intents.Submit(OrderRequest.Market(id, OrderSide.Sell, Quantity.From(10_000)));
            }

            state.Ticks++;
            return state;
        }

        public sealed class State
        {
            public int Ticks { get; set; }
        }
    }
}
