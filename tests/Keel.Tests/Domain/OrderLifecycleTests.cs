using FsCheck;
using FsCheck.Fluent;
using Keel.Domain;
using Keel.Domain.Events;
using Keel.Domain.Orders;

namespace Keel.Tests.Domain;

public class OrderLifecycleTests
{
    private static readonly InstrumentId Aapl = new("AAPL");
    private static readonly ClientOrderId Id = new("O-1");
    private static readonly Timestamp T0 = Timestamp.Parse("2024-01-02T14:30:00Z");

    private static Order NewOrder(decimal qty = 10) =>
        new(Id, OrderRequest.Limit(Aapl, OrderSide.Buy, Quantity.From(qty), Price.Parse("150")), T0);

    private static OrderFilled Fill(decimal qty, string px = "150", OrderSide side = OrderSide.Buy) =>
        new(Id, new VenueOrderId("V1"), new TradeId("T"), Aapl, side, Quantity.From(qty), Price.Parse(px), Money.Parse("0.1"), T0, T0);

    [Fact]
    public void HappyPath_PendingSubmittedAcceptedPartialFilled()
    {
        var o = NewOrder();
        Assert.Equal(OrderStatus.Pending, o.Status);
        o.Apply(new OrderSubmitted(Id, T0, T0));
        o.Apply(new OrderAccepted(Id, new VenueOrderId("V1"), T0, T0));
        o.Apply(Fill(4, "150"));
        Assert.Equal(OrderStatus.PartiallyFilled, o.Status);
        Assert.False(o.IsComplete);
        o.Apply(Fill(6, "149.5"));
        Assert.Equal(OrderStatus.Filled, o.Status);
        Assert.True(o.IsComplete);
        Assert.Equal(Quantity.From(10), o.FilledQuantity);
        Assert.Equal(Price.Parse("149.7"), o.AverageFillPrice);
        Assert.Equal(Money.Parse("0.2"), o.Commission);
        Assert.Equal(2, o.Fills.Count);
    }

    [Fact]
    public void Overfill_Throws_AndLeavesOrderUnchanged()
    {
        var o = NewOrder(5);
        o.Apply(new OrderSubmitted(Id, T0, T0));
        o.Apply(new OrderAccepted(Id, new VenueOrderId("V1"), T0, T0));
        o.Apply(Fill(3));
        var ex = Assert.Throws<InvalidOrderTransitionException>(() => o.Apply(Fill(3)));
        Assert.Contains("more than its quantity", ex.Message);
        Assert.Equal(Quantity.From(3), o.FilledQuantity);
        Assert.Equal(OrderStatus.PartiallyFilled, o.Status);
    }

    [Fact]
    public void FillAfterTerminal_Throws()
    {
        var o = NewOrder();
        o.Apply(new OrderSubmitted(Id, T0, T0));
        o.Apply(new OrderCanceled(Id, "user", T0, T0));
        Assert.Throws<InvalidOrderTransitionException>(() => o.Apply(Fill(1)));
        Assert.Equal(OrderStatus.Canceled, o.Status);
    }

    [Fact]
    public void CancelRejected_ReturnsToPreviousWorkingState()
    {
        var o = NewOrder();
        o.Apply(new OrderSubmitted(Id, T0, T0));
        o.Apply(new OrderAccepted(Id, new VenueOrderId("V1"), T0, T0));
        o.Apply(Fill(2));
        o.Apply(new OrderPendingCancel(Id, T0, T0));
        o.Apply(new OrderCancelRejected(Id, "too late", T0, T0));
        Assert.Equal(OrderStatus.PartiallyFilled, o.Status);
    }

    [Fact]
    public void FillOfWrongSide_Throws()
    {
        var o = NewOrder();
        o.Apply(new OrderSubmitted(Id, T0, T0));
        Assert.Throws<InvalidOrderTransitionException>(() => o.Apply(Fill(1, side: OrderSide.Sell)));
    }

    [Fact]
    public void EveryTerminalStatus_AcceptsNoEvent()
    {
        foreach (var status in Enum.GetValues<OrderStatus>().Where(OrderStateMachine.IsTerminal))
        {
            foreach (var kind in Enum.GetValues<OrderEventKind>())
            {
                Assert.False(OrderStateMachine.CanApply(status, kind), $"{status} accepts {kind}");
            }
        }
    }

    [Fact]
    public void Request_Validation_NamesTheProblem()
    {
        Assert.Contains("must be positive", OrderRequest.Market(Aapl, OrderSide.Buy, Quantity.From(-5)).Validate());
        Assert.Contains("needs a limit price", new OrderRequest(Aapl, OrderSide.Buy, OrderType.Limit, Quantity.From(1)).Validate());
        Assert.Contains("takes no stop price", new OrderRequest(Aapl, OrderSide.Buy, OrderType.Market, Quantity.From(1), StopPrice: Price.From(1)).Validate());
        Assert.Null(OrderRequest.StopLimit(Aapl, OrderSide.Sell, Quantity.From(1), Price.From(99), Price.From(98)).Validate());
    }

    /// <summary>
    /// Property: whatever sequence of events arrives (legal or not), the order is always in a status the table can
    /// reach, never fills more than ordered, its filled quantity equals the sum of its fills, and once terminal it never changes.
    /// </summary>
    [Fact]
    public void Property_AnyEventSequence_NeverReachesIllegalState()
    {
        var kinds = Enum.GetValues<OrderEventKind>();
        var step = Gen.Elements(kinds).Zip(Gen.Choose(1, 6));
        Prop.ForAll(step.ArrayOf().ToArbitrary(), steps =>
        {
            var o = NewOrder(10);
            var reachable = new HashSet<OrderStatus> { OrderStatus.Pending };
            foreach (var (from, on) in OrderStateMachine.AllowedTransitions)
            {
                reachable.Add(from);
            }

            reachable.UnionWith([OrderStatus.Filled, OrderStatus.PartiallyFilled, OrderStatus.Canceled, OrderStatus.Rejected,
                OrderStatus.Expired, OrderStatus.Replaced, OrderStatus.Denied, OrderStatus.PendingCancel, OrderStatus.Accepted]);
            foreach (var (kind, qty) in steps)
            {
                var before = (o.Status, o.FilledQuantity, o.Fills.Count);
                bool wasTerminal = o.IsComplete;
                OrderEvent e = kind switch
                {
                    OrderEventKind.Submitted => new OrderSubmitted(Id, T0, T0),
                    OrderEventKind.Accepted => new OrderAccepted(Id, new VenueOrderId("V"), T0, T0),
                    OrderEventKind.Rejected => new OrderRejected(Id, "r", T0, T0),
                    OrderEventKind.Denied => new OrderDenied(Id, "d", T0, T0),
                    OrderEventKind.PendingCancel => new OrderPendingCancel(Id, T0, T0),
                    OrderEventKind.CancelRejected => new OrderCancelRejected(Id, "x", T0, T0),
                    OrderEventKind.Canceled => new OrderCanceled(Id, null, T0, T0),
                    OrderEventKind.Expired => new OrderExpired(Id, T0, T0),
                    OrderEventKind.Replaced => new OrderReplaced(Id, new ClientOrderId("O-2"), T0, T0),
                    _ => Fill(qty),
                };
                try
                {
                    o.Apply(e);
                    if (wasTerminal)
                    {
                        return false;
                    }
                }
                catch (InvalidOrderTransitionException)
                {
                    if ((o.Status, o.FilledQuantity, o.Fills.Count) != before)
                    {
                        return false;
                    }
                }

                var sum = o.Fills.Aggregate(Quantity.Zero, (acc, f) => acc + f.LastQty);
                if (!reachable.Contains(o.Status) || o.FilledQuantity > o.Quantity || sum != o.FilledQuantity
                    || (o.Status == OrderStatus.Filled) != (o.FilledQuantity == o.Quantity && o.Fills.Count > 0))
                {
                    return false;
                }
            }

            return true;
        }).QuickCheckThrowOnFailure();
    }
}
