using System.Globalization;
using System.Text;
using Keel.Engine.Persistence;
using Keel.Storage;
using Keel.Tests.Support;

namespace Keel.Tests.Storage;

/// <summary>
/// A sweep runs many backtests on one store: four real <c>keel backtest</c> processes on one SQLite file at once must
/// all finish and all be recorded (they used to fail with "locked by another program" after the 5 s busy timeout).
/// </summary>
public sealed class SqliteConcurrencyTests : IDisposable
{
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    [Fact]
    public async Task FourBacktestsAtOnceOnOneStore_AllCompleteAndAreRecorded()
    {
        // Long enough that the four journals contend for the write lock for many seconds.
        var data = _tmp.Write("big.csv", Bars(300_000));
        var db = _tmp.File("keel.db");
        var children = new List<CliRunner.Child>();
        try
        {
            for (int i = 0; i < 4; i++)
            {
                children.Add(CliRunner.Spawn(_tmp.Path, null, "backtest", "--data", data, "--strategy", "sma-cross", "--param", "fast=2", "--param", "slow=3", "--db", db, "-q"));
            }

            var results = await Task.WhenAll(children.Select(c => c.WaitAsync(TimeSpan.FromMinutes(4))));
            for (int i = 0; i < results.Length; i++)
            {
                Assert.True(results[i].ExitCode == 0, $"run {i + 1} of 4 failed: {results[i]}");
            }

            var ids = results.Select(r => r.Stdout.Split('\n').Single(l => l.StartsWith("run: ", StringComparison.Ordinal))[5..].Trim()).ToList();
            using var store = KeelStore.Open(db);
            var runs = store.ListRuns(10);
            Assert.Equal(ids.Order(StringComparer.Ordinal), runs.Select(r => r.Id).Order(StringComparer.Ordinal));
            Assert.All(runs, r => Assert.True(r.Status == RunStatus.Completed, $"run {r.Id} is {r.Status}: {r.Error}"));
            Assert.Single(runs.Select(r => store.Counts(r.Id) with { Snapshots = 0, Checkpoints = 0 }).Distinct());
        }
        finally
        {
            foreach (var c in children)
            {
                c.Dispose();
            }
        }
    }

    /// <summary>A seeded random walk of one-minute bars.</summary>
    private static string Bars(int count)
    {
        var random = new Random(1);
        var sb = new StringBuilder("datetime,open,high,low,close,volume\n");
        var t = new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        decimal p = 100m;
        for (int i = 0; i < count; i++)
        {
            decimal o = p;
            p = Math.Max(1m, p + (random.Next(-20, 21) / 100m));
            sb.Append(CultureInfo.InvariantCulture, $"{t.AddMinutes(i):yyyy-MM-dd HH:mm:ss},{o},{Math.Max(o, p) + 0.05m},{Math.Min(o, p) - 0.05m},{p},1000\n");
        }

        return sb.ToString();
    }
}
