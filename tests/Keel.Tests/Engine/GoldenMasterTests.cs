using Keel.Domain;
using Keel.Tests.Support;

namespace Keel.Tests.Engine;

/// <summary>
/// Golden masters: sma-cross(10, 30), stake 1, commission 0.1 % per side, 100,000 cash, on checked-in real data.
/// Every figure below was cross-checked with an independent model of backtrader's SmaCross (same SMA, the
/// NonZeroDifference crossover, fills at the next open) written in Python with exact fractions: same orders, same
/// prices, same final equity. A change here is a change in trading behaviour and must be explained.
/// </summary>
public class GoldenMasterTests
{
    [Fact]
    public void Daily_2006Day001()
    {
        var o = Backtests.SmaCross(TestPaths.Data("2006-day-001.txt"), "2006-DAY-001");
        var m = o.Metrics;
        Assert.Equal(Money.Parse("100093.35689"), m.FinalEquity);
        Assert.Equal(Money.Parse("26.59311"), m.TotalCommission);
        Assert.Equal(Money.Parse("359.33605"), m.MaxDrawdownValue);
        Assert.Equal((7, 3, 1, 1), (m.Orders, m.Trades, m.Wins, m.OpenTrades));
        Assert.Equal(255, m.Bars);
        Assert.Equal(0.0009335689, m.TotalReturn, 12);
        Assert.Equal(1.6239397388628343, m.ProfitFactor!.Value, 10);
        Assert.Equal(0.0035916415130754923, m.MaxDrawdown, 12);
        Assert.Equal(0.26520939824192635, m.Sharpe!.Value, 10);
        Assert.Equal(0.3770483632574547, m.Sortino!.Value, 10);
        Assert.Equal(0.49019607843137253, m.Exposure, 12);
        Assert.Equal("d6c996c5b393243ddd54bb2d87a554f06b728c76d9bc928e93134a9677f5ae24", o.OrdersSha256);
    }

    [Fact]
    public void Daily_Yahoo_Orcl2014()
    {
        var o = Backtests.SmaCross(TestPaths.Data("orcl-2014.txt"), "ORCL-2014");
        var m = o.Metrics;
        Assert.Equal(Money.Parse("100006.582751"), m.FinalEquity);
        Assert.Equal(Money.Parse("2.857238002"), m.MaxDrawdownValue);
        Assert.Equal((7, 3, 2), (m.Orders, m.Trades, m.Wins));
        Assert.Equal(2.367603349097152, m.ProfitFactor!.Value, 10);
        Assert.Equal(0.9677675069454756, m.Sharpe!.Value, 10);
        Assert.Equal("5669bb8a5bd64b6857fb498629e6e78c24f5b1973ffb4ba5a6587b6ccac631ce", o.OrdersSha256);
    }

    [Fact]
    public void Intraday_5Minute_2006Min005()
    {
        var o = Backtests.SmaCross(TestPaths.Data("2006-min-005.txt"), "2006-MIN-005");
        var m = o.Metrics;
        Assert.Equal(Money.Parse("99781.12799"), m.FinalEquity);
        Assert.Equal(Money.Parse("307.84201"), m.TotalCommission);
        Assert.Equal((85, 42, 7), (m.Orders, m.Trades, m.Wins));
        Assert.Equal(("daily", 252, 21L), (m.ReturnPeriod, m.PeriodsPerYear, m.ReturnPeriods));
        Assert.Equal(-6.707207393740305, m.Sharpe!.Value, 9);
        Assert.Equal("e18a2221db76532005001c7986ad846b7ade0ff631d71bbb3393cb3d7cb9e5bf", o.OrdersSha256);
    }

    [Fact]
    public void SameInput_GivesByteIdenticalOutputs()
    {
        var a = Backtests.SmaCross(TestPaths.Data("2006-min-005.txt"), "S", 5, 20);
        var b = Backtests.SmaCross(TestPaths.Data("2006-min-005.txt"), "S", 5, 20);
        Assert.Equal(a.Orders, b.Orders);
        Assert.Equal(a.Fills, b.Fills);
        Assert.Equal(a.Trades, b.Trades);
        Assert.Equal(a.Equity, b.Equity);
        Assert.Equal(a.Metrics, b.Metrics);
        Assert.True(a.Orders.Length > 1000);
    }
}
