using System.Globalization;
using Keel.Data;
using Keel.Domain;
using Keel.Engine.Clock;
using Keel.Engine.Data;
using Keel.Engine.Kernel;
using Keel.Engine.Strategies;
using Keel.Runtime.Sessions;
using Keel.Storage;

namespace Keel.Runtime.Wiring;

/// <summary>What a wiring needs to open a run's data source.</summary>
public sealed record FeedContext(
    RunSpec Spec,
    IReadOnlyList<Instrument> Instruments,
    KeelStore? Store,
    RunServices Services,
    IRunObserver Observer,
    Action<long, long> Progress,
    long SkipDataEvents,
    Engine.Strategies.MarketDataKinds LiveData = Engine.Strategies.MarketDataKinds.Bars,
    string? RunId = null);

/// <summary>A run's open data source: the feeder the session reads, and what to do when the session ends.</summary>
public abstract class SessionFeed : IDisposable
{
    public abstract IDataFeeder Feeder { get; }

    /// <summary>The token the session itself stops on (a live feed ends on Ctrl+C instead, and the run completes).</summary>
    public abstract CancellationToken SessionToken { get; }

    /// <summary>After the session: rethrows a failure of the source (a feed that failed for good).</summary>
    public virtual void Finish()
    {
    }

    public abstract void Dispose();
}

/// <summary>
/// A run mode as a wiring of the same kernel: which data source feeds it, which clock it reads, which venue takes its
/// orders, whether it can be resumed. <see cref="For"/> is the one place a mode is looked at.
/// </summary>
public abstract class RunWiring
{
    public static RunWiring For(RunMode mode) => mode switch
    {
        RunMode.Backtest => BacktestWiring.Instance,
        RunMode.PaperReplay => PaperReplayWiring.Instance,
        RunMode.PaperLive => PaperLiveWiring.Instance,
        RunMode.Live => LiveWiring.Instance,
        _ => throw new UsageException($"run mode {(int)mode} is not one this Keel knows"),
    };

    /// <summary>A stopped run of this mode can continue from its snapshot (its data can be read again).</summary>
    public abstract bool Resumable { get; }

    /// <summary>Hosts show a progress bar (the source has a known length).</summary>
    public abstract bool HasProgress { get; }

    public virtual VenueWiring Venue => VenueWirings.Simulated;

    /// <summary>The venue of one run (a live wiring opens its broker connection here); by default <see cref="Venue"/>.</summary>
    public virtual VenueWiring CreateVenue(FeedContext context) => Venue;

    /// <summary>
    /// The prefix of the run's client order ids. A venue account outlives runs, so a live run's ids carry the run id
    /// (<c>K&lt;run&gt;-1</c>, <c>K&lt;run&gt;-2</c>, …): unique at the venue, and the same again after a restart.
    /// </summary>
    public virtual string OrderIdPrefix(string? runId) => "O-";

    /// <summary>Whether the run sends alerts (paper and live runs; a backtest's thousands of fills would only be noise).</summary>
    public virtual bool SendsAlerts => false;

    /// <summary>Whether the run journals every input its kernel consumes (live trading: for replay and audit).</summary>
    public virtual bool JournalsInputs => false;

    /// <summary>Whether the run snapshots after every item that changed an order (live trading: a restart knows every order it sent).</summary>
    public virtual bool SnapshotsOnOrderChange => false;

    /// <summary>
    /// The ticks that drive a strategy which declares <paramref name="liveData"/> (<see cref="KernelOptions.StrategyTicks"/>)
    /// in a run of <paramref name="spec"/>: by default every tick the data holds (a backtest on tick data); other ticks
    /// are for the venue only.
    /// </summary>
    public virtual MarketDataKinds StrategyTicks(RunSpec spec, MarketDataKinds liveData) => MarketDataKinds.Trades | MarketDataKinds.Quotes;

    public abstract IClock CreateClock(TimeProvider time);

    public abstract SessionFeed OpenFeed(FeedContext context, CancellationToken ct);

    /// <summary>The error for a run that saw no data at all.</summary>
    public virtual Exception NoData(RunSpec spec)
    {
        var window = spec.From is not null || spec.To is not null ? " between --from and --to" : string.Empty;
        return new DataFormatException(string.Join(",", spec.DataFiles), 0, 0, null, $"has no bars{window}; nothing to {(spec.Mode == RunMode.Backtest ? "backtest" : "replay")}");
    }

    /// <summary>The bars of a file or store run, merged in time order, windowed, skipping what a snapshot already processed.</summary>
    protected static IBarReader OpenBars(FeedContext context, List<CsvBarReader> files, bool skip = true)
    {
        var reader = OpenBars(context.Spec, context.Instruments, context.Store, files);
        return skip && context.SkipDataEvents > 0 ? new SkippingBarReader(reader, context.SkipDataEvents) : reader;
    }

    /// <summary>
    /// The bars of a file or store run's sources, merged in time order and windowed by its --from and --to; the CSV
    /// readers among them are added to <paramref name="files"/> (to report the rows they skipped, see <see cref="Skipped"/>).
    /// </summary>
    public static IBarReader OpenBars(RunSpec spec, IReadOnlyList<Instrument> instruments, KeelStore? store, List<CsvBarReader>? files = null)
    {
        var readers = new List<IBarReader>();
        try
        {
            for (int i = 0; i < spec.DataFiles.Count; i++)
            {
                var source = spec.DataFiles[i];
                if (RunSpec.IsStoreSource(source))
                {
                    var (symbol, timeframe) = RunSpec.ParseStoreSource(source);
                    readers.Add(store!.ReadCandles(instruments[i].Id, symbol, timeframe, spec.From, spec.To));
                }
                else
                {
                    var file = CsvBarReader.Open(source, instruments[i].Id, spec.Strict);
                    readers.Add(file);
                    files?.Add(file);
                }
            }
        }
        catch
        {
            readers.ForEach(r => r.Dispose());
            throw;
        }

        return new TimeWindowBarReader(new MergedBarReader(readers), spec.From, spec.To);
    }

    /// <summary>A warning per file that had rows skipped (Yahoo's missing days), for <see cref="IRunObserver.Warning"/>.</summary>
    public static void Skipped(IEnumerable<CsvBarReader> files, Action<string> warn)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(warn);
        foreach (var file in files)
        {
            if (file.SkippedSummary is string summary)
            {
                warn(summary + "; --strict refuses such a file instead");
            }
        }
    }

    /// <summary>A feeder over a bar reader, which it disposes; at the end it warns of rows its files skipped.</summary>
    protected sealed class ReaderFeed(IBarReader reader, IDataFeeder feeder, List<CsvBarReader> files, IRunObserver observer, CancellationToken ct) : SessionFeed
    {
        public override IDataFeeder Feeder => feeder;

        public override CancellationToken SessionToken => ct;

        public override void Finish() => Skipped(files, observer.Warning);

        public override void Dispose() => reader.Dispose();
    }
}

/// <summary>Backtest: historical bars in pooled blocks as fast as the kernel takes them, on a simulated clock.</summary>
public sealed class BacktestWiring : RunWiring
{
    public static BacktestWiring Instance { get; } = new();

    public override bool Resumable => true;

    public override bool HasProgress => true;

    public override IClock CreateClock(TimeProvider time) => new SimulatedClock();

    /// <summary>Bars as ticks (<see cref="RunSpec.BarTicks"/>) are a live feed's trades: only a strategy that trades on them is driven by them.</summary>
    public override MarketDataKinds StrategyTicks(RunSpec spec, MarketDataKinds liveData) =>
        spec.BarTicks ? liveData & (MarketDataKinds.Trades | MarketDataKinds.Quotes) : base.StrategyTicks(spec, liveData);

    public override SessionFeed OpenFeed(FeedContext context, CancellationToken ct)
    {
        if (context.Spec.BarTicks)
        {
            // Several inputs per bar: the feeder skips what a snapshot already processed, input by input.
            var files = new List<CsvBarReader>();
            var all = OpenBars(context, files, skip: false);
            return new ReaderFeed(all, new BarTickFeeder(all, context.LiveData, context.SkipDataEvents, context.Progress), files, context.Observer, ct);
        }

        var bars = new List<CsvBarReader>();
        var reader = OpenBars(context, bars);
        return new ReaderFeed(reader, new HistoricalFeeder(reader, context.Progress), bars, context.Observer, ct);
    }
}

/// <summary>Paper on a replayed file: bars one at a time from another thread at wall-clock pace × speed, on the wall clock.</summary>
public sealed class PaperReplayWiring : RunWiring
{
    public static PaperReplayWiring Instance { get; } = new();

    public override bool Resumable => true;

    public override bool SendsAlerts => true;

    public override bool HasProgress => true;

    public override IClock CreateClock(TimeProvider time) => new WallClock(time);

    public override SessionFeed OpenFeed(FeedContext context, CancellationToken ct)
    {
        if (context.SkipDataEvents == 0 && !RunSpec.IsStoreSource(context.Spec.DataFiles[0]))
        {
            WarnIfSlow(context);
        }

        var files = new List<CsvBarReader>();
        var reader = OpenBars(context, files);
        return new ReaderFeed(reader, new PacedReplayFeeder(reader, context.Spec.Speed, context.Services.Time, context.Progress), files, context.Observer, ct);
    }

    /// <summary>Paper replays pace bars at wall-clock × speed; say so when that means minutes between bars.</summary>
    private static void WarnIfSlow(FeedContext context)
    {
        var spec = context.Spec;
        if (!double.IsFinite(spec.Speed))
        {
            return;
        }

        using var peek = CsvBarReader.Open(spec.DataFiles[0], context.Instruments[0].Id, spec.Strict);
        if (peek.TryRead(out var first) && peek.TryRead(out var second))
        {
            double seconds = (second.Time.UnixNanos - first.Time.UnixNanos) / 1e9 / spec.Speed;
            if (seconds >= 5)
            {
                context.Observer.Note(
                    $"bars are {Human(seconds * spec.Speed)} apart, so at --speed {spec.Speed.ToString(CultureInfo.InvariantCulture)} each arrives {Human(seconds)} after the last; use a larger --speed or --speed max");
            }
        }
    }

    private static string Human(double seconds) => seconds switch
    {
        >= 86_400 => Plural(seconds / 86_400, "day"),
        >= 3_600 => Plural(seconds / 3_600, "hour"),
        >= 60 => Plural(seconds / 60, "minute"),
        _ => Plural(seconds, "second"),
    };

    private static string Plural(double n, string unit)
    {
        var text = n.ToString("0.#", CultureInfo.InvariantCulture);
        return $"{text} {unit}{(text == "1" ? string.Empty : "s")}";
    }
}

/// <summary>
/// Paper on a live feed: a venue's stream, aggregated into candles (recorded in the store when there is one), drives
/// the strategy on the wall clock; the simulated exchange fills on the live quotes. Cancelling ends the stream and the
/// run completes with what it saw; it cannot be resumed (the feed has moved on).
/// </summary>
public sealed class PaperLiveWiring : RunWiring
{
    public static PaperLiveWiring Instance { get; } = new();

    public override bool Resumable => false;

    public override bool SendsAlerts => true;

    public override bool HasProgress => false;

    public override IClock CreateClock(TimeProvider time) => new WallClock(time);

    /// <summary>A live feed carries trades and quotes whatever the strategy wants: only its own kinds drive it.</summary>
    public override MarketDataKinds StrategyTicks(RunSpec spec, MarketDataKinds liveData) => liveData & (MarketDataKinds.Trades | MarketDataKinds.Quotes);

    public override SessionFeed OpenFeed(FeedContext context, CancellationToken ct) => LiveFeedSource.Start(context, ct);

    public override Exception NoData(RunSpec spec) =>
        new DataFormatException(spec.Venue ?? "the feed", 0, 0, null, "sent no complete candle before the run ended; nothing to report");
}

/// <summary>
/// Live trading: a venue's live market data drives the strategy (as in paper on a live feed) and its orders go to the
/// venue through a <see cref="Live.LiveExecutionClient"/> — journaled before they are sent, reconciled at start,
/// periodically and after a lost answer. A stop (Ctrl+C, SIGTERM) stops the session part-way; <c>keel resume</c>
/// continues it from its snapshot after reconciling.
/// </summary>
public sealed class LiveWiring : RunWiring
{
    public static LiveWiring Instance { get; } = new();

    public override bool Resumable => true;

    public override bool SendsAlerts => true;

    public override bool HasProgress => false;

    public override IClock CreateClock(TimeProvider time) => new WallClock(time);

    public override MarketDataKinds StrategyTicks(RunSpec spec, MarketDataKinds liveData) => liveData & (MarketDataKinds.Trades | MarketDataKinds.Quotes);

    public override bool JournalsInputs => true;

    public override bool SnapshotsOnOrderChange => true;

    public override string OrderIdPrefix(string? runId) => $"K{runId ?? throw new UsageException("live runs are always recorded; --db none cannot be used")}-";

    public override SessionFeed OpenFeed(FeedContext context, CancellationToken ct) => LiveFeedSource.Start(context, ct, stopEndsSession: true);

    public override VenueWiring CreateVenue(FeedContext context)
    {
        var open = context.Services.Venues ?? throw new UsageException("this host cannot trade on venues");
        var runId = context.RunId ?? throw new UsageException("live runs are always recorded; --db none cannot be used");
        var logger = context.Services.LoggerFactory.CreateLogger("Keel.Runtime.Live");
        return (settings, portfolio, instruments) =>
        {
            var options = Live.LiveExecutionOptions.From(context.Spec.Live) with { Drill = context.Services.CrashDrill };
            var port = open(context.Spec);
            Live.AccountLock accountLock;
            try
            {
                accountLock = Live.AccountLock.Acquire(port.Account, runId);
            }
            catch
            {
                port.DisposeAsync().AsTask().GetAwaiter().GetResult();
                throw;
            }

            var client = new Live.LiveExecutionClient(port, options, runId, context.Services.Time, logger) { AccountLock = accountLock };
            return new SessionVenue(client, [], null, _ => { }) { Hooks = client };
        };
    }

    public override Exception NoData(RunSpec spec) =>
        new DataFormatException(spec.Venue ?? "the feed", 0, 0, null, "sent no market data before the run ended; nothing to report");
}
