using Keel.Domain;
using Keel.Runtime;
using Keel.Runtime.Live;
using Keel.Sandbox;
using Keel.Storage;
using Keel.Tests.Sandbox;
using Keel.Tests.Support;

namespace Keel.Tests.Live;

/// <summary>
/// The venue faults a live run must survive without losing or doubling anything: answers lost after the order was
/// placed, and a position closed by hand while the run was stopped (refused with a report, or adopted).
/// </summary>
public sealed class LiveReconcileTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task LostAnswers_AreUnknownUntilALookupResolvesThem_AndNothingIsSentTwice()
    {
        var file = LiveRunTests.OrclSince(_dir, 2012);
        await using var sandbox = await Start(file);
        using (var control = SandboxTesting.Alpaca(sandbox, auth: false))
        {
            // The first order meets a 500 and is not placed; the next is placed, then the connection is cut before the
            // answer. The trade_updates stream says nothing all along, so acceptances and fills reach the run only
            // through reconciliation (lookups and the fill history).
            var (status, _) = await Trading.PostAsync(control, "/_sandbox/alpaca/faults", """{"server_error_next":1,"lose_response_next":1,"silent_stream":true}""");
            Assert.Equal(200, status);
        }

        var db = _dir.File("keel.db");
        await using var venue = LiveRunTests.Venue(sandbox);
        var (outcome, runId) = await LiveRunTests.RunLive(sandbox, db, file, settled: async id =>
            LiveRunTests.Journal(db, id).Position == ((await venue.GetPositionsAsync()).SingleOrDefault(p => p.Instrument.Symbol == "ORCL")?.Quantity ?? Quantity.Zero));
        Assert.Equal(RunEnd.Stopped, outcome.End);

        // Both faults hit. The 500 always leaves its order UNKNOWN (the lookup then finds nothing, and the order is sent
        // once more under its client id). The cut connection does too, unless the HTTP client sent the POST again on
        // a fresh connection by itself: then Alpaca's duplicate-client-id refusal proved the order landed.
        using (var control = SandboxTesting.Alpaca(sandbox, auth: false))
        {
            var faults = await control.GetStringAsync("/_sandbox/alpaca/faults");
            Assert.Contains("\"lose_response_next\":0", faults, StringComparison.Ordinal);
            Assert.Contains("\"server_error_next\":0", faults, StringComparison.Ordinal);
        }

        // On a loaded machine the 500's answer can come after the periodic reconciliation already found the order
        // missing and sent it again under its client id (accepted): the late "unknown" then changes nothing and is
        // dropped. So each fault leaves at most one unknown order; what must hold is below.
        var journal = LiveRunTests.Journal(db, runId);
        Assert.InRange(journal.Unknown, 0, 2);
        var ours = (await LiveRunTests.AllOrdersRaw(sandbox)).Where(o => o.ClientOrderId?.StartsWith($"K{runId}-", StringComparison.Ordinal) == true).ToList();
        Assert.Equal(ours.Count, ours.Select(o => o.ClientOrderId).Distinct().Count());
        Assert.Equal(journal.Submitted.Order(StringComparer.Ordinal), ours.Select(o => o.ClientOrderId!).Order(StringComparer.Ordinal));
        var venueQty = (await venue.GetPositionsAsync()).SingleOrDefault(p => p.Instrument.Symbol == "ORCL")?.Quantity ?? Quantity.Zero;
        Assert.Equal(venueQty, journal.Position);

        // What reconciliation applied (acceptances, fills) was journaled as inputs too: the replay is exact.
        LiveRunTests.AssertReplaysExactly(db, runId);
    }

    [Fact]
    public async Task ATradeByHand_StopsTheResumeWithAReport_UnlessAdopted_ThenTheRunHoldsTheVenuesPosition()
    {
        var file = LiveRunTests.OrclSince(_dir, 2012);
        await using var sandbox = await Start(file);
        var db = _dir.File("keel.db");
        // --cancel-on-stop: the run's orders still working when it stops are cancelled at the venue.
        var (_, runId) = await LiveRunTests.RunLive(sandbox, db, file, new LiveSettings { ReconcileSeconds = 1, ResendAfterSeconds = 1, CancelOnStop = true });
        var before = LiveRunTests.Journal(db, runId);
        Assert.DoesNotContain(await LiveRunTests.AllOrdersRaw(sandbox), o => o.Status is "new" or "accepted" or "partially_filled");
        int ordersBefore = (await LiveRunTests.AllOrdersRaw(sandbox)).Count;

        // A resume with nothing changed at the venue reconciles clean and sends nothing again.
        var resumed = await Resume(sandbox, db, runId, adopt: false);
        Assert.Equal(RunEnd.Stopped, resumed.End);
        Assert.Equal(ordersBefore, (await LiveRunTests.AllOrdersRaw(sandbox)).Count);

        // While the run is stopped someone buys 7 ORCL in the broker's app; it fills at 30.
        using (var http = SandboxTesting.Alpaca(sandbox))
        {
            var (status, body) = await Trading.PostAsync(http, "/v2/orders", """{"symbol":"ORCL","qty":"7","side":"buy","type":"market","time_in_force":"day","client_order_id":"by-hand-1"}""");
            Assert.True(status == 200, body.ToString());
            (status, body) = await Trading.PostAsync(http, "/_sandbox/alpaca/prices", """{"symbol":"ORCL","prices":["30"]}""");
            Assert.True(status == 200, body.ToString());
        }

        var expected = before.Position + Quantity.From(7);
        await using (var venue = LiveRunTests.Venue(sandbox))
        {
            var deadline = DateTime.UtcNow + Patience;
            while (((await venue.GetPositionsAsync()).SingleOrDefault(p => p.Instrument.Symbol == "ORCL")?.Quantity ?? Quantity.Zero) != expected)
            {
                Assert.True(DateTime.UtcNow < deadline, $"the trade by hand never filled at the venue: positions {string.Join("; ", await venue.GetPositionsAsync())}, expected {expected}");
                await Task.Delay(20);
            }
        }

        var refused = await Assert.ThrowsAsync<ReconciliationException>(() => Resume(sandbox, db, runId, adopt: false));
        Assert.Contains("MUST STOP", refused.Message, StringComparison.Ordinal);
        Assert.Contains("ORCL", refused.Message, StringComparison.Ordinal);
        Assert.Equal(before.Position, LiveRunTests.Journal(db, runId).Position);

        var adopted = await Resume(sandbox, db, runId, adopt: true);
        Assert.Equal(RunEnd.Stopped, adopted.End);
        Assert.Equal(expected, LiveRunTests.Journal(db, runId).Position);
        Assert.Equal(ordersBefore + 1, (await LiveRunTests.AllOrdersRaw(sandbox)).Count);

        // The adoption is an input of the run like the venue's answers: a replay books the same adopted order.
        using (var store = KeelStore.Open(db))
        {
            Assert.Contains(store.ReadInputs(runId, 0, 100_000), i => i.Kind == Keel.Engine.Persistence.InputKind.Adjustment);
            Assert.Contains(store.ReadOrders(runId), o => o.Quantity == "7");
        }

        LiveRunTests.AssertReplaysExactly(db, runId);
    }

    private static async Task<SandboxServer> Start(string file)
    {
        var options = new SandboxOptions { Speed = double.PositiveInfinity };
        options.Series.Add(new SandboxSeries("ORCL", file));
        return await SandboxServer.StartAsync(options);
    }

    /// <summary>Resumes the run: reconciled (or refused) at start, then stopped once it is running again.</summary>
    private static async Task<RunOutcome> Resume(SandboxServer sandbox, string db, string runId, bool adopt)
    {
        await using var host = new RunHost(LiveRunTests.Services(sandbox));
        var (record, spec) = RunHost.FindRecorded(db, runId);
        var run = host.Resume(record, spec with { Live = spec.Live! with { Adopt = adopt } });
        int rounds = Reconciliations(db, runId);
        using var timeout = new CancellationTokenSource(Patience);
        while (!run.Completion.IsCompleted && Reconciliations(db, runId) == rounds)
        {
            await Task.Delay(20, timeout.Token);
        }

        if (!run.Completion.IsCompleted)
        {
            run.Stop();
        }

        return await run.Completion.WaitAsync(Patience);
    }

    /// <summary>How many start reconciliations the run's journal records.</summary>
    private static int Reconciliations(string db, string runId)
    {
        using var store = KeelStore.Open(db);
        return store.ReadEvents(runId, 0, 100_000).Count(e => e.Type == "notice.reconciled");
    }
}
