using Keel.Tests.Support;

namespace Keel.Tests.Risk;

public class RiskCliTests
{
    private static string[] Backtest(string outDir, params string[] risk) =>
        ["backtest", "--data", TestPaths.Data("2006-day-001.txt"), "--strategy", "sma-cross", "--param", "fast=10", "--param", "slow=30", "--stake", "1",
            "--commission", "0.001", "--cash", "100000", "--out", outDir, .. risk];

    [Fact]
    public void Backtest_WithADrawdownHalt_DeniesLaterOpeningOrders_InOrdersCsv()
    {
        using var tmp = new TempDir();
        var r = CliRunner.Run(tmp.Path, null, Backtest("out", "--max-drawdown", "0.01"));
        Assert.True(r.ExitCode == 0, r.ToString());
        var lines = File.ReadAllLines(Path.Combine(tmp.Path, "out", "orders.csv"));
        var denied = lines.Where(l => l.Contains("risk state is HALTED (drawdown", StringComparison.Ordinal)).ToArray();
        Assert.NotEmpty(denied);
        Assert.All(denied, l => Assert.Contains("denied", l, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void Backtest_WithATotalExposureLimit_DeniesEveryOpeningOrderWithTheReason()
    {
        using var tmp = new TempDir();
        var r = CliRunner.Run(tmp.Path, null, Backtest("out", "--max-total-exposure", "1"));

        // A run whose every order was refused is recorded as halted (a non-zero exit), with its results written.
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("orders was denied or rejected", r.ToString(), StringComparison.Ordinal);
        var rows = File.ReadAllLines(Path.Combine(tmp.Path, "out", "orders.csv")).Skip(1).ToArray();
        Assert.NotEmpty(rows);
        Assert.All(rows, l => Assert.Contains("above the limit of 1.00", l, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("--max-daily-loss", "abc")]
    [InlineData("--max-drawdown", "150%")]
    [InlineData("--max-exposure", "AAPL")]
    [InlineData("--risk-warning", "1.5")]
    public void Backtest_BadRiskOption_IsAUsageError(string option, string value)
    {
        using var tmp = new TempDir();
        var r = CliRunner.Run(tmp.Path, null, Backtest("out", option, value));
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains(option, r.ToString(), StringComparison.Ordinal);
    }
}
