using System.Globalization;
using System.Text;
using System.Text.Json;
using Keel.Domain;
using Keel.Engine.Analytics;
using Keel.Engine.Clock;
using Keel.Engine.Data;
using Keel.Engine.Persistence;
using Keel.Engine.Strategies;
using Keel.Runtime.Sessions;
using Keel.Runtime.Wiring;
using Keel.Storage;

namespace Keel.Runtime.Optimization;

/// <summary>A parameter sweep as a host resolved it: the backtest every combination runs, and how to sweep.</summary>
public sealed record SweepRequest
{
    /// <summary>The backtest each combination runs; its <see cref="RunSpec.Parameters"/> are the sweep's expressions.</summary>
    public required RunSpec Spec { get; init; }

    /// <summary>Run this many combinations drawn at random from the grid instead of all of it.</summary>
    public long? Samples { get; init; }

    /// <summary>The seed of the random draw.</summary>
    public ulong Seed { get; init; } = 42;

    /// <summary>The metrics.json key to rank by.</summary>
    public string Rank { get; init; } = "sharpe";

    /// <summary>How many of the best combinations are shown (and run on the held-out period).</summary>
    public int Top { get; init; } = 10;

    /// <summary>Bars up to this time train (are swept); the rest are held out and the top combinations run on them.</summary>
    public Timestamp? TrainUntil { get; init; }

    /// <summary>
    /// Walk-forward folds: the bars split into this many plus one equal segments; each fold sweeps one segment (or, with
    /// <see cref="Anchored"/>, every segment up to it) and runs the best combination afresh on the next. Null: none.
    /// </summary>
    public int? WalkForward { get; init; }

    /// <summary>Walk-forward training windows all start at the first bar (they grow) instead of rolling.</summary>
    public bool Anchored { get; init; }

    /// <summary>How many combinations run at once, one kernel per thread.</summary>
    public int Jobs { get; init; } = Environment.ProcessorCount;

    /// <summary>The most combinations the sweep may run; null: 100,000.</summary>
    public long? MaxCombinations { get; init; }

    /// <summary>
    /// Share the combinations through the store (PostgreSQL) with every node running <c>keel worker</c>; this process
    /// works on them too, with <see cref="Jobs"/> kernels. The results are the same as a single-process sweep's.
    /// </summary>
    public bool Cluster { get; init; }

    /// <summary>How long a combination claimed by a dead worker waits before another takes it (cluster only; with <see cref="Jobs"/> 0 this process only waits).</summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromMinutes(2);
}

/// <summary>One combination's numbers.</summary>
public sealed record SweepResult(long Combination, IReadOnlyList<string> Values, BacktestMetrics Metrics)
{
    /// <summary>Its period returns and the comparison with buy-and-hold (alpha, beta); null when it saw no day.</summary>
    public PeriodAnalytics? Periods { get; init; }
}

/// <summary>One of the top combinations on the held-out period.</summary>
public sealed record HoldoutResult(int Rank, SweepResult Train, BacktestMetrics Test)
{
    public PeriodAnalytics? TestPeriods { get; init; }
}

/// <summary>A finished sweep.</summary>
public sealed class SweepOutcome
{
    public required string? RunId { get; init; }

    public required string StrategyName { get; init; }

    public required ParameterGrid Grid { get; init; }

    public required RankMetric Metric { get; init; }

    /// <summary>Every combination run, best first.</summary>
    public required IReadOnlyList<SweepResult> Ranked { get; init; }

    /// <summary>The top combinations on the held-out bars (with <see cref="SweepRequest.TrainUntil"/>); else null.</summary>
    public required IReadOnlyList<HoldoutResult>? Holdout { get; init; }

    public required long Bars { get; init; }

    public required long HoldoutBars { get; init; }

    /// <summary>The walk-forward folds (with <see cref="SweepRequest.WalkForward"/>); else null.</summary>
    public IReadOnlyList<WalkForwardFold>? WalkForward { get; init; }

    /// <summary>The walk-forward out-of-sample totals; null without folds.</summary>
    public WalkForwardSummary? WalkForwardSummary { get; init; }

    /// <summary>Whether the walk-forward training windows were anchored at the first bar.</summary>
    public bool Anchored { get; init; }

    public required string? OutDir { get; init; }
}

/// <summary>
/// <c>keel optimize</c>: one backtest per parameter combination, on bars parsed once and shared read-only, one kernel
/// per core. Each combination runs through exactly the session a backtest runs (the same exchange, risk gate and
/// metrics), so its numbers equal <c>keel backtest</c> with those parameters. The sweep is one run record.
/// </summary>
public static class SweepService
{
    /// <summary>The run kind a sweep is recorded under.</summary>
    public const string Kind = "optimize";

    /// <summary>The most combinations a sweep runs unless told otherwise.</summary>
    public const long DefaultMaxCombinations = 100_000;

    private static readonly string[] LeadColumns = ["rank", "combination"];

    internal static readonly string[] MetricColumns =
    [
        "net_profit", "total_return", "cagr", "sharpe", "sortino", "max_drawdown", "profit_factor", "win_rate", "trades",
        "orders", "exposure", "total_commission", "final_equity", "alpha", "beta", "benchmark_return",
    ];

    /// <summary>
    /// Checks the request, reads the data once, records the sweep, runs every combination and writes the results.
    /// Everything a user can get wrong fails before anything is recorded or written.
    /// </summary>
    public static SweepOutcome Run(SweepRequest request, RunServices services, IRunObserver observer, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(observer);
        var spec = request.Spec;
        var descriptor = services.Strategy(spec.Strategy);
        var grid = ParameterGrid.Parse(spec.Parameters, descriptor);
        var metric = RankMetric.Parse(request.Rank);
        if (request.Samples is <= 0)
        {
            throw new UsageException($"--random {request.Samples}: give a positive number of combinations to draw");
        }

        if (request.Jobs < 0 || (request.Jobs == 0 && !request.Cluster))
        {
            throw new UsageException($"--jobs {request.Jobs}: give a positive number of cores{(request.Cluster ? " (or 0 with --cluster: leave the work to the workers)" : string.Empty)}");
        }

        if (request.Top <= 0)
        {
            throw new UsageException($"--top {request.Top}: give a positive number");
        }

        if (request.WalkForward is int foldCount)
        {
            if (foldCount is < 2 or > WalkForward.MaxFolds)
            {
                throw new UsageException($"--walk-forward was {foldCount}; it must be between 2 and {WalkForward.MaxFolds}");
            }

            if (request.TrainUntil is not null)
            {
                throw new UsageException("--walk-forward and --train-until both hold bars out of training; give one of them");
            }

            if (request.Cluster)
            {
                throw new UsageException("--walk-forward runs in one process; it cannot be combined with --cluster");
            }
        }
        else if (request.Anchored)
        {
            throw new UsageException("--anchored applies to walk-forward windows; give --walk-forward N with it");
        }

        long limit = request.MaxCombinations ?? DefaultMaxCombinations;
        long planned = request.Samples is long s ? Math.Min(s, grid.Count) : grid.Count;
        if (planned > limit)
        {
            throw new UsageException(request.MaxCombinations is null
                ? $"the grid has {Describe(grid.Count)} combinations, more than {DefaultMaxCombinations:N0}; narrow it, draw a sample with --random N, or allow it with --max-combinations {Math.Min(grid.Count, int.MaxValue)}"
                : $"the sweep would run {Describe(planned)} combinations, more than --max-combinations {limit:N0}");
        }

        var combinations = request.Samples is long n ? grid.Sample(n, request.Seed) : grid.All();
        RunService.CheckSources(spec);
        var instruments = RunService.BuildInstruments(spec);
        RunService.CheckStake(spec, instruments);

        // Every combination is built once before anything runs. One the strategy refuses (fast=20 with slow=20 for a
        // crossover) is skipped with a warning, as a grid over two related parameters always holds some; a sweep that
        // would run none stops here.
        var runnable = new List<long>(combinations.Length);
        string? firstRefusal = null;
        foreach (var c in combinations)
        {
            try
            {
                descriptor.Create(Context(descriptor, grid, c, instruments, spec));
                runnable.Add(c);
            }
            catch (StrategyConfigurationException ex)
            {
                firstRefusal ??= $"{string.Join(", ", grid.Pairs(c))}: {ex.Message}";
            }
        }

        if (runnable.Count == 0)
        {
            throw new UsageException($"{spec.Strategy} refuses every combination of the sweep; the first: {firstRefusal}");
        }

        if (runnable.Count < combinations.Length)
        {
            observer.Warning($"skipping {combinations.Length - runnable.Count:N0} of {combinations.Length:N0} combinations that {descriptor.Name} refuses (the first: {firstRefusal})");
            combinations = [.. runnable];
        }

        using var store = spec.Db is null ? null : KeelStore.Open(spec.Db);
        if (request.Cluster && store is not { SharesSweeps: true })
        {
            throw new UsageException($"--cluster shares the sweep through the store, so --db must be a PostgreSQL database every node can reach{(store is null ? string.Empty : $"; {store.Describe} is not one")}");
        }

        var bars = Load(spec, instruments, store, observer, ct);
        if (bars.Length == 0)
        {
            throw BacktestWiring.Instance.NoData(spec);
        }

        int split = bars.Length;
        if (request.TrainUntil is Timestamp until)
        {
            split = FirstAfter(bars.Span, until);
            if (split == 0 || split == bars.Length)
            {
                throw new UsageException($"--train-until {until}: outside the data ({bars.Span[0].Time} … {bars.Span[^1].Time}); give a time inside it so both the training and the held-out period have bars");
            }
        }

        var windows = request.WalkForward is int foldsAsked ? WalkForward.Windows(bars.Span, foldsAsked, request.Anchored) : [];
        var train = bars[..split];
        var test = bars[split..];
        int top = (int)Math.Min(request.Top, combinations.Length);
        long total = combinations.Length + (request.TrainUntil is null ? 0 : top) + (windows.Length * (combinations.Length + 1L));

        // The output folder is checked (and its staging folder made) before the sweep is recorded: an --out that is a
        // file is a usage error, with no run left behind. Its files appear only when the sweep completes.
        using var output = spec.OutDir is null ? null : OutputFolder.Create(spec.OutDir);
        string? runId = null;
        IDisposable? runLock = null;
        var time = services.Time;
        if (store is not null)
        {
            runId = RunService.NewRunId(time);
            var now = Timestamp.FromDateTimeOffset(time.GetUtcNow());
            store.CreateRun(new RunRecord(
                runId, Kind, RunStatus.Created, descriptor.Name, string.Join(",", grid.Axes.Select(a => a.Source)),
                string.Join(",", spec.DataFiles), RunSpecJson.Write(spec), spec.OutDir is null ? null : Path.GetFullPath(spec.OutDir),
                0, now, now, null, null, null, 0, null));
            runLock = store.TryLockRun(runId) ?? throw new UsageException($"run {runId} is being run by another Keel process right now");
            observer.Recorded(runId);
            store.UpdateRun(runId, RunStatus.Running, now, startedAt: now);
        }

        long done = 0;
        try
        {
            var results = new (BacktestMetrics Metrics, PeriodAnalytics? Periods)[combinations.Length];
            if (request.Cluster)
            {
                done = Shared(store!, runId!, combinations, request, services, observer, results, total, ct);
            }
            else
            {
                RunAll(combinations.Length, request.Jobs, i => results[i] = Backtest(spec, descriptor, grid, combinations[i], instruments, train, ct), () =>
                {
                    observer.Progress(Interlocked.Increment(ref done), total);
                }, ct);
            }

            var order = metric.Rank(results.Length, i => results[i].Metrics, i => results[i].Periods);
            var ranked = order.Select(i => new SweepResult(combinations[i], grid.Values(combinations[i]), results[i].Metrics) { Periods = results[i].Periods }).ToList();
            List<HoldoutResult>? holdout = null;
            if (request.TrainUntil is not null)
            {
                var tested = new (BacktestMetrics Metrics, PeriodAnalytics? Periods)[top];
                RunAll(top, request.Jobs, i => tested[i] = Backtest(spec, descriptor, grid, ranked[i].Combination, instruments, test, ct), () =>
                {
                    observer.Progress(Interlocked.Increment(ref done), total);
                }, ct);
                holdout = [.. Enumerable.Range(0, top).Select(i => new HoldoutResult(i + 1, ranked[i], tested[i].Metrics) { TestPeriods = tested[i].Periods })];
            }

            List<WalkForwardFold>? folds = null;
            if (windows.Length > 0)
            {
                folds = WalkForwardFolds(windows, combinations, results.Length, bars, metric, spec, descriptor, grid, instruments, request.Jobs, () => observer.Progress(Interlocked.Increment(ref done), total), ct);
            }

            var outcome = new SweepOutcome
            {
                RunId = runId,
                StrategyName = descriptor.Name,
                Grid = grid,
                Metric = metric,
                Ranked = ranked,
                Holdout = holdout,
                Bars = split,
                HoldoutBars = bars.Length - split,
                OutDir = spec.OutDir is null ? null : Path.GetFullPath(spec.OutDir),
                WalkForward = folds,
                WalkForwardSummary = folds is null ? null : WalkForward.Summarise(folds),
                Anchored = request.Anchored,
            };
            var summary = BestMetricsJson(outcome, spec, combinations.Length);
            if (output is not null)
            {
                using (var csv = output.OpenWrite("results.csv"))
                {
                    WriteResults(csv, outcome);
                }

                if (holdout is not null)
                {
                    using var csv = output.OpenWrite("holdout.csv");
                    WriteHoldout(csv, outcome);
                }

                if (folds is not null)
                {
                    using var csv = output.OpenWrite("walkforward.csv");
                    WalkForward.Write(csv, outcome);
                }

                using (var html = output.OpenWrite("report.html"))
                {
                    SweepReport.Write(html, outcome, spec, top);
                }

                using (var json = output.OpenWrite("metrics.json"))
                {
                    json.Write(Encoding.UTF8.GetBytes(summary));
                }

                output.Commit("metrics.json");
            }

            if (store is not null)
            {
                var finished = Timestamp.FromDateTimeOffset(time.GetUtcNow());
                store.UpdateRun(runId!, RunStatus.Completed, finished, progress: 100, finishedAt: finished, metrics: summary);
            }

            return outcome;
        }
        catch (Exception ex)
        {
            if (store is not null)
            {
                var error = ex is OperationCanceledException
                    ? $"interrupted after {Interlocked.Read(ref done):N0} of {total:N0} combinations; a sweep is not resumed: run it again"
                    : ex.Message;
                try
                {
                    store.UpdateRun(runId!, RunStatus.Failed, Timestamp.FromDateTimeOffset(time.GetUtcNow()), progress: total == 0 ? 0 : Math.Round(100.0 * Interlocked.Read(ref done) / total, 2), error: error);
                }
                catch (StorageException)
                {
                    // The store itself failed: the caller reports the original error.
                }
            }

            throw;
        }
        finally
        {
            runLock?.Dispose();
        }
    }

    /// <summary>
    /// The combinations of a cluster sweep: queued in the store, run by this process's kernels and by every node's
    /// <c>keel worker</c>, then gathered in the sweep's order. Returns how many ran.
    /// </summary>
    private static long Shared(KeelStore store, string runId, long[] combinations, SweepRequest request, RunServices services, IRunObserver observer, (BacktestMetrics Metrics, PeriodAnalytics? Periods)[] results, long total, CancellationToken ct)
    {
        store.EnqueueSweep(runId, combinations, request.TrainUntil);
        var options = new SweepWorkerOptions { Jobs = Math.Max(1, request.Jobs), Lease = request.Lease, UntilIdle = true, RunId = runId };
        long done = 0;
        while (true)
        {
            // Work on what is queued; then, while other nodes finish theirs, watch (and take over a combination whose
            // worker died once its lease runs out).
            long looked = 0;
            if (request.Jobs > 0)
            {
                SweepWorker.Run(store, services, options, _ =>
            {
                // The whole sweep's progress (every node's), read at most every quarter second.
                long now = Environment.TickCount64;
                long last = Interlocked.Read(ref looked);
                if (now - last >= 250 && Interlocked.CompareExchange(ref looked, now, last) == last)
                {
                    observer.Progress(store.SweepProgress(runId).Done, total);
                }
            }, ct);
            }
            var (all, finished) = store.SweepProgress(runId);
            Interlocked.Exchange(ref done, finished);
            observer.Progress(finished, total);
            if (finished >= all)
            {
                break;
            }

            ct.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(200));
            ct.ThrowIfCancellationRequested();
        }

        foreach (var (index, json) in store.SweepResults(runId))
        {
            var r = JsonSerializer.Deserialize(json, SweepJson.Default.SweepJobResult)
                ?? throw new StorageException($"sweep {runId}: combination {index} has an empty result");
            if (r.Error is not null)
            {
                throw new UsageException($"a worker could not run combination {r.Error}");
            }

            results[index] = (r.Metrics ?? throw new StorageException($"sweep {runId}: combination {index} has no metrics"), r.Periods);
        }

        return done;
    }

    /// <summary>
    /// The walk-forward folds, one after another: every combination on the fold's training bars (one per thread), the
    /// first by the ranking (ties keep combination order, as in the sweep), then each fold's best afresh on its test bars.
    /// </summary>
    private static List<WalkForwardFold> WalkForwardFolds((WalkForwardWindow Train, WalkForwardWindow Test)[] windows, long[] combinations, int count, ReadOnlyMemory<Bar> bars, RankMetric metric, RunSpec spec, StrategyDescriptor descriptor, ParameterGrid grid, IReadOnlyList<Instrument> instruments, int jobs, Action finished, CancellationToken ct)
    {
        var best = new SweepResult[windows.Length];
        var trained = new (BacktestMetrics Metrics, PeriodAnalytics? Periods)[count];
        for (int f = 0; f < windows.Length; f++)
        {
            var window = bars[windows[f].Train.Start..windows[f].Train.End];
            RunAll(count, jobs, i => trained[i] = Backtest(spec, descriptor, grid, combinations[i], instruments, window, ct), finished, ct);
            int first = metric.Rank(count, i => trained[i].Metrics, i => trained[i].Periods)[0];
            best[f] = new SweepResult(combinations[first], grid.Values(combinations[first]), trained[first].Metrics) { Periods = trained[first].Periods };
        }

        var tested = new (BacktestMetrics Metrics, PeriodAnalytics? Periods)[windows.Length];
        RunAll(windows.Length, jobs, f => tested[f] = Backtest(spec, descriptor, grid, best[f].Combination, instruments, bars[windows[f].Test.Start..windows[f].Test.End], ct), finished, ct);
        return [.. Enumerable.Range(0, windows.Length).Select(f => new WalkForwardFold(f + 1, windows[f].Train, windows[f].Test, best[f], tested[f].Metrics) { TestPeriods = tested[f].Periods })];
    }

    /// <summary>The strategy context of one combination.</summary>
    private static StrategyContext Context(StrategyDescriptor descriptor, ParameterGrid grid, long combination, IReadOnlyList<Instrument> instruments, RunSpec spec) =>
        new(StrategyParameters.Parse(descriptor.Name, grid.Pairs(combination)), instruments, spec.Stake);

    /// <summary>One combination on <paramref name="bars"/>: a backtest session with no outputs and no journal.</summary>
    internal static (BacktestMetrics Metrics, PeriodAnalytics? Periods) Backtest(RunSpec spec, StrategyDescriptor descriptor, ParameterGrid grid, long combination, IReadOnlyList<Instrument> instruments, ReadOnlyMemory<Bar> bars, CancellationToken ct)
    {
        var wiring = BacktestWiring.Instance;
        var host = descriptor.Create(Context(descriptor, grid, combination, instruments, spec));
        var settings = RunService.SettingsFor(spec, wiring, descriptor, null, VenueWirings.Simulated);
        IDataFeeder feeder = spec.BarTicks ? new BarTickFeeder(new MemoryBarReader(bars), descriptor.LiveData) : new MemoryFeeder(bars);
        var result = TradingSession.Run(settings, instruments, host, feeder, new SimulatedClock(), new SessionOutputs(), ct);
        if (result.Outcome == Engine.Kernel.LoopOutcome.Cancelled)
        {
            throw new OperationCanceledException(ct);
        }

        var periods = result.Series is { } series && series.DayCount > 0 ? PeriodAnalytics.Compute(series.Days, spec.Cash, $"buy and hold {series.Instrument.Symbol}") : null;
        return (result.Metrics, periods);
    }

    /// <summary>Runs <paramref name="count"/> jobs on up to <paramref name="jobs"/> threads; the first failure stops the others and is rethrown.</summary>
    private static void RunAll(int count, int jobs, Action<int> run, Action finished, CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        int next = -1;
        Exception? failure = null;
        void Work()
        {
            try
            {
                int i;
                while (!stop.IsCancellationRequested && (i = Interlocked.Increment(ref next)) < count)
                {
                    run(i);
                    finished();
                }
            }
            catch (Exception ex)
            {
                Interlocked.CompareExchange(ref failure, ex, null);
                stop.Cancel();
            }
        }

        var threads = Enumerable.Range(0, Math.Min(jobs, count) - 1)
            .Select(i => new Thread(Work) { IsBackground = true, Name = $"keel-sweep-{i + 1}" })
            .ToList();
        threads.ForEach(t => t.Start());
        Work();
        threads.ForEach(t => t.Join());
        ct.ThrowIfCancellationRequested();
        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        }
    }

    /// <summary>Every bar of the sweep's sources, read once into one array shared read-only by every combination.</summary>
    internal static ReadOnlyMemory<Bar> Load(RunSpec spec, IReadOnlyList<Instrument> instruments, KeelStore? store, IRunObserver observer, CancellationToken ct)
    {
        var files = new List<Keel.Data.CsvBarReader>();
        using var reader = RunWiring.OpenBars(spec, instruments, store, files);
        var bars = new Bar[1 << 16];
        int count = 0;
        bool estimated = false;
        while (reader.TryRead(out var bar))
        {
            if (count == bars.Length)
            {
                ct.ThrowIfCancellationRequested();
                Array.Resize(ref bars, Grown(bars.Length, reader.Progress, ref estimated));
            }

            bars[count++] = bar;
        }

        RunWiring.Skipped(files, observer.Warning);
        return new ReadOnlyMemory<Bar>(bars, 0, count);
    }

    /// <summary>
    /// The array's next length. The first time, from the share of the input read so far (bytes), with 2% to spare: one
    /// array of about the final size instead of a dozen growing copies (hundreds of megabytes written and faulted in
    /// for a large file). After that, or when the total is unknown, by half again.
    /// </summary>
    private static int Grown(int length, (long Done, long Total) progress, ref bool estimated)
    {
        long next = length + (length / 2);
        if (!estimated && progress.Done > 0 && progress.Total > progress.Done)
        {
            estimated = true;
            next = Math.Max(next, (long)(length * (progress.Total / (double)progress.Done) * 1.02) + 1);
        }

        return (int)Math.Min(next, Array.MaxLength);
    }

    internal static int FirstAfter(ReadOnlySpan<Bar> bars, Timestamp until)
    {
        int lo = 0, hi = bars.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (bars[mid].Time <= until)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    private static string Describe(long count) => count == long.MaxValue ? "more than 9.2e18" : count.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>metrics.json of the sweep: the best combination's metrics, with the sweep in its run block.</summary>
    private static string BestMetricsJson(SweepOutcome outcome, RunSpec spec, int combinations)
    {
        var best = outcome.Ranked[0];
        var run = new Dictionary<string, object?>
        {
            ["mode"] = Kind,
            ["strategy"] = outcome.StrategyName,
            ["parameters"] = outcome.Grid.Axes.Select((a, i) => new KeyValuePair<string, string>(a.Name, best.Values[i])).OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList(),
            ["sweep"] = outcome.Grid.Axes.Select(a => a.Source).ToList(),
            ["combinations"] = (long)combinations,
            ["rank"] = outcome.Metric.Name,
            ["data"] = spec.DataFiles.Select(Path.GetFileName).OfType<string>().ToList(),
            ["stake"] = spec.Stake.ToString(),
            ["size"] = spec.Sizing.ToString(),
            ["commission"] = spec.Commission,
            ["slippage"] = spec.Slippage,
            ["fill_at"] = spec.FillAtClose ? "close" : "open",
        };
        if (outcome.WalkForward is { } folds && outcome.WalkForwardSummary is { } wf)
        {
            run["walk_forward"] = (long)folds.Count;
            run["walk_forward_anchored"] = outcome.Anchored;
            run["walk_forward_test_net_profit"] = wf.TestNetProfit.ToDecimal();
            run["walk_forward_efficiency"] = wf.Efficiency;
        }

        using var stream = new MemoryStream();
        best.Metrics.WriteJson(stream, run, best.Periods);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>results.csv: every combination, best first, one column per parameter then the metrics.</summary>
    public static void WriteResults(Stream stream, SweepOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        using var w = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16) { NewLine = "\n" };
        w.WriteLine(string.Join(",", LeadColumns.Concat(outcome.Grid.Axes.Select(a => Csv(a.Name))).Concat(MetricColumns)));
        int rank = 0;
        foreach (var r in outcome.Ranked)
        {
            w.WriteLine(string.Join(",", new[] { (++rank).ToString(CultureInfo.InvariantCulture), r.Combination.ToString(CultureInfo.InvariantCulture) }.Concat(r.Values.Select(Csv)).Concat(MetricValues(r.Metrics, r.Periods))));
        }
    }

    /// <summary>holdout.csv: the top combinations, their training metric, and their metrics on the held-out bars.</summary>
    public static void WriteHoldout(Stream stream, SweepOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        using var w = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16) { NewLine = "\n" };
        w.WriteLine(string.Join(",", LeadColumns.Concat(outcome.Grid.Axes.Select(a => Csv(a.Name))).Append("train_" + outcome.Metric.Name).Concat(MetricColumns.Select(c => "test_" + c))));
        foreach (var h in outcome.Holdout ?? [])
        {
            w.WriteLine(string.Join(",", new[] { h.Rank.ToString(CultureInfo.InvariantCulture), h.Train.Combination.ToString(CultureInfo.InvariantCulture) }
                .Concat(h.Train.Values.Select(Csv)).Append(Number(outcome.Metric.Of(h.Train.Metrics, h.Train.Periods))).Concat(MetricValues(h.Test, h.TestPeriods))));
        }
    }

    internal static IEnumerable<string> MetricValues(BacktestMetrics m, PeriodAnalytics? p) =>
    [
        m.NetProfit.ToString(), Number(m.TotalReturn), Number(m.Cagr), Number(m.Sharpe), Number(m.Sortino), Number(m.MaxDrawdown),
        Number(m.ProfitFactor), Number(m.WinRate), m.Trades.ToString(CultureInfo.InvariantCulture), m.Orders.ToString(CultureInfo.InvariantCulture),
        Number(m.Exposure), m.TotalCommission.ToString(), m.FinalEquity.ToString(), Number(p?.Alpha), Number(p?.Beta), Number(p?.BenchmarkReturn),
    ];

    /// <summary>A double as the shortest text that reads back the same; empty when undefined.</summary>
    internal static string Number(double? v) => v is double d && double.IsFinite(d) ? d.ToString("R", CultureInfo.InvariantCulture) : string.Empty;

    internal static string Csv(string s) => s.AsSpan().IndexOfAny(",\"\n\r") >= 0 ? $"\"{s.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : s;
}
