using System.CommandLine;
using System.Globalization;
using Keel.Engine.Strategies;
using Keel.Runtime.Optimization;

namespace Keel.Cli;

/// <summary><c>keel optimize</c>: a parameter sweep, every combination a backtest, on every core.</summary>
internal static class OptimizeCommand
{
    public static Command Create(IReadOnlyList<StrategyDescriptor> catalog, CliLogging logging)
    {
        var options = new RunOptions(paper: false, catalog);
        options.Params.Description = "parameter to sweep, repeatable: a range START:END:STEP (inclusive; START:END steps by 1), a list A,B,C, or one value: --param fast=5:50:5 --param slow=20:200:10";
        options.Params.HelpName = "NAME=RANGE";
        options.Out.Description = "folder for results.csv (every combination, best first), holdout.csv (with --train-until), report.html (heat map), walkforward.csv (with --walk-forward) and metrics.json (the best combination)";
        var random = new Option<string>("--random") { Description = "run N combinations drawn at random from the grid (seeded, so the same every time) instead of all of it", HelpName = "N" };
        var seed = new Option<string>("--seed") { Description = "seed of the --random draw [default: 42]", HelpName = "N" };
        var rank = new Option<string>("--rank") { Description = $"metric to rank by: {string.Join(", ", RankMetric.Names)} [default: sharpe]", HelpName = "METRIC" };
        var top = new Option<string>("--top") { Description = "how many of the best combinations to show (and to run on the held-out period) [default: 10]", HelpName = "N" };
        var trainUntil = new Option<string>("--train-until") { Description = "sweep the bars up to this time (a date includes its whole day), then run the top combinations afresh on the bars after it", HelpName = "TIME" };
        var walkForward = new Option<string>("--walk-forward") { Description = "walk-forward test with N folds (2 to 1000): the bars are split into N+1 consecutive segments of equal bar counts; fold k sweeps segment k, takes the best combination by --rank and runs it afresh on segment k+1. Prints the folds and writes them to walkforward.csv; results.csv is still the sweep of all the bars", HelpName = "N" };
        var anchored = new Option<bool>("--anchored") { Description = "with --walk-forward: fold k trains on segments 1 to k (the window grows from the first bar) instead of segment k alone" };
        var jobs = new Option<string>("--jobs", "-j") { Description = $"combinations run at once, one per core [default: {Environment.ProcessorCount}, this machine's cores]", HelpName = "N" };
        var max = new Option<string>("--max-combinations") { Description = "allow a sweep of more than 100,000 combinations (up to N)", HelpName = "N" };
        var cluster = new Option<bool>("--cluster") { Description = "share the combinations with every node running 'keel worker' on the same PostgreSQL store (--db); this process works on them too (--jobs; --jobs 0 leaves them to the workers). The results are those of a single-process sweep" };
        var command = new Command(
            "optimize",
            "Sweep a strategy's parameters: every combination (or a seeded random sample) is a backtest on the same bars, parsed once, one per core. Prints the best combinations by --rank and writes every one to results.csv, with a heat map in report.html; the sweep is recorded as one run. The same sweep gives the same files whatever the core count.\n" +
            "Example: keel optimize --data prices.csv --strategy sma-cross --param fast=5:50:5 --param slow=20:200:10 --rank sharpe --out sweep");
        foreach (var o in options.All.Where(o => o.Name is not ("--snapshot-every" or "--snapshot-seconds")))
        {
            command.Options.Add(o);
        }

        command.Options.Add(random);
        command.Options.Add(seed);
        command.Options.Add(rank);
        command.Options.Add(top);
        command.Options.Add(trainUntil);
        command.Options.Add(walkForward);
        command.Options.Add(anchored);
        command.Options.Add(jobs);
        command.Options.Add(max);
        command.Options.Add(cluster);
        command.SetAction((parse, ct) => Task.Run(
            () => logging.Guard(
                () =>
                {
                    var spec = options.Resolve(parse);
                    if (spec.Parameters.Count == 0)
                    {
                        throw new UsageException("give at least one --param to sweep, e.g. --param fast=5:50:5");
                    }

                    var request = new SweepRequest
                    {
                        Spec = spec,
                        Samples = parse.GetValue(random) is string r ? (long)RunOptions.Dec(r, "--random", 1m, 100_000_000m, whole: true) : null,
                        Seed = parse.GetValue(seed) is string s ? (ulong)RunOptions.Dec(s, "--seed", 0m, ulong.MaxValue, whole: true) : 42,
                        Rank = parse.GetValue(rank) ?? "sharpe",
                        Top = parse.GetValue(top) is string t ? (int)RunOptions.Dec(t, "--top", 1m, 1_000_000m, whole: true) : 10,
                        TrainUntil = parse.GetValue(trainUntil) is string tu ? RunOptions.Time(tu, "--train-until", endOfDay: true) : null,
                        WalkForward = parse.GetValue(walkForward) is string wf ? (int)RunOptions.Dec(wf, "--walk-forward", 2m, 1000m, whole: true) : null,
                        Anchored = parse.GetValue(anchored),
                        Jobs = parse.GetValue(jobs) is string j ? (int)RunOptions.Dec(j, "--jobs", parse.GetValue(cluster) ? 0m : 1m, 1024m, whole: true) : Environment.ProcessorCount,
                        MaxCombinations = parse.GetValue(max) is string m ? (long)RunOptions.Dec(m, "--max-combinations", 1m, 1_000_000_000m, whole: true) : null,
                        Cluster = parse.GetValue(cluster),
                    };
                    return Run(request, logging, catalog, ct);
                },
                ct),
            CancellationToken.None));
        return command;
    }

    private static int Run(SweepRequest request, CliLogging logging, IReadOnlyList<StrategyDescriptor> catalog, CancellationToken ct)
    {
        var spec = request.Spec;
        var timings = PhaseTimer.FromEnvironment(logging);
        using var progress = new ProgressBar("optimize", !spec.Quiet && !logging.Json);
        var observer = new Observer(progress, logging);
        var outcome = SweepService.Run(request, CliServices.Create(spec.ConfigPath, logging, timings, catalog), observer, ct);
        progress.Dispose();
        timings.Mark("sweep");
        timings.Print();

        var varying = outcome.Grid.Axes.Select((a, i) => (a, i)).Where(x => x.a.Values.Count > 1).ToList();
        var headers = new List<string> { "#" };
        headers.AddRange(varying.Select(v => v.a.Name));
        headers.AddRange([outcome.Metric.Name, "net profit", "return", "max DD", "trades"]);
        var rows = new List<IReadOnlyList<string>>();
        int shown = Math.Min(request.Top, outcome.Ranked.Count);
        for (int r = 0; r < shown; r++)
        {
            var res = outcome.Ranked[r];
            var row = new List<string> { (r + 1).ToString(CultureInfo.InvariantCulture) };
            row.AddRange(varying.Select(v => res.Values[v.i]));
            row.Add(Table.Num(outcome.Metric.Of(res.Metrics, res.Periods)));
            row.Add(Table.Money(res.Metrics.NetProfit));
            row.Add(Table.Pct(res.Metrics.TotalReturn));
            row.Add(Table.Pct(res.Metrics.MaxDrawdown));
            row.Add(res.Metrics.Trades.ToString("N0", CultureInfo.InvariantCulture));
            rows.Add(row);
        }

        Console.WriteLine($"Keel optimize · {outcome.StrategyName} · {outcome.Ranked.Count:N0} combinations on {outcome.Bars:N0} bars · ranked by {outcome.Metric.Name}");
        Console.Write(Table.Grid(headers, rows));
        if (outcome.Holdout is { } holdout)
        {
            Console.WriteLine($"On the held-out period ({outcome.HoldoutBars:N0} bars after --train-until):");
            var hHeaders = new List<string> { "#" };
            hHeaders.AddRange(varying.Select(v => v.a.Name));
            hHeaders.AddRange([$"train {outcome.Metric.Name}", $"test {outcome.Metric.Name}", "net profit", "return", "max DD", "trades"]);
            var hRows = holdout.Select(h =>
            {
                var row = new List<string> { h.Rank.ToString(CultureInfo.InvariantCulture) };
                row.AddRange(varying.Select(v => h.Train.Values[v.i]));
                row.Add(Table.Num(outcome.Metric.Of(h.Train.Metrics, h.Train.Periods)));
                row.Add(Table.Num(outcome.Metric.Of(h.Test, h.TestPeriods)));
                row.Add(Table.Money(h.Test.NetProfit));
                row.Add(Table.Pct(h.Test.TotalReturn));
                row.Add(Table.Pct(h.Test.MaxDrawdown));
                row.Add(h.Test.Trades.ToString("N0", CultureInfo.InvariantCulture));
                return (IReadOnlyList<string>)row;
            }).ToList();
            Console.Write(Table.Grid(hHeaders, hRows));
        }

        if (outcome.WalkForward is { } folds && outcome.WalkForwardSummary is { } summary)
        {
            Console.WriteLine($"Walk-forward ({folds.Count:N0} folds, {(outcome.Anchored ? "anchored" : "rolling")}): the best by {outcome.Metric.Name} on each training window, run afresh on the next segment:");
            var wHeaders = new List<string> { "fold", "train", "test" };
            wHeaders.AddRange(varying.Select(v => v.a.Name));
            wHeaders.AddRange([$"train {outcome.Metric.Name}", $"test {outcome.Metric.Name}", "net profit", "return", "Sharpe", "max DD", "trades"]);
            var wRows = folds.Select(f =>
            {
                var row = new List<string> { f.Fold.ToString(CultureInfo.InvariantCulture), Span(f.Train), Span(f.Test) };
                row.AddRange(varying.Select(v => f.Best.Values[v.i]));
                row.Add(Table.Num(outcome.Metric.Of(f.Best.Metrics, f.Best.Periods)));
                row.Add(Table.Num(outcome.Metric.Of(f.TestMetrics, f.TestPeriods)));
                row.Add(Table.Money(f.TestMetrics.NetProfit));
                row.Add(Table.Pct(f.TestMetrics.TotalReturn));
                row.Add(Table.Num(f.TestMetrics.Sharpe));
                row.Add(Table.Pct(f.TestMetrics.MaxDrawdown));
                row.Add(f.TestMetrics.Trades.ToString("N0", CultureInfo.InvariantCulture));
                return (IReadOnlyList<string>)row;
            }).ToList();
            Console.Write(Table.Grid(wHeaders, wRows));
            Console.WriteLine($"Out of sample: net profit {Table.Money(summary.TestNetProfit)} over {folds.Count:N0} test windows; walk-forward efficiency {Table.Num(summary.Efficiency)} (mean test return per bar ÷ mean training return per bar)");
        }

        if (outcome.OutDir is not null)
        {
            var files = "{results.csv," + (outcome.Holdout is null ? string.Empty : "holdout.csv,") + (outcome.WalkForward is null ? string.Empty : "walkforward.csv,") + "report.html,metrics.json}";
            Console.WriteLine($"wrote {Path.Combine(outcome.OutDir, files)}");
        }

        return 0;
    }

    /// <summary>A window as its first and last bar dates (times when the bars are intraday).</summary>
    private static string Span(WalkForwardWindow w)
    {
        string first = w.First.ToString(), last = w.Last.ToString();
        bool daily = first.EndsWith("T00:00:00Z", StringComparison.Ordinal) && last.EndsWith("T00:00:00Z", StringComparison.Ordinal);
        return daily ? $"{first[..10]} → {last[..10]}" : $"{first} → {last}";
    }

    private sealed class Observer(ProgressBar progress, CliLogging logging) : Keel.Runtime.IRunObserver
    {
        public void Recorded(string runId) => Console.WriteLine($"run: {runId}");

        public void Warning(string message) => logging.Warning(message);

        public void Note(string message) => logging.Note(message);

        public void Resuming(string message)
        {
        }

        public void Progress(long done, long total) => progress.Report(done, total);
    }
}
