using System.CommandLine;
using Keel.Cli;
using Keel.Runtime;
using Keel.Tests.Support;

namespace Keel.Tests.Brokerage;

/// <summary>Choosing a brokerage model for a run: the command line, the stored run spec, and a whole backtest.</summary>
public class BrokerageRunTests
{
    private static RunSpec Resolve(bool paper, params string[] args)
    {
        var options = new RunOptions(paper);
        var command = new RootCommand();
        foreach (var o in options.All)
        {
            command.Options.Add(o);
        }

        return options.Resolve(command.Parse(args));
    }

    [Fact]
    public void Backtest_WithoutTheOption_UsesNoModel() =>
        Assert.Equal("none", Resolve(false, "--data", "a.csv", "--strategy", "sma-cross").Brokerage);

    [Fact]
    public void Backtest_WithTheOption_UsesThatModel() =>
        Assert.Equal("alpaca", Resolve(false, "--data", "a.csv", "--strategy", "sma-cross", "--brokerage", "Alpaca").Brokerage);

    [Theory]
    [InlineData("alpaca", null, "alpaca")]
    [InlineData("oanda", null, "oanda")]
    [InlineData("oanda", "none", "none")]
    public void PaperOnAVenue_DefaultsToThatVenuesModel(string venue, string? brokerage, string expected)
    {
        string[] args = ["--venue", venue, "--symbols", venue == "oanda" ? "EUR_USD" : "AAPL", "--strategy", "sma-cross"];
        Assert.Equal(expected, Resolve(true, brokerage is null ? args : [.. args, "--brokerage", brokerage]).Brokerage);
    }

    [Fact]
    public void PaperReplay_WithoutTheOption_UsesNoModel() =>
        Assert.Equal("none", Resolve(true, "--replay", "a.csv", "--strategy", "sma-cross").Brokerage);

    [Fact]
    public void UnknownModel_IsAUsageErrorNamingTheChoices()
    {
        var ex = Assert.Throws<UsageException>(() => Resolve(false, "--data", "a.csv", "--strategy", "sma-cross", "--brokerage", "ibkr"));
        Assert.Equal("--brokerage was 'ibkr'; it must be none, alpaca, oanda", ex.Message);
    }

    [Fact]
    public void RunSpec_StoresTheModel_AndSpecsWithoutOneReadAsNone()
    {
        var spec = Resolve(false, "--data", "a.csv", "--strategy", "sma-cross");
        string plain = RunSpecJson.Write(spec);
        Assert.DoesNotContain("\"brokerage\"", plain, StringComparison.Ordinal);
        Assert.Equal("none", RunSpecJson.Read(plain, "r1", null).Brokerage);

        string chosen = RunSpecJson.Write(spec with { Brokerage = "oanda" });
        Assert.Contains("\"brokerage\":\"oanda\"", chosen, StringComparison.Ordinal);
        Assert.Equal("oanda", RunSpecJson.Read(chosen, "r1", null).Brokerage);
    }

    [Fact]
    public void Backtest_WithTheAlpacaModel_RejectsASubPennyLimit_WithAlpacasMessage_InOrdersCsv()
    {
        using var tmp = new TempDir();
        // Tick size 0.001, so only the model refuses the ladder's sub-penny buy price.
        tmp.Write("levels.csv", "level,buy_price,sell_price,shares,held,profit\n0,37.905,39.50,10,0,0\n");
        string[] args = ["backtest", "--data", TestPaths.Data("orcl-2014.txt"), "--strategy", "ladder", "--param", "levels=levels.csv", "--tick-size", "0.001", "--db", "none", "-q"];

        var plain = CliRunner.Run(tmp.Path, null, [.. args, "--out", "plain"]);
        Assert.True(plain.ExitCode == 0, plain.ToString());
        var plainOrders = File.ReadAllLines(tmp.File("plain/orders.csv"));
        Assert.DoesNotContain(plainOrders, l => l.Contains("sub-penny", StringComparison.Ordinal));

        // The ladder asks again on every bar; as with a venue that keeps rejecting, the circuit breaker halts the run (exit 3).
        var alpaca = CliRunner.Run(tmp.Path, null, [.. args, "--out", "alpaca", "--brokerage", "alpaca"]);
        Assert.True(alpaca.ExitCode == 3, alpaca.ToString());
        Assert.Contains("rejected by the alpaca brokerage model before sending (42210000)", alpaca.Stderr, StringComparison.Ordinal);
        var header = File.ReadLines(tmp.File("alpaca/orders.csv")).First().Split(',');
        var first = File.ReadLines(tmp.File("alpaca/orders.csv")).Skip(1).First();
        Assert.Contains(",rejected,", first, StringComparison.Ordinal);
        Assert.Contains("invalid limit_price 37.905. sub-penny increment does not fulfill minimum pricing criteria", first, StringComparison.Ordinal);
        Assert.Contains("reason", header);
    }
}
