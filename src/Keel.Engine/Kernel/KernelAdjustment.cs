using Keel.Domain;
using Keel.Domain.Orders;

namespace Keel.Engine.Kernel;

/// <summary>What a <see cref="KernelAdjustment"/> does. Stored values: never renumber.</summary>
public enum KernelAdjustmentKind
{
    /// <summary>Books an execution the run did not send (<see cref="TradingKernel.AdoptExecution"/>).</summary>
    Adopt = 1,

    /// <summary>Stops new orders (<see cref="TradingKernel.Halt"/>).</summary>
    Halt = 2,

    /// <summary>
    /// Sets the strategy's state (<see cref="Strategies.IStrategyHost.RestoreState"/>): journaled first thing in a live
    /// run, so a replay starts from the state the strategy read from its files, whatever the files hold by then.
    /// </summary>
    StrategyState = 3,
}

/// <summary>
/// A change a live run's reconciliation makes to the kernel outside any venue answer: an execution adopted from the
/// venue (a trade by hand, a position set to the venue's), or a halt on a difference nobody can explain. It is journaled
/// as an input like a venue's order event, so a replay of the session makes it at the same point.
/// </summary>
public sealed record KernelAdjustment(
    KernelAdjustmentKind Kind,
    string Reason,
    InstrumentId Instrument = default,
    OrderSide Side = default,
    Quantity Quantity = default,
    Price Price = default,
    Money Commission = default,
    TradeId TradeId = default,
    VenueOrderId VenueOrderId = default,
    Timestamp Time = default,
    string? State = null)
{
    /// <summary>An execution to book as an order of the run, accepted and filled at once.</summary>
    public static KernelAdjustment Adoption(InstrumentId instrument, OrderSide side, Quantity quantity, Price price, Money commission, TradeId tradeId, VenueOrderId venueOrderId, Timestamp time, string reason) =>
        new(KernelAdjustmentKind.Adopt, reason, instrument, side, quantity, price, commission, tradeId, venueOrderId, time);

    /// <summary>A halt: new orders are denied until the circuit breaker is reset.</summary>
    public static KernelAdjustment Halting(string reason) => new(KernelAdjustmentKind.Halt, reason);

    /// <summary>The strategy's state as its codec wrote it (JSON).</summary>
    public static KernelAdjustment StrategyStarts(string state) => new(KernelAdjustmentKind.StrategyState, "the strategy's state at the start of the run", State: state);

    /// <summary>Makes the change, on the kernel thread.</summary>
    public void ApplyTo(TradingKernel kernel)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        switch (Kind)
        {
            case KernelAdjustmentKind.Adopt:
                kernel.AdoptExecution(Instrument, Side, Quantity, Price, Commission, TradeId, VenueOrderId, Time, Reason);
                break;
            case KernelAdjustmentKind.Halt:
                kernel.Halt(Reason);
                break;
            case KernelAdjustmentKind.StrategyState:
                using (var document = System.Text.Json.JsonDocument.Parse(State ?? throw new InvalidOperationException("a strategy-state adjustment carried no state")))
                {
                    kernel.Strategy.RestoreState(document.RootElement);
                }

                break;
            default:
                throw new InvalidOperationException($"kernel adjustment kind {(int)Kind} is not one this Keel knows");
        }
    }
}
