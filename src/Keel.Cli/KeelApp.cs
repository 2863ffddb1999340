using System.CommandLine;
using System.Text;
using Keel.Engine.Strategies;
using Keel.Strategies;

namespace Keel.Cli;

/// <summary>
/// The <c>keel</c> command line as a library: Keel's own program calls it, and so does a user's program that brings its
/// own strategies (<c>return await KeelApp.RunAsync(args, [MyStrategy.Descriptor]);</c>), so their strategies run with
/// exactly the same commands, options, store and outputs as the built-in ones.
/// </summary>
public static class KeelApp
{
    /// <summary>Parses <paramref name="args"/> and runs the command; returns the process exit status.</summary>
    /// <param name="strategies">Strategies to offer besides Keel's own; a name may not repeat one already there.</param>
    public static async Task<int> RunAsync(string[] args, IEnumerable<StrategyDescriptor>? strategies = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        var catalog = Catalog(strategies);
        Console.OutputEncoding = Encoding.UTF8;
        using var logging = new CliLogging();
        var root = new RootCommand(
            "Keel: one trading platform. Write a strategy once; backtest it, paper-trade it and (soon) trade it live, with exact money and journaled orders.\n" +
            "Examples:\n" +
            "  keel backtest --data prices.csv --strategy sma-cross --param fast=10 --param slow=30 --stake 1 --commission 0.001 --cash 100000 --out results\n" +
            "  keel paper --replay prices.csv --speed max --strategy sma-cross --out paper-results\n" +
            "  keel optimize --data prices.csv --strategy sma-cross --param fast=5:50:5 --param slow=20:200:10 --rank sharpe --out sweep\n" +
            "  keel runs list\n" +
            "  keel resume <run id>\n" +
            "  keel data import --symbol AAPL --timeframe 1m aapl.csv && keel backtest --data db:AAPL:1m --strategy sma-cross\n" +
            "  keel strategies\n" +
            "  keel indicators --data prices.csv --indicator sma:30 --indicator macd:12,26,9 --out indicators.csv\n" +
            "  keel serve   (REST/WebSocket API, dashboard, TradingView webhooks and metrics on http://127.0.0.1:8080)\n" +
            "  keel sandbox   (then, with the variables it prints)   keel record --venue alpaca --symbols AAPL --url ws://127.0.0.1:PORT\n" +
            "Every backtest and paper run is recorded in the store (SQLite by default; --db or KEEL__STORAGE__DB picks another file or a PostgreSQL server).\n" +
            "Logs go to stderr (--log-format text|json, --log-level; docs/logging.md); results go to stdout.");
        root.Options.Add(logging.FormatOption);
        root.Options.Add(logging.LevelOption);
        root.Subcommands.Add(RunCommand.Create(paper: false, catalog, logging));
        root.Subcommands.Add(RunCommand.Create(paper: true, catalog, logging));
        root.Subcommands.Add(RunCommand.Create(paper: false, catalog, logging, live: true));
        root.Subcommands.Add(OptimizeCommand.Create(catalog, logging));
        root.Subcommands.Add(WorkerCommand.Create(catalog, logging));
        root.Subcommands.Add(ResumeCommand.Create(catalog, logging));
        root.Subcommands.Add(ReplayCommand.Create(catalog, logging));
        root.Subcommands.Add(RunsCommand.Create(logging));
        root.Subcommands.Add(DataCommand.Create(logging));
        root.Subcommands.Add(DecisionsCommand.Create(logging));
        root.Subcommands.Add(PipelineCommand.Create(logging));
        root.Subcommands.Add(StrategiesCommand.Create(catalog));
        root.Subcommands.Add(RecordCommand.Create(logging));
        root.Subcommands.Add(SandboxCommand.Create(logging));
        root.Subcommands.Add(ServeCommand.Create(catalog, logging));
        var indicators = IndicatorsCommand.Create(logging);
        root.Subcommands.Add(indicators);
        IndicatorsCommand.AddCatalogToHelp(root, indicators);
        // Ctrl+C stops a run cleanly (it snapshots and records 'stopped'); give it time to do so before the process is forced out.
        var invocation = new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(30) };
        var parse = root.Parse(args);

        var loggingProblem = logging.Open(parse);

        // A mistyped command or option: one line and status 2 (the README's promise), not the whole help and status 1.
        if (args.Length > 0 && parse.Errors.Count > 0)
        {
            return logging.Fail(ParseErrors.Describe(parse), ParseErrors.ExitCode);
        }

        if (loggingProblem is not null)
        {
            return logging.Fail(loggingProblem, 2);
        }

        return await parse.InvokeAsync(invocation).ConfigureAwait(false);
    }

    /// <summary>Keel's strategies, then the program's own, each name once.</summary>
    public static IReadOnlyList<StrategyDescriptor> Catalog(IEnumerable<StrategyDescriptor>? extra)
    {
        var all = new List<StrategyDescriptor>(StrategyCatalog.All);
        foreach (var d in extra ?? [])
        {
            if (all.Any(x => string.Equals(x.Name, d.Name, StringComparison.OrdinalIgnoreCase)))
            {
                throw new ArgumentException($"a strategy named '{d.Name}' is already in the catalog; give yours another name", nameof(extra));
            }

            all.Add(d);
        }

        return all;
    }
}
