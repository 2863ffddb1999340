using System.Collections.Concurrent;
using Keel.Sandbox.Market;

namespace Keel.Sandbox.Streaming;

/// <summary>
/// One venue's market: the replay of every series and the generator, started by the first subscription, publishing
/// to the venue's connected stream sessions. The replay clock keeps running whoever is connected: ticks nobody was
/// subscribed to are lost (and counted), as on a real venue.
/// </summary>
internal sealed class VenueFeed
{
    private readonly VenueStats _stats;
    private readonly IReadOnlyList<SeriesData> _series;
    private readonly SandboxGenerator? _generator;
    private readonly double _speed;
    private readonly TimeProvider _time;
    private readonly Action<MarketEvent> _encode;
    private readonly CancellationToken _stopping;
    private readonly ConcurrentDictionary<long, StreamSession> _sessions = new();
    private readonly Dictionary<string, MarketEvent> _last = new(StringComparer.Ordinal);
    private readonly HashSet<string> _symbols = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _replayCompleted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly System.Threading.Channels.Channel<StepRequest>? _steps;
    private volatile bool _replayDone;
    private readonly Lock _gate = new();
    private long _nextTradeId;
    private int _started;
    private Task _running = Task.CompletedTask;

    public VenueFeed(string venue, VenueStats stats, IReadOnlyList<SeriesData> series, SandboxGenerator? generator, double speed, TimeProvider time,
        Action<MarketEvent> encode, CancellationToken stopping, bool lockstep = false)
    {
        _steps = lockstep ? System.Threading.Channels.Channel.CreateUnbounded<StepRequest>() : null;
        Venue = venue;
        _stats = stats;
        _series = series;
        _generator = generator;
        _speed = speed;
        _time = time;
        _encode = encode;
        _stopping = stopping;
        foreach (var s in series)
        {
            _symbols.Add(s.Symbol);
        }

        if (generator is not null)
        {
            foreach (var s in generator.Symbols)
            {
                _symbols.Add(s);
            }
        }

        // Trade ids look like a venue's: large, unique and increasing.
        _nextTradeId = 52_983_525_028_000;
        if (series.Count == 0)
        {
            _replayCompleted.TrySetResult();
        }
    }

    public string Venue { get; }

    public VenueStats Stats => _stats;

    /// <summary>Completes when every replayed tick has been published and written to the sessions connected at the end.</summary>
    public Task ReplayCompleted => _replayCompleted.Task;

    public bool Started => Volatile.Read(ref _started) != 0;

    /// <summary>Symbols this venue serves (replayed and generated).</summary>
    public IReadOnlySet<string> Symbols => _symbols;

    public IEnumerable<StreamSession> Sessions => _sessions.Values;

    /// <summary>Starts the replay and the generator on the first subscription to a symbol they serve (or to <c>*</c>).</summary>
    public void StartIfWanted(IEnumerable<string> symbols)
    {
        if (Started || !symbols.Any(s => s == "*" || _symbols.Contains(s)))
        {
            return;
        }

        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            return;
        }

        var replay = _series.Count > 0 ? Task.Run(() => ReplayAsync(_stopping), CancellationToken.None) : Task.CompletedTask;
        var generate = _generator is not null ? Task.Run(() => GenerateAsync(_generator, _stopping), CancellationToken.None) : Task.CompletedTask;
        _running = Task.WhenAll(replay, generate);
    }

    /// <summary>
    /// Lockstep only: publishes the replay's next event (a tick or a finished bar). A tick is first applied to the trading
    /// account (orders fill and their updates go out on the trade stream), then <paramref name="afterTrading"/> runs, then
    /// the tick is delivered to the market data clients and written out. Null when the replay has ended or not started.
    /// </summary>
    public async Task<SandboxStep?> StepAsync(Func<SandboxStep, Task>? afterTrading, CancellationToken ct)
    {
        if (_steps is null)
        {
            throw new InvalidOperationException("the sandbox is not in lockstep (SandboxOptions.Lockstep)");
        }

        if (!Started || _replayDone)
        {
            return null;
        }

        var request = new StepRequest(afterTrading);
        await _steps.Writer.WriteAsync(request, ct).ConfigureAwait(false);
        using var registration = ct.Register(() => request.Done.TrySetCanceled(ct));
        return await request.Done.Task.ConfigureAwait(false);
    }

    /// <summary>Waits for the replay and generator loops to end (after the server stopped).</summary>
    public async Task StopAsync()
    {
        try
        {
            await _running.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _replayCompleted.TrySetCanceled(CancellationToken.None);
    }

    /// <summary>
    /// Adds a session and, atomically with respect to publishing, hands it the current price of each symbol it asks
    /// for (OANDA's snapshot), so no tick can slip between the snapshot and the live data.
    /// </summary>
    public void Register(StreamSession session, IReadOnlyCollection<string>? snapshotSymbols)
    {
        SandboxLog.ClientConnected(Logger, Venue, session.Id);
        lock (_gate)
        {
            _sessions[session.Id] = session;
            if (snapshotSymbols is null)
            {
                return;
            }

            foreach (var symbol in snapshotSymbols)
            {
                if (_last.TryGetValue(symbol, out var e))
                {
                    session.TryEnqueueData(e);
                }
            }
        }
    }

    public void Unregister(StreamSession session)
    {
        if (_sessions.TryRemove(session.Id, out _))
        {
            SandboxLog.ClientDisconnected(Logger, Venue, session.Id);
        }
    }

    /// <summary>Where clients connecting and going are logged.</summary>
    public Microsoft.Extensions.Logging.ILogger Logger { get; init; } = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    /// <summary>Adds symbols that only scripted prices (<see cref="InjectAsync"/>) move; call before serving.</summary>
    public void AddSymbols(IEnumerable<string> symbols)
    {
        foreach (var s in symbols)
        {
            _symbols.Add(s);
        }
    }

    /// <summary>Publishes a scripted tick now, to every subscriber, exactly as a replayed one.</summary>
    public ValueTask InjectAsync(MarketEvent e, CancellationToken ct) => PublishAsync(e, backpressure: false, ct);

    /// <summary>The latest tick of each symbol that has traded.</summary>
    public IReadOnlyList<MarketEvent> LastTicks(IEnumerable<string> symbols)
    {
        lock (_gate)
        {
            return [.. symbols.Where(_last.ContainsKey).Select(s => _last[s])];
        }
    }

    private async Task ReplayAsync(CancellationToken ct)
    {
        try
        {
            var cursor = new ReplayCursor(_series);
            bool asFastAsPossible = double.IsPositiveInfinity(_speed);
            long start = _time.GetTimestamp();
            long? first = null;
            long count = 0;
            while (true)
            {
                StepRequest? step = _steps is null ? null : await _steps.Reader.ReadAsync(ct).ConfigureAwait(false);
                if (!cursor.TryNext(out var e))
                {
                    _replayDone = true;
                    step?.Done.TrySetResult(null);
                    break;
                }

                ct.ThrowIfCancellationRequested();
                first ??= e.Time;
                if (step is not null)
                {
                    await StepAsync(e, step, ct).ConfigureAwait(false);
                    continue;
                }

                if (!asFastAsPossible)
                {
                    double due = (e.Time - first.Value) / 1e9 / _speed;
                    double wait = due - _time.GetElapsedTime(start).TotalSeconds;
                    if (wait > 0.001)
                    {
                        await Task.Delay(TimeSpan.FromSeconds(wait), _time, ct).ConfigureAwait(false);
                    }
                }
                else if (++count % 1024 == 0)
                {
                    await Task.Yield();
                }

                await PublishAsync(e, asFastAsPossible, ct).ConfigureAwait(false);
            }

            foreach (var session in _sessions.Values)
            {
                await session.FlushAsync().WaitAsync(ct).ConfigureAwait(false);
            }

            SandboxLog.ReplayCompleted(Logger, Venue);
            _replayCompleted.TrySetResult();
            while (_steps is not null && _steps.Reader.TryRead(out var late))
            {
                late.Done.TrySetResult(null);
            }
        }
        catch (OperationCanceledException)
        {
            _replayCompleted.TrySetCanceled(CancellationToken.None);
        }
        catch (Exception ex)
        {
            _replayCompleted.TrySetException(ex);
        }
    }

    private async Task GenerateAsync(SandboxGenerator generator, CancellationToken ct)
    {
        var walk = new RandomWalk(generator);
        long start = _time.GetTimestamp();
        long sent = 0;
        long lastTime = 0;
        double rate = generator.TicksPerSecond;
        var pause = TimeSpan.FromSeconds(Math.Max(0.001, 1 / rate));
        try
        {
            while (!ct.IsCancellationRequested)
            {
                long due = (long)(_time.GetElapsedTime(start).TotalSeconds * rate);
                if (due - sent > rate)
                {
                    // More than a second behind (the process was paused): skip rather than burst.
                    sent = due - (long)rate;
                }

                while (sent < due)
                {
                    sent++;
                    var (symbol, price, size) = walk.Next();
                    long now = Keel.Domain.Timestamp.FromDateTimeOffset(_time.GetUtcNow()).UnixNanos;
                    lastTime = Math.Max(lastTime + 1, now);
                    await PublishAsync(MarketEvent.FromTick(symbol, lastTime, price, size, walk.Decimals), backpressure: false, ct).ConfigureAwait(false);
                }

                if (generator.Paced)
                {
                    // Spin until the next tick is due (yielding the core to others between checks).
                    long next = sent + 1;
                    while (!ct.IsCancellationRequested && (long)(_time.GetElapsedTime(start).TotalSeconds * rate) < next)
                    {
                        Thread.Yield();
                    }
                }
                else
                {
                    await Task.Delay(pause, _time, ct).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task StepAsync(MarketEvent e, StepRequest request, CancellationToken ct)
    {
        try
        {
            long sent = _stats.MessagesSent;
            var step = new SandboxStep(Venue, e.Kind == MarketEventKind.Tick, e.Symbol, Keel.Domain.Timestamp.FromUnixNanos(e.Time), Keel.Domain.Price.FromRaw(e.Price), 0);
            await PublishAsync(e, backpressure: true, ct, request.AfterTrading is null ? null : () => request.AfterTrading(step)).ConfigureAwait(false);
            foreach (var session in _sessions.Values)
            {
                await session.FlushAsync().WaitAsync(ct).ConfigureAwait(false);
            }

            request.Done.TrySetResult(step with { Messages = _stats.MessagesSent - sent });
        }
        catch (Exception ex)
        {
            request.Done.TrySetException(ex);
            throw;
        }
    }

    private async ValueTask PublishAsync(MarketEvent e, bool backpressure, CancellationToken ct, Func<Task>? afterEncode = null)
    {
        if (e.Kind == MarketEventKind.Tick)
        {
            e.TradeId = Interlocked.Increment(ref _nextTradeId);
        }

        _encode(e);
        if (afterEncode is not null)
        {
            await afterEncode().ConfigureAwait(false);
        }

        StreamSession[] targets;
        lock (_gate)
        {
            if (e.Kind == MarketEventKind.Tick)
            {
                _last[e.Symbol] = e;
                _stats.Published();
            }

            targets = [.. _sessions.Values];
        }

        bool delivered = false;
        foreach (var session in targets)
        {
            if (session.Wants(e))
            {
                delivered = true;
                await session.DeliverAsync(e, backpressure, ct).ConfigureAwait(false);
            }
        }

        if (!delivered && e.Kind == MarketEventKind.Tick)
        {
            _stats.Lost();
        }
    }
}

internal sealed class StepRequest(Func<SandboxStep, Task>? afterTrading)
{
    public Func<SandboxStep, Task>? AfterTrading { get; } = afterTrading;

    public TaskCompletionSource<SandboxStep?> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
