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

    [Fact]
    public void An_UnreachableServer_FailsWithTheServerNamed_AndNoPassword()
    {
        var ex = Assert.Throws<StorageException>(() => KeelStore.Open("Host=127.0.0.1;Port=1;Username=u;Password=s3cret-pw;Database=nope;Timeout=2"));
        Assert.Contains("127.0.0.1:1", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret-pw", ex.Message, StringComparison.Ordinal);
    }
}
