using BenchmarkDotNet.Attributes;
using Keel.Domain;
using Keel.Domain.Portfolio;
using Keel.Engine.Analytics;
using Keel.Engine.Clock;
using Keel.Engine.Kernel;
using Keel.Engine.Simulation;
using Keel.Engine.Strategies;
using Keel.Strategies;

namespace Keel.Benchmarks;

/// <summary>
/// The kernel loop with sma-cross(10, 30) on preloaded bars: venue matching, mark-to-market, strategy, risk gate,
/// order lifecycle and fills. One operation = one pass over <see cref="Bars"/> bars; divide by it for bars/s.
/// <c>WithAnalytics</c> adds the performance tracker (equity, drawdown, returns) that every run has.
/// </summary>
[MemoryDiagnoser]
public class KernelBenchmarks
{
    private Instrument _instrument = null!;
    private Bar[] _bars = [];

    [Params(1_000_000)]
    public int Bars { get; set; }

    [Params(false, true)]
    public bool WithAnalytics { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _instrument = Instrument.Equity("BENCH");
        _bars = SyntheticBars.Generate(Bars, _instrument.Id);
    }

    [Benchmark]
    public Money SmaCrossKernelLoop()
    {
        var portfolio = new Portfolio(Money.From(100_000));
        var exchange = new SimulatedExchange(new SimulatedExchangeOptions { Commission = new PercentCommission(0.001m) }, [_instrument], portfolio);
        var bus = new EventBus();
        var host = new StrategyHost<SmaCross.State>(SmaCross.Name, new SmaCross(10, 30, Quantity.From(1)));
        var kernel = new TradingKernel(new SimulatedClock(), exchange, host, portfolio, [_instrument], bus, null, [exchange]);
        exchange.Connect(kernel);
        if (WithAnalytics)
        {
            bus.Subscribe<SliceClosed>(new PerformanceTracker(portfolio), "performance");
        }

        kernel.Start();
        var bars = _bars;
        for (int i = 0; i < bars.Length; i++)
        {
            kernel.OnBar(in bars[i]);
        }

        kernel.Stop();
        return portfolio.Equity;
    }
}

/// <summary>
/// The same kernel and indicators, but the strategy never trades: the per-bar cost with no orders, and proof that a
/// bar allocates nothing (Allocated should stay at a few hundred bytes of setup per 1M-bar operation).
/// </summary>
[MemoryDiagnoser]
public class PerBarBenchmarks
{
    private Instrument _instrument = null!;
    private Bar[] _bars = [];

    [Params(1_000_000)]
    public int Bars { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _instrument = Instrument.Equity("BENCH");
        _bars = SyntheticBars.Generate(Bars, _instrument.Id);
    }

    [Benchmark]
    public int QuietKernelLoop()
    {
        var portfolio = new Portfolio(Money.From(100_000));
        var exchange = new SimulatedExchange(new SimulatedExchangeOptions(), [_instrument], portfolio);
        var host = new StrategyHost<Watcher.State>("watch", new Watcher());
        var kernel = new TradingKernel(new SimulatedClock(), exchange, host, portfolio, [_instrument], new EventBus(), null, [exchange]);
        exchange.Connect(kernel);
        kernel.Start();
        var bars = _bars;
        for (int i = 0; i < bars.Length; i++)
        {
            kernel.OnBar(in bars[i]);
        }

        kernel.Stop();
        return host.TypedState.Crosses;
    }

    /// <summary>sma-cross's indicators and crossover, counting crosses instead of trading.</summary>
    public sealed class Watcher : IStrategy<Watcher.State>
    {
        public State CreateState() => new();

        public State OnBar(State state, in Bar bar, IMarketView market, IIntents intents)
        {
            state.Fast.Update(bar.Close);
            state.Slow.Update(bar.Close);
            if (state.Slow.IsReady && state.Cross.UpdateSign(Keel.Indicators.PriceSma.Compare(state.Fast, state.Slow)) != 0)
            {
                state.Crosses++;
            }

            return state;
        }

        public sealed class State
        {
            public Keel.Indicators.PriceSma Fast { get; } = new(10);

            public Keel.Indicators.PriceSma Slow { get; } = new(30);

            public Keel.Indicators.CrossOver Cross { get; } = new();

            public int Crosses { get; set; }
        }
    }
}
