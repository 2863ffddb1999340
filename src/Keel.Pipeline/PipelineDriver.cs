using Keel.Engine.Clock;

namespace Keel.Pipeline;

/// <summary>
/// Runs the three stages over simulated days on their NYSE schedule (<see cref="PipelineSchedule"/>) with a simulated
/// clock, so nothing waits for 09:45: before each firing the market is brought up to the firing's time (the caller
/// feeds the venue every tick or bar up to then), the clock is set to it, and the stage runs.
/// </summary>
public sealed class PipelineDriver(DecisionExecutor executor, OrderMonitor orderMonitor, PositionMonitor positionMonitor, SimulatedClock clock)
{
    /// <summary>Runs every firing of the trading days from <paramref name="from"/> to <paramref name="to"/> (inclusive).</summary>
    /// <param name="advanceMarket">Feeds the venue everything that happened up to and including the given time.</param>
    /// <param name="observe">Called after each firing with what it did (valuations are on the position monitor).</param>
    public async Task RunAsync(DateOnly from, DateOnly to, Func<Domain.Timestamp, CancellationToken, Task> advanceMarket, Action<StageFiring, StageResult>? observe = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(advanceMarket);
        for (var day = from; day <= to; day = day.AddDays(1))
        {
            foreach (var firing in PipelineSchedule.Firings(day))
            {
                ct.ThrowIfCancellationRequested();
                await advanceMarket(firing.Time, ct).ConfigureAwait(false);
                clock.Set(firing.Time);
                var result = firing.Stage switch
                {
                    PipelineStage.Executor => await executor.RunOnceAsync(ct).ConfigureAwait(false),
                    PipelineStage.OrderMonitor => await orderMonitor.RunOnceAsync(ct).ConfigureAwait(false),
                    _ => await positionMonitor.RunOnceAsync(ct).ConfigureAwait(false),
                };
                observe?.Invoke(firing, result);
            }
        }
    }
}
