using System.Globalization;
using System.Net.Sockets;
using Keel.Domain;
using Keel.Engine.Data;
using Keel.Engine.Data.Live;
using Keel.Engine.Persistence;
using Npgsql;
using NpgsqlTypes;

namespace Keel.Storage;

/// <summary>
/// The PostgreSQL backend: the same tables as SQLite. Each journal batch is one transaction: its events, orders, fills
/// and trades are one <c>journal_chunks</c> row each (<see cref="ChunkedJournal"/>), the other tables take one statement
/// each (rows passed as arrays and expanded with <c>unnest</c>). Candle imports use binary COPY into a temporary table
/// and one upsert from it.
/// </summary>
public sealed partial class PostgresStore : KeelStore
{
    private readonly NpgsqlDataSource _source;
    private readonly string _describe;
    private NpgsqlConnection? _journal;
    private readonly JournalChunks.Writer _chunkWriter = new();
    private readonly System.Buffers.ArrayBufferWriter<byte> _payloadBuffer = new(1024);
    private readonly System.Text.Json.Utf8JsonWriter _payloadWriter;
    private readonly ChunkedJournal _chunks;

    private PostgresStore(NpgsqlDataSource source, string describe, string connectionString)
    {
        _source = source;
        _describe = describe;
        _payloadWriter = new System.Text.Json.Utf8JsonWriter(_payloadBuffer, new System.Text.Json.JsonWriterOptions { SkipValidation = true });
        _chunks = new ChunkedJournal(describe);
        ConnectionString = connectionString;
    }

    /// <summary>The database's connection string (with its password): for a component that opens its own connections, such as Quartz's job store.</summary>
    public string ConnectionString { get; }

    public override string Describe => _describe;

    public override string Backend => "postgres";

    /// <summary>The pipeline tables, on a pooled connection per operation.</summary>
    public override Pipeline.PipelineStore Pipeline => field ??= new Pipeline.PipelineStore(
        _describe,
        () => _source.OpenConnection(),
        decimalsAsText: false,
        (ex, what) => ex is NpgsqlException or SocketException or IOException or TimeoutException ? Translate(ex, what) : null);

    public override int SchemaVersion { get; } = Migrations.Latest(Migrations.Postgres);

    public static PostgresStore OpenAt(string target, StoreOptions options)
    {
        var builder = Parse(target, out var problem, out var error) ?? throw new StorageException(problem!, error!);

        builder.Timeout = Math.Max(builder.Timeout, 5);
        builder.CommandTimeout = Math.Max(builder.CommandTimeout, 60);
        string describe = Redacted(builder);
        var store = new PostgresStore(NpgsqlDataSource.Create(builder.ConnectionString), describe, builder.ConnectionString);
        try
        {
            store.Migrate();
        }
        catch
        {
            store.Dispose();
            throw;
        }

        return store;
    }

    /// <summary>The user, host, port and database of a connection string: what messages and logs show, never the password.</summary>
    internal static string Redacted(NpgsqlConnectionStringBuilder builder) => $"postgres://{builder.Username}@{builder.Host}:{builder.Port}/{builder.Database}";

    /// <summary>
    /// Parses a connection string; on failure <paramref name="problem"/> says what is wrong in one sentence that never
    /// repeats the string (it may hold a password).
    /// </summary>
    internal static NpgsqlConnectionStringBuilder? Parse(string target, out string? problem, out Exception? error)
    {
        problem = null;
        error = null;
        try
        {
            return new NpgsqlConnectionStringBuilder(ToKeywords(target));
        }
        catch (UriFormatException ex)
        {
            error = ex;
            problem = "the PostgreSQL URL is not valid; write it as postgres://user:password@host:port/database (escape '@', ':' and '/' in the password as %40, %3A and %2F)";
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidCastException or OverflowException)
        {
            error = ex;
            var syntax = System.Text.RegularExpressions.Regex.Match(ex.Message, @"starting at index (\d+)");
            var setting = System.Text.RegularExpressions.Regex.Match(ex.Message, @"^Couldn't set (.+?)(?: \(Parameter|$)");
            problem = syntax.Success
                ? $"the PostgreSQL connection string is not a list of keyword=value pairs separated by ';' (the problem starts at character {int.Parse(syntax.Groups[1].Value, CultureInfo.InvariantCulture) + 1}); e.g. Host=localhost;Database=keel;Username=keel"
                : setting.Success
                    ? $"the PostgreSQL connection string has '{setting.Groups[1].Value}', which is not a connection setting or has a value that is not valid (values are not shown: they may be secret)"
                : $"the PostgreSQL connection string is not valid: {ex.Message.Split(" (Parameter", 2)[0].TrimEnd('.')}";
        }

        return null;
    }

    /// <summary>Accepts <c>postgres://user:password@host:port/database</c> as well as keyword strings.</summary>
    internal static string ToKeywords(string target)
    {
        if (!target.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) && !target.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
        {
            return target;
        }

        var uri = new Uri(target);
        var b = new NpgsqlConnectionStringBuilder { Host = uri.Host, Port = uri.IsDefaultPort || uri.Port < 0 ? 5432 : uri.Port, Database = uri.AbsolutePath.Trim('/') };
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            var parts = uri.UserInfo.Split(':', 2);
            b.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length == 2)
            {
                b.Password = Uri.UnescapeDataString(parts[1]);
            }
        }

        return b.ConnectionString;
    }

    private void Migrate() => Run("upgrade the schema", c =>
    {
        using var tx = c.BeginTransaction();
        Exec(c, tx, "SELECT pg_advisory_xact_lock(727001)");
        Exec(c, tx, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL PRIMARY KEY, description TEXT NOT NULL, applied_at BIGINT NOT NULL)");
        int current;
        using (var cmd = new NpgsqlCommand("SELECT COALESCE(MAX(version), 0) FROM schema_version", c, tx))
        {
            current = Convert.ToInt32(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
        }

        int latest = Migrations.Latest(Migrations.Postgres);
        if (current > latest)
        {
            throw new StorageException($"database {_describe} was written by a newer Keel (schema version {current}; this Keel knows up to {latest}); upgrade Keel to use it");
        }

        foreach (var m in Migrations.Postgres.Where(m => m.Version > current))
        {
            Exec(c, tx, m.Sql);
            if (m.Version == 7)
            {
                ChunkedJournal.MoveRowsIntoChunks(c, tx, column => column + "::text");
            }

            using var cmd = new NpgsqlCommand("INSERT INTO schema_version (version, description, applied_at) VALUES (@v, @d, @t)", c, tx);
            cmd.Parameters.AddWithValue("v", m.Version);
            cmd.Parameters.AddWithValue("d", m.Description);
            cmd.Parameters.AddWithValue("t", Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow).UnixNanos);
            cmd.ExecuteNonQuery();
        }

        tx.Commit();
    });

    public override void CreateRun(RunRecord run) => Run("record the run", c =>
    {
        using var cmd = new NpgsqlCommand("""
            INSERT INTO runs (id, kind, status, strategy, parameters, data, spec, out_dir, progress, created_at, updated_at, started_at, finished_at, error, last_sequence, metrics)
            VALUES (@id, @kind, @status, @strategy, @parameters, @data, @spec, @out, @progress, @created, @updated, @started, @finished, @error, @seq, @metrics)
            """, c);
        cmd.Parameters.AddWithValue("id", run.Id);
        cmd.Parameters.AddWithValue("kind", run.Kind);
        cmd.Parameters.AddWithValue("status", SqliteStore.StatusText(run.Status));
        cmd.Parameters.AddWithValue("strategy", run.Strategy);
        cmd.Parameters.AddWithValue("parameters", run.Parameters);
        cmd.Parameters.AddWithValue("data", run.Data);
        cmd.Parameters.AddWithValue("spec", run.Spec);
        cmd.Parameters.AddWithValue("out", NpgsqlDbType.Text, (object?)run.OutDir ?? DBNull.Value);
        cmd.Parameters.AddWithValue("progress", run.Progress);
        cmd.Parameters.AddWithValue("created", run.CreatedAt.UnixNanos);
        cmd.Parameters.AddWithValue("updated", run.UpdatedAt.UnixNanos);
        cmd.Parameters.AddWithValue("started", NpgsqlDbType.Bigint, (object?)run.StartedAt?.UnixNanos ?? DBNull.Value);
        cmd.Parameters.AddWithValue("finished", NpgsqlDbType.Bigint, (object?)run.FinishedAt?.UnixNanos ?? DBNull.Value);
        cmd.Parameters.AddWithValue("error", NpgsqlDbType.Text, (object?)run.Error ?? DBNull.Value);
        cmd.Parameters.AddWithValue("seq", run.LastSequence);
        cmd.Parameters.AddWithValue("metrics", NpgsqlDbType.Text, (object?)run.Metrics ?? DBNull.Value);
        cmd.ExecuteNonQuery();
    });

    public override void UpdateRun(string id, RunStatus status, Timestamp now, double? progress = null, string? error = null, Timestamp? startedAt = null, Timestamp? finishedAt = null, string? metrics = null) =>
        Run("update the run", c =>
        {
            using var cmd = new NpgsqlCommand("""
                UPDATE runs SET status = @status, updated_at = @now, progress = COALESCE(@progress, progress), error = @error,
                    started_at = COALESCE(@started, started_at), finished_at = @finished, metrics = COALESCE(@metrics, metrics)
                WHERE id = @id
                """, c);
            cmd.Parameters.AddWithValue("id", id);
            cmd.Parameters.AddWithValue("status", SqliteStore.StatusText(status));
            cmd.Parameters.AddWithValue("now", now.UnixNanos);
            cmd.Parameters.AddWithValue("progress", NpgsqlDbType.Double, (object?)progress ?? DBNull.Value);
            cmd.Parameters.AddWithValue("error", NpgsqlDbType.Text, (object?)error ?? DBNull.Value);
            cmd.Parameters.AddWithValue("started", NpgsqlDbType.Bigint, (object?)startedAt?.UnixNanos ?? DBNull.Value);
            cmd.Parameters.AddWithValue("finished", NpgsqlDbType.Bigint, (object?)finishedAt?.UnixNanos ?? DBNull.Value);
            cmd.Parameters.AddWithValue("metrics", NpgsqlDbType.Text, (object?)metrics ?? DBNull.Value);
            cmd.ExecuteNonQuery();
        });

    public override RunRecord? FindRun(string idOrPrefix) => Run("read runs", c =>
    {
        using var cmd = new NpgsqlCommand("SELECT * FROM runs WHERE starts_with(id, @id) ORDER BY (id = @id) DESC LIMIT 2", c);
        cmd.Parameters.AddWithValue("id", idOrPrefix);
        var runs = ReadRuns(cmd);
        return runs.Count == 1 || (runs.Count > 1 && runs[0].Id == idOrPrefix) ? runs[0]
            : runs.Count > 1 ? throw new StorageException($"run id '{idOrPrefix}' is ambiguous in {_describe}: give more of it")
            : null;
    });

    public override IReadOnlyList<RunRecord> ListRuns(int limit, RunFilter? filter = null) => Run("read runs", c =>
    {
        using var cmd = new NpgsqlCommand(null, c);
        cmd.CommandText = $"SELECT * FROM runs{Where(cmd, filter)} ORDER BY created_at DESC, id DESC LIMIT @limit";
        cmd.Parameters.AddWithValue("limit", limit);
        return ReadRuns(cmd);
    });

    public override long CountRuns(RunFilter? filter = null) => Run("count runs", c =>
    {
        using var cmd = new NpgsqlCommand(null, c);
        cmd.CommandText = $"SELECT COUNT(*) FROM runs{Where(cmd, filter)}";
        return Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
    });

    private static string Where(NpgsqlCommand cmd, RunFilter? filter)
    {
        var clauses = new List<string>(2);
        if (filter?.Status is RunStatus status)
        {
            clauses.Add("status = @status");
            cmd.Parameters.AddWithValue("status", SqliteStore.StatusText(status));
        }

        if (filter?.Strategy is string strategy)
        {
            clauses.Add("strategy = @strategy");
            cmd.Parameters.AddWithValue("strategy", strategy);
        }

        return clauses.Count == 0 ? string.Empty : " WHERE " + string.Join(" AND ", clauses);
    }

    public override bool DeleteRun(string runId) => Run("delete the run", c =>
    {
        using var tx = c.BeginTransaction();
        using var cmd = new NpgsqlCommand(null, c, tx);
        cmd.Parameters.AddWithValue("id", runId);
        foreach (var table in Migrations.RunTables)
        {
            cmd.CommandText = $"DELETE FROM {table} WHERE run_id = @id";
            cmd.ExecuteNonQuery();
        }

        cmd.CommandText = "DELETE FROM runs WHERE id = @id";
        bool found = cmd.ExecuteNonQuery() > 0;
        tx.Commit();
        return found;
    });

    /// <summary>
    /// A plain VACUUM of the run tables: their dead rows' space is reused at once, and empty pages at the end of a table
    /// go back to the disk. (VACUUM FULL would return everything but locks the tables against running runs.)
    /// </summary>
    public override StoreSpace Reclaim() => Run("reclaim space", c =>
    {
        string tables = string.Join(", ", Migrations.RunTables.Append("runs"));
        string size = string.Join(" + ", Migrations.RunTables.Append("runs").Select(t => $"pg_total_relation_size('{t}')"));
        long Size()
        {
            using var cmd = new NpgsqlCommand($"SELECT {size}", c);
            return Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
        }

        long before = Size();
        using (var vacuum = new NpgsqlCommand($"VACUUM {tables}", c))
        {
            vacuum.ExecuteNonQuery();
        }

        return new StoreSpace(before, Size());
    });

    private static List<RunRecord> ReadRuns(NpgsqlCommand cmd)
    {
        var list = new List<RunRecord>();
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            string? Text(string column) => r.IsDBNull(r.GetOrdinal(column)) ? null : r.GetString(r.GetOrdinal(column));
            Timestamp? Time(string column) => r.IsDBNull(r.GetOrdinal(column)) ? null : Timestamp.FromUnixNanos(r.GetInt64(r.GetOrdinal(column)));
            list.Add(new RunRecord(
                r.GetString(r.GetOrdinal("id")), r.GetString(r.GetOrdinal("kind")), SqliteStore.ParseStatus(r.GetString(r.GetOrdinal("status"))),
                r.GetString(r.GetOrdinal("strategy")), r.GetString(r.GetOrdinal("parameters")), r.GetString(r.GetOrdinal("data")), r.GetString(r.GetOrdinal("spec")),
                Text("out_dir"), r.GetDouble(r.GetOrdinal("progress")), Timestamp.FromUnixNanos(r.GetInt64(r.GetOrdinal("created_at"))),
                Timestamp.FromUnixNanos(r.GetInt64(r.GetOrdinal("updated_at"))), Time("started_at"), Time("finished_at"), Text("error"),
                r.GetInt64(r.GetOrdinal("last_sequence")), Text("metrics")));
        }

        return list;
    }

    public override void Write(JournalBatch batch)
    {
        try
        {
            if (_journal is null || _journal.FullState.HasFlag(System.Data.ConnectionState.Broken) || _journal.State != System.Data.ConnectionState.Open)
            {
                _journal?.Dispose();
                _journal = _source.OpenConnection();
            }

            var c = _journal;
            using var tx = c.BeginTransaction();
            string run = batch.RunId;
            // Events, orders, fills and trades: one chunk each (see JournalChunks), sent together.
            var w = _chunkWriter;
            using (var chunks = new NpgsqlBatch(c, tx))
            {
                AddChunk(chunks, w, run, ChunkKind.Events, batch.Events, e => e.Sequence, e => JournalChunks.WriteEvent(w, e, _payloadBuffer, _payloadWriter));
                AddChunk(chunks, w, run, ChunkKind.Orders, batch.Orders, o => o.Sequence, o => JournalChunks.WriteOrder(w, o));
                AddChunk(chunks, w, run, ChunkKind.Fills, batch.Fills, f => f.Sequence, f => JournalChunks.WriteFill(w, f));
                AddChunk(chunks, w, run, ChunkKind.Trades, batch.Trades, t => t.Id, t => JournalChunks.WriteTrade(w, t));
                if (chunks.BatchCommands.Count > 0)
                {
                    chunks.ExecuteNonQuery();
                }
            }

            if (batch.Positions.Count > 0)
            {
                var p = batch.Positions;
                using var cmd = new NpgsqlCommand("""
                    INSERT INTO positions (run_id, instrument, quantity, cost_basis, realized_pnl, commissions, last_price, updated_at)
                    SELECT @run, u.instrument, u.qty::numeric, u.cost::numeric, u.realized::numeric, u.commissions::numeric, u.last::numeric, u.updated
                    FROM unnest(@instrument, @qty, @cost, @realized, @commissions, @last, @updated) AS u(instrument, qty, cost, realized, commissions, last, updated)
                    ON CONFLICT (run_id, instrument) DO UPDATE SET quantity = excluded.quantity, cost_basis = excluded.cost_basis,
                        realized_pnl = excluded.realized_pnl, commissions = excluded.commissions, last_price = excluded.last_price, updated_at = excluded.updated_at
                    """, c, tx);
                cmd.Parameters.AddWithValue("run", run);
                cmd.Parameters.AddWithValue("instrument", p.Select(x => x.Instrument.Symbol).ToArray());
                cmd.Parameters.AddWithValue("qty", p.Select(x => x.Quantity.ToString()).ToArray());
                cmd.Parameters.AddWithValue("cost", p.Select(x => x.CostBasis.ToString()).ToArray());
                cmd.Parameters.AddWithValue("realized", p.Select(x => x.RealizedPnl.ToString()).ToArray());
                cmd.Parameters.AddWithValue("commissions", p.Select(x => x.Commissions.ToString()).ToArray());
                cmd.Parameters.AddWithValue("last", p.Select(x => x.LastPrice.ToString()).ToArray());
                cmd.Parameters.AddWithValue("updated", p.Select(x => x.UpdatedAt.UnixNanos).ToArray());
                cmd.ExecuteNonQuery();
            }

            if (batch.Inputs.Count > 0)
            {
                WriteInputs(c, tx, run, batch.Inputs);
            }

            if (batch.Snapshot is SnapshotRecord s)
            {
                using var cmd = new NpgsqlCommand("""
                    INSERT INTO snapshots (run_id, seq, data_events, created_at, payload, checksum) VALUES (@run, @seq, @events, @created, @payload, @checksum)
                    ON CONFLICT (run_id, seq) DO UPDATE SET data_events = excluded.data_events, created_at = excluded.created_at, payload = excluded.payload, checksum = excluded.checksum
                    """, c, tx);
                cmd.Parameters.AddWithValue("run", run);
                cmd.Parameters.AddWithValue("seq", s.Sequence);
                cmd.Parameters.AddWithValue("events", s.DataEvents);
                cmd.Parameters.AddWithValue("created", s.CreatedAt.UnixNanos);
                cmd.Parameters.AddWithValue("payload", s.Payload);
                cmd.Parameters.AddWithValue("checksum", s.Checksum);
                cmd.ExecuteNonQuery();
            }

            if (batch.Checkpoint is MetricsCheckpoint m)
            {
                using var cmd = new NpgsqlCommand("""
                    INSERT INTO metrics_checkpoints (run_id, seq, processed, total_return, pnl, win_rate, max_drawdown, sharpe, profit_factor, created_at)
                    VALUES (@run, @seq, @processed, @ret, @pnl::numeric, @win, @dd, @sharpe, @pf, @created)
                    ON CONFLICT (run_id, seq) DO UPDATE SET processed = excluded.processed, total_return = excluded.total_return, pnl = excluded.pnl,
                        win_rate = excluded.win_rate, max_drawdown = excluded.max_drawdown, sharpe = excluded.sharpe, profit_factor = excluded.profit_factor, created_at = excluded.created_at
                    """, c, tx);
                cmd.Parameters.AddWithValue("run", run);
                cmd.Parameters.AddWithValue("seq", m.Sequence);
                cmd.Parameters.AddWithValue("processed", m.Processed);
                cmd.Parameters.AddWithValue("ret", m.TotalReturn);
                cmd.Parameters.AddWithValue("pnl", m.Pnl.ToString());
                cmd.Parameters.AddWithValue("win", NpgsqlDbType.Double, Finite(m.WinRate));
                cmd.Parameters.AddWithValue("dd", m.MaxDrawdown);
                cmd.Parameters.AddWithValue("sharpe", NpgsqlDbType.Double, Finite(m.Sharpe));
                cmd.Parameters.AddWithValue("pf", NpgsqlDbType.Double, Finite(m.ProfitFactor));
                cmd.Parameters.AddWithValue("created", m.CreatedAt.UnixNanos);
                cmd.ExecuteNonQuery();
            }

            if (batch.Progress is RunProgress progress)
            {
                using var cmd = new NpgsqlCommand("UPDATE runs SET status = @status, progress = @progress, last_sequence = GREATEST(last_sequence, @seq), updated_at = @now, error = @error WHERE id = @run", c, tx);
                cmd.Parameters.AddWithValue("run", run);
                cmd.Parameters.AddWithValue("status", SqliteStore.StatusText(progress.Status));
                cmd.Parameters.AddWithValue("progress", progress.Progress);
                cmd.Parameters.AddWithValue("seq", progress.LastSequence);
                cmd.Parameters.AddWithValue("now", progress.UpdatedAt.UnixNanos);
                cmd.Parameters.AddWithValue("error", NpgsqlDbType.Text, (object?)progress.Error ?? DBNull.Value);
                cmd.ExecuteNonQuery();
            }

            tx.Commit();
        }
        catch (Exception ex) when (ex is NpgsqlException or SocketException or IOException or InvalidOperationException)
        {
            _journal?.Dispose();
            _journal = null;
            throw Translate(ex, "write the journal");
        }
    }

    /// <summary>
    /// Inputs in one statement (arrays expanded with <c>unnest</c>). Unlike events, an input already stored is kept as it
    /// is (<c>ON CONFLICT DO NOTHING</c>, not delete and copy): a resumed run writes the inputs it replays again, and the
    /// first record of an input is the one that happened.
    /// </summary>
    private static void WriteInputs(NpgsqlConnection c, NpgsqlTransaction tx, string run, List<InputRecord> inputs)
    {
        int n = inputs.Count;
        var seq = new long[n];
        var clock = new long[n];
        var kind = new short[n];
        var payload = new string[n];
        for (int i = 0; i < n; i++)
        {
            var x = inputs[i];
            seq[i] = x.Sequence;
            clock[i] = x.Clock.UnixNanos;
            kind[i] = (short)x.Kind;
            payload[i] = x.Payload;
        }

        using var cmd = new NpgsqlCommand("""
            INSERT INTO inputs (run_id, seq, clock, kind, payload)
            SELECT @run, u.seq, u.clock, u.kind, u.payload FROM unnest(@seq, @clock, @kind, @payload) AS u(seq, clock, kind, payload)
            ON CONFLICT (run_id, seq) DO NOTHING
            """, c, tx);
        cmd.Parameters.AddWithValue("run", run);
        cmd.Parameters.AddWithValue("seq", seq);
        cmd.Parameters.AddWithValue("clock", clock);
        cmd.Parameters.AddWithValue("kind", kind);
        cmd.Parameters.AddWithValue("payload", payload);
        cmd.ExecuteNonQuery();
    }

    /// <summary>Adds the upsert of <paramref name="rows"/> as one chunk (nothing when empty); see <see cref="ChunkedJournal.Upsert"/>.</summary>
    private static void AddChunk<T>(NpgsqlBatch batch, JournalChunks.Writer w, string run, ChunkKind kind, List<T> rows, Func<T, long> key, Action<T> write)
    {
        if (!w.Encode(rows, key, write, out long first, out long last))
        {
            return;
        }

        var cmd = new NpgsqlBatchCommand(ChunkedJournal.Upsert);
        cmd.Parameters.AddWithValue("run", run);
        cmd.Parameters.AddWithValue("kind", (int)kind);
        cmd.Parameters.AddWithValue("first", first);
        cmd.Parameters.AddWithValue("last", last);
        cmd.Parameters.AddWithValue("rows", (long)rows.Count);
        cmd.Parameters.AddWithValue("body", w.Packed().ToArray());
        batch.BatchCommands.Add(cmd);
    }

    private static object Finite(double? value) => value is double d && double.IsFinite(d) ? d : DBNull.Value;

    public override IReadOnlyList<StoredEvent> ReadEvents(string runId, long sinceSequence, int limit) => Run("read events", c =>
        _chunks.ReadEvents(c, runId, sinceSequence, limit));

    public override IReadOnlyList<StoredOrder> ReadOrders(string runId) => Run("read orders", c => _chunks.ReadOrders(c, runId));

    public override IReadOnlyList<InputRecord> ReadInputs(string runId, long afterSequence, int limit) => Run("read inputs", c =>
    {
        using var cmd = new NpgsqlCommand("SELECT seq, clock, kind, payload FROM inputs WHERE run_id = @run AND seq > @after ORDER BY seq LIMIT @limit", c);
        cmd.Parameters.AddWithValue("run", runId);
        cmd.Parameters.AddWithValue("after", afterSequence);
        cmd.Parameters.AddWithValue("limit", limit);
        return StoreRows.All(cmd, StoreRows.Input);
    });

    public override IReadOnlyList<SnapshotRecord> Snapshots(string runId, int limit) => Run("read snapshots", c =>
    {
        using var cmd = new NpgsqlCommand("SELECT seq, data_events, payload, checksum, created_at FROM snapshots WHERE run_id = @run ORDER BY seq DESC LIMIT @limit", c);
        cmd.Parameters.AddWithValue("run", runId);
        cmd.Parameters.AddWithValue("limit", limit);
        return StoreRows.All(cmd, StoreRows.Snapshot);
    });

    public override MetricsCheckpoint? LatestCheckpoint(string runId) => Run("read checkpoints", c =>
    {
        using var cmd = new NpgsqlCommand("SELECT seq, processed, total_return, pnl::text, win_rate, max_drawdown, sharpe, profit_factor, created_at FROM metrics_checkpoints WHERE run_id = @run ORDER BY seq DESC LIMIT 1", c);
        cmd.Parameters.AddWithValue("run", runId);
        return StoreRows.First(cmd, StoreRows.Checkpoint);
    });

    public override IReadOnlyList<StoredFill> ReadFills(string runId, long afterSequence, int limit) => Run("read fills", c =>
        _chunks.ReadFills(c, runId, afterSequence, limit));

    public override IReadOnlyList<StoredPosition> ReadPositions(string runId) => Run("read positions", c =>
    {
        using var cmd = new NpgsqlCommand("SELECT instrument, quantity::text, cost_basis::text, realized_pnl::text, commissions::text, last_price::text, updated_at FROM positions WHERE run_id = @run ORDER BY instrument", c);
        cmd.Parameters.AddWithValue("run", runId);
        return StoreRows.All(cmd, StoreRows.Position);
    });

    public override IReadOnlyList<StoredTrade> ReadTrades(string runId, long afterTradeId, int limit) => Run("read trades", c =>
        _chunks.ReadTrades(c, runId, afterTradeId, limit));

    public override IReadOnlyList<MetricsCheckpoint> ReadCheckpoints(string runId) => Run("read checkpoints", c =>
    {
        using var cmd = new NpgsqlCommand("SELECT seq, processed, total_return, pnl::text, win_rate, max_drawdown, sharpe, profit_factor, created_at FROM metrics_checkpoints WHERE run_id = @run ORDER BY seq", c);
        cmd.Parameters.AddWithValue("run", runId);
        return StoreRows.All(cmd, StoreRows.Checkpoint);
    });

    public override RunCounts Counts(string runId) => Run("count records", c =>
    {
        long Count(string table)
        {
            using var cmd = new NpgsqlCommand($"SELECT COUNT(*) FROM {table} WHERE run_id = @run", c);
            cmd.Parameters.AddWithValue("run", runId);
            return Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
        }

        return new RunCounts(
            _chunks.Count(c, runId, ChunkKind.Events), _chunks.Count(c, runId, ChunkKind.Orders), _chunks.Count(c, runId, ChunkKind.Fills), _chunks.Count(c, runId, ChunkKind.Trades),
            Count("snapshots"), Count("metrics_checkpoints"), Count("inputs"));
    });

    public override long ImportCandles(string symbol, string timeframe, IBarReader source, Action<long>? progress = null) => Run("import candles", c =>
    {
        bool series;
        using (var exists = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM candles WHERE symbol = @symbol AND timeframe = @tf)", c))
        {
            exists.Parameters.AddWithValue("symbol", symbol);
            exists.Parameters.AddWithValue("tf", timeframe);
            series = exists.ExecuteScalar() is true;
        }

        return series ? UpsertCandles(c, symbol, timeframe, source, progress) : CopyCandles(c, symbol, timeframe, source, progress);
    });

    /// <summary>A new series: binary COPY straight into the table (the reader guarantees strictly increasing times).</summary>
    private static long CopyCandles(NpgsqlConnection c, string symbol, string timeframe, IBarReader source, Action<long>? progress)
    {
        long rows = 0;
        bool more = true;
        while (more)
        {
            using var tx = c.BeginTransaction();
            long chunk = 0;
            using (var copy = c.BeginBinaryImport("COPY candles (symbol, timeframe, time, open, high, low, close, volume, tick_count) FROM STDIN (FORMAT BINARY)"))
            {
                while (chunk < 500_000 && (more = source.TryRead(out var bar)))
                {
                    copy.StartRow();
                    copy.Write(symbol, NpgsqlDbType.Text);
                    copy.Write(timeframe, NpgsqlDbType.Text);
                    copy.Write(bar.Time.UnixNanos, NpgsqlDbType.Bigint);
                    copy.Write(bar.Open.Raw, NpgsqlDbType.Bigint);
                    copy.Write(bar.High.Raw, NpgsqlDbType.Bigint);
                    copy.Write(bar.Low.Raw, NpgsqlDbType.Bigint);
                    copy.Write(bar.Close.Raw, NpgsqlDbType.Bigint);
                    copy.Write(bar.Volume.Raw, NpgsqlDbType.Bigint);
                    copy.Write(0L, NpgsqlDbType.Bigint);
                    chunk++;
                }

                copy.Complete();
            }

            tx.Commit();
            rows += chunk;
            progress?.Invoke(rows);
        }

        return rows;
    }

    /// <summary>An existing series: COPY into a temporary table, then insert or replace by key.</summary>
    private static long UpsertCandles(NpgsqlConnection c, string symbol, string timeframe, IBarReader source, Action<long>? progress)
    {
        long rows = 0;
        bool more = true;
        while (more)
        {
            using var tx = c.BeginTransaction();
            Exec(c, tx, "CREATE TEMP TABLE candles_import (time BIGINT, open BIGINT, high BIGINT, low BIGINT, close BIGINT, volume BIGINT) ON COMMIT DROP");
            long chunk = 0;
            using (var copy = c.BeginBinaryImport("COPY candles_import (time, open, high, low, close, volume) FROM STDIN (FORMAT BINARY)"))
            {
                while (chunk < 500_000 && (more = source.TryRead(out var bar)))
                {
                    copy.StartRow();
                    copy.Write(bar.Time.UnixNanos, NpgsqlDbType.Bigint);
                    copy.Write(bar.Open.Raw, NpgsqlDbType.Bigint);
                    copy.Write(bar.High.Raw, NpgsqlDbType.Bigint);
                    copy.Write(bar.Low.Raw, NpgsqlDbType.Bigint);
                    copy.Write(bar.Close.Raw, NpgsqlDbType.Bigint);
                    copy.Write(bar.Volume.Raw, NpgsqlDbType.Bigint);
                    chunk++;
                }

                copy.Complete();
            }

            using (var upsert = new NpgsqlCommand("""
                INSERT INTO candles (symbol, timeframe, time, open, high, low, close, volume, tick_count)
                SELECT @symbol, @tf, time, open, high, low, close, volume, 0 FROM candles_import
                ON CONFLICT (symbol, timeframe, time) DO UPDATE SET open = excluded.open, high = excluded.high, low = excluded.low,
                    close = excluded.close, volume = excluded.volume
                """, c, tx))
            {
                upsert.Parameters.AddWithValue("symbol", symbol);
                upsert.Parameters.AddWithValue("tf", timeframe);
                upsert.ExecuteNonQuery();
            }

            tx.Commit();
            rows += chunk;
            progress?.Invoke(rows);
        }

        return rows;
    }

    public override IBarReader ReadCandles(InstrumentId instrument, string symbol, string timeframe, Timestamp? from = null, Timestamp? to = null)
    {
        NpgsqlConnection? c = null;
        try
        {
            c = _source.OpenConnection();
            long total;
            using (var count = new NpgsqlCommand("SELECT COUNT(*) FROM candles WHERE symbol = @s AND timeframe = @tf AND time BETWEEN @from AND @to", c))
            {
                Range(count, symbol, timeframe, from, to);
                total = Convert.ToInt64(count.ExecuteScalar(), CultureInfo.InvariantCulture);
            }

            var cmd = new NpgsqlCommand("SELECT time, open, high, low, close, volume FROM candles WHERE symbol = @s AND timeframe = @tf AND time BETWEEN @from AND @to ORDER BY time", c);
            Range(cmd, symbol, timeframe, from, to);
            return new CandleReader(c, cmd, cmd.ExecuteReader(), instrument, total, this);
        }
        catch (Exception ex) when (ex is NpgsqlException or SocketException or IOException)
        {
            c?.Dispose();
            throw Translate(ex, "read candles");
        }
    }

    private static void Range(NpgsqlCommand cmd, string symbol, string timeframe, Timestamp? from, Timestamp? to)
    {
        cmd.Parameters.AddWithValue("s", symbol);
        cmd.Parameters.AddWithValue("tf", timeframe);
        cmd.Parameters.AddWithValue("from", (from ?? Timestamp.MinValue).UnixNanos);
        cmd.Parameters.AddWithValue("to", (to ?? Timestamp.MaxValue).UnixNanos);
    }

    public override Bar? LatestCandle(InstrumentId instrument, string symbol, string timeframe) => Run("read candles", c =>
    {
        using var cmd = new NpgsqlCommand("SELECT time, open, high, low, close, volume FROM candles WHERE symbol = @s AND timeframe = @tf ORDER BY time DESC LIMIT 1", c);
        cmd.Parameters.AddWithValue("s", symbol);
        cmd.Parameters.AddWithValue("tf", timeframe);
        using var r = cmd.ExecuteReader();
        return r.Read() ? CandleReader.ToBar(r, instrument) : (Bar?)null;
    });

    public override CandleStats CandleStatistics() => Run("read candle statistics", c =>
    {
        var series = new List<(string, string, long, Timestamp, Timestamp)>();
        using (var cmd = new NpgsqlCommand("SELECT symbol, timeframe, COUNT(*), MIN(time), MAX(time) FROM candles GROUP BY symbol, timeframe ORDER BY symbol, timeframe", c))
        {
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                series.Add((r.GetString(0), r.GetString(1), r.GetInt64(2), Timestamp.FromUnixNanos(r.GetInt64(3)), Timestamp.FromUnixNanos(r.GetInt64(4))));
            }
        }

        using var size = new NpgsqlCommand("SELECT pg_total_relation_size('candles')", c);
        return new CandleStats(series.Sum(s => s.Item3), Convert.ToInt64(size.ExecuteScalar(), CultureInfo.InvariantCulture), series);
    });

    public override int UpsertLiveCandles(string timeframe, IReadOnlyList<Candle> candles) => candles.Count == 0 ? 0 : Run("store live candles", c =>
    {
        using var tx = c.BeginTransaction();
        using var cmd = new NpgsqlCommand(
            """
            INSERT INTO candles (symbol, timeframe, time, open, high, low, close, volume, tick_count)
            SELECT * FROM UNNEST(@s, @tf, @t, @o, @h, @l, @c, @v, @n)
            ON CONFLICT (symbol, timeframe, time) DO UPDATE SET open = excluded.open, high = excluded.high, low = excluded.low,
                close = excluded.close, volume = excluded.volume, tick_count = excluded.tick_count
            """,
            c,
            tx);
        int n = candles.Count;
        var symbols = new string[n];
        var timeframes = new string[n];
        var t = new long[n];
        var o = new long[n];
        var h = new long[n];
        var l = new long[n];
        var cl = new long[n];
        var v = new long[n];
        var k = new long[n];
        for (int i = 0; i < n; i++)
        {
            var b = candles[i].Bar;
            symbols[i] = b.Instrument.Symbol;
            timeframes[i] = timeframe;
            t[i] = b.Time.UnixNanos;
            o[i] = b.Open.Raw;
            h[i] = b.High.Raw;
            l[i] = b.Low.Raw;
            cl[i] = b.Close.Raw;
            v[i] = b.Volume.Raw;
            k[i] = candles[i].TickCount;
        }

        cmd.Parameters.AddWithValue("s", symbols);
        cmd.Parameters.AddWithValue("tf", timeframes);
        cmd.Parameters.AddWithValue("t", t);
        cmd.Parameters.AddWithValue("o", o);
        cmd.Parameters.AddWithValue("h", h);
        cmd.Parameters.AddWithValue("l", l);
        cmd.Parameters.AddWithValue("c", cl);
        cmd.Parameters.AddWithValue("v", v);
        cmd.Parameters.AddWithValue("n", k);
        cmd.ExecuteNonQuery();
        tx.Commit();
        return n;
    });

    public override void RecordGap(CandleGap gap) => Run("record a candle gap", c =>
    {
        using var cmd = new NpgsqlCommand(
            """
            INSERT INTO candle_gaps (symbol, timeframe, gap_from, gap_to, reason, recorded_at) VALUES (@s, @tf, @f, @t, @r, @at)
            ON CONFLICT (symbol, timeframe, gap_from) DO UPDATE SET gap_to = GREATEST(candle_gaps.gap_to, excluded.gap_to), reason = excluded.reason
            """,
            c);
        cmd.Parameters.AddWithValue("s", gap.Symbol);
        cmd.Parameters.AddWithValue("tf", gap.Timeframe);
        cmd.Parameters.AddWithValue("f", gap.From.UnixNanos);
        cmd.Parameters.AddWithValue("t", gap.To.UnixNanos);
        cmd.Parameters.AddWithValue("r", gap.Reason);
        cmd.Parameters.AddWithValue("at", gap.RecordedAt.UnixNanos);
        cmd.ExecuteNonQuery();
    });

    public override IReadOnlyList<CandleGap> Gaps(string symbol, string timeframe) => Run("read candle gaps", c =>
    {
        using var cmd = new NpgsqlCommand("SELECT gap_from, gap_to, reason, recorded_at FROM candle_gaps WHERE symbol = @s AND timeframe = @tf ORDER BY gap_from", c);
        cmd.Parameters.AddWithValue("s", symbol);
        cmd.Parameters.AddWithValue("tf", timeframe);
        using var r = cmd.ExecuteReader();
        var gaps = new List<CandleGap>();
        while (r.Read())
        {
            gaps.Add(new CandleGap(symbol, timeframe, Timestamp.FromUnixNanos(r.GetInt64(0)), Timestamp.FromUnixNanos(r.GetInt64(1)), r.GetString(2), Timestamp.FromUnixNanos(r.GetInt64(3))));
        }

        return (IReadOnlyList<CandleGap>)gaps;
    });

    public override IReadOnlyDictionary<Timestamp, long> TickCounts(string symbol, string timeframe) => Run("read candle tick counts", c =>
    {
        using var cmd = new NpgsqlCommand("SELECT time, tick_count FROM candles WHERE symbol = @s AND timeframe = @tf", c);
        cmd.Parameters.AddWithValue("s", symbol);
        cmd.Parameters.AddWithValue("tf", timeframe);
        using var r = cmd.ExecuteReader();
        var counts = new Dictionary<Timestamp, long>();
        while (r.Read())
        {
            counts[Timestamp.FromUnixNanos(r.GetInt64(0))] = r.GetInt64(1);
        }

        return (IReadOnlyDictionary<Timestamp, long>)counts;
    });

    public override void Dispose()
    {
        _journal?.Dispose();
        _payloadWriter.Dispose();
        _source.Dispose();
    }

    /// <summary>A session advisory lock on its own connection: released by the server when the process dies.</summary>
    public override IDisposable? TryLockRun(string runId)
    {
        NpgsqlConnection held;
        try
        {
            held = _source.OpenConnection();
        }
        catch (Exception ex) when (ex is NpgsqlException or SocketException or IOException or TimeoutException)
        {
            throw Translate(ex, "lock the run");
        }

        try
        {
            using var cmd = new NpgsqlCommand("SELECT pg_try_advisory_lock(hashtextextended('keel.run:' || @id, 0))", held);
            cmd.Parameters.AddWithValue("id", runId);
            if (cmd.ExecuteScalar() is true)
            {
                return new RunLock(held);
            }

            held.Dispose();
            return null;
        }
        catch (Exception ex) when (ex is NpgsqlException or SocketException or IOException or TimeoutException)
        {
            held.Dispose();
            throw Translate(ex, "lock the run");
        }
    }

    private T Run<T>(string what, Func<NpgsqlConnection, T> action)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                using var c = _source.OpenConnection();
                return action(c);
            }
            catch (Exception ex) when (attempt == 1 && IsStaleConnection(ex))
            {
                // A pooled connection the server has since closed (restart, terminated backend): drop the pool, try once more.
                _source.Clear();
            }
            catch (Exception ex) when (ex is NpgsqlException or SocketException or IOException or TimeoutException)
            {
                throw Translate(ex, what);
            }
        }
    }

    private static bool IsStaleConnection(Exception ex) => ex switch
    {
        PostgresException pg => pg.SqlState is "57P01" or "57P02" or "57P03",
        NpgsqlException n => n.InnerException is IOException or SocketException or EndOfStreamException,
        IOException or EndOfStreamException => true,
        _ => false,
    };

    private void Run(string what, Action<NpgsqlConnection> action) => Run<object?>(what, c =>
    {
        action(c);
        return null;
    });

    private static void Exec(NpgsqlConnection c, NpgsqlTransaction tx, string sql)
    {
        using var cmd = new NpgsqlCommand(sql, c, tx);
        cmd.ExecuteNonQuery();
    }

    internal StorageException Translate(Exception ex, string what)
    {
        var root = ex is NpgsqlException { InnerException: not null } n ? n.InnerException! : ex;
        return ex switch
        {
            PostgresException pg when pg.SqlState == "53100" => new StorageException($"database {_describe} is full (disk full) while trying to {what}: {pg.MessageText}", ex),
            PostgresException pg => new StorageException($"database {_describe}: could not {what}: {pg.MessageText} (SQLSTATE {pg.SqlState})", ex, pg.IsTransient),
            NpgsqlException { IsTransient: true } or SocketException or IOException or EndOfStreamException or TimeoutException =>
                new StorageException($"lost the connection to database {_describe} while trying to {what}: {root.Message}", ex, transient: true),
            _ => new StorageException($"database {_describe}: could not {what}: {root.Message}", ex),
        };
    }

    /// <summary>Streams candles from a query; owns its connection.</summary>
    private sealed class CandleReader(NpgsqlConnection connection, NpgsqlCommand command, NpgsqlDataReader reader, InstrumentId instrument, long total, PostgresStore store) : IBarReader
    {
        private long _read;

        public (long Done, long Total) Progress => (_read, total);

        public bool TryRead(out Bar bar)
        {
            try
            {
                if (reader.Read())
                {
                    bar = ToBar(reader, instrument);
                    _read++;
                    return true;
                }
            }
            catch (Exception ex) when (ex is NpgsqlException or SocketException or IOException)
            {
                throw store.Translate(ex, "read candles");
            }

            bar = default;
            return false;
        }

        public static Bar ToBar(NpgsqlDataReader r, InstrumentId instrument) =>
            new(instrument, Timestamp.FromUnixNanos(r.GetInt64(0)), Price.FromRaw(r.GetInt64(1)), Price.FromRaw(r.GetInt64(2)), Price.FromRaw(r.GetInt64(3)),
                Price.FromRaw(r.GetInt64(4)), Quantity.FromRaw(r.GetInt64(5)));

        public void Dispose()
        {
            reader.Dispose();
            command.Dispose();
            connection.Dispose();
        }
    }
}

/// <summary>A held session advisory lock: released explicitly (a pooled connection would otherwise keep it).</summary>
internal sealed class RunLock(NpgsqlConnection connection) : IDisposable
{
    public void Dispose()
    {
        try
        {
            using var cmd = new NpgsqlCommand("SELECT pg_advisory_unlock_all()", connection);
            cmd.ExecuteNonQuery();
        }
        catch (Exception ex) when (ex is NpgsqlException or SocketException or IOException or TimeoutException)
        {
            // The connection is gone, and with it the server-side lock.
        }

        connection.Dispose();
    }
}
