using System.Text.Json;
using Keel.Tests.Support;

namespace Keel.Tests.Cli;

public class CliTests
{
    private static readonly string Day001 = TestPaths.Data("2006-day-001.txt");

    private static string[] ReadmeCommand(string data, string outDir) =>
        ["backtest", "--data", data, "--strategy", "sma-cross", "--param", "fast=10", "--param", "slow=30", "--stake", "1",
            "--commission", "0.001", "--cash", "100000", "--out", outDir];

    [Fact]
    public void Backtest_BarTicks_LetsTheLadderTradeWithinTheDay_AndPaperRefusesIt()
    {
        using var tmp = new TempDir();
        var data = Path.Combine(tmp.Path, "orcl-2010.txt");
        var source = File.ReadAllLines(Path.Combine(TestPaths.RepoRoot, "samples", "data", "orcl-1995-2014.txt"));
        File.WriteAllLines(data, [source[0], .. source.Skip(1).Where(l => l.StartsWith("2010", StringComparison.Ordinal))]);
        var levels = Path.Combine(TestPaths.RepoRoot, "samples", "strategies", "ladder-orcl.csv");
        string[] command = ["backtest", "--data", data, "--strategy", "ladder", "--param", $"levels={levels}", "--param", "cancel_distance=0.01", "--cash", "20000", "--db", "none"];

        var onBars = CliRunner.Run(tmp.Path, null, [.. command, "--out", "bars"]);
        Assert.True(onBars.ExitCode == 0, onBars.ToString());
        var onTicks = CliRunner.Run(tmp.Path, null, [.. command, "--bar-ticks", "--out", "ticks"]);
        Assert.True(onTicks.ExitCode == 0, onTicks.ToString());

        // On bars the ladder decides at each close (orders stamped at midnight); on ticks also within the day (06:00, 12:00, 18:00).
        static List<string> Created(string folder) => [.. File.ReadLines(Path.Combine(folder, "orders.csv")).Skip(1).Select(l => l.Split(',')[10])];
        var ticks = Created(Path.Combine(tmp.Path, "ticks"));
        Assert.Contains(ticks, t => t.EndsWith("T12:00:00Z", StringComparison.Ordinal));
        Assert.All(Created(Path.Combine(tmp.Path, "bars")), t => Assert.EndsWith("T00:00:00Z", t, StringComparison.Ordinal));
        Assert.NotEqual(Created(Path.Combine(tmp.Path, "bars")), ticks);

        var paper = CliRunner.Run(tmp.Path, null, ["paper", "--replay", data, "--strategy", "ladder", "--param", $"levels={levels}", "--bar-ticks", "--db", "none"]);
        Assert.Equal(2, paper.ExitCode);
        Assert.Contains("--bar-ticks is for backtests", paper.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Backtest_IssueCommandForm_WritesAllOutputsAndPrintsSummary()
    {
        using var tmp = new TempDir();
        var r = CliRunner.Run(tmp.Path, null, ReadmeCommand(Day001, "results"));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("Final equity", r.Stdout);
        Assert.Contains("100,093.36", r.Stdout);
        foreach (var f in new[] { "metrics.json", "orders.csv", "fills.csv", "trades.csv", "equity.csv", "report.html" })
        {
            Assert.True(File.Exists(Path.Combine(tmp.Path, "results", f)), f);
        }

        Assert.Empty(Directory.GetDirectories(Path.Combine(tmp.Path, "results")));
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(tmp.Path, "results", "metrics.json")));
        var root = doc.RootElement;
        Assert.Equal("100093.35689", root.GetProperty("final_equity").GetRawText());
        Assert.Equal(7, root.GetProperty("orders").GetInt32());
        Assert.Equal(3, root.GetProperty("trades").GetInt32());
        foreach (var key in new[] { "total_return", "win_rate", "profit_factor", "max_drawdown", "sharpe", "sortino" })
        {
            Assert.Equal(JsonValueKind.Number, root.GetProperty(key).ValueKind);
        }

        Assert.Equal("d6c996c5b393243ddd54bb2d87a554f06b728c76d9bc928e93134a9677f5ae24",
            Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(Path.Combine(tmp.Path, "results", "orders.csv")))));
        var html = File.ReadAllText(Path.Combine(tmp.Path, "results", "report.html"));
        Assert.Contains("id=\"price-chart\"", html);
        Assert.Contains("Lightweight Charts", html);

        // Opens offline: nothing loaded from elsewhere (the inlined library's licence text names its URL; the browser
        // test checks that the page makes no request at all).
        foreach (var external in new[] { "src=\"http", "href=\"http", "src='http", "url(http", "@import" })
        {
            Assert.DoesNotContain(external, html, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public void Backtest_TwoRuns_GiveByteIdenticalFiles()
    {
        using var tmp = new TempDir();
        var a = CliRunner.Run(tmp.Path, null, ReadmeCommand(TestPaths.Data("2006-min-005.txt"), "a"));
        var b = CliRunner.Run(tmp.Path, null, ReadmeCommand(TestPaths.Data("2006-min-005.txt"), "b"));
        Assert.True(a.ExitCode == 0 && b.ExitCode == 0, a + "\n" + b);
        foreach (var f in new[] { "metrics.json", "orders.csv", "fills.csv", "trades.csv", "equity.csv", "report.html" })
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(tmp.Path, "a", f)), File.ReadAllBytes(Path.Combine(tmp.Path, "b", f)));
        }
    }

    [Fact]
    public void Paper_ReplayAtMaxSpeed_GivesTheSameOrdersAsBacktest()
    {
        using var tmp = new TempDir();
        var data = TestPaths.Data("2006-min-005.txt");
        var bt = CliRunner.Run(tmp.Path, null, ReadmeCommand(data, "bt"));
        var paper = CliRunner.Run(tmp.Path, null, ["paper", "--replay", data, "--speed", "max", "--strategy", "sma-cross", "--param", "fast=10",
            "--param", "slow=30", "--stake", "1", "--commission", "0.001", "--cash", "100000", "--out", "paper"]);
        Assert.True(bt.ExitCode == 0 && paper.ExitCode == 0, bt + "\n" + paper);
        Assert.Equal(File.ReadAllBytes(Path.Combine(tmp.Path, "bt", "orders.csv")), File.ReadAllBytes(Path.Combine(tmp.Path, "paper", "orders.csv")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(tmp.Path, "bt", "fills.csv")), File.ReadAllBytes(Path.Combine(tmp.Path, "paper", "fills.csv")));
        Assert.Contains("\"mode\": \"paper\"", File.ReadAllText(Path.Combine(tmp.Path, "paper", "metrics.json")));
        Assert.Contains("Keel paper", paper.Stdout);
    }

    [Fact]
    public void Paper_PacedReplay_TakesWallClockTime()
    {
        using var tmp = new TempDir();
        var csv = tmp.Write("p.csv", "datetime,open,high,low,close\n2024-01-01 00:00:00,1,1,1,1\n2024-01-01 00:01:00,1,1,1,1\n2024-01-01 00:02:00,1,1,1,1\n");
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var r = CliRunner.Run(tmp.Path, null, ["paper", "--replay", csv, "--speed", "240", "--strategy", "sma-cross", "-q"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.True(sw.Elapsed >= TimeSpan.FromSeconds(0.5), $"two minutes of bars at 240× should take ≥ 0.5 s, took {sw.Elapsed}");
    }

    [Theory]
    [InlineData("datetime,open,high,low,close\n2020-01-01,1,2,1,2\n2020-01-02,1,abc,1,2\n", "bad.csv: line 3, column 3 (high): 'abc' is not a number")]
    [InlineData("datetime,open,high,low\n2020-01-01,1,2,1\n", "bad.csv: line 1: header has no close column")]
    [InlineData("datetime,open,high,low,close\n2020-01-02,1,2,1,2\n2020-01-01,1,2,1,2\n", "bad.csv: line 3, column 1 (datetime): time 2020-01-01T00:00:00Z is before the previous row's")]
    [InlineData("datetime,open,high,low,close\n2020-01-01,1,2,-1,2\n", "bad.csv: line 2, column 4 (low): price was -1; it must be positive")]
    [InlineData("datetime,open,high,low,close\n2020-01-01,0,2,1,2\n", "bad.csv: line 2, column 2 (open): price was 0; it must be positive")]
    [InlineData("", "bad.csv: is empty")]
    [InlineData("datetime,open,high,low,close\n", "bad.csv: has no bars")]
    public void Backtest_BadData_ExitsNonZeroWithOneLocatedLine_AndLeavesNoResult(string content, string expected)
    {
        using var tmp = new TempDir();
        tmp.Write("bad.csv", content);
        var r = CliRunner.Run(tmp.Path, null, ReadmeCommand("bad.csv", "out"));
        Assert.Equal(1, r.ExitCode);
        var line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("keel: error: " + expected, line, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(tmp.Path, "out", "metrics.json")));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(tmp.Path, "out")));
    }

    [Fact]
    public void Backtest_FailureLate_KeepsThePreviousCompleteResultUntouched()
    {
        using var tmp = new TempDir();
        var ok = CliRunner.Run(tmp.Path, null, ReadmeCommand(Day001, "out"));
        Assert.Equal(0, ok.ExitCode);
        var before = File.ReadAllBytes(Path.Combine(tmp.Path, "out", "orders.csv"));
        var lines = File.ReadAllLines(Day001).ToList();
        lines[200] = lines[200].Replace(',', ';');
        File.WriteAllLines(Path.Combine(tmp.Path, "late.csv"), lines);
        var bad = CliRunner.Run(tmp.Path, null, ReadmeCommand("late.csv", "out"));
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("late.csv: line 201", bad.Stderr);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(tmp.Path, "out", "orders.csv")));
        Assert.DoesNotContain(Directory.GetDirectories(Path.Combine(tmp.Path, "out")), d => d.Contains(".keel-partial", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(new[] { "--strategy", "nope" }, "unknown strategy 'nope'; available: sma-cross, ladder, floor, slob")]
    [InlineData(new[] { "--strategy", "sma-cross", "--param", "fats=3" }, "unknown parameter 'fats' for strategy sma-cross; it takes: fast, slow, short")]
    [InlineData(new[] { "--strategy", "sma-cross", "--param", "fast=40", "--param", "slow=30" }, "sma-cross needs 1 ≤ fast < slow; fast was 40 and slow was 30")]
    [InlineData(new[] { "--strategy", "sma-cross", "--param", "fast=ten" }, "parameter fast of sma-cross was 'ten'; it must be a whole number")]
    [InlineData(new[] { "--strategy", "sma-cross", "--commission", "-0.1" }, "--commission was -0.1; it must be between 0 and 0.5")]
    [InlineData(new[] { "--strategy", "sma-cross", "--cash", "lots" }, "--cash was 'lots'; it must be an amount such as 100000 or 0.005")]
    [InlineData(new[] { "--strategy", "sma-cross", "--from", "2006-13-01" }, "--from was '2006-13-01'; it must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS (UTC)")]
    public void Backtest_BadOptions_ExitTwoWithOneClearLine(string[] extra, string expected)
    {
        using var tmp = new TempDir();
        var r = CliRunner.Run(tmp.Path, null, ["backtest", "--data", Day001, .. extra]);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"keel: error: {expected}", r.Stderr.Trim());
    }

    [Fact]
    public void Backtest_UnwritableOutputFolder_IsAClearError()
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File("occupied"), "a file, not a folder");
        var r = CliRunner.Run(tmp.Path, null, ReadmeCommand(Day001, Path.Combine("occupied", "out")));
        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"keel: error: cannot create output folder occupied/out: {tmp.File("occupied")} is a file, not a folder", r.Stderr.Trim());
    }

    [Fact]
    public void Backtest_MissingDataFile_IsAClearError()
    {
        using var tmp = new TempDir();
        var r = CliRunner.Run(tmp.Path, null, ["backtest", "--data", "missing.csv", "--strategy", "sma-cross"]);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("keel: error: data file missing.csv does not exist", r.Stderr.Trim());
    }

    [Fact]
    public void Backtest_FromTo_AndConfigFile_AndEnvironment()
    {
        using var tmp = new TempDir();
        tmp.Write("keel.json", """{ "backtest": { "cash": 50000, "params": { "fast": 5 } } }""");
        var env = new Dictionary<string, string> { ["KEEL__BACKTEST__COMMISSION"] = "0.002" };
        var r = CliRunner.Run(tmp.Path, env, ["backtest", "--data", Day001, "--strategy", "sma-cross", "--param", "slow=20", "--from", "2006-03-01", "--to", "2006-06-30", "--out", "o", "-q"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(File.ReadAllText(tmp.File("o/metrics.json")));
        var m = doc.RootElement;
        Assert.Equal("50000", m.GetProperty("initial_cash").GetRawText());
        Assert.Equal("2006-03-01T00:00:00Z", m.GetProperty("start").GetString());
        Assert.Equal("2006-06-30T00:00:00Z", m.GetProperty("end").GetString());
        Assert.Equal("5", m.GetProperty("run").GetProperty("parameters").GetProperty("fast").GetString());
        Assert.Equal("20", m.GetProperty("run").GetProperty("parameters").GetProperty("slow").GetString());
        Assert.Equal(0.002, m.GetProperty("run").GetProperty("commission").GetDouble());
    }

    [Fact]
    public void Backtest_SeveralFiles_AreMergedInTimeOrder()
    {
        using var tmp = new TempDir();
        var r = CliRunner.Run(tmp.Path, null, ["backtest", "--data", $"{Day001},{TestPaths.Data("2006-week-001.txt")}", "--strategy", "sma-cross",
            "--param", "fast=3", "--param", "slow=8", "--out", "o", "-q"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        var symbols = File.ReadLines(tmp.File("o/orders.csv")).Skip(1).Select(l => l.Split(',')[2]).Distinct().Order().ToArray();
        Assert.Equal(["2006-DAY-001", "2006-WEEK-001"], symbols);
        using var doc = JsonDocument.Parse(File.ReadAllText(tmp.File("o/metrics.json")));
        Assert.Equal(255, doc.RootElement.GetProperty("bars").GetInt32());
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("backtest --help")]
    [InlineData("paper --help")]
    [InlineData("strategies")]
    public void Help_ExplainsTheCommands(string args)
    {
        using var tmp = new TempDir();
        var r = CliRunner.Run(tmp.Path, null, args.Split(' '));
        Assert.Equal(0, r.ExitCode);
        Assert.True(r.Stdout.Length > 100);
        if (args.StartsWith("backtest", StringComparison.Ordinal))
        {
            Assert.Contains("--commission", r.Stdout);
            Assert.Contains("fraction of traded value", r.Stdout);
        }
    }

    [Fact]
    public void Launcher_RunsTheBuiltCli()
    {
        using var tmp = new TempDir();
        var r = CliRunner.RunLauncher(tmp.Path, "strategies");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("sma-cross", r.Stdout);
    }
}
