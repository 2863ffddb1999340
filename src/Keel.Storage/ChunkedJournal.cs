using System.Data.Common;

namespace Keel.Storage;

/// <summary>
/// The journal in <c>journal_chunks</c>, as both stores keep it (SQLite from schema version 7, PostgreSQL from its
/// version 7): the one upsert that writes a chunk, the readers (records in key order, one per key, paged), the counts,
/// and the migration that moves a run's rows out of the old row tables. Plain ADO.NET, so the SQL is the same on both;
/// parameters are named <c>@name</c>. One per store: it keeps the last chunks it decoded.
/// </summary>
internal sealed class ChunkedJournal(string where)
{
    /// <summary>
    /// A chunk written again (a resumed run replays what it had journaled) replaces the stored one only when it covers
    /// more: where two chunks overlap their records are equal, and readers keep one record per key.
    /// </summary>
    public const string Upsert = """
        INSERT INTO journal_chunks (run_id, kind, first_key, last_key, rows, body) VALUES (@run, @kind, @first, @last, @rows, @body)
        ON CONFLICT (run_id, kind, first_key) DO UPDATE SET last_key = excluded.last_key, rows = excluded.rows, body = excluded.body
        WHERE excluded.last_key > journal_chunks.last_key OR (excluded.last_key = journal_chunks.last_key AND excluded.rows > journal_chunks.rows)
        """;

    /// <summary>Rows a chunk holds when the migration moves rows into chunks.</summary>
    public const int MovedChunkRows = 4096;

    public delegate (long Key, T Row) ChunkRow<T>(ref JournalChunks.Reader r);

    private readonly record struct ChunkId(string RunId, ChunkKind Kind, long FirstKey, long LastKey, long Rows);

    // The last chunks decoded by a read.
    private readonly (ChunkId Id, object Rows)[] _decoded = new (ChunkId, object)[16];
    private int _decodedNext;

    public static void Add(DbCommand cmd, string name, object value)
    {
        var p = cmd.CreateParameter();
        p.ParameterName = name;
        p.Value = value;
        cmd.Parameters.Add(p);
    }

    public IReadOnlyList<StoredEvent> ReadEvents(DbConnection c, string runId, long sinceSequence, int limit) =>
        ReadKeyed(c, runId, ChunkKind.Events, sinceSequence, limit, static (ref JournalChunks.Reader r) =>
        {
            var e = JournalChunks.ReadEvent(ref r);
            return (e.Sequence, e);
        });

    public IReadOnlyList<StoredFill> ReadFills(DbConnection c, string runId, long afterSequence, int limit) =>
        ReadKeyed(c, runId, ChunkKind.Fills, afterSequence, limit, static (ref JournalChunks.Reader r) =>
        {
            var f = JournalChunks.ReadFill(ref r);
            return (f.Sequence, f);
        });

    public IReadOnlyList<StoredTrade> ReadTrades(DbConnection c, string runId, long afterTradeId, int limit) =>
        ReadKeyed(c, runId, ChunkKind.Trades, afterTradeId, limit, static (ref JournalChunks.Reader r) =>
        {
            var t = JournalChunks.ReadTrade(ref r);
            return (t.TradeId, t);
        });

    /// <summary>Every state of every order, the latest (highest sequence) kept; a later chunk wins a tie.</summary>
    public IReadOnlyList<StoredOrder> ReadOrders(DbConnection c, string runId)
    {
        var latest = new Dictionary<string, (long Sequence, StoredOrder Order)>(StringComparer.Ordinal);
        foreach (var (_, body) in Chunks(c, runId, ChunkKind.Orders, long.MinValue))
        {
            var r = new JournalChunks.Reader(body, where);
            while (!r.End)
            {
                var (seq, order) = JournalChunks.ReadOrder(ref r);
                if (!latest.TryGetValue(order.Id, out var known) || known.Sequence <= seq)
                {
                    latest[order.Id] = (seq, order);
                }
            }
        }

        return latest.Values.Select(v => v.Order).OrderBy(o => o.Number).ThenBy(o => o.Id, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// The chunks of one kind of a run whose keys reach past <paramref name="after"/>, in order of their first key:
    /// first_key, last_key, rows, body.
    /// </summary>
    private static DbCommand ChunkQuery(DbConnection c, string runId, ChunkKind kind, long after)
    {
        var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT first_key, last_key, rows, body FROM journal_chunks WHERE run_id = @run AND kind = @kind AND last_key > @after ORDER BY first_key";
        Add(cmd, "@run", runId);
        Add(cmd, "@kind", (int)kind);
        Add(cmd, "@after", after);
        return cmd;
    }

    /// <summary>The bodies of <see cref="ChunkQuery"/>'s chunks.</summary>
    private static IEnumerable<(long FirstKey, byte[] Body)> Chunks(DbConnection c, string runId, ChunkKind kind, long after)
    {
        using var cmd = ChunkQuery(c, runId, kind, after);
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            yield return (r.GetInt64(0), (byte[])r.GetValue(3));
        }
    }

    /// <summary>
    /// Up to <paramref name="limit"/> rows with keys above <paramref name="after"/>, in key order, one per key. Chunks are
    /// read in order of their first key until the rows in hand are the smallest there are (no later chunk starts below
    /// the last of them); chunks that overlap, after a resume, hold equal rows where they do.
    /// </summary>
    private List<T> ReadKeyed<T>(DbConnection c, string runId, ChunkKind kind, long after, int limit, ChunkRow<T> read)
    {
        var rows = new List<(long Key, T Row)>();
        if (limit <= 0)
        {
            return [];
        }

        using var cmd = ChunkQuery(c, runId, kind, after);
        using var chunks = cmd.ExecuteReader();
        while (chunks.Read())
        {
            long firstKey = chunks.GetInt64(0);
            if (rows.Count >= limit)
            {
                Settle(rows, limit);
                if (firstKey > rows[^1].Key)
                {
                    break;
                }
            }

            // A chunk is decoded once and kept among the last few read: a client paging through a run's events reads
            // each chunk several times. A chunk written again over this one has another range or count, so another id.
            var id = new ChunkId(runId, kind, firstKey, chunks.GetInt64(1), chunks.GetInt64(2));
            if (Decoded(id) is not List<(long Key, T Row)> decoded)
            {
                decoded = [];
                var r = new JournalChunks.Reader((byte[])chunks.GetValue(3), where);
                while (!r.End)
                {
                    decoded.Add(read(ref r));
                }

                Remember(id, decoded);
            }

            foreach (var row in decoded)
            {
                if (row.Key > after)
                {
                    rows.Add(row);
                }
            }
        }

        Settle(rows, limit);
        return rows.ConvertAll(r => r.Row);

        static void Settle(List<(long Key, T Row)> rows, int limit)
        {
            rows.Sort(static (a, b) => a.Key.CompareTo(b.Key));
            int kept = 0;
            for (int i = 0; i < rows.Count && kept < limit; i++)
            {
                if (kept == 0 || rows[kept - 1].Key != rows[i].Key)
                {
                    rows[kept++] = rows[i];
                }
            }

            rows.RemoveRange(kept, rows.Count - kept);
        }
    }

    // Reads may run on several threads at once (PostgreSQL's pooled connections): the cache is taken under a lock.
    private object? Decoded(ChunkId id)
    {
        lock (_decoded)
        {
            foreach (var (known, rows) in _decoded)
            {
                if (rows is not null && known == id)
                {
                    return rows;
                }
            }

            return null;
        }
    }

    private void Remember(ChunkId id, object rows)
    {
        lock (_decoded)
        {
            _decoded[_decodedNext] = (id, rows);
            _decodedNext = (_decodedNext + 1) % _decoded.Length;
        }
    }

    /// <summary>Records of one kind, one per key (orders: one per order id).</summary>
    public long Count(DbConnection c, string runId, ChunkKind kind)
    {
        // Events, fills and trades: when no two chunks overlap (no resume rewrote any), the row counts add up.
        if (kind != ChunkKind.Orders)
        {
            using var ranges = c.CreateCommand();
            ranges.CommandText = "SELECT first_key, last_key, rows FROM journal_chunks WHERE run_id = @run AND kind = @kind ORDER BY first_key";
            Add(ranges, "@run", runId);
            Add(ranges, "@kind", (int)kind);
            long total = 0, reached = long.MinValue;
            bool overlap = false;
            using (var r = ranges.ExecuteReader())
            {
                while (r.Read() && !overlap)
                {
                    overlap = r.GetInt64(0) <= reached;
                    reached = Math.Max(reached, r.GetInt64(1));
                    total += r.GetInt64(2);
                }
            }

            if (!overlap)
            {
                return total;
            }
        }

        var keys = new HashSet<long>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (_, body) in Chunks(c, runId, kind, long.MinValue))
        {
            var r = new JournalChunks.Reader(body, where);
            while (!r.End)
            {
                long key = JournalChunks.ReadKey(ref r, kind, out var orderId);
                if (orderId is not null)
                {
                    ids.Add(orderId);
                }
                else
                {
                    keys.Add(key);
                }
            }
        }

        return kind == ChunkKind.Orders ? ids.Count : keys.Count;
    }

    /// <summary>
    /// PostgreSQL's migration to chunks (SQLite's streams its rows the same way, in <see cref="SqliteStore"/>): the
    /// events, orders, fills and trades of every run recorded before it are moved into <c>journal_chunks</c> (in key
    /// order, <see cref="MovedChunkRows"/> rows a chunk, compressed, texts and numbers as stored; a kind's chunks are
    /// built in memory and then inserted, as one connection runs one command at a time) and the four row tables
    /// dropped, all in the migration's transaction. An order row held only its latest state, with no
    /// sequence: it moves with sequence 0, in chunks keyed by its number less 2^62, so any state a resumed run writes
    /// later sorts after it and wins. <paramref name="numeric"/> turns a numeric column into its text (PostgreSQL's
    /// <c>::text</c>; SQLite stores the text already).
    /// </summary>
    public static void MoveRowsIntoChunks(DbConnection c, DbTransaction tx, Func<string, string> numeric)
    {
        string N(string column) => numeric(column) + " AS " + column;
        (ChunkKind Kind, string Select)[] kinds =
        [
            (ChunkKind.Events, "SELECT run_id, seq, seq, type, time, payload FROM events ORDER BY run_id, seq"),
            (ChunkKind.Orders, $"""
                SELECT run_id, number - 4611686018427387904, CAST(0 AS BIGINT), client_order_id, number, instrument, side, type, {N("quantity")}, {N("limit_price")}, {N("stop_price")}, time_in_force, status,
                    created_at, updated_at, {N("filled_quantity")}, {N("avg_fill_price")}, {N("commission")}, contingency, parent_id, venue_order_id, tag, reason
                FROM orders ORDER BY run_id, number, client_order_id
                """),
            (ChunkKind.Fills, $"""
                SELECT run_id, seq, trade_id, seq, client_order_id, instrument, side, {N("quantity")}, {N("price")}, {N("commission")}, {N("realized_pnl")}, {N("position_after")}, time
                FROM fills ORDER BY run_id, seq, trade_id
                """),
            (ChunkKind.Trades, $"""
                SELECT run_id, trade_id, trade_id, instrument, direction, entry_time, {N("entry_price")}, exit_time, {N("exit_price")}, {N("quantity")}, {N("gross_pnl")},
                    {N("commission")}, {N("net_pnl")}, return, bars_held
                FROM trades ORDER BY run_id, trade_id
                """),
        ];
        var w = new JournalChunks.Writer();
        using var insert = c.CreateCommand();
        insert.Transaction = tx;
        insert.CommandText = "INSERT INTO journal_chunks (run_id, kind, first_key, last_key, rows, body) VALUES (@run, @kind, @first, @last, @rows, @body)";
        var chunks = new List<(string Run, ChunkKind Kind, long First, long Last, long Rows, byte[] Body)>();
        foreach (var (kind, select) in kinds)
        {
            // Read all of a kind first (a connection runs one command at a time), then insert its chunks.
            chunks.Clear();
            using (var read = c.CreateCommand())
            {
                read.Transaction = tx;
                read.CommandText = select;
                using var r = read.ExecuteReader();
                ChunkRows(r, w, compress: true, (run, first, last, rows, body) => chunks.Add((run, kind, first, last, rows, body.ToArray())));
            }

            foreach (var chunk in chunks)
            {
                insert.Parameters.Clear();
                Add(insert, "@run", chunk.Run);
                Add(insert, "@kind", (int)chunk.Kind);
                Add(insert, "@first", chunk.First);
                Add(insert, "@last", chunk.Last);
                Add(insert, "@rows", chunk.Rows);
                Add(insert, "@body", chunk.Body);
                insert.ExecuteNonQuery();
            }
        }

        using var drop = c.CreateCommand();
        drop.Transaction = tx;
        drop.CommandText = "DROP TABLE events; DROP TABLE orders; DROP TABLE fills; DROP TABLE trades;";
        drop.ExecuteNonQuery();
    }

    /// <summary>
    /// Encodes the rows of a migration's query — the run id, the key, then the row's values — into chunks of one run
    /// and at most <see cref="MovedChunkRows"/> rows each, in the reader's order, and hands each to
    /// <paramref name="emit"/> (run, first key, last key, rows, body; the body is only valid during the call).
    /// </summary>
    internal static void ChunkRows(DbDataReader r, JournalChunks.Writer w, bool compress, ChunkSink emit)
    {
        string? run = null;
        long first = 0, last = 0;
        int rows = 0;
        while (true)
        {
            bool more = r.Read();
            string? next = more ? r.GetString(0) : null;
            if (rows > 0 && (next != run || rows == MovedChunkRows))
            {
                emit(run!, first, last, rows, compress ? w.Packed() : w.Written);
                rows = 0;
            }

            if (!more)
            {
                break;
            }

            if (rows == 0)
            {
                w.Start();
                run = next;
                first = r.GetInt64(1);
            }

            last = r.GetInt64(1);
            rows++;
            for (int i = 2; i < r.FieldCount; i++)
            {
                if (r.IsDBNull(i))
                {
                    w.WriteNull();
                }
                else if (r.GetFieldType(i) == typeof(long) || r.GetFieldType(i) == typeof(int))
                {
                    w.Write(Convert.ToInt64(r.GetValue(i), System.Globalization.CultureInfo.InvariantCulture));
                }
                else if (r.GetFieldType(i) == typeof(double))
                {
                    w.Write(r.GetDouble(i));
                }
                else
                {
                    w.Write(r.GetString(i));
                }
            }
        }
    }

    /// <summary>Receives one chunk of <see cref="ChunkRows"/>.</summary>
    internal delegate void ChunkSink(string run, long first, long last, int rows, ReadOnlySpan<byte> body);
}
