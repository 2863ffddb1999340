using System.CommandLine;
using System.Globalization;
using Keel.Engine.Kernel;
using Keel.Engine.Strategies;
using Keel.Runtime.Wiring;
using Keel.Storage;

namespace Keel.Cli;

/// <summary><c>keel backtest</c> and <c>keel paper --replay</c>: the same run, fed from a file at full speed or at wall-clock pace.</summary>
internal static class RunCommand
{
    public static Command Create(bool paper, IReadOnlyList<StrategyDescriptor> catalog, CliLogging logging, bool live = false)
    {
        var options = new RunOptions(paper, catalog, live);
        var command = new Command(
            live ? "live" : paper ? "paper" : "backtest",
            live
                ? "Trade a strategy live on Alpaca or OANDA (paper/practice accounts unless --real-money): the same strategy code as a backtest, every order journaled before it is sent under a client id made of the run id and a sequence number, reconciled with the venue at start, every --reconcile-seconds and after a lost answer. Ctrl+C or SIGTERM stops it within seconds; 'keel resume ID' (or keel live --resume ID) continues it. See docs/live.md."
                : paper
                ? "Paper-trade a strategy on a replayed feed: bars arrive one by one from another thread at wall-clock speed × N, through the same kernel and simulated exchange as a backtest (and give the same orders)."
                : "Backtest a strategy on historical bars and write metrics, orders, fills, trades, the equity curve and an HTML report.");
        foreach (var o in options.All)
        {
            command.Options.Add(o);
        }

        if (live)
        {
            var resume = new Option<string>("--resume") { Description = "continue the stopped or crashed live run with this id (or a unique prefix): its snapshot, then reconciliation with the venue, then trading; other options are taken from the run", HelpName = "RUN" };
            command.Options.Add(resume);
            command.SetAction((parse, ct) => Task.Run(
                () => parse.GetValue(resume) is string id
                    ? logging.Guard(() => ResumeCommand.Continue(id, parse.GetValue(options.Db), parse.GetValue(options.Config), null, parse.GetValue(options.Quiet), logging, catalog, ct, parse.GetValue(options.Adopt)), ct)
                    : Execute(options, parse, logging, ct),
                CancellationToken.None));
            return command;
        }

        // On another thread, so Ctrl+C (SIGINT/SIGTERM) cancels the token while the run is going, and the run stops cleanly.
        command.SetAction((parse, ct) => Task.Run(() => Execute(options, parse, logging, ct), CancellationToken.None));
        return command;
    }

    private static int Execute(RunOptions options, ParseResult parse, CliLogging logging, CancellationToken ct) =>
        logging.Guard(() => Run(options.Resolve(parse), null, logging, ct, options.Catalog), ct);

    /// <summary>
    /// Runs a backtest or paper run through the runtime and renders it: the run id, progress, warnings, the summary
    /// table. <paramref name="resume"/> continues a recorded run from its newest intact snapshot.
    /// </summary>
    internal static int Run(RunSpec spec, RunRecord? resume, CliLogging logging, CancellationToken ct, IReadOnlyList<StrategyDescriptor>? catalog = null)
    {
        var timings = PhaseTimer.FromEnvironment(logging);
        var wiring = RunWiring.For(spec.Mode);
        using var progress = new ProgressBar(spec.Kind, !spec.Quiet && wiring.HasProgress && !logging.Json);
        var observer = new ConsoleRunObserver(progress, logging);
        // Alerts only for the runs that send them (paper and live): a backtest does not even read the section.
        var services = CliServices.Create(spec.ConfigPath, logging, timings, catalog, alerts: wiring.SendsAlerts);
        var host = new RunHost(services);
        RunOutcome outcome;
        try
        {
            var handle = resume is null ? host.Start(spec, observer) : host.Resume(resume, spec, observer);
            timings.Mark("setup");
            using (ct.Register(handle.Stop))
            {
                try
                {
                    outcome = handle.Completion.GetAwaiter().GetResult();
                }
                catch (TaskCanceledException) when (ct.IsCancellationRequested)
                {
                    throw new OperationCanceledException(ct);
                }
            }
        }
        finally
        {
            // The run has ended (or never started); this releases what the host still holds.
            host.DisposeAsync().AsTask().GetAwaiter().GetResult();

            // Gives queued alerts a few seconds to go out.
            services.Alerts?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        progress.Dispose();
        timings.Mark("run");
        if (outcome.End == RunEnd.Stopped)
        {
            return logging.Fail($"interrupted; run {outcome.RunId} stopped after {outcome.Result.DataEvents:N0} bars and can be continued with: keel resume {outcome.RunId}", 130);
        }

        PrintSummary(outcome, logging);
        if (outcome.OutDir is not null)
        {
            Console.WriteLine($"wrote {Path.Combine(outcome.OutDir, "{metrics.json,orders.csv,fills.csv,trades.csv,equity.csv,report.html}")}");
        }

        timings.Mark("summary");
        timings.Print();
        if (outcome.End == RunEnd.Halted)
        {
            return logging.Fail($"the run stopped trading: {outcome.HaltReason}; results were written, and the run is recorded as halted", 3);
        }

        return 0;
    }

    /// <summary>Renders a run's progress and messages for a person at a terminal (or in a log).</summary>
    private sealed class ConsoleRunObserver(ProgressBar progress, CliLogging logging) : IRunObserver
    {
        public void Recorded(string runId) => Console.WriteLine($"run: {runId}");

        public void Warning(string message) => logging.Warning(message);

        public void Note(string message) => logging.Note(message);

        public void Resuming(string message) => Console.WriteLine(message);

        public void Progress(long done, long total) => progress.Report(done, total);
    }

    private static void PrintSummary(RunOutcome outcome, CliLogging logging)
    {
        var (spec, strategy, parameters, instruments, result) = (outcome.Spec, outcome.StrategyName, outcome.Parameters, outcome.Instruments, outcome.Result);
        var m = result.Metrics;
        var p = string.Join(", ", parameters.Values.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}"));
        var title = $"Keel {spec.Kind} · {strategy}{(p.Length > 0 ? $" ({p})" : string.Empty)} · {string.Join(", ", instruments.Select(i => i.Id.Symbol))} · {m.Start?.ToString()[..10]} → {m.End?.ToString()[..10]}";
        var rows = new List<(string, string)>
        {
            ("Initial cash", Table.Money(m.InitialCash)),
            ("Final equity", Table.Money(m.FinalEquity)),
            ("Net profit", Table.Money(m.NetProfit)),
            ("Total return", Table.Pct(m.TotalReturn)),
            ("CAGR", Table.Pct(m.Cagr)),
            (string.Empty, string.Empty),
            ("Max drawdown", $"{Table.Pct(m.MaxDrawdown)} ({Table.Money(m.MaxDrawdownValue)})"),
            ($"Sharpe ({m.ReturnPeriod}, √{m.PeriodsPerYear})", Table.Num(m.Sharpe)),
            ($"Sortino ({m.ReturnPeriod}, √{m.PeriodsPerYear})", Table.Num(m.Sortino)),
            ("Exposure", Table.Pct(m.Exposure)),
            (string.Empty, string.Empty),
            ("Orders", m.Orders.ToString("N0", CultureInfo.InvariantCulture)),
            ("Trades (closed)", m.Trades.ToString("N0", CultureInfo.InvariantCulture)),
            ("Win rate", Table.Pct(m.WinRate)),
            ("Profit factor", Table.Num(m.ProfitFactor)),
            ("Commission", Table.Money(m.TotalCommission)),
            ("Bars", m.Bars.ToString("N0", CultureInfo.InvariantCulture)),
        };
        Console.Write(Table.Render(title, rows));
        if (m.Errors > 0)
        {
            logging.Warning($"{m.Errors} error(s) during the run; first: {result.Notices.FirstOrDefault(n => n.Level == NoticeLevel.Error)?.Message}");
        }
    }
}
