using System.Diagnostics;
using System.Globalization;
using Keel.Domain;
using Keel.Engine.Kernel;
using Keel.Engine.Persistence;
using Keel.Runtime.Sessions;
using Keel.Storage;

namespace Keel.Benchmarks;

/// <summary>
/// Event journal append throughput, end to end: events handed to a <see cref="JournalRecorder"/> on the caller's
/// thread, formatted and written by its writer thread in batches of 8192 (one transaction per batch), until the last
/// commit. Not BenchmarkDotNet: one run is a million events against a real database, timed with a stopwatch.
///   dotnet run -c Release --project bench/Keel.Benchmarks -- journal --db PATH|CONNECTION [--events N] [--runs N]
/// </summary>
public static class JournalThroughput
{
    public static int Run(string[] args)
    {
        string? db = null;
        int events = 1_000_000, runs = 5;
        for (int i = 0; i < args.Length - 1; i++)
        {
            switch (args[i])
            {
                case "--db":
                    db = args[++i];
                    break;
                case "--events":
                    events = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--runs":
                    runs = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
            }
        }

        if (db is null)
        {
            Console.Error.WriteLine("usage: journal --db PATH|CONNECTION [--events N] [--runs N]");
            return 2;
        }

        using var store = KeelStore.Open(db);
        var rates = new List<double>();
        var t0 = Timestamp.FromParts(2024, 1, 2);
        for (int r = 0; r < runs; r++)
        {
            var runId = $"bench-{Environment.ProcessId}-{r}";
            store.CreateRun(new RunRecord(runId, "backtest", RunStatus.Running, "bench", string.Empty, string.Empty, "{}", null, 0, t0, t0, null, null, null, 0, null));
            var clock = Stopwatch.StartNew();
            using (var journal = new JournalRecorder(store, runId))
            {
                for (int i = 1; i <= events; i++)
                {
                    journal.Handle(new KernelNotice(NoticeLevel.Info, "order.submitted", "O-" + i.ToString(CultureInfo.InvariantCulture), t0.AddNanos(i)), i);
                }

                journal.Flush();
            }

            double seconds = clock.Elapsed.TotalSeconds;
            rates.Add(events / seconds);
            Console.WriteLine($"run {r + 1}: {events:N0} events in {seconds:0.000} s = {events / seconds:N0} events/s");
        }

        rates.Sort();
        Console.WriteLine($"journal backend={store.Backend} events={events} runs={runs} median={rates[rates.Count / 2]:N0} events/s");
        return 0;
    }
}
