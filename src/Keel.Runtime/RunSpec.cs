using Keel.Domain;
using Keel.Engine.Risk;
using Keel.Storage;

namespace Keel.Runtime;

/// <summary>
/// How a run is wired. Each mode is a different wiring of the same kernel, strategy and risk gate (see
/// <see cref="Wiring.RunWiring"/>), never a branch in the core. Stored values: never renumber.
/// </summary>
public enum RunMode
{
    /// <summary>Historical bars as fast as the kernel takes them, simulated clock, simulated exchange.</summary>
    Backtest = 1,

    /// <summary>Bars from a file or the store, one at a time from another thread at wall-clock pace × speed; simulated exchange.</summary>
    PaperReplay = 2,

    /// <summary>A venue's live market data stream; candles (and quotes) drive the strategy; simulated exchange.</summary>
    PaperLive = 3,

    /// <summary>A venue's live market data and its real execution: orders journaled before they are sent, reconciled with the venue.</summary>
    Live = 4,
}

/// <summary>
/// A validated run request: everything a host resolved from its command line, configuration or API request. It is
/// stored with the run record (<see cref="RunSpecJson"/>), so a resume continues with exactly the same settings. It
/// holds no secrets: venue credentials come from the host's <see cref="RunServices"/>.
/// </summary>
public sealed record RunSpec
{
    public required RunMode Mode { get; init; }

    /// <summary>Data sources: CSV paths, <c>db:SYMBOL:TIMEFRAME</c>, or <c>live:VENUE:SYMBOL</c> for a live feed.</summary>
    public required IReadOnlyList<string> DataFiles { get; init; }

    public required IReadOnlyList<string>? Symbols { get; init; }

    public required string Strategy { get; init; }

    public required IReadOnlyList<string> Parameters { get; init; }

    public required Quantity Stake { get; init; }

    public required Money Cash { get; init; }

    public required decimal Commission { get; init; }

    public required Money CommissionPerShare { get; init; }

    public required Money CommissionMinimum { get; init; }

    public required Money CommissionPerOrder { get; init; }

    public required decimal Slippage { get; init; }

    public required bool FillAtClose { get; init; }

    /// <summary>
    /// Backtest: replay each bar as four trade ticks (<see cref="Keel.Engine.Data.BarTicks"/>, as the sandbox's feeds do)
    /// before the bar itself, so a strategy that trades on ticks (ladder) runs as it would live, and orders fill on those
    /// ticks. The strategy gets the ticks when it trades on them and the bar when it trades on bars.
    /// </summary>
    public bool BarTicks { get; init; }

    /// <summary>Refuse a CSV file's Yahoo rows without prices (its missing days) as bad data instead of skipping them.</summary>
    public bool Strict { get; init; }

    public required decimal? VolumeParticipation { get; init; }

    public required Timestamp? From { get; init; }

    public required Timestamp? To { get; init; }

    public required string? OutDir { get; init; }

    public required AssetClass AssetClass { get; init; }

    public required Price? TickSize { get; init; }

    public required Quantity? LotSize { get; init; }

    public required decimal Leverage { get; init; }

    public required Quantity? MaxPosition { get; init; }

    public required Money? MaxOrderNotional { get; init; }

    public required int? MaxOpenOrders { get; init; }

    public required int? PeriodsPerYear { get; init; }

    /// <summary>Risk: largest loss since the start of the (UTC) day, an amount or a % of day-start equity; null: off.</summary>
    public LossLimit? MaxDailyLoss { get; init; }

    /// <summary>Risk: largest fall from the equity peak, an amount or a % of the peak; null: off.</summary>
    public LossLimit? MaxDrawdown { get; init; }

    /// <summary>Risk: fraction of the daily loss or drawdown limit at which only reducing orders pass; null: off.</summary>
    public decimal? RiskWarning { get; init; }

    /// <summary>Risk: most orders per minute of event time; null: off.</summary>
    public int? MaxOrdersPerMinute { get; init; }

    /// <summary>Risk: largest notional per symbol; null: off.</summary>
    public IReadOnlyDictionary<string, Money>? MaxExposure { get; init; }

    /// <summary>Risk: largest gross notional over all positions; null: off.</summary>
    public Money? MaxTotalExposure { get; init; }

    /// <summary>Risk: the local pattern-day-trader rule (off by default).</summary>
    public bool PatternDayTrader { get; init; }

    /// <summary>How opening signals and bracket entries are sized; by default the strategy's <see cref="Stake"/>.</summary>
    public Keel.Engine.Risk.PositionSizing Sizing { get; init; }

    /// <summary>A bar file whose buy-and-hold the report compares the run with; null: the run's own first instrument.</summary>
    public string? Benchmark { get; init; }

    /// <summary>Hosts render no progress for a quiet run.</summary>
    public required bool Quiet { get; init; }

    /// <summary>Paper replay: N × wall-clock time between bars, or infinity for as fast as possible.</summary>
    public required double Speed { get; init; }

    /// <summary>
    /// The brokerage model that validates orders as a venue would before they are sent (none, alpaca, oanda; see
    /// <see cref="Keel.Engine.Brokerage.BrokerageModels"/>). "none", which accepts everything, for runs stored before it existed.
    /// </summary>
    public string Brokerage { get; init; } = "none";

    /// <summary>Live feeds: the venue (alpaca, oanda) whose stream drives the run; null for files.</summary>
    public string? Venue { get; init; }

    /// <summary>Live feeds: connect here instead of the venue's own address (the sandbox).</summary>
    public string? VenueUrl { get; init; }

    /// <summary>The host's configuration file, where it finds venue credentials (never the credentials themselves).</summary>
    public string? ConfigPath { get; init; }

    /// <summary>Live feeds: the candle timeframe (Keel or OANDA notation).</summary>
    public string? Timeframe { get; init; }

    /// <summary>Live trading's own settings (reconciliation, adoption, stopping); null for every other mode.</summary>
    public LiveSettings? Live { get; init; }

    /// <summary>The store to record the run in; null when recording is off (<c>--db none</c>).</summary>
    public required string? Db { get; init; }

    public required long SnapshotEvery { get; init; }

    public required double SnapshotSeconds { get; init; }

    /// <summary>
    /// Fingerprints of the data files as the run first read them (set when the run is recorded), so a resume can
    /// refuse files that changed since; null for a request not yet recorded or a run recorded before fingerprints.
    /// </summary>
    public IReadOnlyList<InputFingerprint>? Inputs { get; init; }

    /// <summary>"backtest" or "paper": the run record's kind and the reports' title.</summary>
    public string Kind => Mode switch
    {
        RunMode.Backtest => "backtest",
        RunMode.Live => "live",
        _ => "paper",
    };

    public static bool IsLiveSource(string source) => source.StartsWith("live:", StringComparison.Ordinal);

    /// <summary>True for a <c>db:SYMBOL:TIMEFRAME</c> data source.</summary>
    public static bool IsStoreSource(string data) => data.StartsWith("db:", StringComparison.OrdinalIgnoreCase);

    /// <summary>Splits <c>db:SYMBOL:TIMEFRAME</c>.</summary>
    public static (string Symbol, string Timeframe) ParseStoreSource(string data)
    {
        var parts = data.Split(':');
        if (parts.Length != 3 || parts[1].Length == 0 || parts[2].Length == 0)
        {
            throw new UsageException($"data source '{data}' must be db:SYMBOL:TIMEFRAME, e.g. db:AAPL:1m");
        }

        return (parts[1], parts[2]);
    }
}

/// <summary>How a live run treats its venue.</summary>
public sealed record LiveSettings
{
    /// <summary>Seconds between reconciliations with the venue while the run trades (30 by default).</summary>
    public double ReconcileSeconds { get; init; } = 30;

    /// <summary>Adopt the venue's state when it differs in a way Keel cannot explain, instead of stopping (<c>--adopt</c>).</summary>
    public bool Adopt { get; init; }

    /// <summary>Cancel the run's working orders when it stops (<c>--cancel-on-stop</c>).</summary>
    public bool CancelOnStop { get; init; }

    /// <summary>Trade on the venue's real-money endpoints (<c>--real-money</c>); paper/practice otherwise.</summary>
    public bool RealMoney { get; init; }

    /// <summary>
    /// Seconds after sending before an order whose answer was lost, and which the venue does not show, may be sent once
    /// more under the same client id (a request still in flight could land meanwhile).
    /// </summary>
    public double ResendAfterSeconds { get; init; } = 30;
}

/// <summary>A data file as a run read it: its path, length and a 128-bit hash of its bytes.</summary>
public sealed record InputFingerprint(string Path, long Length, string Hash)
{
    /// <summary>Reads the file once, streaming (XxHash128 runs at memory speed; a 60 MB file takes a few milliseconds once cached).</summary>
    public static InputFingerprint Of(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        var hash = new System.IO.Hashing.XxHash128();
        using var stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        hash.Append(stream);
        return new InputFingerprint(full, stream.Length, Convert.ToHexStringLower(hash.GetCurrentHash()));
    }

    /// <summary>
    /// A candle series in the store (<c>db:SYMBOL:TIMEFRAME</c>): its source as the path, its candle count as the length,
    /// and a 128-bit hash of every candle's time, prices and volume, read once in order.
    /// </summary>
    public static InputFingerprint OfStore(KeelStore store, string source)
    {
        ArgumentNullException.ThrowIfNull(store);
        var (symbol, timeframe) = RunSpec.ParseStoreSource(source);
        var hash = new System.IO.Hashing.XxHash128();
        Span<byte> row = stackalloc byte[6 * sizeof(long)];
        long count = 0;
        using (var reader = store.ReadCandles(new InstrumentId(symbol), symbol, timeframe))
        {
            while (reader.TryRead(out var bar))
            {
                System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(row, bar.Time.UnixNanos);
                System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(row[8..], bar.Open.Raw);
                System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(row[16..], bar.High.Raw);
                System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(row[24..], bar.Low.Raw);
                System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(row[32..], bar.Close.Raw);
                System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(row[40..], bar.Volume.Raw);
                hash.Append(row);
                count++;
            }
        }

        return new InputFingerprint(source, count, Convert.ToHexStringLower(hash.GetCurrentHash()));
    }
}
