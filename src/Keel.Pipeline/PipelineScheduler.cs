using Keel.Domain;
using Keel.Storage.Pipeline;
using Microsoft.Extensions.Logging;
using Quartz;
using Quartz.Extensibility;

namespace Keel.Pipeline;

/// <summary>How <c>keel pipeline run</c> schedules the stages.</summary>
/// <param name="Node">This process's name: recorded with each firing it runs, and its Quartz instance id in a cluster.</param>
/// <param name="Every">
/// Test/ops mode: every stage fires every this often, on every day, instead of the NYSE schedule (null: the schedule).
/// </param>
/// <param name="PostgresConnectionString">A clustered AdoJobStore on this database (the Keel store's); null: in memory.</param>
/// <param name="CheckinInterval">How often a clustered node records that it is alive.</param>
/// <param name="MisfireThreshold">
/// How late a firing may start and still run; also how long past a missed check-in the other nodes wait before they
/// treat a node as dead and take over what it held.
/// </param>
public sealed record PipelineRunOptions(string Node, TimeSpan? Every, string? PostgresConnectionString, TimeSpan CheckinInterval, TimeSpan MisfireThreshold)
{
    /// <summary>The Quartz scheduler name every node of one store shares (the qrtz_* rows are keyed by it).</summary>
    public const string SchedulerName = "keel-pipeline";

    /// <summary>Check-in and misfire defaults: short with --every (tests and drills), relaxed on the NYSE schedule.</summary>
    public static (TimeSpan Checkin, TimeSpan Misfire) Defaults(TimeSpan? every) =>
        every is null ? (TimeSpan.FromSeconds(7.5), TimeSpan.FromSeconds(60)) : (TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));
}

/// <summary>Runs one stage once (the CLI wires the executor and the monitors to a venue).</summary>
public delegate Task<StageResult> StageRunner(PipelineStage stage, CancellationToken ct);

/// <summary>
/// <c>keel pipeline run</c>: the three stages on a Quartz.NET 4.7.3 scheduler. Each stage is one durable job with a
/// cron trigger in UTC that fires every 5 minutes (the executor at 13:45 and 14:45) on weekdays from 13:00 to 23:55 UTC —
/// a window that holds 09:30–18:15 New York time in both EST and EDT. At each firing the job checks its scheduled time
/// against <see cref="PipelineSchedule"/> (the NYSE calendar: holidays, early closes, daylight time) and runs the stage
/// only when the schedule has that stage at that minute, so nothing depends on the machine's time zone database and no
/// calendar object has to be serialized into the job store. A firing that is more than the misfire threshold late is
/// skipped (the next one runs). Before a stage runs, the firing is claimed in <c>pipeline_firings</c> (unique on stage
/// and scheduled time), so even a duplicate delivery would not run a stage twice for one firing.
/// With a PostgreSQL store the scheduler is a clustered AdoJobStore over Keel's qrtz_* tables (migration 6): every node
/// runs the same jobs, each firing is acquired by one node under Quartz's database lock, and when a node stops checking
/// in, another recovers what it held after the check-in misfire threshold.
/// </summary>
public sealed class PipelineScheduler : IAsyncDisposable
{
    private const string Group = "keel-pipeline";
    private readonly IScheduler _scheduler;
    private readonly ILogger _log;
    private readonly string _node;
    private int _disposed;

    private PipelineScheduler(IScheduler scheduler, ILogger log, string node)
    {
        _scheduler = scheduler;
        _log = log;
        _node = node;
    }

    /// <summary>The stage of each job name.</summary>
    public static string JobName(PipelineStage stage) => stage switch
    {
        PipelineStage.Executor => "executor",
        PipelineStage.OrderMonitor => "order-monitor",
        _ => "position-monitor",
    };

    /// <summary>Builds, schedules and starts the scheduler.</summary>
    public static async Task<PipelineScheduler> StartAsync(PipelineRunOptions options, StageRunner run, PipelineStore store, TimeProvider time, ILoggerFactory loggers, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(loggers);
        var log = loggers.CreateLogger("Keel.Pipeline");
        var host = new StageJobHost(options, run, store, time, log);
        var builder = QuartzSchedulerBuilder.Create(q => Configure(q, options, host));
        var scheduler = await builder.BuildScheduler(ct).ConfigureAwait(false);
        try
        {
            await ScheduleAsync(scheduler, options, time, ct).ConfigureAwait(false);
            await scheduler.Start(ct).ConfigureAwait(false);
        }
        catch
        {
            await scheduler.Shutdown(false, CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        PipelineLog.SchedulerStarted(log, options.Node, options.PostgresConnectionString is null ? "in memory" : "clustered on PostgreSQL", options.Every is { } e ? $"every {e.TotalSeconds:0.###} s" : "the NYSE schedule");
        return new PipelineScheduler(scheduler, log, options.Node);
    }

    private static void Configure(IQuartzBuilder builder, PipelineRunOptions options, StageJobHost host)
    {
        builder.ConfigureScheduler(s =>
        {
            s.InstanceName = PipelineRunOptions.SchedulerName;
            s.ShutdownJobInterruption = ShutdownJobInterruption.Always;
            if (options.PostgresConnectionString is not null)
            {
                s.InstanceId = options.Node;
            }
        });
        builder.UseDefaultThreadPool(3);
        builder.UseJobFactory(new StageJobFactory(host));
        if (options.PostgresConnectionString is { } cs)
        {
            builder.UsePersistentStore(store =>
            {
                store.UsePostgres(Npgsql.NpgsqlFactory.Instance, cs);
                store.UseClustering(c =>
                {
                    c.CheckinInterval = options.CheckinInterval;
                    c.CheckinMisfireThreshold = options.MisfireThreshold;
                });
                store.UseSystemTextJsonSerializer(_ => { });
                store.ConfigureStore(o =>
                {
                    o.MisfireThreshold = options.MisfireThreshold;
                    o.TablePrefix = "qrtz_";
                    o.SchemaProvisioning = SchemaProvisioning.Validate;
                });
            });
        }
        else
        {
            builder.UseInMemoryStore(o => o.MisfireThreshold = options.MisfireThreshold);
        }
    }

    /// <summary>The jobs and their triggers; in a shared store the first node stores them and the others find them.</summary>
    private static async Task ScheduleAsync(IScheduler scheduler, PipelineRunOptions options, TimeProvider time, CancellationToken ct)
    {
        foreach (var stage in new[] { PipelineStage.Executor, PipelineStage.OrderMonitor, PipelineStage.PositionMonitor })
        {
            var jobKey = new JobKey(JobName(stage), Group);
            var job = JobBuilder.Create<StageJob>().WithIdentity(jobKey).StoreDurably().Build();
            var trigger = Trigger(stage, jobKey, options.Every, time);

            // A trigger of another mode (the schedule vs --every, or another interval) left by an earlier run is replaced.
            foreach (var old in await scheduler.GetTriggersOfJob(jobKey, ct).ConfigureAwait(false))
            {
                if (!old.Key.Equals(trigger.Key))
                {
                    await scheduler.UnscheduleJob(old.Key, ct).ConfigureAwait(false);
                }
            }

            if (await scheduler.GetTrigger(trigger.Key, ct).ConfigureAwait(false) is not null)
            {
                continue;
            }

            try
            {
                await scheduler.ScheduleJob(job, [trigger], new ScheduleJobOptions { Replace = true }, ct).ConfigureAwait(false);
            }
            catch (ObjectAlreadyExistsException)
            {
                // Another node stored it at the same moment.
            }
        }
    }

    internal static ITrigger Trigger(PipelineStage stage, JobKey job, TimeSpan? every, TimeProvider time)
    {
        if (every is { } interval)
        {
            // Aligned to whole intervals since the epoch, so every node that creates it means the same fire times.
            long ticks = interval.Ticks;
            var now = time.GetUtcNow();
            var start = new DateTimeOffset(((now.UtcTicks / ticks) + 1) * ticks, TimeSpan.Zero);
            return TriggerBuilder.Create()
                .WithIdentity(new TriggerKey($"{JobName(stage)}/every-{interval.TotalMilliseconds:0}ms", Group))
                .ForJob(job)
                .WithPriority(Priority(stage))
                .StartAt(start)
                .WithSimpleSchedule(s => s.WithInterval(interval).RepeatForever().WithMisfireInstruction(SimpleTriggerMisfireInstruction.NextWithRemainingCount))
                .Build();
        }

        // 09:30–18:15 New York is 13:30–22:15 UTC in daylight time and 14:30–23:15 UTC in standard time.
        string cron = stage == PipelineStage.Executor ? "0 45 13,14 ? * MON-FRI" : "0 0/5 13-23 ? * MON-FRI";
        return TriggerBuilder.Create()
            .WithIdentity(new TriggerKey($"{JobName(stage)}/nyse", Group))
            .ForJob(job)
            .WithPriority(Priority(stage))
            .WithCronSchedule(cron, c => c.InTimeZone(TimeZoneInfo.Utc).WithMisfireInstruction(CronTriggerMisfireInstruction.DoNothing))
            .Build();
    }

    /// <summary>At the same minute the executor goes first, then the order monitor, then the position monitor.</summary>
    private static int Priority(PipelineStage stage) => stage switch
    {
        PipelineStage.Executor => 10,
        PipelineStage.OrderMonitor => 5,
        _ => 1,
    };

    /// <summary>Stops firing, cancels the running stages and waits for them (each stops at its next item).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            await _scheduler.Shutdown(true, CancellationToken.None).ConfigureAwait(false);
            PipelineLog.SchedulerStopped(_log, _node);
        }
    }
}

/// <summary>What every stage job needs: the options, the stage runner, the firings table and the log.</summary>
internal sealed class StageJobHost(PipelineRunOptions options, StageRunner run, PipelineStore store, TimeProvider time, ILogger log)
{
    public async Task ExecuteAsync(string jobName, DateTimeOffset scheduledUtc, CancellationToken ct)
    {
        var stage = jobName switch
        {
            "executor" => PipelineStage.Executor,
            "order-monitor" => PipelineStage.OrderMonitor,
            "position-monitor" => PipelineStage.PositionMonitor,
            _ => throw new InvalidOperationException($"unknown pipeline job {jobName}"),
        };
        var fire = Timestamp.FromDateTimeOffset(scheduledUtc);
        if (options.Every is null && !OnSchedule(stage, fire))
        {
            return;
        }

        if (!store.ClaimFiring(jobName, fire, options.Node, Now()))
        {
            PipelineLog.FiringAlreadyClaimed(log, jobName, scheduledUtc, options.Node);
            return;
        }

        PipelineLog.FiringStarted(log, jobName, scheduledUtc, options.Node);
        string outcome;
        try
        {
            var r = await run(stage, ct).ConfigureAwait(false);
            outcome = $"{r.Done} done, {r.Skipped} skipped, {r.Failed} failed";
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            outcome = "stopped";
        }
        catch (Exception ex)
        {
            PipelineLog.FiringFailed(log, jobName, scheduledUtc, ex.Message);
            outcome = "failed: " + ex.Message;
        }

        store.FinishFiring(jobName, fire, outcome, Now());
        PipelineLog.FiringFinished(log, jobName, scheduledUtc, outcome);
    }

    /// <summary>Whether the NYSE schedule has <paramref name="stage"/> at <paramref name="fire"/> (false outside the calendar's years).</summary>
    internal static bool OnSchedule(PipelineStage stage, Timestamp fire)
    {
        var day = DateOnly.FromDateTime(NyseCalendar.ToEastern(fire));
        if (day.Year is < NyseCalendar.FirstYear or > NyseCalendar.LastYear)
        {
            return false;
        }

        return PipelineSchedule.Firings(day).Contains(new StageFiring(fire, stage));
    }

    private Timestamp Now() => Timestamp.FromDateTimeOffset(time.GetUtcNow());
}

/// <summary>The one job type: which stage it runs is its job name. At most one run of a stage at a time per node.</summary>
[DisallowConcurrentExecution]
internal sealed class StageJob(StageJobHost host) : IJob
{
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var scheduled = context.ScheduledFireTimeUtc ?? context.FireTimeUtc;
        await host.ExecuteAsync(context.JobDetail.Key.Name, scheduled, cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>Makes <see cref="StageJob"/>s without reflection or a service container.</summary>
internal sealed class StageJobFactory(StageJobHost host) : IJobFactory
{
    public ValueTask<JobScope> CreateJob(TriggerFiredBundle bundle, IScheduler scheduler, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new JobScope(new StageJob(host), null));

    public ValueTask ReturnJob(JobScope scope, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
