using Keel.Domain;
using Keel.Domain.Orders;
using Keel.Engine.Persistence;
using Keel.Storage;
using Keel.Tests.Support;

namespace Keel.Tests.Storage;

/// <summary>The store contract against a real PostgreSQL server (the one test.sh starts), one schema per test.</summary>
[UsesPostgres]
public sealed class PostgresStoreTests : StoreContract
{
    private readonly Lazy<Postgres.Schema> _schema = new(Postgres.NewSchema);

    protected override KeelStore OpenNew(StoreOptions? options = null) => KeelStore.Open(_schema.Value.ConnectionString, options);

    protected override void Exec(string sql) => _schema.Value.Exec($"SET search_path TO {_schema.Value.Name}; {sql}");

    protected override long Count(string sql) => Convert.ToInt64(_schema.Value.Scalar(sql), System.Globalization.CultureInfo.InvariantCulture);

    public override void Dispose()
    {
        base.Dispose();
        if (_schema.IsValueCreated)
        {
            _schema.Value.Dispose();
        }
    }

    [PostgresFact]
    public void The_ConnectionString_SelectsPostgres_AndThePasswordIsNeverShown()
    {
        using var store = Open();
        Assert.Equal("postgres", store.Backend);
        Assert.StartsWith("postgres://", store.Describe, StringComparison.Ordinal);
        Assert.DoesNotContain("Password", store.Describe, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(":keel@", store.Describe, StringComparison.Ordinal);
    }

    /// <summary>
    /// A database of schema version 6 (the journal as rows) opens at version 7 with its rows moved into chunks: read back
    /// as they were (numerics as PostgreSQL printed them), counted, and a later state written by a resumed run wins.
    /// </summary>
    [PostgresFact]
    public void A_Version6Database_HasItsRowsMovedIntoChunks()
    {
        var schema = _schema.Value;
        schema.Exec($"SET search_path TO {schema.Name}; CREATE TABLE schema_version (version INTEGER NOT NULL PRIMARY KEY, description TEXT NOT NULL, applied_at BIGINT NOT NULL)");
        foreach (var m in Migrations.Postgres.Where(m => m.Version <= 6))
        {
            schema.Exec($"SET search_path TO {schema.Name}; {m.Sql}; INSERT INTO schema_version (version, description, applied_at) VALUES ({m.Version}, 'old', 0);");
        }

        schema.Exec($$"""
            SET search_path TO {{schema.Name}};
            INSERT INTO events VALUES ('old', 1, 'kernel.state', 0, '{"from":"created","to":"running"}'), ('old', 7, 'order.submitted', 60, '{"order":"O-1"}'),
                ('old', 9, 'order.filled', 60, '{"order":"O-1"}'), ('other', 3, 'kernel.state', 0, '{}');
            INSERT INTO orders VALUES ('old', 'O-2', 2, 'ORCL', 'sell', 'limit', 1, 40.5, NULL, 'gtc', 'accepted', 60, 61, 0, NULL, 0, '', NULL, 'SIM-2', 'exit', NULL),
                ('old', 'O-1', 1, 'ORCL', 'buy', 'market', 1, NULL, NULL, 'gtc', 'filled', 60, 60, 1, 39.99, 0.04, '', NULL, 'SIM-1', NULL, NULL);
            INSERT INTO fills VALUES ('old', 'T-1', 9, 'O-1', 'ORCL', 'buy', 1, 39.99, 0.04, 0, 1, 60);
            INSERT INTO trades VALUES ('old', 1, 'ORCL', 'long', 60, 39.99, NULL, NULL, 1, 0.5, 0.08, 0.42, 0.0105, 3);
            """);

        var store = Open();
        Assert.Equal(7, store.SchemaVersion);
        Assert.Equal(0, Count("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name IN ('events', 'orders', 'fills', 'trades')"));
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
        var batch = new JournalBatch("old");
        batch.Events.Add(new JournalEvent(12, "order.canceled", Timestamp.FromUnixNanos(70), new object()));
        batch.SetOrder(new OrderRecord(
            new ClientOrderId("O-2"), 2, Instrument.Equity("ORCL").Id, OrderSide.Sell, OrderType.Limit, Quantity.From(1), Price.From(40.5m), null,
            TimeInForce.Gtc, OrderStatus.Canceled, Timestamp.FromUnixNanos(60), Timestamp.FromUnixNanos(70), Quantity.Zero, null, Money.Zero,
            ContingencyType.None, null, null, "exit", null)
        { Sequence = 12 });
        store.Write(batch);
        Assert.Equal(["filled", "canceled"], store.ReadOrders("old").Select(o => o.Status));
        Assert.Equal(4, store.Counts("old").Events);
    }

    /// <summary>Exact numbers of every shape read back digit for digit from the journal's chunks.</summary>
    [PostgresTheory]
    [InlineData("0", "0.000000001", "-0.25")]
    [InlineData("1", "10000", "9999.9999")]
    [InlineData("12345.6789", "100000000", "0.00001")]
    [InlineData("9223372036.854775807", "-123456789.987654321", "20000.00002")]
    public void Exact_Numbers_AreReadBackDigitForDigit(string quantity, string limit, string stop)
    {
        var store = Open();
        store.CreateRun(NewRun("run-n"));
        var batch = new JournalBatch("run-n");
        batch.Events.Add(new JournalEvent(1, "order.test", T0, new object()));
        batch.SetOrder(new OrderRecord(
            new ClientOrderId("O-1"), 1, Instrument.Equity("ORCL").Id, OrderSide.Buy, OrderType.StopLimit, Quantity.Parse(quantity), Price.Parse(limit), Price.Parse(stop),
            TimeInForce.Gtc, OrderStatus.Submitted, T0, T0, Quantity.Zero, null, Money.Zero, ContingencyType.None, null, null, "tag é ✓", null)
        {
            Sequence = 1,
        });
        store.Write(batch);

        var read = Assert.Single(store.ReadOrders("run-n"));
        Assert.Equal((quantity, limit, stop), (read.Quantity, read.LimitPrice, read.StopPrice));
    }

    [Fact]
    public void An_UnreachableServer_FailsWithTheServerNamed_AndNoPassword()
    {
        var ex = Assert.Throws<StorageException>(() => KeelStore.Open("Host=127.0.0.1;Port=1;Username=u;Password=s3cret-pw;Database=nope;Timeout=2"));
        Assert.Contains("127.0.0.1:1", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret-pw", ex.Message, StringComparison.Ordinal);
    }
}
