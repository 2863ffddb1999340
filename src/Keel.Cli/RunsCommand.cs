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
        var command = new Command("runs", "List, inspect and delete recorded runs (every backtest and paper run is recorded in the store).");
        command.Subcommands.Add(List(logging));
        command.Subcommands.Add(Show(logging));
        command.Subcommands.Add(Events(logging));
        command.Subcommands.Add(Delete(logging));
        command.Subcommands.Add(Prune(logging));
        return command;
    }

    private static Command List(CliLogging logging)
    {
        var db = CliConfig.DbOption();
        var config = CliConfig.ConfigOption();
        var limit = new Option<int>("--limit") { Description = "how many runs, newest first", DefaultValueFactory = _ => 20, HelpName = "N" };
        var all = new Option<bool>("--all") { Description = "every run (no --limit)" };
        var status = StatusOption("only runs with this status");
        var strategy = new Option<string>("--strategy") { Description = "only runs of this strategy", HelpName = "NAME" };
        var json = new Option<bool>("--json") { Description = "one JSON object per line instead of a table" };
        var command = new Command("list", "List recorded runs, newest first, and say how many there are.") { db, config, limit, all, status, strategy, json };
        command.SetAction((parse, ct) => Task.FromResult(logging.Guard(
            () =>
            {
                var filter = Filter(parse, status, strategy);
                int n = parse.GetValue(limit);
                if (n <= 0)
                {
                    throw new UsageException($"--limit was {n}; it must be positive");
                }

                using var store = CliConfig.OpenStore(parse, db, config);
                var runs = store.ListRuns(parse.GetValue(all) ? int.MaxValue : n, filter);
                if (parse.GetValue(json))
                {
                    foreach (var r in runs)
                    {
                        Console.WriteLine(ToJson(r, Liveness(store, r)));
                    }

                    return 0;
                }

                string which = Which(filter);
                if (runs.Count == 0)
                {
                    Console.WriteLine(which.Length == 0 ? $"no runs recorded in {store.Describe}" : $"no {which}runs in {store.Describe}");
                    return 0;
                }

                // The count is only worth a query when the page may not hold every run.
                long total = runs.Count < n || parse.GetValue(all) ? runs.Count : store.CountRuns(filter);
                var rows = runs.Select(r => (IReadOnlyList<string>)
                [
                    r.Id, r.Kind, StatusText(r, Liveness(store, r)), $"{r.Progress.ToString("0.#", CultureInfo.InvariantCulture)}%",
                    $"{r.Strategy}{(r.Parameters.Length > 0 ? $" ({r.Parameters})" : string.Empty)}", DataNames(r.Data),
                    MetricText(r.Metrics, "total_return", pct: true), r.CreatedAt.ToString()[..19].Replace('T', ' '),
                ]).ToList();
                Console.WriteLine(total == runs.Count
                    ? $"{Runs(total, which)} in {store.Describe}"
                    : $"{Runs(total, which)} in {store.Describe}; showing the newest {runs.Count.ToString("N0", CultureInfo.InvariantCulture)} (--limit N for more, --all for every one)");
                Console.Write(Table.Grid(["run", "kind", "status", ">progress", "strategy", "data", ">return", "created (UTC)"], rows));
                return 0;
            },
            ct)));
        return command;
    }

    private static Command Delete(CliLogging logging)
    {
        var db = CliConfig.DbOption();
        var config = CliConfig.ConfigOption();
        var ids = new Argument<string[]>("ID") { Description = "run ids, or unique prefixes of them", Arity = ArgumentArity.OneOrMore };
        var command = new Command("delete", "Delete runs with all their records (events, orders, fills, snapshots …) and staging folders, then reclaim the space. A run a Keel process is running is refused; the result files in its output folder are kept.") { ids, db, config };
        command.SetAction((parse, ct) => Task.FromResult(logging.Guard(
            () =>
            {
                using var store = CliConfig.OpenStore(parse, db, config);
                var result = RunCleanup.Delete(store, parse.GetValue(ids)!);
                foreach (var run in result.Deleted)
                {
                    Console.WriteLine($"deleted run {run.Id} ({Lower(run.Status)}, {run.Strategy}, created {Created(run)})");
                }

                Report(result, store, logging, dryRun: false);
                return 0;
            },
            ct)));
        return command;
    }

    private static Command Prune(CliLogging logging)
    {
        var db = CliConfig.DbOption();
        var config = CliConfig.ConfigOption();
        var olderThan = new Option<string>("--older-than") { Description = "delete runs created longer ago than AGE: a number and m, h, d or w (30d, 12h, 2w)", HelpName = "AGE" };
        var keep = new Option<int?>("--keep") { Description = "keep the newest N runs (of those --status and --strategy select) and delete the rest", HelpName = "N" };
        var status = StatusOption("only runs with this status");
        var strategy = new Option<string>("--strategy") { Description = "only runs of this strategy", HelpName = "NAME" };
        var dryRun = new Option<bool>("--dry-run") { Description = "list the runs that would be deleted and delete nothing" };
        var command = new Command("prune", "Delete old runs: those older than --older-than, beyond the newest --keep, or both; never a run a Keel process is running. Reclaims the space.")
        {
            olderThan, keep, status, strategy, dryRun, db, config,
        };
        command.SetAction((parse, ct) => Task.FromResult(logging.Guard(
            () =>
            {
                var criteria = new PruneCriteria
                {
                    OlderThan = parse.GetValue(olderThan) is string age ? Age(age) : null,
                    Keep = parse.GetValue(keep) is int k ? (k >= 0 ? k : throw new UsageException($"--keep was {k}; it must be zero or more")) : null,
                    Filter = Filter(parse, status, strategy),
                };
                bool dry = parse.GetValue(dryRun);
                using var store = CliConfig.OpenStore(parse, db, config);
                var result = RunCleanup.Prune(store, criteria, Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow), dry);
                foreach (var run in result.Deleted)
                {
                    Console.WriteLine($"{(dry ? "would delete" : "deleted")} run {run.Id} ({Lower(run.Status)}, {run.Strategy}, created {Created(run)})");
                }

                Report(result, store, logging, dry);
                return 0;
            },
            ct)));
        return command;
    }

    private static void Report(RunsDeleted result, KeelStore store, CliLogging logging, bool dryRun)
    {
        foreach (var run in result.Running)
        {
            logging.Warning($"kept run {run.Id}: a Keel process is running it right now");
        }

        foreach (var problem in result.Problems)
        {
            logging.Warning(problem);
        }

        string count = Runs(result.Deleted.Count, string.Empty);
        if (dryRun)
        {
            Console.WriteLine(result.Deleted.Count == 0 ? $"no runs to delete in {store.Describe}" : $"{count} would be deleted from {store.Describe} (nothing was deleted: --dry-run)");
        }
        else if (result.Deleted.Count == 0)
        {
            Console.WriteLine($"no runs to delete in {store.Describe}");
        }
        else
        {
            var space = result.Space;
            Console.WriteLine($"deleted {count} from {store.Describe}{(space is null ? string.Empty : $"; reclaimed {DataCommand.Size(space.Reclaimed)} ({DataCommand.Size(space.Before)} → {DataCommand.Size(space.After)})")}");
        }
    }

    private static Option<string> StatusOption(string description) => new("--status")
    {
        Description = $"{description}: created, running, paused, stopped, completed, failed or halted",
        HelpName = "STATUS",
    };

    private static RunFilter Filter(ParseResult parse, Option<string> status, Option<string> strategy)
    {
        RunStatus? s = null;
        if (parse.GetValue(status) is string text)
        {
            s = Enum.TryParse<RunStatus>(text.Trim(), ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) && !char.IsAsciiDigit(text.Trim()[0])
                ? parsed
                : throw new UsageException($"--status '{text}' is not a run status; use one of {string.Join(", ", Enum.GetValues<RunStatus>().Select(Lower))}");
        }

        var name = parse.GetValue(strategy) is string st ? st.Trim().ToLowerInvariant() : null;
        return s is null && name is null ? RunFilter.Any : new RunFilter(s, name);
    }

    /// <summary>How long ago: a whole number and a unit (m, h, d or w).</summary>
    internal static TimeSpan Age(string text)
    {
        var t = text.Trim();
        int split = 0;
        while (split < t.Length && char.IsAsciiDigit(t[split]))
        {
            split++;
        }

        if (split > 0 && split < t.Length && int.TryParse(t[..split], NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0)
        {
            switch (t[split..].ToLowerInvariant())
            {
                case "m" or "min":
                    return TimeSpan.FromMinutes(n);
                case "h":
                    return TimeSpan.FromHours(n);
                case "d":
                    return TimeSpan.FromDays(n);
                case "w":
                    return TimeSpan.FromDays(7.0 * n);
            }
        }

        throw new UsageException($"--older-than '{text}' is not an age; give a positive number and m, h, d or w, e.g. 30d or 12h");
    }

    private static string Which(RunFilter filter) =>
        (filter.Status is RunStatus s ? Lower(s) + " " : string.Empty) + (filter.Strategy is string st ? st + " " : string.Empty);

    private static string Runs(long count, string which) =>
        $"{count.ToString("N0", CultureInfo.InvariantCulture)} {which}run{(count == 1 ? string.Empty : "s")}";

    private static string Created(RunRecord run) => run.CreatedAt.ToString()[..19].Replace('T', ' ');

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
