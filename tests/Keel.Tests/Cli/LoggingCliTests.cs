using System.Text.Json;
using Keel.Sandbox;
using Keel.Tests.Support;
using Npgsql;

namespace Keel.Tests.Cli;

/// <summary>
/// docs/logging.md as a user meets it: <c>--log-format json</c> makes every stderr line one JSON entry with a fixed
/// event id; and no credential (Alpaca key and secret, OANDA token, PostgreSQL password) reaches stdout or stderr, at
/// any level, in either format, whether the command works or fails.
/// </summary>
public sealed class LoggingCliTests : IDisposable
{
    private const string AlpacaKey = "PKLOGTEST7f3a9c1d";
    private const string AlpacaSecret = "sk-logtest-2b8e4d6f0a";
    private const string OandaToken = "tok-logtest-9c1f5e3b7d";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(90);
    private static readonly string Day001 = TestPaths.Data("2006-day-001.txt");
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void JsonFormat_EveryStderrLineIsAnEntry_WithTheRunsFixedEventIds()
    {
        var r = CliRunner.Run(_dir.Path, null, "backtest", "--data", Day001, "--strategy", "sma-cross", "--log-format", "json", "--log-level", "debug");

        Assert.True(r.ExitCode == 0, r.ToString());
        var entries = Entries(r.Stderr);
        Assert.Contains(entries, e => e.EventId == 1000 && e.Level == "Information" && e.Category == "Keel.Runtime" && e.Message.Contains("started: backtest of sma-cross", StringComparison.Ordinal));
        Assert.Contains(entries, e => e.EventId == 1002 && e.Message.Contains("completed", StringComparison.Ordinal));
        Assert.Contains("Final equity", r.Stdout, StringComparison.Ordinal); // the result is still rendered, on stdout
    }

    [Fact]
    public void JsonFormat_TheCommandsOwnErrorIsAnEntryToo()
    {
        var r = CliRunner.Run(_dir.Path, null, "backtest", "--data", Day001, "--strategy", "nope", "--log-format", "json");

        Assert.Equal(2, r.ExitCode);
        var entry = Assert.Single(Entries(r.Stderr));
        Assert.Equal((5000, "Error", "Keel.Cli"), (entry.EventId, entry.Level, entry.Category));
        Assert.Contains("unknown strategy 'nope'", entry.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TextFormat_IsReadableLines_AndTheLevelComesFromTheEnvironment()
    {
        var env = new Dictionary<string, string> { ["KEEL__LOGGING__LEVEL"] = "information" };
        var r = CliRunner.Run(_dir.Path, env, "backtest", "--data", Day001, "--strategy", "sma-cross");

        Assert.True(r.ExitCode == 0, r.ToString());
        var started = Assert.Single(r.Stderr.Split('\n'), l => l.Contains("[1000]", StringComparison.Ordinal));
        Assert.Matches(@"^\d\d:\d\d:\d\d info: Keel\.Runtime\[1000\] run \S+ started: backtest of sma-cross", started);

        // Quiet by default for people: warnings and errors only, so a clean run writes nothing on stderr.
        var quiet = CliRunner.Run(_dir.Path, null, "backtest", "--data", Day001, "--strategy", "sma-cross");
        Assert.True(quiet.ExitCode == 0, quiet.ToString());
        Assert.Equal(string.Empty, quiet.Stderr);
    }

    [Theory]
    [InlineData("--log-format", "xml", "--log-format was 'xml'; it must be text or json")]
    [InlineData("--log-level", "loud", "--log-level was 'loud'; it must be trace, debug, information, warning, error, critical or none")]
    public void BadLoggingOptions_AreOneClearLine(string option, string value, string expected)
    {
        var r = CliRunner.Run(_dir.Path, null, "backtest", "--data", Day001, "--strategy", "sma-cross", option, value);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"keel: error: {expected}", r.Stderr.Trim());
    }

    [Theory]
    [InlineData("alpaca", "text")]
    [InlineData("alpaca", "json")]
    [InlineData("oanda", "text")]
    [InlineData("oanda", "json")]
    public async Task Record_AtTraceLevel_NeverWritesTheCredentials(string venue, string format)
    {
        var file = Path.Combine(TestPaths.RepoRoot, "samples", "data", "2006-min-005.txt");
        var symbol = venue == "alpaca" ? "IDX" : "IDX_USD";
        var options = new SandboxOptions { Speed = double.PositiveInfinity, AlpacaKey = AlpacaKey, AlpacaSecret = AlpacaSecret, OandaToken = OandaToken };
        options.Series.Add(new SandboxSeries(symbol, file));
        await using var sandbox = await SandboxServer.StartAsync(options);
        var url = venue == "alpaca" ? sandbox.AlpacaStreamBase : sandbox.OandaStreamBase;

        using var child = CliRunner.Spawn(_dir.Path, Secrets(), "record", "--venue", venue, "--symbols", symbol, "--url", url.ToString(), "--timeframe", "5m", "--db", _dir.File("k.db"), "--log-format", format, "--log-level", "trace");
        await sandbox.ReplayCompleted.WaitAsync(Wait);
        Assert.Equal(0, Signals.Send(child.Process.Id, Signals.Interrupt));
        var result = await child.WaitAsync(Wait);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("subscribed", result.Stderr, StringComparison.Ordinal); // the feed's life was logged
        AssertNoSecret(result);
        if (format == "json")
        {
            Assert.Contains(Entries(result.Stderr), e => e.EventId == 2003);
        }
    }

    [Theory]
    [InlineData("text")]
    [InlineData("json")]
    public async Task Record_WithRejectedCredentials_FailsWithoutWritingThem(string format)
    {
        await using var sandbox = await SandboxServer.StartAsync(new SandboxOptions { Generator = new SandboxGenerator(["AAPL"], 50) });
        var result = await Task.Run(() => CliRunner.Run(_dir.Path, Secrets(), "record", "--venue", "alpaca", "--symbols", "AAPL", "--url", sandbox.AlpacaStreamBase.ToString(), "--db", _dir.File("k.db"), "--log-format", format, "--log-level", "trace")).WaitAsync(Wait);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("authentication failed", result.Stderr, StringComparison.Ordinal);
        AssertNoSecret(result);
        if (format == "json")
        {
            Assert.Contains(Entries(result.Stderr), e => e.EventId == 5000);
        }
    }

    [Theory]
    [InlineData("text")]
    [InlineData("json")]
    public async Task Download_RetriedOnRateLimits_LogsTheRetries_WithoutTheCredentials(string format)
    {
        var file = Path.Combine(TestPaths.RepoRoot, "samples", "data", "2006-min-005.txt");
        var options = new SandboxOptions { AlpacaKey = AlpacaKey, AlpacaSecret = AlpacaSecret, OandaToken = OandaToken };
        options.Series.Add(new SandboxSeries("IDX", file));
        await using var sandbox = await SandboxServer.StartAsync(options);
        sandbox.Faults.RateLimitNext = 1; // the 429 names its reset time, which can be up to a minute away
        var result = await Task.Run(() => CliRunner.Run(_dir.Path, Secrets(), "data", "download", "--venue", "alpaca", "--symbols", "IDX", "--timeframe", "5m", "--from", "2006-01-01", "--to", "2007-01-01", "--url", sandbox.AlpacaRestBase.ToString(), "--db", _dir.File("k.db"), "--log-format", format, "--log-level", "debug")).WaitAsync(2 * Wait);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("retrying in", result.Stderr, StringComparison.Ordinal);
        AssertNoSecret(result);
        if (format == "json")
        {
            Assert.Single(Entries(result.Stderr), e => e.EventId == 2020);
        }
    }

    [PostgresFact]
    public void Postgres_ThePasswordNeverReachesTheOutput_WhetherTheRunWorksOrFails()
    {
        using var schema = Postgres.NewSchema();
        var builder = new NpgsqlConnectionStringBuilder(schema.ConnectionString);
        Assert.False(string.IsNullOrEmpty(builder.Password), "the test server needs a password for this test to mean anything");
        Assert.True(
            !string.Equals(builder.Password, builder.Username, StringComparison.Ordinal) && !string.Equals(builder.Password, builder.Database, StringComparison.Ordinal) && !string.Equals(builder.Password, builder.Host, StringComparison.Ordinal),
            "the test server's password must differ from its user, database and host names (scripts/pg.sh makes a random one), or finding it in the output proves nothing");
        foreach (var format in new[] { "text", "json" })
        {
            var ok = CliRunner.Run(_dir.Path, Secrets(), "backtest", "--data", Day001, "--strategy", "sma-cross", "--db", schema.ConnectionString, "--log-format", format, "--log-level", "trace");
            Assert.True(ok.ExitCode == 0, ok.ToString());
            Assert.Contains($"postgres://{builder.Username}@", ok.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain(builder.Password!, ok.Stdout + ok.Stderr, StringComparison.Ordinal);

            var wrong = new NpgsqlConnectionStringBuilder(schema.ConnectionString) { Password = "wrong-pw-5e7a1c9d" }.ConnectionString;
            var failed = CliRunner.Run(_dir.Path, Secrets(), "backtest", "--data", Day001, "--strategy", "sma-cross", "--db", wrong, "--log-format", format, "--log-level", "trace");
            Assert.Equal(1, failed.ExitCode);
            Assert.DoesNotContain("wrong-pw-5e7a1c9d", failed.Stdout + failed.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain(builder.Password!, failed.Stdout + failed.Stderr, StringComparison.Ordinal);
        }
    }

    private static Dictionary<string, string> Secrets() => new()
    {
        ["KEEL__ALPACA__KEY"] = AlpacaKey,
        ["KEEL__ALPACA__SECRET"] = AlpacaSecret,
        ["KEEL__OANDA__TOKEN"] = OandaToken,
        ["KEEL__OANDA__ACCOUNT"] = "101-001-0000001-001",
    };

    private static void AssertNoSecret(CliRunner.Result result)
    {
        foreach (var secret in new[] { AlpacaKey, AlpacaSecret, OandaToken })
        {
            Assert.False(result.Stdout.Contains(secret, StringComparison.Ordinal) || result.Stderr.Contains(secret, StringComparison.Ordinal), $"'{secret}' was written:\n{result}");
        }
    }

    private sealed record Entry(int EventId, string Level, string Category, string Message);

    /// <summary>Every non-empty stderr line, parsed: each must be one JSON object with the console logger's fields.</summary>
    private static List<Entry> Entries(string stderr)
    {
        var entries = new List<Entry>();
        foreach (var line in stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            entries.Add(new Entry(
                root.GetProperty("EventId").GetInt32(), root.GetProperty("LogLevel").GetString()!, root.GetProperty("Category").GetString()!, root.GetProperty("Message").GetString()!));
        }

        return entries;
    }
}
