using System.Globalization;
using System.Text.Json;
using Keel.Tests.Support;

namespace Keel.Tests.Cli;

/// <summary>
/// <c>keel optimize --walk-forward</c>: each fold's choice is the best of a plain sweep of its training window, its test
/// row is a plain backtest of its test window, and the file is the same bytes on any core count.
/// </summary>
public class OptimizeWalkForwardTests
{
    private static readonly string Orcl = TestPaths.Data("orcl-2014.txt");

    private static readonly string[] Costs = ["--stake", "10", "--commission", "0.001", "-q"];

    private static string[] Sweep(params string[] extra) => SweepIn("none", extra);

    private static string[] SweepIn(string db, params string[] extra) =>
        ["optimize", "--data", Orcl, "--strategy", "sma-cross", "--param", "fast=3:9:3", "--param", "slow=12:30:9", .. Costs, "--db", db, .. extra];

    private static List<Dictionary<string, string>> Rows(string csv)
    {
        var lines = File.ReadAllLines(csv);
        var header = lines[0].Split(',');
        return [.. lines.Skip(1).Select(l => header.Zip(l.Split(',')).ToDictionary(p => p.First, p => p.Second))];
    }

    private static JsonElement Metrics(string path) => JsonDocument.Parse(File.ReadAllText(path)).RootElement;

    /// <summary>A metrics.json value as results.csv writes it: empty when null.</summary>
    private static string Raw(JsonElement metrics, string key) =>
        metrics.GetProperty(key) is { ValueKind: JsonValueKind.Null } ? string.Empty : metrics.GetProperty(key).GetRawText();

    /// <summary>The date of bar <paramref name="index"/> of orcl-2014.txt (one bar per line after the header).</summary>
    private static string BarTime(int index) => File.ReadAllLines(Orcl)[index + 1][..10] + "T00:00:00Z";

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void FoldWindows_AreEqualBarCountSegments_RollingOrAnchored(bool anchored)
    {
        using var tmp = new TempDir();
        var r = CliRunner.Run(tmp.Path, null, Sweep(["--walk-forward", "3", "--out", "out", .. anchored ? new[] { "--anchored" } : []]));
        Assert.True(r.ExitCode == 0, r.ToString());
        var folds = Rows(tmp.File("out/walkforward.csv"));

        // 252 bars in four segments of 63: fold k trains on segment k (or 1..k) and tests on segment k+1.
        Assert.Equal(3, folds.Count);
        for (int k = 1; k <= 3; k++)
        {
            var f = folds[k - 1];
            Assert.Equal(k.ToString(CultureInfo.InvariantCulture), f["fold"]);
            Assert.Equal(BarTime(anchored ? 0 : 63 * (k - 1)), f["train_start"]);
            Assert.Equal(BarTime((63 * k) - 1), f["train_end"]);
            Assert.Equal((anchored ? 63 * k : 63).ToString(CultureInfo.InvariantCulture), f["train_bars"]);
            Assert.Equal(BarTime(63 * k), f["test_start"]);
            Assert.Equal(BarTime((63 * (k + 1)) - 1), f["test_end"]);
            Assert.Equal("63", f["test_bars"]);
        }

        Assert.Equal("2014-04-02T00:00:00Z", folds[0]["train_end"]);
        Assert.Equal("2014-12-31T00:00:00Z", folds[2]["test_end"]);
        Assert.Contains(anchored ? "3 folds, anchored" : "3 folds, rolling", r.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sharpe", false)]
    [InlineData("net_profit", true)]
    public void EachFold_ChoosesTheBestOfAPlainSweepOfItsTrainingWindow_AndTestsItAsAPlainBacktestOfTheNextSegment(string rank, bool anchored)
    {
        using var tmp = new TempDir();
        var r = CliRunner.Run(tmp.Path, null, Sweep(["--walk-forward", "3", "--rank", rank, "--out", "wf", .. anchored ? new[] { "--anchored" } : []]));
        Assert.True(r.ExitCode == 0, r.ToString());
        var folds = Rows(tmp.File("wf/walkforward.csv"));
        Assert.Equal(3, folds.Count);
        foreach (var f in folds)
        {
            // The same sweep restricted to the training window ranks the fold's combination first.
            var train = $"train{f["fold"]}";
            var plain = CliRunner.Run(tmp.Path, null, Sweep("--rank", rank, "--from", f["train_start"], "--to", f["train_end"], "--out", train));
            Assert.True(plain.ExitCode == 0, plain.ToString());
            var best = Rows(tmp.File($"{train}/results.csv"))[0];
            Assert.Equal(best["combination"], f["combination"]);
            Assert.Equal((best["fast"], best["slow"]), (f["fast"], f["slow"]));
            Assert.Equal(best[rank], f["train_" + rank]);
            Assert.Equal(best["total_return"], f["train_total_return"]);

            // Its test columns are keel backtest of that combination from the first to the last test bar.
            var test = $"test{f["fold"]}";
            var bt = CliRunner.Run(tmp.Path, null, ["backtest", "--data", Orcl, "--strategy", "sma-cross", "--param", $"fast={f["fast"]}", "--param", $"slow={f["slow"]}", .. Costs, "--db", "none",
                "--from", f["test_start"], "--to", f["test_end"], "--out", test]);
            Assert.True(bt.ExitCode == 0, bt.ToString());
            var m = Metrics(tmp.File($"{test}/metrics.json"));
            foreach (var key in new[] { "net_profit", "total_return", "sharpe", "sortino", "max_drawdown", "trades", "orders", "total_commission", "final_equity" })
            {
                Assert.Equal(Raw(m, key), f["test_" + key]);
            }
        }

        // The out-of-sample summary: the test profits summed exactly, and the ratio of mean per-bar returns.
        var run = Metrics(tmp.File("wf/metrics.json")).GetProperty("run");
        Assert.Equal(3, run.GetProperty("walk_forward").GetInt32());
        Assert.Equal(anchored, run.GetProperty("walk_forward_anchored").GetBoolean());
        Assert.Equal(folds.Sum(f => decimal.Parse(f["test_net_profit"], CultureInfo.InvariantCulture)), run.GetProperty("walk_forward_test_net_profit").GetDecimal());
        static double D(string s) => double.Parse(s, CultureInfo.InvariantCulture);
        double trainPerBar = 0, testPerBar = 0;
        foreach (var f in folds)
        {
            trainPerBar += D(f["train_total_return"]) / D(f["train_bars"]);
            testPerBar += D(f["test_total_return"]) / D(f["test_bars"]);
        }

        Assert.Equal(testPerBar / trainPerBar, run.GetProperty("walk_forward_efficiency").GetDouble());
    }

    [Fact]
    public void WalkForward_GivesTheSameFilesOnOneCoreAndTwo_AndIsOneRunRecord()
    {
        using var tmp = new TempDir();
        var db = tmp.File("k.db");
        var one = CliRunner.Run(tmp.Path, null, SweepIn(db, "--walk-forward", "4", "--jobs", "1", "--out", "one"));
        Assert.True(one.ExitCode == 0, one.ToString());
        var two = CliRunner.Run(tmp.Path, null, Sweep("--walk-forward", "4", "--jobs", "2", "--out", "two"));
        Assert.True(two.ExitCode == 0, two.ToString());
        foreach (var file in new[] { "walkforward.csv", "results.csv", "report.html", "metrics.json" })
        {
            Assert.Equal(File.ReadAllBytes(tmp.File($"one/{file}")), File.ReadAllBytes(tmp.File($"two/{file}")));
        }

        Assert.Equal(5, File.ReadAllLines(tmp.File("one/walkforward.csv")).Length);
        Assert.StartsWith("fold,train_start,train_end,train_bars,test_start,test_end,test_bars,combination,fast,slow,train_sharpe,train_total_return,test_net_profit,", File.ReadAllLines(tmp.File("one/walkforward.csv"))[0], StringComparison.Ordinal);
        Assert.Contains("id=\"walkforward\"", File.ReadAllText(tmp.File("one/report.html")), StringComparison.Ordinal);
        Assert.Contains("walkforward.csv", one.Stdout, StringComparison.Ordinal);

        var runs = CliRunner.Run(tmp.Path, null, "runs", "list", "--db", db, "--json").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var run = JsonDocument.Parse(Assert.Single(runs)).RootElement;
        Assert.Equal("optimize", run.GetProperty("kind").GetString());
        Assert.Equal("completed", run.GetProperty("status").GetString());
    }

    [Fact]
    public void Efficiency_IsEmptyWhenTheTrainingReturnsAreZero()
    {
        // A slow average of 100 bars never crosses inside an 84-bar window: no trade, no return, nothing to divide by.
        using var tmp = new TempDir();
        var r = CliRunner.Run(tmp.Path, null, ["optimize", "--data", Orcl, "--strategy", "sma-cross", "--param", "fast=3,5", "--param", "slow=100", .. Costs, "--db", "none", "--walk-forward", "2", "--out", "out"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.All(Rows(tmp.File("out/walkforward.csv")), f => Assert.Equal("0", f["train_total_return"]));
        Assert.Equal(JsonValueKind.Null, Metrics(tmp.File("out/metrics.json")).GetProperty("run").GetProperty("walk_forward_efficiency").ValueKind);
        Assert.Contains("walk-forward efficiency n/a", r.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--walk-forward|1", "--walk-forward was 1; it must be between 2 and 1000")]
    [InlineData("--walk-forward|1001", "--walk-forward was 1001; it must be between 2 and 1000")]
    [InlineData("--walk-forward|2.5", "--walk-forward was '2.5'; it must be a whole number")]
    [InlineData("--walk-forward|three", "--walk-forward was 'three'; it must be a whole number")]
    [InlineData("--walk-forward|200", "--walk-forward 200: 252 bars split into 201 segments leave segment 1 with 1 bar; each needs at least 2, so give fewer folds")]
    [InlineData("--anchored", "--anchored applies to walk-forward windows; give --walk-forward N with it")]
    [InlineData("--walk-forward|3|--train-until|2014-06-30", "--walk-forward and --train-until both hold bars out of training; give one of them")]
    [InlineData("--walk-forward|3|--cluster", "--walk-forward runs in one process; it cannot be combined with --cluster")]
    public void BadInput_IsOneLineNamingTheOption_Status2_NothingWrittenAndNoRunRecorded(string args, string message)
    {
        using var tmp = new TempDir();
        var db = tmp.File("k.db");
        var r = CliRunner.Run(tmp.Path, null, ["optimize", "--data", Orcl, "--strategy", "sma-cross", "--param", "fast=3:9:3", "--db", db, "--out", "out", "-q", .. args.Split('|')]);
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains(message, r.Stderr, StringComparison.Ordinal);
        Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.False(Directory.Exists(tmp.File("out")), "the output folder was created");
        Assert.Equal(string.Empty, CliRunner.Run(tmp.Path, null, "runs", "list", "--db", db, "--json").Stdout.Trim());
    }
}
