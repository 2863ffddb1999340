using System.Text.Json;
using Keel.Domain;
using Keel.Domain.Orders;
using Keel.Domain.Portfolio;
using Keel.Engine.Analytics;
using Keel.Engine.Kernel;
using Keel.Tests.Support;
using static Keel.Tests.Support.Harness;

namespace Keel.Tests.Engine;

public class AnalyticsTests
{
    private static Timestamp Day(int d, int hour = 0) => Timestamp.FromParts(2024, 1, d, hour);

    [Fact]
    public void Drawdown_ValuePercentAndDuration_ByHand()
    {
        var perf = new PerformanceTracker(new Portfolio(Money.From(100)));
        string[] equity = ["110", "99", "121", "96.8", "100", "130"];
        for (int i = 0; i < equity.Length; i++)
        {
            perf.Record(Day(i + 2), Money.Parse(equity[i]), Money.Parse(equity[i]));
        }

        Assert.Equal(Money.Parse("24.2"), perf.MaxDrawdownValue);
        Assert.Equal(0.2, perf.MaxDrawdown, 12);
        Assert.Equal(2, perf.MaxDrawdownDurationSlices);
        Assert.Equal(TimeSpan.FromDays(2), perf.MaxDrawdownDuration);
        Assert.Equal(6, perf.Slices);
    }

    [Fact]
    public void SharpeAndSortino_FromDailyReturns_MatchTheStatedFormulas()
    {
        var perf = new PerformanceTracker(new Portfolio(Money.From(100)));

        // Two slices a day: only the last equity of each UTC day makes a daily return.
        string[] equity = ["105", "110", "101", "99", "120", "121", "90", "96.8"];
        for (int i = 0; i < equity.Length; i++)
        {
            perf.Record(Day(2 + (i / 2), 10 + (i % 2)), Money.Parse(equity[i]), Money.Parse(equity[i]));
        }

        double[] r = [0.1, (99.0 / 110) - 1, (121.0 / 99) - 1, (96.8 / 121) - 1];
        double mean = r.Average();
        double sd = Math.Sqrt(r.Sum(x => (x - mean) * (x - mean)) / (r.Length - 1));
        double downside = Math.Sqrt(r.Where(x => x < 0).Sum(x => x * x) / r.Length);
        var (period, ppy, stats) = perf.ReturnBasis();
        Assert.Equal("daily", period);
        Assert.Equal(252, ppy);
        Assert.Equal(4, stats.Count);
        Assert.Equal(mean / sd * Math.Sqrt(252), stats.Sharpe(ppy)!.Value, 10);
        Assert.Equal(mean / downside * Math.Sqrt(252), stats.Sortino(ppy)!.Value, 10);
    }

    [Fact]
    public void WeeklyBars_UsePerBarReturns_AndFiftyTwoPeriods()
    {
        var perf = new PerformanceTracker(new Portfolio(Money.From(100)));
        perf.Record(Timestamp.FromParts(2024, 1, 5), Money.Parse("101"), Money.Parse("101"));
        perf.Record(Timestamp.FromParts(2024, 1, 12), Money.Parse("99"), Money.Parse("99"));
        perf.Record(Timestamp.FromParts(2024, 1, 19), Money.Parse("103"), Money.Parse("103"));
        var (period, ppy, stats) = perf.ReturnBasis();
        Assert.Equal("weekly", period);
        Assert.Equal(52, ppy);
        // The first return is measured from the initial equity, as on the daily basis.
        Assert.Equal(3, stats.Count);
        Assert.Equal((0.01 + (99.0 / 101) - 1 + (103.0 / 99) - 1) / 3, stats.Mean, 12);
    }

    [Fact]
    public void Sharpe_IsUndefined_WithFewerThanTwoReturnsOrNoVariance()
    {
        var stats = new ReturnStats();
        stats.Add(0.01);
        Assert.Null(stats.Sharpe(252));
        stats.Add(0.01);
        Assert.Null(stats.Sharpe(252));
        Assert.Null(stats.Sortino(252));
    }

    [Fact]
    public void TradeStatistics_WinRateProfitFactorAverages_ByHand()
    {
        var h = new Harness((i, b, m, t) =>
        {
            var side = i % 2 == 0 ? OrderSide.Buy : OrderSide.Sell;
            if (i < 6)
            {
                t.Submit(OrderRequest.Market(b.Instrument, side, Quantity.From(10)));
            }
        });
        var trades = new TradeTracker();
        var perf = new PerformanceTracker(h.Portfolio);
        var counter = new OrderCounter();
        h.Bus.Subscribe<FillBooked>(trades, "trades");
        h.Bus.Subscribe<SliceClosed>(trades, "trades");
        h.Bus.Subscribe<SliceClosed>(perf, "perf");
        h.Bus.Subscribe<OrderUpdate>(counter, "orders");

        // Fills at the next open: buy 100 sell 110 (+100), buy 100 sell 95 (−50), buy 100 sell 100 (0).
        h.Run(
            Bar(2, "90", "90", "90", "90"), Bar(3, "100", "100", "100", "100"), Bar(4, "110", "110", "110", "110"),
            Bar(5, "100", "100", "100", "100"), Bar(8, "95", "95", "95", "95"), Bar(9, "100", "100", "100", "100"),
            Bar(10, "100", "100", "100", "100"));
        var m = BacktestMetrics.Compute(perf, trades, counter, h.Portfolio, 0);
        Assert.Equal(3, m.Trades);
        Assert.Equal(1, m.Wins);
        Assert.Equal(1, m.Losses);
        Assert.Equal(1, m.Breakeven);
        Assert.Equal(1.0 / 3, m.WinRate!.Value, 12);
        Assert.Equal(2.0, m.ProfitFactor!.Value, 12);
        Assert.Equal(Money.Parse("100"), m.AverageWin);
        Assert.Equal(Money.Parse("-50"), m.AverageLoss);
        Assert.Equal(Money.Parse("16.666666666666666667"), m.AverageTrade);
        Assert.Equal(Money.Parse("100050"), m.FinalEquity);
        Assert.Equal(6, m.Orders);
        Assert.Equal(6, m.Fills);
        Assert.Equal(3.0 / 7, m.Exposure, 12);
    }

    [Fact]
    public void ProfitFactor_IsNull_WithoutLosingTrades_AndJsonHasTheRequiredKeys()
    {
        var h = new Harness((i, b, m, t) =>
        {
            if (i < 2)
            {
                t.Submit(OrderRequest.Market(b.Instrument, i == 0 ? OrderSide.Buy : OrderSide.Sell, Quantity.From(1)));
            }
        });
        var trades = new TradeTracker();
        var perf = new PerformanceTracker(h.Portfolio);
        h.Bus.Subscribe<FillBooked>(trades, "trades");
        h.Bus.Subscribe<SliceClosed>(perf, "perf");
        h.Run(Bar(2, "10", "10", "10", "10"), Bar(3, "10", "10", "10", "10"), Bar(4, "12", "12", "12", "12"));
        var m = BacktestMetrics.Compute(perf, trades, new OrderCounter(), h.Portfolio, 0);
        Assert.Null(m.ProfitFactor);

        using var ms = new MemoryStream();
        m.WriteJson(ms);
        using var doc = JsonDocument.Parse(ms.ToArray());
        foreach (var key in new[] { "final_equity", "total_return", "orders", "trades", "win_rate", "profit_factor", "max_drawdown", "sharpe", "sortino", "cagr", "exposure", "periods_per_year" })
        {
            Assert.True(doc.RootElement.TryGetProperty(key, out _), key);
        }

        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("profit_factor").ValueKind);
        Assert.Equal("100002", doc.RootElement.GetProperty("final_equity").GetRawText());
    }

    [Fact]
    public void EquityCurve_StaysBounded_AndKeepsTheEnvelope()
    {
        var curve = new EquityCurve(64);
        double lo = double.MaxValue, hi = double.MinValue;
        for (int i = 0; i < 10_000; i++)
        {
            double v = 1000 + (Math.Sin(i * 0.01) * 100) + (i % 97);
            lo = Math.Min(lo, v);
            hi = Math.Max(hi, v);
            curve.Add(Timestamp.FromUnixSeconds(i), v, 0);
        }

        Assert.InRange(curve.Count, 32, 64);
        Assert.Equal(lo, curve.Points.ToArray().Min(p => p.Low));
        Assert.Equal(hi, curve.Points.ToArray().Max(p => p.High));
        Assert.Equal(Timestamp.FromUnixSeconds(9_999), curve.Points[^1].Time);
    }
}

public class IndicatorTests
{
    [Fact]
    public void Sma_MatchesArithmeticMean_AfterWarmup()
    {
        var sma = new Keel.Indicators.Sma(3);
        double[] xs = [1, 2, 3, 4, 10];
        var values = new List<double>();
        foreach (var x in xs)
        {
            sma.Update(x);
            values.Add(sma.Value);
        }

        Assert.True(double.IsNaN(values[1]));
        Assert.Equal([2.0, 3.0, 17.0 / 3], values.Skip(2));
    }

    [Fact]
    public void PriceSma_CompareIsExact_WhereDoublesWouldTie()
    {
        var a = new Keel.Indicators.PriceSma(3);
        var b = new Keel.Indicators.PriceSma(1);
        foreach (var p in new[] { "0.1", "0.2", "0.3" })
        {
            a.Update(Price.Parse(p));
        }

        b.Update(Price.Parse("0.2"));
        Assert.Equal(0, Keel.Indicators.PriceSma.Compare(a, b));
        b.Update(Price.Parse("0.200000001"));
        Assert.Equal(-1, Keel.Indicators.PriceSma.Compare(a, b));
    }


    [Fact]
    public void PriceSma_CompareHandlesProductsPastSixtyThreeBits()
    {
        // 1,500,000.0 over 2,000 bars, compared with a 1,000-bar average: each side's sum times the other's period is
        // about 3e21 (in units of 1e-9), so the low 64 bits of the 128-bit products have their top bit set.
        var slow = new Keel.Indicators.PriceSma(2_000);
        var fast = new Keel.Indicators.PriceSma(1_000);
        for (int i = 0; i < 2_000; i++)
        {
            slow.Update(Price.Parse("1500000"));
            fast.Update(Price.Parse(i % 2 == 0 ? "1500000.000000001" : "1500000"));
        }

        Assert.Equal(1, Keel.Indicators.PriceSma.Compare(fast, slow));
        Assert.Equal(-1, Keel.Indicators.PriceSma.Compare(slow, fast));
        Assert.Equal(0, Keel.Indicators.PriceSma.Compare(slow, slow));
    }

    [Fact]
    public void Ema_SeedsWithSma_ThenSmooths()
    {
        var ema = new Keel.Indicators.Ema(3);
        foreach (var x in new[] { 2.0, 4.0, 6.0 })
        {
            ema.Update(x);
        }

        Assert.Equal(4.0, ema.Value);
        ema.Update(10);
        Assert.Equal(7.0, ema.Value);
    }

    [Fact]
    public void CrossOver_TouchThenCross_CountsOnce_TouchAndTurnBack_DoesNot()
    {
        var cross = new Keel.Indicators.CrossOver();
        int[] signs = [-1, 0, 1, 1, 0, 1, -1, 0, -1, 0, 1];
        var outputs = signs.Select(cross.UpdateSign).ToArray();
        Assert.Equal([0, 0, 1, 0, 0, 0, -1, 0, 0, 0, 1], outputs);
    }
}
