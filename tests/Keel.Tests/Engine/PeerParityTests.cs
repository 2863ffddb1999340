using System.Globalization;
using Keel.Domain.Orders;
using Keel.Tests.Support;

namespace Keel.Tests.Engine;

/// <summary>
/// Keel against a peer's own expectations. backtrader's test_strategy_unoptimized.py buys when the close crosses above
/// its 15-bar SMA and closes when it crosses below, on 2006-day-001.txt, filling at the next open; its suite asserts
/// the execution prices below. sma-cross with fast=1 (the close itself) and slow=15 is the same rule.
/// </summary>
public class PeerParityTests
{
    private static readonly string[] BacktraderBuyExecutions =
        ["3643.35", "3801.03", "3872.37", "3863.57", "3845.32", "3656.43", "3542.65", "3639.65", "3799.86", "3840.20", "4047.63", "4052.55"];

    private static readonly string[] BacktraderSellExecutions =
        ["3763.95", "3811.85", "3822.35", "3822.57", "3829.82", "3598.58", "3545.92", "3766.80", "3782.15", "3979.73", "4045.05"];

    [Fact]
    public void CloseCrossingSma15_FillsAtTheSamePricesAsBacktradersTestSuite()
    {
        var o = Backtests.SmaCross(TestPaths.Data("2006-day-001.txt"), "X", fast: 1, slow: 15, commission: 0m);
        var fills = System.Text.Encoding.UTF8.GetString(o.Fills).Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(l => l.Split(',')).Select(f => (Side: f[4], Price: decimal.Parse(f[6], CultureInfo.InvariantCulture).ToString("0.00", CultureInfo.InvariantCulture))).ToList();
        Assert.Equal(BacktraderBuyExecutions, fills.Where(f => f.Side == OrderSide.Buy.ToText()).Select(f => f.Price));
        Assert.Equal(BacktraderSellExecutions, fills.Where(f => f.Side == OrderSide.Sell.ToText()).Select(f => f.Price));
    }
}
