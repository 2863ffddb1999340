using Keel.Domain;
using Keel.Domain.Events;
using Keel.Domain.Orders;
using Keel.Engine.Kernel;
using Keel.Engine.Persistence;
using Keel.Storage;
using Keel.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Keel.Tests.Storage;

/// <summary>The input journal's store contract: run against a SQLite file and a PostgreSQL server.</summary>
public abstract class InputJournalContract : IDisposable
{
    private static readonly Timestamp T0 = Timestamp.FromParts(2024, 3, 1, 14, 30);
    private static readonly InstrumentId Eur = new("EUR_USD");
    private readonly List<KeelStore> _opened = [];

    protected abstract KeelStore OpenNew();

    protected abstract long Count(string sql);

    protected KeelStore Open()
    {
        var store = OpenNew();
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

    /// <summary>Input <paramref name="seq"/> of a made-up live run: every kind in turn, with values that differ per input.</summary>
    private static InputRecord Input(long seq, string salt = "")
    {
        var clock = T0.AddNanos(seq * 1_000_003);
        var id = new ClientOrderId($"O-{seq}{salt}");
        var item = (seq % 6) switch
        {
            0 => InboxItem.ForBar(new Bar(Eur, clock, Price.FromRaw(seq), Price.FromRaw(seq + 2), Price.FromRaw(-seq), Price.FromRaw(seq + 1), Quantity.FromRaw(seq * 1000))),
            1 => InboxItem.ForTick(Tick.Quote(Eur, clock, Price.FromRaw(1_084_230_000 + seq), Price.FromRaw(1_084_240_000 + seq), Quantity.FromRaw(seq))),
            2 => InboxItem.ForOrderEvent(new OrderFilled(id, new VenueOrderId("V" + salt), new TradeId($"T-{seq}"), Eur, OrderSide.Buy, Quantity.FromRaw(seq), Price.FromRaw(seq), Money.Parse("0.000000000000000001"), clock, clock)),
            3 => InboxItem.ForExternal(ExternalOrderRequest.Submit(OrderRequest.Limit(Eur, OrderSide.Sell, Quantity.FromRaw(seq), Price.FromRaw(seq), tag: "tag \"" + salt + "\" ü"))),
            4 => InboxItem.ForExternal(ExternalOrderRequest.Cancel(id)),
            _ => InboxItem.ForCommand(KernelCommand.Pause),
        };
        return InputCodec.Encode(seq, clock, item);
    }

    private static JournalBatch Batch(string run, long from, long to, string salt = "")
    {
        var batch = new JournalBatch(run);
        for (long s = from; s <= to; s++)
        {
            batch.Inputs.Add(Input(s, salt));
        }

        return batch;
    }

    private static List<InputRecord> ReadAll(KeelStore store, string run, int page)
    {
        var all = new List<InputRecord>();
        long after = 0;
        while (true)
        {
            var next = store.ReadInputs(run, after, page);
            Assert.True(next.Count <= page);
            if (next.Count == 0)
            {
                return all;
            }

            all.AddRange(next);
            after = next[^1].Sequence;
        }
    }

    [ContractFact]
    public void Inputs_WrittenInBatches_AreReadBackPaged_InSequence_Exactly()
    {
        var store = Open();

        // Batch sizes around the bulk insert's block of rows: 1, 32, 33, 70.
        var written = new List<InputRecord>();
        foreach (var (from, to) in new[] { (1L, 1L), (2L, 33L), (34L, 66L), (67L, 136L) })
        {
            var batch = Batch("run-a", from, to);
            store.Write(batch);
            written.AddRange(batch.Inputs);
        }

        Assert.Equal(written, ReadAll(store, "run-a", 7));
        Assert.Equal(written, store.ReadInputs("run-a", 0, 1000));
        Assert.Equal(written.Skip(50).Take(10), store.ReadInputs("run-a", 50, 10));
        Assert.Empty(store.ReadInputs("run-a", 136, 10));

        // What is read back decodes to the items that were written.
        foreach (var r in store.ReadInputs("run-a", 0, 6))
        {
            Assert.Equal(r.Payload, InputCodec.Encode(r.Sequence, r.Clock, InputCodec.Decode(r)).Payload);
        }

        // Kinds are stored as their numbers.
        Assert.Equal(1, Count("SELECT kind FROM inputs WHERE run_id = 'run-a' AND seq = 6"));
        Assert.Equal(6, Count("SELECT kind FROM inputs WHERE run_id = 'run-a' AND seq = 5"));
        Assert.Equal(136, store.Counts("run-a").Inputs);
    }

    [ContractFact]
    public void An_InputAlreadyStored_IsKeptAsItIs_WhenWrittenAgain()
    {
        var store = Open();
        store.Write(Batch("run-r", 1, 40, salt: "first"));
        var original = store.ReadInputs("run-r", 0, 100);

        // A resumed run writes the inputs it replays again (here with different payloads), then goes on.
        store.Write(Batch("run-r", 5, 45, salt: "again"));
        var after = store.ReadInputs("run-r", 0, 100);
        Assert.Equal(45, after.Count);
        Assert.Equal(original, after.Take(40));
        Assert.Equal(Batch("run-r", 41, 45, salt: "again").Inputs, after.Skip(40));
        Assert.Equal(45, store.Counts("run-r").Inputs);
    }

    [ContractFact]
    public void Inputs_OfTwoRuns_AreKeptApart_AndCounted()
    {
        var store = Open();
        store.Write(Batch("run-a", 1, 10, salt: "a"));
        store.Write(Batch("run-b", 1, 4, salt: "b"));
        store.Write(Batch("run-a", 11, 12, salt: "a"));

        Assert.Equal(Batch("run-a", 1, 12, salt: "a").Inputs, store.ReadInputs("run-a", 0, 100));
        Assert.Equal(Batch("run-b", 1, 4, salt: "b").Inputs, store.ReadInputs("run-b", 0, 100));
        Assert.Empty(store.ReadInputs("run-c", 0, 100));

        var a = store.Counts("run-a");
        Assert.Equal(12, a.Inputs);
        Assert.Equal(0, a.Events);
        Assert.Equal(4, store.Counts("run-b").Inputs);
        Assert.Equal(0, store.Counts("run-c").Inputs);
    }

    [ContractFact]
    public void Inputs_AreWrittenInTheBatchsTransaction_AndAFailedBatchLeavesNone()
    {
        var store = Open();
        store.Write(Batch("run-t", 1, 3));
        var bad = Batch("run-t", 4, 40);
        bad.Snapshot = new SnapshotRecord(1, 0, "{}", null!, T0); // checksum NOT NULL: refused after the inputs were inserted
        Assert.ThrowsAny<Exception>(() => store.Write(bad));
        Assert.Equal(3, store.Counts("run-t").Inputs);

        // The store goes on after the failure, and a batch with inputs and events commits both.
        var good = Batch("run-t", 4, 5);
        good.Events.Add(new JournalEvent(1, "order.submitted", T0, new OrderSubmitted(new ClientOrderId("O-1"), T0, T0)));
        store.Write(good);
        Assert.Equal(5, store.Counts("run-t").Inputs);
        Assert.Equal(1, store.Counts("run-t").Events);
    }

    [ContractFact]
    public void Inputs_SurviveReopening()
    {
        var store = Open();
        store.Write(Batch("run-o", 1, 8));
        using var again = OpenNew();
        Assert.Equal(Batch("run-o", 1, 8).Inputs, again.ReadInputs("run-o", 0, 100));
    }
}

public sealed class SqliteInputJournalTests : InputJournalContract
{
    private readonly TempDir _dir = new();

    protected override KeelStore OpenNew() => KeelStore.Open(_dir.File("keel.db"));

    protected override long Count(string sql)
    {
        using var c = new SqliteConnection($"Data Source={_dir.File("keel.db")};Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return Convert.ToInt64(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public override void Dispose()
    {
        base.Dispose();
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }
}

[UsesPostgres]
public sealed class PostgresInputJournalTests : InputJournalContract
{
    private readonly Lazy<Postgres.Schema> _schema = new(Postgres.NewSchema);

    protected override KeelStore OpenNew() => KeelStore.Open(_schema.Value.ConnectionString);

    protected override long Count(string sql) => Convert.ToInt64(_schema.Value.Scalar(sql), System.Globalization.CultureInfo.InvariantCulture);

    public override void Dispose()
    {
        base.Dispose();
        if (_schema.IsValueCreated)
        {
            _schema.Value.Dispose();
        }
    }
}
