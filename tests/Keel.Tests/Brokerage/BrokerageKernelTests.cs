using Keel.Domain;
using Keel.Domain.Events;
using Keel.Domain.Orders;
using Keel.Engine.Brokerage;
using Keel.Engine.Kernel;
using Keel.Engine.Strategies;
using Keel.Tests.Support;

namespace Keel.Tests.Brokerage;

/// <summary>The kernel asks the run's brokerage model before an order reaches the venue, in every mode (here: a backtest's simulated exchange).</summary>
public class BrokerageKernelTests
{
    private const string SubPenny = "invalid limit_price 99.005. sub-penny increment does not fulfill minimum pricing criteria";

    private static readonly Bar[] Bars =
    [
        Harness.Bar(2, "100", "101", "99", "100"),
        Harness.Bar(3, "100", "101", "98", "99"),
        Harness.Bar(4, "99", "100", "98", "99"),
    ];

    // Priced in tenths of a cent, so the simulated exchange takes sub-penny prices: only the model refuses them.
    private static Harness Run(IBrokerageModel? model, Action<int, Bar, IMarketView, IIntents> onBar) =>
        new Harness(onBar, kernel: new KernelOptions { Brokerage = model ?? AcceptAllBrokerageModel.Instance }, instrument: Instrument.Equity("X", 0.001m)).Run(Bars);

    private static void BuySubPennyLimitOnFirstBar(int i, Bar bar, IMarketView market, IIntents intents)
    {
        if (i == 0)
        {
            intents.Submit(OrderRequest.Limit(bar.Instrument, OrderSide.Buy, Quantity.From(1), Price.Parse("99.005")));
        }
    }

    [Fact]
    public void AlpacaModel_SubPennyLimit_IsRejectedWithAlpacasMessage_AndNeverSent()
    {
        var h = Run(new AlpacaBrokerageModel(), BuySubPennyLimitOnFirstBar);
        var order = h.Order("O-1");
        Assert.Equal(OrderStatus.Rejected, order.Status);
        Assert.Equal(SubPenny, order.Reason);
        Assert.Null(order.SubmittedAt);
        Assert.Equal([OrderEventKind.Rejected], h.Updates.Where(u => u.Order.Id == order.Id).Select(u => u.Event.Kind));
        Assert.Contains(h.Strategy.TypedState.Events, e => e is OrderRejected r && r.Reason == SubPenny);
        var notice = Assert.Single(h.Notices, n => n.Code == "order_rejected");
        Assert.Contains("alpaca brokerage model", notice.Message, StringComparison.Ordinal);
        Assert.Contains("42210000", notice.Message, StringComparison.Ordinal);
        Assert.Empty(h.Fills);
    }

    [Fact]
    public void NoModel_SubPennyLimit_IsSentAndFills()
    {
        var h = Run(null, BuySubPennyLimitOnFirstBar);
        Assert.Equal(OrderStatus.Filled, h.Status("O-1"));
        Assert.Single(h.Fills);
    }

    [Fact]
    public void AlpacaModel_MarketBracketWithStopAboveTheLastPrice_RejectsEveryLeg()
    {
        var h = Run(new AlpacaBrokerageModel(), (i, bar, _, intents) =>
        {
            if (i == 0)
            {
                // Last price 100: Alpaca's base price for a market entry.
                intents.SubmitBracket(OrderRequest.Market(bar.Instrument, OrderSide.Buy, Quantity.From(1)), Price.Parse("100"), Price.Parse("110"));
            }
        });
        foreach (var id in new[] { "O-1", "O-2", "O-3" })
        {
            Assert.Equal(OrderStatus.Rejected, h.Status(id));
            Assert.Equal("stop_loss.stop_price must be <= base_price - 0.01", h.Order(id).Reason);
        }

        Assert.Empty(h.Fills);
    }

    [Fact]
    public void AlpacaModel_ValidBracket_IsSentAsBefore()
    {
        var h = Run(new AlpacaBrokerageModel(), (i, bar, _, intents) =>
        {
            if (i == 0)
            {
                intents.SubmitBracket(OrderRequest.Market(bar.Instrument, OrderSide.Buy, Quantity.From(1)), Price.Parse("95"), Price.Parse("110"));
            }
        });
        Assert.Equal(OrderStatus.Filled, h.Status("O-1"));
        Assert.True(h.Order("O-2").IsWorking);
    }

    [Fact]
    public void AlpacaModel_SubPennyReplacement_IsRejected_TheOriginalKeepsWorking()
    {
        ClientOrderId? replacement = null;
        var h = Run(new AlpacaBrokerageModel(), (i, bar, _, intents) =>
        {
            if (i == 0)
            {
                intents.Submit(OrderRequest.Limit(bar.Instrument, OrderSide.Buy, Quantity.From(1), Price.Parse("90")));
            }
            else if (i == 1)
            {
                replacement = intents.Replace(new ClientOrderId("O-1"), limitPrice: Price.Parse("99.005"));
            }
        });
        Assert.Equal(OrderStatus.Rejected, h.Order(replacement!.Value.Value).Status);
        Assert.Equal(SubPenny, h.Order(replacement!.Value.Value).Reason);
        Assert.True(h.Order("O-1").IsWorking);
    }

    [Fact]
    public void OandaModel_FractionalUnits_AreRejectedWithOandasReason()
    {
        var fx = Instrument.ForexPair("EUR_USD");
        var h = new Harness(
            (i, bar, _, intents) =>
            {
                if (i == 0)
                {
                    intents.Submit(OrderRequest.Market(bar.Instrument, OrderSide.Sell, Quantity.Parse("1000.5")));
                }
            },
            kernel: new KernelOptions { Brokerage = new OandaBrokerageModel() },
            instrument: fx).Run(Harness.Bar(2, "1.1", "1.1", "1.1", "1.1", symbol: "EUR_USD"), Harness.Bar(3, "1.1", "1.1", "1.1", "1.1", symbol: "EUR_USD"));
        Assert.Equal(OrderStatus.Rejected, h.Status("O-1"));
        Assert.Equal("The Order units specified exceed the precision allowed for the Order's instrument", h.Order("O-1").Reason);
    }
}
