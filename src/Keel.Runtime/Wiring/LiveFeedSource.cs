using System.Globalization;
using Keel.Domain;
using Keel.Engine.Data.Live;
using Keel.Engine.Kernel;
using Keel.Engine.Ports;
using Keel.Engine.Strategies;
using Keel.Runtime.Sessions;
using Keel.Storage;
using Keel.Venues.Recording;

namespace Keel.Runtime.Wiring;

/// <summary>
/// The data source of a run on a live feed: the live recorder (tick buffer and candle aggregator) runs its consumer on
/// the session's feeder thread and writes what the kernel needs straight into the kernel's bounded inbox; the candle
/// store is its other subscriber. A full inbox blocks only this thread (the feed keeps filling the drop-oldest tick
/// buffer meanwhile), never a thread-pool thread the kernel's own wake-ups need.
/// What the kernel gets depends on what the strategy trades on (<see cref="StrategyDescriptor.LiveData"/>):
/// <list type="bullet">
/// <item>every tick of the kinds the strategy trades on (ladder: price updates; floor: bid/ask), as an ordinary tick that
/// the simulated exchange matches on, the portfolio is marked on and the strategy sees;</item>
/// <item>every other quote, as an ordinary tick too: the kernel's <see cref="KernelOptions.StrategyTicks"/> (set from the
/// strategy by <see cref="PaperLiveWiring"/>) makes it market data for the venue only, so an order placed on a candle
/// fills on the first quote after it, at the ask for a buy and the bid for a sell (without quotes it fills on candles,
/// as in a backtest);</item>
/// <item>for a candle strategy, each completed candle that has ticks (gap fills are stored, not traded on).</item>
/// </list>
/// Cancelling stops the feed; the last candles are force-completed and traded, then the run ends normally.
/// </summary>
internal sealed class LiveFeedSource : SessionFeed, IDataFeeder
{
    private readonly IMarketDataFeed _feed;
    private readonly LiveRecorder _recorder;
    private readonly IRunObserver _observer;
    private readonly CancellationToken _stop;
    private readonly bool _stopEndsSession;
    private Inbox? _inbox;
    private CancellationToken _session;
    private CancellationTokenSource? _either;
    private Exception? _failure;

    private LiveFeedSource(IMarketDataFeed feed, Func<LiveFeedSource, LiveRecorder> recorder, IRunObserver observer, bool stopEndsSession, CancellationToken stop)
    {
        _feed = feed;
        _observer = observer;
        _stop = stop;
        _stopEndsSession = stopEndsSession;
        _recorder = recorder(this);
    }

    public override IDataFeeder Feeder => this;

    /// <summary>Paper: the user's stop ends the feed and the run completes. Live: it stops the session, which can be resumed.</summary>
    public override CancellationToken SessionToken => _stopEndsSession ? _stop : CancellationToken.None;

    /// <summary>
    /// Opens the feed. With <paramref name="stopEndsSession"/> (live trading) the user's stop stops the session part-way
    /// (snapshot, resumable) instead of ending the data.
    /// </summary>
    public static LiveFeedSource Start(FeedContext context, CancellationToken stop, bool stopEndsSession = false)
    {
        var spec = context.Spec;
        if (!Timeframe.TryParse(spec.Timeframe ?? "1m", out var timeframe))
        {
            throw new UsageException($"--timeframe '{spec.Timeframe}' is not a timeframe");
        }

        var open = context.Services.Feeds ?? throw new UsageException("this host cannot open live feeds");
        var feed = open(spec);
        var options = new RecorderOptions
        {
            Timeframe = timeframe,
            Source = spec.Venue == "oanda" ? CandleSource.Quotes : CandleSource.Trades,
        };
        ICandleWriter writer = context.Store is null ? new NoWriter() : new StoreCandleWriter(context.Store, context.Services.Time);
        var time = context.Services.Time;
        var observer = context.Observer;
        var wants = context.LiveData;
        bool bars = (wants & MarketDataKinds.Bars) != 0;
        bool trades = (wants & MarketDataKinds.Trades) != 0;
        var logs = context.Services.LoggerFactory;
        var symbols = context.Instruments.Select(i => i.Id.Symbol).ToList();
        var runId = context.RunId ?? "(not recorded)";
        var runtimeLog = logs.CreateLogger(RuntimeLog.Category);
        var symbolList = string.Join(',', symbols);
        RuntimeLog.LiveFeedOpened(runtimeLog, runId, spec.Venue!, symbolList);
        observer.Note(stopEndsSession
            ? $"trading live on {spec.Venue} ({string.Join(',', context.Instruments.Select(i => i.Id.Symbol))}; the strategy trades on {Describe(wants, timeframe)}); Ctrl+C stops the run, 'keel resume {runId}' continues it"
            : $"paper trading on the {spec.Venue} feed ({string.Join(',', context.Instruments.Select(i => i.Id.Symbol))}; the strategy trades on {Describe(wants, timeframe)}); Ctrl+C ends the run");
        return new LiveFeedSource(feed, self => new LiveRecorder(feed, symbols, options, writer, time, logs.CreateLogger("Keel.Venues.Recording"))
        {
            CandleCompleted = c =>
            {
                if (bars && !c.IsGapFill && c.TickCount > 0)
                {
                    self.Write(InboxItem.ForBar(c.Bar));
                }
            },
            TickAggregated = t =>
            {
                // Quotes always (the simulated exchange fills on them); trades when the strategy trades on them.
                if (t.HasQuote || (trades && t.HasTrade))
                {
                    self.Write(InboxItem.ForTick(t));
                }

                observer.FeedTick();
            },
            HealthReported = h => observer.Note($"{time.GetUtcNow().ToString("HH:mm:ss", CultureInfo.InvariantCulture)} {h.Format()}"),
            FeedStateChanged = observer.FeedHealth,
        }, observer, stopEndsSession, stop);
    }

    /// <summary>
    /// Runs on the session's feeder thread: records until the stream ends or the run is cancelled, writing what the
    /// kernel needs into its inbox from this thread, then ends the data.
    /// </summary>
    public void Run(Inbox inbox, CancellationToken ct)
    {
        // The user's stop ends the feed and the run completes; the session's own stop (it failed) ends the feed too.
        using var either = CancellationTokenSource.CreateLinkedTokenSource(_stop, ct);
        _inbox = inbox;
        _session = ct;
        _either = either;
        try
        {
            var health = _recorder.Run(either.Token);
            _observer.Note(health.Format());
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            _failure = ex;
        }

        inbox.Write(InboxItem.EndOfData, ct);
    }

    /// <summary>After the session: a feed that failed for good (bad credentials, circuit open) fails the run.</summary>
    public override void Finish()
    {
        if (_failure is not null)
        {
            throw _failure;
        }
    }

    public override void Dispose() => _feed.DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>On the recorder's consumer thread (the feeder thread): waits while the inbox is full.</summary>
    private void Write(InboxItem item)
    {
        if (_session.IsCancellationRequested)
        {
            return;
        }

        try
        {
            _inbox!.Write(item, _session);
        }
        catch (OperationCanceledException) when (_session.IsCancellationRequested)
        {
            // The session ended (its kernel failed): nobody reads the inbox any more; stop the recording too.
            _either?.Cancel();
        }
    }

    private static string Describe(MarketDataKinds wants, Timeframe timeframe)
    {
        var parts = new List<string>();
        if ((wants & MarketDataKinds.Bars) != 0)
        {
            parts.Add($"{timeframe.Name} candles");
        }

        if ((wants & MarketDataKinds.Trades) != 0)
        {
            parts.Add("every trade");
        }

        if ((wants & MarketDataKinds.Quotes) != 0)
        {
            parts.Add("every bid/ask quote");
        }

        return string.Join(" and ", parts);
    }

    private sealed class NoWriter : ICandleWriter
    {
        public int Write(Timeframe timeframe, IReadOnlyList<Candle> candles) => candles.Count;

        public void Gap(string symbol, Timeframe timeframe, Timestamp from, Timestamp to, string reason)
        {
        }
    }
}

/// <summary>Live candles and gaps into the candle store (<c>keel record</c> and runs on a live feed).</summary>
public sealed class StoreCandleWriter(KeelStore store, TimeProvider time) : ICandleWriter
{
    public int Write(Timeframe timeframe, IReadOnlyList<Candle> candles) => store.UpsertLiveCandles(timeframe.Name, candles);

    public void Gap(string symbol, Timeframe timeframe, Timestamp from, Timestamp to, string reason) =>
        store.RecordGap(new CandleGap(symbol, timeframe.Name, from, to, reason, Timestamp.FromDateTimeOffset(time.GetUtcNow())));
}
