using System.Diagnostics;
using Keel.Domain;
using Keel.Indicators;

namespace Keel.Tests.Indicators;

/// <summary>Small cases worked out by hand, plus the properties every indicator must have.</summary>
public class IndicatorTests
{
    private static readonly InstrumentId Id = new("X");

    internal static Bar B(decimal high, decimal low, decimal close, int day = 0) =>
        new(Id, Timestamp.FromParts(2024, 1, 1).AddNanos(day * Timestamp.NanosPerDay), Price.From(close), Price.From(high), Price.From(low), Price.From(close), Quantity.From(1));

    /// <summary>A seeded random walk on a 0.0001 grid, with calm and wild stretches (a stress for running sums).</summary>
    internal static Bar[] Walk(int count, int seed = 7)
    {
        var rng = new Random(seed);
        var bars = new Bar[count];
        double p = 100;
        for (int i = 0; i < count; i++)
        {
            double vol = (i / 5000) % 3 == 0 ? 0.02 : (i / 5000) % 3 == 1 ? 0.0005 : 0.005;
            double o = p;
            double c = Math.Max(1, o * (1 + (vol * ((rng.NextDouble() * 2) - 1))));
            double h = Math.Max(o, c) * (1 + (vol * rng.NextDouble() / 2));
            double l = Math.Min(o, c) * (1 - (vol * rng.NextDouble() / 2));
            var open = Round(o);
            var close = Round(c);
            var high = Price.Max(Round(h), Price.Max(open, close));
            var low = Price.Min(Round(l), Price.Min(open, close));
            bars[i] = new Bar(Id, Timestamp.FromParts(2020, 1, 1).AddNanos(i * Timestamp.NanosPerMinute), open, high, low, close, Quantity.From(1));
            p = close.ToDouble();
        }

        return bars;
    }

    private static Price Round(double v) => Price.From(Math.Round((decimal)v, 4));

    private static double[] Feed(Action<double> update, Func<double> value, params double[] inputs)
    {
        var result = new double[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
        {
            update(inputs[i]);
            result[i] = value();
        }

        return result;
    }

    private static void Near(double expected, double actual, double tolerance = 1e-12) =>
        Assert.True(Math.Abs(expected - actual) <= tolerance * Math.Max(1, Math.Abs(expected)), $"expected {expected:R}, got {actual:R}");

    [Fact]
    public void StandaloneExample_FromTheDocs_RunsOnPlainNumbers()
    {
        var doc = File.ReadAllText(Path.Combine(Support.TestPaths.RepoRoot, "docs", "indicators.md"));
        Assert.Contains("var rsi = new Rsi(14);\nforeach (double close in closes) rsi.Update(close);", doc.ReplaceLineEndings("\n"));

        // ---- as in docs/indicators.md, "Using the indicators without the engine" ----
        double[] closes = [.. Enumerable.Range(0, 20).Select(i => 100.0 + (i % 3))];
        var rsi = new Rsi(14);
        foreach (double close in closes)
        {
            rsi.Update(close);
        }

        Assert.True(rsi.IsReady);
        Assert.InRange(rsi.Value, 0, 100);
    }

    [Fact]
    public void Wma_ThreeInputs_WeighsNewestMost()
    {
        var wma = new Wma(3);
        var v = Feed(wma.Update, () => wma.Value, 1, 2, 3, 4, 10);
        Assert.True(double.IsNaN(v[1]));
        Near(14.0 / 6, v[2]);
        Near(20.0 / 6, v[3]);
        Near((3 + 8 + 30) / 6.0, v[4]);
    }

    [Fact]
    public void DemaAndTema_OnALinearRamp_HaveNoLag()
    {
        // An SMA-seeded EMA trails a ramp by exactly (period − 1)/2; DEMA and TEMA cancel that lag completely.
        var dema = new Dema(5);
        var tema = new Tema(5);
        for (int i = 1; i <= 40; i++)
        {
            dema.Update(i);
            tema.Update(i);
            Assert.Equal(i >= 9, dema.IsReady);
            Assert.Equal(i >= 13, tema.IsReady);
            if (dema.IsReady)
            {
                Near(i, dema.Value);
            }

            if (tema.IsReady)
            {
                Near(i, tema.Value);
            }
        }
    }

    [Fact]
    public void Rsi_Period2_UsesWilderAverages()
    {
        var rsi = new Rsi(2);
        var v = Feed(rsi.Update, () => rsi.Value, 1, 2, 1, 3);
        Assert.True(double.IsNaN(v[1]));
        Near(50, v[2]); // gains 1, 0 and losses 0, 1 average 0.5 each
        Near(100 * 1.25 / 1.5, v[3]); // gain (0.5·1 + 2)/2 = 1.25, loss 0.5/2 = 0.25
    }

    [Fact]
    public void Rsi_NoMovementAtAll_IsFifty_OnlyGains_IsHundred()
    {
        var flat = new Rsi(3);
        Assert.Equal(50, Feed(flat.Update, () => flat.Value, 5, 5, 5, 5)[3]);
        var up = new Rsi(3);
        Assert.Equal(100, Feed(up.Update, () => up.Value, 1, 2, 3, 4)[3]);
    }

    [Fact]
    public void Macd_LineSignalHistogram_HaveTheirOwnWarmUps()
    {
        var macd = new Macd(2, 3, 2);
        var line = new List<double>();
        var signal = new List<double>();
        foreach (double x in new double[] { 1, 2, 3, 5, 4 })
        {
            macd.Update(x);
            line.Add(macd.Line);
            signal.Add(macd.Signal);
        }

        // EMA(2): 3/2, 5/2, 25/6, 73/18 (seeded at input 2); EMA(3): 2, 7/2, 15/4 (seeded at input 3).
        Assert.True(double.IsNaN(line[1]));
        Near(1.0 / 2, line[2]);
        Near(2.0 / 3, line[3]);
        Near(11.0 / 36, line[4]);
        Assert.True(double.IsNaN(signal[2]));
        Near(7.0 / 12, signal[3]);
        Near(43.0 / 108, signal[4]);
        Near(line[4] - signal[4], macd.Histogram);
        Assert.Equal(4, macd.WarmUp);
    }

    [Fact]
    public void BollingerBands_ThreeInputs_UsePopulationDeviation()
    {
        var bb = new BollingerBands(3, 2);
        foreach (double x in new double[] { 1, 2, 3 })
        {
            bb.Update(x);
        }

        Near(2, bb.Middle);
        Near(2 + (2 * Math.Sqrt(2.0 / 3)), bb.Upper);
        Near(2 - (2 * Math.Sqrt(2.0 / 3)), bb.Lower);
    }

    [Fact]
    public void StdDev_IdenticalValuesAfterWildOnes_IsExactlyZero()
    {
        var sd = new StdDev(3);
        foreach (double x in new[] { 1, 1e6, 3.3, 1e-3, 7.7, 7.7, 7.7 })
        {
            sd.Update(x);
        }

        Assert.Equal(0, sd.Value);
        Assert.Equal(7.7, sd.Mean);
    }

    [Fact]
    public void TrueRange_UsesThePreviousClose_AndHasNoValueOnTheFirstBar()
    {
        var tr = new TrueRange();
        tr.Update(B(10, 8, 9));
        Assert.False(tr.IsReady);
        Assert.True(double.IsNaN(tr.Value));
        tr.Update(B(12, 11, 11.5m));
        Assert.Equal(3, tr.Value); // 12 − min(11, 9)
        tr.Update(B(7, 6, 6.5m));
        Assert.Equal(5.5, tr.Value); // max(7, 11.5) − 6
    }

    [Fact]
    public void Atr_Period2_AveragesTrueRangesThenSmooths()
    {
        var atr = new Atr(2);
        var bars = new[] { B(10, 8, 9), B(12, 11, 11.5m), B(7, 6, 6.5m), B(8, 6, 7) };
        var v = bars.Select(b =>
        {
            atr.Update(b);
            return atr.Value;
        }).ToArray();
        Assert.True(double.IsNaN(v[1]));
        Near((3 + 5.5) / 2, v[2]);
        Near(4.25 + ((2 - 4.25) / 2), v[3]); // TR 2: max(8, 6.5) − min(6, 6.5)
    }

    [Fact]
    public void Stochastic_FastAndSlow_ByHand()
    {
        var bars = new[] { B(10, 8, 9), B(11, 9, 10), B(12, 9, 12), B(12, 10, 10), B(13, 11, 11) };

        // Raw %K over 3 bars: (12−8)/(12−8) = 100, (10−9)/(12−9) = 33.3…, (11−9)/(13−9) = 50.
        var fast = new Stochastic(3, 1, 2);
        var slow = new Stochastic(3, 2, 2);
        foreach (var b in bars)
        {
            fast.Update(b);
            slow.Update(b);
        }

        Near(50, fast.K);
        Near((100.0 / 3 + 50) / 2, fast.D);
        Near((100.0 / 3 + 50) / 2, slow.K);
        Near((((100 + (100.0 / 3)) / 2) + ((100.0 / 3 + 50) / 2)) / 2, slow.D);
        Assert.Equal(4, fast.WarmUp);
        Assert.Equal(5, slow.WarmUp);
    }

    [Fact]
    public void StochasticAndWilliamsR_EmptyRange_GiveTheBottom()
    {
        var stochastic = new Stochastic(2, 1, 1);
        var williams = new WilliamsR(2);
        foreach (var b in new[] { B(5, 5, 5), B(5, 5, 5) })
        {
            stochastic.Update(b);
            williams.Update(b);
        }

        Assert.Equal(0, stochastic.K);
        Assert.Equal(-100, williams.Value);
    }

    [Fact]
    public void WilliamsR_ByHand()
    {
        var w = new WilliamsR(3);
        foreach (var b in new[] { B(10, 8, 9), B(11, 9, 10), B(12, 9, 11) })
        {
            w.Update(b);
        }

        Near(-100.0 * (12 - 11) / (12 - 8), w.Value);
    }

    [Fact]
    public void Adx_Period2_ByHand()
    {
        var adx = new Adx(2);
        var bars = new[] { B(10, 9, 9.5m), B(11, 9.5m, 10.5m), B(11.5m, 10, 11), B(11, 9, 9.5m) };
        adx.Update(bars[0]);
        adx.Update(bars[1]);
        Assert.True(double.IsNaN(adx.PlusDi));
        adx.Update(bars[2]);

        // Sums of the first two: TR 1.5 + 1.5, +DM 1 + 0.5, −DM 0 → +DI 50, −DI 0, DX 100.
        Near(50, adx.PlusDi);
        Near(0, adx.MinusDi);
        Assert.False(adx.IsReady);
        adx.Update(bars[3]);

        // TR 3 − 1.5 + 2 = 3.5, +DM 1.5 − 0.75 = 0.75, −DM 0 + 1 = 1; DX = 100·|75 − 100|/(75 + 100); ADX = mean of the two DX.
        Near(75 / 3.5, adx.PlusDi);
        Near(100 / 3.5, adx.MinusDi);
        Near((100 + (100.0 * 25 / 175)) / 2, adx.Value);
        Assert.True(adx.IsReady);
        Assert.Equal(4, adx.WarmUp);
    }

    [Fact]
    public void Adx_EqualUpAndDownMoves_CountAsNeither()
    {
        var adx = new Adx(1);
        adx.Update(B(10.5m, 10.3m, 10.4m));
        adx.Update(B(10.7m, 10.1m, 10.4m)); // up 0.2, down 0.2: in doubles 10.7 − 10.5 ≠ 10.3 − 10.1
        Assert.Equal(0, adx.PlusDi);
        Assert.Equal(0, adx.MinusDi);
    }

    [Fact]
    public void Cci_ByHand_AndZeroForAFlatWindow()
    {
        var cci = new Cci(3);
        foreach (var b in new[] { B(1, 1, 1), B(2, 2, 2), B(6, 6, 6) })
        {
            cci.Update(b);
        }

        // TP 1, 2, 6: mean 3, mean deviation (2 + 1 + 3)/3 = 2, CCI = (6 − 3)/(0.015·2).
        Near(100, cci.Value);

        var flat = new Cci(2);
        flat.Update(B(2, 1, 1.5m));
        flat.Update(B(2, 1, 1.5m));
        Assert.Equal(0, flat.Value);
    }

    [Fact]
    public void Cci_MatchesTheDefinition_OnAWalkWithRepeatedPrices()
    {
        var bars = Walk(3000);
        foreach (int period in new[] { 1, 2, 7, 20 })
        {
            var cci = new Cci(period);
            var window = new Queue<double>();
            foreach (var b in bars)
            {
                cci.Update(b);
                double tp = (b.High.ToDouble() + b.Low.ToDouble() + b.Close.ToDouble()) / 3;
                window.Enqueue(tp);
                if (window.Count > period)
                {
                    window.Dequeue();
                }

                if (window.Count == period)
                {
                    double mean = window.Average();
                    double md = window.Average(x => Math.Abs(x - mean));
                    double expected = md < 1e-12 ? 0 : (tp - mean) / (0.015 * md);
                    Near(expected, cci.Value, 1e-8);
                }
            }
        }
    }

    [Fact]
    public void Cci_NegativePricesOneRawUnitApart_SplitTheWindowAtTheFlooredMean()
    {
        // 3·TP = −5 then −6 (raw units): the mean −5.5 lies between them, and truncating it towards zero (−5) would
        // count both as "at or below the mean" and make the mean deviation 0. TP − mean = −0.5/3, MD = 0.5/3.
        static Bar Raw(long high, long low, long close, int day) =>
            new(Id, Timestamp.FromParts(2024, 1, 1).AddNanos(day * Timestamp.NanosPerDay), Price.FromRaw(close), Price.FromRaw(high), Price.FromRaw(low), Price.FromRaw(close), Quantity.From(1));

        var cci = new Cci(2);
        cci.Update(Raw(-1, -2, -2, 0));
        cci.Update(Raw(-2, -2, -2, 1));
        Near(-1 / 0.015, cci.Value);

        // The same on a walk of raw prices around zero, against the definition computed directly.
        var rng = new Random(11);
        var bars = new Bar[4000];
        long p = 0;
        for (int i = 0; i < bars.Length; i++)
        {
            p += rng.Next(-3, 4);
            long high = p + rng.Next(0, 3);
            long low = p - rng.Next(0, 3);
            bars[i] = Raw(high, low, rng.Next((int)low, (int)high + 1), i);
        }

        foreach (int period in new[] { 2, 3, 5, 14 })
        {
            var walk = new Cci(period);
            for (int i = 0; i < bars.Length; i++)
            {
                walk.Update(bars[i]);
                if (i + 1 < period)
                {
                    continue;
                }

                var window = bars[(i + 1 - period)..(i + 1)].Select(b => (double)(b.High.Raw + b.Low.Raw + b.Close.Raw) / 3).ToArray();
                double mean = window.Average();
                double md = window.Average(x => Math.Abs(x - mean));
                double expected = md < 1e-6 ? 0 : (window[^1] - mean) / (0.015 * md);
                Near(expected, walk.Value, 1e-9);
            }
        }
    }

    [Fact]
    public void UltimateOscillator_NoRange_IsFifty()
    {
        var uo = new UltimateOscillator(1, 2, 3);
        for (int i = 0; i < 4; i++)
        {
            uo.Update(B(5, 5, 5, i));
        }

        Assert.Equal(50, uo.Value);
        Assert.Equal(4, uo.WarmUp);
    }

    [Fact]
    public void UltimateOscillator_ByHand()
    {
        var uo = new UltimateOscillator(1, 2, 3);
        var bars = new[] { B(10, 9, 10), B(11, 9, 10), B(12, 10, 12), B(12, 11, 11) };

        // From bar 2: BP = close − min(low, prev close), TR = max(high, prev close) − min(low, prev close).
        // BP 1, 2, 0; TR 2, 2, 1 → A1 = 0/1, A2 = 2/3, A3 = 3/5.
        foreach (var b in bars)
        {
            uo.Update(b);
        }

        Near(100 * ((4 * 0) + (2 * 2.0 / 3) + (3.0 / 5)) / 7, uo.Value);
    }

    [Fact]
    public void Aroon_CountsBarsSinceTheExtremes_MostRecentOnTies()
    {
        var aroon = new Aroon(2);
        foreach (var b in new[] { B(3, 1, 2), B(1, 0.5m, 1), B(3, 1, 2) })
        {
            aroon.Update(b);
        }

        Assert.Equal(100, aroon.Up); // high 3 twice: the newest is 0 bars ago
        Assert.Equal(50, aroon.Down); // low 0.5 one bar ago
        aroon.Update(B(2, 2, 2));
        Assert.Equal(50, aroon.Up);
        Assert.Equal(0, aroon.Down);
    }

    [Fact]
    public void Donchian_HighestHighLowestLowAndMidpoint()
    {
        var dc = new DonchianChannel(2);
        foreach (var b in new[] { B(10, 8, 9), B(12, 9, 10), B(11, 10, 10) })
        {
            dc.Update(b);
        }

        Assert.Equal(12, dc.Upper);
        Assert.Equal(9, dc.Lower);
        Assert.Equal(10.5, dc.Middle);
    }

    [Fact]
    public void HighestAndLowest_SlideAndReportAge()
    {
        var hi = new Highest(3);
        var lo = new Lowest(3);
        var highs = new List<double>();
        var ages = new List<int>();
        foreach (double x in new double[] { 5, 1, 4, 2, 2, 3 })
        {
            hi.Update(x);
            lo.Update(x);
            highs.Add(hi.Value);
            ages.Add(hi.Age);
        }

        Assert.Equal([double.NaN, double.NaN, 5, 4, 4, 3], highs);
        Assert.Equal([-1, -1, 2, 1, 2, 0], ages);
        Assert.Equal(2, lo.Value);
        Assert.Equal(1, lo.Age);
    }

    [Fact]
    public void MomentumRocTrix_ByHand()
    {
        var m = new Momentum(2);
        var r = new RateOfChange(2);
        var mv = Feed(m.Update, () => m.Value, 10, 11, 12, 9);
        var rv = Feed(r.Update, () => r.Value, 10, 11, 12, 9);
        Assert.True(double.IsNaN(mv[1]));
        Assert.Equal(2, mv[2]);
        Assert.Equal(-2, mv[3]);
        Near(20, rv[2]);
        Near(-100.0 * 2 / 11, rv[3]);

        var trix = new Trix(2);
        var tv = Feed(trix.Update, () => trix.Value, 1, 1, 1, 1, 1, 2);
        Assert.True(double.IsNaN(tv[3]));
        Assert.Equal(0, tv[4]);

        // EMA(2) of 1,1,1,1,1,2 ends 5/3, its EMA 13/9, and that one's EMA 35/27 after 1: TRIX = 100·(35/27 − 1).
        Near(100 * ((35.0 / 27) - 1), tv[5]);
        Assert.Equal(5, trix.WarmUp);
    }

    [Fact]
    public void Kama_SeedsWithTheCloseAtPeriod_ThenAdapts()
    {
        var kama = new Kama(2, 2, 30);
        var v = Feed(kama.Update, () => kama.Value, 1, 2, 3, 2, 2);
        Assert.True(double.IsNaN(v[1]));

        // A perfectly efficient move (ER = |3 − 1| / (1 + 1) = 1) uses the fast constant (2/3)², from the seed 2.
        Near(2 + (4.0 / 9), v[2]);

        // Up 1 and down 1 get nowhere (ER 0): the slow constant (2/31)².
        double k3 = v[2] + (2.0 / 31 * (2.0 / 31) * (2 - v[2]));
        Near(k3, v[3]);

        // Changes 1 and 0 against a net change of 1: ER 1 again.
        Near(k3 + (4.0 / 9 * (2 - k3)), v[4]);
    }

    /// <summary>
    /// trading-signals' KAMA (the oracle) has fast 2 and slow 30 built in and technicalindicators has none, so other
    /// fast and slow periods are checked here against Kaufman's definition written out afresh every bar (the
    /// volatility summed over the window, not kept as a running sum) on the checked-in real data.
    /// </summary>
    [Theory]
    [InlineData("2006-day-001.txt", 10, 5, 20)]
    [InlineData("2006-day-001.txt", 5, 3, 60)]
    [InlineData("2006-min-005.txt", 14, 4, 40)]
    [InlineData("2006-min-005.txt", 1, 1, 2)]
    public void Kama_AnyFastAndSlow_MatchesKaufmansDefinitionOnRealData(string file, int period, int fast, int slow)
    {
        using var reader = Keel.Data.CsvBarReader.Open(Support.TestPaths.Data(file), Id);
        var bars = new List<Bar>();
        while (reader.TryRead(out var bar))
        {
            bars.Add(bar);
        }

        var closes = bars.Select(b => b.Close.ToDouble()).ToArray();

        var kama = IndicatorSpec.Parse($"kama:{period},{fast},{slow}").Create();
        double fastSc = 2.0 / (fast + 1);
        double slowSc = 2.0 / (slow + 1);
        double expected = double.NaN;
        int compared = 0;
        for (int i = 0; i < closes.Length; i++)
        {
            kama.Update(bars[i]);
            if (i == period - 1)
            {
                expected = closes[i];
            }
            else if (i >= period)
            {
                double volatility = 0;
                for (int k = i - period + 1; k <= i; k++)
                {
                    volatility += Math.Abs(closes[k] - closes[k - 1]);
                }

                double net = Math.Abs(closes[i] - closes[i - period]);
                double er = volatility == 0 ? 1 : net / volatility;
                double sc = Math.Pow((er * (fastSc - slowSc)) + slowSc, 2);
                expected += sc * (closes[i] - expected);
                Near(expected, kama.Value(0), 1e-10);
                compared++;
            }
            else
            {
                Assert.True(double.IsNaN(kama.Value(0)), $"bar {i}: a value before the warm-up");
            }
        }

        Assert.Equal(closes.Length - period, compared);
    }

    [Fact]
    public void ParabolicSar_UptrendThenReversal_ByHand()
    {
        var sar = new ParabolicSar();
        var bars = new[] { B(10, 9, 9.5m), B(11, 10, 10.5m), B(12, 11, 11.5m), B(13, 12, 12.5m), B(12.5m, 9, 9.5m) };
        var v = bars.Select(b =>
        {
            sar.Update(b);
            return (sar.Value, sar.IsLong);
        }).ToArray();
        Assert.True(double.IsNaN(v[0].Value));
        Near(9, v[1].Value); // long: first bar's low
        Near(9.04, v[2].Value); // 9 + 0.02·(11 − 9)
        Near(9.1584, v[3].Value); // new high 12: af 0.04
        Assert.True(v[3].IsLong);
        Near(13, v[4].Value); // low 9 < 9.3889: reverse to the extreme point 13
        Assert.False(v[4].IsLong);
    }

    [Fact]
    public void ParabolicSar_TouchingTheSar_DoesNotReverse()
    {
        var sar = new ParabolicSar();
        sar.Update(B(10, 9, 9.5m));
        sar.Update(B(11, 10, 10.5m));
        sar.Update(B(11, 9.04m, 10)); // the SAR for this bar is exactly 9.04
        Assert.True(sar.IsLong);
        Near(9.04, sar.Value);
    }

    [Fact]
    public void CrossOver_AndCrossUnder_FromTwoLines()
    {
        var cross = new CrossOver();
        var fast = new double[] { 1, 2, 3, 2, 1 };
        var slow = new double[] { 2, 2, 2, 2, 2 };
        var seen = fast.Select((f, i) => cross.Update(f, slow[i])).ToArray();
        Assert.Equal([0, 0, 1, 0, -1], seen);
    }

    public static TheoryData<string, int> WarmUps() => new()
    {
        { "sma:20", 20 }, { "ema:20", 20 }, { "wma:20", 20 }, { "dema:20", 39 }, { "tema:20", 58 }, { "rsi:14", 15 },
        { "macd:12,26,9", 34 }, { "bbands:20,2", 20 }, { "atr:14", 15 }, { "true_range", 2 }, { "stochastic:14,3,3", 18 },
        { "stochastic:14,1,3", 16 }, { "adx:14", 28 }, { "cci:20", 20 }, { "williams_r:14", 14 }, { "momentum:10", 11 },
        { "roc:10", 11 }, { "trix:15", 44 }, { "ultimate:7,14,28", 29 }, { "kama:10,2,30", 11 }, { "aroon:25", 26 },
        { "stddev:20", 20 }, { "donchian:20", 20 }, { "psar:0.02,0.2", 2 }, { "highest:20", 20 }, { "lowest:20", 20 },
        { "sma:1", 1 }, { "rsi:1", 2 }, { "adx:1", 2 },
    };

    [Theory]
    [MemberData(nameof(WarmUps))]
    public void Indicator_WarmUp_IsTheFirstBarWithEveryLine(string spec, int warmUp)
    {
        var instance = IndicatorSpec.Parse(spec).Create();
        Assert.Equal(warmUp, instance.WarmUp);
        var bars = Walk(warmUp + 5);
        for (int i = 0; i < bars.Length; i++)
        {
            instance.Update(bars[i]);
            int bar = i + 1;
            Assert.True(instance.IsReady == bar >= warmUp, $"{spec}: IsReady is {instance.IsReady} after {bar} bars");
            bool all = Enumerable.Range(0, instance.LineCount).All(l => !double.IsNaN(instance.Value(l)));
            Assert.True(all == bar >= warmUp, $"{spec}: after {bar} bars, every line has a value: {all}");
        }
    }

    [Theory]
    [InlineData("macd:12,26,9", 0, 26)]
    [InlineData("stochastic:14,3,3", 0, 16)]
    [InlineData("adx:14", 1, 15)]
    [InlineData("adx:14", 2, 15)]
    public void MultiLineIndicator_EachLine_StartsAtItsOwnWarmUp(string spec, int line, int first)
    {
        var instance = IndicatorSpec.Parse(spec).Create();
        var bars = Walk(first + 2);
        for (int i = 0; i < bars.Length; i++)
        {
            instance.Update(bars[i]);
            Assert.Equal(i + 1 >= first, !double.IsNaN(instance.Value(line)));
        }
    }

    [Fact]
    public void EveryIndicator_Reset_StartsOverAsNew()
    {
        var bars = Walk(400);
        foreach (var d in IndicatorCatalog.All)
        {
            var used = IndicatorSpec.Parse(d.DefaultSpec).Create();
            var fresh = IndicatorSpec.Parse(d.DefaultSpec).Create();
            foreach (var b in bars.Skip(100))
            {
                used.Update(b);
            }

            used.Reset();
            Assert.False(used.IsReady);
            foreach (var b in bars)
            {
                used.Update(b);
                fresh.Update(b);
                for (int l = 0; l < used.LineCount; l++)
                {
                    Assert.True(used.Value(l).Equals(fresh.Value(l)), $"{d.Name} line {l} after reset: {used.Value(l)} vs {fresh.Value(l)}");
                }
            }
        }
    }

    [Fact]
    public void EveryIndicator_Update_AllocatesNothing()
    {
        var bars = Walk(20_000);
        var instances = IndicatorCatalog.All.Select(d => IndicatorSpec.Parse(d.DefaultSpec).Create()).ToArray();
        void Run(int from, int to)
        {
            for (int i = from; i < to; i++)
            {
                foreach (var x in instances)
                {
                    x.Update(bars[i]);
                    for (int l = 0; l < x.LineCount; l++)
                    {
                        _ = x.Value(l);
                    }
                }
            }
        }

        Run(0, 2_000);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run(2_000, bars.Length);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"{allocated} bytes allocated over {bars.Length - 2_000} bars");
    }

    /// <summary>
    /// O(1) per update: a window 2,000 times longer must not make an update meaningfully slower (an algorithm that
    /// re-scans the window would be about 2,000 times slower). Best of several timings, generous bound (CI is noisy).
    /// </summary>
    [Theory]
    [InlineData("sma:10", "sma:20000")]
    [InlineData("ema:10", "ema:20000")]
    [InlineData("wma:10", "wma:20000")]
    [InlineData("dema:10", "dema:20000")]
    [InlineData("tema:10", "tema:20000")]
    [InlineData("rsi:10", "rsi:20000")]
    [InlineData("macd:5,10,5", "macd:5000,20000,5000")]
    [InlineData("bbands:10,2", "bbands:20000,2")]
    [InlineData("atr:10", "atr:20000")]
    [InlineData("stochastic:10,3,3", "stochastic:20000,3000,3000")]
    [InlineData("adx:10", "adx:20000")]
    [InlineData("cci:10", "cci:20000")]
    [InlineData("williams_r:10", "williams_r:20000")]
    [InlineData("momentum:10", "momentum:20000")]
    [InlineData("roc:10", "roc:20000")]
    [InlineData("trix:10", "trix:20000")]
    [InlineData("ultimate:3,6,10", "ultimate:5000,10000,20000")]
    [InlineData("kama:10,2,30", "kama:20000,2,30")]
    [InlineData("aroon:10", "aroon:20000")]
    [InlineData("stddev:10", "stddev:20000")]
    [InlineData("donchian:10", "donchian:20000")]
    [InlineData("highest:10", "highest:20000")]
    [InlineData("lowest:10", "lowest:20000")]
    public void Indicator_LongWindow_CostsAboutTheSamePerUpdate(string shortSpec, string longSpec)
    {
        var bars = Walk(160_000);
        double Time(string spec)
        {
            double best = double.MaxValue;
            for (int attempt = 0; attempt < 5; attempt++)
            {
                var x = IndicatorSpec.Parse(spec).Create();
                for (int i = 0; i < 80_000; i++)
                {
                    x.Update(bars[i]);
                }

                var clock = Stopwatch.StartNew();
                for (int i = 80_000; i < bars.Length; i++)
                {
                    x.Update(bars[i]);
                }

                best = Math.Min(best, clock.Elapsed.TotalMilliseconds);
            }

            return best;
        }

        double shortMs = Time(shortSpec);
        double longMs = Time(longSpec);
        Assert.True(longMs < (25 * shortMs) + 5, $"{longSpec}: {longMs:F1} ms for 80,000 updates; {shortSpec}: {shortMs:F1} ms");
    }

    /// <summary>Running sums must not drift: after 300,000 updates through calm and wild stretches, still exact to 1e-9.</summary>
    [Fact]
    public void RunningSums_AfterManyUpdates_MatchAFreshComputation()
    {
        var bars = Walk(300_000);
        var closes = bars.Select(b => b.Close.ToDouble()).ToArray();
        const int Period = 50;
        var sma = new Sma(Period);
        var wma = new Wma(Period);
        var sd = new StdDev(Period);
        var kama = new Kama(Period, 2, 30);
        var uo = new UltimateOscillator(7, 14, Period);
        double naiveKama = double.NaN;
        for (int i = 0; i < bars.Length; i++)
        {
            double c = closes[i];
            sma.Update(c);
            wma.Update(c);
            sd.Update(c);
            kama.Update(c);
            uo.Update(bars[i]);

            // KAMA the slow way: the volatility summed afresh every bar.
            if (i == Period - 1)
            {
                naiveKama = c;
            }
            else if (i >= Period)
            {
                double volatility = 0;
                for (int k = i - Period + 1; k <= i; k++)
                {
                    volatility += Math.Abs(closes[k] - closes[k - 1]);
                }

                double net = Math.Abs(c - closes[i - Period]);
                double er = volatility <= net ? 1 : net / volatility;
                double sc = (er * ((2.0 / 3) - (2.0 / 31))) + (2.0 / 31);
                naiveKama += sc * sc * (c - naiveKama);
            }

            if (i % 9_973 != 0 || i < Period)
            {
                continue;
            }

            var window = closes[(i - Period + 1)..(i + 1)];
            double mean = window.Average();
            Near(mean, sma.Value, 1e-12);
            Near(window.Select((x, k) => x * (k + 1)).Sum() / (Period * (Period + 1) / 2.0), wma.Value, 1e-12);
            Near(Math.Sqrt(window.Average(x => (x - mean) * (x - mean))), sd.Value, 1e-9);
            Near(naiveKama, kama.Value, 1e-9);
            Near(NaiveUltimate(bars, i, 7, 14, Period), uo.Value, 1e-12);
        }
    }

    private static double NaiveUltimate(Bar[] bars, int i, params int[] periods)
    {
        double Average(int n)
        {
            double bp = 0, tr = 0;
            for (int k = i - n + 1; k <= i; k++)
            {
                double previous = bars[k - 1].Close.ToDouble();
                double low = Math.Min(bars[k].Low.ToDouble(), previous);
                bp += bars[k].Close.ToDouble() - low;
                tr += Math.Max(bars[k].High.ToDouble(), previous) - low;
            }

            return bp / tr;
        }

        return 100 * ((4 * Average(periods[0])) + (2 * Average(periods[1])) + Average(periods[2])) / 7;
    }
}
