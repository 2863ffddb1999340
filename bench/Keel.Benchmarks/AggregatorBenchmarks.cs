using BenchmarkDotNet.Attributes;
using Keel.Domain;
using Keel.Engine.Data.Live;

namespace Keel.Benchmarks;

/// <summary>
/// The candle aggregator on preloaded trade ticks (3 symbols, a tick every 7 ms, M1 candles): one operation = one
/// pass over <see cref="Ticks"/> ticks; divide for ticks/s. Issue 5 target: ≥ 20 million ticks/s, no allocation per tick.
/// </summary>
[MemoryDiagnoser]
public class AggregatorBenchmarks
{
    private Tick[] _ticks = [];

    [Params(1_000_000)]
    public int Ticks { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var symbols = new[] { new InstrumentId("AAPL"), new InstrumentId("MSFT"), new InstrumentId("SPY") };
        var rng = new Random(42);
        var t0 = Timestamp.FromParts(2024, 6, 3, 13, 30);
        long price = 100_000_000_000;
        _ticks = new Tick[Ticks];
        for (int i = 0; i < Ticks; i++)
        {
            price += rng.Next(-5, 6) * 10_000_000L;
            _ticks[i] = Tick.Trade(symbols[i % 3], t0.AddNanos(i * 7_000_000L), Price.FromRaw(price), Quantity.From(1 + rng.Next(100)));
        }
    }

    [Benchmark(OperationsPerInvoke = 1_000_000)]
    public long AggregateM1()
    {
        var sink = new CountingSink();
        var aggregator = new CandleAggregator(Timeframe.M1, CandleSource.Trades, sink);
        var ticks = _ticks;
        for (int i = 0; i < ticks.Length; i++)
        {
            aggregator.OnTick(in ticks[i]);
        }

        aggregator.CompleteAll();
        return sink.Count;
    }

    private sealed class CountingSink : ICandleSink
    {
        public long Count { get; private set; }

        public void OnCandle(in Candle candle) => Count++;
    }
}
