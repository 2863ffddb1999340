using FsCheck;
using FsCheck.Fluent;
using Keel.Domain;
using Keel.Domain.Orders;
using Keel.Domain.Portfolio;

namespace Keel.Tests.Domain;

public class PortfolioTests
{
    private static readonly InstrumentId X = new("X");

    [Fact]
    public void LongRoundTrip_RealizedPnlAndCash_ByHand()
    {
        var p = new Portfolio(Money.From(10_000));
        p.ApplyFill(X, OrderSide.Buy, Quantity.From(10), Price.Parse("150.25"), Money.Parse("1.50"));
        Assert.Equal(Money.Parse("8496"), p.Cash);
        p.Mark(X, Price.Parse("151"));
        Assert.Equal(Money.Parse("7.5"), p.GetPosition(X)!.UnrealizedPnl);
        Assert.Equal(Money.Parse("10006"), p.Equity);
        var effect = p.ApplyFill(X, OrderSide.Sell, Quantity.From(10), Price.Parse("144.90"), Money.Parse("1.45"));
        Assert.Equal(Money.Parse("-53.5"), effect.RealizedPnl);
        Assert.Equal(Money.Parse("9943.55"), p.Cash);
        Assert.Equal(p.Cash, p.Equity);
        Assert.True(p.GetPosition(X)!.IsFlat);
        Assert.Equal(Money.Parse("2.95"), p.TotalCommissions);
    }

    [Fact]
    public void Short_ThenFlipLong_SplitsRealizedAndOpensAtFillPrice()
    {
        var p = new Portfolio(Money.From(10_000));
        p.ApplyFill(X, OrderSide.Sell, Quantity.From(5), Price.Parse("100"), Money.Zero);
        var position = p.GetPosition(X)!;
        Assert.Equal(PositionSide.Short, position.Side);
        Assert.Equal(Price.Parse("100"), position.AverageEntryPrice);
        var effect = p.ApplyFill(X, OrderSide.Buy, Quantity.From(8), Price.Parse("90"), Money.Zero);
        Assert.Equal(Quantity.From(5), effect.ClosedQuantity);
        Assert.Equal(Quantity.From(3), effect.OpenedQuantity);
        Assert.Equal(Money.Parse("50"), effect.RealizedPnl);
        Assert.Equal(Quantity.From(3), position.Quantity);
        Assert.Equal(Price.Parse("90"), position.AverageEntryPrice);
    }

    [Fact]
    public void PartialClose_RemovesCostProportionally()
    {
        var p = new Portfolio(Money.From(10_000));
        p.ApplyFill(X, OrderSide.Buy, Quantity.From(3), Price.Parse("10"), Money.Zero);
        p.ApplyFill(X, OrderSide.Buy, Quantity.From(1), Price.Parse("11"), Money.Zero);
        var effect = p.ApplyFill(X, OrderSide.Sell, Quantity.From(1), Price.Parse("12"), Money.Zero);
        Assert.Equal(Money.Parse("1.75"), effect.RealizedPnl);
        Assert.Equal(Price.Parse("10.25"), p.GetPosition(X)!.AverageEntryPrice);
    }

    [Fact]
    public void BuyingPower_WithLeverage()
    {
        var p = new Portfolio(Money.From(10_000), leverage: 2m);
        p.ApplyFill(X, OrderSide.Buy, Quantity.From(100), Price.Parse("50"), Money.Zero);
        p.Mark(X, Price.Parse("50"));
        Assert.Equal(Money.From(15_000), p.BuyingPower);
    }

    /// <summary>
    /// Property: after any sequence of fills and marks, cash + Σ quantity × mark equals equity, and equity equals
    /// initial cash + realized + unrealized − commissions, exactly.
    /// </summary>
    [Fact]
    public void Property_CashAndPositionsConserveEquity()
    {
        var instruments = new[] { new InstrumentId("A"), new InstrumentId("B") };
        var step = Gen.Choose(0, 1).Zip(Gen.Choose(0, 2)).Zip(Gen.Choose(1, 500)).Zip(Gen.Choose(1_000, 200_000)).Zip(Gen.Choose(0, 300));
        Prop.ForAll(step.ArrayOf().ToArbitrary(), steps =>
        {
            var p = new Portfolio(Money.From(1_000_000));
            foreach (var ((((inst, action), qty), priceCents), commissionCents) in steps)
            {
                var id = instruments[inst];
                var price = Price.FromRaw(priceCents * 10_000_000L);
                if (action == 2)
                {
                    p.Mark(id, price);
                }
                else
                {
                    p.ApplyFill(id, action == 0 ? OrderSide.Buy : OrderSide.Sell, Quantity.From(qty), price, Money.Product(commissionCents, 10_000_000L) * 1_000_000_000L);
                }

                var sum = p.Cash;
                var unrealized = Money.Zero;
                var realized = Money.Zero;
                foreach (var pos in p.Positions)
                {
                    sum += pos.LastPrice * pos.Quantity;
                    unrealized += pos.UnrealizedPnl;
                    realized += pos.RealizedPnl;
                }

                if (sum != p.Equity || p.Equity != p.InitialCash + realized + unrealized - p.TotalCommissions || realized != p.RealizedPnl)
                {
                    return false;
                }
            }

            return true;
        }).QuickCheckThrowOnFailure();
    }
}
