using System.Globalization;
using System.Text;
using Keel.Engine.Persistence;
using Keel.Storage;
using Keel.Tests.Support;
using Xunit.Abstractions;

namespace Keel.Tests.Storage;

/// <summary>A generated minute-bar file and the uninterrupted run's outputs, shared by the kill tests.</summary>
public sealed class KillFixture : IDisposable
{
    public const int Bars = 150_000;

    public KillFixture()
    {
        Dir = new TempDir();
        Data = Dir.File("walk.csv");
        WriteWalk(Data, Bars, seed: 20261121);
        var reference = CliRunner.Run(Dir.Path, null, [.. KillResumeTests.BacktestArgs(Data, Dir.File("ref")), "--db", "none"]);
        if (reference.ExitCode != 0)
        {
            throw new InvalidOperationException("the reference run failed: " + reference);
        }

        Reference = KillResumeTests.Outputs.Select(f => (f, File.ReadAllBytes(Path.Combine(Dir.File("ref"), f)))).ToDictionary();
    }

    public TempDir Dir { get; }

    public string Data { get; }

    public Dictionary<string, byte[]> Reference { get; }

    public void Dispose() => Dir.Dispose();

    /// <summary>A deterministic random walk: enough crossings for thousands of orders.</summary>
    private static void WriteWalk(string path, int bars, int seed)
    {
        var rng = new Random(seed);
        var sb = new StringBuilder(bars * 60);
        sb.Append("datetime,open,high,low,close,volume\n");
        long price = 100_0000; // in 1e-4
        var t = new DateTime(2021, 1, 4, 14, 30, 0, DateTimeKind.Utc);
        for (int i = 0; i < bars; i++)
        {
            long open = price;
            long close = Math.Max(1_0000, open + rng.Next(-600, 601));
            long high = Math.Max(open, close) + rng.Next(0, 200);
            long low = Math.Max(5000, Math.Min(open, close) - rng.Next(0, 200));
            sb.Append(t.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)).Append(',')
                .Append(Px(open)).Append(',').Append(Px(high)).Append(',').Append(Px(low)).Append(',').Append(Px(close)).Append(',')
                .Append(rng.Next(100, 5000).ToString(CultureInfo.InvariantCulture)).Append('\n');
            price = close;
            t = t.AddMinutes(1);
        }

        File.WriteAllText(path, sb.ToString());
    }

    private static string Px(long v) => (v / 10000m).ToString("0.0000", CultureInfo.InvariantCulture);
}

/// <summary>
/// A backtest killed with SIGKILL at random moments, and resumed each time, ends with exactly the files of a run that
/// was never interrupted. At least 20 kill points per backend, each at a random time inside the run.
/// </summary>
public sealed class KillResumeTests(KillFixture fixture, ITestOutputHelper log) : IClassFixture<KillFixture>
{
    public static readonly string[] Outputs = ["metrics.json", "orders.csv", "fills.csv", "trades.csv", "equity.csv", "report.html"];

    public static string[] BacktestArgs(string data, string output, string snapshotEvery = "1") =>
    [
        "backtest", "--data", data, "--strategy", "sma-cross", "--param", "fast=10", "--param", "slow=30", "--stake", "1",
        "--commission", "0.001", "--cash", "100000", "--out", output, "-q", "--snapshot-every", snapshotEvery,
    ];

    [Fact]
    public async Task Sqlite_KilledAtRandomPoints_ResumesToIdenticalOutputs()
    {
        using var dir = new TempDir();
        await KillAndResume(dir, dir.File("keel.db"));
    }

    [PostgresFact]
    public async Task Postgres_KilledAtRandomPoints_ResumesToIdenticalOutputs()
    {
        using var dir = new TempDir();
        using var schema = Postgres.NewSchema();
        await KillAndResume(dir, schema.ConnectionString);
    }

    private async Task KillAndResume(TempDir dir, string db)
    {
        const int killPoints = 20;
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        string context = $"(seed {seed}; {db})";

        // How long a recorded run takes from printing its id to exiting: kills are spread over that window.
        var timed = CliRunner.Spawn(dir.Path, null, [.. BacktestArgs(fixture.Data, dir.File("timed")), "--db", db]);
        await timed.RunId;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var timedResult = await timed.WaitAsync(TimeSpan.FromMinutes(2));
        double window = clock.Elapsed.TotalMilliseconds;
        Assert.True(timedResult.ExitCode == 0, timedResult.ToString());
        timed.Dispose();
        AssertSameAsReference(dir.File("timed"), context);
        log.WriteLine($"recorded run: {window:0} ms after printing its id {context}");

        int kills = 0, chains = 0, landedAfterCompletion = 0;
        while (kills < killPoints)
        {
            chains++;
            string output = dir.File($"out-{chains}");
            string? runId = null;
            int killsThisChain = rng.Next(3, 7);
            for (int attempt = 0; ; attempt++)
            {
                if (runId is not null && Status(db, runId) == RunStatus.Completed)
                {
                    // The kill landed after the run had recorded its completion (while the process was exiting).
                    landedAfterCompletion++;
                    break;
                }

                string[] args = runId is null
                    ? [.. BacktestArgs(fixture.Data, output), "--db", db]
                    : ["resume", runId, "--db", db, "-q"];
                using var child = CliRunner.Spawn(dir.Path, null, args);
                string id = await child.RunId.WaitAsync(TimeSpan.FromMinutes(1));
                Assert.True(runId is null || runId == id, $"resume printed run {id}, not {runId} {context}");
                runId = id;
                if (attempt >= killsThisChain || kills >= killPoints)
                {
                    var final = await child.WaitAsync(TimeSpan.FromMinutes(2));
                    Assert.True(final.ExitCode == 0, $"{final} {context}");
                    break;
                }

                // A random moment in what is left of the run (a resumed run has only the rest to do).
                double left = attempt == 0 ? 1 : Math.Max(0.05, 1 - (Progress(db, id) / 100));
                await Task.Delay(TimeSpan.FromMilliseconds(rng.NextDouble() * window * left));
                bool finished = child.Process.HasExited;
                child.KillHard();
                kills++;
                if (finished)
                {
                    landedAfterCompletion++;
                    Assert.True(child.Process.ExitCode == 0, $"{child.Stdout}\n{child.Stderr} {context}");
                    break;
                }
            }

            AssertSameAsReference(output, context + $" chain {chains}");
            Assert.Empty(Directory.GetDirectories(output, ".keel-*"));
            using var store = KeelStore.Open(db);
            var run = store.FindRun(runId!)!;
            Assert.Equal(RunStatus.Completed, run.Status);
            Assert.Equal(100, run.Progress);

            // Nothing doubled in the journal: one order row per order, one fill row per fill.
            var metrics = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "metrics.json"))).RootElement;
            var counts = store.Counts(runId!);
            Assert.Equal(metrics.GetProperty("orders").GetInt64(), counts.Orders);
            Assert.Equal(File.ReadAllLines(Path.Combine(output, "fills.csv")).Length - 1, counts.Fills);
        }

        log.WriteLine($"{kills} kills in {chains} chains; {landedAfterCompletion} landed after the process had finished {context}");
        Assert.True(kills - landedAfterCompletion >= killPoints / 2, $"only {kills - landedAfterCompletion} kills landed mid-run {context}");
    }

    [Fact]
    public async Task A_DamagedLatestSnapshot_IsSkipped_AndTheResumeStillMatches_WhileASecondProcessIsRefused()
    {
        using var dir = new TempDir();
        string db = string.Empty, output = string.Empty, id = string.Empty;
        for (int attempt = 1; ; attempt++)
        {
            db = dir.File($"keel-{attempt}.db");
            output = dir.File($"out-{attempt}");
            using var child = CliRunner.Spawn(dir.Path, null, [.. BacktestArgs(fixture.Data, output), "--db", db]);
            id = await child.RunId;
            await Until(() => Snapshots(db, id) >= 3, child);

            // Freeze it (SIGSTOP) so it cannot finish before the kill: the run stays unfinished, its lock held. On a busy
            // machine the run can end between the poll and the signal; then the scenario starts again.
            if (Signals.Send(child.Process.Id, Signals.Stop) != 0)
            {
                Assert.True(attempt < 3, "the run finished before it could be frozen, three times");
                log.WriteLine($"attempt {attempt}: the run finished before SIGSTOP; again");
                continue;
            }

            // The run is live: a second process may not drive it.
            var second = CliRunner.Run(dir.Path, null, "resume", id, "--db", db);
            Assert.Equal(2, second.ExitCode);
            Assert.Contains($"run {id} is being run by another Keel process", second.Stderr, StringComparison.Ordinal);
            child.KillHard();
            break;
        }

        long newest;
        using (var store = KeelStore.Open(db))
        {
            newest = store.Snapshots(id, 1)[0].Sequence;
        }

        StorageCliTestsExec(db, $"UPDATE snapshots SET payload = substr(payload, 1, length(payload) / 2) WHERE run_id = '{id}' AND seq = {newest}");
        var resumed = CliRunner.Run(dir.Path, null, "resume", id, "--db", db, "-q");
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Contains($"snapshot at event {newest}", resumed.Stderr, StringComparison.Ordinal);
        Assert.Contains("damaged (checksum mismatch); using an older one", resumed.Stderr, StringComparison.Ordinal);
        AssertSameAsReference(output, $"run {id}");
    }

    [Fact]
    public async Task CtrlC_StopsTheRunWithASnapshot_AndResumeFinishesIt()
    {
        using var dir = new TempDir();
        string db = string.Empty, output = string.Empty, id = string.Empty;
        CliRunner.Result stopped;
        for (int attempt = 1; ; attempt++)
        {
            db = dir.File($"keel-{attempt}.db");
            output = dir.File($"out-{attempt}");
            using var child = CliRunner.Spawn(dir.Path, null, [.. BacktestArgs(fixture.Data, output, snapshotEvery: "1000000000"), "--db", db, "--snapshot-seconds", "3600"]);
            id = await child.RunId;

            // The run takes well under a second, so the test freezes the child (SIGSTOP) before it looks at the store:
            // a run seen running while frozen is still running when the interrupt lands, which SIGCONT then delivers.
            if (!await FrozenWhileRunning(db, id, child))
            {
                Assert.True(attempt < 3, "the run finished before it could be interrupted, three times");
                log.WriteLine($"attempt {attempt}: the run finished before it was seen running; again");
                continue;
            }

            Assert.Equal(0, Interrupt(child.Process.Id));
            Assert.Equal(0, Signals.Send(child.Process.Id, Signals.Continue));
            stopped = await child.WaitAsync(TimeSpan.FromMinutes(1));

            // The run is recorded as running until its outputs are written, after the last bar: an interrupt that lands
            // there finds nothing left to stop and the run completes (exit 0, as documented). Then the scenario starts again.
            if (stopped.ExitCode == 0 && attempt < 5)
            {
                log.WriteLine($"attempt {attempt}: the interrupt landed after the last bar; again");
                continue;
            }

            break;
        }

        Assert.True(stopped.ExitCode == 130, stopped.ToString());
        Assert.Contains($"keel resume {id}", stopped.Stderr, StringComparison.Ordinal);
        using (var store = KeelStore.Open(db))
        {
            var run = store.FindRun(id)!;
            Assert.Equal(RunStatus.Stopped, run.Status);
            Assert.Equal(1, store.Counts(id).Snapshots);
        }

        Assert.False(File.Exists(Path.Combine(output, "metrics.json")));
        var resumed = CliRunner.Run(dir.Path, null, "resume", id, "--db", db, "-q");
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Contains("resuming run", resumed.Stdout, StringComparison.Ordinal);
        AssertSameAsReference(output, $"run {id}");
    }

    [PostgresFact]
    public async Task Postgres_GoingAwayMidRun_FailsTheRunClearly_AndResumeFinishesIt()
    {
        using var dir = new TempDir();
        using var schema = Postgres.NewSchema();
        var output = dir.File("out");
        string id;
        var victim = "keel-victim-" + schema.Name;
        var db = schema.ConnectionString + $";Application Name={victim}";
        using (var child = CliRunner.Spawn(dir.Path, null, [.. BacktestArgs(fixture.Data, output), "--db", db]))
        {
            id = await child.RunId;
            await Until(() => Snapshots(schema.ConnectionString, id) >= 2, child);

            // Every connection of the child is cut, as when the server restarts.
            schema.Exec($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{victim}'");
            var failed = await child.WaitAsync(TimeSpan.FromMinutes(1));
            if (failed.ExitCode == 0)
            {
                // The run won the race and finished first; nothing to check but its result.
                log.WriteLine("the run finished before the server cut its connections");
                AssertSameAsReference(output, "finished before the server went away");
                return;
            }

            Assert.Equal(1, failed.ExitCode);
            log.WriteLine(failed.Stderr);
            Assert.Contains("postgres://", failed.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("Password", failed.Stderr, StringComparison.Ordinal);
            Assert.Single(failed.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }

        using (var store = KeelStore.Open(schema.ConnectionString))
        {
            var run = store.FindRun(id)!;
            Assert.Equal(RunStatus.Failed, run.Status);
            Assert.NotNull(run.Error);
        }

        var resumed = CliRunner.Run(dir.Path, null, "resume", id, "--db", schema.ConnectionString, "-q");
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Contains("resuming run", resumed.Stdout, StringComparison.Ordinal);
        AssertSameAsReference(output, $"run {id}");
    }

    private static int Interrupt(int pid) => Signals.Send(pid, Signals.Interrupt);

    private static void StorageCliTestsExec(string db, string sql) => Cli.StorageCliTests.Exec(db, sql);

    private static long Snapshots(string db, string id)
    {
        using var store = KeelStore.Open(db);
        return store.Counts(id).Snapshots;
    }

    private static double Progress(string db, string id)
    {
        using var store = KeelStore.Open(db);
        return store.FindRun(id)?.Progress ?? 0;
    }

    private static RunStatus? Status(string db, string id)
    {
        using var store = KeelStore.Open(db);
        return store.FindRun(id)?.Status;
    }

    private static bool IsRunning(string db, string id)
    {
        using var store = KeelStore.Open(db);
        return store.FindRun(id)?.Status == RunStatus.Running;
    }

    /// <summary>
    /// Freezes the child (SIGSTOP) and checks that its run is running; if not yet, lets it go on (SIGCONT) and looks
    /// again. Returns false when the child finished first, true with the child frozen in the middle of its run.
    /// </summary>
    private static async Task<bool> FrozenWhileRunning(string db, string id, CliRunner.Child child)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (true)
        {
            if (Signals.Send(child.Process.Id, Signals.Stop) != 0)
            {
                return false;
            }

            if (IsRunning(db, id))
            {
                return true;
            }

            Assert.Equal(0, Signals.Send(child.Process.Id, Signals.Continue));
            await Task.WhenAny(child.Process.WaitForExitAsync(), Task.Delay(5));
            if (child.Process.HasExited)
            {
                return false;
            }

            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for the run to start");
        }
    }

    /// <summary>Waits for a condition on the store while the child runs (fails if the child exits first or a minute passes).</summary>
    private static async Task Until(Func<bool> condition, CliRunner.Child child)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (!condition())
        {
            Assert.False(child.Process.HasExited, $"the run ended before the condition held\n{child.Stdout}\n{child.Stderr}");
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for the run");
            await Task.Delay(10);
        }
    }

    private void AssertSameAsReference(string output, string context)
    {
        foreach (var name in Outputs)
        {
            var path = Path.Combine(output, name);
            Assert.True(File.Exists(path), $"{name} is missing in {output} {context}");
            Assert.True(fixture.Reference[name].AsSpan().SequenceEqual(File.ReadAllBytes(path)), $"{name} differs from the uninterrupted run {context}");
        }
    }
}
