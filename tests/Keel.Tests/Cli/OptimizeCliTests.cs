using System.Globalization;
using System.Text.Json;
using Keel.Tests.Support;

namespace Keel.Tests.Cli;

/// <summary><c>keel optimize</c>: a sweep whose every row is the backtest it names, the same bytes on any core count, one run record.</summary>
public class OptimizeCliTests
{
    private static readonly string Orcl = TestPaths.Data("orcl-2014.txt");

    private static string[] Sweep(params string[] extra) =>
        ["optimize", "--data", Orcl, "--strategy", "sma-cross", "--param", "fast=3:9:3", "--param", "slow=12:30:9", "--stake", "10", "--commission", "0.001", "-q", .. extra];

    private static Dictionary<string, string> Row(string csv, int line)
    {
        var lines = File.ReadAllLines(csv);
        var header = lines[0].Split(',');
        var values = lines[line].Split(',');
        return header.Zip(values).ToDictionary(p => p.First, p => p.Second);
    }

    private static JsonElement Metrics(string path) => JsonDocument.Parse(File.ReadAllText(path)).RootElement;

    [Fact]
    public void Sweep_GivesTheSameFilesOnOneCoreAndTwo_EachRowIsThatBacktest_AndIsOneRunRecord()
    {
        using var tmp = new TempDir();
        var db = tmp.File("k.db");
        var one = CliRunner.Run(tmp.Path, null, Sweep("--jobs", "1", "--db", db, "--out", "one"));
        Assert.True(one.ExitCode == 0, one.ToString());
        var two = CliRunner.Run(tmp.Path, null, Sweep("--jobs", "2", "--db", "none", "--out", "two"));
        Assert.True(two.ExitCode == 0, two.ToString());
        foreach (var file in new[] { "results.csv", "report.html", "metrics.json" })
        {
            Assert.Equal(File.ReadAllBytes(tmp.File($"one/{file}")), File.ReadAllBytes(tmp.File($"two/{file}")));
        }

        // 3 × 3 combinations, ranked by Sharpe (the default) best first; every combination once.
        var lines = File.ReadAllLines(tmp.File("one/results.csv"));
        Assert.Equal("rank,combination,fast,slow,net_profit,total_return,cagr,sharpe,sortino,max_drawdown,profit_factor,win_rate,trades,orders,exposure,total_commission,final_equity,alpha,beta,benchmark_return", lines[0]);
        Assert.Equal(10, lines.Length);
        Assert.Equal(Enumerable.Range(0, 9).Select(i => i.ToString(CultureInfo.InvariantCulture)), lines.Skip(1).Select(l => l.Split(',')[1]).Order(StringComparer.Ordinal));
        var sharpes = lines.Skip(1).Select(l => double.Parse(l.Split(',')[7], CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(sharpes.OrderDescending(), sharpes);
        Assert.Contains("combinations ranked by sharpe", one.Stdout + File.ReadAllText(tmp.File("one/report.html")), StringComparison.Ordinal);

        // The best row and a middle row are exactly what keel backtest gives with their parameters.
        foreach (var line in new[] { 1, 5 })
        {
            var row = Row(tmp.File("one/results.csv"), line);
            var bt = CliRunner.Run(tmp.Path, null, "backtest", "--data", Orcl, "--strategy", "sma-cross", "--param", $"fast={row["fast"]}", "--param", $"slow={row["slow"]}", "--stake", "10", "--commission", "0.001", "-q", "--db", "none", "--out", $"bt{line}");
            Assert.True(bt.ExitCode == 0, bt.ToString());
            var m = Metrics(tmp.File($"bt{line}/metrics.json"));
            Assert.Equal(m.GetProperty("net_profit").GetRawText(), row["net_profit"]);
            Assert.Equal(m.GetProperty("final_equity").GetRawText(), row["final_equity"]);
            Assert.Equal(m.GetProperty("sharpe").GetRawText(), row["sharpe"]);
            Assert.Equal(m.GetProperty("orders").GetRawText(), row["orders"]);
            Assert.Equal(m.GetProperty("max_drawdown").GetRawText(), row["max_drawdown"]);
            if (line == 1)
            {
                // metrics.json of the sweep is the best combination's, with the sweep in its run block.
                var best = Metrics(tmp.File("one/metrics.json"));
                Assert.Equal(m.GetProperty("final_equity").GetRawText(), best.GetProperty("final_equity").GetRawText());
                Assert.Equal("optimize", best.GetProperty("run").GetProperty("mode").GetString());
                Assert.Equal(9, best.GetProperty("run").GetProperty("combinations").GetInt32());
                Assert.Equal(row["fast"], best.GetProperty("run").GetProperty("parameters").GetProperty("fast").GetString());
            }
        }

        // One run record for the whole sweep, completed, with the best combination's metrics; it cannot be resumed.
        var list = CliRunner.Run(tmp.Path, null, "runs", "list", "--db", db, "--json");
        var runs = list.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(runs);
        var run = JsonDocument.Parse(runs[0]).RootElement;
        Assert.Equal("optimize", run.GetProperty("kind").GetString());
        Assert.Equal("completed", run.GetProperty("status").GetString());
        Assert.Equal(Metrics(tmp.File("one/metrics.json")).GetProperty("net_profit").GetRawText(), run.GetProperty("metrics").GetProperty("net_profit").GetRawText());

        // The heat map has one coloured cell per combination, the best outlined.
        var html = File.ReadAllText(tmp.File("one/report.html"));
        Assert.Contains("id=\"heatmap\" data-x=\"fast\" data-y=\"slow\"", html, StringComparison.Ordinal);
        Assert.Equal(9, System.Text.RegularExpressions.Regex.Count(html, "data-value=\""));
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(html, "class=\"best\""));
        Assert.DoesNotContain("<script", html, StringComparison.Ordinal);
    }

    [Fact]
    public void TrainUntil_RunsTheTopCombinationsAfreshOnTheHeldOutBars()
    {
        using var tmp = new TempDir();
        var r = CliRunner.Run(tmp.Path, null, Sweep("--db", "none", "--out", "out", "--train-until", "2014-08-29", "--top", "3", "--rank", "net_profit"));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("On the held-out period", r.Stdout, StringComparison.Ordinal);
        var holdout = File.ReadAllLines(tmp.File("out/holdout.csv"));
        Assert.Equal(4, holdout.Length);
        Assert.StartsWith("rank,combination,fast,slow,train_net_profit,test_net_profit,", holdout[0], StringComparison.Ordinal);

        // Rank 1 on the training bars is the same as a backtest to --train-until; on the held-out bars, one from the next day.
        var train = Row(tmp.File("out/results.csv"), 1);
        var test = Row(tmp.File("out/holdout.csv"), 1);
        Assert.Equal(train["combination"], test["combination"]);
        string[] Bt(string window, string value, string dir) =>
            ["backtest", "--data", Orcl, "--strategy", "sma-cross", "--param", $"fast={train["fast"]}", "--param", $"slow={train["slow"]}", "--stake", "10", "--commission", "0.001", "-q", "--db", "none", window, value, "--out", dir];
        Assert.Equal(0, CliRunner.Run(tmp.Path, null, Bt("--to", "2014-08-29", "a")).ExitCode);
        Assert.Equal(0, CliRunner.Run(tmp.Path, null, Bt("--from", "2014-08-30", "b")).ExitCode);
        Assert.Equal(Metrics(tmp.File("a/metrics.json")).GetProperty("net_profit").GetRawText(), train["net_profit"]);
        Assert.Equal(train["net_profit"], test["train_net_profit"]);
        Assert.Equal(Metrics(tmp.File("b/metrics.json")).GetProperty("net_profit").GetRawText(), test["test_net_profit"]);
        Assert.Equal(Metrics(tmp.File("b/metrics.json")).GetProperty("trades").GetRawText(), test["test_trades"]);
    }

    [Fact]
    public void RandomSample_IsSeeded_AndCombinationsTheStrategyRefusesAreSkippedWithAWarning()
    {
        using var tmp = new TempDir();
        string[] Args(string seed, string dir) =>
            ["optimize", "--data", Orcl, "--strategy", "sma-cross", "--param", "fast=2:40:2", "--param", "slow=10:40:5", "--random", "12", "--seed", seed, "--db", "none", "-q", "--out", dir];
        var a = CliRunner.Run(tmp.Path, null, Args("7", "a"));
        Assert.True(a.ExitCode == 0, a.ToString());
        var b = CliRunner.Run(tmp.Path, null, Args("7", "b"));
        var c = CliRunner.Run(tmp.Path, null, Args("8", "c"));
        Assert.True(c.ExitCode == 0, c.ToString());
        Assert.Equal(File.ReadAllBytes(tmp.File("a/results.csv")), File.ReadAllBytes(tmp.File("b/results.csv")));
        Assert.NotEqual(File.ReadAllText(tmp.File("a/results.csv")), File.ReadAllText(tmp.File("c/results.csv")));

        // fast ≥ slow is refused by sma-cross: those of the 12 drawn are skipped, counted, and the first is named.
        int rows = File.ReadAllLines(tmp.File("a/results.csv")).Length - 1;
        Assert.InRange(rows, 1, 12);
        if (rows < 12)
        {
            Assert.Matches($"skipping {12 - rows} of 12 combinations that sma-cross refuses \\(the first: fast=\\d+, slow=\\d+: sma-cross needs 1 ≤ fast < slow", a.Stderr);
        }
    }

    [Theory]
    [InlineData("--param|nope=1:3", "--param nope=1:3: strategy sma-cross has no parameter 'nope'")]
    [InlineData("--param|fast=50:5:5", "--param fast=50:5:5: the range is inverted")]
    [InlineData("--param|fast=5:50:0", "--param fast=5:50:0: the step is zero")]
    [InlineData("--param|fast=5:", "--param fast=5:: the range is empty")]
    [InlineData("--param|fast=1:1000|--param|slow=2:1001", "the grid has 1,000,000 combinations, more than 100,000; narrow it, draw a sample with --random N, or allow it with --max-combinations 1000000")]
    [InlineData("--param|fast=1:5|--param|slow=10:40|--max-combinations|100", "the sweep would run 155 combinations, more than --max-combinations 100")]
    [InlineData("--param|fast=3:9:3|--rank|luck", "--rank luck: not a metric Keel ranks by")]
    [InlineData("--param|fast=3:9:3|--train-until|2030-01-01", "--train-until 2030-01-01T23:59:59.999999999Z: outside the data (2014-01-02")]
    [InlineData("--param|fast=3:9:3|--train-until|2013-06-30", "--train-until 2013-06-30T23:59:59.999999999Z: outside the data")]
    [InlineData("--param|fast=40,50|--param|slow=12", "sma-cross refuses every combination of the sweep; the first: fast=40, slow=12")]
    [InlineData("--jobs|0|--param|fast=3:9:3", "--jobs was 0; it must be between 1 and 1024")]
    public void BadInput_IsOneLineNamingTheOption_Status2_NothingWrittenAndNoRunRecorded(string args, string message)
    {
        using var tmp = new TempDir();
        var db = tmp.File("k.db");
        var r = CliRunner.Run(tmp.Path, null, ["optimize", "--data", Orcl, "--strategy", "sma-cross", "--db", db, "--out", "out", "-q", .. args.Split('|')]);
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains(message, r.Stderr, StringComparison.Ordinal);
        Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.False(Directory.Exists(tmp.File("out")), "the output folder was created");
        var list = CliRunner.Run(tmp.Path, null, "runs", "list", "--db", db, "--json");
        Assert.Equal(string.Empty, list.Stdout.Trim());
    }

    [Fact]
    public void RankingByAlpha_UsesEachCombinationsAlphaAgainstBuyAndHold()
    {
        using var tmp = new TempDir();
        var r = CliRunner.Run(tmp.Path, null, Sweep("--db", "none", "--out", "out", "--rank", "alpha"));
        Assert.True(r.ExitCode == 0, r.ToString());
        var rows = File.ReadAllLines(tmp.File("out/results.csv"));
        int alpha = Array.IndexOf(rows[0].Split(','), "alpha"), bench = Array.IndexOf(rows[0].Split(','), "benchmark_return");
        var alphas = rows.Skip(1).Select(l => double.Parse(l.Split(',')[alpha], CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(alphas.OrderDescending(), alphas);
        Assert.Single(rows.Skip(1).Select(l => l.Split(',')[bench]).Distinct()); // one benchmark for every combination

        // The best row's alpha is the one keel backtest writes into metrics.json for its parameters.
        var best = Row(tmp.File("out/results.csv"), 1);
        Assert.Equal(0, CliRunner.Run(tmp.Path, null, "backtest", "--data", Orcl, "--strategy", "sma-cross", "--param", $"fast={best["fast"]}", "--param", $"slow={best["slow"]}",
            "--stake", "10", "--commission", "0.001", "-q", "--db", "none", "--out", "bt").ExitCode);
        Assert.Equal(Metrics(tmp.File("bt/metrics.json")).GetProperty("alpha").GetRawText(), best["alpha"]);
    }

    [Fact]
    public void AnOutputFolderThatIsAFile_IsRefusedBeforeTheSweepIsRecorded()
    {
        using var tmp = new TempDir();
        var db = tmp.File("k.db");
        tmp.Write("taken", "a file");
        var r = CliRunner.Run(tmp.Path, null, Sweep("--db", db, "--out", "taken"));
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains("output folder taken is an existing file", r.Stderr, StringComparison.Ordinal);
        Assert.Equal("a file", File.ReadAllText(tmp.File("taken")));
        Assert.Equal(string.Empty, CliRunner.Run(tmp.Path, null, "runs", "list", "--db", db, "--json").Stdout.Trim());
    }
}
