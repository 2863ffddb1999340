using Keel.Domain;

namespace Keel.Engine.Clock;

/// <summary>The only source of "now" for the kernel. Backtests use <see cref="SimulatedClock"/>.</summary>
public interface IClock
{
    Timestamp Now { get; }

    /// <summary>The kernel saw an event with this time. A simulated clock moves to it; a wall clock ignores it.</summary>
    void Observe(Timestamp eventTime);
}

/// <summary>A clock the kernel moves forward to each event's time. Never goes backwards.</summary>
public sealed class SimulatedClock : IClock
{
    public Timestamp Now { get; private set; }

    public void Observe(Timestamp eventTime)
    {
        if (eventTime > Now)
        {
            Now = eventTime;
        }
    }

    public void Set(Timestamp time) => Now = time;
}

/// <summary>Wall-clock time from a <see cref="TimeProvider"/> (tests inject a fake provider).</summary>
public sealed class WallClock(TimeProvider provider) : IClock
{
    public Timestamp Now => Timestamp.FromDateTimeOffset(provider.GetUtcNow());

    public void Observe(Timestamp eventTime)
    {
    }
}
