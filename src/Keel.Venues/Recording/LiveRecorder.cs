using Keel.Domain;
using Keel.Engine.Data.Live;
using Keel.Engine.Ports;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Keel.Venues.Recording;

/// <summary>Where completed candles and lost intervals go (the store, in <c>keel record</c>).</summary>
public interface ICandleWriter
{
    /// <summary>Persists candles (one transaction); returns how many were written.</summary>
    int Write(Timeframe timeframe, IReadOnlyList<Candle> candles);

    void Gap(string symbol, Timeframe timeframe, Timestamp from, Timestamp to, string reason);
}

/// <summary>How <see cref="LiveRecorder"/> buffers, aggregates and persists.</summary>
public sealed record RecorderOptions
{
    public Timeframe Timeframe { get; init; } = Timeframe.M1;

    public CandleSource Source { get; init; } = CandleSource.Trades;

    public int BufferCapacity { get; init; } = 10_000;

    public TimeSpan TickTimeToLive { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Gaps of up to this many intervals are filled with flat candles (tick count 0).</summary>
    public int MaxGapFill { get; init; } = 2;

    /// <summary>A candle completes once the venue clock passes its end by this much, even without a later tick.</summary>
    public TimeSpan Grace { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Completed candles are written at least this often (and at shutdown).</summary>
    public TimeSpan FlushEvery { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How often the health line is reported (<c>keel record</c> prints it every 60 s).</summary>
    public TimeSpan HealthEvery { get; init; } = TimeSpan.FromSeconds(60);
}

/// <summary>A health report of a recording session.</summary>
public sealed record RecorderHealth(
    TimeSpan Uptime,
    FeedHealthSnapshot Feed,
    long CandlesGenerated,
    long CandlesPersisted,
    long Gaps,
    TickBufferStats Buffer,
    AggregatorStats Aggregator)
{
    public string Format() =>
        FormattableString.Invariant($"uptime {(int)Uptime.TotalHours:00}:{Uptime.Minutes:00}:{Uptime.Seconds:00}, {Feed.Venue} {Feed.State.ToString().ToLowerInvariant()}")
        + FormattableString.Invariant($", ticks {Feed.Ticks:N0}, candles generated {CandlesGenerated:N0}, persisted {CandlesPersisted:N0}")
        + FormattableString.Invariant($", buffer {Buffer.Utilization * 100:0.0}% (dropped {Buffer.Dropped:N0}, expired {Buffer.Evicted:N0})")
        + (Feed.Reconnects > 0 ? FormattableString.Invariant($", reconnects {Feed.Reconnects:N0}") : string.Empty)
        + (Feed.Malformed > 0 ? FormattableString.Invariant($", malformed {Feed.Malformed:N0}") : string.Empty)
        + (Gaps > 0 ? FormattableString.Invariant($", gaps {Gaps:N0}") : string.Empty);
}

/// <summary>
/// The live data source: feed → tick buffer → candle aggregator → subscribers. The feed pushes ticks from its own
/// thread into a bounded drop-oldest buffer; one consumer thread (its own, never the thread pool) drains it into the
/// aggregator, drives the aggregator's clock from the venue time of the latest tick, and hands every tick and completed
/// candle to the subscribers: the candle store (<see cref="ICandleWriter"/>, written in batches; <c>keel record</c> is
/// only this) and, in a run on a live feed, the kernel's inbox (<see cref="TickAggregated"/>, <see cref="CandleCompleted"/>). A disconnection is recorded as a gap from the last
/// tick before it to the first tick after it, per symbol; intervals too long to fill are recorded as gaps too. On stop
/// the feed is closed, the buffer drained, open candles force-completed and everything flushed.
/// </summary>
public sealed class LiveRecorder : ILiveDataSink, ICandleSink
{
    private readonly IMarketDataFeed _feed;
    private readonly IReadOnlyList<string> _symbols;
    private readonly RecorderOptions _options;
    private readonly ICandleWriter _writer;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly TickBuffer _buffer;
    private readonly CandleAggregator _aggregator;
    private readonly List<Candle> _pending = new(1024);
    private readonly Dictionary<string, long> _gapFrom = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (InstrumentId Instrument, Timestamp Time)> _feedLast = new(StringComparer.Ordinal);

    // A tick of no kind marks, per symbol, the newest venue time received before a disconnection.
    private const TickKind GapMarker = 0;
    private long _generated;
    private long _persisted;
    private long _gaps;
    private long _started;
    private long _lastVenueTime;
    private long _lastReceived;

    /// <param name="logger">Where gaps and the recording's start and end are logged; the feed logs its own connection.</param>
    public LiveRecorder(IMarketDataFeed feed, IReadOnlyList<string> symbols, RecorderOptions options, ICandleWriter writer, TimeProvider? time = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(feed);
        ArgumentNullException.ThrowIfNull(options);
        _feed = feed;
        _symbols = symbols;
        _options = options;
        _writer = writer;
        _time = time ?? TimeProvider.System;
        _log = logger ?? NullLogger.Instance;
        _buffer = new TickBuffer(options.BufferCapacity, options.TickTimeToLive);
        _aggregator = new CandleAggregator(options.Timeframe, options.Source, this, options.MaxGapFill, options.Grace);
    }

    /// <summary>Called on the consumer thread for every completed candle (gap fills included), before it is persisted.</summary>
    public Action<Candle>? CandleCompleted { get; init; }

    /// <summary>Called on the consumer thread with each health report.</summary>
    public Action<RecorderHealth>? HealthReported { get; init; }

    /// <summary>
    /// Called on the consumer thread when the feed's state changes (connected, reconnecting, stale, given up), seen
    /// within one idle wait of the change (at most 250 ms); the health report says the same only every <c>HealthEvery</c>.
    /// </summary>
    public Action<FeedHealthSnapshot>? FeedStateChanged { get; init; }

    /// <summary>Each tick after the aggregator has taken it (so a candle it completed was reported first); consumer thread.</summary>
    public Action<Tick>? TickAggregated { get; init; }

    public RecorderHealth Health => new(
        _started == 0 ? TimeSpan.Zero : _time.GetElapsedTime(_started),
        _feed.Health,
        Interlocked.Read(ref _generated),
        Interlocked.Read(ref _persisted),
        Interlocked.Read(ref _gaps),
        _buffer.Stats,
        _aggregator.Stats);

    /// <summary>
    /// Records until <paramref name="stop"/> is cancelled (a graceful stop) or the feed fails for good (its
    /// <see cref="FeedFailedException"/> is rethrown after everything received has been flushed). The consumer runs on a
    /// thread of its own, which the callbacks (<see cref="CandleCompleted"/>, <see cref="TickAggregated"/>) may block.
    /// </summary>
    public Task<RecorderHealth> RunAsync(CancellationToken stop)
    {
        var done = new TaskCompletionSource<RecorderHealth>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                done.TrySetResult(Run(stop));
            }
            catch (Exception ex)
            {
                done.TrySetException(ex);
            }
        })
        {
            IsBackground = true,
            Name = "keel-live-data",
        };
        thread.Start();
        return done.Task;
    }

    /// <summary>
    /// <see cref="RunAsync"/> on the calling thread, which becomes the consumer: it drains the tick buffer into the
    /// aggregator and calls the subscribers, and may block in them (a run's kernel inbox that is full) without holding up
    /// the feed, whose ticks wait in the bounded buffer meanwhile. Call it from a dedicated thread, not the thread pool.
    /// </summary>
    public RecorderHealth Run(CancellationToken stop)
    {
        _started = _time.GetTimestamp();
        var symbols = string.Join(',', _symbols);
        VenueLog.RecorderStarted(_log, symbols, _options.Timeframe.Name);
        using var feedCts = new CancellationTokenSource();
        var feedTask = Task.Run(() => _feed.RunAsync(_symbols, this, feedCts.Token), CancellationToken.None);
        _ = feedTask.ContinueWith(_ => _buffer.Wake(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        Exception? failure = null;
        using (stop.Register(_buffer.Wake))
        {
            try
            {
                Consume(() => stop.IsCancellationRequested || feedTask.IsCompleted, () =>
            {
                // Stop the feed, then let the consumer drain what it delivered before it stopped.
                feedCts.Cancel();
                try
                {
                    feedTask.GetAwaiter().GetResult();
                }
                catch (FeedFailedException ex)
                {
                    failure = ex;
                }

                _buffer.Complete();
            });
            }
            finally
            {
                // A subscriber failed (the store went away): the feed must not outlive the consumer.
                if (!feedTask.IsCompleted)
                {
                    feedCts.Cancel();
                    _ = feedTask.ContinueWith(t => t.Exception, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                }
            }
        }

        var health = Health;
        VenueLog.RecorderStopped(_log, health.CandlesGenerated, health.CandlesPersisted, health.Gaps);
        if (failure is not null)
        {
            throw failure;
        }

        return health;
    }

    void ILiveDataSink.OnTick(in Tick tick)
    {
        // Feed thread: remember each symbol's newest venue time, for the gap marker a disconnection puts in the stream.
        ref var last = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_feedLast, tick.Instrument.Symbol, out bool existed);
        if (!existed || tick.Time > last.Time)
        {
            last = (tick.Instrument, tick.Time);
        }

        _buffer.Write(tick);
    }

    void ILiveDataSink.OnBar(in Bar bar)
    {
        // Candles are built from ticks; venue bars are not mixed in.
    }

    void ILiveDataSink.OnFeedEvent(FeedEvent feedEvent)
    {
        if (feedEvent.Kind == FeedEventKind.Disconnected)
        {
            // Feed thread, after its last tick of the connection: a marker per symbol, in order with the ticks, so the
            // consumer knows exactly which ticks came before the drop and which after.
            var now = Now();
            foreach (var (instrument, time) in _feedLast.Values)
            {
                _buffer.Write(new Tick(instrument, time, GapMarker, default, default, default, default, default, default, null, now));
            }
        }
    }

    void ICandleSink.OnCandle(in Candle candle)
    {
        _generated++;
        if (candle.IsGapFill && _log.IsEnabled(LogLevel.Debug))
        {
            VenueLog.GapFilled(_log, candle.Bar.Instrument.Symbol, _options.Timeframe.Name, candle.Bar.Time);
        }

        _pending.Add(candle);
        CandleCompleted?.Invoke(candle);
    }

    void ICandleSink.OnGap(InstrumentId instrument, Timestamp from, Timestamp to) =>
        RecordGap(instrument.Symbol, from, to, disconnected: false, $"no ticks for {(to.UnixNanos - from.UnixNanos) / _options.Timeframe.Nanos} intervals (more than {_options.MaxGapFill} are not filled)");

    private void Consume(Func<bool> ending, Action end)
    {
        long lastFlush = _time.GetTimestamp();
        long lastClock = lastFlush;
        long lastHealth = lastFlush;
        var state = FeedState.Disconnected;
        bool ended = false;
        var step = TimeSpan.FromMilliseconds(Math.Clamp(_options.Grace.TotalMilliseconds / 2, 10, 250));
        while (true)
        {
            var now = Now();
            while (_buffer.TryRead(now, out var tick))
            {
                OnTick(tick);
            }

            if (_time.GetElapsedTime(lastClock) >= step)
            {
                lastClock = _time.GetTimestamp();
                AdvanceClock();
            }

            if (_pending.Count >= 512 || (_pending.Count > 0 && _time.GetElapsedTime(lastFlush) >= _options.FlushEvery))
            {
                Flush();
                lastFlush = _time.GetTimestamp();
            }

            if (FeedStateChanged is not null && _feed.State != state)
            {
                var feed = _feed.Health;
                state = feed.State;
                FeedStateChanged(feed);
            }

            if (_time.GetElapsedTime(lastHealth) >= _options.HealthEvery)
            {
                lastHealth = _time.GetTimestamp();
                var health = Health;
                HealthReported?.Invoke(health);
            }

            if (!ended && ending())
            {
                // Once: the feed is stopped and the buffer completed; the loop drains the rest and leaves.
                ended = true;
                end();
                continue;
            }

            // Idle waits are short so the clock, flushes and health reports go on without ticks.
            if (!_buffer.WaitToRead(step))
            {
                break;
            }
        }

        // Shutdown: the feed has stopped and the buffer is complete and drained.
        _aggregator.CompleteAll();
        foreach (var (symbol, from) in _gapFrom)
        {
            RecordGap(symbol, Timestamp.FromUnixNanos(from), Timestamp.FromUnixNanos(Math.Max(from, _lastVenueTime)), disconnected: true, "disconnected until the recording stopped");
        }

        _gapFrom.Clear();
        Flush();
    }

    private void OnTick(in Tick tick)
    {
        var symbol = tick.Instrument.Symbol;
        if (tick.Kind == GapMarker)
        {
            _gapFrom.TryAdd(symbol, tick.Time.UnixNanos);
            return;
        }

        if (_gapFrom.Count > 0 && tick.Time.UnixNanos > _gapFrom.GetValueOrDefault(symbol, long.MaxValue) && _gapFrom.Remove(symbol, out long from))
        {
            RecordGap(symbol, Timestamp.FromUnixNanos(from), tick.Time, disconnected: true, "disconnected: ticks sent while the feed was down are missing");
        }

        if (tick.Time.UnixNanos > _lastVenueTime)
        {
            _lastVenueTime = tick.Time.UnixNanos;
            _lastReceived = tick.ReceivedAt.UnixNanos;
        }

        _aggregator.OnTick(tick);
        TickAggregated?.Invoke(tick);
    }

    // The venue clock: the latest venue time plus the wall time since it arrived.
    private void AdvanceClock()
    {
        if (_lastVenueTime == 0)
        {
            return;
        }

        long since = Now().UnixNanos - _lastReceived;
        _aggregator.OnClock(Timestamp.FromUnixNanos(_lastVenueTime + Math.Max(0, since)));
    }

    private void RecordGap(string symbol, Timestamp from, Timestamp to, bool disconnected, string reason)
    {
        Interlocked.Increment(ref _gaps);
        if (disconnected)
        {
            VenueLog.GapDisconnected(_log, symbol, from, to, reason);
        }
        else
        {
            VenueLog.GapNoTicks(_log, symbol, from, to, reason);
        }

        _writer.Gap(symbol, _options.Timeframe, from, to, reason);
    }

    private void Flush()
    {
        if (_pending.Count == 0)
        {
            return;
        }

        int written = _writer.Write(_options.Timeframe, _pending);
        Interlocked.Add(ref _persisted, written);
        _pending.Clear();
    }

    private Timestamp Now() => Timestamp.FromUnixNanos((_time.GetUtcNow().UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100);
}
