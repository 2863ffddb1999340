using System.Diagnostics;
using System.Globalization;
using Keel.Domain;
using Keel.Domain.Events;
using Keel.Domain.Orders;
using Keel.Domain.Portfolio;
using Keel.Engine.Clock;
using Keel.Engine.Kernel;
using Keel.Engine.Ports;
using Keel.Engine.Strategies;

namespace Keel.Benchmarks;

/// <summary>
/// Tick in → order submitted, in process: a feeder thread writes trade ticks into the kernel's inbox at a steady rate
/// (each stamped with the moment it was written), a strategy places a limit order on every Nth tick, and the venue
/// notes when the kernel hands it the order (before any journal wait or network). The venue accepts and cancels each
/// order at once, so the book stays empty. Usage:
///   dotnet run -c Release --project bench/Keel.Benchmarks -- tick-to-order [--rate 100000] [--ticks 1000000] [--every 10]
/// </summary>
public static class TickToOrder
{
    public static int Run(string[] args)
    {
        int rate = int.Parse(Arg(args, "--rate") ?? "100000", CultureInfo.InvariantCulture);
        int ticks = int.Parse(Arg(args, "--ticks") ?? "1000000", CultureInfo.InvariantCulture);
        int every = int.Parse(Arg(args, "--every") ?? "10", CultureInfo.InvariantCulture);
        var instrument = new Instrument(new InstrumentId("AAPL"), AssetClass.Equity, Price.From(0.01m), Quantity.From(1), "USD");
        var venue = new StampingVenue(ticks / every + 16);
        var strategy = new StrategyHost<EveryNth.State>("every-nth", new EveryNth(instrument.Id, every));
        var kernel = new TradingKernel(new SimulatedClock(), venue, strategy, new Portfolio(Money.From(1_000_000)), [instrument], new EventBus(), new KernelOptions(), []);
        venue.Sink = kernel;
        var inbox = new Inbox();
        var loop = new KernelLoop(kernel, inbox);
        double nanosPerStopwatchTick = 1e9 / Stopwatch.Frequency;
        var feeder = new Thread(() =>
        {
            long interval = Stopwatch.Frequency / rate;
            long next = Stopwatch.GetTimestamp();
            var price = Price.From(100m);
            for (int i = 0; i < ticks; i++)
            {
                while (Stopwatch.GetTimestamp() < next)
                {
                    Thread.SpinWait(8);
                }

                next += interval;
                long now = Stopwatch.GetTimestamp();
                inbox.Write(InboxItem.ForTick(Tick.Trade(instrument.Id, Timestamp.FromUnixNanos((long)(now * nanosPerStopwatchTick)), price, Quantity.From(1))), CancellationToken.None);
            }

            inbox.Write(InboxItem.EndOfData, CancellationToken.None);
        })
        {
            IsBackground = true,
            Name = "tick-feeder",
        };

        kernel.Start();
        var clock = Stopwatch.StartNew();
        feeder.Start();
        loop.Run(CancellationToken.None);
        feeder.Join();
        double seconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"gen0 collections {GC.CollectionCount(0)}, gen1 {GC.CollectionCount(1)}, gen2 {GC.CollectionCount(2)}, pause total {GC.GetTotalPauseDuration().TotalMilliseconds:0.0} ms"));

        // The first tenth is warm-up (JIT, tiering).
        var latencies = venue.Latencies(nanosPerStopwatchTick).Skip(venue.Count / 10).Order().ToList();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"tick-to-order rate={rate}/s ticks={ticks:N0} ({ticks / seconds:N0}/s achieved) orders={latencies.Count:N0} p50={Pct(latencies, 0.50):0.0} µs p90={Pct(latencies, 0.90):0.0} µs p99={Pct(latencies, 0.99):0.0} µs p99.9={Pct(latencies, 0.999):0.0} µs max={latencies[^1]:0.0} µs"));
        return 0;
    }

    private static double Pct(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)(p * sorted.Count))];

    private static string? Arg(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    /// <summary>A limit buy far below the market on every Nth tick.</summary>
    private sealed class EveryNth(InstrumentId instrument, int every) : IStrategy<EveryNth.State>
    {
        public State CreateState() => new();

        public State OnBar(State state, in Bar bar, IMarketView market, IIntents intents) => state;

        public State OnTick(State state, in Tick tick, IMarketView market, IIntents intents)
        {
            if (++state.Seen % every == 0)
            {
                intents.Submit(OrderRequest.Limit(instrument, OrderSide.Buy, Quantity.From(1), Price.From(1m)));
            }

            return state;
        }

        public sealed class State
        {
            public long Seen { get; set; }
        }
    }

    /// <summary>Notes when each order arrives (its TsInit is the triggering tick's stamp), then accepts and cancels it.</summary>
    private sealed class StampingVenue(int capacity) : IExecutionVenue
    {
        private readonly long[] _sent = new long[capacity];
        private readonly long[] _stamp = new long[capacity];
        private long _ids;

        public IOrderEventSink? Sink { get; set; }

        public int Count { get; private set; }

        public string Name => "stamping";

        public void Submit(SubmitOrder command)
        {
            if (Count < _sent.Length)
            {
                _sent[Count] = Stopwatch.GetTimestamp();
                _stamp[Count] = command.TsInit.UnixNanos;
                Count++;
            }

            var id = new VenueOrderId(IdText(++_ids));
            Sink!.OnOrderEvent(new OrderAccepted(command.ClientOrderId, id, command.TsInit, command.TsInit));
            Sink.OnOrderEvent(new OrderCanceled(command.ClientOrderId, null, command.TsInit, command.TsInit));
        }

        public void SubmitList(SubmitOrderList command)
        {
        }

        public void Cancel(CancelOrder command)
        {
        }

        public void Replace(ReplaceOrder command)
        {
        }

        public IEnumerable<double> Latencies(double nanosPerStopwatchTick)
        {
            for (int i = 0; i < Count; i++)
            {
                yield return ((_sent[i] * nanosPerStopwatchTick) - _stamp[i]) / 1000.0;
            }
        }

        private static string IdText(long n) => n.ToString(CultureInfo.InvariantCulture);
    }
}
