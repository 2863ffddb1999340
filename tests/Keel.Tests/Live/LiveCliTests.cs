using Keel.Domain;
using Keel.Sandbox;
using Keel.Storage;
using Keel.Tests.Sandbox;
using Keel.Tests.Support;

namespace Keel.Tests.Live;

/// <summary>
/// <c>keel live</c> as a user runs it, against the sandbox: SIGTERM stops it resumably (exit 130, working orders
/// cancelled with --cancel-on-stop); a trade made by hand meanwhile makes <c>keel resume</c> refuse with the report
/// (exit 4, nothing changed); <c>keel live --resume ID --adopt</c> adopts the venue's position.
/// </summary>
public sealed class LiveCliTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Sigterm_StopsResumably_ATradeByHand_IsRefusedWithExit4_AndAdoptedWithAdopt()
    {
        var file = LiveRunTests.OrclSince(_dir, 2012);
        var options = new SandboxOptions { Speed = double.PositiveInfinity };
        options.Series.Add(new SandboxSeries("ORCL", file));
        await using var sandbox = await SandboxServer.StartAsync(options);
        var db = _dir.File("keel.db");
        var env = new Dictionary<string, string> { ["KEEL__ALPACA__KEY"] = "sandbox-key", ["KEEL__ALPACA__SECRET"] = "sandbox-secret" };
        string runId;
        using (var child = CliRunner.Spawn(_dir.Path, env, [
            "live", "--venue", "alpaca", "--symbols", "ORCL", "--url", $"ws://127.0.0.1:{sandbox.AlpacaStreamBase.Port}", "--timeframe", "1d",
            "--strategy", "sma-cross", "--param", "fast=3", "--param", "slow=8", "--stake", "10", "--cancel-on-stop", "--db", db, "-q"]))
        {
            runId = await child.RunId.WaitAsync(Patience);
            await sandbox.ReplayCompleted.WaitAsync(Patience);
            await SandboxTesting.Eventually(() => LiveRunTests.Journal(db, runId).Unsettled == 0 && LiveRunTests.Journal(db, runId).Submitted.Count > 0, "orders answered", Patience);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            Assert.Equal(0, Terminate(child.Process.Id));
            var stopped = await child.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.True(stopped.ExitCode == 130, stopped.ToString());
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"SIGTERM took {clock.Elapsed} to stop the run");
            Assert.Contains($"keel resume {runId}", stopped.Stderr, StringComparison.Ordinal);
        }

        Assert.DoesNotContain(await LiveRunTests.AllOrdersRaw(sandbox), o => o.Status is "new" or "accepted" or "partially_filled");
        var replay = CliRunner.Run(_dir.Path, env, "replay", runId, "--db", db, "-q");
        Assert.True(replay.ExitCode == 0, replay.ToString());
        Assert.Contains("identical", replay.Stdout, StringComparison.Ordinal);

        var before = LiveRunTests.Journal(db, runId);
        using (var http = SandboxTesting.Alpaca(sandbox))
        {
            var (status, body) = await Trading.PostAsync(http, "/v2/orders", """{"symbol":"ORCL","qty":"7","side":"buy","type":"market","time_in_force":"day","client_order_id":"by-hand-cli"}""");
            Assert.True(status == 200, body.ToString());
            (status, body) = await Trading.PostAsync(http, "/_sandbox/alpaca/prices", """{"symbol":"ORCL","prices":["30"]}""");
            Assert.True(status == 200, body.ToString());
        }

        var expected = before.Position + Quantity.From(7);
        await using (var venue = LiveRunTests.Venue(sandbox))
        {
            await SandboxTesting.Eventually(
                () => (venue.GetPositionsAsync().GetAwaiter().GetResult().SingleOrDefault(p => p.Instrument.Symbol == "ORCL")?.Quantity ?? Quantity.Zero) == expected,
                "the trade by hand filled",
                Patience);
        }

        var refused = CliRunner.Run(_dir.Path, env, "resume", runId, "--db", db, "-q");
        Assert.True(refused.ExitCode == 4, refused.ToString());
        Assert.Contains("MUST STOP", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("--adopt", refused.Stderr, StringComparison.Ordinal);
        Assert.Equal(before.Position, LiveRunTests.Journal(db, runId).Position);

        using (var adopting = CliRunner.Spawn(_dir.Path, env, ["live", "--resume", runId, "--adopt", "--db", db, "-q"]))
        {
            await adopting.RunId.WaitAsync(Patience);
            await SandboxTesting.Eventually(() => LiveRunTests.Journal(db, runId).Position == expected, "the venue's position adopted", Patience);
            Assert.Equal(0, Terminate(adopting.Process.Id));
            var result = await adopting.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.True(result.ExitCode == 130, result.ToString());
        }

        using var store = KeelStore.Open(db);
        Assert.Contains(store.ReadEvents(runId, 0, 100_000), e => e.Type == "notice.adopted");
    }

    private static int Terminate(int pid) => Signals.Send(pid, Signals.Terminate);
}
