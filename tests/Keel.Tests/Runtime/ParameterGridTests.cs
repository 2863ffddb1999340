using Keel.Engine.Analytics;
using Keel.Runtime;
using Keel.Runtime.Optimization;
using Keel.Strategies;

namespace Keel.Tests.Runtime;

/// <summary>The grid of a parameter sweep: its values, its numbering, its seeded sample, and what it refuses.</summary>
public class ParameterGridTests
{
    private static ParameterGrid Parse(params string[] expressions) => ParameterGrid.Parse(expressions, SmaCross.Descriptor);

    [Fact]
    public void Ranges_AreInclusive_AndCombinationsNumberTheFirstAxisSlowest()
    {
        var grid = Parse("fast=5:50:5", "slow=20:200:10", "short=false");
        Assert.Equal(["5", "10", "15", "20", "25", "30", "35", "40", "45", "50"], grid.Axes[0].Values);
        Assert.Equal(19, grid.Axes[1].Values.Count);
        Assert.Equal("200", grid.Axes[1].Values[^1]);
        Assert.Equal(10 * 19, grid.Count);
        Assert.Equal(["fast", "slow"], grid.Varying.Select(a => a.Name));
        Assert.Equal(["5", "20", "false"], grid.Values(0));
        Assert.Equal(["5", "30", "false"], grid.Values(1));
        Assert.Equal(["10", "20", "false"], grid.Values(19));
        Assert.Equal(["fast=50", "slow=200", "short=false"], grid.Pairs(grid.Count - 1));
    }

    [Fact]
    public void DecimalRanges_AreExact_AndListsKeepTheirOrder()
    {
        var grid = ParameterGrid.Parse(["min_quality=0.1:0.3:0.1", "rr=3,1.5,2"], Slob.Descriptor);
        Assert.Equal(["0.1", "0.2", "0.3"], grid.Axes[0].Values);
        Assert.Equal(["3", "1.5", "2"], grid.Axes[1].Values);
        Assert.Equal(["1", "2", "3"], Parse("fast=1:3").Axes[0].Values);
        Assert.Equal(["7"], Parse("fast=7").Axes[0].Values);
    }

    [Theory]
    [InlineData("fast=5:50:0", "--param fast=5:50:0: the step is zero")]
    [InlineData("fast=50:5:5", "--param fast=50:5:5: the range is inverted (50 is above 5)")]
    [InlineData("fast=5:50:-5", "--param fast=5:50:-5: the step -5 is negative")]
    [InlineData("fast=5:", "--param fast=5:: the range is empty")]
    [InlineData("fast=5,,7", "--param fast=5,,7: the list has an empty value")]
    [InlineData("fast=5,5", "--param fast=5,5: a value is listed twice")]
    [InlineData("nope=1:3", "--param nope=1:3: strategy sma-cross has no parameter 'nope'; it takes: fast, slow, short")]
    [InlineData("fast", "--param fast: it must look like name=START:END:STEP")]
    public void BadExpressions_AreRefusedNamingTheOptionAndValue(string expression, string message)
    {
        var ex = Assert.Throws<UsageException>(() => Parse(expression));
        Assert.StartsWith(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AParameterGivenTwice_IsRefused()
    {
        var ex = Assert.Throws<UsageException>(() => Parse("fast=5:10", "FAST=7"));
        Assert.Contains("given twice", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Samples_AreSeeded_Distinct_Ascending_AndTheWholeGridWhenAsked()
    {
        var grid = Parse("fast=1:100", "slow=2:101");
        var a = grid.Sample(50, 7);
        Assert.Equal(50, a.Length);
        Assert.Equal(a.Order(), a);
        Assert.Equal(50, a.Distinct().Count());
        Assert.All(a, i => Assert.InRange(i, 0, grid.Count - 1));
        Assert.Equal(a, grid.Sample(50, 7));
        Assert.NotEqual(a, grid.Sample(50, 8));
        Assert.Equal(grid.All(), Parse("fast=1:100", "slow=2:101").Sample(20_000, 1));

        // Spread over the grid, not bunched at one end: a sample of 50 of 10,000 touches both halves.
        Assert.Contains(a, i => i < grid.Count / 2);
        Assert.Contains(a, i => i >= grid.Count / 2);
    }

    [Fact]
    public void Ranking_IsBestFirst_UndefinedLast_TiesInCombinationOrder_AndLowerFirstForRisks()
    {
        static BacktestMetrics M(double? sharpe, double drawdown) => TestMetrics.With(sharpe, drawdown);
        var all = new[] { M(0.5, 0.2), M(null, 0.1), M(1.5, 0.3), M(0.5, 0.05), M(double.NaN, 0.4) };
        Assert.Equal([2, 0, 3, 1, 4], RankMetric.Parse("sharpe").Rank(all.Length, i => all[i]));
        Assert.Equal([3, 1, 0, 2, 4], RankMetric.Parse("MAX_DRAWDOWN").Rank(all.Length, i => all[i]));
        var ex = Assert.Throws<UsageException>(() => RankMetric.Parse("luck"));
        Assert.StartsWith("--rank luck: not a metric Keel ranks by; use one of sharpe, alpha, excess_return, sortino, net_profit", ex.Message, StringComparison.Ordinal);
    }
}

/// <summary>Metrics with only the fields a ranking test reads set.</summary>
internal static class TestMetrics
{
    public static BacktestMetrics With(double? sharpe, double maxDrawdown) => new()
    {
        InitialCash = Keel.Domain.Money.From(100),
        FinalEquity = Keel.Domain.Money.From(100),
        FinalCash = Keel.Domain.Money.From(100),
        TotalReturn = 0,
        Cagr = null,
        Orders = 0,
        OrdersFilled = 0,
        OrdersCanceled = 0,
        OrdersRejected = 0,
        OrdersDenied = 0,
        OrdersExpired = 0,
        Fills = 0,
        Trades = 0,
        OpenTrades = 0,
        Wins = 0,
        Losses = 0,
        Breakeven = 0,
        WinRate = null,
        ProfitFactor = null,
        GrossProfit = Keel.Domain.Money.Zero,
        GrossLoss = Keel.Domain.Money.Zero,
        AverageWin = null,
        AverageLoss = null,
        LargestWin = Keel.Domain.Money.Zero,
        LargestLoss = Keel.Domain.Money.Zero,
        AverageTrade = null,
        AverageBarsHeld = null,
        TotalCommission = Keel.Domain.Money.Zero,
        MaxDrawdown = maxDrawdown,
        MaxDrawdownValue = Keel.Domain.Money.Zero,
        MaxDrawdownDurationBars = 0,
        MaxDrawdownDurationDays = 0,
        Sharpe = sharpe,
        Sortino = null,
        ReturnPeriod = "daily",
        PeriodsPerYear = 252,
        ReturnPeriods = 0,
        Exposure = 0,
        Bars = 0,
        Start = null,
        End = null,
        Errors = 0,
    };
}
