using System.Runtime.CompilerServices;
using Keel.Domain;
using Keel.Domain.Portfolio;
using Keel.Engine.Analytics;
using Keel.Engine.Clock;
using Keel.Engine.Data;
using Keel.Engine.Kernel;
using Keel.Engine.Reporting;
using Keel.Engine.Simulation;
using Keel.Engine.Strategies;

namespace Keel.Engine.Backtest;

public sealed record SessionSettings
{
    public required Money InitialCash { get; init; }

    public decimal Leverage { get; init; } = 1m;

    public SimulatedExchangeOptions Exchange { get; init; } = new();

    public KernelOptions Kernel { get; init; } = new();

    public PerformanceOptions Performance { get; init; } = new();

    /// <summary>How many closed trades to keep in memory for the report (all are written to trades.csv).</summary>
    public int ReportTradeLimit { get; init; } = 1000;
}

/// <summary>Streams the session writes to; any may be null.</summary>
public sealed class SessionOutputs
{
    public Stream? Orders { get; init; }

    public Stream? Fills { get; init; }

    public Stream? Trades { get; init; }

    public Stream? Equity { get; init; }
}

public sealed class SessionResult
{
    public required BacktestMetrics Metrics { get; init; }

    public required EquityCurve Curve { get; init; }

    /// <summary>The first closed trades (up to the report limit), then the open ones.</summary>
    public required IReadOnlyList<Trade> Trades { get; init; }

    public required IReadOnlyList<KernelNotice> Notices { get; init; }

    public required LoopOutcome Outcome { get; init; }

    public required long DataEvents { get; init; }

    public required long LastSequence { get; init; }
}

/// <summary>Pushes market data into the inbox from its own thread; ends with <see cref="InboxItem.EndOfData"/>.</summary>
public interface IDataFeeder
{
    void Run(Inbox inbox, CancellationToken ct);
}

/// <summary>Historical data as fast as the kernel takes it, in pooled blocks (backtests).</summary>
public sealed class HistoricalFeeder(IBarReader reader, Action<long, long>? progress = null) : IDataFeeder
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Run(Inbox inbox, CancellationToken ct)
    {
        while (true)
        {
            var batch = inbox.RentBatch(ct);
            var items = batch.Items;
            int n = 0;
            while (n < items.Length && reader.TryRead(out items[n]))
            {
                n++;
            }

            batch.Count = n;
            if (n > 0)
            {
                inbox.Write(InboxItem.ForBars(batch), ct);
                if (progress is not null)
                {
                    var (done, total) = reader.Progress;
                    progress(done, total);
                }
            }
            else
            {
                inbox.ReturnBatch(batch);
            }

            if (n < items.Length)
            {
                break;
            }
        }

        inbox.Write(InboxItem.EndOfData, ct);
    }
}

/// <summary>
/// Replays bars one at a time at wall-clock pace × <c>speed</c> (paper trading on recorded data). Bars are delivered
/// exactly as a live feed would deliver them: individually, through the inbox, from another thread.
/// </summary>
public sealed class PacedReplayFeeder(IBarReader reader, double speed, TimeProvider time, Action<long, long>? progress = null) : IDataFeeder
{
    public void Run(Inbox inbox, CancellationToken ct)
    {
        long startTicks = time.GetTimestamp();
        Timestamp? first = null;
        long count = 0;
        while (reader.TryRead(out var bar))
        {
            first ??= bar.Time;
            if (double.IsFinite(speed) && speed > 0)
            {
                double dueSeconds = (bar.Time.UnixNanos - first.Value.UnixNanos) / 1e9 / speed;
                var wait = TimeSpan.FromSeconds(dueSeconds) - time.GetElapsedTime(startTicks);
                if (wait > TimeSpan.Zero)
                {
                    Task.Delay(wait, time, ct).GetAwaiter().GetResult();
                }
            }

            inbox.Write(InboxItem.ForBar(bar), ct);
            if (progress is not null && ++count % 256 == 0)
            {
                var (done, total) = reader.Progress;
                progress(done, total);
            }
        }

        inbox.Write(InboxItem.EndOfData, ct);
    }
}

/// <summary>
/// One run of a strategy: kernel + simulated exchange + a data feeder + a clock. Backtest and paper replay are the
/// same wiring with a different feeder and clock.
/// </summary>
public static class TradingSession
{
    public static SessionResult Run(
        SessionSettings settings,
        IReadOnlyList<Instrument> instruments,
        IStrategyHost strategy,
        IDataFeeder feeder,
        IClock clock,
        SessionOutputs outputs,
        CancellationToken ct)
    {
        var portfolio = new Portfolio(settings.InitialCash, settings.Leverage);
        var exchange = new SimulatedExchange(settings.Exchange, instruments, portfolio);
        var bus = new EventBus();
        var kernel = new TradingKernel(clock, exchange, strategy, portfolio, instruments, bus, settings.Kernel, [exchange]);
        exchange.Connect(kernel);

        using var ordersWriter = outputs.Orders is null ? null : new OrdersCsvWriter(outputs.Orders);
        using var fillsWriter = outputs.Fills is null ? null : new FillsCsvWriter(outputs.Fills);
        using var tradesWriter = outputs.Trades is null ? null : new TradesCsvWriter(outputs.Trades);
        using var equityWriter = outputs.Equity is null ? null : new EquityCsvWriter(outputs.Equity);

        var keptTrades = new List<Trade>();
        var perf = new PerformanceTracker(portfolio, settings.Performance, equityWriter);
        var trades = new TradeTracker(t =>
        {
            tradesWriter?.Write(t);
            if (keptTrades.Count < settings.ReportTradeLimit)
            {
                keptTrades.Add(t);
            }
        });
        var counter = new OrderCounter();
        var notices = new NoticeCollector(200);
        bus.Subscribe<SliceClosed>(perf, "performance");
        bus.Subscribe<SliceClosed>(trades, "trades");
        bus.Subscribe<FillBooked>(trades, "trades");
        bus.Subscribe<OrderUpdate>(counter, "order-counter");
        bus.Subscribe<KernelNotice>(notices, "notices");
        if (ordersWriter is not null)
        {
            bus.Subscribe<OrderUpdate>(ordersWriter, "orders.csv");
        }

        if (fillsWriter is not null)
        {
            bus.Subscribe<FillBooked>(fillsWriter, "fills.csv");
        }

        var inbox = new Inbox();
        var loop = new KernelLoop(kernel, inbox);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var producer = new Thread(() =>
        {
            try
            {
                feeder.Run(inbox, stop.Token);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
            catch (Exception ex)
            {
                try
                {
                    inbox.Write(InboxItem.ForFault(ex), stop.Token);
                }
                catch (OperationCanceledException)
                {
                    // The kernel already stopped; the fault has nobody to report to.
                }
            }
        })
        {
            IsBackground = true,
            Name = "keel-feeder",
        };

        LoopOutcome outcome;
        kernel.Start();
        producer.Start();
        try
        {
            outcome = loop.Run(ct);
        }
        finally
        {
            stop.Cancel();
            producer.Join();
        }

        equityWriter?.Complete();
        ordersWriter?.Finish();
        var open = trades.OpenTrades(portfolio).ToList();
        foreach (var t in open)
        {
            tradesWriter?.Write(t);
        }

        var metrics = BacktestMetrics.Compute(perf, trades, counter, portfolio, kernel.ErrorCount);
        return new SessionResult
        {
            Metrics = metrics,
            Curve = perf.Curve,
            Trades = [.. keptTrades, .. open],
            Notices = notices.Items,
            Outcome = outcome,
            DataEvents = loop.DataEvents,
            LastSequence = kernel.Sequence,
        };
    }

    private sealed class NoticeCollector(int capacity) : IEventHandler<KernelNotice>
    {
        private readonly List<KernelNotice> _items = [];

        public IReadOnlyList<KernelNotice> Items => _items;

        public void Handle(in KernelNotice evt, long sequence)
        {
            if (evt.Level != NoticeLevel.Info && _items.Count < capacity)
            {
                _items.Add(evt);
            }
        }
    }
}
