using System.Collections.Concurrent;
using Keel.Domain;
using Keel.Runtime;
using Keel.Storage;
using Microsoft.Extensions.Logging;

namespace Keel.Server;

/// <summary>
/// The runs this server started (through its <see cref="RunHost"/>), by run id, each with a small equity curve sampled
/// from its kernel while it goes; and reads of every recorded run in the store.
/// </summary>
internal sealed class ServerRuns : IAsyncDisposable
{
    private const int MaxSamples = 2048;
    private readonly ConcurrentDictionary<string, ActiveRun> _runs = new(StringComparer.Ordinal);
    private readonly RunHost _host;
    private readonly ServerOptions _options;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _closing = new();

    public ServerRuns(ServerOptions options, ILogger log)
    {
        _options = options;
        _log = log;
        _host = new RunHost(options.Services);
    }

    public string Db => _options.Db;

    /// <summary>Raised with each run this server starts, after it is registered.</summary>
    public event Action<ActiveRun>? Started;

    public IEnumerable<ActiveRun> Active => _runs.Values.Where(r => !r.Handle.Completion.IsCompleted);

    public IEnumerable<ActiveRun> All => _runs.Values;

    /// <summary>The request as a specification recorded in the server's store (whatever the options said about a store).</summary>
    public RunSpec ResolveRun(string mode, IReadOnlyList<KeyValuePair<string, string>> options) =>
        _options.ResolveRun(mode, options) with { Db = _options.Db, Quiet = true, OutDir = null };

    /// <summary>Continues a recorded run from its newest intact snapshot, with its stored specification, in this server's store.</summary>
    public ActiveRun Resume(RunRecord record)
    {
        var spec = RunSpecJson.Read(record.Spec, record.Id, _options.Db) with { Quiet = true };
        return Register(_host.Resume(record, spec), spec);
    }

    public ActiveRun Start(RunSpec spec) => Register(_host.Start(spec), spec);

    private ActiveRun Register(RunHandle handle, RunSpec spec)
    {
        var id = handle.RunId ?? throw new InvalidOperationException("a run of the server was not recorded");
        var run = new ActiveRun(id, handle, spec.Cash);
        _runs[id] = run;
        ServerLog.RunStarted(_log, id, spec.Strategy, spec.Kind);
        _ = SampleAsync(run);
        Started?.Invoke(run);
        return run;
    }

    public ActiveRun? Find(string id) => _runs.TryGetValue(id, out var run) ? run : null;

    public KeelStore OpenStore() => KeelStore.Open(_options.Db);

    /// <summary>The recorded run with this id or unique prefix, or null.</summary>
    public RunRecord? FindRecord(string idOrPrefix)
    {
        using var store = OpenStore();
        return store.FindRun(idOrPrefix);
    }

    /// <summary>Samples the run's equity a few times a second while it goes: a chart of a live run without reading the store.</summary>
    private async Task SampleAsync(ActiveRun run)
    {
        var ct = _closing.Token;
        try
        {
            while (!run.Handle.Completion.IsCompleted && !ct.IsCancellationRequested)
            {
                var (sample, bar) = await run.Handle.QueryAsync(k =>
                {
                    Bar? last = k.Instruments.Count > 0 && k.TryGetLastBar(k.Instruments[0], out var b) ? b : null;
                    return (new EquitySample(k.Time, k.Sequence, k.Portfolio.Equity), last);
                }, ct).ConfigureAwait(false);
                if (sample.Time != Timestamp.Epoch)
                {
                    run.Add(sample, MaxSamples);
                }

                if (bar is { } candle)
                {
                    run.AddCandle(candle, MaxSamples);
                }

                await Task.WhenAny(Task.Delay(TimeSpan.FromMilliseconds(100), _options.Time, ct), run.Handle.Completion).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or OperationCanceledException)
        {
            // The run ended (or the server is closing): the curve is as far as it got.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _closing.CancelAsync().ConfigureAwait(false);
        await _host.DisposeAsync().ConfigureAwait(false);
        _closing.Dispose();
    }
}

/// <summary>The run's equity at a point of its event time.</summary>
internal readonly record struct EquitySample(Timestamp Time, long Sequence, Money Equity);

/// <summary>A run this server started, with its handle and sampled equity.</summary>
internal sealed class ActiveRun(string id, RunHandle handle, Money cash)
{
    private readonly List<EquitySample> _samples = [];
    private int _stride = 1;
    private int _skipped;

    public string Id { get; } = id;

    public RunHandle Handle { get; } = handle;

    public Money Cash { get; } = cash;

    public void Add(EquitySample sample, int max)
    {
        lock (_samples)
        {
            if (_samples.Count > 0 && _samples[^1].Sequence == sample.Sequence)
            {
                return;
            }

            if (++_skipped < _stride)
            {
                return;
            }

            _skipped = 0;
            _samples.Add(sample);
            if (_samples.Count >= max)
            {
                // Halve the curve and sample half as often: bounded memory however long the run goes.
                for (int i = 0; i < _samples.Count / 2; i++)
                {
                    _samples[i] = _samples[2 * i];
                }

                _samples.RemoveRange(_samples.Count / 2, _samples.Count - (_samples.Count / 2));
                _stride *= 2;
            }
        }
    }

    private readonly List<Bar> _candles = [];

    /// <summary>The run's first instrument's latest bar, each one seen once (sampled: a fast backtest skips some).</summary>
    public void AddCandle(Bar bar, int max)
    {
        lock (_candles)
        {
            if (_candles.Count > 0 && _candles[^1].Time >= bar.Time)
            {
                return;
            }

            _candles.Add(bar);
            if (_candles.Count > max)
            {
                _candles.RemoveRange(0, _candles.Count - max);
            }
        }
    }

    public Bar[] Candles()
    {
        lock (_candles)
        {
            return [.. _candles];
        }
    }

    public EquitySample[] Samples()
    {
        lock (_samples)
        {
            return [.. _samples];
        }
    }
}
