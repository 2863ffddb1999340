using Keel.Domain;
using Keel.Engine.Analytics;
using Keel.Engine.Kernel;

namespace Keel.Tests.Engine;

/// <summary>The hot path allocates nothing per bar: a regression here costs more than any micro-optimisation gains.</summary>
public class AllocationTests
{
    [Fact]
    public void KernelBarPath_WithAnalytics_AllocatesNothingPerBar()
    {
        var instrument = Instrument.Equity("X");
        var portfolio = new Keel.Domain.Portfolio.Portfolio(Money.From(100_000));
        var exchange = new Keel.Engine.Simulation.SimulatedExchange(new(), [instrument], portfolio);
        var bus = new EventBus();
        var host = new Keel.Engine.Strategies.StrategyHost<Keel.Strategies.SmaCross.State>("sma", new Keel.Strategies.SmaCross(5, 20, Quantity.From(1)));
        var kernel = new TradingKernel(new Keel.Engine.Clock.SimulatedClock(), exchange, host, portfolio, [instrument], bus, null, [exchange]);
        exchange.Connect(kernel);
        bus.Subscribe<SliceClosed>(new PerformanceTracker(portfolio), "performance");

        // Flat prices: the averages never cross, so no order is ever placed and every bar takes the pure bar path.
        var bars = Enumerable.Range(0, 20_000).Select(i =>
            new Bar(instrument.Id, Timestamp.FromParts(2024, 1, 1).AddNanos(i * Timestamp.NanosPerMinute), Price.From(100), Price.From(101), Price.From(99), Price.From(100), Quantity.From(10))).ToArray();
        kernel.Start();
        for (int i = 0; i < 2_000; i++)
        {
            kernel.OnBar(bars[i]);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 2_000; i < bars.Length; i++)
        {
            kernel.OnBar(bars[i]);
        }

        long perBar = (GC.GetAllocatedBytesForCurrentThread() - before) / 18_000;
        Assert.True(perBar == 0, $"{perBar} bytes allocated per bar");
    }
}
