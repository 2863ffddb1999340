using Keel.Domain;
using Keel.Sandbox;
using Keel.Tests.Sandbox;
using Keel.Tests.Support;

namespace Keel.Tests.Live;

/// <summary>
/// The crash drill: <c>keel live</c> is SIGKILLed at 20 points — at random times, just before a request leaves (its
/// order already journaled) and just after an answer came (not yet recorded) — and resumed each time. At the end no
/// fill is lost or booked twice, every order at the venue is in the journal under one client id, and the run's position
/// is the venue's.
/// </summary>
public sealed class LiveCrashTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task KilledAtTwentyPoints_AndResumedEachTime_NothingIsLostOrDoubled()
    {
        var file = LiveRunTests.OrclSince(_dir, 2011);

        // About 40 s of replay: the kills fall while the strategy trades.
        var options = new SandboxOptions { Speed = 2_500_000 };
        options.Series.Add(new SandboxSeries("ORCL", file));
        await using var sandbox = await SandboxServer.StartAsync(options);
        var db = _dir.File("keel.db");
        var env = new Dictionary<string, string>
        {
            ["KEEL__ALPACA__KEY"] = "sandbox-key",
            ["KEEL__ALPACA__SECRET"] = "sandbox-secret",
        };
        string[] live =
        [
            "live", "--venue", "alpaca", "--symbols", "ORCL", "--url", $"ws://127.0.0.1:{sandbox.AlpacaStreamBase.Port}", "--timeframe", "1d",
            "--strategy", "sma-cross", "--param", "fast=3", "--param", "slow=8", "--stake", "10", "--reconcile-seconds", "1", "--db", db, "-q",
        ];

        var random = new Random(20261206);
        string? runId = null;
        var points = new List<string>();
        for (int i = 0; i < 20; i++)
        {
            // Every other kill at a drill point: before the 1st–3rd request of this process leaves, or after its answer.
            string? drill = i % 2 == 1 ? $"{(i % 4 == 1 ? "before-send" : "after-send")}:{1 + (i / 4 % 3)}" : null;
            var childEnv = new Dictionary<string, string>(env);
            if (drill is not null)
            {
                childEnv["KEEL_CRASH_DRILL"] = drill;
            }

            using var child = CliRunner.Spawn(_dir.Path, childEnv, runId is null ? live : ["resume", runId, "--db", db, "-q"]);
            var id = await child.RunId.WaitAsync(Patience);
            Assert.True(runId is null || id == runId, $"a resume printed run {id}, not {runId}");
            runId = id;
            if (drill is not null && await Exited(child, TimeSpan.FromSeconds(4)))
            {
                Assert.True(child.Process.ExitCode == 137 || child.Process.ExitCode == -1 || child.Process.ExitCode > 128, $"the drill {drill} ended keel with {child.Process.ExitCode}: {child.Stderr}");
                points.Add(drill);
                continue;
            }

            // A random moment (the drill point was not reached in time: no order was due).
            await Task.Delay(random.Next(200, 1500));
            if (drill is not null && child.Process.HasExited && child.Process.ExitCode is 137 or -1 or > 128)
            {
                // The drill point came late after all (a re-send after the start reconciliation, on a loaded machine).
                points.Add(drill);
                continue;
            }

            Assert.False(child.Process.HasExited, $"keel ended by itself: {child.Stdout}{child.Stderr}");
            child.KillHard();
            points.Add("random");
        }

        Assert.Contains(points, p => p.StartsWith("before-send", StringComparison.Ordinal));
        Assert.Contains(points, p => p.StartsWith("after-send", StringComparison.Ordinal));

        // The last start runs to the end of the data and settles, then stops on SIGTERM.
        using (var last = CliRunner.Spawn(_dir.Path, env, ["resume", runId!, "--db", db, "-q"]))
        {
            await last.RunId.WaitAsync(Patience);
            await sandbox.ReplayCompleted.WaitAsync(Patience);
            await using var venue = LiveRunTests.Venue(sandbox);
            await SandboxTesting.Eventually(
                () =>
                {
                    var j = LiveRunTests.Journal(db, runId!);
                    var venueQty = venue.GetPositionsAsync().GetAwaiter().GetResult().SingleOrDefault(p => p.Instrument.Symbol == "ORCL")?.Quantity ?? Quantity.Zero;
                    return j.Unsettled == 0 && j.Position == venueQty;
                },
                "the run settled with the venue",
                Patience);
            Assert.Equal(0, Terminate(last.Process.Id));
            var result = await last.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.True(result.ExitCode == 130, result.ToString());
        }

        var journal = LiveRunTests.Journal(db, runId!);
        var atVenue = (await LiveRunTests.AllOrdersRaw(sandbox)).Where(o => o.ClientOrderId?.StartsWith($"K{runId}-", StringComparison.Ordinal) == true).ToList();
        Assert.True(atVenue.Count >= 5, $"only {atVenue.Count} orders reached the venue");

        // No duplicate at the venue, and every venue order is accounted for in the journal.
        Assert.Equal(atVenue.Count, atVenue.Select(o => o.ClientOrderId).Distinct().Count());
        Assert.Subset(journal.Submitted.ToHashSet(), atVenue.Select(o => o.ClientOrderId!).ToHashSet());

        // No fill lost, none booked twice: the journal's fills are exactly the venue's fills of the run's orders.
        await using (var venue = LiveRunTests.Venue(sandbox))
        {
            var fills = (await venue.GetFillsSinceAsync(null)).Fills
                .Where(f => f.ClientOrderId?.Value.StartsWith($"K{runId}-", StringComparison.Ordinal) == true)
                .Select(f => f.ExecutionId.Value)
                .Order(StringComparer.Ordinal)
                .ToList();
            Assert.Equal(fills, journal.Fills.Order(StringComparer.Ordinal));
            var venueQty = (await venue.GetPositionsAsync()).SingleOrDefault(p => p.Instrument.Symbol == "ORCL")?.Quantity ?? Quantity.Zero;
            Assert.Equal(venueQty, journal.Position);
        }

        // Each restart re-ran what the crashed session had journaled after its snapshot, so the journal holds one
        // consistent history: replayed from the start, it creates exactly the run's orders.
        LiveRunTests.AssertReplaysExactly(db, runId!);
    }

    private static async Task<bool> Exited(CliRunner.Child child, TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        try
        {
            await child.Process.WaitForExitAsync(timeout.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static int Terminate(int pid) => Signals.Send(pid, Signals.Terminate);
}
