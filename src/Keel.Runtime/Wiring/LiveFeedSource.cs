using System.Globalization;
using System.Threading.Channels;
using Keel.Domain;
using Keel.Engine.Data.Live;
using Keel.Engine.Kernel;
using Keel.Engine.Ports;
using Keel.Runtime.Sessions;
using Keel.Storage;
using Keel.Venues.Recording;

namespace Keel.Runtime.Wiring;

/// <summary>
/// The data source of paper on a live feed: the venue's stream recorded into candles (and into the store, when there
/// is one), whose completed candles drive the kernel. The simulated exchange fills on the live quotes (buy at the ask,
/// sell at the bid; OANDA prices, Alpaca quotes), each handed over after the candle it completed, so an order placed on
/// a candle fills on the first quote after it. Without quotes it fills on the candles as a backtest does. Candles that
/// only fill a gap (no ticks) are stored but not traded on. Cancelling stops the feed; the last candles are
/// force-completed and traded, then the run ends normally.
/// </summary>
internal sealed class LiveFeedSource : SessionFeed
{
    private readonly Channel<InboxItem> _items = Channel.CreateUnbounded<InboxItem>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly IMarketDataFeed _feed;
    private readonly Task _recording;
    private Exception? _failure;

    private LiveFeedSource(IMarketDataFeed feed, LiveRecorder recorder, IRunObserver observer, CancellationToken stop)
    {
        _feed = feed;
        Feeder = new CandleFeeder(_items.Reader);
        _recording = Task.Run(async () =>
        {
            try
            {
                var health = await recorder.RunAsync(stop).ConfigureAwait(false);
                observer.Note(health.Format());
            }
            catch (Exception ex)
            {
                _failure = ex;
            }
            finally
            {
                _items.Writer.TryComplete();
            }
        }, CancellationToken.None);
    }

    public override IDataFeeder Feeder { get; }

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
        Channel<InboxItem>? sink = null;
        var time = context.Services.Time;
        var observer = context.Observer;
        var recorder = new LiveRecorder(feed, context.Instruments.Select(i => i.Id.Symbol).ToList(), options, writer, time, observer.Note)
        {
            CandleCompleted = c =>
            {
                if (!c.IsGapFill && c.TickCount > 0)
                {
                    sink!.Writer.TryWrite(InboxItem.ForBar(c.Bar));
                }
            },
            TickAggregated = t =>
            {
                if (t.HasQuote)
                {
                    sink!.Writer.TryWrite(InboxItem.ForFillQuote(t));
                }
            },
            HealthReported = h => observer.Note($"{time.GetUtcNow().ToString("HH:mm:ss", CultureInfo.InvariantCulture)} {h.Format()}"),
        };
        observer.Note($"paper trading on the {spec.Venue} feed ({string.Join(',', context.Instruments.Select(i => i.Id.Symbol))}, {timeframe.Name} candles); Ctrl+C ends the run");
        var live = new LiveFeedSource(feed, recorder, observer, stop);
        sink = live._items;
        return live;
    }

    /// <summary>After the session: a feed that failed for good (bad credentials, circuit open) fails the run.</summary>
    public override void Finish()
    {
        _recording.GetAwaiter().GetResult();
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

    private sealed class CandleFeeder(ChannelReader<InboxItem> items) : IDataFeeder
    {
        public void Run(Inbox inbox, CancellationToken ct)
        {
            while (items.WaitToReadAsync(ct).AsTask().GetAwaiter().GetResult())
            {
                while (items.TryRead(out var item))
                {
                    inbox.Write(item, ct);
                }
            }

            inbox.Write(InboxItem.EndOfData, ct);
        }
    }

    private sealed class NoWriter : ICandleWriter
    {
        public int Write(Timeframe timeframe, IReadOnlyList<Candle> candles) => candles.Count;

        public void Gap(string symbol, Timeframe timeframe, Timestamp from, Timestamp to, string reason)
        {
        }
    }
}

/// <summary>Live candles and gaps into the candle store (<c>keel record</c> and paper on a live feed).</summary>
public sealed class StoreCandleWriter(KeelStore store, TimeProvider time) : ICandleWriter
{
    public int Write(Timeframe timeframe, IReadOnlyList<Candle> candles) => store.UpsertLiveCandles(timeframe.Name, candles);

    public void Gap(string symbol, Timeframe timeframe, Timestamp from, Timestamp to, string reason) =>
        store.RecordGap(new CandleGap(symbol, timeframe.Name, from, to, reason, Timestamp.FromDateTimeOffset(time.GetUtcNow())));
}
