using System.Globalization;
using Keel.Domain;
using Keel.Engine.Analytics;
using Keel.Engine.Brokerage;
using Keel.Engine.Kernel;
using Keel.Engine.Persistence;
using Keel.Engine.Ports;
using Keel.Engine.Risk;
using Keel.Engine.Simulation;
using Keel.Engine.Strategies;
using Keel.Runtime.Reporting;
using Keel.Runtime.Sessions;
using Keel.Runtime.Wiring;
using Keel.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Keel.Runtime;

/// <summary>What a host renders while a run is prepared and goes (every member is optional to act on).</summary>
public interface IRunObserver
{
    /// <summary>The run was recorded in the store under this id (before it starts).</summary>
    void Recorded(string runId);

    /// <summary>Something the user should know that does not stop the run.</summary>
    void Warning(string message);

    /// <summary>Information: what the run is doing (a live feed's health, a slow replay).</summary>
    void Note(string message);

    /// <summary>A recorded run continues: from which snapshot, or from the beginning.</summary>
    void Resuming(string message);

    /// <summary>Progress of the data source, for a progress bar; called from the feeder's thread.</summary>
    void Progress(long done, long total);

    /// <summary>A live feed handed the run one more tick (after candle aggregation, with what it made already in the kernel's inbox); called from the feed's thread.</summary>
    void FeedTick()
    {
    }

    /// <summary>A live feed reported its health (connected, reconnecting, stale, given up); called from the feed's thread.</summary>
    void FeedHealth(Keel.Engine.Ports.FeedHealthSnapshot health)
    {
    }
}

/// <summary>An observer that ignores everything (tests, servers that only read the event stream).</summary>
public sealed class SilentRunObserver : IRunObserver
{
    public static SilentRunObserver Instance { get; } = new();

    public void Recorded(string runId)
    {
    }

    public void Warning(string message)
    {
    }

    public void Note(string message)
    {
    }

    public void Resuming(string message)
    {
    }

    public void Progress(long done, long total)
    {
    }
}

/// <summary>What the hosts give the runtime: the strategies it can run, live feeds (with the host's credentials) and time.</summary>
public sealed class RunServices
{
    /// <summary>The strategies runs can name: Keel's own plus any a user's program adds.</summary>
    public IReadOnlyList<StrategyDescriptor> Strategies { get; init; } = Keel.Strategies.StrategyCatalog.All;

    /// <summary>Opens a venue's market data stream for a live run; the host resolves credentials and addresses.</summary>
    public Func<RunSpec, IMarketDataFeed>? Feeds { get; init; }

    /// <summary>Opens a venue's trading connection for a live run; the host resolves credentials and endpoints.</summary>
    public Func<RunSpec, IVenuePort>? Venues { get; init; }

    /// <summary>A crash drill for live runs (<see cref="Live.LiveExecutionOptions.Drill"/>); null in normal runs.</summary>
    public Action<string, long>? CrashDrill { get; init; }

    /// <summary>
    /// How many of a run's newest events its handle keeps in memory for subscribers, as a power of two (12 = 4,096);
    /// older ones are read from the store.
    /// </summary>
    public int EventsHeldPow2 { get; init; } = 12;

    /// <summary>
    /// Whether handles keep their run's events for <see cref="RunHandle.Events"/> (a server, a dashboard). A host that
    /// never reads them (the command line) turns it off: the ring would keep thousands of order events alive for
    /// nobody (about 3 MB on the 1M-bar backtest), and <see cref="RunHandle.Events"/> then refuses with a message.
    /// </summary>
    public bool KeepEvents { get; init; } = true;

    /// <summary>Wraps the store's journal before a run writes to it (timings, fault drills); null leaves it as it is.</summary>
    public Func<IRunJournal, IRunJournal>? WrapJournal { get; init; }

    /// <summary>
    /// Where alerts of paper and live runs go (Telegram, a webhook; docs/live.md); null sends none. The host owns it and
    /// disposes it after its runs. Backtests never send alerts.
    /// </summary>
    public Alerts.AlertDispatcher? Alerts { get; init; }

    /// <summary>Wall time, for run records, snapshot policy and live pacing (never for trading decisions in a backtest).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>
    /// Where runs log their life (started, resumed, stopped, completed, halted, failed), damaged snapshots they skip and
    /// their live feeds' connections (docs/logging.md). Nothing is logged by default.
    /// </summary>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    public StrategyDescriptor Strategy(string name) =>
        Strategies.FirstOrDefault(d => string.Equals(d.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new StrategyConfigurationException($"unknown strategy '{name}'; available: {string.Join(", ", Strategies.Select(d => d.Name))}");
}

/// <summary>How a run ended, for the host to report. Failures are exceptions, not outcomes.</summary>
public enum RunEnd
{
    /// <summary>The data ran out (or a live feed was ended) and every result was written.</summary>
    Completed = 1,

    /// <summary>Stopped part-way (Ctrl+C, a stop command); a recorded run can be resumed.</summary>
    Stopped = 2,

    /// <summary>The data ran out, but the run had stopped trading because of errors (circuit breaker open, or every order refused).</summary>
    Halted = 3,
}

/// <summary>A finished run: how it ended, its numbers and what a host needs to render it.</summary>
public sealed class RunOutcome
{
    public required RunEnd End { get; init; }

    public required RunSpec Spec { get; init; }

    public required string? RunId { get; init; }

    public required string StrategyName { get; init; }

    public required StrategyParameters Parameters { get; init; }

    public required IReadOnlyList<Instrument> Instruments { get; init; }

    public required SessionResult Result { get; init; }

    /// <summary>The output folder the files were moved into, or null without <c>--out</c> (or when stopped).</summary>
    public required string? OutDir { get; init; }

    /// <summary>Why a halted run stopped trading.</summary>
    public string? HaltReason { get; init; }
}

/// <summary>
/// The one service every host needs around a run: the run record and its cross-process lock, resume from the newest
/// intact snapshot, outputs staged and moved into place, the report and metrics, and marking a run failed with its
/// reason. Modes differ only in their <see cref="RunWiring"/>.
/// </summary>
public static class RunService
{
    /// <summary>A new run id: UTC start time plus six random hex digits (sortable, unique enough, easy to type a prefix of).</summary>
    public static string NewRunId(TimeProvider time) =>
        $"{time.GetUtcNow().UtcDateTime:yyyyMMdd-HHmmss}-{Random.Shared.Next(0, 1 << 24):x6}";

    /// <summary>
    /// Checks a run request, builds its instruments and strategy, opens its store, records it (or finds it, to resume)
    /// and locks it. Everything a user can get wrong fails here, before anything runs or is recorded.
    /// </summary>
    public static PreparedRun Prepare(RunSpec spec, RunRecord? resume, RunServices services, IRunObserver observer)
    {
        var wiring = RunWiring.For(spec.Mode);
        var descriptor = services.Strategy(spec.Strategy);
        if (resume is not null && !wiring.Resumable)
        {
            throw new UsageException($"a {RunSpecJson.ModeName(spec.Mode)} run cannot be resumed (the feed has moved on); start a new one");
        }

        CheckSources(spec);
        var instruments = BuildInstruments(spec);
        CheckStake(spec, instruments);
        Task<InputFingerprint[]>? hashing = null;
        if (resume is null && spec.Db is not null)
        {
            // Only a recorded run can be resumed, so only it needs to know its files again. The files are hashed on
            // another thread while the strategy is built and the store opened (about 40 ms for a 60 MB file).
            var files = spec.DataFiles.Where(f => !RunSpec.IsLiveSource(f) && !RunSpec.IsStoreSource(f)).ToArray();
            hashing = Task.Run(() => files.Select(InputFingerprint.Of).ToArray());
        }
        else if (resume is not null)
        {
            CheckInputsUnchanged(spec, resume.Id);
        }

        var parameters = StrategyParameters.Parse(descriptor.Name, spec.Parameters);
        var host = descriptor.Create(new StrategyContext(parameters, instruments, spec.Stake));

        var store = spec.Db is null ? null : KeelStore.Open(spec.Db, new StoreOptions { SyncEveryCommit = wiring.SnapshotsOnOrderChange });
        string? created = null;
        try
        {
            string? runId = resume?.Id;
            var now = Now(services.Time);
            if (store is not null && resume is null)
            {
                // Candle series from the store are fingerprinted like files: a re-import must not mix into a resume.
                spec = spec with { Inputs = [.. hashing?.GetAwaiter().GetResult() ?? [], .. spec.DataFiles.Where(RunSpec.IsStoreSource).Select(d => InputFingerprint.OfStore(store, d))] };
            }
            else if (store is not null && resume is not null)
            {
                CheckStoreInputsUnchanged(spec, store, resume.Id);
            }

            if (store is not null && resume is null)
            {
                runId = NewRunId(services.Time);
                store.CreateRun(new RunRecord(
                    runId, spec.Kind, RunStatus.Created, descriptor.Name,
                    string.Join(",", parameters.Values.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}")),
                    string.Join(",", spec.DataFiles), RunSpecJson.Write(spec), spec.OutDir is null ? null : Path.GetFullPath(spec.OutDir),
                    0, now, now, null, null, null, 0, null));
                created = runId;
            }

            if (runId is not null)
            {
                observer.Recorded(runId);
            }

            if (resume is not null && store?.LatestIntactSnapshot(runId!) is { } newest)
            {
                // A snapshot this Keel cannot read (another format) is refused here, naming its format, before the run is
                // locked, marked or its files touched.
                TradingSession.CheckSnapshot(newest.Payload);
            }

            var runLock = store is null ? null : store.TryLockRun(runId!)
                ?? throw new UsageException($"run {runId} is being run by another Keel process right now");
            return new PreparedRun(spec, wiring, descriptor, parameters, instruments, host, store, runLock, runId, resume, services, observer);
        }
        catch
        {
            if (created is not null)
            {
                Forget(store!, created);
            }

            store?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Deletes the record of a new run that failed before it started (nothing of it is worth keeping, and a list full
    /// of such runs hides the real ones); best effort, as the store may be what failed.
    /// </summary>
    private static void Forget(KeelStore store, string runId)
    {
        try
        {
            store.DeleteRun(runId);
        }
        catch (StorageException)
        {
            // It stays recorded as created; 'keel runs delete' removes it.
        }
    }

    /// <summary>Runs a prepared run to its end on the calling thread; marks it failed (and throws) when it fails.</summary>
    public static RunOutcome Execute(PreparedRun run, SessionLink? link, CancellationToken ct)
    {
        OutputFolder? output = null;
        try
        {
            return Execute(run, link, o => output = o, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            if (output is not null && !WorthKeeping(ex))
            {
                output.KeepStaging = false;
                output.Dispose();
            }

            if (run.Store is not null && ex is UsageException && run.Resume is null)
            {
                // A new run refused on something the user got wrong (an output folder that is a file, a feed that
                // cannot be opened) never started: it is not recorded.
                Forget(run.Store, run.RunId!);
            }
            else if (run.Store is not null)
            {
                MarkFailed(run.Store, run.RunId!, ex, run.Services.Time);
            }

            // The error itself goes to the caller, who reports it; this is the run's record of how it ended.
            RuntimeLog.RunFailed(run.Logger, run.RunId ?? NotRecorded, ex.Message);
            throw;
        }
    }

    /// <summary>
    /// A run stopped by the store (a lock, a full disk, a server gone) keeps its staged files so a resume continues them;
    /// any other failure (bad data, a bug) leaves nothing behind.
    /// </summary>
    private const string NotRecorded = "(not recorded)";

    private static bool WorthKeeping(Exception ex) => ex is StorageException or JournalException or OperationCanceledException;

    private static RunOutcome Execute(PreparedRun run, SessionLink? link, Action<OutputFolder> opened, CancellationToken ct)
    {
        var spec = run.Spec;
        var store = run.Store;
        var runId = run.RunId;
        var observer = run.Observer;
        var time = run.Services.Time;
        var log = run.Logger;
        var shownId = runId ?? NotRecorded;

        // A resumed run continues from its newest intact snapshot, if its staged files still reach that far.
        SnapshotRecord? snapshot = null;
        if (run.Resume is not null)
        {
            snapshot = store!.LatestIntactSnapshot(runId!, run.Services.LoggerFactory.CreateLogger("Keel.Storage"));
        }

        using var output = spec.OutDir is null ? null : OutputFolder.Create(spec.OutDir, runId, resume: snapshot is not null);
        IReadOnlyDictionary<string, long>? lengths = snapshot is null ? null : TradingSession.SnapshotOutputLengths(snapshot.Payload);
        if (snapshot is not null && output is not null && !output.HasAtLeast(lengths!))
        {
            RuntimeLog.StagedOutputsBehind(log, shownId);
            observer.Warning($"the staged output files of run {runId} in {output.Path} are missing or shorter than its last snapshot; starting the run again from the beginning (the result is the same)");
            snapshot = null;
            lengths = null;
        }

        if (output is not null)
        {
            output.KeepStaging = store is not null;
            opened(output);
        }

        if (run.Resume is not null)
        {
            RuntimeLog.RunResumed(log, shownId, snapshot is null ? "the beginning (no usable snapshot)" : KeelStore.DescribeSnapshot(snapshot));
            observer.Resuming(snapshot is null
                ? $"resuming run {runId} from the beginning (no usable snapshot)"
                : $"resuming run {runId} from {KeelStore.DescribeSnapshot(snapshot)}");
        }

        double fraction = 0;
        void Report(long done, long total)
        {
            Volatile.Write(ref fraction, total > 0 ? (double)done / total : 0);
            observer.Progress(done, total);
        }

        var context = new FeedContext(spec, run.Instruments, store, run.Services, observer, Report, snapshot is null ? 0 : TradingSession.SnapshotDataEvents(snapshot.Payload), run.Descriptor.LiveData, runId);
        var settings = SettingsFor(spec, run.Wiring, run.Descriptor, runId, run.Wiring.CreateVenue(context));

        Stream? Open(string name) => output is null ? null
            : lengths is null ? output.OpenWrite(name + ".csv")
            : output.OpenContinue(name + ".csv", lengths.TryGetValue(name, out var length) ? length : 0);

        var outputs = new SessionOutputs
        {
            Orders = Open("orders"),
            Fills = Open("fills"),
            Trades = Open("trades"),
            Equity = Open("equity"),
            Append = snapshot is not null,
        };

        var persistence = store is null ? null : new SessionPersistence
        {
            Journal = run.Services.WrapJournal?.Invoke(store) ?? store,
            RunId = runId!,
            Time = time,
            SnapshotEveryEvents = spec.SnapshotEvery,
            SnapshotEvery = TimeSpan.FromSeconds(spec.SnapshotSeconds),
            ResumeFrom = snapshot?.Payload,
            Progress = () => Volatile.Read(ref fraction) * 100,
            Inputs = run.Wiring.JournalsInputs ? new InputJournal(store.Counts(runId!).Inputs) : null,
            SnapshotOnOrderChange = run.Wiring.SnapshotsOnOrderChange,
            InputsAfter = run.Wiring.JournalsInputs ? after => StoredInputs(store, runId!, after) : null,
        };
        if (store is not null)
        {
            var startedAt = Now(time);
            store.UpdateRun(runId!, RunStatus.Running, startedAt, startedAt: run.Resume?.StartedAt ?? startedAt);
        }

        if (log.IsEnabled(LogLevel.Information))
        {
            var sources = string.Join(",", spec.DataFiles);
            var storeName = store?.Describe ?? "none";
            RuntimeLog.RunStarted(log, shownId, spec.Kind, run.Descriptor.Name, sources, storeName);
        }

        SessionResult result;
        try
        {
            using var feed = run.Wiring.OpenFeed(context, ct);
            result = TradingSession.Run(settings, run.Instruments, run.Host, feed.Feeder, run.Wiring.CreateClock(time), outputs, feed.SessionToken, persistence, link);
            feed.Finish();
        }
        finally
        {
            outputs.Orders?.Dispose();
            outputs.Fills?.Dispose();
            outputs.Trades?.Dispose();
            outputs.Equity?.Dispose();
        }

        // Only the loop says whether the run stopped part-way: a stop that lands after the last event leaves a finished run.
        if (result.Outcome == LoopOutcome.Cancelled)
        {
            RuntimeLog.RunStopped(log, shownId, result.DataEvents);
            if (store is null)
            {
                throw new OperationCanceledException(ct);
            }

            store.UpdateRun(runId!, RunStatus.Stopped, Now(time), progress: Math.Round(Volatile.Read(ref fraction) * 100, 2));
            return new RunOutcome
            {
                End = RunEnd.Stopped,
                Spec = spec,
                RunId = runId,
                StrategyName = run.Descriptor.Name,
                Parameters = run.Parameters,
                Instruments = run.Instruments,
                Result = result,
                OutDir = null,
            };
        }

        if (result.DataEvents == 0)
        {
            throw run.Wiring.NoData(spec);
        }

        // The journal is written: the store may move it into place while the report is written.
        store?.SettleInBackground();

        // No run id in metrics.json: the same inputs give the same bytes, recorded or not, resumed or not.
        var runInfo = RunInfo(spec, run.Descriptor.Name, run.Parameters, run.Instruments);
        var periods = Periods(spec, run.Instruments, result);
        if (output is not null)
        {
            var shown = TradeRow.ReadCsv(output.StagedPath("trades.csv"), int.MaxValue);
            using (var report = output.OpenWrite("report.html"))
            {
                var title = $"Keel {spec.Kind}: {run.Descriptor.Name}";
                var rows = runInfo.Select(kv => (kv.Key, kv.Key == "parameters" ? WithDefaults(run.Descriptor, run.Parameters) : Describe(kv.Value))).ToList();
                HtmlReport.Write(report, new ReportModel(title, rows, result.Metrics, result.Curve, shown) { Series = result.Series, Periods = periods, Indicators = run.Descriptor.ChartIndicators?.Invoke(run.Parameters) ?? [] });
            }

            using (var metrics = output.OpenWrite("metrics.json"))
            {
                result.Metrics.WriteJson(metrics, runInfo, periods);
            }

            output.Commit("metrics.json");

            // The previous run's files are deleted while the store closes (PreparedRun.Dispose waits for both).
            run.WaitWhenDisposed(output.TakeCleanup());
        }

        string? halt = HaltReason(result);
        if (store is not null)
        {
            using var metricsJson = new MemoryStream();
            result.Metrics.WriteJson(metricsJson, runInfo, periods);
            var done = Now(time);
            store.UpdateRun(runId!, halt is null ? RunStatus.Completed : RunStatus.Halted, done, progress: 100, finishedAt: done, error: halt, metrics: System.Text.Encoding.UTF8.GetString(metricsJson.ToArray()));
        }

        if (halt is not null)
        {
            RuntimeLog.RunHalted(log, shownId, halt);
        }
        else
        {
            RuntimeLog.RunCompleted(log, shownId, result.DataEvents, result.Metrics.Orders, result.Metrics.FinalEquity);
        }

        return new RunOutcome
        {
            End = halt is null ? RunEnd.Completed : RunEnd.Halted,
            Spec = spec,
            RunId = runId,
            StrategyName = run.Descriptor.Name,
            Parameters = run.Parameters,
            Instruments = run.Instruments,
            Result = result,
            OutDir = output?.Path,
            HaltReason = halt,
        };
    }

    /// <summary>
    /// Why a run that reached the end of its data had in fact stopped trading: its circuit breaker was open, or it
    /// placed orders and every one was refused (denied by the risk gate or rejected by the venue). Null for a healthy run.
    /// </summary>
    private static string? HaltReason(SessionResult result)
    {
        var m = result.Metrics;
        if (result.CircuitBreakerOpen)
        {
            var first = result.Notices.FirstOrDefault(n => n.Level == NoticeLevel.Error)?.Message;
            return $"the circuit breaker opened after repeated errors and new orders were denied ({m.Errors:N0} errors; first: {first})";
        }

        if (result.OrdersPlaced > 0 && result.OrdersRefused == result.OrdersPlaced)
        {
            var first = result.Notices.FirstOrDefault(n => n.Level == NoticeLevel.Error)?.Message;
            return $"every one of its {result.OrdersPlaced:N0} orders was denied or rejected (first: {first})";
        }

        return null;
    }

    private static Timestamp Now(TimeProvider time) => Timestamp.FromDateTimeOffset(time.GetUtcNow());

    /// <summary>Records a failure on the run, if the store can still be written; the original error is what the user sees.</summary>
    private static void MarkFailed(KeelStore store, string runId, Exception ex, TimeProvider time)
    {
        try
        {
            store.UpdateRun(runId, RunStatus.Failed, Now(time), error: ex.Message);
        }
        catch (StorageException)
        {
            // The store itself is what failed; the error line says so.
        }
    }

    /// <summary>Every file a run reads exists, and a store source has a store to read.</summary>
    internal static void CheckSources(RunSpec spec)
    {
        if (spec.Benchmark is string benchmark && !File.Exists(benchmark))
        {
            throw new UsageException($"benchmark file {benchmark} does not exist");
        }

        foreach (var file in spec.DataFiles)
        {
            if (RunSpec.IsLiveSource(file))
            {
                continue;
            }

            if (RunSpec.IsStoreSource(file))
            {
                RunSpec.ParseStoreSource(file);
                if (spec.Db is null)
                {
                    throw new UsageException($"data source {file} reads the store, but --db none was given");
                }
            }
            else if (!File.Exists(file))
            {
                throw new UsageException($"data file {file} does not exist");
            }
        }
    }

    /// <summary>A resume must read exactly the files the run started on; mixing two versions of a file would give a result of neither.</summary>
    private static void CheckInputsUnchanged(RunSpec spec, string runId)
    {
        foreach (var recorded in (spec.Inputs ?? []).Where(i => !RunSpec.IsStoreSource(i.Path)))
        {
            if (!File.Exists(recorded.Path))
            {
                throw new UsageException($"run {runId} read {recorded.Path}, which no longer exists; it cannot be resumed (start a new run)");
            }

            var now = InputFingerprint.Of(recorded.Path);
            if (now.Length != recorded.Length || now.Hash != recorded.Hash)
            {
                throw new UsageException($"data file {recorded.Path} changed since run {runId} started ({recorded.Length:N0} bytes then, {now.Length:N0} now, different content); resuming would mix two versions of it. Restore the file or start a new run");
            }
        }
    }

    private static void CheckStoreInputsUnchanged(RunSpec spec, KeelStore store, string runId)
    {
        foreach (var recorded in (spec.Inputs ?? []).Where(i => RunSpec.IsStoreSource(i.Path)))
        {
            var now = InputFingerprint.OfStore(store, recorded.Path);
            if (now.Length != recorded.Length || now.Hash != recorded.Hash)
            {
                throw new UsageException($"the candles of {recorded.Path} changed since run {runId} started ({recorded.Length:N0} candles then, {now.Length:N0} now, different content); resuming would mix two versions of them. Start a new run");
            }
        }
    }

    /// <summary>
    /// A stake is the order size of a strategy's signals: one that is not a positive whole number of the instrument's
    /// lots would make every signal's order invalid, so it is refused before the run starts.
    /// </summary>
    internal static void CheckStake(RunSpec spec, IReadOnlyList<Instrument> instruments)
    {
        foreach (var i in instruments)
        {
            if (!spec.Stake.IsPositive || spec.Stake.Raw % i.LotSize.Raw != 0)
            {
                throw new UsageException($"--stake {spec.Stake} is not a whole number of lots of {i.Id.Symbol} (lot size {i.LotSize}); every signal's order would be refused. Use a multiple of {i.LotSize}, or --lot-size to trade fractions");
            }
        }
    }

    private static IEnumerable<InputRecord> StoredInputs(KeelStore store, string runId, long after)
    {
        while (true)
        {
            var page = store.ReadInputs(runId, after, 10_000);
            if (page.Count == 0)
            {
                yield break;
            }

            foreach (var record in page)
            {
                yield return record;
            }

            after = page[^1].Sequence;
        }
    }

    /// <summary>How a session of <paramref name="spec"/> trades: cash, leverage, the simulated exchange's fills and costs, the kernel's options and the venue.</summary>
    internal static SessionSettings SettingsFor(RunSpec spec, RunWiring wiring, StrategyDescriptor descriptor, string? runId, VenueWiring venue) => new()
    {
        InitialCash = spec.Cash,
        Leverage = spec.Leverage,
        Exchange = new SimulatedExchangeOptions
        {
            MarketFill = spec.FillAtClose ? MarketFillTiming.SignalBarClose : MarketFillTiming.NextBarOpen,
            Commission = CommissionModel(spec),
            Slippage = spec.Slippage > 0 ? new PercentSlippage(spec.Slippage) : NoSlippage.Instance,
            VolumeParticipation = spec.VolumeParticipation,
        },
        Kernel = KernelOptionsFor(spec, wiring, descriptor, runId),
        Performance = new PerformanceOptions { PeriodsPerYear = spec.PeriodsPerYear },
        Venue = venue,
    };

    /// <summary>The kernel's options for a run of <paramref name="spec"/>: its risk limits, ticks, client ids and brokerage model.</summary>
    internal static KernelOptions KernelOptionsFor(RunSpec spec, RunWiring wiring, StrategyDescriptor descriptor, string? runId) => new()
    {
        Risk = new RiskLimits(spec.MaxPosition, spec.MaxOrderNotional, spec.MaxOpenOrders)
        {
            MaxDailyLoss = spec.MaxDailyLoss,
            MaxDrawdown = spec.MaxDrawdown,
            WarningFraction = spec.RiskWarning,
            MaxOrdersPerWindow = spec.MaxOrdersPerMinute,
            MaxSymbolExposure = spec.MaxExposure ?? RiskLimits.None.MaxSymbolExposure,
            MaxTotalExposure = spec.MaxTotalExposure,
            PatternDayTrader = spec.PatternDayTrader,
        },
        StrategyTicks = wiring.StrategyTicks(spec, descriptor.LiveData),
        Sizing = spec.Sizing,
        ClientOrderIdPrefix = wiring.OrderIdPrefix(runId),
        Brokerage = BrokerageModels.Create(spec.Brokerage)
            ?? throw new UsageException($"brokerage model '{spec.Brokerage}' is not one of {string.Join(", ", BrokerageModels.Names)}"),
    };

    private static ICommissionModel CommissionModel(RunSpec spec)
    {
        var models = new List<ICommissionModel>();
        if (spec.Commission > 0)
        {
            models.Add(new PercentCommission(spec.Commission));
        }

        if (spec.CommissionPerShare.IsPositive || spec.CommissionMinimum.IsPositive)
        {
            models.Add(new PerShareCommission(spec.CommissionPerShare, spec.CommissionMinimum));
        }

        if (spec.CommissionPerOrder.IsPositive)
        {
            models.Add(new PerOrderCommission(spec.CommissionPerOrder));
        }

        return models.Count switch
        {
            0 => NoCommission.Instance,
            1 => models[0],
            _ => new CompositeCommission(models),
        };
    }

    /// <summary>The run's instruments, one per data source, with the spec's asset class, tick and lot sizes.</summary>
    public static List<Instrument> BuildInstruments(RunSpec spec)
    {
        var list = new List<Instrument>();
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < spec.DataFiles.Count; i++)
        {
            var symbol = spec.Symbols?[i]
                ?? (RunSpec.IsStoreSource(spec.DataFiles[i]) ? RunSpec.ParseStoreSource(spec.DataFiles[i]).Symbol : SymbolFromFile(spec.DataFiles[i]));
            if (!seen.TryAdd(symbol, spec.DataFiles[i]))
            {
                throw new UsageException($"data files {seen[symbol]} and {spec.DataFiles[i]} both give symbol {symbol}; name them with --symbol");
            }

            var id = new InstrumentId(symbol);
            var instrument = spec.AssetClass switch
            {
                AssetClass.Forex => Instrument.ForexPair(symbol),
                AssetClass.Crypto => new Instrument(id, AssetClass.Crypto, Price.From(0.01m), Quantity.From(0.00000001m), "USD"),
                _ => Instrument.Equity(symbol),
            };
            if (spec.TickSize is not null || spec.LotSize is not null)
            {
                instrument = new Instrument(id, instrument.AssetClass, spec.TickSize ?? instrument.TickSize, spec.LotSize ?? instrument.LotSize, instrument.Currency, instrument.PipSize);
            }

            list.Add(instrument);
        }

        return list;
    }

    public static string SymbolFromFile(string path)
    {
        var stem = Path.GetFileNameWithoutExtension(path).ToUpperInvariant();
        var chars = stem.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_').ToArray();
        return chars.Length == 0 ? "DATA" : new string(chars);
    }

    private static Dictionary<string, object?> RunInfo(RunSpec spec, string strategy, StrategyParameters parameters, IReadOnlyList<Instrument> instruments) => new()
    {
        ["mode"] = spec.Kind,
        ["strategy"] = strategy,
        ["parameters"] = parameters.Values.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList(),
        ["data"] = spec.DataFiles.Select(Path.GetFileName).OfType<string>().ToList(),
        ["symbols"] = instruments.Select(i => i.Id.Symbol).ToList(),
        ["stake"] = spec.Stake.ToString(),
        ["size"] = spec.Sizing.ToString(),
        ["benchmark"] = spec.Benchmark is string b ? Path.GetFileName(b) : "buy and hold",
        ["commission"] = spec.Commission,
        ["slippage"] = spec.Slippage,
        ["fill_at"] = spec.FillAtClose ? "close" : "open",
    };

    /// <summary>Period returns and the benchmark comparison of a finished run; null when it saw no day.</summary>
    internal static PeriodAnalytics? Periods(RunSpec spec, IReadOnlyList<Instrument> instruments, SessionResult result)
    {
        if (result.Series is not { } series || series.DayCount == 0)
        {
            return null;
        }

        var days = series.Days;
        if (spec.Benchmark is string file)
        {
            return PeriodAnalytics.Compute(days, spec.Cash, $"buy and hold {Path.GetFileName(file)}", BenchmarkCloses(file, days));
        }

        return PeriodAnalytics.Compute(days, spec.Cash, $"buy and hold {series.Instrument.Symbol}");
    }

    /// <summary>A benchmark file's closing price on each of the run's days: the last close at or before the day.</summary>
    private static List<Price> BenchmarkCloses(string file, IReadOnlyList<DayPoint> days)
    {
        var byDay = new List<(long Day, Price Close)>();
        using (var reader = Keel.Data.CsvBarReader.Open(file, new InstrumentId("BENCHMARK")))
        {
            while (reader.TryRead(out var bar))
            {
                long day = bar.Time.UtcDayNumber;
                if (byDay.Count > 0 && byDay[^1].Day == day)
                {
                    byDay[^1] = (day, bar.Close);
                }
                else
                {
                    byDay.Add((day, bar.Close));
                }
            }
        }

        var closes = new List<Price>(days.Count);
        int k = -1;
        foreach (var d in days)
        {
            while (k + 1 < byDay.Count && byDay[k + 1].Day <= d.Day)
            {
                k++;
            }

            closes.Add(k >= 0 ? byDay[k].Close : default);
        }

        return closes;
    }

    /// <summary>Every parameter of the strategy with its value, the ones left at their default marked so.</summary>
    private static string WithDefaults(StrategyDescriptor descriptor, StrategyParameters given)
    {
        var parts = new List<string>();
        foreach (var p in descriptor.Parameters)
        {
            var value = given.Values.FirstOrDefault(kv => string.Equals(kv.Key, p.Name, StringComparison.OrdinalIgnoreCase)).Value;
            parts.Add(value is null ? $"{p.Name}={p.Default} (default)" : $"{p.Name}={value}");
        }

        foreach (var kv in given.Values.Where(kv => !descriptor.Parameters.Any(p => string.Equals(p.Name, kv.Key, StringComparison.OrdinalIgnoreCase))).OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            parts.Add($"{kv.Key}={kv.Value}");
        }

        return string.Join(", ", parts);
    }

    private static string Describe(object? value) => value switch
    {
        null => string.Empty,
        IEnumerable<KeyValuePair<string, string>> map => string.Join(", ", map.Select(kv => $"{kv.Key}={kv.Value}")),
        IEnumerable<string> list => string.Join(", ", list),
        decimal d => d.ToString(CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };
}

/// <summary>A run that was checked, recorded and locked, ready to execute; disposing it releases the lock and the store.</summary>
public sealed class PreparedRun(
    RunSpec spec,
    RunWiring wiring,
    StrategyDescriptor descriptor,
    StrategyParameters parameters,
    IReadOnlyList<Instrument> instruments,
    IStrategyHost host,
    KeelStore? store,
    IDisposable? runLock,
    string? runId,
    RunRecord? resume,
    RunServices services,
    IRunObserver observer) : IDisposable
{
    public RunSpec Spec { get; } = spec;

    public RunWiring Wiring { get; } = wiring;

    public StrategyDescriptor Descriptor { get; } = descriptor;

    public StrategyParameters Parameters { get; } = parameters;

    public IReadOnlyList<Instrument> Instruments { get; } = instruments;

    public IStrategyHost Host { get; } = host;

    public KeelStore? Store { get; } = store;

    /// <summary>The run's id in the store; null when the run is not recorded.</summary>
    public string? RunId { get; } = runId;

    public RunRecord? Resume { get; } = resume;

    public RunServices Services { get; } = services;

    public IRunObserver Observer { get; } = observer;

    /// <summary>The runtime's logger, from the host's <see cref="RunServices.LoggerFactory"/>.</summary>
    internal ILogger Logger { get; } = services.LoggerFactory.CreateLogger(RuntimeLog.Category);

    private Task? _outputCleanup;

    /// <summary>Work that finishes the run's outputs (deleting the previous run's files), waited for after the store is closed.</summary>
    internal void WaitWhenDisposed(Task? cleanup) => _outputCleanup = cleanup;

    public void Dispose()
    {
        runLock?.Dispose();
        Store?.Dispose();
        if (_outputCleanup is { } cleanup)
        {
            _outputCleanup = null;
            OutputFolder.WaitQuietly(cleanup);
        }
    }
}
