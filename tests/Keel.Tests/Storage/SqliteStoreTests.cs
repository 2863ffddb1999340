using Keel.Domain;
using Keel.Storage;
using Keel.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Keel.Tests.Storage;

/// <summary>The store contract on a SQLite file, plus SQLite's own faults: a lock held elsewhere, a full disk.</summary>
public sealed class SqliteStoreTests : StoreContract
{
    private readonly TempDir _dir = new();

    private string DbPath => _dir.File("keel.db");

    protected override KeelStore OpenNew(StoreOptions? options = null) => KeelStore.Open(DbPath, options);

    protected override void Exec(string sql)
    {
        using var c = Raw();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    protected override long Count(string sql)
    {
        using var c = Raw();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return Convert.ToInt64(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public override void Dispose()
    {
        base.Dispose();
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    [Fact]
    public void A_PathSelectsSqlite_AndAConnectionStringPostgres()
    {
        Assert.False(KeelStore.IsPostgres("/tmp/keel.db"));
        Assert.False(KeelStore.IsPostgres("data/hosts.db"));
        Assert.True(KeelStore.IsPostgres("Host=127.0.0.1;Database=keel"));
        Assert.True(KeelStore.IsPostgres("postgres://keel:pw@localhost:5432/keel"));
        Assert.True(KeelStore.IsPostgres("postgresql://localhost/keel"));
        using var store = Open();
        Assert.Equal("sqlite", store.Backend);
        Assert.Equal(DbPath, store.Describe);
        Assert.Equal("wal", Scalar("PRAGMA journal_mode"));
    }

    /// <summary>
    /// Settling moves what the write-ahead log holds into the database file while the store stays open (before, only
    /// the last connection's close did, at the end of the run).
    /// </summary>
    [Fact]
    public async Task Settling_CheckpointsTheLogIntoTheDatabaseFile_WhileTheStoreIsOpen()
    {
        var store = (SqliteStore)Open();
        store.CreateRun(NewRun("r-wal"));
        var batch = new Keel.Engine.Persistence.JournalBatch("r-wal");
        var random = new Random(7);
        for (int i = 1; i <= 20_000; i++)
        {
            // Random text, so the journal's compressed chunks are large: about 1 MB of pages.
            var noise = new byte[96];
            random.NextBytes(noise);
            batch.Events.Add(new Keel.Engine.Persistence.JournalEvent(i, "test.event", T0.AddNanos(i), new { n = i, noise = Convert.ToHexString(noise) }));
        }

        store.Write(batch);
        long before = new FileInfo(DbPath).Length;
        long wal = new FileInfo(DbPath + "-wal").Length;
        Assert.True(wal > 500_000, $"the journal is in the log before settling (log {wal} bytes, database {before})");

        store.SettleInBackground();
        await store.Settling!.WaitAsync(TimeSpan.FromSeconds(30));
        long after = new FileInfo(DbPath).Length;
        Assert.True(after >= before + 500_000, $"the database file grew from {before} to {after} bytes only");
        Assert.Equal(20_000, store.Counts("r-wal").Events);
    }

    [Fact]
    public void A_DatabaseLockedByAnotherProgram_FailsWithTheDatabaseAndCauseNamed()
    {
        var store = Open(new StoreOptions { BusyTimeout = TimeSpan.FromMilliseconds(200) });
        store.CreateRun(NewRun("r-locked"));
        using var other = Raw();
        using (var begin = other.CreateCommand())
        {
            begin.CommandText = "BEGIN IMMEDIATE";
            begin.ExecuteNonQuery();
        }

        var ex = Assert.Throws<StorageException>(() => store.CreateRun(NewRun("r-2")));
        Assert.Contains(DbPath, ex.Message, StringComparison.Ordinal);
        Assert.Contains("locked", ex.Message, StringComparison.Ordinal);
        Assert.True(ex.IsTransient);

        using (var rollback = other.CreateCommand())
        {
            rollback.CommandText = "ROLLBACK";
            rollback.ExecuteNonQuery();
        }

        store.CreateRun(NewRun("r-2"));
        Assert.NotNull(store.FindRun("r-2"));
    }

    [Fact]
    public void A_FullDisk_FailsTheWrite_AndKeepsEverythingCommittedBefore()
    {
        var store = Open();
        store.CreateRun(NewRun("r-full"));
        long pages = Convert.ToInt64(Scalar("PRAGMA page_count"), System.Globalization.CultureInfo.InvariantCulture);
        store.Dispose();

        using var capped = OpenNew(new StoreOptions { SqliteMaxPages = pages + 8 });
        var id = new Keel.Domain.InstrumentId("X");
        var bars = Enumerable.Range(0, 50_000).Select(i => new Keel.Domain.Bar(id, T0.AddNanos(i * 60L * Keel.Domain.Timestamp.NanosPerSecond),
            Keel.Domain.Price.From(10), Keel.Domain.Price.From(11), Keel.Domain.Price.From(9), Keel.Domain.Price.From(10), Keel.Domain.Quantity.From(5))).ToList();
        var ex = Assert.Throws<StorageException>(() => capped.ImportCandles("X", "1m", new Keel.Engine.Data.ListBarReader(bars)));
        Assert.Contains(DbPath, ex.Message, StringComparison.Ordinal);
        Assert.Contains("full", ex.Message, StringComparison.Ordinal);

        using var after = OpenNew();
        Assert.NotNull(after.FindRun("r-full"));
        Assert.Equal("ok", Scalar("PRAGMA integrity_check"));
    }

    [Fact]
    public void A_FileThatIsNotADatabase_IsNamedAsSuch()
    {
        File.WriteAllText(DbPath, "this is not a database, it is a text file that happens to be long enough to have a header");
        var ex = Assert.Throws<StorageException>(() => OpenNew());
        Assert.Contains(DbPath, ex.Message, StringComparison.Ordinal);
        Assert.Contains("not a Keel database", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_ReadOnlyDatabase_FailsWithTheDatabaseAndCauseNamed_AndIsLeftIntact()
    {
        using var folder = ReadOnlyFolder.Create(_dir.File("ro"), prepare: path =>
        {
            using var store = KeelStore.Open(Path.Combine(path, "keel.db"));
            store.CreateRun(NewRun("r-ro"));
        });
        var db = Path.Combine(folder.Path, "keel.db");
        var before = File.ReadAllBytes(db);
        var ex = Assert.ThrowsAny<StorageException>(() =>
        {
            using var store = KeelStore.Open(db);
            store.CreateRun(NewRun("r-2"));
        });
        Assert.Contains(db, ex.Message, StringComparison.Ordinal);
        Assert.Contains("read-only", ex.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(db));
    }

    [Fact]
    public void A_Version6Database_HasItsJournalRows_MovedIntoChunks_ReadBackAsTheyWere()
    {
        // A file as Keel wrote it before journal chunks (schema version 6), with rows in the four row tables.
        using (var c = Raw())
        {
            using (var create = c.CreateCommand())
            {
                create.CommandText = "CREATE TABLE schema_version (version INTEGER NOT NULL PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL);";
                create.ExecuteNonQuery();
            }

            foreach (var m in Migrations.Sqlite.Where(m => m.Version <= 6))
            {
                using var cmd = c.CreateCommand();
                cmd.CommandText = m.Sql + $"; INSERT INTO schema_version (version, description, applied_at) VALUES ({m.Version}, 'old', 0);";
                cmd.ExecuteNonQuery();
            }

            using var rows = c.CreateCommand();
            rows.CommandText = """
                INSERT INTO events VALUES ('old', 1, 'kernel.state', 0, '{"from":"created","to":"running"}'), ('old', 7, 'order.submitted', 60, '{"order":"O-1"}'),
                    ('old', 9, 'order.filled', 60, '{"order":"O-1"}'), ('other', 3, 'kernel.state', 0, '{}');
                INSERT INTO orders VALUES ('old', 'O-2', 2, 'ORCL', 'sell', 'limit', '1', '40.5', NULL, 'gtc', 'accepted', 60, 61, '0', NULL, '0', '', NULL, 'SIM-2', 'exit', NULL),
                    ('old', 'O-1', 1, 'ORCL', 'buy', 'market', '1', NULL, NULL, 'gtc', 'filled', 60, 60, '1', '39.99', '0.04', '', NULL, 'SIM-1', NULL, NULL);
                INSERT INTO fills VALUES ('old', 'T-1', 9, 'O-1', 'ORCL', 'buy', '1', '39.99', '0.04', '0', '1', 60);
                INSERT INTO trades VALUES ('old', 1, 'ORCL', 'long', 60, '39.99', NULL, NULL, '1', '0.5', '0.08', '0.42', 0.0105, 3);
                """;
            rows.ExecuteNonQuery();
        }

        SqliteConnection.ClearAllPools();
        var store = Open();
        Assert.Equal(7, store.SchemaVersion);
        Assert.Equal(0, Count("SELECT COUNT(*) FROM sqlite_master WHERE name IN ('events', 'orders', 'fills', 'trades')"));
        Assert.Equal(
            [new StoredEvent(1, "kernel.state", Timestamp.FromUnixNanos(0), "{\"from\":\"created\",\"to\":\"running\"}"), new StoredEvent(7, "order.submitted", Timestamp.FromUnixNanos(60), "{\"order\":\"O-1\"}"), new StoredEvent(9, "order.filled", Timestamp.FromUnixNanos(60), "{\"order\":\"O-1\"}")],
            store.ReadEvents("old", 0, 10));
        Assert.Equal([9L], store.ReadEvents("old", 7, 10).Select(e => e.Sequence));
        Assert.Equal([3L], store.ReadEvents("other", 0, 10).Select(e => e.Sequence));
        Assert.Equal(
            [new StoredOrder("O-1", 1, "ORCL", "buy", "market", "1", null, null, "gtc", "filled"), new StoredOrder("O-2", 2, "ORCL", "sell", "limit", "1", "40.5", null, "gtc", "accepted")],
            store.ReadOrders("old"));
        Assert.Equal([new StoredFill("T-1", 9, "O-1", "ORCL", "buy", "1", "39.99", "0.04", "0", "1", Timestamp.FromUnixNanos(60))], store.ReadFills("old", 0, 10));
        Assert.Equal([new StoredTrade(1, "ORCL", "long", Timestamp.FromUnixNanos(60), "39.99", null, null, "1", "0.5", "0.08", "0.42", 0.0105, 3)], store.ReadTrades("old", 0, 10));
        Assert.Equal(new RunCounts(3, 2, 1, 1, 0, 0, 0), store.Counts("old"));

        // A resumed old run writes its later states as chunks; they win over the moved rows.
        var batch = new Keel.Engine.Persistence.JournalBatch("old");
        batch.Events.Add(new Keel.Engine.Persistence.JournalEvent(12, "order.canceled", Timestamp.FromUnixNanos(70), new object()));
        batch.SetOrder(new Keel.Engine.Persistence.OrderRecord(
            new ClientOrderId("O-2"), 2, Instrument.Equity("ORCL").Id, Keel.Domain.Orders.OrderSide.Sell, Keel.Domain.Orders.OrderType.Limit, Quantity.From(1), Price.From(40.5m), null,
            Keel.Domain.Orders.TimeInForce.Gtc, Keel.Domain.Orders.OrderStatus.Canceled, Timestamp.FromUnixNanos(60), Timestamp.FromUnixNanos(70), Quantity.Zero, null, Money.Zero,
            Keel.Domain.Orders.ContingencyType.None, null, null, "exit", null)
        { Sequence = 12 });
        store.Write(batch);
        Assert.Equal(["filled", "canceled"], store.ReadOrders("old").Select(o => o.Status));
        Assert.Equal(4, store.Counts("old").Events);
        Assert.Equal("ok", Scalar("PRAGMA integrity_check"));
    }

    [Fact]
    public void Deleting_Runs_ShrinksTheFile()
    {
        var store = Open();
        foreach (var id in new[] { "big-1", "big-2" })
        {
            store.CreateRun(NewRun(id));
            var batch = new Keel.Engine.Persistence.JournalBatch(id);
            for (int i = 1; i <= 100_000; i++)
            {
                // A message that does not compress away (the journal's chunks are compressed).
                var message = string.Concat(Enumerable.Range(0, 4).Select(k => ((uint)((i * 4 + k) * 2654435761u)).ToString("x8", System.Globalization.CultureInfo.InvariantCulture)));
                batch.Events.Add(new Keel.Engine.Persistence.JournalEvent(i, "test.event", T0.AddNanos(i), new Keel.Engine.Kernel.KernelNotice(Keel.Engine.Kernel.NoticeLevel.Info, "test", message, T0)));
            }

            store.Write(batch);
        }

        Exec("PRAGMA wal_checkpoint(TRUNCATE)");
        long full = new FileInfo(DbPath).Length;
        Assert.True(full > 1_000_000, $"the file is only {full} bytes");

        var result = Keel.Runtime.RunCleanup.Delete(store, ["big-1"]);
        var space = result.Space!;
        long after = new FileInfo(DbPath).Length;
        Assert.Equal(full, space.Before);
        Assert.Equal(after, space.After);
        Assert.True(after < full * 0.6, $"{full} bytes before, {after} after deleting half of the journal");
        Assert.Equal(100_000, store.Counts("big-2").Events);
        Assert.Equal("ok", Scalar("PRAGMA integrity_check"));
    }

    private object? Scalar(string sql)
    {
        using var c = Raw();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return cmd.ExecuteScalar();
    }

    private SqliteConnection Raw()
    {
        var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DbPath, Pooling = false }.ToString());
        c.Open();
        return c;
    }
}
