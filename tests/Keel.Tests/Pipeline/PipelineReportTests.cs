using Keel.Domain;
using Keel.Pipeline;
using Keel.Storage.Pipeline;

namespace Keel.Tests.Pipeline;

/// <summary>The pipeline backtest report's P&amp;L curve: realized from closed trades plus each open trade's latest valuation.</summary>
public sealed class PipelineReportTests
{
    private static readonly Timestamp T0 = Timestamp.FromUnixNanos(1_705_417_200L * Timestamp.NanosPerSecond);

    [Fact]
    public void Curve_AddsRealizedToTheLatestValuationOfEachOpenTrade_AndCountsATradeClosedAtAValuationOnce()
    {
        var t1 = At(1);
        var t2 = At(2);
        var t3 = At(3);
        var trades = new[] { Trade(1, TradeStatus.Closed, 15m, t3), Trade(2, TradeStatus.Position, null, null) };
        var valuations = new[]
        {
            Valuation(1, 10m, t1),
            Valuation(1, 20m, t2),
            Valuation(2, -5m, t2),
            Valuation(1, 18m, t3), // valued at the same firing it closed: realized only
        };

        var curve = PipelineReport.Curve(trades, valuations);

        Assert.Equal([t1, t2, t3], curve.Select(p => p.Time));
        Assert.Equal([0m, 0m, 15m], curve.Select(p => p.Realized));
        Assert.Equal([10m, 15m, -5m], curve.Select(p => p.Unrealized));
        Assert.Equal(10m, curve[^1].Total);
    }

    [Fact]
    public void Curve_IsThinnedTo2000Points_KeepingTheFirstAndTheLast()
    {
        var valuations = Enumerable.Range(1, 5_000).Select(i => Valuation(1, i, At(i))).ToArray();
        var curve = PipelineReport.Curve([Trade(1, TradeStatus.Position, null, null)], valuations);
        Assert.Equal(2_000, curve.Count);
        Assert.Equal(1m, curve[0].Unrealized);
        Assert.Equal(5_000m, curve[^1].Unrealized);
        Assert.True(curve.Zip(curve.Skip(1)).All(p => p.First.Time < p.Second.Time));
    }

    private static Timestamp At(int minutes) => T0.AddNanos(minutes * 60L * Timestamp.NanosPerSecond);

    private static TradeJournalEntry Trade(long id, TradeStatus status, decimal? pnl, Timestamp? exit) => new(
        id, id, "AAPL", TradeSide.Long, TradeStyle.Swing, status, 100m, 95m, 110m, 10m, 100m, 10m, exit is null ? null : 101.5m, pnl,
        exit is null ? null : ExitReason.ProfitTaken, T0, exit, T0, exit ?? T0);

    private static PositionValuation Valuation(long trade, decimal unrealized, Timestamp at) =>
        new(new PositionTracking(trade, "AAPL", 10m, 100m, 1000m, 100m + (unrealized / 10m), 1000m + unrealized, unrealized, at, null, null), 0m, 0m);
}
