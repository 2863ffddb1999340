using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Keel.Domain;
using Keel.Engine.Persistence;
using Keel.Storage;

namespace Keel.Cli;

/// <summary><c>keel runs list|show|events</c>: what the store has recorded.</summary>
internal static class RunsCommand
{
    private static readonly string[] SummaryKeys = ["final_equity", "total_return", "orders", "trades", "win_rate", "profit_factor", "max_drawdown", "sharpe", "sortino"];

    public static Command Create(CliLogging logging)
    {
        var command = new Command("runs", "List and inspect recorded runs (every backtest and paper run is recorded in the store).");
        command.Subcommands.Add(List(logging));
        command.Subcommands.Add(Show(logging));
        command.Subcommands.Add(Events(logging));
        return command;
    }

    private static Command List(CliLogging logging)
    {
        var db = CliConfig.DbOption();
        var config = CliConfig.ConfigOption();
        var limit = new Option<int>("--limit") { Description = "how many runs, newest first", DefaultValueFactory = _ => 20, HelpName = "N" };
        var json = new Option<bool>("--json") { Description = "one JSON object per line instead of a table" };
        var command = new Command("list", "List recorded runs, newest first.") { db, config, limit, json };
        command.SetAction((parse, ct) => Task.FromResult(logging.Guard(
            () =>
            {
                using var store = CliConfig.OpenStore(parse, db, config);
                int n = parse.GetValue(limit);
                if (n <= 0)
                {
                    throw new UsageException($"--limit was {n}; it must be positive");
                }

                var runs = store.ListRuns(n);
                if (parse.GetValue(json))
                {
                    foreach (var r in runs)
                    {
                        Console.WriteLine(ToJson(r, Liveness(store, r)));
                    }

                    return 0;
                }

                if (runs.Count == 0)
                {
                    Console.WriteLine($"no runs recorded in {store.Describe}");
                    return 0;
                }

                var rows = runs.Select(r => (IReadOnlyList<string>)
                [
                    r.Id, r.Kind, StatusText(r, Liveness(store, r)), $"{r.Progress.ToString("0.#", CultureInfo.InvariantCulture)}%",
                    $"{r.Strategy}{(r.Parameters.Length > 0 ? $" ({r.Parameters})" : string.Empty)}", DataNames(r.Data),
                    MetricText(r.Metrics, "total_return", pct: true), r.CreatedAt.ToString()[..19].Replace('T', ' '),
                ]).ToList();
                Console.WriteLine($"runs in {store.Describe}");
                Console.Write(Table.Grid(["run", "kind", "status", ">progress", "strategy", "data", ">return", "created (UTC)"], rows));
                return 0;
            },
            ct)));
        return command;
    }

    private static Command Show(CliLogging logging)
    {
        var db = CliConfig.DbOption();
        var config = CliConfig.ConfigOption();
        var id = new Argument<string>("ID") { Description = "run id, or a unique prefix of it" };
        var json = new Option<bool>("--json") { Description = "the run record as JSON" };
        var command = new Command("show", "Show one run: settings, status, progress, record counts, latest checkpoint and final metrics.") { id, db, config, json };
        command.SetAction((parse, ct) => Task.FromResult(logging.Guard(
            () =>
            {
                using var store = CliConfig.OpenStore(parse, db, config);
                var run = Find(store, parse.GetValue(id)!);
                var live = Liveness(store, run);
                if (parse.GetValue(json))
                {
                    Console.WriteLine(ToJson(run, live));
                    return 0;
                }

                var counts = store.Counts(run.Id);
                var checkpoint = store.LatestCheckpoint(run.Id);
                var latest = store.Snapshots(run.Id, 1);
                var snapshot = latest.Count > 0 ? latest[0] : null;
                var rows = new List<(string, string)>
                {
                    ("Run", run.Id),
                    ("Kind", run.Kind),
                    ("Status", StatusText(run, live)),
                    ("Progress", $"{run.Progress.ToString("0.##", CultureInfo.InvariantCulture)}%"),
                    ("Strategy", run.Strategy),
                    ("Parameters", run.Parameters.Length == 0 ? "(defaults)" : run.Parameters),
                    ("Data", run.Data),
                    ("Output", run.OutDir ?? "(none)"),
                    (string.Empty, string.Empty),
                    ("Created (UTC)", run.CreatedAt.ToString()),
                    ("Started (UTC)", run.StartedAt?.ToString() ?? "-"),
                    ("Finished (UTC)", run.FinishedAt?.ToString() ?? "-"),
                    ("Last event", run.LastSequence.ToString(CultureInfo.InvariantCulture)),
                    (string.Empty, string.Empty),
                    ("Events", counts.Events.ToString("N0", CultureInfo.InvariantCulture)),
                    ("Orders", counts.Orders.ToString("N0", CultureInfo.InvariantCulture)),
                    ("Fills", counts.Fills.ToString("N0", CultureInfo.InvariantCulture)),
                    ("Trades (journal)", counts.Trades.ToString("N0", CultureInfo.InvariantCulture)),
                    ("Snapshots", snapshot is null ? "0" : $"{counts.Snapshots:N0} (latest at event {snapshot.Sequence}, {snapshot.DataEvents:N0} bars)"),
                    ("Checkpoints", counts.Checkpoints.ToString("N0", CultureInfo.InvariantCulture)),
                };
                if (counts.Inputs > 0)
                {
                    // Only live runs journal their inputs; a backtest's table stays as it was.
                    rows.Add(("Inputs", counts.Inputs.ToString("N0", CultureInfo.InvariantCulture)));
                }
                if (checkpoint is not null)
                {
                    rows.Add((string.Empty, string.Empty));
                    rows.Add(("Checkpoint at bar", checkpoint.Processed.ToString("N0", CultureInfo.InvariantCulture)));
                    rows.Add(("  return", Table.Pct(checkpoint.TotalReturn)));
                    rows.Add(("  P&L", Table.Money(checkpoint.Pnl)));
                    rows.Add(("  win rate", Table.Pct(checkpoint.WinRate)));
                    rows.Add(("  max drawdown", Table.Pct(checkpoint.MaxDrawdown)));
                    rows.Add(("  Sharpe", Table.Num(checkpoint.Sharpe)));
                    rows.Add(("  profit factor", Table.Num(checkpoint.ProfitFactor)));
                }

                if (run.Metrics is not null)
                {
                    rows.Add((string.Empty, string.Empty));
                    foreach (var key in SummaryKeys)
                    {
                        rows.Add((key, MetricText(run.Metrics, key, pct: key is "total_return" or "win_rate" or "max_drawdown")));
                    }
                }

                if (run.Error is not null)
                {
                    rows.Add((string.Empty, string.Empty));
                    rows.Add(("Error", run.Error));
                }

                Console.Write(Table.Render($"run {run.Id} in {store.Describe}", rows));
                if (run.Status != RunStatus.Completed && live != true)
                {
                    Console.WriteLine($"continue it with: keel resume {run.Id}");
                }

                return 0;
            },
            ct)));
        return command;
    }

    private static Command Events(CliLogging logging)
    {
        var db = CliConfig.DbOption();
        var config = CliConfig.ConfigOption();
        var id = new Argument<string>("ID") { Description = "run id, or a unique prefix of it" };
        var since = new Option<long>("--since") { Description = "only events with a sequence number greater than SEQ", DefaultValueFactory = _ => 0, HelpName = "SEQ" };
        var limit = new Option<int>("--limit") { Description = "at most N events", DefaultValueFactory = _ => 1000, HelpName = "N" };
        var json = new Option<bool>("--json") { Description = "one JSON object per line: {\"seq\",\"time\",\"type\",\"payload\"}" };
        var command = new Command("events", "Print a run's journaled events (orders, fills, notices, kernel state) in sequence order.") { id, db, config, since, limit, json };
        command.SetAction((parse, ct) => Task.FromResult(logging.Guard(
            () =>
            {
                using var store = CliConfig.OpenStore(parse, db, config);
                var run = Find(store, parse.GetValue(id)!);
                long from = parse.GetValue(since);
                int n = parse.GetValue(limit);
                if (from < 0 || n <= 0)
                {
                    throw new UsageException("--since must be zero or more and --limit positive");
                }

                var events = store.ReadEvents(run.Id, from, n);
                bool asJson = parse.GetValue(json);
                using var stdout = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = false };
                foreach (var e in events)
                {
                    if (asJson)
                    {
                        stdout.Write("{\"seq\":");
                        stdout.Write(e.Sequence.ToString(CultureInfo.InvariantCulture));
                        stdout.Write(",\"time\":\"");
                        stdout.Write(e.Time.ToString());
                        stdout.Write("\",\"type\":\"");
                        stdout.Write(JsonEncodedText.Encode(e.Type).ToString());
                        stdout.Write("\",\"payload\":");
                        stdout.Write(e.Payload);
                        stdout.WriteLine("}");
                    }
                    else
                    {
                        stdout.WriteLine($"{e.Sequence,10}  {e.Time}  {e.Type,-22}  {e.Payload}");
                    }
                }

                stdout.Flush();
                if (!asJson && events.Count == n)
                {
                    logging.Note($"note: showing {n} events; continue with --since {events[^1].Sequence}");
                }

                return 0;
            },
            ct)));
        return command;
    }

    internal static RunRecord Find(KeelStore store, string id)
    {
        return store.FindRun(id) ?? throw new UsageException($"no run {id} in {store.Describe} (see 'keel runs list')");
    }

    /// <summary>For an unfinished run: true if a process is running it now, false if none is (it crashed or was killed).</summary>
    internal static bool? Liveness(KeelStore store, RunRecord run)
    {
        if (run.Status is not (RunStatus.Running or RunStatus.Created))
        {
            return null;
        }

        using var probe = store.TryLockRun(run.Id);
        return probe is null;
    }

    private static string StatusText(RunRecord run, bool? live) =>
        live == false ? $"{Lower(run.Status)} (interrupted)" : Lower(run.Status);

    private static string Lower(RunStatus status) => status.ToString().ToLowerInvariant();

    private static string DataNames(string data) =>
        string.Join(",", data.Split(',').Select(d => RunSpec.IsStoreSource(d) ? d : Path.GetFileName(d)));

    private static string MetricText(string? metrics, string key, bool pct)
    {
        if (metrics is null)
        {
            return "-";
        }

        using var doc = JsonDocument.Parse(metrics);
        if (!doc.RootElement.TryGetProperty(key, out var v))
        {
            return "-";
        }

        return v.ValueKind switch
        {
            JsonValueKind.Number when pct => Table.Pct(v.GetDouble()),
            JsonValueKind.Number => v.GetRawText(),
            JsonValueKind.String => v.GetString() ?? "-",
            _ => "n/a",
        };
    }

    private static string ToJson(RunRecord r, bool? live)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("id", r.Id);
            w.WriteString("kind", r.Kind);
            w.WriteString("status", Lower(r.Status));
            if (live is bool l)
            {
                w.WriteBoolean("active", l);
            }

            w.WriteNumber("progress", r.Progress);
            w.WriteString("strategy", r.Strategy);
            w.WriteString("parameters", r.Parameters);
            w.WriteString("data", r.Data);
            if (r.OutDir is null)
            {
                w.WriteNull("out");
            }
            else
            {
                w.WriteString("out", r.OutDir);
            }

            w.WriteString("created_at", r.CreatedAt.ToString());
            Time(w, "started_at", r.StartedAt);
            Time(w, "finished_at", r.FinishedAt);
            w.WriteNumber("last_sequence", r.LastSequence);
            if (r.Error is null)
            {
                w.WriteNull("error");
            }
            else
            {
                w.WriteString("error", r.Error);
            }

            w.WritePropertyName("metrics");
            if (r.Metrics is null)
            {
                w.WriteNullValue();
            }
            else
            {
                using var doc = JsonDocument.Parse(r.Metrics);
                doc.RootElement.WriteTo(w);
            }

            w.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void Time(Utf8JsonWriter w, string name, Timestamp? t)
    {
        if (t is Timestamp v)
        {
            w.WriteString(name, v.ToString());
        }
        else
        {
            w.WriteNull(name);
        }
    }
}
