using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Keel.Domain;
using Keel.Domain.Portfolio;
using Keel.Engine.Analytics;
using Keel.Engine.Clock;
using Keel.Engine.Data;
using Keel.Engine.Kernel;
using Keel.Engine.Persistence;
using Keel.Engine.Ports;
using Keel.Engine.Simulation;
using Keel.Engine.Strategies;
using Keel.Runtime.Reporting;

namespace Keel.Runtime.Sessions;

public sealed record SessionSettings
{
    public required Money InitialCash { get; init; }

    public decimal Leverage { get; init; } = 1m;

    public SimulatedExchangeOptions Exchange { get; init; } = new();

    public KernelOptions Kernel { get; init; } = new();

    public PerformanceOptions Performance { get; init; } = new();

    /// <summary>Bars per inbox block from a historical feeder; snapshots fall between blocks.</summary>
    public int BarBatchSize { get; init; } = 4096;

    /// <summary>Where orders go: the simulated exchange (backtest and paper) unless a mode wires another venue.</summary>
    public VenueWiring Venue { get; init; } = VenueWirings.Simulated;
}

/// <summary>The venue of a session and what else it is: a market data consumer (it matches on bars and ticks) and snapshot state.</summary>
public sealed record SessionVenue(IExecutionVenue Venue, IReadOnlyList<IMarketDataConsumer> Consumers, ISnapshotable<ExchangeSnapshot>? State, Action<IOrderEventSink> Connect)
{
    /// <summary>A venue that lives beside the session (a live broker's execution client); null for the simulated exchange.</summary>
    public ISessionVenueHooks? Hooks { get; init; }
}

/// <summary>
/// The session's calls into a venue that runs beside it (a live broker's execution client). All on the kernel thread.
/// </summary>
public interface ISessionVenueHooks
{
    /// <summary>
    /// Before anything is read: where the venue posts what it says (the inbox), the journal to wait on before sending,
    /// and where to journal an input it hands the kernel directly (an event a reconciliation applies; null: inputs are
    /// not journaled).
    /// </summary>
    void Attach(Inbox inbox, JournalRecorder? journal, TradingKernel kernel, InboxItemObserver? recordInput);

    /// <summary>After a resume restored the kernel, before it trades: connect and reconcile. Throws to stop the start.</summary>
    void Start(TradingKernel kernel, CancellationToken ct);

    /// <summary>After each inbox item: commands the kernel gave may go out once their journal batch is written.</summary>
    void AfterItem(TradingKernel kernel);

    /// <summary>After the loop ended, before the final snapshot: finish sending (within a deadline) and disconnect. Idempotent.</summary>
    void Stop(TradingKernel kernel);

    /// <summary>The venue client's own state for a snapshot (a fill watermark); null when it has none.</summary>
    string? CaptureState();

    /// <summary>Restores what <see cref="CaptureState"/> gave, before <see cref="Start"/>.</summary>
    void RestoreState(string? state);
}

/// <summary>Builds a session's venue from its settings, portfolio and instruments: one per mode's wiring.</summary>
public delegate SessionVenue VenueWiring(SessionSettings settings, Portfolio portfolio, IReadOnlyList<Instrument> instruments);

/// <summary>Ready-made venue wirings.</summary>
public static class VenueWirings
{
    /// <summary>The simulated exchange: it sees market data before the strategy and is part of every snapshot.</summary>
    public static SessionVenue Simulated(SessionSettings settings, Portfolio portfolio, IReadOnlyList<Instrument> instruments)
    {
        var exchange = new SimulatedExchange(settings.Exchange, instruments, portfolio);
        return new SessionVenue(exchange, [exchange], exchange, exchange.Connect);
    }
}

/// <summary>How a host reaches into a running session: the inbox for commands and orders, the bus for events.</summary>
public sealed class SessionLink
{
    /// <summary>Called on the kernel thread before the first item is read: subscribe to the bus, keep the inbox.</summary>
    public Action<Inbox, EventBus, TradingKernel>? Attached { get; init; }

    /// <summary>Called on the kernel thread after each inbox item, between events.</summary>
    public Action<TradingKernel>? AfterItem { get; init; }
}

/// <summary>Streams the session writes to; any may be null. When <see cref="Append"/> is set the files already hold a header (resume).</summary>
public sealed class SessionOutputs
{
    public Stream? Orders { get; init; }

    public Stream? Fills { get; init; }

    public Stream? Trades { get; init; }

    public Stream? Equity { get; init; }

    public bool Append { get; init; }
}

/// <summary>Recording a run: its journal, how often to snapshot, and the snapshot to resume from.</summary>
public sealed record SessionPersistence
{
    public required IRunJournal Journal { get; init; }

    public required string RunId { get; init; }

    /// <summary>Wall clock for the time-based snapshot policy and record times (never for trading decisions).</summary>
    public required TimeProvider Time { get; init; }

    /// <summary>Take a snapshot after this many kernel events…</summary>
    public long SnapshotEveryEvents { get; init; } = 200_000;

    /// <summary>…or after this much wall time, whichever comes first.</summary>
    public TimeSpan SnapshotEvery { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The snapshot payload to continue from (null for a new run).</summary>
    public string? ResumeFrom { get; init; }

    /// <summary>Progress of the data source, 0–100, for the run record.</summary>
    public Func<double>? Progress { get; init; }

    /// <summary>
    /// Also snapshot after every inbox item that changed an order (live trading): an order is sent only once a snapshot
    /// holding it is committed, so a restart always knows every order the venue may have.
    /// </summary>
    public bool SnapshotOnOrderChange { get; init; }

    /// <summary>
    /// Journal every input the kernel consumes (bars, ticks, order events, outside orders, commands), in order with the
    /// wall time it was taken at (live runs: the record a replay re-runs). Null: inputs are not journaled.
    /// </summary>
    public InputJournal? Inputs { get; init; }

    /// <summary>
    /// The journaled inputs after a sequence, in order (live runs): a resumed session re-runs those its snapshot does
    /// not include before it reconciles and trades, so it continues exactly where the last session got to.
    /// </summary>
    public Func<long, IEnumerable<InputRecord>>? InputsAfter { get; init; }
}

/// <summary>Where a live session's inputs are numbered from: after the last one already stored (a resumed run continues it).</summary>
public sealed class InputJournal(long lastStored)
{
    private long _last = lastStored;

    /// <summary>The sequence of the last input journaled.</summary>
    public long Last => _last;

    /// <summary>Adds one input to the journal's current batch (kernel thread).</summary>
    public void Record(JournalRecorder journal, TimeProvider time, in InboxItem item)
    {
        if (item.Kind is InboxItemKind.Bar or InboxItemKind.Tick or InboxItemKind.OrderEvent or InboxItemKind.External or InboxItemKind.Command or InboxItemKind.Adjustment)
        {
            journal.Current.Inputs.Add(InputCodec.Encode(++_last, Timestamp.FromDateTimeOffset(time.GetUtcNow()), item));
            journal.HandIfFull();
        }
    }
}

public sealed class SessionResult
{
    public required BacktestMetrics Metrics { get; init; }

    public required EquityCurve Curve { get; init; }

    /// <summary>The run's daily equity and benchmark prices and its chart candles, for the report and period statistics.</summary>
    public ReportSeries? Series { get; init; }

    /// <summary>Trades still open at the end (closed trades are in trades.csv and the journal).</summary>
    public required IReadOnlyList<Trade> OpenTrades { get; init; }

    public required IReadOnlyList<KernelNotice> Notices { get; init; }

    public required LoopOutcome Outcome { get; init; }

    public required long DataEvents { get; init; }

    public required long LastSequence { get; init; }

    public required int Snapshots { get; init; }

    /// <summary>The circuit breaker was open when the run ended (new orders were being denied).</summary>
    public required bool CircuitBreakerOpen { get; init; }

    /// <summary>Orders the run created.</summary>
    public required long OrdersPlaced { get; init; }

    /// <summary>Orders denied by the risk gate or rejected by the venue.</summary>
    public required long OrdersRefused { get; init; }
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

/// <summary>A feeder the kernel's thread can drive itself, item by item, with no producer thread (bars already in memory).</summary>
public interface IInlineDataFeeder : IDataFeeder
{
    /// <summary>Hands every item to <paramref name="loop"/> on the calling thread, then the end of data; returns how the loop ended.</summary>
    LoopOutcome Drive(KernelLoop loop, Inbox inbox, CancellationToken ct);
}

/// <summary>
/// Bars held in memory: copied into pooled blocks from another thread like any feeder, or, driven inline by the
/// kernel's thread when the session has nothing to do between items, read in place through blocks that point at them.
/// </summary>
public sealed class MemoryFeeder(ReadOnlyMemory<Bar> bars) : IInlineDataFeeder
{
    // Bars per block handed to the kernel inline: how often a stop is looked at.
    private const int BatchBars = 4096;

    public void Run(Inbox inbox, CancellationToken ct) => new HistoricalFeeder(new MemoryBarReader(bars)).Run(inbox, ct);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public LoopOutcome Drive(KernelLoop loop, Inbox inbox, CancellationToken ct)
    {
        int next = 0;
        while (next < bars.Length)
        {
            if (ct.IsCancellationRequested)
            {
                return LoopOutcome.Cancelled;
            }

            // The batch points at the shared bars (no copy: a sweep's combinations all read one array).
            var batch = inbox.RentBatch(ct);
            int n = Math.Min(BatchBars, bars.Length - next);
            batch.View = bars.Slice(next, n);
            batch.Count = n;
            next += n;
            if (loop.Step(InboxItem.ForBars(batch)) is LoopOutcome ended)
            {
                return ended;
            }
        }

        return loop.Step(InboxItem.EndOfData) ?? LoopOutcome.EndOfData;
    }
}

/// <summary>
/// A backtest with <see cref="RunSpec.BarTicks"/>: each bar as its four trade ticks (<see cref="BarTicks"/>), then the
/// bar, one input each, as fast as the kernel takes them. The ticks always go in: the venue fills on them, as on a live
/// feed, and the strategy sees them when it trades on ticks. The bar goes in when the strategy trades on bars (the same
/// rule as a live feed). Each instrument's bar interval is the smallest gap among its first 64 bars, as the sandbox
/// infers it from a file. A resumed run skips <paramref name="skip"/> inputs.
/// </summary>
public sealed class BarTickFeeder(IBarReader reader, MarketDataKinds wants, long skip = 0, Action<long, long>? progress = null) : IDataFeeder
{
    private const int Lookahead = 64;

    public void Run(Inbox inbox, CancellationToken ct)
    {
        bool bars = (wants & MarketDataKinds.Bars) != 0 || (wants & (MarketDataKinds.Trades | MarketDataKinds.Quotes)) == 0;
        var ahead = new Queue<Bar>();
        while (ahead.Count < Lookahead && reader.TryRead(out var first))
        {
            ahead.Enqueue(first);
        }

        var intervals = Intervals(ahead);
        Span<BarTick> split = stackalloc BarTick[BarTicks.PerBar];
        long toSkip = skip, read = 0;
        while (ahead.Count > 0 || reader.TryRead(out var next) && Enqueue(ahead, next))
        {
            var bar = ahead.Dequeue();
            BarTicks.Split(bar, intervals.GetValueOrDefault(bar.Instrument, Timestamp.NanosPerDay), split);
            foreach (var t in split)
            {
                if (toSkip > 0)
                {
                    toSkip--;
                    continue;
                }

                inbox.Write(InboxItem.ForTick(BarTicks.Trade(bar, t)), ct);
            }

            if (bars)
            {
                if (toSkip > 0)
                {
                    toSkip--;
                }
                else
                {
                    inbox.Write(InboxItem.ForBar(bar), ct);
                }
            }

            if (progress is not null && ++read % 1024 == 0)
            {
                var (done, total) = reader.Progress;
                progress(done, total);
            }
        }

        if (progress is not null)
        {
            var (done, total) = reader.Progress;
            progress(done, total);
        }

        inbox.Write(InboxItem.EndOfData, ct);
    }

    private static bool Enqueue(Queue<Bar> queue, in Bar bar)
    {
        queue.Enqueue(bar);
        return true;
    }

    private static Dictionary<InstrumentId, long> Intervals(IEnumerable<Bar> bars)
    {
        var last = new Dictionary<InstrumentId, long>();
        var smallest = new Dictionary<InstrumentId, long>();
        foreach (var b in bars)
        {
            if (last.TryGetValue(b.Instrument, out long previous) && b.Time.UnixNanos > previous)
            {
                long gap = b.Time.UnixNanos - previous;
                smallest[b.Instrument] = Math.Min(smallest.GetValueOrDefault(b.Instrument, long.MaxValue), gap);
            }

            last[b.Instrument] = b.Time.UnixNanos;
        }

        return smallest;
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
/// same wiring with a different feeder and clock. With <see cref="SessionPersistence"/> the run is journaled and
/// snapshotted, and can continue from a snapshot exactly as if it had never stopped.
/// </summary>
public static class TradingSession
{
    /// <summary>
    /// The snapshot layout this Keel writes and reads. 2: one <see cref="SessionSnapshot"/> record (1, hand-written
    /// per component, is refused by number).
    /// </summary>
    public const int SnapshotFormat = 2;

    public static SessionResult Run(
        SessionSettings settings,
        IReadOnlyList<Instrument> instruments,
        IStrategyHost strategy,
        IDataFeeder feeder,
        IClock clock,
        SessionOutputs outputs,
        CancellationToken ct,
        SessionPersistence? persistence = null,
        SessionLink? link = null)
    {
        var portfolio = new Portfolio(settings.InitialCash, settings.Leverage);
        var venue = settings.Venue(settings, portfolio, instruments);
        var bus = new EventBus();
        var kernel = new TradingKernel(clock, venue.Venue, strategy, portfolio, instruments, bus, settings.Kernel, venue.Consumers);
        venue.Connect(kernel);

        using var ordersWriter = outputs.Orders is null ? null : new OrdersCsvWriter(outputs.Orders, outputs.Append);
        using var fillsWriter = outputs.Fills is null ? null : new FillsCsvWriter(outputs.Fills, outputs.Append);
        using var tradesWriter = outputs.Trades is null ? null : new TradesCsvWriter(outputs.Trades, outputs.Append);
        using var equityWriter = outputs.Equity is null ? null : new EquityCsvWriter(outputs.Equity, outputs.Append);
        using var journal = persistence is null ? null : new JournalRecorder(persistence.Journal, persistence.RunId);

        var perf = new PerformanceTracker(portfolio, settings.Performance, equityWriter);
        var trades = new TradeTracker(t =>
        {
            tradesWriter?.Write(t);
            journal?.OnTrade(t);
        });
        var counter = new OrderCounter();
        var notices = new NoticeCollector(200);
        bus.Subscribe<SliceClosed>(perf, "performance");
        var series = new ReportSeries(kernel, instruments[0].Id);
        bus.Subscribe<SliceClosed>(series, "report");
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

        if (journal is not null)
        {
            bus.Subscribe<OrderUpdate>(journal, "journal");
            bus.Subscribe<FillBooked>(journal, "journal");
            bus.Subscribe<KernelNotice>(journal, "journal");
            bus.Subscribe<KernelStateChanged>(journal, "journal");
        }

        var inbox = new Inbox(batchSize: settings.BarBatchSize);
        var loop = new KernelLoop(kernel, inbox);
        var state = new SnapshotParts(kernel, portfolio, venue.State, venue.Hooks, persistence?.Inputs, strategy, perf, series, trades, counter, ordersWriter, fillsWriter, tradesWriter, equityWriter, outputs);
        int snapshots = 0;
        var encoder = persistence is null ? null : new SnapshotEncoder();
        long inputsInSnapshot = 0;
        if (persistence?.ResumeFrom is string resumeFrom)
        {
            (loop.DataEvents, inputsInSnapshot) = state.Load(resumeFrom);
        }

        if (persistence is not null)
        {
            if (!strategy.CanSnapshot)
            {
                throw new NotSupportedException($"strategy {strategy.Name} has no state codec, so its runs cannot be recorded for resume");
            }

            long lastSnapshotSequence = kernel.Sequence;
            long lastSnapshotTicks = persistence.Time.GetTimestamp();
            bool paused = kernel.State == KernelState.Paused;
            long lastSnapshotOrders = journal!.OrderUpdates;
            loop.AfterItem = () =>
            {
                link?.AfterItem?.Invoke(kernel);
                journal!.ThrowIfFailed();
                bool nowPaused = kernel.State == KernelState.Paused;
                if (nowPaused != paused)
                {
                    // Pausing snapshots at once (and resuming records the run as running again).
                    paused = nowPaused;
                    TakeSnapshot(paused ? RunStatus.Paused : RunStatus.Running);
                    lastSnapshotSequence = kernel.Sequence;
                    lastSnapshotTicks = persistence.Time.GetTimestamp();
                }
                else if (kernel.Sequence - lastSnapshotSequence >= persistence.SnapshotEveryEvents
                    || persistence.Time.GetElapsedTime(lastSnapshotTicks) >= persistence.SnapshotEvery
                    || (persistence.SnapshotOnOrderChange && journal.OrderUpdates != lastSnapshotOrders))
                {
                    TakeSnapshot(paused ? RunStatus.Paused : RunStatus.Running);
                    lastSnapshotSequence = kernel.Sequence;
                    lastSnapshotTicks = persistence.Time.GetTimestamp();
                }

                lastSnapshotOrders = journal.OrderUpdates;

                // Last: the venue's commands of this item go out once the batch (with its snapshot) is committed.
                venue.Hooks?.AfterItem(kernel);
            };
        }

        else if (link?.AfterItem is not null || venue.Hooks is not null)
        {
            loop.AfterItem = () =>
            {
                link?.AfterItem?.Invoke(kernel);
                venue.Hooks?.AfterItem(kernel);
            };
        }

        InboxItemObserver? recordInput = null;
        if (persistence?.Inputs is { } inputs)
        {
            recordInput = (in InboxItem item) => inputs.Record(journal!, persistence.Time, item);
            loop.BeforeItem = recordInput;
        }

        link?.Attached?.Invoke(inbox, bus, kernel);
        venue.Hooks?.Attach(inbox, journal, kernel, recordInput);
        if (recordInput is not null && persistence!.ResumeFrom is null && persistence.Inputs is { Last: 0 } && strategy.CanSnapshot)
        {
            // Input 1 of a live run: the state the strategy built from its parameters and files, so a replay starts from
            // it even after the strategy rewrote those files (the ladder's levels).
            recordInput(InboxItem.ForAdjustment(KernelAdjustment.StrategyStarts(strategy.CaptureState().GetRawText())));
        }
        if (persistence is not null)
        {
            // The snapshot serializer's first use JIT-compiles a few thousand generic methods (System.Text.Json metadata
            // over Keel's value types cannot be precompiled): done now on a spare core, on a throw-away capture of the
            // empty session, instead of on the journal's writer thread in the middle of the run.
            var warm = state.Capture(loop.DataEvents);
            ThreadPool.UnsafeQueueUserWorkItem(static w => new SnapshotEncoder(16 * 1024).Encode(w, 0, 0, default), warm, preferLocal: false);
        }

        void TakeSnapshot(RunStatus status)
        {
            var p = persistence!;
            // Captured here, between events; encoded (JSON and checksum) on the journal's writer thread.
            var captured = state.Capture(loop.DataEvents);
            var now = Timestamp.FromDateTimeOffset(p.Time.GetUtcNow());
            var batch = journal!.Current;
            long sequence = kernel.Sequence, dataEvents = loop.DataEvents;
            batch.SetSnapshot(() => encoder!.Encode(captured, sequence, dataEvents, now));
            var m = BacktestMetrics.Compute(perf, trades, counter, portfolio, kernel.ErrorCount);
            batch.Checkpoint = new MetricsCheckpoint(kernel.Sequence, loop.DataEvents, m.TotalReturn, m.NetProfit, m.WinRate, m.MaxDrawdown, m.Sharpe, m.ProfitFactor, now);
            batch.Progress = new RunProgress(status, Math.Round(p.Progress?.Invoke() ?? 0, 2), kernel.Sequence, now);
            journal.Hand();
            snapshots++;
        }

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

        if (persistence?.InputsAfter is { } inputsAfter && persistence.Inputs is { Last: > 0 } journaled && journaled.Last > inputsInSnapshot)
        {
            // Journal replay: what the last session took after its snapshot (up to a crash), through the same kernel.
            // Commands it gives are held by the venue and settled by the start reconciliation; nothing is journaled twice.
            if (kernel.State == KernelState.Created)
            {
                kernel.Start();
            }

            foreach (var record in inputsAfter(inputsInSnapshot))
            {
                var item = InputCodec.Decode(record);
                if (item.Kind != InboxItemKind.Command || item.Command != KernelCommand.Stop)
                {
                    loop.Step(in item);
                    if (item.Kind is InboxItemKind.Bar or InboxItemKind.Tick)
                    {
                        loop.DataEvents++;
                    }
                }
            }
        }

        LoopOutcome outcome;
        try
        {
            venue.Hooks?.Start(kernel, ct);
        }
        catch
        {
            venue.Hooks?.Stop(kernel);
            throw;
        }

        if (kernel.State == KernelState.Created)
        {
            kernel.Start();
        }
        else if (kernel.State == KernelState.Paused)
        {
            kernel.Resume();
        }

        // Bars already in memory with nothing to do between items (a sweep's combinations): the kernel's own thread
        // reads them, so one combination takes one core and a sweep scales with the cores it has.
        var inline = feeder as IInlineDataFeeder;
        if (inline is not null && loop.AfterItem is null && loop.BeforeItem is null && venue.Hooks is null)
        {
            outcome = inline.Drive(loop, inbox, ct);
        }
        else
        {
            producer.Start();
            bool ended = false;
            try
            {
                outcome = loop.Run(ct);
                ended = true;
            }
            finally
            {
                stop.Cancel();
                producer.Join();
                if (!ended)
                {
                    venue.Hooks?.Stop(kernel);
                }
            }
        }

        // A live venue finishes its sends (journaled first, as always) before the final snapshot.
        venue.Hooks?.Stop(kernel);

        if (outcome == LoopOutcome.Cancelled)
        {
            // Stopped part-way: snapshot first (before the kernel stops and the writers finish their files), so a
            // resume continues from exactly this point.
            if (journal is not null)
            {
                TakeSnapshot(RunStatus.Stopped);
                journal.Suspend();
            }

            kernel.Stop();
        }

        equityWriter?.Complete();
        ordersWriter?.Finish();
        var open = trades.OpenTrades(portfolio).ToList();
        foreach (var t in open)
        {
            tradesWriter?.Write(t);
        }

        var metrics = BacktestMetrics.Compute(perf, trades, counter, portfolio, kernel.ErrorCount);
        if (journal is not null)
        {
            var now = Timestamp.FromDateTimeOffset(persistence!.Time.GetUtcNow());
            var status = outcome == LoopOutcome.Cancelled ? RunStatus.Stopped : RunStatus.Running;
            if (outcome == LoopOutcome.Cancelled)
            {
                // The stop snapshot above carries the progress.
            }
            else
            {
                journal.Current.Checkpoint = new MetricsCheckpoint(kernel.Sequence, loop.DataEvents, metrics.TotalReturn, metrics.NetProfit, metrics.WinRate, metrics.MaxDrawdown, metrics.Sharpe, metrics.ProfitFactor, now);
                journal.Current.Progress = new RunProgress(status, 100, kernel.Sequence, now);
            }

            journal.Flush();
        }

        return new SessionResult
        {
            Metrics = metrics,
            Curve = perf.Curve,
            Series = series,
            OpenTrades = open,
            Notices = notices.Items,
            Outcome = outcome,
            DataEvents = loop.DataEvents,
            LastSequence = kernel.Sequence,
            Snapshots = snapshots,
            CircuitBreakerOpen = kernel.CircuitBreaker.IsOpen,
            OrdersPlaced = counter.Created,
            OrdersRefused = counter.Denied + counter.Rejected,
        };
    }

    /// <summary>
    /// Encodes a run's snapshots into one reused UTF-8 buffer: the payload is serialized once, as UTF-8, its checksum is
    /// taken from those bytes and its text decoded from them once. Serializing to a string and encoding that string again
    /// for the checksum made two more copies of each payload (about a megabyte each, on the large object heap).
    /// </summary>
    private sealed class SnapshotEncoder(int initialCapacity = 256 * 1024)
    {
        private static readonly JsonWriterOptions WriterOptions = new()
        {
            Encoder = SnapshotJsonContext.Default.Options.Encoder,
            Indented = SnapshotJsonContext.Default.Options.WriteIndented,
            MaxDepth = SnapshotJsonContext.Default.Options.MaxDepth is 0 ? 64 : SnapshotJsonContext.Default.Options.MaxDepth,
        };

        private readonly ArrayBufferWriter<byte> _buffer = new(initialCapacity);
        private Utf8JsonWriter? _writer;

        public SnapshotRecord Encode(SessionSnapshot snapshot, long sequence, long dataEvents, Timestamp createdAt)
        {
            // One snapshot at a time (the journal's writer encodes them in order); the lock only guards the buffer.
            lock (_buffer)
            {
                _buffer.ResetWrittenCount();
                var writer = _writer ??= new Utf8JsonWriter(_buffer, WriterOptions);
                writer.Reset(_buffer);
                JsonSerializer.Serialize(writer, snapshot, SnapshotJsonContext.Default.SessionSnapshot);
                writer.Flush();
                return SnapshotRecord.FromUtf8(sequence, dataEvents, _buffer.WrittenSpan, createdAt);
            }
        }
    }

    /// <summary>Everything a snapshot holds, captured and restored together.</summary>
    private sealed class SnapshotParts(
        TradingKernel kernel,
        Portfolio portfolio,
        ISnapshotable<ExchangeSnapshot>? exchange,
        ISessionVenueHooks? hooks,
        InputJournal? inputs,
        IStrategyHost strategy,
        PerformanceTracker performance,
        ReportSeries series,
        TradeTracker trades,
        OrderCounter counter,
        OrdersCsvWriter? ordersWriter,
        FillsCsvWriter? fillsWriter,
        TradesCsvWriter? tradesWriter,
        EquityCsvWriter? equityWriter,
        SessionOutputs outputs)
    {
        /// <summary>Everything the snapshot holds, as immutable records: safe to encode on another thread.</summary>
        public SessionSnapshot Capture(long dataEvents)
        {
            // Output files first: their lengths in the snapshot must cover exactly what was written up to here.
            ordersWriter?.Flush();
            fillsWriter?.Flush();
            tradesWriter?.Flush();
            equityWriter?.Flush();
            return new SessionSnapshot(
                SnapshotFormat,
                dataEvents,
                kernel.Capture(),
                PortfolioSnapshot.Of(portfolio),
                exchange?.Capture(),
                strategy.Name,
                strategy.CaptureState(),
                performance.Capture(),
                trades.Capture(),
                counter.Capture(),
                ordersWriter?.Capture(),
                new OutputLengths(outputs.Orders?.Position, outputs.Fills?.Position, outputs.Trades?.Position, outputs.Equity?.Position),
                hooks?.CaptureState(),
                inputs?.Last,
                series.Capture());
        }

        /// <summary>Restores every part; returns how many market data events the run had processed, and the last input it included.</summary>
        public (long DataEvents, long Inputs) Load(string payload)
        {
            var snapshot = Read(payload);
            if (snapshot.StrategyName != strategy.Name)
            {
                throw new SnapshotException($"the snapshot is of strategy {snapshot.StrategyName}, not {strategy.Name}");
            }

            if ((snapshot.Exchange is null) != (exchange is null))
            {
                throw new SnapshotException(snapshot.Exchange is null
                    ? "the snapshot has no simulated exchange state, but this run trades on the simulated exchange"
                    : "the snapshot has simulated exchange state, but this run trades on another venue");
            }

            try
            {
                kernel.Restore(snapshot.Kernel);
                snapshot.Portfolio.RestoreInto(portfolio);
                if (snapshot.Exchange is not null)
                {
                    exchange?.Restore(snapshot.Exchange);
                }

                strategy.RestoreState(snapshot.Strategy);
                hooks?.RestoreState(snapshot.Venue);
                performance.Restore(snapshot.Performance);
                if (snapshot.Report is not null)
                {
                    series.Restore(snapshot.Report);
                }

                trades.Restore(snapshot.Trades);
                counter.Restore(snapshot.OrderCounts);
                if (ordersWriter is not null && snapshot.OrdersCsv is not null)
                {
                    ordersWriter.Restore(snapshot.OrdersCsv, kernel.GetOrder);
                }

                return (snapshot.DataEvents, snapshot.Inputs ?? 0);
            }
            catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException or KeyNotFoundException or ArgumentException)
            {
                throw new SnapshotException($"snapshot cannot be restored: {ex.Message}", ex);
            }
        }

        /// <summary>
        /// Reads a payload of this Keel's format. The format is checked first, on its own, so a snapshot of another
        /// format is refused by its number rather than by whichever field no longer fits.
        /// </summary>
        public static SessionSnapshot Read(string payload)
        {
            try
            {
                CheckFormat(payload);
                return JsonSerializer.Deserialize(payload, SnapshotJsonContext.Default.SessionSnapshot)
                    ?? throw new SnapshotException("snapshot cannot be restored: the payload is JSON null");
            }
            catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException or ArgumentException)
            {
                throw new SnapshotException($"snapshot cannot be restored: {ex.Message}", ex);
            }
        }

        private static void CheckFormat(string payload)
        {
            using var doc = JsonDocument.Parse(payload);
            if (doc.RootElement.ValueKind != JsonValueKind.Object
                || !doc.RootElement.TryGetProperty("format", out var format)
                || !format.TryGetInt32(out int version))
            {
                throw new SnapshotException($"the snapshot has no format number; this Keel reads format {SnapshotFormat}; start the run again");
            }

            if (version != SnapshotFormat)
            {
                throw new SnapshotException(version < SnapshotFormat
                    ? $"snapshot format {version} was written by an older Keel; this Keel reads format {SnapshotFormat}; start the run again"
                    : $"snapshot format {version} was written by a newer Keel; this Keel reads format {SnapshotFormat}; use that Keel or start the run again");
            }
        }
    }

    /// <summary>
    /// Throws a <see cref="SnapshotException"/> naming the format when <paramref name="payload"/> is not a snapshot this
    /// Keel can resume from (checked before a resume touches any file).
    /// </summary>
    public static void CheckSnapshot(string payload) => SnapshotParts.Read(payload);

    /// <summary>Output lengths recorded in a snapshot payload, by output name (orders, fills, trades, equity).</summary>
    public static IReadOnlyDictionary<string, long> SnapshotOutputLengths(string payload)
    {
        var outputs = SnapshotParts.Read(payload).Outputs;
        var result = new Dictionary<string, long>();
        Add("orders", outputs.Orders);
        Add("fills", outputs.Fills);
        Add("trades", outputs.Trades);
        Add("equity", outputs.Equity);
        return result;

        void Add(string name, long? length)
        {
            if (length is long n)
            {
                result[name] = n;
            }
        }
    }

    /// <summary>Market data events processed before the snapshot (how many bars a resume skips).</summary>
    public static long SnapshotDataEvents(string payload) => SnapshotParts.Read(payload).DataEvents;

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
