using Keel.Domain;

namespace Keel.Pipeline;

/// <summary>The pipeline's three stages.</summary>
public enum PipelineStage
{
    /// <summary>Places approved decisions (09:45 ET).</summary>
    Executor = 1,

    /// <summary>Follows orders: fills, protective orders, closes (every 5 minutes in regular hours, and 18:00 ET).</summary>
    OrderMonitor = 2,

    /// <summary>Values positions and reconciles those closed outside Keel (every 10 minutes in regular hours, and 18:15 ET).</summary>
    PositionMonitor = 3,
}

/// <summary>One scheduled run of a stage.</summary>
public readonly record struct StageFiring(Timestamp Time, PipelineStage Stage);

/// <summary>
/// When the stages run on a trading day (seed 004, on the NYSE calendar): the executor at 09:45 ET; the order monitor
/// every 5 minutes from 09:30 to the close (16:00, or 13:00 on an early close), and at 18:00; the position monitor
/// every 10 minutes from 09:30 to the close, and at 18:15. At the same minute the order monitor runs before the
/// position monitor, and the executor before both, so a valuation sees the fills the order monitor recorded.
/// </summary>
public static class PipelineSchedule
{
    /// <summary>The day's firings in time order (none on a day the exchange is closed).</summary>
    public static IReadOnlyList<StageFiring> Firings(DateOnly day, NyseCalendar? calendar = null)
    {
        calendar ??= NyseCalendar.Instance;
        if (calendar.Session(day) is not { } session)
        {
            return [];
        }

        var firings = new List<StageFiring>();
        var closeLocal = session.EarlyClose ? new TimeOnly(13, 0) : new TimeOnly(16, 0);
        for (var t = new TimeOnly(9, 30); t <= closeLocal; t = t.AddMinutes(5))
        {
            if (t == new TimeOnly(9, 45))
            {
                firings.Add(new StageFiring(NyseCalendar.ToUtc(day, t), PipelineStage.Executor));
            }

            firings.Add(new StageFiring(NyseCalendar.ToUtc(day, t), PipelineStage.OrderMonitor));
            if (t.Minute % 10 == 0)
            {
                firings.Add(new StageFiring(NyseCalendar.ToUtc(day, t), PipelineStage.PositionMonitor));
            }

            if (t == closeLocal)
            {
                break;
            }
        }

        firings.Add(new StageFiring(NyseCalendar.ToUtc(day, new TimeOnly(18, 0)), PipelineStage.OrderMonitor));
        firings.Add(new StageFiring(NyseCalendar.ToUtc(day, new TimeOnly(18, 15)), PipelineStage.PositionMonitor));
        return firings;
    }
}
