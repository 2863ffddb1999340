using FsCheck;
using FsCheck.Fluent;
using Keel.Domain;
using Keel.Engine.Data.Live;

namespace Keel.Tests.Engine;

public sealed class CandleAggregatorTests
{
    private static readonly InstrumentId Aapl = new("AAPL");
    private static readonly InstrumentId Msft = new("MSFT");
    private static readonly Timestamp T0 = Timestamp.FromParts(2024, 6, 3, 13, 30);

    private static Tick Trade(InstrumentId id, long ms, decimal price, decimal size = 1) =>
        Tick.Trade(id, T0.AddNanos(ms * 1_000_000), Price.From(price), Quantity.From(size));

    private sealed class Collect : ICandleSink
    {
        public List<Candle> Candles { get; } = [];

        public List<(InstrumentId, Timestamp, Timestamp)> Gaps { get; } = [];

        public void OnCandle(in Candle candle) => Candles.Add(candle);

        public void OnGap(InstrumentId instrument, Timestamp from, Timestamp to) => Gaps.Add((instrument, from, to));
    }

    [Theory]
    [InlineData("S5", 5)]
    [InlineData("M1", 60)]
    [InlineData("1m", 60)]
    [InlineData("M15", 900)]
    [InlineData("H1", 3600)]
    [InlineData("4h", 14400)]
    [InlineData("D", 86400)]
    [InlineData("1d", 86400)]
    public void Timeframes_ParseInBothNotations(string text, long seconds) => Assert.Equal(seconds, Timeframe.Parse(text).Seconds);

    [Theory]
    [InlineData("7m")]
    [InlineData("M0")]
    [InlineData("2d")]
    [InlineData("daily")]
    [InlineData("")]
    public void Timeframes_ThatDoNotDivideADay_AreRefused(string text) => Assert.False(Timeframe.TryParse(text, out _));

    [Fact]
    public void Candles_AreAlignedToBoundaries_AndCompleteWhenALaterIntervalStarts()
    {
        var sink = new Collect();
        var agg = new CandleAggregator(Timeframe.M1, CandleSource.Trades, sink);
        agg.OnTick(Trade(Aapl, 1_000, 100, 2));    // 13:30:01
        agg.OnTick(Trade(Aapl, 20_000, 101, 1));
        agg.OnTick(Trade(Aapl, 40_000, 99.5m, 3));
        agg.OnTick(Trade(Aapl, 59_999, 100.5m, 1));
        Assert.Empty(sink.Candles);
        agg.OnTick(Trade(Aapl, 60_000, 100.75m, 1)); // 13:31:00 starts the next candle
        var c = Assert.Single(sink.Candles);
        Assert.Equal(new Bar(Aapl, T0, Price.From(100), Price.From(101), Price.From(99.5m), Price.From(100.5m), Quantity.From(7)), c.Bar);
        Assert.Equal(4, c.TickCount);
        Assert.False(c.IsGapFill);
    }

    [Fact]
    public void ShortGaps_AreFilledFlat_LongGapsAreReported()
    {
        var sink = new Collect();
        var agg = new CandleAggregator(Timeframe.M1, CandleSource.Trades, sink, maxGapFill: 2);
        agg.OnTick(Trade(Aapl, 0, 100));
        agg.OnTick(Trade(Aapl, 180_000, 101));   // 13:33: 13:31 and 13:32 are missing → two flat candles
        agg.OnTick(Trade(Aapl, 600_000, 102));   // 13:40: six intervals missing → a gap, no fill
        agg.CompleteAll();
        Assert.Equal(
            [("13:30", 100m, false), ("13:31", 100m, true), ("13:32", 100m, true), ("13:33", 101m, false), ("13:40", 102m, false)],
            sink.Candles.Select(c => (c.Bar.Time.ToString()[11..16], c.Bar.Close.ToDecimal(), c.IsGapFill)));
        Assert.All(sink.Candles.Where(c => c.IsGapFill), c => Assert.Equal((0, Quantity.Zero), (c.TickCount, c.Bar.Volume)));
        Assert.Equal((Aapl, T0.AddNanos(240L * Timestamp.NanosPerSecond), T0.AddNanos(600L * Timestamp.NanosPerSecond)), Assert.Single(sink.Gaps));
        Assert.Equal(6, agg.Stats.GapIntervals);
    }

    [Fact]
    public void OutOfOrder_Duplicate_AndLateTicks_AreCountedAndDropped()
    {
        var sink = new Collect();
        var agg = new CandleAggregator(Timeframe.M1, CandleSource.Trades, sink, grace: TimeSpan.FromSeconds(2));
        agg.OnTick(Trade(Aapl, 10_000, 100));
        agg.OnTick(Trade(Aapl, 10_000, 100));     // duplicate
        agg.OnTick(Trade(Aapl, 10_000, 100, 5));  // same time, other size: a real trade
        agg.OnTick(Trade(Aapl, 5_000, 90));       // older than the newest: out of order
        agg.OnClock(T0.AddNanos(61L * Timestamp.NanosPerSecond)); // inside the grace period: nothing yet
        Assert.Empty(sink.Candles);
        agg.OnClock(T0.AddNanos(62L * Timestamp.NanosPerSecond)); // end + grace: completed by the clock
        Assert.Equal(Quantity.From(6), Assert.Single(sink.Candles).Bar.Volume);
        agg.OnTick(Trade(Aapl, 59_000, 101));     // its interval is already complete: late
        Assert.Single(sink.Candles);
        Assert.Equal((1L, 1L, 1L), (agg.Stats.Duplicates, agg.Stats.OutOfOrder, agg.Stats.Late));
    }

    [Fact]
    public void QuoteCandles_UseTheMid_AndCountQuotesAsVolume()
    {
        var sink = new Collect();
        var agg = new CandleAggregator(Timeframe.Parse("S5"), CandleSource.Quotes, sink);
        var eur = new InstrumentId("EUR_USD");
        agg.OnTick(Tick.Quote(eur, T0, Price.From(1.0850m), Price.From(1.0852m)));
        agg.OnTick(Tick.Quote(eur, T0.AddNanos(1_000_000_000), Price.From(1.0855m), Price.From(1.0857m)));
        agg.OnTick(Trade(Aapl, 2_000, 100)); // trades are not used for quote candles
        agg.CompleteAll();
        var c = Assert.Single(sink.Candles);
        Assert.Equal((1.0851m, 1.0856m, 1.0856m, 2m), (c.Bar.Open.ToDecimal(), c.Bar.High.ToDecimal(), c.Bar.Close.ToDecimal(), c.Bar.Volume.ToDecimal()));
        Assert.Equal(1, agg.Stats.Ignored);
    }

    [Fact]
    public void InstrumentsAreIndependent()
    {
        var sink = new Collect();
        var agg = new CandleAggregator(Timeframe.M1, CandleSource.Trades, sink);
        agg.OnTick(Trade(Aapl, 0, 100));
        agg.OnTick(Trade(Msft, 30_000, 400));
        agg.OnTick(Trade(Aapl, 61_000, 101)); // completes AAPL only
        Assert.Equal(Aapl, Assert.Single(sink.Candles).Bar.Instrument);
        agg.CompleteAll();
        Assert.Equal(3, sink.Candles.Count);
    }

    [Fact]
    public void Aggregating_AllocatesNothingPerTick()
    {
        var agg = new CandleAggregator(Timeframe.M1, CandleSource.Trades, new Counting());
        var ticks = Enumerable.Range(0, 200_000).Select(i => Trade(i % 2 == 0 ? Aapl : Msft, i * 37L, 100 + (i % 50 * 0.01m), 1 + (i % 3))).ToArray();
        for (int i = 0; i < 10_000; i++)
        {
            agg.OnTick(ticks[i]);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 10_000; i < ticks.Length; i++)
        {
            agg.OnTick(ticks[i]);
        }

        long perTick = (GC.GetAllocatedBytesForCurrentThread() - before) / 190_000;
        Assert.True(perTick == 0, $"{perTick} bytes allocated per tick");
    }

    private sealed class Counting : ICandleSink
    {
        public long Count { get; private set; }

        public void OnCandle(in Candle candle) => Count++;
    }

    /// <summary>
    /// For any tick sequence (several instruments, jittered times including repeats, out-of-order ticks and duplicates),
    /// the aggregator's candles equal a naive recomputation: filter, group by interval, fill short gaps.
    /// </summary>
    [Fact]
    public void AnyTickSequence_GivesTheCandlesOfANaiveRecomputation()
    {
        var tickGen =
            from instrument in Gen.Elements(Aapl, Msft)
            from step in Gen.Frequency((6, Gen.Choose(0, 20_000)), (2, Gen.Choose(0, 400_000)), (1, Gen.Choose(-30_000, 0)), (1, Gen.Constant(0)))
            from cents in Gen.Choose(9_000, 11_000)
            from size in Gen.Choose(1, 5)
            select (instrument, step, cents, size);
        var scenario = Gen.ListOf(tickGen).Zip(Gen.Elements(5, 60, 300)).Zip(Gen.Choose(0, 3));
        Prop.ForAll(scenario.ToArbitrary(), t =>
        {
            var ((raw, seconds), maxGap) = t;
            var ticks = new List<Tick>();
            long ms = 0;
            foreach (var (instrument, step, cents, size) in raw)
            {
                ms += step;
                var tick = Trade(instrument, ms, cents / 100m, size);
                ticks.Add(tick);
                if (step == 0 && ticks.Count > 1)
                {
                    ticks.Add(tick); // an exact repeat
                }
            }

            var timeframe = Timeframe.FromSeconds(seconds);
            var sink = new Collect();
            var agg = new CandleAggregator(timeframe, CandleSource.Trades, sink, maxGap);
            foreach (var tick in ticks)
            {
                agg.OnTick(tick);
            }

            agg.CompleteAll();
            var expected = Naive(ticks, timeframe, maxGap);
            var actual = sink.Candles.OrderBy(c => c.Bar.Instrument.Symbol, StringComparer.Ordinal).ThenBy(c => c.Bar.Time).ToList();
            return expected.SequenceEqual(actual);
        }).QuickCheckThrowOnFailure();
    }

    private static List<Candle> Naive(List<Tick> ticks, Timeframe timeframe, int maxGap)
    {
        var result = new List<Candle>();
        foreach (var group in ticks.GroupBy(t => t.Instrument).OrderBy(g => g.Key.Symbol, StringComparer.Ordinal))
        {
            // Filter as documented: drop ticks older than the newest accepted one, and exact repeats of the previous one.
            var accepted = new List<Tick>();
            foreach (var t in group)
            {
                if (accepted.Count > 0)
                {
                    var last = accepted[^1];
                    if (t.Time < last.Time || (t.Time == last.Time && t.Last == last.Last && t.Size == last.Size))
                    {
                        continue;
                    }
                }

                accepted.Add(t);
            }

            Candle? previous = null;
            foreach (var interval in accepted.GroupBy(t => timeframe.Floor(t.Time)))
            {
                var list = interval.ToList();
                if (previous is Candle p)
                {
                    long missing = (interval.Key.UnixNanos - p.Bar.Time.UnixNanos - timeframe.Nanos) / timeframe.Nanos;
                    if (missing > 0 && missing <= maxGap)
                    {
                        for (long k = 1; k <= missing; k++)
                        {
                            var c = p.Bar.Close;
                            result.Add(new Candle(new Bar(group.Key, p.Bar.Time.AddNanos(k * timeframe.Nanos), c, c, c, c, Quantity.Zero), 0, true));
                        }
                    }
                }

                var bar = new Bar(group.Key, interval.Key, list[0].Last, list.Max(x => x.Last), list.Min(x => x.Last), list[^1].Last,
                    list.Aggregate(Quantity.Zero, (s, x) => s + x.Size));
                var candle = new Candle(bar, list.Count, false);
                result.Add(candle);
                previous = candle;
            }
        }

        return result;
    }
}
