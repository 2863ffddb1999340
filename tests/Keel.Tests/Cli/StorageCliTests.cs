using System.Text.Json;
using Keel.Engine.Persistence;
using Keel.Storage;
using Keel.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Keel.Tests.Cli;

/// <summary>The store from the command line: every run recorded, inspected, imported candles, and the faults users meet.</summary>
public class StorageCliTests
{
    private static readonly string Orcl = TestPaths.Data("orcl-2014.txt");

    private static string[] Backtest(string data, string? outDir, params string[] extra) =>
        ["backtest", "--data", data, "--strategy", "sma-cross", "--param", "fast=5", "--param", "slow=12", "--commission", "0.001", "-q",
            .. outDir is null ? Array.Empty<string>() : ["--out", outDir], .. extra];

    private static string RunIdOf(CliRunner.Result r)
    {
        var line = r.Stdout.Split('\n').FirstOrDefault(l => l.StartsWith("run: ", StringComparison.Ordinal));
        Assert.True(line is not null, "no 'run: ID' line\n" + r);
        return line![5..].Trim();
    }

    [Fact]
    public void Backtest_IsRecorded_AndRunsListShowAndEventsShowIt()
    {
        using var tmp = new TempDir();
        var db = tmp.File("k.db");
        var r = CliRunner.Run(tmp.Path, null, Backtest(Orcl, "out", "--db", db));
        Assert.True(r.ExitCode == 0, r.ToString());
        var id = RunIdOf(r);
        Assert.Matches("^[0-9]{8}-[0-9]{6}-[0-9a-f]{6}$", id);
        using var metrics = JsonDocument.Parse(File.ReadAllText(tmp.File("out/metrics.json")));
        int orders = metrics.RootElement.GetProperty("orders").GetInt32();
        Assert.True(orders > 4);

        var list = CliRunner.Run(tmp.Path, null, "runs", "list", "--db", db, "--json");
        Assert.True(list.ExitCode == 0, list.ToString());
        using (var row = JsonDocument.Parse(list.Stdout.Trim()))
        {
            var e = row.RootElement;
            Assert.Equal(id, e.GetProperty("id").GetString());
            Assert.Equal("completed", e.GetProperty("status").GetString());
            Assert.Equal("backtest", e.GetProperty("kind").GetString());
            Assert.Equal(100, e.GetProperty("progress").GetDouble());
            Assert.Equal(orders, e.GetProperty("metrics").GetProperty("orders").GetInt32());
            Assert.Equal(metrics.RootElement.GetProperty("final_equity").GetRawText(), e.GetProperty("metrics").GetProperty("final_equity").GetRawText());
        }

        var table = CliRunner.Run(tmp.Path, null, "runs", "list", "--db", db);
        Assert.Contains(id, table.Stdout, StringComparison.Ordinal);
        Assert.Contains("completed", table.Stdout, StringComparison.Ordinal);

        var show = CliRunner.Run(tmp.Path, null, "runs", "show", id[..17], "--db", db);
        Assert.True(show.ExitCode == 0, show.ToString());
        Assert.Contains("completed", show.Stdout, StringComparison.Ordinal);
        Assert.Contains("fast=5,slow=12", show.Stdout, StringComparison.Ordinal);
        Assert.Matches($@"Orders\s+│\s+{orders}\s", show.Stdout);

        var events = CliRunner.Run(tmp.Path, null, "runs", "events", id, "--db", db, "--json");
        Assert.True(events.ExitCode == 0, events.ToString());
        var lines = events.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var parsed = lines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var seqs = parsed.Select(e => e.GetProperty("seq").GetInt64()).ToList();
        Assert.True(seqs.Zip(seqs.Skip(1)).All(p => p.First < p.Second));
        Assert.Equal(orders, parsed.Count(e => e.GetProperty("type").GetString() == "order.submitted"));
        Assert.All(parsed.Where(e => e.GetProperty("type").GetString() == "order.filled"), e => Assert.NotNull(e.GetProperty("payload").GetProperty("price").GetString()));

        var since = CliRunner.Run(tmp.Path, null, "runs", "events", id, "--db", db, "--since", seqs[^3].ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(2, since.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

        var missing = CliRunner.Run(tmp.Path, null, "runs", "show", "19990101", "--db", db);
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains($"no run 19990101 in {db}", missing.Stderr, StringComparison.Ordinal);

        var again = CliRunner.Run(tmp.Path, null, "resume", id, "--db", db);
        Assert.Equal(0, again.ExitCode);
        Assert.Contains("already completed", again.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void DataImport_ThenBacktestFromTheStore_GivesTheSameOrdersAsTheFile()
    {
        using var tmp = new TempDir();
        var db = tmp.File("k.db");
        var import = CliRunner.Run(tmp.Path, null, "data", "import", "--symbol", "ORCL", "--timeframe", "1d", Orcl, "--db", db, "-q");
        Assert.True(import.ExitCode == 0, import.ToString());
        Assert.Contains("imported 252 candles of ORCL 1d", import.Stdout, StringComparison.Ordinal);

        // Importing again replaces, never duplicates.
        Assert.Equal(0, CliRunner.Run(tmp.Path, null, "data", "import", "--symbol", "ORCL", "--timeframe", "1d", Orcl, "--db", db, "-q").ExitCode);
        var list = CliRunner.Run(tmp.Path, null, "data", "list", "--db", db);
        Assert.Contains("ORCL", list.Stdout, StringComparison.Ordinal);
        Assert.Contains("252", list.Stdout, StringComparison.Ordinal);
        Assert.Contains("db:ORCL:1d", list.Stdout, StringComparison.Ordinal);

        var fromFile = CliRunner.Run(tmp.Path, null, Backtest(Orcl, "file", "--db", db, "--symbol", "ORCL"));
        var fromStore = CliRunner.Run(tmp.Path, null, Backtest("db:ORCL:1d", "store", "--db", db));
        Assert.True(fromFile.ExitCode == 0 && fromStore.ExitCode == 0, fromFile + "\n" + fromStore);
        foreach (var f in new[] { "orders.csv", "fills.csv", "trades.csv", "equity.csv" })
        {
            Assert.Equal(File.ReadAllBytes(tmp.File($"file/{f}")), File.ReadAllBytes(tmp.File($"store/{f}")));
        }

        var window = CliRunner.Run(tmp.Path, null, Backtest("db:ORCL:1d", null, "--db", db, "--from", "2014-07-01"));
        Assert.True(window.ExitCode == 0, window.ToString());
        Assert.Contains("2014-07-01", window.Stdout, StringComparison.Ordinal);

        var unknown = CliRunner.Run(tmp.Path, null, Backtest("db:MSFT:1d", null, "--db", db));
        Assert.NotEqual(0, unknown.ExitCode);
        Assert.Contains("db:MSFT:1d", unknown.Stderr, StringComparison.Ordinal);

        var badTimeframe = CliRunner.Run(tmp.Path, null, "data", "import", "--symbol", "ORCL", "--timeframe", "daily", Orcl, "--db", db);
        Assert.Equal(2, badTimeframe.ExitCode);
        Assert.Contains("--timeframe 'daily'", badTimeframe.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void The_StoreIsChosenByFlagEnvironmentOrConfiguration_AndNoneRecordsNothing()
    {
        using var tmp = new TempDir();

        // Default: the per-user location (XDG_DATA_HOME, which the runner points at the test folder).
        var byDefault = CliRunner.Run(tmp.Path, null, Backtest(Orcl, null));
        Assert.True(byDefault.ExitCode == 0, byDefault.ToString());
        Assert.True(File.Exists(tmp.File("keel/keel.db")));

        var byEnv = CliRunner.Run(tmp.Path, new Dictionary<string, string> { ["KEEL__STORAGE__DB"] = tmp.File("env.db") }, Backtest(Orcl, null));
        Assert.True(byEnv.ExitCode == 0, byEnv.ToString());
        using (var store = KeelStore.Open(tmp.File("env.db")))
        {
            Assert.Equal(RunIdOf(byEnv), Assert.Single(store.ListRuns(10)).Id);
        }

        tmp.Write("keel.json", "{\"storage\": {\"db\": \"" + tmp.File("config.db") + "\"}}");
        var byConfig = CliRunner.Run(tmp.Path, null, Backtest(Orcl, null));
        Assert.True(byConfig.ExitCode == 0, byConfig.ToString());
        Assert.True(File.Exists(tmp.File("config.db")));

        var none = CliRunner.Run(tmp.Path, null, Backtest(Orcl, "none-out", "--db", "none"));
        Assert.True(none.ExitCode == 0, none.ToString());
        Assert.DoesNotContain("run: ", none.Stdout, StringComparison.Ordinal);
        using (var store = KeelStore.Open(tmp.File("config.db")))
        {
            Assert.Single(store.ListRuns(10));
        }
    }

    [Fact]
    public void A_DatabaseFromANewerKeel_IsRefusedWithOneClearLine()
    {
        using var tmp = new TempDir();
        var db = tmp.File("k.db");
        KeelStore.Open(db).Dispose();
        Exec(db, "INSERT INTO schema_version (version, description, applied_at) VALUES (99, 'future', 0)");
        var r = CliRunner.Run(tmp.Path, null, Backtest(Orcl, "out", "--db", db));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"database {db} was written by a newer Keel (schema version 99", r.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(tmp.File("out")) && Directory.EnumerateFileSystemEntries(tmp.File("out")).Any());
    }

    [Fact]
    public void A_LockedDatabase_FailsWithTheDatabaseAndCauseNamed()
    {
        using var tmp = new TempDir();
        var db = tmp.File("k.db");
        KeelStore.Open(db).Dispose();
        using var holder = new SqliteConnection($"Data Source={db};Pooling=False");
        holder.Open();
        using (var cmd = holder.CreateCommand())
        {
            cmd.CommandText = "BEGIN EXCLUSIVE";
            cmd.ExecuteNonQuery();
        }

        var r = CliRunner.Run(tmp.Path, null, Backtest(Orcl, "out", "--db", db));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"database {db} is locked by another program", r.Stderr, StringComparison.Ordinal);
        Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Bad_DataMidRun_MarksTheRunFailed_WithTheReason()
    {
        using var tmp = new TempDir();
        var db = tmp.File("k.db");
        var lines = File.ReadAllLines(Orcl).ToList();
        lines[200] = lines[200].Replace(',', ';');
        var bad = tmp.File("bad.csv");
        File.WriteAllLines(bad, lines);
        var r = CliRunner.Run(tmp.Path, null, Backtest(bad, "out", "--db", db));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("bad.csv: line 201", r.Stderr, StringComparison.Ordinal);
        using var store = KeelStore.Open(db);
        var run = Assert.Single(store.ListRuns(5));
        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("line 201", run.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(tmp.File("out")) && Directory.EnumerateFileSystemEntries(tmp.File("out"), "*", SearchOption.AllDirectories).Any());
    }

    [Fact]
    public void RunsList_CountsAndFilters_AndDeleteAndPrune_TidyTheStore()
    {
        using var tmp = new TempDir();
        var db = tmp.File("k.db");
        var ids = new List<string>();
        foreach (var outDir in new[] { "out-1", "out-2", "out-3" })
        {
            var r = CliRunner.Run(tmp.Path, null, Backtest(Orcl, outDir, "--db", db));
            Assert.True(r.ExitCode == 0, r.ToString());
            ids.Add(RunIdOf(r));
        }

        using (var store = KeelStore.Open(db))
        {
            store.UpdateRun(ids[0], RunStatus.Failed, Keel.Domain.Timestamp.FromParts(2024, 1, 2), error: "for the test");
        }

        var page = CliRunner.Run(tmp.Path, null, "runs", "list", "--db", db, "--limit", "2");
        Assert.True(page.ExitCode == 0, page.ToString());
        Assert.Contains($"3 runs in {db}; showing the newest 2", page.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(ids[0], page.Stdout, StringComparison.Ordinal);
        var all = CliRunner.Run(tmp.Path, null, "runs", "list", "--db", db, "--limit", "2", "--all");
        Assert.Contains($"3 runs in {db}\n", all.Stdout.Replace("\r", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.All(ids, id => Assert.Contains(id, all.Stdout, StringComparison.Ordinal));
        var failed = CliRunner.Run(tmp.Path, null, "runs", "list", "--db", db, "--status", "FAILED", "--json");
        Assert.Equal(ids[0], JsonDocument.Parse(Assert.Single(failed.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))).RootElement.GetProperty("id").GetString());
        var completed = CliRunner.Run(tmp.Path, null, "runs", "list", "--db", db, "--status", "completed", "--strategy", "sma-cross");
        Assert.Contains($"2 completed sma-cross runs in {db}", completed.Stdout, StringComparison.Ordinal);
        var floor = CliRunner.Run(tmp.Path, null, "runs", "list", "--db", db, "--strategy", "floor");
        Assert.Contains($"no floor runs in {db}", floor.Stdout, StringComparison.Ordinal);
        var badStatus = CliRunner.Run(tmp.Path, null, "runs", "list", "--db", db, "--status", "done");
        Assert.True(badStatus.ExitCode == 2, badStatus.ToString());
        Assert.Contains("--status 'done' is not a run status", badStatus.Stderr, StringComparison.Ordinal);

        // A run another process is running is refused, and nothing else of the command is done.
        using (var other = KeelStore.Open(db))
        using (other.TryLockRun(ids[2]))
        {
            var refused = CliRunner.Run(tmp.Path, null, "runs", "delete", ids[1], ids[2], "--db", db);
            Assert.True(refused.ExitCode == 2, refused.ToString());
            Assert.Contains($"run {ids[2]} is being run by a Keel process right now", refused.Stderr, StringComparison.Ordinal);
            Assert.Equal(3, other.CountRuns());

            var pruneAroundIt = CliRunner.Run(tmp.Path, null, "runs", "prune", "--keep", "0", "--dry-run", "--db", db);
            Assert.True(pruneAroundIt.ExitCode == 0, pruneAroundIt.ToString());
            Assert.Contains($"kept run {ids[2]}: a Keel process is running it", pruneAroundIt.Stderr, StringComparison.Ordinal);
            Assert.Contains($"would delete run {ids[1]}", pruneAroundIt.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain($"would delete run {ids[2]}", pruneAroundIt.Stdout, StringComparison.Ordinal);
        }

        // Deleting a run removes its staging folder, never the results beside it.
        var staging = tmp.File($"out-2/.keel-run-{ids[1]}");
        Directory.CreateDirectory(staging);
        File.WriteAllText(Path.Combine(staging, "orders.csv"), "staged");
        var delete = CliRunner.Run(tmp.Path, null, "runs", "delete", ids[1], "--db", db);
        Assert.True(delete.ExitCode == 0, delete.ToString());
        Assert.Contains($"deleted run {ids[1]}", delete.Stdout, StringComparison.Ordinal);
        Assert.Matches("deleted 1 run from .*; reclaimed ", delete.Stdout);
        Assert.False(Directory.Exists(staging));
        Assert.True(File.Exists(tmp.File("out-2/metrics.json")));
        var missing = CliRunner.Run(tmp.Path, null, "runs", "show", ids[1], "--db", db);
        Assert.Equal(2, missing.ExitCode);

        var dry = CliRunner.Run(tmp.Path, null, "runs", "prune", "--keep", "1", "--dry-run", "--db", db);
        Assert.True(dry.ExitCode == 0, dry.ToString());
        Assert.Contains($"would delete run {ids[0]}", dry.Stdout, StringComparison.Ordinal);
        Assert.Contains("nothing was deleted", dry.Stdout, StringComparison.Ordinal);
        var prune = CliRunner.Run(tmp.Path, null, "runs", "prune", "--keep", "1", "--db", db);
        Assert.True(prune.ExitCode == 0, prune.ToString());
        Assert.Contains($"deleted run {ids[0]}", prune.Stdout, StringComparison.Ordinal);
        using (var store = KeelStore.Open(db))
        {
            Assert.Equal([ids[2]], store.ListRuns(10).Select(r => r.Id));
        }

        var young = CliRunner.Run(tmp.Path, null, "runs", "prune", "--older-than", "30d", "--db", db);
        Assert.Contains("no runs to delete", young.Stdout, StringComparison.Ordinal);
        var neither = CliRunner.Run(tmp.Path, null, "runs", "prune", "--db", db);
        Assert.True(neither.ExitCode == 2, neither.ToString());
        var badAge = CliRunner.Run(tmp.Path, null, "runs", "prune", "--older-than", "30 days", "--db", db);
        Assert.True(badAge.ExitCode == 2, badAge.ToString());
        Assert.Contains("--older-than '30 days' is not an age", badAge.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_RunRefusedOnAUsageErrorBeforeItStarts_IsNotRecorded()
    {
        using var tmp = new TempDir();
        var db = tmp.File("k.db");
        tmp.Write("results", "a file where the output folder should go");
        var r = CliRunner.Run(tmp.Path, null, Backtest(Orcl, "results", "--db", db));
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains("is an existing file", r.Stderr, StringComparison.Ordinal);
        using var store = KeelStore.Open(db);
        Assert.Equal(0, store.CountRuns());
    }

    [Fact]
    public void DataImport_WithATimeframeTheBarsAreNotSpacedBy_IsRefused_WithBothNamed()
    {
        using var tmp = new TempDir();
        var db = tmp.File("k.db");
        var minutes = TestPaths.Data("2006-min-005.txt");
        var r = CliRunner.Run(tmp.Path, null, "data", "import", "--symbol", "ESTX", "--timeframe", "1d", minutes, "--db", db, "-q");
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Equal($"keel: error: --timeframe 1d does not match {minutes}: its bars are 5 minutes apart (5m); import it with --timeframe 5m. Nothing was imported", r.Stderr.Trim());
        Assert.Contains("no candles", CliRunner.Run(tmp.Path, null, "data", "list", "--db", db).Stdout, StringComparison.Ordinal);

        var daily = CliRunner.Run(tmp.Path, null, "data", "import", "--symbol", "ORCL", "--timeframe", "1h", Orcl, "--db", db, "-q");
        Assert.True(daily.ExitCode == 2, daily.ToString());
        Assert.Contains("--timeframe 1h does not match", daily.Stderr, StringComparison.Ordinal);
        Assert.Contains("its bars are 1 day apart (1d); import it with --timeframe 1d", daily.Stderr, StringComparison.Ordinal);

        var right = CliRunner.Run(tmp.Path, null, "data", "import", "--symbol", "ESTX", "--timeframe", "M5", minutes, "--db", db, "-q");
        Assert.True(right.ExitCode == 0, right.ToString());
    }

    [Fact]
    public void YahooNullRows_AreSkippedWithAWarning_InBacktestImportAndIndicators_AndStrictRefusesThem()
    {
        using var tmp = new TempDir();
        var db = tmp.File("k.db");
        var lines = File.ReadAllLines(Orcl);
        lines[10] = lines[10].Split(',')[0] + ",null,null,null,null,null,null";
        lines[30] = lines[30].Split(',')[0] + ",null,null,null,null,null,null";
        var file = tmp.File("orcl-nulls.csv");
        File.WriteAllLines(file, lines);
        string warning = $"keel: warning: {file}: skipped 2 rows with null values (Yahoo's missing days); the first is line 11; --strict refuses such a file instead";

        var backtest = CliRunner.Run(tmp.Path, null, Backtest(file, "out", "--db", db));
        Assert.True(backtest.ExitCode == 0, backtest.ToString());
        Assert.Contains(warning, backtest.Stderr, StringComparison.Ordinal);
        Assert.Matches(@"Bars\s+│\s+250\s", backtest.Stdout);

        var strict = CliRunner.Run(tmp.Path, null, Backtest(file, "strict", "--db", db, "--strict"));
        Assert.True(strict.ExitCode == 1, strict.ToString());
        Assert.Contains($"{file}: line 11, column 2 (Open): 'null' is not a number", strict.Stderr, StringComparison.Ordinal);

        var import = CliRunner.Run(tmp.Path, null, "data", "import", "--symbol", "ORCL", "--timeframe", "1d", file, "--db", db, "-q");
        Assert.True(import.ExitCode == 0, import.ToString());
        Assert.Contains("imported 250 candles", import.Stdout, StringComparison.Ordinal);
        Assert.Contains(warning, import.Stderr, StringComparison.Ordinal);
        var strictImport = CliRunner.Run(tmp.Path, null, "data", "import", "--symbol", "NULLS", "--timeframe", "1d", file, "--db", db, "-q", "--strict");
        Assert.True(strictImport.ExitCode == 1, strictImport.ToString());
        Assert.Contains("line 11", strictImport.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("NULLS", CliRunner.Run(tmp.Path, null, "data", "list", "--db", db).Stdout, StringComparison.Ordinal);

        var indicators = CliRunner.Run(tmp.Path, null, "indicators", "--data", file, "-i", "sma:3", "--out", "ind.csv");
        Assert.True(indicators.ExitCode == 0, indicators.ToString());
        Assert.Contains(warning, indicators.Stderr, StringComparison.Ordinal);
        Assert.Equal(251, File.ReadAllLines(tmp.File("ind.csv")).Length);
        Assert.Equal(1, CliRunner.Run(tmp.Path, null, "indicators", "--data", file, "-i", "sma:3", "--out", "ind2.csv", "--strict").ExitCode);
    }

    internal static void Exec(string db, string sql)
    {
        using var c = new SqliteConnection($"Data Source={db};Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }
}
