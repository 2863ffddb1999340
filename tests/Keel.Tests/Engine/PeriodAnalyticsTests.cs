using System.Text.Json;
using Keel.Domain;
using Keel.Engine.Analytics;
using Keel.Tests.Support;

namespace Keel.Tests.Engine;

/// <summary>Period returns, drawdown periods and the benchmark comparison against values worked out by hand.</summary>
public class PeriodAnalyticsTests
{
    private static long Day(int y, int m, int d) => new DateOnly(y, m, d).DayNumber - DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;

    private static DayPoint P(int y, int m, int d, decimal equity, decimal close) => new(Day(y, m, d), Money.From(equity), Price.From(close), 1, 1);

    // Equity 100,000 → 101,000 → 99,990 → 102,000 → 103,020; the instrument closes 10, 11, 10.5, 12, 12.
    private static readonly DayPoint[] Days =
    [
        P(2014, 1, 30, 100_000m, 10m), P(2014, 1, 31, 101_000m, 11m), P(2014, 2, 3, 99_990m, 10.5m), P(2014, 2, 28, 102_000m, 12m), P(2015, 1, 2, 103_020m, 12m),
    ];

    [Fact]
    public void PeriodReturns_AreEachPeriodsLastEquityOverThePreviousOnes()
    {
        var a = PeriodAnalytics.Compute(Days, Money.From(100_000m), "buy and hold X");
        Assert.Equal(["2014-01", "2014-02", "2015-01"], a.Monthly.Select(p => p.Period));
        Assert.Equal(0.01, a.Monthly[0].Return, 15);
        Assert.Equal(0.00990099009900991, a.Monthly[1].Return, 15); // 102,000 / 101,000 − 1
        Assert.Equal(0.01, a.Monthly[2].Return, 15); // 103,020 / 102,000 − 1
        Assert.Equal(["2014", "2015"], a.Yearly.Select(p => p.Period));
        Assert.Equal(0.02, a.Yearly[0].Return, 15);
        Assert.Equal(0.01, a.Yearly[1].Return, 15);
    }

    [Fact]
    public void Drawdowns_HavePeakTroughRecoveryDepthAndLength()
    {
        var a = PeriodAnalytics.Compute(Days, Money.From(100_000m), "buy and hold X");
        var d = Assert.Single(a.Drawdowns);
        Assert.Equal((Day(2014, 1, 31), Day(2014, 2, 3), (long?)Day(2014, 2, 28), 28L), (d.PeakDay, d.TroughDay, d.RecoveryDay, d.Days));
        Assert.Equal(1 - (99_990.0 / 101_000), d.Depth, 15);

        // Still under water at the end: no recovery, length to the last day.
        var open = PeriodAnalytics.Compute([.. Days.Take(3)], Money.From(100_000m), "x").Drawdowns;
        Assert.Null(Assert.Single(open).RecoveryDay);
        Assert.Equal(3, open[0].Days);
    }

    [Fact]
    public void Benchmark_IsBuyAndHoldFromTheFirstClose_AndAlphaBetaCorrelationMatchTheHandComputedOnes()
    {
        var a = PeriodAnalytics.Compute(Days, Money.From(100_000m), "buy and hold X");
        Assert.Equal([100_000.0, 110_000, 105_000, 120_000, 120_000], a.BenchmarkEquity.Select(v => Math.Round(v, 9)));
        Assert.Equal(0.2, a.BenchmarkReturn!.Value, 12);
        Assert.Equal(1 - (105.0 / 110), a.BenchmarkMaxDrawdown!.Value, 15);
        Assert.Equal(0.21848122878320897, a.BenchmarkCagr!.Value, 12); // 1.2^(365.25/337) − 1
        // Daily returns r = (1%, −1%, 2.0102%, 1%), b = (10%, −4.545%, 14.286%, 0%): sample statistics.
        Assert.Equal(0.12496330653988384, a.Beta!.Value, 12);
        Assert.Equal(0.862167046879551, a.Correlation!.Value, 12);
        Assert.Equal(0.3423375213318922, a.Alpha!.Value, 12);
    }

    [Fact]
    public void ABacktestThatNeverTrades_HasTheBenchmarkOfItsFile_AndFlatPeriods()
    {
        using var tmp = new TempDir();
        var csv = tmp.Write("tiny.csv", """
            datetime,open,high,low,close,volume
            2014-01-30,10,10,10,10,100
            2014-01-31,11,11,11,11,100
            2014-02-03,10.5,10.5,10.5,10.5,100
            2014-02-28,12,12,12,12,100
            2015-01-02,12,12,12,12,100
            """);
        var r = CliRunner.Run(tmp.Path, null, "backtest", "--data", csv, "--strategy", "sma-cross", "--param", "fast=2", "--param", "slow=50", "--db", "none", "-q", "--out", "out");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(File.ReadAllText(tmp.File("out/metrics.json")));
        var m = doc.RootElement;
        var bench = m.GetProperty("benchmark");
        Assert.Equal("buy and hold TINY", bench.GetProperty("source").GetString());
        Assert.Equal(0.2, bench.GetProperty("total_return").GetDouble(), 12);
        Assert.Equal(1 - (105.0 / 110), bench.GetProperty("max_drawdown").GetDouble(), 15);
        Assert.Equal(0.21848122878320897, bench.GetProperty("cagr").GetDouble(), 12);
        Assert.Equal(["2014-01", "2014-02", "2015-01"], m.GetProperty("monthly_returns").EnumerateObject().Select(p => p.Name));
        Assert.All(m.GetProperty("monthly_returns").EnumerateObject(), p => Assert.Equal(0, p.Value.GetDouble()));
        Assert.Equal(0, m.GetProperty("beta").GetDouble());
        Assert.Equal(JsonValueKind.Null, m.GetProperty("correlation").ValueKind); // a flat run has no variance to correlate
        Assert.Empty(m.GetProperty("drawdown_periods").EnumerateArray());

        // --benchmark FILE compares with that file instead (here the same prices doubled: the same returns).
        var other = tmp.Write("other.csv", File.ReadAllText(csv).Replace(",10,10,10,10,", ",20,20,20,20,", StringComparison.Ordinal).Replace(",11,11,11,11,", ",22,22,22,22,", StringComparison.Ordinal).Replace(",10.5,10.5,10.5,10.5,", ",21,21,21,21,", StringComparison.Ordinal).Replace(",12,12,12,12,", ",24,24,24,24,", StringComparison.Ordinal));
        var r2 = CliRunner.Run(tmp.Path, null, "backtest", "--data", csv, "--strategy", "sma-cross", "--param", "fast=2", "--param", "slow=50", "--db", "none", "-q", "--out", "out2", "--benchmark", other);
        Assert.True(r2.ExitCode == 0, r2.ToString());
        using var doc2 = JsonDocument.Parse(File.ReadAllText(tmp.File("out2/metrics.json")));
        Assert.Equal("buy and hold other.csv", doc2.RootElement.GetProperty("benchmark").GetProperty("source").GetString());
        Assert.Equal(0.2, doc2.RootElement.GetProperty("benchmark").GetProperty("total_return").GetDouble(), 12);
    }
}
