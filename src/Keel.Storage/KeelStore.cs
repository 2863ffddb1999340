using System.Runtime.CompilerServices;
using Keel.Domain;
using Keel.Engine.Data;
using Keel.Engine.Data.Live;
using Keel.Engine.Persistence;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Keel.Storage;

/// <summary>A recorded run: what was run, on what, and how it is going.</summary>
public sealed record RunRecord(
    string Id,
    string Kind,
    RunStatus Status,
    string Strategy,
    string Parameters,
    string Data,
    string Spec,
    string? OutDir,
    double Progress,
    Timestamp CreatedAt,
    Timestamp UpdatedAt,
    Timestamp? StartedAt,
    Timestamp? FinishedAt,
    string? Error,
    long LastSequence,
    string? Metrics);

/// <summary>An event as read back from the journal.</summary>
/// <summary>An order as the journal's orders table holds it: its terms as stored text, and its latest status.</summary>
public sealed record StoredOrder(string Id, long Number, string Instrument, string Side, string Type, string Quantity, string? LimitPrice, string? StopPrice, string TimeInForce, string Status);

public sealed record StoredEvent(long Sequence, string Type, Timestamp Time, string Payload);

/// <summary>A fill as the journal's fills table holds it (exact values as their decimal text).</summary>
public sealed record StoredFill(string TradeId, long Sequence, string ClientOrderId, string Instrument, string Side, string Quantity, string Price, string Commission, string RealizedPnl, string PositionAfter, Timestamp Time);

/// <summary>A position as the journal's positions table holds it (latest state per instrument).</summary>
public sealed record StoredPosition(string Instrument, string Quantity, string CostBasis, string RealizedPnl, string Commissions, string LastPrice, Timestamp UpdatedAt);

/// <summary>A round trip as the journal's trades table holds it; open trades have no exit.</summary>
public sealed record StoredTrade(long TradeId, string Instrument, string Direction, Timestamp EntryTime, string EntryPrice, Timestamp? ExitTime, string? ExitPrice, string Quantity, string GrossPnl, string Commission, string NetPnl, double Return, long BarsHeld);

/// <summary>How many records a run has in each table.</summary>
/// <summary>One combination of a shared sweep, claimed by a worker: the sweep's run (its spec) and which combination.</summary>
public sealed record SweepJob(string RunId, int Index, long Combination, Timestamp? TrainUntil, string Spec, string Worker);

public sealed record RunCounts(long Events, long Orders, long Fills, long Trades, long Snapshots, long Checkpoints, long Inputs);

/// <summary>An interval [From, To) of a candle series a live feed lost, and why.</summary>
public sealed record CandleGap(string Symbol, string Timeframe, Timestamp From, Timestamp To, string Reason, Timestamp RecordedAt);

/// <summary>Candle counts and sizes per series.</summary>
public sealed record CandleStats(long Count, long SizeOnDiskBytes, IReadOnlyList<(string Symbol, string Timeframe, long Count, Timestamp First, Timestamp Last)> Series);

/// <summary>Which runs to list or count: every field given must match (null matches any run).</summary>
public sealed record RunFilter(RunStatus? Status = null, string? Strategy = null)
{
    public static RunFilter Any { get; } = new();
}

/// <summary>The size of a store's run records before and after deleting some (bytes; SQLite: the database file).</summary>
public sealed record StoreSpace(long Before, long After)
{
    public long Reclaimed => Math.Max(0, Before - After);
}

/// <summary>Options for opening a store.</summary>
public sealed record StoreOptions
{
    /// <summary>How long to wait for a locked SQLite database before failing.</summary>
    public TimeSpan BusyTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>SQLite only: the most pages the database may grow to (a size cap; 0 = none).</summary>
    public long SqliteMaxPages { get; init; }

    /// <summary>
    /// SQLite only: every commit reaches the disk before it returns (<c>synchronous=FULL</c>), so it survives a power
    /// loss, not only a crash of the process (the default, <c>NORMAL</c> in WAL mode). Live trading sets it: an order is
    /// sent only after its journal entry is durable. PostgreSQL commits are durable by default.
    /// </summary>
    public bool SyncEveryCommit { get; init; }
}

/// <summary>A storage failure, with the database named and the cause in words.</summary>
public sealed class StorageException : Exception
{
    public StorageException(string message, Exception? innerException = null, bool transient = false)
        : base(message, innerException)
    {
        IsTransient = transient;
    }

    public StorageException()
    {
    }

    public StorageException(string message)
        : base(message)
    {
    }

    public StorageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>True when retrying later may succeed (a lock, a lost connection).</summary>
    public bool IsTransient { get; }
}

/// <summary>
/// Keel's one store, with two backends: SQLite (the embedded default, one file, WAL) and PostgreSQL. Both have the
/// same tables, created and upgraded by forward-only migrations when the store is opened. It keeps runs, the event
/// journal, orders, fills, positions, the trade journal, snapshots, metrics checkpoints and candles.
/// </summary>
public abstract class KeelStore : IRunJournal, IDisposable
{
    /// <summary>
    /// Opens (creating if needed) the store named by <paramref name="target"/>: a PostgreSQL connection string
    /// (<c>Host=…;Database=…</c> or <c>postgres://…</c>) selects PostgreSQL; anything else is a SQLite file path.
    /// </summary>
    public static KeelStore Open(string target, StoreOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(target);
        options ??= new StoreOptions();
        return IsPostgres(target) ? OpenPostgres(target, options) : SqliteStore.OpenAt(target, options);
    }

    /// <summary>
    /// What is wrong with <paramref name="target"/> before anything is opened (a PostgreSQL connection string that does
    /// not parse), in one sentence without the string itself; null when it looks usable.
    /// </summary>
    public static string? Problem(string target)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (!IsPostgres(target))
        {
            return null;
        }

        return PostgresProblem(target);
    }

    // The PostgreSQL paths live in methods of their own, so a run on SQLite (or none) never loads the PostgreSQL driver
    // and its dependencies (about 3 MB of memory) just by compiling a method that mentions them.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static string? PostgresProblem(string target)
    {
        _ = PostgresStore.Parse(target, out var problem, out _);
        return problem;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static string PostgresDescription(string target) =>
        PostgresStore.Parse(target, out _, out _) is { } builder ? PostgresStore.Redacted(builder) : "a PostgreSQL connection string";

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static PostgresStore OpenPostgres(string target, StoreOptions options) => PostgresStore.OpenAt(target, options);

    public static bool IsPostgres(string target) =>
        target.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase)
        || target.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase)
        || (target.Contains('=', StringComparison.Ordinal) && target.Contains("host", StringComparison.OrdinalIgnoreCase));

    /// <summary>The default database: <c>$XDG_DATA_HOME/keel/keel.db</c>, else <c>~/.local/share/keel/keel.db</c>.</summary>
    public static string DefaultLocation()
    {
        var data = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        if (string.IsNullOrWhiteSpace(data))
        {
            data = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
        }

        return Path.Combine(data, "keel", "keel.db");
    }

    /// <summary>Names the database in messages (never with a password).</summary>
    public abstract string Describe { get; }

    /// <summary>
    /// Names a store target for messages and logs without opening it: a SQLite path as it is, a PostgreSQL connection
    /// string as <c>postgres://user@host:port/database</c> (never its password or any other setting); one that cannot be
    /// parsed as <c>a PostgreSQL connection string</c>.
    /// </summary>
    public static string DescribeTarget(string target)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (!IsPostgres(target))
        {
            return target;
        }

        return PostgresDescription(target);
    }

    public abstract string Backend { get; }

    /// <summary>The schema version after migrations.</summary>
    public abstract int SchemaVersion { get; }

    public abstract void CreateRun(RunRecord run);

    /// <summary>Updates a run's status (and, when given, progress, error, start/finish times and final metrics).</summary>
    public abstract void UpdateRun(string id, RunStatus status, Timestamp now, double? progress = null, string? error = null, Timestamp? startedAt = null, Timestamp? finishedAt = null, string? metrics = null);

    /// <summary>A run by id, or by a unique prefix of its id.</summary>
    public abstract RunRecord? FindRun(string idOrPrefix);

    /// <summary>Up to <paramref name="limit"/> runs matching <paramref name="filter"/>, newest first.</summary>
    public abstract IReadOnlyList<RunRecord> ListRuns(int limit, RunFilter? filter = null);

    /// <summary>How many runs match <paramref name="filter"/>.</summary>
    public abstract long CountRuns(RunFilter? filter = null);

    /// <summary>
    /// Deletes a run and every record of it (events, orders, fills, positions, trades, snapshots, checkpoints, inputs)
    /// in one transaction; false when there is no run with that id. It does not look at the run's lock: whoever deletes
    /// holds it (<see cref="TryLockRun"/>), so a run that is going is never deleted under it.
    /// </summary>
    public abstract bool DeleteRun(string runId);

    /// <summary>
    /// Gives the space of deleted records back: SQLite rewrites the file (VACUUM) so it shrinks; PostgreSQL vacuums the
    /// run tables (their space is reused at once; the server returns it to the disk as it sees fit).
    /// </summary>
    public abstract StoreSpace Reclaim();

    public abstract void Write(JournalBatch batch);

    /// <summary>Both stores write a batch within <see cref="Write"/> and keep nothing of it.</summary>
    public bool ReleasesBatches => true;

    public abstract IReadOnlyList<StoredEvent> ReadEvents(string runId, long sinceSequence, int limit);

    /// <summary>
    /// Up to <paramref name="limit"/> of a run's journaled inputs with a sequence after <paramref name="afterSequence"/>,
    /// in sequence order (page on with the last sequence read).
    /// </summary>
    public abstract IReadOnlyList<InputRecord> ReadInputs(string runId, long afterSequence, int limit);

    /// <summary>A run's orders with their terms and latest status, in creation order (a replay compares its orders with these).</summary>
    public abstract IReadOnlyList<StoredOrder> ReadOrders(string runId);

    /// <summary>A run's snapshots, newest first (payloads included).</summary>
    public abstract IReadOnlyList<SnapshotRecord> Snapshots(string runId, int limit);

    public abstract MetricsCheckpoint? LatestCheckpoint(string runId);

    /// <summary>A run's fills with a journal sequence above <paramref name="afterSequence"/>, oldest first, at most <paramref name="limit"/>.</summary>
    public abstract IReadOnlyList<StoredFill> ReadFills(string runId, long afterSequence, int limit);

    /// <summary>A run's positions, one per instrument it traded, by instrument.</summary>
    public abstract IReadOnlyList<StoredPosition> ReadPositions(string runId);

    /// <summary>A run's round trips with an id above <paramref name="afterTradeId"/>, oldest first, at most <paramref name="limit"/>.</summary>
    public abstract IReadOnlyList<StoredTrade> ReadTrades(string runId, long afterTradeId, int limit);

    /// <summary>A run's metrics checkpoints, oldest first.</summary>
    public abstract IReadOnlyList<MetricsCheckpoint> ReadCheckpoints(string runId);

    public abstract RunCounts Counts(string runId);

    /// <summary>Bulk-loads candles (insert or replace by symbol, timeframe and time); returns rows written.</summary>
    public abstract long ImportCandles(string symbol, string timeframe, IBarReader source, Action<long>? progress = null);

    /// <summary>Streams candles in time order as bars of <paramref name="instrument"/>.</summary>
    public abstract IBarReader ReadCandles(InstrumentId instrument, string symbol, string timeframe, Timestamp? from = null, Timestamp? to = null);

    public abstract Bar? LatestCandle(InstrumentId instrument, string symbol, string timeframe);

    public abstract CandleStats CandleStatistics();

    /// <summary>
    /// Inserts or replaces live candles (time = interval start) with their tick counts, all in one transaction;
    /// returns how many rows were written. Replaying the same candles leaves one row per interval.
    /// </summary>
    public abstract int UpsertLiveCandles(string timeframe, IReadOnlyList<Candle> candles);

    /// <summary>Records an interval of a series that a live feed lost (a disconnection, or intervals with no ticks).</summary>
    public abstract void RecordGap(CandleGap gap);

    /// <summary>The recorded gaps of a series, oldest first.</summary>
    public abstract IReadOnlyList<CandleGap> Gaps(string symbol, string timeframe);

    /// <summary>Tick counts of a series by candle time (live candles; imported ones have 0).</summary>
    public abstract IReadOnlyDictionary<Timestamp, long> TickCounts(string symbol, string timeframe);

    /// <summary>
    /// Takes the exclusive right to run <paramref name="runId"/> (so two processes never drive one run); returns
    /// null when another process holds it. The lock dies with its process, so a crashed run can be resumed at once.
    /// </summary>
    public abstract IDisposable? TryLockRun(string runId);

    /// <summary>Whether several processes (on several machines) can share a sweep's combinations through this store.</summary>
    public virtual bool SharesSweeps => false;

    /// <summary>Queues a sweep's combinations (<c>keel optimize --cluster</c>) for any node's <c>keel worker</c>.</summary>
    public virtual void EnqueueSweep(string runId, IReadOnlyList<long> combinations, Timestamp? trainUntil) => throw NoSweeps();

    /// <summary>
    /// Claims the first queued combination of a running sweep (of <paramref name="runId"/> only, when given), or one
    /// whose worker's lease ran out, for <paramref name="lease"/>; null when there is none. Several workers never claim
    /// the same combination at once.
    /// </summary>
    public virtual SweepJob? ClaimSweepJob(string worker, TimeSpan lease, string? runId = null) => throw NoSweeps();

    /// <summary>Extends the lease of a combination this worker is still running; false when it is no longer this worker's.</summary>
    public virtual bool RenewSweepLease(SweepJob job, TimeSpan lease) => throw NoSweeps();

    /// <summary>Stores a combination's result (the first result stored wins; a rerun after a lost lease gives the same).</summary>
    public virtual void CompleteSweepJob(SweepJob job, string result) => throw NoSweeps();

    /// <summary>How many of a sweep's combinations there are, and how many have a result.</summary>
    public virtual (long Total, long Done) SweepProgress(string runId) => throw NoSweeps();

    /// <summary>Every stored result of a sweep, by its index in the sweep.</summary>
    public virtual IReadOnlyList<(int Index, string Result)> SweepResults(string runId) => throw NoSweeps();

    private StorageException NoSweeps() => new($"{Describe} cannot share a sweep between processes: sweeps across nodes (--cluster, keel worker) need a PostgreSQL store");

    /// <summary>The decision pipeline's tables (decisions, trade journal, order executions, position tracking).</summary>
    public abstract Pipeline.PipelineStore Pipeline { get; }

    /// <summary>
    /// A run has written the bulk of its journal: a store that moves written data into place later (SQLite's
    /// write-ahead log into the database file, with its file syncs) may start that now, on another thread, while the
    /// caller writes its report. Nothing changes in what is stored or when a write returns; <see cref="Dispose"/> waits
    /// for the work. Does nothing by default.
    /// </summary>
    public virtual void SettleInBackground()
    {
    }

    public abstract void Dispose();

    /// <summary>Writes a payload checksum mismatch into words (used when falling back to an older snapshot).</summary>
    public static string DescribeSnapshot(SnapshotRecord s) => $"snapshot at event {s.Sequence} ({s.DataEvents} bars)";

    /// <summary>The newest snapshot whose checksum matches; each damaged one skipped is logged (event 4000) on <paramref name="logger"/>.</summary>
    public SnapshotRecord? LatestIntactSnapshot(string runId, ILogger? logger = null)
    {
        foreach (var s in Snapshots(runId, 20))
        {
            if (s.IsIntact)
            {
                return s;
            }

            StoreLog.SnapshotDamaged(logger ?? NullLogger.Instance, DescribeSnapshot(s), runId, Describe);
        }

        return null;
    }
}
