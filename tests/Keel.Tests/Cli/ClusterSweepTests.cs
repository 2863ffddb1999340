using Keel.Domain;
using Keel.Engine.Persistence;
using Keel.Runtime;
using Keel.Runtime.Optimization;
using Keel.Storage;
using Keel.Tests.Support;

namespace Keel.Tests.Cli;

/// <summary><c>keel optimize --cluster</c> and <c>keel worker</c>: a sweep shared through PostgreSQL by several processes.</summary>
public sealed class ClusterSweepTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);
    private static string Orcl => Path.Combine(TestPaths.RepoRoot, "samples", "data", "orcl-1995-2014.txt");

    private static string[] Sweep(params string[] extra) =>
        ["optimize", "--data", Orcl, "--strategy", "sma-cross", "--param", "fast=2:11", "--param", "slow=20:50:10", "--stake", "10", "--commission", "0.001", "-q", .. extra];

    [PostgresFact]
    public async Task ASweepSplitOverTwoWorkers_GivesTheSameFilesAsOneProcess()
    {
        using var schema = Postgres.NewSchema();
        using var tmp = new TempDir();
        var local = CliRunner.Run(tmp.Path, null, Sweep("--jobs", "2", "--db", "none", "--out", "local"));
        Assert.True(local.ExitCode == 0, local.ToString());

        using var a = CliRunner.Spawn(tmp.Path, null, "worker", "--db", schema.ConnectionString, "--jobs", "1", "--name", "a", "--poll", "0.05");
        using var b = CliRunner.Spawn(tmp.Path, null, "worker", "--db", schema.ConnectionString, "--jobs", "1", "--name", "b", "--poll", "0.05");
        try
        {
            // --jobs 0: this process only queues, waits and gathers; the two workers run every combination.
            var cluster = await Task.Run(() => CliRunner.Run(tmp.Path, null, Sweep("--cluster", "--jobs", "0", "--db", schema.ConnectionString, "--out", "cluster")));
            Assert.True(cluster.ExitCode == 0, cluster.ToString());
            foreach (var file in new[] { "results.csv", "report.html", "metrics.json" })
            {
                Assert.Equal(File.ReadAllText(tmp.File($"local/{file}")), File.ReadAllText(tmp.File($"cluster/{file}")));
            }

            using var store = (PostgresStore)KeelStore.Open(schema.ConnectionString);
            var run = Assert.Single(store.ListRuns(10));
            Assert.Equal("optimize", run.Kind);
            Assert.Equal(RunStatus.Completed, run.Status);
            var workers = store.SweepWorkers(run.Id);
            Assert.Equal(40, workers.Values.Sum());
            Assert.True(workers.GetValueOrDefault("a") > 0 && workers.GetValueOrDefault("b") > 0, $"both workers should take some: {string.Join(", ", workers)}");
        }
        finally
        {
            a.KillHard();
            b.KillHard();
        }
    }

    [PostgresFact]
    public void ACombinationWhoseWorkerDied_IsRunByAnotherOnceItsLeaseRunsOut()
    {
        using var schema = Postgres.NewSchema();
        using var store = KeelStore.Open(schema.ConnectionString);
        var spec = Keel.Tests.Runtime.RunHostTests.Spec(RunMode.Backtest, schema.ConnectionString, null) with { Parameters = ["fast=3:5", "slow=20"] };
        var now = Timestamp.FromUnixSeconds(1_800_000_000);
        store.CreateRun(new RunRecord("sweep-1", SweepService.Kind, RunStatus.Running, "sma-cross", "fast=3:5,slow=20", Orcl, RunSpecJson.Write(spec), null, 0, now, now, now, null, null, 0, null));
        store.EnqueueSweep("sweep-1", [0, 1, 2], null);

        // A worker claims the first combination for a short lease and dies without a result.
        var lost = store.ClaimSweepJob("dead", TimeSpan.FromMilliseconds(300));
        Assert.NotNull(lost);
        Assert.Equal(0, lost.Index);

        // Another worker runs what is queued, then (as the node that started the sweep does) looks again until all is done.
        long ran = 0;
        var deadline = DateTime.UtcNow + Patience;
        while (store.SweepProgress("sweep-1").Done < 3)
        {
            Assert.True(DateTime.UtcNow < deadline, "the lost combination was never taken over");
            ran += SweepWorker.Run(store, new RunServices(), new SweepWorkerOptions { Name = "live", Jobs = 1, UntilIdle = true }, null, CancellationToken.None);
        }

        Assert.Equal(3, ran);
        Assert.Equal(3, store.SweepResults("sweep-1").Count);
        Assert.Equal(3, ((PostgresStore)store).SweepWorkers("sweep-1")["live"]);

        // The dead worker's late result is ignored: the first stored wins.
        store.CompleteSweepJob(lost, "{}");
        Assert.NotEqual("{}", store.SweepResults("sweep-1")[0].Result);
    }

    [Fact]
    public void Cluster_WithoutAPostgresStore_IsAUsageError_NothingRecorded()
    {
        using var tmp = new TempDir();
        var r = CliRunner.Run(tmp.Path, null, Sweep("--cluster", "--db", tmp.File("k.db"), "--out", "o"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--cluster shares the sweep through the store, so --db must be a PostgreSQL database", r.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(tmp.File("o")));

        var w = CliRunner.Run(tmp.Path, null, "worker", "--db", tmp.File("k.db"), "--once");
        Assert.Equal(2, w.ExitCode);
        Assert.Contains("keel worker needs a PostgreSQL store", w.Stderr, StringComparison.Ordinal);
    }
}
