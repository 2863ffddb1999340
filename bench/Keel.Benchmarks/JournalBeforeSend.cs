using System.Diagnostics;
using System.Globalization;
using Keel.Domain;
using Keel.Domain.Events;
using Keel.Domain.Orders;
using Keel.Engine.Kernel;
using Keel.Engine.Persistence;
using Keel.Runtime.Sessions;
using Keel.Storage;

namespace Keel.Benchmarks;

/// <summary>
/// What journal-before-send costs one order in a live run: the order's <c>submitted</c> event, its order row and a
/// small snapshot go to the journal's writer as one batch (as a live session hands them after the item that created the
/// order), and the order may leave when that batch is committed. Measured per order, from the hand-over to the commit
/// being seen, one order at a time. Usage:
///   dotnet run -c Release --project bench/Keel.Benchmarks -- before-send --db PATH|CONNECTION [--orders 2000] [--warmup 200] [--sync full|normal]
/// </summary>
public static class JournalBeforeSend
{
    public static async Task<int> Run(string[] args)
    {
        string? db = Arg(args, "--db");
        int orders = int.Parse(Arg(args, "--orders") ?? "2000", CultureInfo.InvariantCulture);
        int warmup = int.Parse(Arg(args, "--warmup") ?? "200", CultureInfo.InvariantCulture);
        if (db is null)
        {
            Console.Error.WriteLine("usage: before-send --db PATH|CONNECTION [--orders N] [--warmup N]");
            return 2;
        }

        // As a live run opens it: SQLite commits reach the disk (synchronous=FULL) unless --sync normal is given.
        bool full = (Arg(args, "--sync") ?? "full") != "normal";
        using var store = KeelStore.Open(db, new StoreOptions { SyncEveryCommit = full });
        var t0 = Timestamp.FromParts(2024, 1, 2);
        var runId = $"bench-before-send-{Environment.ProcessId}";
        store.CreateRun(new RunRecord(runId, "live", RunStatus.Running, "bench", string.Empty, string.Empty, "{}", null, 0, t0, t0, null, null, null, 0, null));

        // A live run's snapshot is small: a few working orders and the strategy's state (about 4 KB here).
        var payload = "{\"format\":2,\"pad\":\"" + new string('x', 4000) + "\"}";
        var instrument = new InstrumentId("AAPL");
        var waits = new List<double>(orders);
        using (var journal = new JournalRecorder(store, runId))
        {
            for (int i = 1; i <= warmup + orders; i++)
            {
                var id = ClientOrderId.Create($"K{runId}-", i);
                var order = new Order(id, OrderRequest.Limit(instrument, OrderSide.Buy, Quantity.From(1), Price.From(100m)), t0.AddNanos(i), number: i);
                var submitted = new OrderSubmitted(id, t0.AddNanos(i), t0.AddNanos(i));
                order.Apply(submitted);
                journal.Handle(new OrderUpdate(order, submitted), 2L * i);
                long sequence = 2L * i;
                journal.Current.SetSnapshot(() => SnapshotRecord.Create(sequence, i, payload, t0.AddNanos(i)));

                long start = Stopwatch.GetTimestamp();
                long ticket = journal.Hand();
                await journal.WhenWritten(ticket);
                double micros = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
                if (i > warmup)
                {
                    waits.Add(micros);
                }
            }
        }

        waits.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"before-send backend={store.Backend} sync={(full ? "full" : "normal")} orders={orders} p50={Pct(waits, 0.50):0} µs p90={Pct(waits, 0.90):0} µs p99={Pct(waits, 0.99):0} µs max={waits[^1]:0} µs"));
        return 0;
    }

    private static double Pct(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)(p * sorted.Count))];

    private static string? Arg(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
