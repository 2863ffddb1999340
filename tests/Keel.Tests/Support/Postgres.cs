using Npgsql;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Keel.Tests.Support;

/// <summary>
/// The PostgreSQL server the tests use: <c>KEEL_TEST_POSTGRES</c> (a connection string), which <c>test.sh</c> sets after
/// starting a throw-away server. Without it, PostgreSQL tests are skipped when run by hand and FAIL under CI=true.
/// Each test gets a schema of its own (through the connection string's search path), dropped afterwards.
/// </summary>
public static class Postgres
{
    public const string Variable = "KEEL_TEST_POSTGRES";

    public static string? Server => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } s ? s : null;

    private static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Why PostgreSQL tests are skipped, or null when they run (a server is configured, or this is CI).</summary>
    public static string? SkipReason => Server is null && !InCi
        ? $"{Variable} is not set; run ./test.sh (it starts a throw-away PostgreSQL) or point {Variable} at a server"
        : null;

    public static string RequireServer() =>
        Server ?? throw new InvalidOperationException($"{Variable} is not set, and under CI=true the PostgreSQL tests must run: test.sh starts the server and sets it");

    /// <summary>A fresh schema; dispose drops it.</summary>
    public static Schema NewSchema() => new(RequireServer());

    public sealed class Schema : IDisposable
    {
        private readonly string _server;

        public Schema(string server)
        {
            _server = server;
            Name = "keel_t_" + Guid.NewGuid().ToString("N")[..12];
            Exec($"CREATE SCHEMA {Name}");
            ConnectionString = new NpgsqlConnectionStringBuilder(server) { SearchPath = Name, Pooling = true }.ConnectionString;
        }

        public string Name { get; }

        /// <summary>Connection string whose search path is this schema.</summary>
        public string ConnectionString { get; }

        public void Exec(string sql)
        {
            using var c = new NpgsqlConnection(_server);
            c.Open();
            using var cmd = new NpgsqlCommand(sql, c);
            cmd.ExecuteNonQuery();
        }

        public object? Scalar(string sql)
        {
            using var c = new NpgsqlConnection(ConnectionString);
            c.Open();
            using var cmd = new NpgsqlCommand(sql, c);
            return cmd.ExecuteScalar();
        }

        public void Dispose()
        {
            NpgsqlConnection.ClearAllPools();
            Exec($"DROP SCHEMA IF EXISTS {Name} CASCADE");
        }
    }
}

/// <summary>A [Fact] that needs PostgreSQL: skipped by hand without a server, run (and failing) under CI.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (Postgres.SkipReason is string reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>A [Theory] that needs PostgreSQL: skipped by hand without a server, run (and failing) under CI.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class PostgresTheoryAttribute : TheoryAttribute
{
    public PostgresTheoryAttribute()
    {
        if (Postgres.SkipReason is string reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>Marks a test class whose inherited contract tests run against PostgreSQL.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class UsesPostgresAttribute : Attribute;

/// <summary>
/// A [Fact] in an abstract contract suite. Each concrete subclass runs it; in a class marked
/// <see cref="UsesPostgresAttribute"/> it is skipped under the same rule as <see cref="PostgresFactAttribute"/>.
/// </summary>
[XunitTestCaseDiscoverer("Keel.Tests.Support.ContractFactDiscoverer", "Keel.Tests")]
[AttributeUsage(AttributeTargets.Method)]
public sealed class ContractFactAttribute : FactAttribute;

public sealed class ContractFactDiscoverer(IMessageSink diagnostics) : IXunitTestCaseDiscoverer
{
    public IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute)
    {
        bool postgres = testMethod.TestClass.Class.GetCustomAttributes(typeof(UsesPostgresAttribute)).Any();
        yield return new ContractTestCase(diagnostics, discoveryOptions.MethodDisplayOrDefault(), discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod, postgres);
    }
}

public sealed class ContractTestCase : XunitTestCase
{
    private bool _postgres;

    [Obsolete("For the deserializer only")]
    public ContractTestCase()
    {
    }

    public ContractTestCase(IMessageSink sink, TestMethodDisplay display, TestMethodDisplayOptions options, ITestMethod method, bool postgres)
        : base(sink, display, options, method)
    {
        _postgres = postgres;
    }

    public override void Serialize(IXunitSerializationInfo data)
    {
        base.Serialize(data);
        data.AddValue("postgres", _postgres);
    }

    public override void Deserialize(IXunitSerializationInfo data)
    {
        _postgres = data.GetValue<bool>("postgres");
        base.Deserialize(data);
    }

    protected override string? GetSkipReason(IAttributeInfo factAttribute) =>
        _postgres && Postgres.SkipReason is string reason ? reason : base.GetSkipReason(factAttribute);
}
