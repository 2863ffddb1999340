using FsCheck;
using FsCheck.Fluent;
using Keel.Domain;
using Keel.Domain.Orders;
using Keel.Engine.Kernel;
using Keel.Engine.Simulation;
using Keel.Engine.Strategies;
using Keel.Tests.Support;

namespace Keel.Tests.Engine;

/// <summary>
/// Property: drive the real kernel and exchange with random order flow (every order type, brackets, OCO, cancels,
/// partial fills, commissions, slippage) over random bars; at every bar cash + Σ position × price equals equity,
/// and equity equals initial cash + realized + unrealized − commissions, exactly. No order ever overfills.
/// </summary>
public class ConservationTests
{
    [Fact]
    public void Property_RandomOrderFlow_ConservesCashAndPositions() =>
        Prop.ForAll(Gen.Choose(1, int.MaxValue).Zip(Gen.Choose(20, 120)).ToArbitrary(), t =>
        {
            var (seed, bars) = t;
            var rng = new Random(seed);
            var ids = new List<ClientOrderId>();
            bool conserved = true;
            var h = new Harness(
                (i, bar, market, intents) => RandomActions(rng, bar, market, intents, ids),
                new SimulatedExchangeOptions
                {
                    Commission = new CompositeCommission([new PercentCommission(0.0005m), new PerOrderCommission(Money.Parse("0.35"))]),
                    Slippage = new PercentSlippage(0.0002m),
                    VolumeParticipation = rng.Next(3) == 0 ? 0.2m : null,
                },
                cash: 50_000m);
            h.Bus.Subscribe<SliceClosed>(
                _ =>
                {
                    var p = h.Portfolio;
                    var sum = p.Cash;
                    var realized = Money.Zero;
                    var unrealized = Money.Zero;
                    foreach (var pos in p.Positions)
                    {
                        sum += pos.LastPrice * pos.Quantity;
                        realized += pos.RealizedPnl;
                        unrealized += pos.UnrealizedPnl;
                    }

                    conserved &= sum == p.Equity && p.Equity == p.InitialCash + realized + unrealized - p.TotalCommissions;
                },
                "conservation");
            h.Run(RandomBars(rng, bars));
            foreach (var id in ids)
            {
                var o = h.Kernel.GetOrder(id);
                if (o is not null && o.FilledQuantity > o.Quantity)
                {
                    return false;
                }
            }

            return conserved && h.Equity.Count == bars;
        }).QuickCheckThrowOnFailure();

    private static Bar[] RandomBars(Random rng, int count)
    {
        var bars = new Bar[count];
        long price = 10_000;
        for (int i = 0; i < count; i++)
        {
            long open = price;
            long close = Math.Max(100, open + rng.Next(-300, 301));
            long high = Math.Max(open, close) + rng.Next(0, 200);
            long low = Math.Max(50, Math.Min(open, close) - rng.Next(0, 200));
            bars[i] = new Bar(new InstrumentId("X"), Timestamp.FromParts(2024, 1, 1).AddNanos(i * Timestamp.NanosPerHour * 7),
                Price.FromRaw(open * 10_000_000), Price.FromRaw(high * 10_000_000), Price.FromRaw(low * 10_000_000), Price.FromRaw(close * 10_000_000), Quantity.From(rng.Next(0, 500)));
            price = close;
        }

        return bars;
    }

    private static void RandomActions(Random rng, Bar bar, IMarketView market, IIntents intents, List<ClientOrderId> ids)
    {
        var tick = Price.Parse("0.01");
        Price Near(int cents) => Price.FromRaw(bar.Close.Raw + (cents * 10_000_000L)).RoundTo(tick);
        var qty = Quantity.From(rng.Next(1, 40));
        var side = rng.Next(2) == 0 ? OrderSide.Buy : OrderSide.Sell;
        var tif = rng.Next(4) == 0 ? TimeInForce.Day : TimeInForce.Gtc;
        switch (rng.Next(9))
        {
            case 0:
                ids.Add(intents.Submit(OrderRequest.Market(bar.Instrument, side, qty)));
                break;
            case 1:
                ids.Add(intents.Submit(OrderRequest.Limit(bar.Instrument, side, qty, Near(rng.Next(-200, 200)), tif)));
                break;
            case 2:
                ids.Add(intents.Submit(OrderRequest.Stop(bar.Instrument, side, qty, Near(side == OrderSide.Buy ? rng.Next(1, 200) : -rng.Next(1, 200)), tif)));
                break;
            case 3:
                var stop = Near(side == OrderSide.Buy ? rng.Next(1, 150) : -rng.Next(1, 150));
                ids.Add(intents.Submit(OrderRequest.StopLimit(bar.Instrument, side, qty, stop, Price.FromRaw(stop.Raw + (side == OrderSide.Buy ? 1 : -1) * rng.Next(0, 50) * 10_000_000L))));
                break;
            case 4:
                var b = intents.SubmitBracket(OrderRequest.Market(bar.Instrument, OrderSide.Buy, qty), Near(-rng.Next(20, 200)), Near(rng.Next(20, 200)));
                ids.AddRange([b.Entry, b.StopLoss, b.TakeProfit]);
                break;
            case 5:
                var (x, y) = intents.SubmitOco(OrderRequest.Limit(bar.Instrument, OrderSide.Sell, qty, Near(rng.Next(10, 150))), OrderRequest.Stop(bar.Instrument, OrderSide.Sell, qty, Near(-rng.Next(10, 150))));
                ids.AddRange([x, y]);
                break;
            case 6:
                if (ids.Count > 0)
                {
                    intents.Cancel(ids[rng.Next(ids.Count)]);
                }

                break;
            case 7:
                intents.Signal(bar.Instrument, market.Position(bar.Instrument).IsPositive ? SignalAction.CloseLong : SignalAction.CloseShort);
                break;
            default:
                break;
        }
    }
}
