using System.Text.Json;
using Keel.Data;
using Keel.Domain;
using Keel.Engine.Clock;
using Keel.Engine.Data;
using Keel.Engine.Persistence;
using Keel.Engine.Simulation;
using Keel.Runtime.Sessions;
using Keel.Storage;
using Keel.Tests.Support;

namespace Keel.Tests.Storage;

/// <summary>
/// What every store backend must do, run against each real backend (SQLite file, PostgreSQL server). A backend-specific
/// subclass supplies the store and raw SQL access for tampering.
/// </summary>
public abstract class StoreContract : IDisposable
{
    private readonly List<KeelStore> _opened = [];

    protected static Timestamp T0 { get; } = Timestamp.FromParts(2024, 1, 2, 14, 30);

    /// <summary>Opens the backend's store (each call a new store object on the same database).</summary>
    protected abstract KeelStore OpenNew(StoreOptions? options = null);

    /// <summary>Runs raw SQL against the same database.</summary>
    protected abstract void Exec(string sql);

    protected abstract long Count(string sql);

    protected KeelStore Open(StoreOptions? options = null)
    {
        var store = OpenNew(options);
        _opened.Add(store);
        return store;
    }

    public virtual void Dispose()
    {
        foreach (var s in _opened)
        {
            s.Dispose();
        }

        GC.SuppressFinalize(this);
    }

    [ContractFact]
    public void Migrations_AreAppliedOnce_AndReopeningKeepsData()
    {
        var store = Open();
        Assert.Equal(Migrations.Latest(store.Backend == "sqlite" ? Migrations.Sqlite : Migrations.Postgres), store.SchemaVersion);
        store.CreateRun(NewRun("r-1"));
        using var again = OpenNew();
        Assert.NotNull(again.FindRun("r-1"));
        Assert.Equal(store.SchemaVersion, Count("SELECT COUNT(*) FROM schema_version"));
    }

    [ContractFact]
    public void A_DatabaseFromANewerKeel_IsRefused_WithItsVersionNamed()
    {
        var store = Open();
        int newer = store.SchemaVersion + 1;
        Exec($"INSERT INTO schema_version (version, description, applied_at) VALUES ({newer}, 'from the future', 0)");
        var ex = Assert.Throws<StorageException>(() => OpenNew());
        Assert.Contains("newer Keel", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"schema version {newer}", ex.Message, StringComparison.Ordinal);
        Assert.Contains(store.Describe, ex.Message, StringComparison.Ordinal);
    }

    [ContractFact]
    public void Runs_AreCreatedFoundByPrefixListedNewestFirstAndUpdated()
    {
        var store = Open();
        store.CreateRun(NewRun("20240102-143000-aaaaaa", T0));
        store.CreateRun(NewRun("20240102-150000-bbbbbb", T0.AddNanos(Timestamp.NanosPerSecond)));
        store.CreateRun(NewRun("20240102-150000-bbbbcc", T0.AddNanos(2 * Timestamp.NanosPerSecond)));

        Assert.Equal("20240102-143000-aaaaaa", store.FindRun("20240102-14")!.Id);
        Assert.Null(store.FindRun("2099"));
        Assert.Throws<StorageException>(() => store.FindRun("20240102-150000-bbbb"));
        Assert.Equal("20240102-150000-bbbbcc", store.FindRun("20240102-150000-bbbbcc")!.Id);
        Assert.Equal(["20240102-150000-bbbbcc", "20240102-150000-bbbbbb", "20240102-143000-aaaaaa"], store.ListRuns(10).Select(r => r.Id));
        Assert.Single(store.ListRuns(1));

        var later = T0.AddNanos(60 * Timestamp.NanosPerSecond);
        store.UpdateRun("20240102-143000-aaaaaa", RunStatus.Running, later, progress: 12.5, startedAt: later);
        store.UpdateRun("20240102-143000-aaaaaa", RunStatus.Failed, later, error: "disk full");
        var run = store.FindRun("20240102-143000-aaaaaa")!;
        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Equal(12.5, run.Progress);
        Assert.Equal(later, run.StartedAt);
        Assert.Equal("disk full", run.Error);
        Assert.Equal("{\"x\":1}", run.Spec);

        store.UpdateRun("20240102-143000-aaaaaa", RunStatus.Completed, later, progress: 100, finishedAt: later, metrics: "{\"final_equity\":\"1.5\"}");
        run = store.FindRun("20240102-143000-aaaaaa")!;
        Assert.Equal(RunStatus.Completed, run.Status);
        Assert.Equal(later, run.FinishedAt);
        Assert.Equal("{\"final_equity\":\"1.5\"}", run.Metrics);
    }

    [ContractFact]
    public void A_RecordedRun_JournalsEveryOrderFillAndTrade_InSequence()
    {
        var store = Open();
        store.CreateRun(NewRun("run-a"));
        var result = Record(store, "run-a", snapshotEvery: 100);

        var counts = store.Counts("run-a");
        Assert.Equal(result.Metrics.Orders, counts.Orders);
        Assert.Equal(result.Metrics.Fills, counts.Fills);
        Assert.Equal(result.Metrics.Trades, counts.Trades);
        Assert.True(counts.Snapshots >= 3, $"snapshots: {counts.Snapshots}");
        Assert.Equal(counts.Snapshots + 1, counts.Checkpoints);
        Assert.Equal(counts.Fills, store.ReadFills("run-a", 0, int.MaxValue).Count);
        Assert.Equal(counts.Trades, store.ReadTrades("run-a", 0, int.MaxValue).Count);
        Assert.Equal(counts.Orders, store.ReadOrders("run-a").Count);

        // Events: all of them, paged, strictly increasing, each a JSON object; order events name the order.
        var events = new List<StoredEvent>();
        long since = 0;
        while (true)
        {
            var page = store.ReadEvents("run-a", since, 50);
            events.AddRange(page);
            if (page.Count < 50)
            {
                break;
            }

            since = page[^1].Sequence;
        }

        Assert.Equal(counts.Events, events.Count);
        Assert.True(events.Zip(events.Skip(1)).All(p => p.First.Sequence < p.Second.Sequence));
        Assert.Equal(result.Metrics.Orders, events.Count(e => e.Type == "order.submitted"));
        Assert.Equal(result.Metrics.Fills, events.Count(e => e.Type == "order.filled"));
        foreach (var e in events)
        {
            using var doc = JsonDocument.Parse(e.Payload);
            Assert.Equal(JsonValueKind.Object, doc.RootElement.ValueKind);
        }

        Assert.Empty(store.ReadEvents("run-a", events[^1].Sequence, 10));
        Assert.Equal(events.Skip(5).First().Sequence, store.ReadEvents("run-a", events[4].Sequence, 1)[0].Sequence);

        var run = store.FindRun("run-a")!;
        Assert.Equal(result.LastSequence, run.LastSequence);
        Assert.Equal(100, run.Progress);

        var checkpoint = store.LatestCheckpoint("run-a")!;
        Assert.Equal(result.Metrics.NetProfit, checkpoint.Pnl);
        Assert.Equal(result.Metrics.TotalReturn, checkpoint.TotalReturn, 12);
        Assert.Equal(result.DataEvents, checkpoint.Processed);
    }

    [ContractFact]
    public void Rewriting_TheSameJournal_AfterAResume_ChangesNothing()
    {
        var store = Open();
        store.CreateRun(NewRun("run-b"));
        Record(store, "run-b", snapshotEvery: 100);
        var before = store.Counts("run-b");
        var firstEvents = store.ReadEvents("run-b", 0, 100_000);

        // A resumed run replays from a snapshot and journals the same events again: nothing may be doubled.
        Record(store, "run-b", snapshotEvery: 100);
        Assert.Equal(before, store.Counts("run-b"));
        Assert.Equal(firstEvents, store.ReadEvents("run-b", 0, 100_000));
    }

    [ContractFact]
    public void Resuming_FromAnySnapshot_GivesTheUninterruptedOutputs()
    {
        var store = Open();
        store.CreateRun(NewRun("run-c"));
        var reference = RecordWithOutputs(store, "run-c", null, null);
        var snapshots = store.Snapshots("run-c", 1000);
        Assert.True(snapshots.Count >= 5, $"snapshots: {snapshots.Count}");
        foreach (var s in snapshots)
        {
            var lengths = TradingSession.SnapshotOutputLengths(s.Payload);
            var resumed = RecordWithOutputs(store, "run-c", s, reference.Files.ToDictionary(kv => kv.Key, kv => kv.Value[..(int)lengths[kv.Key]]));
            Assert.Equal(reference.Metrics, resumed.Metrics);
            foreach (var (name, bytes) in reference.Files)
            {
                Assert.True(bytes.AsSpan().SequenceEqual(resumed.Files[name]), $"{name} differs after resuming from {KeelStore.DescribeSnapshot(s)}");
            }
        }
    }

    [ContractFact]
    public void A_DamagedSnapshot_IsDetected_AndTheOneBeforeItUsed()
    {
        var store = Open();
        store.CreateRun(NewRun("run-d"));
        Record(store, "run-d", snapshotEvery: 100);
        var all = store.Snapshots("run-d", 100);
        Assert.True(all.Count >= 2);
        Assert.True(all.Zip(all.Skip(1)).All(p => p.First.Sequence > p.Second.Sequence), "snapshots come newest first");
        Assert.All(all, s => Assert.True(s.IsIntact));

        // Truncate the newest payload (as a torn write would): its checksum no longer matches.
        Exec($"UPDATE snapshots SET payload = substr(payload, 1, 100) WHERE run_id = 'run-d' AND seq = {all[0].Sequence}");
        var log = new ListLogger();
        var used = store.LatestIntactSnapshot("run-d", log);
        Assert.Equal(all[1].Sequence, used!.Sequence);
        var warning = Assert.Single(log.Entries);
        Assert.Equal((Microsoft.Extensions.Logging.LogLevel.Warning, 4000), (warning.Level, warning.Id.Id));
        Assert.Contains($"event {all[0].Sequence}", warning.Message, StringComparison.Ordinal);
        Assert.Contains("damaged", warning.Message, StringComparison.Ordinal);
    }

    [ContractFact]
    public void Pausing_SnapshotsAtOnce_AndRecordsTheRunAsPaused()
    {
        var store = Open();
        store.CreateRun(NewRun("run-p"));
        var instrument = Instrument.Equity("ORCL");
        var bars = new List<Bar>();
        using (var reader = CsvBarReader.Open(TestPaths.Data("orcl-2014.txt"), instrument.Id))
        {
            while (reader.TryRead(out var bar))
            {
                bars.Add(bar);
            }
        }

        var feeder = new PausingFeeder(bars, pauseAfter: 100, () => store.FindRun("run-p")!.Status == RunStatus.Paused);
        var persistence = new SessionPersistence
        {
            Journal = store,
            RunId = "run-p",
            Time = TimeProvider.System,
            SnapshotEveryEvents = long.MaxValue,
            SnapshotEvery = TimeSpan.FromDays(1),
        };
        var settings = new SessionSettings { InitialCash = Money.From(100_000) };
        var result = TradingSession.Run(settings, [instrument], Backtests.SmaCrossHost(5, 12, instrument), feeder, new SimulatedClock(), new SessionOutputs(), CancellationToken.None, persistence);

        Assert.True(feeder.SawPaused, "the run was never recorded as paused");
        Assert.Equal(bars.Count, result.DataEvents);
        var snapshots = store.Snapshots("run-p", 10);
        Assert.Equal(2, snapshots.Count);
        Assert.Equal(100, snapshots[1].DataEvents);
        Assert.Equal(RunStatus.Running, store.FindRun("run-p")!.Status);
    }

    /// <summary>Feeds bars one by one, pauses the kernel after some, waits until the store shows it, then resumes.</summary>
    private sealed class PausingFeeder(List<Bar> bars, int pauseAfter, Func<bool> isPaused) : IDataFeeder
    {
        public bool SawPaused { get; private set; }

        public void Run(Keel.Engine.Kernel.Inbox inbox, CancellationToken ct)
        {
            for (int i = 0; i < bars.Count; i++)
            {
                if (i == pauseAfter)
                {
                    inbox.Write(Keel.Engine.Kernel.InboxItem.ForCommand(Keel.Engine.Kernel.KernelCommand.Pause), ct);
                    var deadline = DateTime.UtcNow.AddSeconds(30);
                    while (!(SawPaused = isPaused()) && DateTime.UtcNow < deadline)
                    {
                        Thread.Sleep(5);
                    }

                    inbox.Write(Keel.Engine.Kernel.InboxItem.ForCommand(Keel.Engine.Kernel.KernelCommand.Resume), ct);
                }

                inbox.Write(Keel.Engine.Kernel.InboxItem.ForBar(bars[i]), ct);
            }

            inbox.Write(Keel.Engine.Kernel.InboxItem.EndOfData, ct);
        }
    }

    [ContractFact]
    public void Candles_AreUpsertedByKey_ReadInTimeOrderByRange_AndExact()
    {
        var store = Open();
        var id = new InstrumentId("EUR_USD");
        var bars = Enumerable.Range(0, 500).Select(i => Bar(id, i, 1.08123m + (i * 0.00001m))).ToList();
        Assert.Equal(500, store.ImportCandles("EUR_USD", "1m", new ListBarReader(bars)));

        // Re-import the last 100 with other prices plus 50 new ones: 100 replaced, 50 added.
        var update = Enumerable.Range(400, 150).Select(i => Bar(id, i, 2.5m + (i * 0.000000001m))).ToList();
        Assert.Equal(150, store.ImportCandles("EUR_USD", "1m", new ListBarReader(update)));
        store.ImportCandles("EUR_USD", "5m", new ListBarReader(bars.Take(7).ToList()));

        var expected = bars.Take(400).Concat(update).ToList();
        using (var reader = store.ReadCandles(id, "EUR_USD", "1m"))
        {
            Assert.Equal(expected, Drain(reader));
        }

        using (var window = store.ReadCandles(id, "EUR_USD", "1m", expected[10].Time, expected[19].Time))
        {
            Assert.Equal(expected.Skip(10).Take(10), Drain(window));
        }

        Assert.Equal(expected[^1], store.LatestCandle(id, "EUR_USD", "1m"));
        Assert.Null(store.LatestCandle(id, "EUR_USD", "1h"));
        var stats = store.CandleStatistics();
        Assert.Equal(557, stats.Count);
        Assert.True(stats.SizeOnDiskBytes > 0);
        var series = stats.Series.Single(s => s.Timeframe == "1m");
        Assert.Equal(("EUR_USD", 550L, expected[0].Time, expected[^1].Time), (series.Symbol, series.Count, series.First, series.Last));
    }

    [ContractFact]
    public void A_Run_CanBeLockedByOneHolderAtATime()
    {
        var store = Open();
        using var other = OpenNew();
        var first = store.TryLockRun("run-l");
        Assert.NotNull(first);
        Assert.Null(other.TryLockRun("run-l"));
        using (var unrelated = other.TryLockRun("run-m"))
        {
            Assert.NotNull(unrelated);
        }

        first!.Dispose();
        using var second = other.TryLockRun("run-l");
        Assert.NotNull(second);
    }

    [ContractFact]
    public void Big_JournalBatches_AreWrittenWhole()
    {
        var store = Open();
        store.CreateRun(NewRun("run-big"));
        var batch = new JournalBatch("run-big");
        for (int i = 1; i <= 20_000; i++)
        {
            batch.Events.Add(new JournalEvent(i, "test.event", T0.AddNanos(i), new { n = i }));
        }

        batch.Progress = new RunProgress(RunStatus.Running, 50, 20_000, T0);
        store.Write(batch);
        Assert.Equal(20_000, store.Counts("run-big").Events);
        Assert.Equal(20_000, store.FindRun("run-big")!.LastSequence);
        Assert.Equal(50, store.FindRun("run-big")!.Progress);
        var tail = store.ReadEvents("run-big", 19_998, 10);
        Assert.Equal([19_999L, 20_000L], tail.Select(e => e.Sequence));
    }

    /// <summary>
    /// A run settles its store (SQLite checkpoints its log on another thread) and goes on writing while that runs, as
    /// a run writes its report and marks itself complete: nothing written before or after is lost, and the store
    /// closes cleanly with the work in flight.
    /// </summary>
    [ContractFact]
    public void Settling_WhileWritesGoOn_LosesNothing()
    {
        var store = OpenNew();
        store.CreateRun(NewRun("run-settle"));
        var batch = new JournalBatch("run-settle");
        for (int i = 1; i <= 20_000; i++)
        {
            batch.Events.Add(new JournalEvent(i, "test.event", T0.AddNanos(i), new { n = i, pad = new string('x', 40) }));
        }

        store.Write(batch);
        store.SettleInBackground();
        store.SettleInBackground();
        var more = new JournalBatch("run-settle");
        for (int i = 20_001; i <= 20_100; i++)
        {
            more.Events.Add(new JournalEvent(i, "test.event", T0.AddNanos(i), new { n = i }));
        }

        store.Write(more);
        store.UpdateRun("run-settle", RunStatus.Completed, T0, progress: 100, finishedAt: T0);
        store.Dispose();

        var again = Open();
        Assert.Equal(20_100, again.Counts("run-settle").Events);
        Assert.Equal(RunStatus.Completed, again.FindRun("run-settle")!.Status);
        Assert.Equal([20_099L, 20_100L], again.ReadEvents("run-settle", 20_098, 10).Select(e => e.Sequence));
    }

    [ContractFact]
    public void Runs_AreListedAndCounted_ByStatusAndStrategy()
    {
        var store = Open();
        store.CreateRun(NewRun("r-1", T0));
        store.CreateRun(NewRun("r-2", T0.AddNanos(1)) with { Strategy = "floor" });
        store.CreateRun(NewRun("r-3", T0.AddNanos(2)));
        store.CreateRun(NewRun("r-4", T0.AddNanos(3)));
        store.UpdateRun("r-3", RunStatus.Failed, T0, error: "bad data");
        store.UpdateRun("r-2", RunStatus.Failed, T0, error: "bad data");

        Assert.Equal(4, store.CountRuns());
        Assert.Equal(["r-4", "r-3", "r-2", "r-1"], store.ListRuns(int.MaxValue).Select(r => r.Id));
        Assert.Equal(2, store.CountRuns(new RunFilter(Status: RunStatus.Failed)));
        Assert.Equal(["r-3", "r-2"], store.ListRuns(10, new RunFilter(Status: RunStatus.Failed)).Select(r => r.Id));
        Assert.Equal(["r-4", "r-3"], store.ListRuns(2, new RunFilter(Strategy: "sma-cross")).Select(r => r.Id));
        Assert.Equal(3, store.CountRuns(new RunFilter(Strategy: "sma-cross")));
        Assert.Equal(["r-3"], store.ListRuns(10, new RunFilter(RunStatus.Failed, "sma-cross")).Select(r => r.Id));
        Assert.Equal(0, store.CountRuns(new RunFilter(RunStatus.Completed, "floor")));
    }

    [ContractFact]
    public void A_JournalWrittenAgain_InOtherBatches_AsAResumeDoes_ReadsBackOnce_AsWrittenOnce()
    {
        // The batches of one recorded run, captured.
        var capture = new CapturingJournal();
        Session(capture, "captured", 50, null, new SessionOutputs());
        var batches = capture.Batches.Where(b => b.Events.Count > 0).ToList();
        Assert.True(batches.Count >= 6, $"only {batches.Count} batches");

        var store = Open();
        store.CreateRun(NewRun("once"));
        store.CreateRun(NewRun("again"));
        foreach (var b in batches)
        {
            store.Write(Copy("once", b));
        }

        // An attempt that wrote two thirds of the batches one by one and stopped; then a resume from a third that
        // writes the rest in batches three times as large (its chunks start before, and cover, the earlier ones).
        int third = batches.Count / 3;
        foreach (var b in batches.Take(2 * third))
        {
            store.Write(Copy("again", b));
        }

        // Read once in between: a store that keeps decoded records must not serve them after they were rewritten.
        Assert.NotEmpty(Paged(store, "again", 7));

        foreach (var group in batches.Skip(third).Chunk(3))
        {
            store.Write(Copy("again", group));
        }

        Assert.Equal(store.Counts("once"), store.Counts("again"));
        Assert.Equal(store.ReadOrders("once"), store.ReadOrders("again"));
        Assert.Equal(store.ReadFills("once", 0, int.MaxValue), store.ReadFills("again", 0, int.MaxValue));
        Assert.Equal(store.ReadTrades("once", 0, int.MaxValue), store.ReadTrades("again", 0, int.MaxValue));
        var once = store.ReadEvents("once", 0, int.MaxValue);
        Assert.Equal(once, Paged(store, "again", 7));
        Assert.Equal(store.Counts("once").Events, once.Count);

        static JournalBatch Copy(string runId, params JournalBatch[] from)
        {
            var batch = new JournalBatch(runId);
            foreach (var b in from)
            {
                batch.Events.AddRange(b.Events);
                b.Orders.ForEach(batch.SetOrder);
                batch.Fills.AddRange(b.Fills);
                batch.Trades.AddRange(b.Trades);
                b.Positions.ForEach(batch.SetPosition);
            }

            return batch;
        }

        static List<StoredEvent> Paged(KeelStore store, string runId, int page)
        {
            var all = new List<StoredEvent>();
            while (store.ReadEvents(runId, all.Count == 0 ? 0 : all[^1].Sequence, page) is { Count: > 0 } next)
            {
                Assert.True(next.Count <= page);
                all.AddRange(next);
            }

            return all;
        }
    }

    [ContractFact]
    public void An_OrdersLatestState_Wins_EvenWhenAnEarlierAttemptWroteAnOlderOneInABatchThatStartsLater()
    {
        var store = Open();
        store.CreateRun(NewRun("run-o"));
        var instrument = Instrument.Equity("ORCL").Id;
        OrderRecord State(string id, long number, Keel.Domain.Orders.OrderStatus status, long seq) => new(
            new ClientOrderId(id), number, instrument, Keel.Domain.Orders.OrderSide.Buy, Keel.Domain.Orders.OrderType.Market, Quantity.From(1), null, null,
            Keel.Domain.Orders.TimeInForce.Gtc, status, T0, T0.AddNanos(seq), Quantity.Zero, null, Money.Zero, Keel.Domain.Orders.ContingencyType.None, null, null, null, null)
        {
            Sequence = seq,
        };
        JournalBatch Batch(params OrderRecord[] orders)
        {
            var batch = new JournalBatch("run-o");
            foreach (var o in orders)
            {
                batch.Events.Add(new JournalEvent(o.Sequence, "order.test", T0.AddNanos(o.Sequence), new object()));
                batch.SetOrder(o);
            }

            return batch;
        }

        // The earlier attempt: O-2 submitted at 5, accepted at 12 (a batch of its own).
        store.Write(Batch(State("O-2", 2, Keel.Domain.Orders.OrderStatus.Submitted, 5)));
        store.Write(Batch(State("O-2", 2, Keel.Domain.Orders.OrderStatus.Accepted, 12)));

        // The resume writes one batch from 1: O-1 at 1, O-2 filled at 15.
        store.Write(Batch(State("O-1", 1, Keel.Domain.Orders.OrderStatus.Submitted, 1), State("O-2", 2, Keel.Domain.Orders.OrderStatus.Submitted, 5), State("O-2", 2, Keel.Domain.Orders.OrderStatus.Accepted, 12), State("O-2", 2, Keel.Domain.Orders.OrderStatus.Filled, 15)));

        Assert.Equal([("O-1", "submitted"), ("O-2", "filled")], store.ReadOrders("run-o").Select(o => (o.Id, o.Status)));
        Assert.Equal(2, store.Counts("run-o").Orders);
        Assert.Equal([1L, 5, 12, 15], store.ReadEvents("run-o", 0, 100).Select(e => e.Sequence));
    }

    [ContractFact]
    public void Events_WrittenAgain_FromTheSameSequence_WithMore_AreReadBack_EvenAfterAnEarlierRead()
    {
        var store = Open();
        store.CreateRun(NewRun("run-e"));
        JournalBatch Events(int from, int to)
        {
            var batch = new JournalBatch("run-e");
            for (int seq = from; seq <= to; seq++)
            {
                batch.Events.Add(new JournalEvent(seq, "test.event", T0.AddNanos(seq), new object()));
            }

            return batch;
        }

        store.Write(Events(1, 3));
        Assert.Equal([1L, 2, 3], store.ReadEvents("run-e", 0, 100).Select(e => e.Sequence));

        // A resume from the start writes the same events and more, in one batch.
        store.Write(Events(1, 6));
        Assert.Equal([1L, 2, 3, 4, 5, 6], store.ReadEvents("run-e", 0, 100).Select(e => e.Sequence));
        Assert.Equal([5L, 6], store.ReadEvents("run-e", 4, 100).Select(e => e.Sequence));
        Assert.Equal(6, store.Counts("run-e").Events);

        // Written again with fewer (an attempt that stopped sooner), nothing is lost.
        store.Write(Events(1, 2));
        Assert.Equal([1L, 2, 3, 4, 5, 6], store.ReadEvents("run-e", 0, 100).Select(e => e.Sequence));
    }

    private sealed class CapturingJournal : IRunJournal
    {
        public List<JournalBatch> Batches { get; } = [];

        public string Describe => "capture";

        public void Write(JournalBatch batch) => Batches.Add(batch);
    }

    [ContractFact]
    public void The_RunTables_AreEveryTableKeyedByRunId()
    {
        var store = Open();
        string tablesWithRunId = store.Backend == "sqlite"
            ? "SELECT COUNT(*) FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table' AND p.name = 'run_id'"
            : "SELECT COUNT(*) FROM information_schema.columns WHERE column_name = 'run_id' AND table_schema = current_schema()";
        Assert.Equal(Migrations.RunTables.Count, Count(tablesWithRunId));
        foreach (var table in Migrations.RunTables)
        {
            Assert.Equal(0, Count($"SELECT COUNT(*) FROM {table} WHERE run_id = 'none'"));
        }
    }

    [ContractFact]
    public void Deleting_ARun_RemovesEveryRecordOfIt_AndNothingOfAnother()
    {
        var store = Open();
        foreach (var id in new[] { "run-x", "run-y" })
        {
            store.CreateRun(NewRun(id));
            Record(store, id, snapshotEvery: 100);
            var batch = new JournalBatch(id);
            batch.Inputs.Add(new InputRecord(1, T0, InputKind.Bar, "{}"));
            store.Write(batch);

            // A sweep's shared combinations (PostgreSQL queues them; the table is in both backends).
            Exec($"INSERT INTO sweep_jobs (run_id, idx, combination) VALUES ('{id}', 0, 7)");
        }

        var kept = store.Counts("run-y");
        foreach (var table in Migrations.RunTables)
        {
            Assert.True(Count($"SELECT COUNT(*) FROM {table} WHERE run_id = 'run-x'") > 0, $"the test run has no rows in {table}");
        }

        Assert.True(store.DeleteRun("run-x"));
        Assert.Null(store.FindRun("run-x"));
        foreach (var table in Migrations.RunTables)
        {
            Assert.Equal(0, Count($"SELECT COUNT(*) FROM {table} WHERE run_id = 'run-x'"));
        }

        Assert.Equal(kept, store.Counts("run-y"));
        Assert.NotNull(store.FindRun("run-y"));
        Assert.False(store.DeleteRun("run-x"));
        var space = store.Reclaim();
        Assert.True(space.Before > 0 && space.After > 0, $"{space}");
    }

    [ContractFact]
    public void Deleting_ARunAProcessIsRunning_IsRefused_AndNothingIsDeleted()
    {
        var store = Open();
        store.CreateRun(NewRun("run-done", T0));
        store.CreateRun(NewRun("run-going", T0.AddNanos(1)));
        store.CreateRun(NewRun("run-crashed", T0.AddNanos(2)));
        store.UpdateRun("run-going", RunStatus.Running, T0);
        store.UpdateRun("run-crashed", RunStatus.Running, T0);
        using var otherProcess = OpenNew();
        using (otherProcess.TryLockRun("run-going"))
        {
            var ex = Assert.Throws<Keel.Runtime.UsageException>(() => Keel.Runtime.RunCleanup.Delete(store, ["run-done", "run-going"]));
            Assert.Contains("run run-going is being run by a Keel process right now", ex.Message, StringComparison.Ordinal);
            Assert.Contains("Nothing was deleted", ex.Message, StringComparison.Ordinal);
            Assert.Equal(3, store.CountRuns());

            // Its lock was not taken over: the process that holds it still does.
            Assert.Null(store.TryLockRun("run-going"));

            // A run whose process died (status running, lock free) can go.
            var crashed = Keel.Runtime.RunCleanup.Delete(store, ["run-crashed", "run-done"]);
            Assert.Equal(["run-crashed", "run-done"], crashed.Deleted.Select(r => r.Id));
            Assert.Equal(["run-going"], store.ListRuns(10).Select(r => r.Id));
        }

        var missing = Assert.Throws<Keel.Runtime.UsageException>(() => Keel.Runtime.RunCleanup.Delete(store, ["run-going", "nope"]));
        Assert.Contains("no run nope", missing.Message, StringComparison.Ordinal);
        Assert.Single(store.ListRuns(10));
        Keel.Runtime.RunCleanup.Delete(store, ["run-going"]);
        Assert.Equal(0, store.CountRuns());
    }

    [ContractFact]
    public void Pruning_KeepsTheNewestAndTheYoung_AndNeverARunningRun()
    {
        var store = Open();
        var now = T0.AddNanos(100 * Timestamp.NanosPerDay);
        Timestamp DaysAgo(int d) => now.AddNanos(-d * Timestamp.NanosPerDay);
        store.CreateRun(NewRun("old-1", DaysAgo(90)));
        store.CreateRun(NewRun("old-2", DaysAgo(60)) with { Strategy = "floor" });
        store.CreateRun(NewRun("old-3", DaysAgo(45)));
        store.CreateRun(NewRun("mid", DaysAgo(20)));
        store.CreateRun(NewRun("new", DaysAgo(1)));
        using var otherProcess = OpenNew();
        using var going = otherProcess.TryLockRun("old-3");

        var dry = Keel.Runtime.RunCleanup.Prune(store, new Keel.Runtime.PruneCriteria { OlderThan = TimeSpan.FromDays(30) }, now, dryRun: true);
        Assert.Equal(["old-2", "old-1"], dry.Deleted.Select(r => r.Id));
        Assert.Equal(["old-3"], dry.Running.Select(r => r.Id));
        Assert.Null(dry.Space);
        Assert.Equal(5, store.CountRuns());

        var floor = Keel.Runtime.RunCleanup.Prune(store, new Keel.Runtime.PruneCriteria { OlderThan = TimeSpan.FromDays(30), Filter = new RunFilter(Strategy: "floor") }, now);
        Assert.Equal(["old-2"], floor.Deleted.Select(r => r.Id));
        Assert.Equal(["new", "mid", "old-3", "old-1"], store.ListRuns(10).Select(r => r.Id));

        // --keep 1 --older-than 10d: "new" is the newest, "mid" is old enough, "old-3" is running.
        var both = Keel.Runtime.RunCleanup.Prune(store, new Keel.Runtime.PruneCriteria { Keep = 1, OlderThan = TimeSpan.FromDays(10) }, now);
        Assert.Equal(["mid", "old-1"], both.Deleted.Select(r => r.Id));
        Assert.Equal(["old-3"], both.Running.Select(r => r.Id));
        Assert.Equal(["new", "old-3"], store.ListRuns(10).Select(r => r.Id));

        Assert.Throws<Keel.Runtime.UsageException>(() => Keel.Runtime.RunCleanup.Prune(store, new Keel.Runtime.PruneCriteria(), now));
    }

    protected static RunRecord NewRun(string id, Timestamp? created = null) =>
        new(id, "backtest", RunStatus.Created, "sma-cross", "fast=10,slow=30", "orcl-2014.txt", "{\"x\":1}", null, 0, created ?? T0, created ?? T0, null, null, null, 0, null);

    protected static SessionResult Record(KeelStore store, string runId, long snapshotEvery) =>
        Session(store, runId, snapshotEvery, null, new SessionOutputs());

    private static (Keel.Engine.Analytics.BacktestMetrics Metrics, Dictionary<string, byte[]> Files) RecordWithOutputs(
        KeelStore store, string runId, SnapshotRecord? from, Dictionary<string, byte[]>? prefixes)
    {
        var streams = new[] { "orders", "fills", "trades", "equity" }.ToDictionary(n => n, _ => new MemoryStream());
        if (prefixes is not null)
        {
            foreach (var (name, bytes) in prefixes)
            {
                streams[name].Write(bytes);
            }
        }

        var outputs = new SessionOutputs { Orders = streams["orders"], Fills = streams["fills"], Trades = streams["trades"], Equity = streams["equity"], Append = from is not null };
        var result = Session(store, runId, 60, from, outputs);
        return (result.Metrics, streams.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray()));
    }

    private static SessionResult Session(IRunJournal store, string runId, long snapshotEvery, SnapshotRecord? from, SessionOutputs outputs)
    {
        var instrument = Instrument.Equity("ORCL");
        var settings = new SessionSettings
        {
            InitialCash = Money.From(100_000),
            Exchange = new SimulatedExchangeOptions { Commission = new PercentCommission(0.001m) },
            BarBatchSize = 8,
        };
        IBarReader reader = CsvBarReader.Open(TestPaths.Data("orcl-2014.txt"), instrument.Id);
        if (from is not null)
        {
            reader = new SkippingBarReader(reader, TradingSession.SnapshotDataEvents(from.Payload));
        }

        using (reader)
        {
            var persistence = new SessionPersistence
            {
                Journal = store,
                RunId = runId,
                Time = TimeProvider.System,
                SnapshotEveryEvents = snapshotEvery,
                SnapshotEvery = TimeSpan.FromDays(1),
                ResumeFrom = from?.Payload,
            };
            return TradingSession.Run(settings, [instrument], Backtests.SmaCrossHost(5, 12, instrument), new HistoricalFeeder(reader), new SimulatedClock(), outputs, CancellationToken.None, persistence);
        }
    }

    private static Bar Bar(InstrumentId id, int minute, decimal price) =>
        new(id, T0.AddNanos(minute * 60 * Timestamp.NanosPerSecond), Price.From(price), Price.From(price + 0.0002m), Price.From(price - 0.0001m), Price.From(price + 0.0001m), Quantity.From(1000 + minute));

    private static List<Bar> Drain(IBarReader reader)
    {
        var list = new List<Bar>();
        while (reader.TryRead(out var bar))
        {
            list.Add(bar);
        }

        return list;
    }
}
