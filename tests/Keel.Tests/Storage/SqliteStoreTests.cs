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
    public void Deleting_Runs_ShrinksTheFile()
    {
        var store = Open();
        foreach (var id in new[] { "big-1", "big-2" })
        {
            store.CreateRun(NewRun(id));
            var batch = new Keel.Engine.Persistence.JournalBatch(id);
            for (int i = 1; i <= 20_000; i++)
            {
                batch.Events.Add(new Keel.Engine.Persistence.JournalEvent(i, "test.event", T0.AddNanos(i), new { n = i, text = "a journal entry long enough to take some room" }));
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
        Assert.Equal(20_000, store.Counts("big-2").Events);
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
