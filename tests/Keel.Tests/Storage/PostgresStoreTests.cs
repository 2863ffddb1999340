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
    /// The journal's binary COPY encodes numerics itself (base-10000 digits from the exact text): every shape of
    /// number reads back digit for digit — zero, signs, leading and trailing zero groups, and money wider than decimal.
    /// </summary>
    [PostgresTheory]
    [InlineData("0", "0.000000001", "-0.25", "0")]
    [InlineData("1", "10000", "9999.9999", "-1")]
    [InlineData("12345.6789", "100000000", "0.00001", "123456789012345678.123456789012345678")]
    [InlineData("1.5", "-123456789.987654321", "0.0001", "-0.000000000000000001")]
    [InlineData("9223372036.854775807", "1000.1", "20000.00002", "-123456789012345678901.000000000000000005")]
    public void Exact_Numbers_AreWrittenDigitForDigit(string quantity, string limit, string stop, string commission)
    {
        var store = Open();
        store.CreateRun(NewRun("run-n"));
        var order = new OrderRecord(
            new ClientOrderId("O-1"), 1, Instrument.Equity("ORCL").Id, OrderSide.Buy, OrderType.StopLimit, Quantity.Parse(quantity), Price.Parse(limit), Price.Parse(stop),
            TimeInForce.Gtc, OrderStatus.Submitted, T0, T0, Quantity.Zero, null, Money.Parse(commission), ContingencyType.None, null, null, "tag é ✓", null)
        {
            Sequence = 1,
        };
        var batch = new JournalBatch("run-n");
        batch.Events.Add(new JournalEvent(1, "order.test", T0, new object()));
        batch.SetOrder(order);
        store.Write(batch);

        var read = Assert.Single(store.ReadOrders("run-n"));
        Assert.Equal((quantity, limit, stop), (read.Quantity, read.LimitPrice, read.StopPrice));
        Assert.Equal(commission, _schema.Value.Scalar("SELECT commission::text FROM orders")?.ToString());
        Assert.Equal("tag é ✓", _schema.Value.Scalar("SELECT tag FROM orders")?.ToString());
        Assert.Equal("0", _schema.Value.Scalar("SELECT filled_quantity::text FROM orders")?.ToString());
    }

    [Fact]
    public void An_UnreachableServer_FailsWithTheServerNamed_AndNoPassword()
    {
        var ex = Assert.Throws<StorageException>(() => KeelStore.Open("Host=127.0.0.1;Port=1;Username=u;Password=s3cret-pw;Database=nope;Timeout=2"));
        Assert.Contains("127.0.0.1:1", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret-pw", ex.Message, StringComparison.Ordinal);
    }
}
