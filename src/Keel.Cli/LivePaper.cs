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
/// completed candles drive the same kernel and simulated exchange as a backtest, so the same candles give the same
/// orders. Candles that only fill a gap (no ticks) are stored but not traded on. Ctrl+C stops the feed; the last
/// candles are force-completed and traded, then the run ends normally.
/// </summary>
internal sealed class LivePaper : IDisposable
{
    private readonly Channel<Bar> _candles = Channel.CreateUnbounded<Bar>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly IMarketDataFeed _feed;
    private readonly Task _recording;
    private Exception? _failure;

    private LivePaper(IMarketDataFeed feed, LiveRecorder recorder, CancellationToken stop)
    {
        _feed = feed;
        Feeder = new CandleFeeder(_candles.Reader);
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
                _candles.Writer.TryComplete();
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

        var feed = RecordCommand.Feed(spec.Venue!, config, spec.VenueUrl);
        var options = new RecorderOptions
        {
            Timeframe = timeframe,
            Source = spec.Venue == "oanda" ? CandleSource.Quotes : CandleSource.Trades,
        };
        ICandleWriter writer = store is null ? new NoWriter() : new RecordCommand.StoreCandleWriter(store);
        Channel<Bar>? sink = null;
        var recorder = new LiveRecorder(feed, instruments.Select(i => i.Id.Symbol).ToList(), options, writer, TimeProvider.System, line => Console.Error.WriteLine($"keel: {line}"))
        {
            CandleCompleted = c =>
            {
                if (!c.IsGapFill && c.TickCount > 0)
                {
                    sink!.Writer.TryWrite(c.Bar);
                }
            },
            HealthReported = h => Console.Error.WriteLine($"keel: {DateTime.UtcNow.ToString("HH:mm:ss", CultureInfo.InvariantCulture)} {h.Format()}"),
        };
        Console.Error.WriteLine($"keel: paper trading on the {spec.Venue} feed ({string.Join(',', instruments.Select(i => i.Id.Symbol))}, {timeframe.Name} candles); Ctrl+C ends the run");
        var live = new LivePaper(feed, recorder, stop);
        sink = live._candles;
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
        _candles.Writer.TryComplete();
        _feed.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    private sealed class CandleFeeder(ChannelReader<Bar> candles) : IDataFeeder
    {
        public void Run(Inbox inbox, CancellationToken ct)
        {
            while (candles.WaitToReadAsync(ct).AsTask().GetAwaiter().GetResult())
            {
                while (candles.TryRead(out var bar))
                {
                    inbox.Write(InboxItem.ForBar(bar), ct);
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
