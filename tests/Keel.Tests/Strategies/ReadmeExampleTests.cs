using Keel.Domain;
using Keel.Domain.Orders;
using Keel.Engine.Strategies;
using Keel.Tests.Support;
using static Keel.Tests.Support.Harness;

namespace Keel.Tests.Strategies;

/// <summary>The strategy example in README.md, verbatim, compiled and run, so the documentation cannot rot.</summary>
public class ReadmeExampleTests
{
    [Fact]
    public void BuyTheDip_FromTheReadme_TradesABracket()
    {
        var readme = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "README.md"));
        Assert.Contains("public sealed class BuyTheDip(Quantity stake) : IStrategy<BuyTheDip.State>", readme);
        Assert.Contains("stopLoss: bar.Close - Price.From(2), takeProfit: bar.Close + Price.From(3));", readme);

        var h = new Harness((i, b, m, t) => { });
        var host = new StrategyHost<BuyTheDip.State>("dip", new BuyTheDip(Quantity.From(10)));
        var portfolio = new Keel.Domain.Portfolio.Portfolio(Money.From(100_000));
        var exchange = new Keel.Engine.Simulation.SimulatedExchange(new(), [h.Instrument], portfolio);
        var kernel = new Keel.Engine.Kernel.TradingKernel(new Keel.Engine.Clock.SimulatedClock(), exchange, host, portfolio, [h.Instrument], new Keel.Engine.Kernel.EventBus(), null, [exchange]);
        exchange.Connect(kernel);
        kernel.Start();
        foreach (var bar in new[] { Bar(2, "100", "100", "100", "100"), Bar(3, "99", "99", "99", "99"), Bar(4, "99", "103", "99", "102") })
        {
            kernel.OnBar(bar);
        }

        kernel.Stop();
        Assert.Equal(OrderStatus.Filled, kernel.GetOrder(new ClientOrderId("O-1"))!.Status);
        Assert.Equal(OrderStatus.Filled, kernel.GetOrder(new ClientOrderId("O-3"))!.Status);
        Assert.Equal(Money.Parse("100030"), portfolio.Cash);
    }

    // ---- verbatim from README.md ----
    public sealed class BuyTheDip(Quantity stake) : IStrategy<BuyTheDip.State>
    {
        public State CreateState() => new();

        public State OnBar(State state, in Bar bar, IMarketView market, IIntents intents)
        {
            if (state.PreviousClose is Price previous && bar.Close < previous && market.Position(bar.Instrument).IsZero)
            {
                intents.SubmitBracket(OrderRequest.Market(bar.Instrument, OrderSide.Buy, stake),
                    stopLoss: bar.Close - Price.From(2), takeProfit: bar.Close + Price.From(3));
            }

            state.PreviousClose = bar.Close;
            return state;
        }

        public sealed class State
        {
            public Price? PreviousClose { get; set; }
        }
    }
}
