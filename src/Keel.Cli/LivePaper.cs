using System.Globalization;
using System.Threading.Channels;
using Keel.Domain;
using Keel.Engine.Backtest;
using Keel.Engine.Data.Live;
using Keel.Engine.Kernel;
using Keel.Engine.Ports;
using Keel.Storage;
using Keel.Venues.Recording;

namespace Keel.Cli;

/// <summary>
/// <c>keel paper --venue …</c>: a live feed recorded into candles (and into the store, when there is one), whose
/// completed candles drive the same kernel and strategy as a backtest. The simulated exchange fills on the live quotes
/// (buy at the ask, sell at the bid; OANDA prices, Alpaca quotes), each handed over after the candle it completed, so an
/// order placed on a candle fills on the first quote after it. Without quotes it fills on the candles as a backtest does.
/// Candles that only fill a gap (no ticks) are stored but not traded on. Ctrl+C stops the feed; the last candles are
/// force-completed and traded, then the run ends normally.
/// </summary>
internal sealed class LivePaper : IDisposable
{
    private readonly Channel<InboxItem> _items = Channel.CreateUnbounded<InboxItem>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly IMarketDataFeed _feed;
    private readonly Task _recording;
    private Exception? _failure;

    private LivePaper(IMarketDataFeed feed, LiveRecorder recorder, CancellationToken stop)
    {
        _feed = feed;
        Feeder = new CandleFeeder(_items.Reader);
        _recording = Task.Run(async () =>
        {
            try
            {
                var health = await recorder.RunAsync(stop).ConfigureAwait(false);
                Console.Error.WriteLine($"keel: {health.Format()}");
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

    public IDataFeeder Feeder { get; }

    public static LivePaper Start(RunSpec spec, IReadOnlyList<Instrument> instruments, KeelStore? store, CancellationToken stop)
    {
        var config = CliConfig.Load(spec.ConfigPath);
        if (!Timeframe.TryParse(spec.Timeframe, out var timeframe))
        {
            throw new UsageException($"--timeframe '{spec.Timeframe}' is not a timeframe");
        }

        var feed = RecordCommand.Feed(spec.Venue!, config, spec.VenueUrl, alpacaQuotes: true);
        var options = new RecorderOptions
        {
            Timeframe = timeframe,
            Source = spec.Venue == "oanda" ? CandleSource.Quotes : CandleSource.Trades,
        };
        ICandleWriter writer = store is null ? new NoWriter() : new RecordCommand.StoreCandleWriter(store);
        Channel<InboxItem>? sink = null;
        var recorder = new LiveRecorder(feed, instruments.Select(i => i.Id.Symbol).ToList(), options, writer, TimeProvider.System, line => Console.Error.WriteLine($"keel: {line}"))
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
            HealthReported = h => Console.Error.WriteLine($"keel: {DateTime.UtcNow.ToString("HH:mm:ss", CultureInfo.InvariantCulture)} {h.Format()}"),
        };
        Console.Error.WriteLine($"keel: paper trading on the {spec.Venue} feed ({string.Join(',', instruments.Select(i => i.Id.Symbol))}, {timeframe.Name} candles); Ctrl+C ends the run");
        var live = new LivePaper(feed, recorder, stop);
        sink = live._items;
        return live;
    }

    /// <summary>After the session: a feed that failed for good (bad credentials, circuit open) fails the run.</summary>
    public void Finish()
    {
        _recording.GetAwaiter().GetResult();
        if (_failure is not null)
        {
            throw _failure;
        }
    }

    public void Dispose()
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
