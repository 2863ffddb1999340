using System.Diagnostics;
using Keel.Domain;
using Keel.Pipeline;
using Keel.Sandbox;
using Keel.Storage;
using Keel.Storage.Pipeline;
using Keel.Tests.Sandbox;
using Keel.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Keel.Tests.Pipeline;

/// <summary>
/// <c>keel pipeline run</c> as a user runs it: real processes against the in-process Alpaca sandbox, on the --every
/// schedule (tests never wait for 09:45); with a PostgreSQL store, two nodes share one clustered Quartz job store.
/// </summary>
public sealed partial class PipelineRunTests : IAsyncDisposable
{
    [System.Text.RegularExpressions.GeneratedRegex(@"(\S+) firing of (\S+) was already claimed")]
    private static partial System.Text.RegularExpressions.Regex ClaimedLine();

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private readonly TempDir _dir = new();
    private SandboxServer? _server;

    public async ValueTask DisposeAsync()
    {
        if (_server is { } s)
        {
            await s.DisposeAsync();
        }

        SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    private static Dictionary<string, string> Env => new() { ["KEEL__ALPACA__KEY"] = "sandbox-key", ["KEEL__ALPACA__SECRET"] = "sandbox-secret" };

    private async Task<string> SandboxUrlAsync()
    {
        _server = await SandboxServer.StartAsync(SandboxTesting.Options());
        return $"http://127.0.0.1:{_server.AlpacaRestBase.Port}";
    }

    private CliRunner.Child Node(string url, string db, string name, params string[] extra) => CliRunner.Spawn(
        _dir.Path,
        Env,
        ["pipeline", "run", "--venue", "alpaca", "--url", url, "--db", db, "--every", "1s", "--node", name, .. extra]);

    private static IReadOnlyList<PipelineFiring> Firings(string db)
    {
        using var store = KeelStore.Open(db);
        return store.Pipeline.Firings();
    }

    private static async Task<IReadOnlyList<PipelineFiring>> AwaitFirings(string db, Func<IReadOnlyList<PipelineFiring>, bool> condition, string what, params CliRunner.Child[] nodes)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var firings = Firings(db);
            if (condition(firings))
            {
                return firings;
            }

            if (clock.Elapsed > Patience)
            {
                Assert.Fail($"timed out waiting for {what}; firings: {string.Join("; ", firings.Select(f => $"{f.Stage}@{f.FireTime} on {f.Node}"))}\n" +
                    string.Join("\n", nodes.Select(n => $"stdout:\n{n.Stdout}\nstderr:\n{n.Stderr}")));
            }

            await Task.Delay(100);
        }
    }

    /// <summary>SIGTERM, then the process must be gone within 5 s with status 0.</summary>
    private static async Task TerminateGracefully(CliRunner.Child node)
    {
        var clock = Stopwatch.StartNew();
        Assert.Equal(0, Signals.Send(node.Process.Id, Signals.Terminate));
        var result = await node.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"SIGTERM took {clock.Elapsed} to stop the node");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("stopped", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InMemory_EveryStageFiresOnTheIntervalSchedule_AndSigtermStopsWithinFiveSeconds()
    {
        string url = await SandboxUrlAsync();
        string db = _dir.File("keel.db");
        using var node = Node(url, db, "solo");
        try
        {
            var firings = await AwaitFirings(db, f => f.Count(x => x.Outcome is not null) >= 6 && f.Select(x => x.Stage).Distinct().Count() == 3, "every stage to fire", node);
            Assert.All(firings, f => Assert.Equal("solo", f.Node));
            Assert.All(firings.Where(f => f.Outcome is not null), f => Assert.Equal("0 done, 0 skipped, 0 failed", f.Outcome));

            // Fire times are whole seconds (the --every grid), so every node that shares a store means the same firings.
            Assert.All(firings, f => Assert.Equal(0, f.FireTime.UnixNanos % 1_000_000_000));
            await TerminateGracefully(node);
        }
        finally
        {
            node.KillHard();
        }
    }

    [Fact]
    public void BadOptions_AreUsageErrors()
    {
        var r = CliRunner.Run(_dir.Path, Env, "pipeline", "run", "--venue", "alpaca", "--db", _dir.File("k.db"), "--every", "soon");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--every 'soon' is not a duration", r.Stderr, StringComparison.Ordinal);
        var m = CliRunner.Run(_dir.Path, Env, "pipeline", "run", "--venue", "alpaca", "--db", _dir.File("k.db"), "--misfire-threshold", "0s");
        Assert.Equal(2, m.ExitCode);
        Assert.Contains("--misfire-threshold '0s' is not a duration", m.Stderr, StringComparison.Ordinal);
    }

    [PostgresFact]
    public async Task TwoNodesOnOnePostgres_RunEachFiringOnce_AndWhenOneIsKilledTheOtherTakesOverWithinAMisfireThreshold()
    {
        using var schema = Postgres.NewSchema();
        string url = await SandboxUrlAsync();
        string db = schema.ConnectionString;
        var checkin = TimeSpan.FromSeconds(1);
        var misfire = TimeSpan.FromSeconds(2);
        string[] cluster = ["--checkin-interval", "1s", "--misfire-threshold", "2s"];
        using var a = Node(url, db, "a", cluster);
        using var b = Node(url, db, "b", cluster);
        try
        {
            // Both nodes up (each prints its banner once its scheduler has started), then some firings.
            await SandboxTesting.Eventually(() => a.Stdout.Contains("clustered scheduler", StringComparison.Ordinal) && b.Stdout.Contains("clustered scheduler", StringComparison.Ordinal), "both nodes to start", Patience);
            var before = await AwaitFirings(db, f => f.Count(x => x.Outcome is not null) >= 9, "nine firings", a, b);

            // Each (stage, fire time) is one row, and neither node ever found a firing claimed by the other: Quartz gave
            // each firing to exactly one node (a duplicate delivery would be refused by the key and logged as 6012).
            Assert.Equal(before.Count, before.Select(f => (f.Stage, f.FireTime)).Distinct().Count());

            // SIGKILL the node that ran the latest firing: whatever it held must be recovered by the other.
            var victim = before.MaxBy(f => f.FireTime)!.Node == "a" ? a : b;
            var survivor = victim == a ? "b" : "a";
            victim.KillHard();
            var killedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow);

            var after = await AwaitFirings(
                db,
                f => new[] { "executor", "order-monitor", "position-monitor" }.All(stage => f.Any(x => x.Stage == stage && x.Node == survivor && x.FireTime > killedAt && x.Outcome is not null)),
                $"node {survivor} to take over every stage",
                a,
                b);

            // Within one misfire threshold (after the check-in that finds the node dead, and the next tick of the grid),
            // with 4 s for a loaded machine (the whole suite on 2 cores once took 6.7 s in all).
            var bound = killedAt.UnixNanos + (checkin + misfire + TimeSpan.FromSeconds(1) + TimeSpan.FromSeconds(4)).Ticks * 100;
            foreach (var stage in new[] { "executor", "order-monitor", "position-monitor" })
            {
                var first = after.Where(x => x.Stage == stage && x.Node == survivor && x.FireTime > killedAt).Min(x => x.FireTime.UnixNanos);
                Assert.True(first <= bound, $"{stage}: node {survivor} first ran a firing {(first - killedAt.UnixNanos) / 1e9:0.0} s after the kill");
            }

            Assert.Equal(after.Count, after.Select(f => (f.Stage, f.FireTime)).Distinct().Count());
            var live = survivor == "a" ? a : b;

            // Quartz can deliver a firing to both nodes when a node is starved past check-in + misfire threshold (the
            // other then declares it dead and releases its acquired triggers while it still runs them). The claim key is
            // the guard: every firing the survivor skipped as already claimed must be a row the other node claimed.
            var final = Firings(db);
            foreach (System.Text.RegularExpressions.Match m in ClaimedLine().Matches(live.Stderr + live.Stdout))
            {
                var fire = Timestamp.FromDateTimeOffset(DateTimeOffset.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture));
                var row = Assert.Single(final, f => f.Stage == m.Groups[1].Value && f.FireTime == fire);
                Assert.NotEqual(survivor, row.Node);
            }

            await TerminateGracefully(live);
        }
        finally
        {
            a.KillHard();
            b.KillHard();
        }
    }

    [Fact]
    public void TheCronTriggers_FireInTheUtcWindow_OnWeekdays()
    {
        var job = new Quartz.JobKey("x", "keel-pipeline");
        var monitor = PipelineScheduler.Trigger(PipelineStage.OrderMonitor, job, null, TimeProvider.System);
        var executor = PipelineScheduler.Trigger(PipelineStage.Executor, job, null, TimeProvider.System);

        // A Monday at least a week ahead (a cron trigger starts now, so the days checked must be after today): the
        // monitors from 13:00 UTC every 5 minutes to 23:55, the executor at 13:45 and 14:45.
        var weekAhead = DateTimeOffset.UtcNow.UtcDateTime.Date.AddDays(7);
        var monday = new DateTimeOffset(weekAhead.AddDays(((int)DayOfWeek.Monday - (int)weekAhead.DayOfWeek + 7) % 7), TimeSpan.Zero);
        Assert.Equal(monday.AddHours(13), monitor.GetFireTimeAfter(monday.AddHours(4)));
        Assert.Equal(monday.AddHours(23).AddMinutes(55), monitor.GetFireTimeAfter(monday.AddHours(23).AddMinutes(50)));
        Assert.Equal(monday.AddDays(1).AddHours(13), monitor.GetFireTimeAfter(monday.AddHours(23).AddMinutes(55)));
        Assert.Equal(monday.AddHours(14).AddMinutes(45), executor.GetFireTimeAfter(monday.AddHours(14)));

        // Friday evening to Monday morning: nothing at the weekend.
        Assert.Equal(monday.AddDays(7).AddHours(13).AddMinutes(45), executor.GetFireTimeAfter(monday.AddDays(4).AddHours(15)));
    }

    [Fact]
    public void OnSchedule_FollowsTheNyseCalendar_InBothDaylightAndStandardTime()
    {
        static Timestamp Utc(int y, int mo, int d, int h, int mi) => Timestamp.FromParts(y, mo, d, h, mi, 0);

        // Summer (EDT): 09:45 New York is 13:45 UTC; winter (EST): 14:45 UTC.
        Assert.True(StageJobHost.OnSchedule(PipelineStage.Executor, Utc(2026, 7, 7, 13, 45)));
        Assert.False(StageJobHost.OnSchedule(PipelineStage.Executor, Utc(2026, 7, 7, 14, 45)));
        Assert.True(StageJobHost.OnSchedule(PipelineStage.Executor, Utc(2026, 12, 8, 14, 45)));
        Assert.False(StageJobHost.OnSchedule(PipelineStage.Executor, Utc(2026, 12, 8, 13, 45)));

        // The day after the spring change (Monday 9 March 2026) and after the autumn one (Monday 2 November 2026).
        Assert.True(StageJobHost.OnSchedule(PipelineStage.OrderMonitor, Utc(2026, 3, 9, 13, 30)));
        Assert.True(StageJobHost.OnSchedule(PipelineStage.OrderMonitor, Utc(2026, 11, 2, 14, 30)));
        Assert.False(StageJobHost.OnSchedule(PipelineStage.OrderMonitor, Utc(2026, 11, 2, 13, 30)));

        // A holiday (Christmas 2026), an early close (day after Thanksgiving 2026: 13:00 EST = 18:00 UTC), the evening runs.
        Assert.False(StageJobHost.OnSchedule(PipelineStage.Executor, Utc(2026, 12, 25, 14, 45)));
        Assert.True(StageJobHost.OnSchedule(PipelineStage.OrderMonitor, Utc(2026, 11, 27, 18, 0)));
        Assert.False(StageJobHost.OnSchedule(PipelineStage.OrderMonitor, Utc(2026, 11, 27, 18, 5)));
        Assert.True(StageJobHost.OnSchedule(PipelineStage.OrderMonitor, Utc(2026, 11, 27, 23, 0)));
        Assert.True(StageJobHost.OnSchedule(PipelineStage.PositionMonitor, Utc(2026, 12, 8, 23, 15)));
        Assert.False(StageJobHost.OnSchedule(PipelineStage.PositionMonitor, Utc(2026, 12, 8, 14, 35)));

        // Every firing of the schedule falls inside the UTC window the cron triggers cover.
        for (var day = new DateOnly(2024, 1, 1); day <= new DateOnly(2030, 12, 31); day = day.AddDays(1))
        {
            foreach (var f in PipelineSchedule.Firings(day))
            {
                var utc = DateTimeOffset.FromUnixTimeMilliseconds(f.Time.UnixNanos / 1_000_000);
                Assert.InRange(utc.Hour, 13, 23);
                Assert.Equal(0, utc.Minute % 5);
                Assert.True(f.Stage != PipelineStage.Executor || (utc.Minute == 45 && utc.Hour is 13 or 14), $"executor at {utc:O}");
                Assert.True(StageJobHost.OnSchedule(f.Stage, f.Time));
            }
        }
    }
}
