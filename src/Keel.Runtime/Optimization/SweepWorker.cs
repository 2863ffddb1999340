using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization;
using Keel.Domain;
using Keel.Engine.Analytics;
using Keel.Engine.Persistence;
using Keel.Engine.Strategies;
using Keel.Storage;

namespace Keel.Runtime.Optimization;

/// <summary>How a <see cref="SweepWorker"/> works.</summary>
public sealed record SweepWorkerOptions
{
    /// <summary>The worker's name in the store (who ran which combination); host and process id by default.</summary>
    public string Name { get; init; } = $"{Environment.MachineName}-{Environment.ProcessId}";

    /// <summary>Combinations run at once (one kernel per core).</summary>
    public int Jobs { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// How long a claimed combination stays this worker's without a renewal; the worker renews it every third of it
    /// while it runs. A worker that dies gives its combination back when the lease runs out.
    /// </summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>How often an idle worker looks for work.</summary>
    public TimeSpan Poll { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Stop when nothing is queued instead of waiting for the next sweep (cron, tests).</summary>
    public bool UntilIdle { get; init; }

    /// <summary>Only this sweep's combinations (the node that started it works on its own sweep); any sweep when null.</summary>
    public string? RunId { get; init; }
}

/// <summary>
/// <c>keel worker</c>: runs combinations of the sweeps that <c>keel optimize --cluster</c> queued in a shared store, on
/// this node's cores, and stores each result. The data of a sweep is read once per worker and shared by its kernels;
/// a combination runs exactly as in a single-process sweep, so the gathered results are the same.
/// </summary>
public static class SweepWorker
{
    /// <summary>Works until <paramref name="ct"/> is cancelled (or, with <see cref="SweepWorkerOptions.UntilIdle"/>, until nothing is queued); returns how many combinations it ran.</summary>
    public static long Run(KeelStore store, RunServices services, SweepWorkerOptions options, Action<SweepJob>? completed, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        if (!store.SharesSweeps)
        {
            throw new UsageException($"keel worker needs a PostgreSQL store shared with the node that starts the sweep; {store.Describe} is not one");
        }

        if (options.Jobs <= 0)
        {
            throw new UsageException($"--jobs {options.Jobs}: give a positive number of cores");
        }

        var sweeps = new ConcurrentDictionary<string, Lazy<Prepared>>(StringComparer.Ordinal);
        long ran = 0;
        Exception? failure = null;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        void Work(int slot)
        {
            try
            {
                var name = options.Jobs == 1 ? options.Name : $"{options.Name}/{slot}";
                while (!stop.IsCancellationRequested)
                {
                    var job = store.ClaimSweepJob(name, options.Lease, options.RunId);
                    if (job is null)
                    {
                        if (options.UntilIdle)
                        {
                            return;
                        }

                        stop.Token.WaitHandle.WaitOne(options.Poll);
                        continue;
                    }

                    var prepared = sweeps.GetOrAdd(job.RunId, _ => new Lazy<Prepared>(() => Prepared.Of(job, store, services, stop.Token))).Value;
                    store.CompleteSweepJob(job, RunOne(store, job, prepared, options.Lease, stop.Token));
                    Interlocked.Increment(ref ran);
                    completed?.Invoke(job);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // Stopping: a claimed combination goes back to the queue when its lease runs out.
            }
            catch (Exception ex)
            {
                Interlocked.CompareExchange(ref failure, ex, null);
                stop.Cancel();
            }
        }

        var threads = Enumerable.Range(1, options.Jobs - 1).Select(i => new Thread(() => Work(i)) { IsBackground = true, Name = $"keel-worker-{i}" }).ToList();
        threads.ForEach(t => t.Start());
        Work(0);
        threads.ForEach(t => t.Join());
        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        }

        return Interlocked.Read(ref ran);
    }

    /// <summary>Runs one claimed combination, renewing its lease meanwhile; the result (or the error) as stored JSON.</summary>
    private static string RunOne(KeelStore store, SweepJob job, Prepared p, TimeSpan lease, CancellationToken ct)
    {
        var period = lease / 3;
        using var renew = new Timer(_ =>
        {
            try
            {
                store.RenewSweepLease(job, lease);
            }
            catch (StorageException)
            {
                // The next renewal tries again; at worst another worker reruns the combination, with the same result.
            }
        }, null, period, period);
        try
        {
            var (metrics, periods) = SweepService.Backtest(p.Spec, p.Descriptor, p.Grid, job.Combination, p.Instruments, p.Bars(job.TrainUntil), ct);
            return JsonSerializer.Serialize(new SweepJobResult(metrics, periods, null), SweepJson.Default.SweepJobResult);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return JsonSerializer.Serialize(new SweepJobResult(null, null, $"{string.Join(", ", p.Grid.Pairs(job.Combination))}: {ex.Message}"), SweepJson.Default.SweepJobResult);
        }
    }

    /// <summary>A sweep as a worker needs it: its spec, strategy, grid, instruments and bars (read once).</summary>
    private sealed class Prepared
    {
        private ReadOnlyMemory<Bar> _bars;

        public required RunSpec Spec { get; init; }

        public required StrategyDescriptor Descriptor { get; init; }

        public required ParameterGrid Grid { get; init; }

        public required IReadOnlyList<Instrument> Instruments { get; init; }

        public static Prepared Of(SweepJob job, KeelStore store, RunServices services, CancellationToken ct)
        {
            var spec = RunSpecJson.Read(job.Spec, job.RunId, null);
            var descriptor = services.Strategy(spec.Strategy);
            RunService.CheckSources(spec);
            var instruments = RunService.BuildInstruments(spec);
            return new Prepared
            {
                Spec = spec,
                Descriptor = descriptor,
                Grid = ParameterGrid.Parse(spec.Parameters, descriptor),
                Instruments = instruments,
                _bars = SweepService.Load(spec, instruments, store, SilentRunObserver.Instance, ct),
            };
        }

        public ReadOnlyMemory<Bar> Bars(Timestamp? trainUntil) =>
            trainUntil is Timestamp until ? _bars[..SweepService.FirstAfter(_bars.Span, until)] : _bars;
    }
}

/// <summary>What a worker stores for one combination: its metrics, or why it could not run.</summary>
internal sealed record SweepJobResult(BacktestMetrics? Metrics, PeriodAnalytics? Periods, string? Error);

/// <summary>Source-generated JSON of sweep results (exact money, doubles that round-trip, NaN kept).</summary>
[JsonSourceGenerationOptions(
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters = [typeof(MoneyJsonConverter), typeof(TimestampJsonConverter)])]
[JsonSerializable(typeof(SweepJobResult))]
internal sealed partial class SweepJson : JsonSerializerContext;
