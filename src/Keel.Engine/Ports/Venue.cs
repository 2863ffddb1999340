using Keel.Domain;
using Keel.Domain.Events;
using Keel.Domain.Orders;

namespace Keel.Engine.Ports;

/// <summary>Command: send one order. A copy of the order's terms, so a venue never shares the kernel's objects.</summary>
public sealed record SubmitOrder(
    ClientOrderId ClientOrderId,
    InstrumentId Instrument,
    OrderSide Side,
    OrderType Type,
    Quantity Quantity,
    Price? LimitPrice,
    Price? StopPrice,
    TimeInForce TimeInForce,
    ContingencyType Contingency,
    ClientOrderId? ParentId,
    IReadOnlyList<ClientOrderId> LinkedIds,
    Timestamp TsInit)
{
    public static SubmitOrder From(Order order, Timestamp tsInit) => new(
        order.Id, order.Instrument, order.Side, order.Type, order.Quantity, order.LimitPrice, order.StopPrice,
        order.TimeInForce, order.Contingency, order.ParentId, order.LinkedIds.Count == 0 ? [] : [.. order.LinkedIds], tsInit);
}

/// <summary>Command: send a contingent group (a bracket: entry + stop-loss + take-profit; or an OCO pair) as one unit.</summary>
public sealed record SubmitOrderList(IReadOnlyList<SubmitOrder> Orders, Timestamp TsInit);

/// <summary>Command: cancel a working order.</summary>
public sealed record CancelOrder(ClientOrderId ClientOrderId, InstrumentId Instrument, Timestamp TsInit);

/// <summary>Command: replace a working order's quantity and prices; the replacement gets a new client id.</summary>
public sealed record ReplaceOrder(ClientOrderId ClientOrderId, SubmitOrder Replacement, Timestamp TsInit);

/// <summary>Where venues report what happened to orders. Live adapters write to the kernel inbox; the simulated exchange calls it directly.</summary>
public interface IOrderEventSink
{
    void OnOrderEvent(OrderEvent orderEvent);
}

/// <summary>
/// An execution venue as the kernel sees it: commands go in without blocking the kernel thread, outcomes come back
/// as <see cref="OrderEvent"/>s through an <see cref="IOrderEventSink"/>.
/// </summary>
public interface IExecutionVenue
{
    string Name { get; }

    void Submit(SubmitOrder command);

    void SubmitList(SubmitOrderList command);

    void Cancel(CancelOrder command);

    void Replace(ReplaceOrder command);
}

/// <summary>A component that must see market data before the strategy does (the simulated exchange matches on it).</summary>
public interface IMarketDataConsumer
{
    /// <summary>A bar arrived; runs before the strategy sees it.</summary>
    void OnBar(in Bar bar);

    /// <summary>The strategy has seen the bar; runs after its intents were processed.</summary>
    void OnBarClosed(in Bar bar);

    void OnTick(in Tick tick);

    /// <summary>The strategy has seen a tick it trades on; runs after its intents were processed.</summary>
    void OnTickClosed(in Tick tick)
    {
    }
}
