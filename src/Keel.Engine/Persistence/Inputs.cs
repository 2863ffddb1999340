using Keel.Domain;

namespace Keel.Engine.Persistence;

/// <summary>
/// What an <see cref="InputRecord"/> holds. Stored values: never renumber, never reuse; new kinds take new numbers.
/// </summary>
public enum InputKind : byte
{
    /// <summary>One bar (<see cref="Kernel.InboxItem.ForBar"/>).</summary>
    Bar = 1,

    /// <summary>One tick (<see cref="Kernel.InboxItem.ForTick"/>).</summary>
    Tick = 2,

    /// <summary>An order event from a venue (<see cref="Kernel.InboxItem.ForOrderEvent"/>).</summary>
    OrderEvent = 3,

    /// <summary>An order from outside the strategy (<see cref="Kernel.ExternalOrderRequest.Submit"/>).</summary>
    ExternalSubmit = 4,

    /// <summary>A cancel from outside the strategy (<see cref="Kernel.ExternalOrderRequest.Cancel"/>).</summary>
    ExternalCancel = 5,

    /// <summary>A kernel command: pause, resume, stop, reset the circuit breaker.</summary>
    Command = 6,

    /// <summary>A reconciliation's adopted execution or halt (<see cref="Kernel.InboxItem.ForAdjustment"/>).</summary>
    Adjustment = 7,
}

/// <summary>
/// One item the kernel took from its inbox, journaled so a live run can be fed through the same kernel again and
/// give exactly the same orders (replay, exact restart).
/// </summary>
/// <param name="Sequence">1, 2, … in the order the kernel took the items, per run.</param>
/// <param name="Clock">The clock time at which the kernel took it.</param>
/// <param name="Kind">What <paramref name="Payload"/> holds.</param>
/// <param name="Payload">The item as compact JSON, exact (see <see cref="InputCodec"/>).</param>
public sealed record InputRecord(long Sequence, Timestamp Clock, InputKind Kind, string Payload);
