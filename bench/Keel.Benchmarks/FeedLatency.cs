using System.Diagnostics;
using System.Globalization;
using Keel.Domain;
using Keel.Engine.Data.Live;
using Keel.Engine.Ports;
using Keel.Sandbox;
using Keel.Venues.Alpaca;
using Keel.Venues.Feeds;
using Keel.Venues.Oanda;

namespace Keel.Benchmarks;

/// <summary>
/// Sandbox → client → candle-completed latency over loopback. The sandbox generates ticks at a fixed rate, each
/// stamped with the wall clock when generated; the client parses them, passes them through the tick buffer to the
/// aggregator on its own thread, and for every candle a tick completes, the latency is the wall clock then minus that
/// tick's stamp (same machine, same clock). Usage:
///   dotnet run -c Release --project bench/Keel.Benchmarks -- latency [--venue alpaca|oanda] [--rate 50000] [--symbols 50] [--seconds 30] [--bursts]
/// (--bursts: the sandbox's default generator, which wakes on a ~1 ms timer and sends a burst, instead of pacing each tick)
/// </summary>
public static class FeedLatency
{
    public static async Task<int> Run(string[] args)
    {
        string venue = Arg(args, "--venue") ?? "alpaca";
        int rate = int.Parse(Arg(args, "--rate") ?? "50000", CultureInfo.InvariantCulture);
        int symbolCount = int.Parse(Arg(args, "--symbols") ?? "50", CultureInfo.InvariantCulture);
        double seconds = double.Parse(Arg(args, "--seconds") ?? "30", CultureInfo.InvariantCulture);
        var symbols = Enumerable.Range(0, symbolCount).Select(i => venue == "oanda" ? $"S{i:000}_USD" : $"S{i:000}").ToList();

        await using var sandbox = await SandboxServer.StartAsync(new SandboxOptions { Generator = new SandboxGenerator(symbols, rate) { Paced = !args.Contains("--bursts") }, AlpacaSymbolLimit = 10_000 });
        StreamingFeed feed = venue == "alpaca"
            ? new AlpacaDataFeed(new AlpacaOptions { Key = "sandbox-key", Secret = "sandbox-secret", StreamUrl = new Uri(sandbox.AlpacaStreamBase, "/v2/iex") })
            : new OandaPricingFeed(new OandaOptions { Token = "sandbox-token", Account = "101-001-0000001-001", StreamUrl = sandbox.OandaStreamBase });
        var buffer = new TickBuffer(10_000, TimeSpan.FromSeconds(60));
        var sink = new LatencySink();
        var aggregator = new CandleAggregator(Timeframe.FromSeconds(1), venue == "alpaca" ? CandleSource.Trades : CandleSource.Quotes, sink, maxGapFill: 0);
        using var stop = new CancellationTokenSource();
        var bufferSink = new BufferSink(buffer);
        var feedTask = feed.RunAsync(symbols, bufferSink, stop.Token);
        var warmUp = TimeSpan.FromSeconds(3);
        var clock = Stopwatch.StartNew();
        long ticks = 0;
        var consumer = Task.Run(async () =>
        {
            while (await buffer.WaitToReadAsync(CancellationToken.None))
            {
                while (buffer.TryRead(Now(), out var tick))
                {
                    ticks++;
                    sink.Completing = tick.Time.UnixNanos;
                    sink.Record = clock.Elapsed > warmUp;
                    aggregator.OnTick(tick);
                }
            }
        });

        await Task.Delay(TimeSpan.FromSeconds(seconds) + warmUp);
        await stop.CancelAsync();
        await feedTask;
        buffer.Complete();
        await consumer;
        await feed.DisposeAsync();

        var samples = sink.Samples.Order().ToArray();
        double measured = clock.Elapsed.TotalSeconds;
        Console.WriteLine($"venue {venue}, {symbolCount} symbols, generator {rate:N0} ticks/s; received {ticks:N0} ticks in {measured:0.0} s ({ticks / measured:N0}/s); buffer dropped {buffer.Stats.Dropped:N0}");
        if (samples.Length == 0)
        {
            Console.WriteLine("no candles completed");
            return 1;
        }

        var receive = bufferSink.Receive.Skip(bufferSink.Receive.Count / 5).Order().ToArray();
        Console.WriteLine($"tick receive latency (sandbox stamp → client parsed), {receive.Length:N0} ticks: p50 {receive[receive.Length / 2] / 1e6:0.000} ms, p99 {receive[(int)(receive.Length * 0.99)] / 1e6:0.000} ms");
        double P(double q) => samples[Math.Min(samples.Length - 1, (int)Math.Ceiling(q * samples.Length) - 1)] / 1e6;
        Console.WriteLine($"candle-completed latency over {samples.Length:N0} candles (after {warmUp.TotalSeconds:0} s warm-up): p50 {P(0.50):0.000} ms, p90 {P(0.90):0.000} ms, p99 {P(0.99):0.000} ms, max {samples[^1] / 1e6:0.000} ms");
        return 0;
    }

    private static Timestamp Now() => Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow);

    private static string? Arg(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private sealed class BufferSink(TickBuffer buffer) : ILiveDataSink
    {
        public List<long> Receive { get; } = new(2_000_000);

        public void OnTick(in Tick tick)
        {
            Receive.Add(tick.ReceivedAt.UnixNanos - tick.Time.UnixNanos);
            buffer.Write(tick);
        }

        public void OnBar(in Bar bar)
        {
        }

        public void OnFeedEvent(FeedEvent feedEvent)
        {
            if (feedEvent.Kind is not (FeedEventKind.Connected or FeedEventKind.Authenticated or FeedEventKind.Subscribed))
            {
                Console.Error.WriteLine($"{feedEvent.Kind}: {feedEvent.Message}");
            }
        }
    }

    private sealed class LatencySink : ICandleSink
    {
        public long Completing;
        public bool Record;

        public List<long> Samples { get; } = new(100_000);

        public void OnCandle(in Candle candle)
        {
            if (Record)
            {
                Samples.Add(Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow).UnixNanos - Completing);
            }
        }
    }
}
