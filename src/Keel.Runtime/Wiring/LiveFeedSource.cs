using System.Globalization;
using System.Threading.Channels;
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
/// The data source of a run on a live feed. The venue's stream fills the tick buffer; the recorder's consumer drains it
/// into the candle aggregator (completed candles are upserted into the store, when there is one) and hands what the
/// kernel needs to the session's feeder thread, which writes it into the kernel's bounded inbox.
/// Why a hand-over queue between them (unbounded, so the consumer never waits): the consumer runs on the thread pool,
/// and blocking it on a full inbox starves the pool on a small machine — the kernel's own wake-ups run there — so ticks
/// pile up in the tick buffer and its oldest are dropped (seen with the sandbox replaying at full speed on 2 cores).
/// What the kernel gets depends on what the strategy trades on (<see cref="StrategyDescriptor.LiveData"/>):
/// <list type="bullet">
/// <item>a tick strategy (ladder on price updates, floor on bid/ask) gets every tick of its kinds as an ordinary tick:
/// the simulated exchange matches on it, the portfolio is marked on it, the strategy sees it;</item>
/// <item>a candle strategy gets each completed candle that has ticks (gap fills are stored, not traded on); the quotes go
/// to the simulated exchange only, each after the candle it completed, so an order placed on a candle fills on the
/// first quote after it, at the ask for a buy and the bid for a sell (without quotes it fills on candles, as in a
/// backtest).</item>
/// </list>
/// Cancelling stops the feed; the last candles are force-completed and traded, then the run ends normally.
/// </summary>
internal sealed class LiveFeedSource : SessionFeed, IDataFeeder
{
    private readonly IMarketDataFeed _feed;
    private readonly LiveRecorder _recorder;
    private readonly IRunObserver _observer;
    private readonly CancellationToken _stop;
    private readonly Channel<InboxItem> _items = Channel.CreateUnbounded<InboxItem>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private Exception? _failure;

    private LiveFeedSource(IMarketDataFeed feed, Func<LiveFeedSource, LiveRecorder> recorder, IRunObserver observer, CancellationToken stop)
    {
        _feed = feed;
        _observer = observer;
        _stop = stop;
        _recorder = recorder(this);
    }

    public override IDataFeeder Feeder => this;

    public override CancellationToken SessionToken => CancellationToken.None;

    public static LiveFeedSource Start(FeedContext context, CancellationToken stop)
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
        bool quotes = (wants & MarketDataKinds.Quotes) != 0;
        var logs = context.Services.LoggerFactory;
        var symbols = context.Instruments.Select(i => i.Id.Symbol).ToList();
        var runId = context.RunId ?? "(not recorded)";
        var runtimeLog = logs.CreateLogger(RuntimeLog.Category);
        var symbolList = string.Join(',', symbols);
        RuntimeLog.LiveFeedOpened(runtimeLog, runId, spec.Venue!, symbolList);
        observer.Note($"paper trading on the {spec.Venue} feed ({string.Join(',', context.Instruments.Select(i => i.Id.Symbol))}; the strategy trades on {Describe(wants, timeframe)}); Ctrl+C ends the run");
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
                if ((trades && t.HasTrade) || (quotes && t.HasQuote))
                {
                    self.Write(InboxItem.ForTick(t));
                }
                else if (t.HasQuote)
                {
                    self.Write(InboxItem.ForFillQuote(t));
                }
            },
            HealthReported = h => observer.Note($"{time.GetUtcNow().ToString("HH:mm:ss", CultureInfo.InvariantCulture)} {h.Format()}"),
        }, observer, stop);
    }

    /// <summary>
    /// Runs on the session's feeder thread: records until the stream ends or the run is cancelled, forwarding what the
    /// kernel needs into its inbox, then ends the data.
    /// </summary>
    public void Run(Inbox inbox, CancellationToken ct)
    {
        // The user's stop ends the feed and the run completes; the session's own stop (it failed) ends the feed too.
        using var either = CancellationTokenSource.CreateLinkedTokenSource(_stop, ct);
        var recording = Task.Run(
            async () =>
            {
                try
                {
                    var health = await _recorder.RunAsync(either.Token).ConfigureAwait(false);
                    _observer.Note(health.Format());
                }
                catch (Exception ex)
                {
                    _failure = ex;
                }
                finally
                {
                    _items.Writer.TryComplete();
                }
            },
            CancellationToken.None);
        try
        {
            var reader = _items.Reader;
            while (reader.WaitToReadAsync(ct).AsTask().GetAwaiter().GetResult())
            {
                while (reader.TryRead(out var item))
                {
                    inbox.Write(item, ct);
                }
            }

            inbox.Write(InboxItem.EndOfData, ct);
        }
        finally
        {
            either.Cancel();
            recording.GetAwaiter().GetResult();
        }
    }

    /// <summary>After the session: a feed that failed for good (bad credentials, circuit open) fails the run.</summary>
    public override void Finish()
    {
        if (_failure is not null)
        {
            throw _failure;
        }
    }

    public override void Dispose()
    {
        _items.Writer.TryComplete();
        _feed.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    /// <summary>On the recorder's consumer thread: never waits.</summary>
    private void Write(InboxItem item) => _items.Writer.TryWrite(item);

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
