using System.Globalization;
using Keel.Domain;
using Keel.Engine.Data;
using Keel.Engine.Data.Live;
using Keel.Engine.Persistence;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Keel.Storage;

/// <summary>
/// The embedded default: one SQLite file in WAL mode. Control operations share one connection (under a lock); the
/// journal writes on a connection of its own from its single writer thread, with prepared statements and one
/// transaction per batch. Bulk paths bind values straight through SQLitePCLRaw (no boxing per value).
/// </summary>
public sealed class SqliteStore : KeelStore
{
    private static readonly object InitLock = new();
    private static bool _initialised;
    private readonly string _path;
    private readonly StoreOptions _options;
    private readonly object _controlLock = new();
    private readonly SqliteConnection _control;
    private SqliteConnection? _journal;
    private Dictionary<string, sqlite3_stmt>? _journalStatements;
    private readonly System.Buffers.ArrayBufferWriter<byte> _payloadBuffer;
    private readonly System.Text.Json.Utf8JsonWriter _payloadWriter;
    private readonly JournalChunks.Writer _chunkWriter = new();
    private readonly ChunkedJournal _chunks;

    // Checkpoints run on a thread of their own (see StartCheckpoint), one at a time, on a connection of their own.
    private readonly object _checkpointLock = new();
    private Task? _checkpoint;
    private bool _checkpointRunning;
    private bool _checkpointAgain;
    private SqliteConnection? _checkpointConnection;
    private long _journaledSinceCheckpoint;

    /// <summary>Journal bytes after which a checkpoint starts in the background (SQLite's own default is about 16 MB of pages).</summary>
    private const long CheckpointEveryBytes = 8L << 20;

    private SqliteStore(string path, StoreOptions options, SqliteConnection control)
    {
        _path = path;
        _chunks = new ChunkedJournal(path);
        _options = options;
        _control = control;
        _payloadBuffer = new System.Buffers.ArrayBufferWriter<byte>(1024);
        _payloadWriter = new System.Text.Json.Utf8JsonWriter(_payloadBuffer, new System.Text.Json.JsonWriterOptions { SkipValidation = true });
    }

    public override string Describe => _path;

    /// <summary>
    /// The pipeline tables, on a connection per operation with foreign keys enforced (SQLite checks them only on
    /// connections that ask; the journal's own connections have no foreign keys to check).
    /// </summary>
    public override Pipeline.PipelineStore Pipeline => field ??= new Pipeline.PipelineStore(
        _path,
        () =>
        {
            var c = Connect(_path, _options);
            using var cmd = c.CreateCommand();
            cmd.CommandText = "PRAGMA foreign_keys=ON;";
            cmd.ExecuteNonQuery();
            return c;
        },
        decimalsAsText: true,
        (ex, what) => ex is SqliteException se ? Translate(_path, se, what) : null);

    public override string Backend => "sqlite";

    public override int SchemaVersion { get; } = Migrations.Latest(Migrations.Sqlite);

    public static SqliteStore OpenAt(string path, StoreOptions options)
    {
        lock (InitLock)
        {
            if (!_initialised)
            {
                Batteries_V2.Init();
                _initialised = true;
            }
        }

        string full = Path.GetFullPath(path);
        try
        {
            var dir = Path.GetDirectoryName(full);
            if (!string.IsNullOrEmpty(dir))
            {
                Directory.CreateDirectory(dir);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StorageException($"cannot create the folder of database {full}: {ex.Message}", ex);
        }

        var connection = Connect(full, options);
        var store = new SqliteStore(full, options, connection);
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

    private static SqliteConnection Connect(string path, StoreOptions options, bool readOnly = false)
    {
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = readOnly ? SqliteOpenMode.ReadOnly : SqliteOpenMode.ReadWriteCreate,
            Pooling = false,

            // Microsoft.Data.Sqlite retries a busy database until the command timeout: make that the busy timeout too.
            DefaultTimeout = (int)Math.Max(1, Math.Ceiling(options.BusyTimeout.TotalSeconds)),
        };
        var c = new SqliteConnection(builder.ToString());
        try
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = $"PRAGMA busy_timeout={(long)options.BusyTimeout.TotalMilliseconds};";
            cmd.ExecuteNonQuery();
            if (!readOnly)
            {
                // 16 KiB pages: journal rows are a few hundred bytes with text keys; larger pages made inserts about a
                // third faster here. It only takes effect on a new database (before WAL is switched on).
                cmd.CommandText = $"PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA synchronous={(options.SyncEveryCommit ? "FULL" : "NORMAL")};";
                cmd.ExecuteNonQuery();
                if (options.SqliteMaxPages > 0)
                {
                    cmd.CommandText = $"PRAGMA max_page_count={options.SqliteMaxPages};";
                    cmd.ExecuteNonQuery();
                }
            }
        }
        catch (SqliteException ex)
        {
            c.Dispose();
            throw Translate(path, ex, "open");
        }

        return c;
    }

    /// <summary>
    /// Starts a write transaction, waiting for other writers until the busy timeout. SQLite's own wait backs off to one
    /// check every 100 ms (and Microsoft.Data.Sqlite's retry to one every 150 ms), so a process committing journal
    /// batches back to back takes the lock again before the others look: with four runs on one file, some waited out
    /// the whole timeout and failed. Checking about every millisecond gives every writer its turn between two commits.
    /// The connection's own busy wait is off meanwhile, so it does not sleep in between.
    /// </summary>
    private static void BeginImmediate(sqlite3 db, TimeSpan timeout, string what)
    {
        raw.sqlite3_busy_timeout(db, 0);
        try
        {
            long since = System.Diagnostics.Stopwatch.GetTimestamp();
            for (int attempt = 0; ; attempt++)
            {
                int rc = raw.sqlite3_exec(db, "BEGIN IMMEDIATE");
                if ((rc & 0xFF) != raw.SQLITE_BUSY || System.Diagnostics.Stopwatch.GetElapsedTime(since) >= timeout)
                {
                    Check(rc, db, what);
                    return;
                }

                // Yield at first (the writer is usually about to commit), then sleep briefly so waiting costs no CPU.
                if (attempt < 16)
                {
                    Thread.Yield();
                }
                else
                {
                    Thread.Sleep(1);
                }
            }
        }
        finally
        {
            raw.sqlite3_busy_timeout(db, (int)Math.Min(int.MaxValue, timeout.TotalMilliseconds));
        }
    }

    /// <summary>One write on the control connection in its own transaction, taken with <see cref="BeginImmediate"/>.</summary>
    private void ControlWrite(string what, Action<SqliteConnection> action) => Control(what, c =>
    {
        var db = c.Handle!;
        BeginImmediate(db, _options.BusyTimeout, what);
        try
        {
            action(c);
            Check(raw.sqlite3_exec(db, "COMMIT"), db, what);
        }
        catch
        {
            raw.sqlite3_exec(db, "ROLLBACK");
            throw;
        }
    });

    private void Migrate()
    {
        lock (_controlLock)
        {
            try
            {
                Exec(_control, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL);");
                int current = CurrentVersion();
                int latest = Migrations.Latest(Migrations.Sqlite);
                if (current > latest)
                {
                    throw new StorageException($"database {_path} was written by a newer Keel (schema version {current}; this Keel knows up to {latest}); upgrade Keel to use it");
                }

                foreach (var m in Migrations.Sqlite.Where(m => m.Version > current))
                {
                    using var tx = _control.BeginTransaction(deferred: false);
                    using (var check = _control.CreateCommand())
                    {
                        check.Transaction = tx;
                        check.CommandText = "SELECT COALESCE(MAX(version), 0) FROM schema_version";
                        if (Convert.ToInt32(check.ExecuteScalar(), CultureInfo.InvariantCulture) >= m.Version)
                        {
                            tx.Rollback();
                            continue;
                        }
                    }

                    using var cmd = _control.CreateCommand();
                    cmd.Transaction = tx;
                    cmd.CommandText = m.Sql;
                    cmd.ExecuteNonQuery();
                    if (m.Version == 7)
                    {
                        MoveRowsIntoChunks(_control, tx);
                    }

                    cmd.CommandText = "INSERT INTO schema_version (version, description, applied_at) VALUES ($v, $d, $t)";
                    cmd.Parameters.AddWithValue("$v", m.Version);
                    cmd.Parameters.AddWithValue("$d", m.Description);
                    cmd.Parameters.AddWithValue("$t", Now().UnixNanos);
                    cmd.ExecuteNonQuery();
                    tx.Commit();
                }
            }
            catch (SqliteException ex)
            {
                throw Translate(_path, ex, "upgrade");
            }
        }
    }

    /// <summary>
    /// Schema version 7: the events, orders, fills and trades of every run recorded before it are moved into
    /// <c>journal_chunks</c> (in key order, <see cref="ChunkedJournal.MovedChunkRows"/> rows a chunk, text and numbers as stored) and
    /// the four row tables dropped, all in the migration's transaction. An order row held only its latest state, with no
    /// sequence: it moves with sequence 0, in chunks keyed by its number less 2^62, so any state a resumed run writes
    /// later sorts after it and wins.
    /// </summary>
    private static void MoveRowsIntoChunks(SqliteConnection c, SqliteTransaction tx)
    {
        (ChunkKind Kind, string Select)[] kinds =
        [
            (ChunkKind.Events, "SELECT run_id, seq, seq, type, time, payload FROM events ORDER BY run_id, seq"),
            (ChunkKind.Orders, """
                SELECT run_id, number - 4611686018427387904, 0, client_order_id, number, instrument, side, type, quantity, limit_price, stop_price, time_in_force, status,
                    created_at, updated_at, filled_quantity, avg_fill_price, commission, contingency, parent_id, venue_order_id, tag, reason
                FROM orders ORDER BY run_id, number, client_order_id
                """),
            (ChunkKind.Fills, "SELECT run_id, seq, trade_id, seq, client_order_id, instrument, side, quantity, price, commission, realized_pnl, position_after, time FROM fills ORDER BY run_id, seq, trade_id"),
            (ChunkKind.Trades, """
                SELECT run_id, trade_id, trade_id, instrument, direction, entry_time, entry_price, exit_time, exit_price, quantity, gross_pnl, commission, net_pnl, return, bars_held
                FROM trades ORDER BY run_id, trade_id
                """),
        ];
        var w = new JournalChunks.Writer();
        using var insert = c.CreateCommand();
        insert.Transaction = tx;
        insert.CommandText = "INSERT INTO journal_chunks (run_id, kind, first_key, last_key, rows, body) VALUES ($run, $kind, $first, $last, $rows, $body)";
        foreach (var (kind, select) in kinds)
        {
            using var read = c.CreateCommand();
            read.Transaction = tx;
            read.CommandText = select;
            using var r = read.ExecuteReader();
            ChunkedJournal.ChunkRows(r, w, compress: false, (run, first, last, rows, body) =>
            {
                insert.Parameters.Clear();
                insert.Parameters.AddWithValue("$run", run);
                insert.Parameters.AddWithValue("$kind", (int)kind);
                insert.Parameters.AddWithValue("$first", first);
                insert.Parameters.AddWithValue("$last", last);
                insert.Parameters.AddWithValue("$rows", rows);
                insert.Parameters.AddWithValue("$body", body.ToArray());
                insert.ExecuteNonQuery();
            });
        }

        using var drop = c.CreateCommand();
        drop.Transaction = tx;
        drop.CommandText = "DROP TABLE events; DROP TABLE orders; DROP TABLE fills; DROP TABLE trades;";
        drop.ExecuteNonQuery();
    }

    private int CurrentVersion()
    {
        using var cmd = _control.CreateCommand();
        cmd.CommandText = "SELECT COALESCE(MAX(version), 0) FROM schema_version";
        return Convert.ToInt32(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private static Timestamp Now() => Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow);

    public override void CreateRun(RunRecord run) => ControlWrite("record the run", c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = """
            INSERT INTO runs (id, kind, status, strategy, parameters, data, spec, out_dir, progress, created_at, updated_at, started_at, finished_at, error, last_sequence, metrics)
            VALUES ($id, $kind, $status, $strategy, $parameters, $data, $spec, $out, $progress, $created, $updated, $started, $finished, $error, $seq, $metrics)
            """;
        cmd.Parameters.AddWithValue("$id", run.Id);
        cmd.Parameters.AddWithValue("$kind", run.Kind);
        cmd.Parameters.AddWithValue("$status", StatusText(run.Status));
        cmd.Parameters.AddWithValue("$strategy", run.Strategy);
        cmd.Parameters.AddWithValue("$parameters", run.Parameters);
        cmd.Parameters.AddWithValue("$data", run.Data);
        cmd.Parameters.AddWithValue("$spec", run.Spec);
        cmd.Parameters.AddWithValue("$out", (object?)run.OutDir ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$progress", run.Progress);
        cmd.Parameters.AddWithValue("$created", run.CreatedAt.UnixNanos);
        cmd.Parameters.AddWithValue("$updated", run.UpdatedAt.UnixNanos);
        cmd.Parameters.AddWithValue("$started", (object?)run.StartedAt?.UnixNanos ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$finished", (object?)run.FinishedAt?.UnixNanos ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$error", (object?)run.Error ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$seq", run.LastSequence);
        cmd.Parameters.AddWithValue("$metrics", (object?)run.Metrics ?? DBNull.Value);
        cmd.ExecuteNonQuery();
    });

    public override void UpdateRun(string id, RunStatus status, Timestamp now, double? progress = null, string? error = null, Timestamp? startedAt = null, Timestamp? finishedAt = null, string? metrics = null) =>
        ControlWrite("update the run", c =>
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = """
                UPDATE runs SET status = $status, updated_at = $now,
                    progress = COALESCE($progress, progress), error = $error,
                    started_at = COALESCE($started, started_at), finished_at = $finished, metrics = COALESCE($metrics, metrics)
                WHERE id = $id
                """;
            cmd.Parameters.AddWithValue("$id", id);
            cmd.Parameters.AddWithValue("$status", StatusText(status));
            cmd.Parameters.AddWithValue("$now", now.UnixNanos);
            cmd.Parameters.AddWithValue("$progress", (object?)progress ?? DBNull.Value);
            cmd.Parameters.AddWithValue("$error", (object?)error ?? DBNull.Value);
            cmd.Parameters.AddWithValue("$started", (object?)startedAt?.UnixNanos ?? DBNull.Value);
            cmd.Parameters.AddWithValue("$finished", (object?)finishedAt?.UnixNanos ?? DBNull.Value);
            cmd.Parameters.AddWithValue("$metrics", (object?)metrics ?? DBNull.Value);
            cmd.ExecuteNonQuery();
        });

    public override RunRecord? FindRun(string idOrPrefix) => Control("read runs", c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT * FROM runs WHERE id = $id OR id LIKE $prefix ORDER BY (id = $id) DESC LIMIT 2";
        cmd.Parameters.AddWithValue("$id", idOrPrefix);
        cmd.Parameters.AddWithValue("$prefix", EscapeLike(idOrPrefix) + "%");
        var runs = ReadRuns(cmd);
        return runs.Count == 1 || (runs.Count > 1 && runs[0].Id == idOrPrefix) ? runs[0]
            : runs.Count > 1 ? throw new StorageException($"run id '{idOrPrefix}' is ambiguous in {_path}: give more of it")
            : null;
    });

    public override IReadOnlyList<RunRecord> ListRuns(int limit, RunFilter? filter = null) => Control("read runs", c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT * FROM runs{Where(cmd, filter)} ORDER BY created_at DESC, id DESC LIMIT $limit";
        cmd.Parameters.AddWithValue("$limit", limit);
        return ReadRuns(cmd);
    });

    public override long CountRuns(RunFilter? filter = null) => Control("count runs", c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT COUNT(*) FROM runs{Where(cmd, filter)}";
        return Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
    });

    private static string Where(SqliteCommand cmd, RunFilter? filter)
    {
        var clauses = new List<string>(2);
        if (filter?.Status is RunStatus status)
        {
            clauses.Add("status = $status");
            cmd.Parameters.AddWithValue("$status", StatusText(status));
        }

        if (filter?.Strategy is string strategy)
        {
            clauses.Add("strategy = $strategy");
            cmd.Parameters.AddWithValue("$strategy", strategy);
        }

        return clauses.Count == 0 ? string.Empty : " WHERE " + string.Join(" AND ", clauses);
    }

    public override bool DeleteRun(string runId)
    {
        bool found = false;
        ControlWrite("delete the run", c =>
        {
            using var cmd = c.CreateCommand();
            cmd.Parameters.AddWithValue("$id", runId);
            foreach (var table in Migrations.RunTables)
            {
                cmd.CommandText = $"DELETE FROM {table} WHERE run_id = $id";
                cmd.ExecuteNonQuery();
            }

            cmd.CommandText = "DELETE FROM runs WHERE id = $id";
            found = cmd.ExecuteNonQuery() > 0;
        });
        return found;
    }

    /// <summary>
    /// VACUUM rewrites the database without its free pages (it needs no other writer for a moment, and waits the busy
    /// timeout for one); the checkpoints around it move the rewrite out of the WAL so the file itself shrinks.
    /// </summary>
    public override StoreSpace Reclaim() => Control("reclaim space", c =>
    {
        Exec(c, "PRAGMA wal_checkpoint(TRUNCATE)");
        long before = new FileInfo(_path).Length;
        Exec(c, "VACUUM");
        Exec(c, "PRAGMA wal_checkpoint(TRUNCATE)");
        return new StoreSpace(before, new FileInfo(_path).Length);
    });

    private static List<RunRecord> ReadRuns(SqliteCommand cmd)
    {
        var list = new List<RunRecord>();
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            list.Add(new RunRecord(
                r.GetString(r.GetOrdinal("id")),
                r.GetString(r.GetOrdinal("kind")),
                ParseStatus(r.GetString(r.GetOrdinal("status"))),
                r.GetString(r.GetOrdinal("strategy")),
                r.GetString(r.GetOrdinal("parameters")),
                r.GetString(r.GetOrdinal("data")),
                r.GetString(r.GetOrdinal("spec")),
                NullableString(r, "out_dir"),
                r.GetDouble(r.GetOrdinal("progress")),
                Timestamp.FromUnixNanos(r.GetInt64(r.GetOrdinal("created_at"))),
                Timestamp.FromUnixNanos(r.GetInt64(r.GetOrdinal("updated_at"))),
                NullableTime(r, "started_at"),
                NullableTime(r, "finished_at"),
                NullableString(r, "error"),
                r.GetInt64(r.GetOrdinal("last_sequence")),
                NullableString(r, "metrics")));
        }

        return list;
    }

    public override void Write(JournalBatch batch)
    {
        var c = _journal ??= JournalConnection();
        var s = _journalStatements ??= PrepareJournal(c);
        var db = c.Handle!;
        string run = batch.RunId;
        var payloadBuffer = _payloadBuffer;
        var payloadWriter = _payloadWriter;
        long written = 0;
        try
        {
            BeginImmediate(db, _options.BusyTimeout, "start a journal transaction");
            try
            {
                var chunk = s["chunk"];
                var w = _chunkWriter;
                written += WriteChunk(db, chunk, w, run, ChunkKind.Events, batch.Events, e => e.Sequence, e => JournalChunks.WriteEvent(w, e, payloadBuffer, payloadWriter));
                written += WriteChunk(db, chunk, w, run, ChunkKind.Orders, batch.Orders, o => o.Sequence, o => JournalChunks.WriteOrder(w, o));
                written += WriteChunk(db, chunk, w, run, ChunkKind.Fills, batch.Fills, f => f.Sequence, f => JournalChunks.WriteFill(w, f));
                written += WriteChunk(db, chunk, w, run, ChunkKind.Trades, batch.Trades, t => t.Id, t => JournalChunks.WriteTrade(w, t));
                written += (batch.Positions.Count + batch.Inputs.Count) * 128L;
                var st = s["position"];
                foreach (var p in batch.Positions)
                {
                    Bind(st, 1, run);
                    Bind(st, 2, p.Instrument.Symbol);
                    Bind(st, 3, p.Quantity);
                    Bind(st, 4, p.CostBasis);
                    Bind(st, 5, p.RealizedPnl);
                    Bind(st, 6, p.Commissions);
                    Bind(st, 7, p.LastPrice);
                    raw.sqlite3_bind_int64(st, 8, p.UpdatedAt.UnixNanos);
                    Step(st, db);
                }

                InsertRows(db, s["input"], s["input*"], 5, batch.Inputs, (st, o, i) => BindInput(st, o, run, i));

                if (batch.Snapshot is SnapshotRecord snap)
                {
                    st = s["snapshot"];
                    Bind(st, 1, run);
                    raw.sqlite3_bind_int64(st, 2, snap.Sequence);
                    raw.sqlite3_bind_int64(st, 3, snap.DataEvents);
                    raw.sqlite3_bind_int64(st, 4, snap.CreatedAt.UnixNanos);
                    BindUtf8(st, 5, snap.Utf8);
                    Bind(st, 6, snap.Checksum);
                    Step(st, db);
                    written += snap.Utf8.Length;
                }

                if (batch.Checkpoint is MetricsCheckpoint m)
                {
                    st = s["checkpoint"];
                    Bind(st, 1, run);
                    raw.sqlite3_bind_int64(st, 2, m.Sequence);
                    raw.sqlite3_bind_int64(st, 3, m.Processed);
                    raw.sqlite3_bind_double(st, 4, m.TotalReturn);
                    Bind(st, 5, m.Pnl);
                    BindDouble(st, 6, m.WinRate);
                    raw.sqlite3_bind_double(st, 7, m.MaxDrawdown);
                    BindDouble(st, 8, m.Sharpe);
                    BindDouble(st, 9, m.ProfitFactor);
                    raw.sqlite3_bind_int64(st, 10, m.CreatedAt.UnixNanos);
                    Step(st, db);
                }

                if (batch.Progress is RunProgress progress)
                {
                    st = s["progress"];
                    Bind(st, 1, StatusText(progress.Status));
                    raw.sqlite3_bind_double(st, 2, progress.Progress);
                    raw.sqlite3_bind_int64(st, 3, progress.LastSequence);
                    raw.sqlite3_bind_int64(st, 4, progress.UpdatedAt.UnixNanos);
                    Bind(st, 5, progress.Error);
                    Bind(st, 6, run);
                    Step(st, db);
                }

                Check(raw.sqlite3_exec(db, "COMMIT"), db, "commit the journal");
            }
            catch
            {
                raw.sqlite3_exec(db, "ROLLBACK");
                throw;
            }
        }
        catch (SqliteException ex)
        {
            throw Translate(_path, ex, "write the journal");
        }

        if ((_journaledSinceCheckpoint += written) >= CheckpointEveryBytes)
        {
            StartCheckpoint();
        }
    }

    /// <summary>The journal's connection: it never checkpoints on its own commits (see <see cref="StartCheckpoint"/>).</summary>
    private SqliteConnection JournalConnection()
    {
        var c = Connect(_path, _options);
        using var cmd = c.CreateCommand();
        cmd.CommandText = "PRAGMA wal_autocheckpoint=0;";
        cmd.ExecuteNonQuery();
        return c;
    }

    /// <summary>Writes <paramref name="rows"/> as one chunk (nothing when empty); see <see cref="JournalChunks"/>.</summary>
    /// <returns>The chunk's size in bytes.</returns>
    private static int WriteChunk<T>(sqlite3 db, sqlite3_stmt st, JournalChunks.Writer w, string run, ChunkKind kind, List<T> rows, Func<T, long> key, Action<T> write)
    {
        if (!w.Encode(rows, key, write, out long first, out long last))
        {
            return 0;
        }

        var packed = w.Packed();
        Bind(st, 1, run);
        raw.sqlite3_bind_int(st, 2, (int)kind);
        raw.sqlite3_bind_int64(st, 3, first);
        raw.sqlite3_bind_int64(st, 4, last);
        raw.sqlite3_bind_int(st, 5, rows.Count);
        raw.sqlite3_bind_blob(st, 6, packed);
        Step(st, db);
        return packed.Length;
    }

    private const int ManyRows = 32;

    /// <summary>The same INSERT with <see cref="ManyRows"/> rows in its VALUES list, parameters numbered on.</summary>
    private static string ManyRowsSql(string sql)
    {
        var values = System.Text.RegularExpressions.Regex.Match(sql, @"VALUES \(([^)]*)\)");
        int columns = values.Groups[1].Value.Split(',').Length;
        var rows = Enumerable.Range(0, ManyRows).Select(r => "(" + string.Join(", ", Enumerable.Range(1, columns).Select(c => $"?{(r * columns) + c}")) + ")");
        return string.Concat(sql.AsSpan(0, values.Index), "VALUES " + string.Join(", ", rows), sql.AsSpan(values.Index + values.Length));
    }

    private static void InsertRows<T>(sqlite3 db, sqlite3_stmt one, sqlite3_stmt many, int columns, List<T> rows, Action<sqlite3_stmt, int, T> bind)
    {
        // Many rows per statement: one statement run per ManyRows rows instead of one per row.
        int at = 0;
        for (; at + ManyRows <= rows.Count; at += ManyRows)
        {
            for (int r = 0; r < ManyRows; r++)
            {
                bind(many, r * columns, rows[at + r]);
            }

            Step(many, db);
        }

        for (; at < rows.Count; at++)
        {
            bind(one, 0, rows[at]);
            Step(one, db);
        }
    }

    private static void BindInput(sqlite3_stmt st, int o, string run, InputRecord i)
    {
        Bind(st, o + 1, run);
        raw.sqlite3_bind_int64(st, o + 2, i.Sequence);
        raw.sqlite3_bind_int64(st, o + 3, i.Clock.UnixNanos);
        raw.sqlite3_bind_int(st, o + 4, (int)i.Kind);
        Bind(st, o + 5, i.Payload);
    }

    private static Dictionary<string, sqlite3_stmt> PrepareJournal(SqliteConnection c)
    {
        var db = c.Handle!;
        var sql = new Dictionary<string, string>
        {
            // A chunk written again (a resumed run replays what it had journaled) replaces the stored one only when it
            // covers more: where two chunks overlap their records are equal, and readers keep one record per key.
            ["chunk"] = """
                INSERT INTO journal_chunks (run_id, kind, first_key, last_key, rows, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                ON CONFLICT (run_id, kind, first_key) DO UPDATE SET last_key = excluded.last_key, rows = excluded.rows, body = excluded.body
                WHERE excluded.last_key > journal_chunks.last_key OR (excluded.last_key = journal_chunks.last_key AND excluded.rows > journal_chunks.rows)
                """,
            ["position"] = """
                INSERT INTO positions (run_id, instrument, quantity, cost_basis, realized_pnl, commissions, last_price, updated_at)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                ON CONFLICT (run_id, instrument) DO UPDATE SET quantity = excluded.quantity, cost_basis = excluded.cost_basis,
                    realized_pnl = excluded.realized_pnl, commissions = excluded.commissions, last_price = excluded.last_price, updated_at = excluded.updated_at
                """,
            ["snapshot"] = """
                INSERT INTO snapshots (run_id, seq, data_events, created_at, payload, checksum) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                ON CONFLICT (run_id, seq) DO UPDATE SET data_events = excluded.data_events, created_at = excluded.created_at, payload = excluded.payload, checksum = excluded.checksum
                """,
            ["checkpoint"] = """
                INSERT INTO metrics_checkpoints (run_id, seq, processed, total_return, pnl, win_rate, max_drawdown, sharpe, profit_factor, created_at)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (run_id, seq) DO UPDATE SET processed = excluded.processed,
                    total_return = excluded.total_return, pnl = excluded.pnl, win_rate = excluded.win_rate, max_drawdown = excluded.max_drawdown,
                    sharpe = excluded.sharpe, profit_factor = excluded.profit_factor, created_at = excluded.created_at
                """,
            // An input already stored stays as it is: a resumed run writes the inputs it replays again.
            ["input"] = "INSERT INTO inputs (run_id, seq, clock, kind, payload) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (run_id, seq) DO NOTHING",
            ["progress"] = "UPDATE runs SET status = ?1, progress = ?2, last_sequence = MAX(last_sequence, ?3), updated_at = ?4, error = ?5 WHERE id = ?6",
        };
        foreach (var name in (string[])["input"])
        {
            sql[name + "*"] = ManyRowsSql(sql[name]);
        }

        var result = new Dictionary<string, sqlite3_stmt>();
        foreach (var (name, text) in sql)
        {
            Check(raw.sqlite3_prepare_v2(db, text, out var st), db, "prepare the journal");
            result[name] = st;
        }

        return result;
    }

    public override IReadOnlyList<StoredEvent> ReadEvents(string runId, long sinceSequence, int limit) => Control("read events", c =>
        _chunks.ReadEvents(c, runId, sinceSequence, limit));

    public override IReadOnlyList<StoredOrder> ReadOrders(string runId) => Control("read orders", c => _chunks.ReadOrders(c, runId));

    public override IReadOnlyList<InputRecord> ReadInputs(string runId, long afterSequence, int limit) => Control("read inputs", c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT seq, clock, kind, payload FROM inputs WHERE run_id = $run AND seq > $after ORDER BY seq LIMIT $limit";
        cmd.Parameters.AddWithValue("$run", runId);
        cmd.Parameters.AddWithValue("$after", afterSequence);
        cmd.Parameters.AddWithValue("$limit", limit);
        return StoreRows.All(cmd, StoreRows.Input);
    });

    public override IReadOnlyList<SnapshotRecord> Snapshots(string runId, int limit) => Control("read snapshots", c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT seq, data_events, payload, checksum, created_at FROM snapshots WHERE run_id = $run ORDER BY seq DESC LIMIT $limit";
        cmd.Parameters.AddWithValue("$run", runId);
        cmd.Parameters.AddWithValue("$limit", limit);
        return StoreRows.All(cmd, StoreRows.Snapshot);
    });

    public override MetricsCheckpoint? LatestCheckpoint(string runId) => Control("read checkpoints", c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT seq, processed, total_return, pnl, win_rate, max_drawdown, sharpe, profit_factor, created_at FROM metrics_checkpoints WHERE run_id = $run ORDER BY seq DESC LIMIT 1";
        cmd.Parameters.AddWithValue("$run", runId);
        return StoreRows.First(cmd, StoreRows.Checkpoint);
    });

    public override IReadOnlyList<StoredFill> ReadFills(string runId, long afterSequence, int limit) => Control("read fills", c =>
        _chunks.ReadFills(c, runId, afterSequence, limit));

    public override IReadOnlyList<StoredPosition> ReadPositions(string runId) => Control("read positions", c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT instrument, quantity, cost_basis, realized_pnl, commissions, last_price, updated_at FROM positions WHERE run_id = $run ORDER BY instrument";
        cmd.Parameters.AddWithValue("$run", runId);
        return StoreRows.All(cmd, StoreRows.Position);
    });

    public override IReadOnlyList<StoredTrade> ReadTrades(string runId, long afterTradeId, int limit) => Control("read trades", c =>
        _chunks.ReadTrades(c, runId, afterTradeId, limit));

    public override IReadOnlyList<MetricsCheckpoint> ReadCheckpoints(string runId) => Control("read checkpoints", c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT seq, processed, total_return, pnl, win_rate, max_drawdown, sharpe, profit_factor, created_at FROM metrics_checkpoints WHERE run_id = $run ORDER BY seq";
        cmd.Parameters.AddWithValue("$run", runId);
        return StoreRows.All(cmd, StoreRows.Checkpoint);
    });

    public override RunCounts Counts(string runId) => Control("count records", c =>
    {
        long Count(string table)
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = $"SELECT COUNT(*) FROM {table} WHERE run_id = $run";
            cmd.Parameters.AddWithValue("$run", runId);
            return Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
        }

        return new RunCounts(
            _chunks.Count(c, runId, ChunkKind.Events), _chunks.Count(c, runId, ChunkKind.Orders), _chunks.Count(c, runId, ChunkKind.Fills), _chunks.Count(c, runId, ChunkKind.Trades),
            Count("snapshots"), Count("metrics_checkpoints"), Count("inputs"));
    });

    public override long ImportCandles(string symbol, string timeframe, IBarReader source, Action<long>? progress = null)
    {
        lock (_controlLock)
        {
            var db = _control.Handle!;
            const string Sql = """
                INSERT INTO candles (symbol, timeframe, time, open, high, low, close, volume, tick_count) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0)
                ON CONFLICT (symbol, timeframe, time) DO UPDATE SET open = excluded.open, high = excluded.high, low = excluded.low,
                    close = excluded.close, volume = excluded.volume
                """;
            Check(raw.sqlite3_prepare_v2(db, Sql, out var st), db, "prepare the candle import");
            long rows = 0;
            try
            {
                Bind(st, 1, symbol);
                Bind(st, 2, timeframe);
                bool open = false;
                while (source.TryRead(out var bar))
                {
                    if (!open)
                    {
                        Check(raw.sqlite3_exec(db, "BEGIN IMMEDIATE"), db, "start the candle import");
                        open = true;
                    }

                    raw.sqlite3_bind_int64(st, 3, bar.Time.UnixNanos);
                    raw.sqlite3_bind_int64(st, 4, bar.Open.Raw);
                    raw.sqlite3_bind_int64(st, 5, bar.High.Raw);
                    raw.sqlite3_bind_int64(st, 6, bar.Low.Raw);
                    raw.sqlite3_bind_int64(st, 7, bar.Close.Raw);
                    raw.sqlite3_bind_int64(st, 8, bar.Volume.Raw);
                    Step(st, db);
                    if (++rows % 250_000 == 0)
                    {
                        Check(raw.sqlite3_exec(db, "COMMIT"), db, "commit the candle import");
                        open = false;
                        progress?.Invoke(rows);
                    }
                }

                if (open)
                {
                    Check(raw.sqlite3_exec(db, "COMMIT"), db, "commit the candle import");
                }

                progress?.Invoke(rows);
                return rows;
            }
            catch (SqliteException ex)
            {
                raw.sqlite3_exec(db, "ROLLBACK");
                throw Translate(_path, ex, "import candles");
            }
            catch
            {
                raw.sqlite3_exec(db, "ROLLBACK");
                throw;
            }
            finally
            {
                raw.sqlite3_finalize(st);
            }
        }
    }

    public override IBarReader ReadCandles(InstrumentId instrument, string symbol, string timeframe, Timestamp? from = null, Timestamp? to = null)
    {
        var c = Connect(_path, _options, readOnly: true);
        try
        {
            long total;
            using (var count = c.CreateCommand())
            {
                count.CommandText = "SELECT COUNT(*) FROM candles WHERE symbol = $s AND timeframe = $tf AND time BETWEEN $from AND $to";
                AddRange(count, symbol, timeframe, from, to);
                total = Convert.ToInt64(count.ExecuteScalar(), CultureInfo.InvariantCulture);
            }

            var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT time, open, high, low, close, volume FROM candles WHERE symbol = $s AND timeframe = $tf AND time BETWEEN $from AND $to ORDER BY time";
            AddRange(cmd, symbol, timeframe, from, to);
            return new CandleReader(c, cmd, cmd.ExecuteReader(), instrument, total, _path);
        }
        catch (SqliteException ex)
        {
            c.Dispose();
            throw Translate(_path, ex, "read candles");
        }
    }

    private static void AddRange(SqliteCommand cmd, string symbol, string timeframe, Timestamp? from, Timestamp? to)
    {
        cmd.Parameters.AddWithValue("$s", symbol);
        cmd.Parameters.AddWithValue("$tf", timeframe);
        cmd.Parameters.AddWithValue("$from", (from ?? Timestamp.MinValue).UnixNanos);
        cmd.Parameters.AddWithValue("$to", (to ?? Timestamp.MaxValue).UnixNanos);
    }

    public override Bar? LatestCandle(InstrumentId instrument, string symbol, string timeframe) => Control("read candles", c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT time, open, high, low, close, volume FROM candles WHERE symbol = $s AND timeframe = $tf ORDER BY time DESC LIMIT 1";
        cmd.Parameters.AddWithValue("$s", symbol);
        cmd.Parameters.AddWithValue("$tf", timeframe);
        using var r = cmd.ExecuteReader();
        return r.Read() ? CandleReader.ToBar(r, instrument) : (Bar?)null;
    });

    public override CandleStats CandleStatistics() => Control("read candle statistics", c =>
    {
        var series = new List<(string, string, long, Timestamp, Timestamp)>();
        using (var cmd = c.CreateCommand())
        {
            cmd.CommandText = "SELECT symbol, timeframe, COUNT(*), MIN(time), MAX(time) FROM candles GROUP BY symbol, timeframe ORDER BY symbol, timeframe";
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                series.Add((r.GetString(0), r.GetString(1), r.GetInt64(2), Timestamp.FromUnixNanos(r.GetInt64(3)), Timestamp.FromUnixNanos(r.GetInt64(4))));
            }
        }

        long size;
        try
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name = 'candles'";
            size = Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
        }
        catch (SqliteException)
        {
            // dbstat is not compiled in: fall back to the whole file.
            size = new FileInfo(_path).Length;
        }

        return new CandleStats(series.Sum(s => s.Item3), size, series);
    });

    private static readonly string[] LiveCandleParameters = ["$s", "$tf", "$t", "$o", "$h", "$l", "$c", "$v", "$n"];

    public override int UpsertLiveCandles(string timeframe, IReadOnlyList<Candle> candles)
    {
        if (candles.Count == 0)
        {
            return 0;
        }

        // Through ControlWrite like every other writer: with SQLite's own busy wait, a run's journal committing back to
        // back starved this writer past the timeout, and the live recorder died mid-stream.
        ControlWrite("store live candles", c => WriteLiveCandles(c, timeframe, candles));
        return candles.Count;
    }

    private static void WriteLiveCandles(SqliteConnection c, string timeframe, IReadOnlyList<Candle> candles)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = """
            INSERT INTO candles (symbol, timeframe, time, open, high, low, close, volume, tick_count) VALUES ($s, $tf, $t, $o, $h, $l, $c, $v, $n)
            ON CONFLICT (symbol, timeframe, time) DO UPDATE SET open = excluded.open, high = excluded.high, low = excluded.low,
                close = excluded.close, volume = excluded.volume, tick_count = excluded.tick_count
            """;
        var p = LiveCandleParameters.Select(n => cmd.Parameters.Add(n, SqliteType.Integer)).ToArray();
        p[0].SqliteType = SqliteType.Text;
        p[1].SqliteType = SqliteType.Text;
        p[1].Value = timeframe;
        foreach (var candle in candles)
        {
            var b = candle.Bar;
            p[0].Value = b.Instrument.Symbol;
            p[2].Value = b.Time.UnixNanos;
            p[3].Value = b.Open.Raw;
            p[4].Value = b.High.Raw;
            p[5].Value = b.Low.Raw;
            p[6].Value = b.Close.Raw;
            p[7].Value = b.Volume.Raw;
            p[8].Value = (long)candle.TickCount;
            cmd.ExecuteNonQuery();
        }
    }

    public override void RecordGap(CandleGap gap) => ControlWrite("record a candle gap", c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = """
            INSERT INTO candle_gaps (symbol, timeframe, gap_from, gap_to, reason, recorded_at) VALUES ($s, $tf, $f, $t, $r, $at)
            ON CONFLICT (symbol, timeframe, gap_from) DO UPDATE SET gap_to = MAX(gap_to, excluded.gap_to), reason = excluded.reason
            """;
        cmd.Parameters.AddWithValue("$s", gap.Symbol);
        cmd.Parameters.AddWithValue("$tf", gap.Timeframe);
        cmd.Parameters.AddWithValue("$f", gap.From.UnixNanos);
        cmd.Parameters.AddWithValue("$t", gap.To.UnixNanos);
        cmd.Parameters.AddWithValue("$r", gap.Reason);
        cmd.Parameters.AddWithValue("$at", gap.RecordedAt.UnixNanos);
        cmd.ExecuteNonQuery();
    });

    public override IReadOnlyList<CandleGap> Gaps(string symbol, string timeframe) => Control("read candle gaps", c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT gap_from, gap_to, reason, recorded_at FROM candle_gaps WHERE symbol = $s AND timeframe = $tf ORDER BY gap_from";
        cmd.Parameters.AddWithValue("$s", symbol);
        cmd.Parameters.AddWithValue("$tf", timeframe);
        using var r = cmd.ExecuteReader();
        var gaps = new List<CandleGap>();
        while (r.Read())
        {
            gaps.Add(new CandleGap(symbol, timeframe, Timestamp.FromUnixNanos(r.GetInt64(0)), Timestamp.FromUnixNanos(r.GetInt64(1)), r.GetString(2), Timestamp.FromUnixNanos(r.GetInt64(3))));
        }

        return (IReadOnlyList<CandleGap>)gaps;
    });

    public override IReadOnlyDictionary<Timestamp, long> TickCounts(string symbol, string timeframe) => Control("read candle tick counts", c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT time, tick_count FROM candles WHERE symbol = $s AND timeframe = $tf";
        cmd.Parameters.AddWithValue("$s", symbol);
        cmd.Parameters.AddWithValue("$tf", timeframe);
        using var r = cmd.ExecuteReader();
        var counts = new Dictionary<Timestamp, long>();
        while (r.Read())
        {
            counts[Timestamp.FromUnixNanos(r.GetInt64(0))] = r.GetInt64(1);
        }

        return (IReadOnlyDictionary<Timestamp, long>)counts;
    });

    /// <summary>A lock file beside the database (<c>.keel.db.run-ID.lock</c>) held open with an exclusive advisory lock.</summary>
    public override IDisposable? TryLockRun(string runId)
    {
        var dir = Path.GetDirectoryName(_path) ?? ".";
        var file = Path.Combine(dir, $".{Path.GetFileName(_path)}.run-{runId}.lock");
        try
        {
            var stream = new FileStream(file, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
            return new FileLock(stream, file);
        }
        catch (IOException) when (File.Exists(file))
        {
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StorageException($"cannot create the run lock {file} beside database {_path}: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Checkpoints the write-ahead log now, in the background (<see cref="StartCheckpoint"/>): the pages a recorded run
    /// wrote are copied into the database file and synced while the run writes its report. Otherwise the last
    /// connection to close does it, after the report, on the run's critical path (about 60 ms for a recorded 1M-bar
    /// backtest here).
    /// </summary>
    public override void SettleInBackground() => StartCheckpoint();

    /// <summary>
    /// Starts a PASSIVE checkpoint (it waits for no reader or writer) on another thread, or asks the one running to go
    /// again when it is done. The journal's connection never checkpoints itself (its automatic checkpoint is off), so
    /// neither the journal's writer nor an order waiting for the journal ever waits for the copy and its file syncs:
    /// about 100 ms at a time here, once per 16 MB of log by SQLite's default. A failed checkpoint is left to the next
    /// one and to the close, which checkpoints whatever is left.
    /// </summary>
    private void StartCheckpoint()
    {
        lock (_checkpointLock)
        {
            _journaledSinceCheckpoint = 0;
            if (_checkpointRunning)
            {
                _checkpointAgain = true;
                return;
            }

            _checkpointRunning = true;
            _checkpoint = Task.Run(CheckpointLoop);
        }
    }

    private void CheckpointLoop()
    {
        while (true)
        {
            try
            {
                var c = _checkpointConnection ??= Connect(_path, _options);
                using var cmd = c.CreateCommand();
                cmd.CommandText = "PRAGMA wal_checkpoint(PASSIVE);";
                cmd.ExecuteNonQuery();
            }
            catch (Exception ex) when (ex is SqliteException or StorageException or IOException)
            {
                // Best effort, see StartCheckpoint.
            }

            lock (_checkpointLock)
            {
                if (!_checkpointAgain)
                {
                    _checkpointRunning = false;
                    return;
                }

                _checkpointAgain = false;
            }
        }
    }

    /// <summary>The checkpoint <see cref="SettleInBackground"/> started, if any (tests wait for it).</summary>
    internal Task? Settling => _checkpoint;

    public override void Dispose()
    {
        try
        {
            _checkpoint?.Wait();
        }
        catch (AggregateException)
        {
            // A checkpoint that failed in a way not foreseen: the log still holds everything, and the close below checkpoints it.
        }

        _checkpointConnection?.Dispose();
        _payloadWriter.Dispose();
        if (_journalStatements is not null)
        {
            foreach (var st in _journalStatements.Values)
            {
                raw.sqlite3_finalize(st);
            }

            _journalStatements = null;
        }

        _journal?.Dispose();
        _control.Dispose();
    }

    private T Control<T>(string what, Func<SqliteConnection, T> action)
    {
        lock (_controlLock)
        {
            try
            {
                return action(_control);
            }
            catch (SqliteException ex)
            {
                throw Translate(_path, ex, what);
            }
        }
    }

    private void Control(string what, Action<SqliteConnection> action) => Control<object?>(what, c =>
    {
        action(c);
        return null;
    });

    private static void Exec(SqliteConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    // Binds copy the value (SQLITE_TRANSIENT) straight from a span: no per-value managed allocation.
    private static void Bind(sqlite3_stmt st, int index, string? value)
    {
        if (value is null)
        {
            raw.sqlite3_bind_null(st, index);
        }
        else if (value.Length == 0)
        {
            raw.sqlite3_bind_text(st, index, string.Empty); // an empty span would pass a null pointer, which binds NULL
        }
        else if (value.Length <= 128)
        {
            // Encoded here rather than by SQLite: binding UTF-16 into a UTF-8 database makes SQLite translate (and allocate) per value.
            Span<byte> utf8 = stackalloc byte[128 * 3];
            raw.sqlite3_bind_text(st, index, utf8[..System.Text.Encoding.UTF8.GetBytes(value, utf8)]);
        }
        else
        {
            raw.sqlite3_bind_text16(st, index, value.AsSpan());
        }
    }

    /// <summary>
    /// Binds a long text (a snapshot, about a megabyte) as the UTF-8 it already is; an empty span as the empty text, not
    /// as a null. Bound as UTF-16, SQLite copies the text at twice the size and then translates it to the database's
    /// UTF-8 with a second allocation of its own; the stored bytes are the same.
    /// </summary>
    private static void BindUtf8(sqlite3_stmt st, int index, ReadOnlySpan<byte> value)
    {
        if (value.IsEmpty)
        {
            Bind(st, index, string.Empty);
            return;
        }

        raw.sqlite3_bind_text(st, index, value);
    }

    private static void Bind(sqlite3_stmt st, int index, Price value)
    {
        Span<byte> text = stackalloc byte[40];
        raw.sqlite3_bind_text(st, index, text[..value.FormatUtf8(text)]);
    }

    private static void Bind(sqlite3_stmt st, int index, Price? value)
    {
        if (value is Price p)
        {
            Bind(st, index, p);
        }
        else
        {
            raw.sqlite3_bind_null(st, index);
        }
    }

    private static void Bind(sqlite3_stmt st, int index, Quantity value)
    {
        Span<byte> text = stackalloc byte[40];
        raw.sqlite3_bind_text(st, index, text[..value.FormatUtf8(text)]);
    }

    private static void Bind(sqlite3_stmt st, int index, Money value)
    {
        Span<byte> text = stackalloc byte[64];
        raw.sqlite3_bind_text(st, index, text[..value.FormatUtf8(text)]);
    }

    private static void BindDouble(sqlite3_stmt st, int index, double? value)
    {
        if (value is double d && double.IsFinite(d))
        {
            raw.sqlite3_bind_double(st, index, d);
        }
        else
        {
            raw.sqlite3_bind_null(st, index);
        }
    }

    private static void Step(sqlite3_stmt st, sqlite3 db)
    {
        int rc = raw.sqlite3_step(st);
        raw.sqlite3_reset(st);
        if (rc != raw.SQLITE_DONE && rc != raw.SQLITE_ROW)
        {
            throw new SqliteException(raw.sqlite3_errmsg(db).utf8_to_string(), rc);
        }
    }

    private static void Check(int rc, sqlite3 db, string what)
    {
        if (rc != raw.SQLITE_OK)
        {
            throw new SqliteException($"{what}: {raw.sqlite3_errmsg(db).utf8_to_string()}", rc);
        }
    }

    /// <summary>SQLite's result codes in words, with the database named.</summary>
    internal static StorageException Translate(string path, SqliteException ex, string what)
    {
        int primary = ex.SqliteErrorCode & 0xFF;
        return primary switch
        {
            5 or 6 => new StorageException($"database {path} is locked by another program (waited for it, then gave up while trying to {what}); close the other program or try again", ex, transient: true),
            8 => new StorageException($"database {path} is read-only (cannot {what}): {ex.Message}", ex),
            13 => new StorageException($"database {path} is full (the disk is full or its size limit is reached) while trying to {what}; nothing after the last commit was written", ex),
            11 or 26 => new StorageException($"database {path} is damaged or is not a Keel database ({ex.Message})", ex),
            14 when NotWritable(path) is string why => new StorageException($"database {path} is read-only ({why}); cannot {what}", ex),
            14 => new StorageException($"cannot open database {path}: {ex.Message}", ex),
            _ => new StorageException($"database {path}: could not {what}: {ex.Message}", ex),
        };
    }

    /// <summary>Why a database file (or, for a new one, its folder) cannot be written; null when it can.</summary>
    private static string? NotWritable(string path)
    {
        try
        {
            if (File.Exists(path))
            {
                using var probe = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
            }

            var dir = Path.GetDirectoryName(path) ?? ".";
            var test = Path.Combine(dir, $".keel-write-probe-{Environment.ProcessId}");
            using (File.Create(test))
            {
            }

            File.Delete(test);
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return ex.Message;
        }
    }

    internal static string StatusText(RunStatus status) => status.ToString().ToLowerInvariant();

    internal static RunStatus ParseStatus(string text) => Enum.TryParse<RunStatus>(text, ignoreCase: true, out var s) ? s : RunStatus.Failed;

    private static string EscapeLike(string text) => text.Replace("%", string.Empty, StringComparison.Ordinal).Replace("_", string.Empty, StringComparison.Ordinal);

    private static string? NullableString(SqliteDataReader r, string column)
    {
        int i = r.GetOrdinal(column);
        return r.IsDBNull(i) ? null : r.GetString(i);
    }

    private static Timestamp? NullableTime(SqliteDataReader r, string column)
    {
        int i = r.GetOrdinal(column);
        return r.IsDBNull(i) ? null : Timestamp.FromUnixNanos(r.GetInt64(i));
    }

    /// <summary>Streams candles from a query; owns its connection.</summary>
    private sealed class CandleReader(SqliteConnection connection, SqliteCommand command, SqliteDataReader reader, InstrumentId instrument, long total, string path) : IBarReader
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
            catch (SqliteException ex)
            {
                throw Translate(path, ex, "read candles");
            }

            bar = default;
            return false;
        }

        public static Bar ToBar(SqliteDataReader r, InstrumentId instrument) =>
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

/// <summary>An exclusive lock on a file, released (and the file removed) on dispose.</summary>
internal sealed class FileLock(FileStream stream, string path) : IDisposable
{
    public void Dispose()
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: a leftover lock file is harmless (the lock itself is gone with the handle).
        }

        stream.Dispose();
    }
}
