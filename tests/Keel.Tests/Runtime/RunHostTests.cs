using Keel.Data;
using Keel.Domain;
using Keel.Domain.Orders;
using Keel.Engine.Data;
using Keel.Engine.Persistence;
using Keel.Runtime;
using Keel.Storage;
using Keel.Tests.Support;

namespace Keel.Tests.Runtime;

/// <summary>The run host and its handles: several runs in one process, commands in, events out, orders from outside.</summary>
public sealed class RunHostTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string Orcl => Path.Combine(TestPaths.RepoRoot, "samples", "data", "orcl-1995-2014.txt");

    /// <summary>A spec as the CLI would resolve it for sma-cross on the bundled ORCL file.</summary>
    internal static RunSpec Spec(RunMode mode, string? db, string? outDir, int fast = 10, int slow = 30, double speed = double.PositiveInfinity, Quantity? maxPosition = null) => new()
    {
        Mode = mode,
        DataFiles = [Orcl],
        Symbols = ["ORCL"],
        Strategy = "sma-cross",
        Parameters = [$"fast={fast}", $"slow={slow}"],
        Stake = Quantity.From(100),
        Cash = Money.From(100_000),
        Commission = 0.001m,
        CommissionPerShare = Money.Zero,
        CommissionMinimum = Money.Zero,
        CommissionPerOrder = Money.Zero,
        Slippage = 0m,
        FillAtClose = false,
        VolumeParticipation = null,
        From = null,
        To = null,
        OutDir = outDir,
        AssetClass = AssetClass.Equity,
        TickSize = null,
        LotSize = null,
        Leverage = 1m,
        MaxPosition = maxPosition,
        MaxOrderNotional = null,
        MaxOpenOrders = null,
        PeriodsPerYear = null,
        Quiet = true,
        Speed = speed,
        Db = db,
        SnapshotEvery = 200_000,
        SnapshotSeconds = 10,
    };

    /// <summary>Replay pace at which the 5,036 ORCL bars take a few seconds: long enough to act on a running run.</summary>
    private const double Slow = 86_400d * 2_000;

    [Fact]
    public async Task TwoRuns_InOneProcess_RunAtTheSameTime_AndEachGivesItsOwnResult()
    {
        var db = _dir.File("keel.db");
        await using var host = new RunHost();
        var a = host.Start(Spec(RunMode.PaperReplay, db, _dir.File("a"), speed: Slow));
        var b = host.Start(Spec(RunMode.PaperReplay, db, _dir.File("b"), fast: 5, slow: 20, speed: Slow));
        Assert.NotEqual(a.RunId, b.RunId);

        // Both are running at once, each on its own kernel thread.
        await Until(() => a.Status == RunStatus.Running && b.Status == RunStatus.Running && a.Progress > 0 && b.Progress > 0 && a.Progress < 100 && b.Progress < 100);
        Assert.Equal(2, host.Runs.Count);

        var (ra, rb) = (await a.Completion.WaitAsync(Patience), await b.Completion.WaitAsync(Patience));
        Assert.Equal(RunEnd.Completed, ra.End);
        Assert.Equal(RunEnd.Completed, rb.End);

        // Each equals the same run made alone (paper = backtest, bar for bar).
        await using var solo = new RunHost();
        var alone = await solo.Start(Spec(RunMode.Backtest, null, _dir.File("alone-b"), fast: 5, slow: 20)).Completion.WaitAsync(Patience);
        Assert.Equal(File.ReadAllBytes(Path.Combine(_dir.File("alone-b"), "orders.csv")), File.ReadAllBytes(Path.Combine(_dir.File("b"), "orders.csv")));
        Assert.Equal(alone.Result.Metrics.FinalEquity, rb.Result.Metrics.FinalEquity);
        Assert.NotEqual(ra.Result.Metrics.FinalEquity, rb.Result.Metrics.FinalEquity);

        using var store = KeelStore.Open(db);
        Assert.Equal(RunStatus.Completed, store.FindRun(a.RunId!)!.Status);
        Assert.Equal(RunStatus.Completed, store.FindRun(b.RunId!)!.Status);
        await Until(() => host.Runs.Count == 0);
    }

    [Fact]
    public async Task PauseResumeStop_ThroughTheHandle_AreSeenInStatusAndEvents_AndTheStoppedRunResumesExactly()
    {
        var db = _dir.File("keel.db");
        await using var host = new RunHost();
        var run = host.Start(Spec(RunMode.PaperReplay, db, _dir.File("out"), speed: Slow));
        await Until(() => run.Status == RunStatus.Running && run.Progress > 0);

        await run.PauseAsync();
        await Until(() => run.Status == RunStatus.Paused);
        double pausedAt = run.Progress;
        await run.ResumeAsync();
        await Until(() => run.Status == RunStatus.Running);
        await Until(() => run.Progress > pausedAt);
        run.Stop();
        var stopped = await run.Completion.WaitAsync(Patience);
        Assert.Equal(RunEnd.Stopped, stopped.End);
        Assert.Equal(RunStatus.Stopped, run.Status);

        var states = new List<string>();
        await foreach (var e in run.Events())
        {
            if (e.Type == "kernel.state")
            {
                states.Add(e.Payload);
            }
        }

        Assert.Equal(
            ["{\"from\":\"created\",\"to\":\"running\"}", "{\"from\":\"running\",\"to\":\"paused\"}", "{\"from\":\"paused\",\"to\":\"running\"}", "{\"from\":\"running\",\"to\":\"stopped\"}"],
            states);

        // The stopped run is recorded as stopped and can be continued.
        var (record, spec) = RunHost.FindRecorded(db, run.RunId!);
        Assert.Equal(RunStatus.Stopped, record.Status);
        var resumed = await host.Resume(record, spec with { Speed = double.PositiveInfinity }).Completion.WaitAsync(Patience);
        Assert.Equal(RunEnd.Completed, resumed.End);
        Assert.Equal(5_036, resumed.Result.DataEvents);
    }

    [Fact]
    public async Task ARunStoppedThroughItsHandle_ResumesToExactlyTheUninterruptedResult()
    {
        var db = _dir.File("keel.db");
        await using var host = new RunHost();
        var run = host.Start(Spec(RunMode.PaperReplay, db, _dir.File("out"), speed: Slow));
        await Until(() => run.Progress > 20);
        run.Stop();
        Assert.Equal(RunEnd.Stopped, (await run.Completion.WaitAsync(Patience)).End);
        Assert.False(File.Exists(Path.Combine(_dir.File("out"), "orders.csv")));

        var (record, spec) = RunHost.FindRecorded(db, run.RunId!);
        var resumed = await host.Resume(record, spec with { Speed = double.PositiveInfinity }).Completion.WaitAsync(Patience);
        Assert.Equal(RunEnd.Completed, resumed.End);
        await using var solo = new RunHost();
        await solo.Start(Spec(RunMode.Backtest, null, _dir.File("alone"))).Completion.WaitAsync(Patience);
        foreach (var name in new[] { "orders.csv", "fills.csv", "trades.csv", "equity.csv" })
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(_dir.File("alone"), name)), File.ReadAllBytes(Path.Combine(_dir.File("out"), name)));
        }
    }

    [Fact]
    public async Task Resume_FromASnapshotOfAnOlderFormat_IsRefusedNamingItsFormat_AndTouchesNothing()
    {
        var db = _dir.File("keel.db");
        await using var host = new RunHost();
        var run = host.Start(Spec(RunMode.PaperReplay, db, _dir.File("out"), speed: Slow));
        await Until(() => run.Progress > 10);
        run.Stop();
        Assert.Equal(RunEnd.Stopped, (await run.Completion.WaitAsync(Patience)).End);

        // The newest snapshot replaced by one that today's main wrote (format 1), with a matching checksum: intact, but old.
        SnapshotRecord newest;
        using (var store = KeelStore.Open(db))
        {
            newest = store.Snapshots(run.RunId!, 1)[0];
            store.Write(new JournalBatch(run.RunId!) { Snapshot = SnapshotRecord.Create(newest.Sequence, newest.DataEvents, SnapshotFormatTests.Format1Payload, newest.CreatedAt) });
        }

        var (record, spec) = RunHost.FindRecorded(db, run.RunId!);
        var error = Assert.Throws<SnapshotException>(() => host.Resume(record, spec));
        Assert.Equal(SnapshotFormatTests.RefusedFormat1, error.Message);
        using (var store = KeelStore.Open(db))
        {
            Assert.Equal(RunStatus.Stopped, store.FindRun(run.RunId!)!.Status);
            store.Write(new JournalBatch(run.RunId!) { Snapshot = newest });
        }

        // With its own snapshot back, the same run resumes.
        Assert.Equal(RunEnd.Completed, (await host.Resume(record, spec with { Speed = double.PositiveInfinity }).Completion.WaitAsync(Patience)).End);
    }

    [Fact]
    public async Task Resume_RefusesADataFileThatChangedSinceTheRunStarted_NamingIt()
    {
        var db = _dir.File("keel.db");
        var copy = _dir.File("orcl.txt");
        File.Copy(Orcl, copy);
        await using var host = new RunHost();
        var run = host.Start(Spec(RunMode.PaperReplay, db, null, speed: Slow) with { DataFiles = [copy] });
        await Until(() => run.Progress > 10);
        run.Stop();
        await run.Completion.WaitAsync(Patience);

        // One price edited in place: same length, different bytes.
        var text = File.ReadAllText(copy);
        int at = text.LastIndexOf('1');
        File.WriteAllText(copy, text[..at] + "2" + text[(at + 1)..]);
        var (record, spec) = RunHost.FindRecorded(db, run.RunId!);
        var error = Assert.Throws<UsageException>(() => host.Resume(record, spec));
        Assert.Contains(copy, error.Message, StringComparison.Ordinal);
        Assert.Contains("changed", error.Message, StringComparison.Ordinal);

        // Put back, it resumes.
        File.Copy(Orcl, copy, overwrite: true);
        Assert.Equal(RunEnd.Completed, (await host.Resume(record, spec with { Speed = double.PositiveInfinity }).Completion.WaitAsync(Patience)).End);
    }

    [Fact]
    public async Task Resume_RefusesCandlesInTheStoreThatChangedSinceTheRunStarted()
    {
        var db = _dir.File("keel.db");
        using (var store = KeelStore.Open(db))
        using (var reader = CsvBarReader.Open(Orcl, new InstrumentId("ORCL")))
        {
            store.ImportCandles("ORCL", "1d", reader);
        }

        await using var host = new RunHost();
        var run = host.Start(Spec(RunMode.PaperReplay, db, null, speed: Slow) with { DataFiles = ["db:ORCL:1d"] });
        await Until(() => run.Progress > 10);
        run.Stop();
        await run.Completion.WaitAsync(Patience);
        var (record, spec) = RunHost.FindRecorded(db, run.RunId!);
        Assert.Contains(spec.Inputs!, i => i.Path == "db:ORCL:1d" && i.Length == 5_036);

        // The last candle re-imported with another close: same count, different content.
        using (var store = KeelStore.Open(db))
        {
            var last = store.LatestCandle(new InstrumentId("ORCL"), "ORCL", "1d")!.Value;
            store.ImportCandles("ORCL", "1d", new ListBarReader([last with { Close = last.Close == last.Low ? last.High : last.Low }]));
        }

        var error = Assert.Throws<UsageException>(() => host.Resume(record, spec));
        Assert.Contains("db:ORCL:1d", error.Message, StringComparison.Ordinal);
        Assert.Contains("changed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AHostThatKeepsNoEvents_RefusesToStreamThem_AndStillGivesTheSameResult()
    {
        await using var keeping = new RunHost();
        await using var lean = new RunHost(new RunServices { KeepEvents = false });
        var a = keeping.Start(Spec(RunMode.Backtest, null, _dir.File("a")));
        var b = lean.Start(Spec(RunMode.Backtest, null, _dir.File("b")));
        var (ra, rb) = (await a.Completion.WaitAsync(Patience), await b.Completion.WaitAsync(Patience));
        Assert.Throws<InvalidOperationException>(() => b.Events());
        Assert.Equal(ra.Result.Metrics.NetProfit, rb.Result.Metrics.NetProfit);
        Assert.Equal(File.ReadAllBytes(Path.Combine(_dir.File("a"), "orders.csv")), File.ReadAllBytes(Path.Combine(_dir.File("b"), "orders.csv")));
    }

    [Fact]
    public async Task AnOrderFromOutside_PassesTheRiskGate_AndIsJournaledLikeAStrategysOwn()
    {
        var db = _dir.File("keel.db");
        await using var host = new RunHost();
        var run = host.Start(Spec(RunMode.PaperReplay, db, _dir.File("out"), speed: Slow, maxPosition: Quantity.From(500)));
        await Until(() => run.Status == RunStatus.Running && run.Progress > 0);
        await run.PauseAsync();
        await Until(() => run.Status == RunStatus.Paused);

        var orcl = new InstrumentId("ORCL");
        var small = await run.SubmitOrderAsync(OrderRequest.Market(orcl, OrderSide.Buy, Quantity.From(10), "operator"));
        Assert.Equal(OrderStatus.Accepted, small.Status);
        var big = await run.SubmitOrderAsync(OrderRequest.Market(orcl, OrderSide.Buy, Quantity.From(1_000), "operator"));
        Assert.Equal(OrderStatus.Denied, big.Status);
        Assert.Contains("position", big.Reason, StringComparison.OrdinalIgnoreCase);
        var unknown = await run.SubmitOrderAsync(OrderRequest.Market(new InstrumentId("NOPE"), OrderSide.Buy, Quantity.From(1)));
        Assert.Equal(OrderStatus.Denied, unknown.Status);
        Assert.Contains("NOPE", unknown.Reason, StringComparison.Ordinal);
        var limit = await run.SubmitOrderAsync(OrderRequest.Limit(orcl, OrderSide.Buy, Quantity.From(10), Price.From(0.01m), tag: "operator"));
        Assert.Equal(OrderStatus.Accepted, limit.Status);
        var cancelled = await run.CancelOrderAsync(limit.Id);
        Assert.Equal(OrderStatus.Canceled, cancelled.Status);
        Assert.NotEqual(small.Id, big.Id);

        // The accepted market order fills on the next bar: resume and wait for that fill before stopping.
        await run.ResumeAsync();
        using (var waited = new CancellationTokenSource(Patience))
        {
            await foreach (var e in run.Events(0, waited.Token))
            {
                if (e.Type == "order.filled" && e.Payload.Contains(small.Id.Value, StringComparison.Ordinal))
                {
                    break;
                }
            }
        }

        run.Stop();
        await run.Completion.WaitAsync(Patience);

        // The journal holds them like any strategy order: submitted before the venue saw it, denied with its reason.
        using var store = KeelStore.Open(db);
        var events = store.ReadEvents(run.RunId!, 0, 100_000);
        Assert.Contains(events, e => e.Type == "order.submitted" && e.Payload.Contains(small.Id.Value, StringComparison.Ordinal));
        Assert.Contains(events, e => e.Type == "order.filled" && e.Payload.Contains(small.Id.Value, StringComparison.Ordinal));
        Assert.Contains(events, e => e.Type == "order.denied" && e.Payload.Contains(big.Id.Value, StringComparison.Ordinal) && e.Payload.Contains("position", StringComparison.OrdinalIgnoreCase));
        Assert.Contains(events, e => e.Type == "order.canceled" && e.Payload.Contains(limit.Id.Value, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ASubscriberThatDisconnects_ResumesFromItsLastSequence_AndMissesNothing()
    {
        var db = _dir.File("keel.db");
        await using var host = new RunHost();
        var run = host.Start(Spec(RunMode.PaperReplay, db, null, speed: Slow / 4));

        // Read some events live, drop the connection, come back later from the last sequence seen.
        var seen = new List<RunEvent>();
        using (var first = new CancellationTokenSource())
        {
            await foreach (var e in run.Events(0, first.Token))
            {
                seen.Add(e);
                if (seen.Count == 20)
                {
                    break;
                }
            }
        }

        await Until(() => run.Progress > 30);
        await foreach (var e in run.Events(seen[^1].Sequence))
        {
            seen.Add(e);
        }

        var outcome = await run.Completion.WaitAsync(Patience);
        Assert.Equal(RunEnd.Completed, outcome.End);

        // Exactly the journal, in order, with no gap and no repeat.
        using var store = KeelStore.Open(db);
        var stored = store.ReadEvents(run.RunId!, 0, 1_000_000);
        Assert.True(stored.Count > 100, $"only {stored.Count} events were journaled");
        Assert.Equal(stored.Select(e => (e.Sequence, e.Type, e.Payload)), seen.Select(e => (e.Sequence, e.Type, e.Payload)));
    }

    [Fact]
    public async Task ASubscriberComingLate_GetsWhatTheRingNoLongerHoldsFromTheStore_ThenFollowsLive()
    {
        var db = _dir.File("keel.db");
        await using var host = new RunHost(new RunServices { EventsHeldPow2 = 3 });
        var run = host.Start(Spec(RunMode.PaperReplay, db, null, fast: 3, slow: 5, speed: Slow));
        await Until(() => run.LastSequence > 0 && run.Progress > 40);
        var seen = new List<RunEvent>();
        await foreach (var e in run.Events(0))
        {
            seen.Add(e);
        }

        Assert.Equal(RunEnd.Completed, (await run.Completion.WaitAsync(Patience)).End);
        using var store = KeelStore.Open(db);
        var stored = store.ReadEvents(run.RunId!, 0, 1_000_000);
        Assert.True(stored.Count > 1_000, $"only {stored.Count} events were journaled");
        Assert.Equal(stored.Select(e => (e.Sequence, e.Type, e.Payload)), seen.Select(e => (e.Sequence, e.Type, e.Payload)));
    }

    [Fact]
    public async Task AnEventLog_ReadsWhatItsRingDropped_FromTheStore_OrSaysItIsLost()
    {
        var log = new RunEventLog(capacityPow2: 3);
        var all = new List<RunEvent>();
        for (int i = 1; i <= 20; i++)
        {
            var notice = new Keel.Engine.Kernel.KernelNotice(Keel.Engine.Kernel.NoticeLevel.Info, "n", $"event {i}", Timestamp.FromUnixNanos(i));
            log.Handle(notice, i * 2);
            all.Add(new RunEvent(i * 2, "notice.n", Timestamp.FromUnixNanos(i), Keel.Engine.Persistence.JournalPayload.Format(notice)));
        }

        log.Complete();

        // The ring holds the newest 8; the rest is gone unless a store has it.
        var held = new List<RunEvent>();
        await foreach (var e in log.ReadAsync(26))
        {
            held.Add(e);
        }

        Assert.Equal(all.Where(e => e.Sequence > 26), held);
        await Assert.ThrowsAsync<RunEventsLostException>(async () =>
        {
            await foreach (var e in log.ReadAsync(0))
            {
                Assert.NotNull(e);
            }
        });

        var stored = new RunEventLog((after, limit) => [.. all.Where(e => e.Sequence > after).Take(limit)], capacityPow2: 3);
        foreach (var e in all)
        {
            stored.Handle(new Keel.Engine.Kernel.KernelNotice(Keel.Engine.Kernel.NoticeLevel.Info, "n", $"event {e.Sequence / 2}", e.Time), e.Sequence);
        }

        stored.Complete();
        var read = new List<RunEvent>();
        await foreach (var e in stored.ReadAsync(3))
        {
            read.Add(e);
        }

        Assert.Equal(all.Where(e => e.Sequence > 3), read);
    }

    private static async Task Until(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(Patience);
        while (!condition())
        {
            await Task.Delay(5, timeout.Token);
        }
    }
}
