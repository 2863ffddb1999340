using Keel.Engine.Persistence;
using Keel.Storage;
using Keel.Tests.Support;

namespace Keel.Tests.Cli;

/// <summary>A run that stopped trading because of errors, or could never trade, says so instead of ending "completed".</summary>
public sealed class RunOutcomeCliTests
{
    private static readonly string Day001 = TestPaths.Data("2006-day-001.txt");

    [Fact]
    public void Backtest_WhoseEveryOrderIsDenied_EndsHalted_WithItsOwnExitCode_AndKeepsItsResults()
    {
        using var tmp = new TempDir();
        var db = Path.Combine(tmp.Path, "keel.db");
        var r = CliRunner.Run(tmp.Path, null, "backtest", "--data", Day001, "--strategy", "sma-cross", "--param", "fast=10", "--param", "slow=30",
            "--stake", "1", "--max-order-notional", "1", "--out", "results", "--db", db);
        Assert.True(r.ExitCode == 3, r.ToString());
        Assert.Contains("stopped trading", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("denied", r.Stderr, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(tmp.Path, "results", "metrics.json")), "a halted run still writes its results");

        using var store = KeelStore.Open(db);
        var run = Assert.Single(store.ListRuns(10));
        Assert.Equal(RunStatus.Halted, run.Status);
        Assert.Contains("denied", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Backtest_WithAStakeTheInstrumentCannotTrade_IsRefusedBeforeItStarts_AndNotRecorded()
    {
        using var tmp = new TempDir();
        var db = Path.Combine(tmp.Path, "keel.db");
        var r = CliRunner.Run(tmp.Path, null, "backtest", "--data", Day001, "--strategy", "sma-cross", "--stake", "0.5", "--out", "results", "--db", db);
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains("--stake 0.5", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("lot size 1", r.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(tmp.Path, "results")));
        using var store = KeelStore.Open(db);
        Assert.Empty(store.ListRuns(10));

        // With a lot size that allows it, the same stake trades.
        var ok = CliRunner.Run(tmp.Path, null, "backtest", "--data", Day001, "--strategy", "sma-cross", "--stake", "0.5", "--lot-size", "0.5", "--db", "none");
        Assert.True(ok.ExitCode == 0, ok.ToString());
    }

    [Fact]
    public void Backtest_ThatTrades_EndsCompleted_WithExitZero()
    {
        using var tmp = new TempDir();
        var db = Path.Combine(tmp.Path, "keel.db");
        var r = CliRunner.Run(tmp.Path, null, "backtest", "--data", Day001, "--strategy", "sma-cross", "--stake", "1", "--db", db);
        Assert.True(r.ExitCode == 0, r.ToString());
        using var store = KeelStore.Open(db);
        Assert.Equal(RunStatus.Completed, Assert.Single(store.ListRuns(10)).Status);
    }
}
