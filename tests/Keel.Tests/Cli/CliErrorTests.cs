using Keel.Tests.Support;

namespace Keel.Tests.Cli;

/// <summary>
/// What a new user hits: every mistake they can make reads as one sentence naming the file, key, variable or value,
/// never a .NET resource key, and mistyped commands and options exit 2 with a suggestion.
/// </summary>
public sealed class CliErrorTests : IDisposable
{
    private static readonly string Day001 = TestPaths.Data("2006-day-001.txt");
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    private CliRunner.Result Keel(IDictionary<string, string>? env, params string[] args) => CliRunner.Run(_tmp.Path, env, args);

    private CliRunner.Result Backtest(IDictionary<string, string>? env, params string[] extra) =>
        Keel(env, ["backtest", "--data", Day001, "--strategy", "sma-cross", .. extra.Contains("--db") ? extra : [.. extra, "--db", "none"]]);

    /// <summary>Exit status 2 and exactly one line on stderr, equal to <paramref name="expected"/>; nothing on stdout.</summary>
    private static void AssertUsageError(CliRunner.Result r, string expected)
    {
        Assert.True(r.ExitCode == 2, $"expected exit 2; {r}");
        Assert.Equal(expected, r.Stderr.TrimEnd('\n', '\r'));
        Assert.Empty(r.Stdout);
    }

    [Fact]
    public void UnknownCommand_CloseToOne_Exits2WithOneLineAndDidYouMean()
    {
        var r = Keel(null, "backtset");
        AssertUsageError(r, "keel: error: unknown command 'backtset' for 'keel'; did you mean 'backtest'? (see 'keel --help')");
    }

    [Fact]
    public void UnknownOption_CloseToOne_Exits2WithOneLineAndDidYouMean()
    {
        var r = Backtest(null, "--cahs", "5");
        AssertUsageError(r, "keel: error: unknown option '--cahs' for 'keel backtest'; did you mean '--cash'? (see 'keel backtest --help')");
    }

    [Fact]
    public void UnknownOption_FarFromAll_Exits2WithoutASuggestion()
    {
        var r = Keel(null, "runs", "list", "--zzzzzz");
        AssertUsageError(r, "keel: error: unknown option '--zzzzzz' for 'keel runs list' (see 'keel runs list --help')");
    }

    [Fact]
    public void OptionWithoutItsValue_SaysItNeedsOne()
    {
        var r = Keel(null, "backtest", "--data", Day001, "--strategy", "sma-cross", "--cash");
        AssertUsageError(r, "keel: error: --cash needs a value (see 'keel backtest --help')");
    }

    [Fact]
    public void ConfigFile_UnknownKey_IsAnErrorNamingTheFileAndKey()
    {
        _tmp.Write("keel.json", """{"backtest": {"cahs": 5}}""");
        AssertUsageError(Backtest(null), "keel: error: keel.json: backtest.cahs is not a setting keel reads; did you mean 'backtest.cash'?");
    }

    [Fact]
    public void ConfigFile_UnknownSection_IsAnErrorWithDidYouMean()
    {
        _tmp.Write("keel.json", """{"storgae": {"db": "x.db"}}""");
        AssertUsageError(Backtest(null), "keel: error: keel.json: storgae is not a section keel reads; did you mean 'storage'?");
    }

    [Fact]
    public void ConfigFile_EveryKnownSection_IsAccepted()
    {
        _tmp.Write("keel.json", """
            {
              "backtest": { "cash": 50000, "commissionPerShare": 0, "params": { "fast": 5, "slow": 20 } },
              "paper": { "speed": "max", "replay": "x.csv" },
              "storage": { "db": "none", "snapshotEvery": 1000, "snapshotSeconds": 5 },
              "alpaca": { "key": "k", "secret": "s", "feed": "iex", "stream_url": "ws://127.0.0.1:1", "stale_seconds": 30 },
              "oanda": { "token": "t", "account": "a", "rest_url": "http://127.0.0.1:1", "reconnect_max_seconds": 10 },
              "record": { "timeframe": "1m" }
            }
            """);
        var r = Keel(null, "backtest", "--data", Day001, "--strategy", "sma-cross", "-q");
        Assert.True(r.ExitCode == 0, r.ToString());
    }

    [Fact]
    public void EnvironmentVariable_UnknownKey_IsAnErrorNamingTheVariable()
    {
        var r = Backtest(new Dictionary<string, string> { ["KEEL__BACKTEST__CAHS"] = "5" });
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.StartsWith("keel: error: KEEL__BACKTEST__CAHS is not a Keel setting", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("did you mean 'KEEL__BACKTEST__CASH'?", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void OtherEnvironmentVariables_AreNotKeels_AndAreIgnored()
    {
        var r = Backtest(new Dictionary<string, string> { ["KEEL_DEBUG_X"] = "1", ["KEELX__BACKTEST__CAHS"] = "5" }, "-q");
        Assert.True(r.ExitCode == 0, r.ToString());
    }

    [Fact]
    public void BadValue_FromTheFile_NamesTheFileAndKey()
    {
        _tmp.Write("keel.json", """{"backtest": {"cash": "abc"}}""");
        AssertUsageError(Backtest(null), "keel: error: keel.json: backtest.cash was 'abc'; it must be an amount such as 100000 or 0.005");
    }

    [Fact]
    public void BadValue_FromTheEnvironment_NamesTheVariable()
    {
        var r = Backtest(new Dictionary<string, string> { ["KEEL__BACKTEST__CASH"] = "abc" });
        AssertUsageError(r, "keel: error: KEEL__BACKTEST__CASH was 'abc'; it must be an amount such as 100000 or 0.005");
    }

    [Fact]
    public void BadValue_OnTheCommandLine_NamesTheOption_EvenWhenTheFileSetsItToo()
    {
        _tmp.Write("keel.json", """{"backtest": {"cash": 5000}}""");
        AssertUsageError(Backtest(null, "--cash", "abc"), "keel: error: --cash was 'abc'; it must be an amount such as 100000 or 0.005");
    }

    [Fact]
    public void BadStorageSetting_FromTheEnvironment_NamesTheVariable()
    {
        var r = Backtest(new Dictionary<string, string> { ["KEEL__STORAGE__SNAPSHOTEVERY"] = "often" }, "--db", "x.db");
        AssertUsageError(r, "keel: error: KEEL__STORAGE__SNAPSHOTEVERY was 'often'; it must be a whole number");
    }

    [Fact]
    public void InvalidJson_SaysTheFileLineAndWhatIsWrong()
    {
        _tmp.Write("keel.json", "{\n  \"backtest\": {\n    \"cash\" 5\n  }\n}\n");
        AssertUsageError(Backtest(null), "keel: error: keel.json is not valid JSON: line 3, column 12: '5' is invalid after a property name. Expected a ':'");
    }

    [Fact]
    public void EmptyConfigFile_SaysItIsEmpty()
    {
        _tmp.Write("keel.json", "\n");
        var r = Backtest(null);
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.StartsWith("keel: error: keel.json is empty;", r.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Host=localhost;Database;Password=hunter2-secret", "is not a connection setting or has a value that is not valid")]
    [InlineData("Host=localhost;Database=keel;Password", "is not a list of keyword=value pairs separated by ';' (the problem starts at character 30)")]
    [InlineData("postgres://keel:hunter2-secret@local:host/keel", "the PostgreSQL URL is not valid")]
    public void BadPostgresConnectionString_IsASentenceWithoutTheSecret(string db, string expected)
    {
        var r = Backtest(null, "--db", db);
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.StartsWith("keel: error: --db: ", r.Stderr, StringComparison.Ordinal);
        Assert.Contains(expected, r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("ADP_", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void BadPostgresConnectionString_FromTheFile_NamesTheFileKey()
    {
        _tmp.Write("keel.json", """{"storage": {"db": "Host=localhost;Port=abc;Password=hunter2-secret"}}""");
        var r = Keel(null, "runs", "list");
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.StartsWith("keel: error: keel.json: storage.db: the PostgreSQL connection string has 'port'", r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Out_NamingAnExistingFile_SaysSo()
    {
        _tmp.Write("results", "not a folder");
        AssertUsageError(Backtest(null, "--out", "results"), "keel: error: output folder results is an existing file; give a folder (it is created if missing)");
    }

    [Fact]
    public void Out_BelowAFile_NamesTheFile()
    {
        var file = _tmp.Write("results", "not a folder");
        AssertUsageError(Backtest(null, "--out", Path.Combine("results", "run1")), $"keel: error: cannot create output folder {Path.Combine("results", "run1")}: {file} is a file, not a folder");
    }

    [Fact]
    public void DataDownload_RestUrlThatRefusesConnections_FailsAtOnceWithASentence()
    {
        var env = new Dictionary<string, string> { ["KEEL__ALPACA__KEY"] = "key", ["KEEL__ALPACA__SECRET"] = "secret-value-3" };
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var r = Keel(env, "data", "download", "--venue", "alpaca", "--symbols", "AAPL", "--from", "2024-01-01", "--to", "2024-01-02", "--url", "http://127.0.0.1:1", "--db", _tmp.File("dl.db"));
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed.TotalSeconds:0.0} s (it used to retry for half a minute)");
        Assert.Equal("keel: error: alpaca bars AAPL page 1: could not connect to http://127.0.0.1:1: connection refused", r.Stderr.Trim());
        Assert.DoesNotContain("secret-value-3", r.Stderr + r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Record_FeedUrlThatRefusesConnections_FailsWithinSecondsWithASentence()
    {
        var env = new Dictionary<string, string> { ["KEEL__ALPACA__KEY"] = "key", ["KEEL__ALPACA__SECRET"] = "secret-value-2" };
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var r = Keel(env, "record", "--venue", "alpaca", "--symbols", "AAPL", "--url", "ws://127.0.0.1:1", "--db", _tmp.File("rec.db"));
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.Contains("keel: error: alpaca: could not connect to ws://127.0.0.1:1/v2/iex: connection refused", r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-value-2", r.Stderr + r.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("net_", r.Stderr, StringComparison.Ordinal);
    }
}
