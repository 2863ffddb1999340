using System.Security.Cryptography;
using System.Text.Json;
using Keel.Tests.Support;

namespace Keel.Tests.Strategies;

/// <summary>
/// The example configurations in samples/strategies, run through the CLI on the bundled real data: expected
/// statistics and a hash of the order list (a change to either is a behaviour change to explain), and the same orders
/// from a paper replay as from the backtest.
/// </summary>
public sealed class StrategyGoldenMasterTests
{
    [Theory]
    [InlineData("ladder", 35, 1, "21282.54578995", "48b27d1636fd5fc9e1dad197b0a8c92e378f14f5763332621aaec1038450ed95")]
    [InlineData("floor", 54, 17, "100888.35", "3941bf504d8b9e51aa51bc1aceb8b63dd2853a83c4de9592ac261e8cc1c4a870")]
    [InlineData("slob", 27, 9, "100003.08", "6de4dd817b60260d6990029bfc692fd93033e8e0266ae5d4d3d2ec73a5c0e1fa")]
    public void ExampleConfiguration_GivesItsGoldenResult_InBacktestAndPaperReplay(string strategy, int orders, int trades, string finalEquity, string ordersSha256)
    {
        using var tmp = new TempDir();
        var config = Path.Combine("samples", "strategies", strategy + ".json");
        var backtest = CliRunner.Run(TestPaths.RepoRoot, null, "backtest", "--config", config, "--db", "none", "-q", "--out", tmp.File("backtest"));
        Assert.True(backtest.ExitCode == 0, backtest.ToString());
        using var metrics = JsonDocument.Parse(File.ReadAllText(tmp.File("backtest/metrics.json")));
        var m = metrics.RootElement;
        Assert.Equal(strategy, m.GetProperty("run").GetProperty("strategy").GetString());
        Assert.Equal(orders, m.GetProperty("orders").GetInt32());
        Assert.Equal(trades, m.GetProperty("trades").GetInt32());
        Assert.Equal(finalEquity, m.GetProperty("final_equity").GetRawText());
        var ordersCsv = File.ReadAllBytes(tmp.File("backtest/orders.csv"));
        Assert.Equal(ordersSha256, Convert.ToHexStringLower(SHA256.HashData(ordersCsv)));

        // Every order appears once.
        var numbers = File.ReadAllLines(tmp.File("backtest/orders.csv")).Skip(1).Select(l => l.Split(',')[0]).ToList();
        Assert.Equal(numbers.Count, numbers.Distinct().Count());

        var paper = CliRunner.Run(TestPaths.RepoRoot, null, "paper", "--config", config, "--speed", "max", "--db", "none", "-q", "--out", tmp.File("paper"));
        Assert.True(paper.ExitCode == 0, paper.ToString());
        Assert.Equal(ordersCsv, File.ReadAllBytes(tmp.File("paper/orders.csv")));
    }

    [Fact]
    public void A_BadLadderFile_StopsTheCliWithFileLineAndField()
    {
        using var tmp = new TempDir();
        var levels = tmp.Write("levels.csv", "level,buy_price,sell_price,shares,held,profit\n0,10,11,5,0,0\n1,9,8.5,5,0,0\n");
        var r = CliRunner.Run(tmp.Path, null, "backtest", "--data", TestPaths.Data("orcl-2014.txt"), "--strategy", "ladder", "--param", "levels=levels.csv", "--db", "none", "--out", "out");
        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"keel: error: {levels}: line 3, field sell_price: 8.5 is not above buy_price 9; a level must sell above where it buys", r.Stderr.Trim());
        Assert.False(Directory.Exists(tmp.File("out")) && Directory.EnumerateFileSystemEntries(tmp.File("out")).Any());
    }

    [Fact]
    public void Strategies_ListsEveryStrategyWithItsParameters()
    {
        using var tmp = new TempDir();
        var r = CliRunner.Run(tmp.Path, null, "strategies");
        Assert.Equal(0, r.ExitCode);
        foreach (var name in new[] { "sma-cross", "ladder", "floor", "slob" })
        {
            Assert.Contains(name + "\n", r.Stdout, StringComparison.Ordinal);
        }

        foreach (var parameter in new[] { "levels", "cancel_distance", "initial_units", "max_layers", "retracement_pips", "take_profit_pips", "volatility_threshold", "consol_min", "min_quality" })
        {
            Assert.Contains($"--param {parameter}", r.Stdout, StringComparison.Ordinal);
        }
    }
}
