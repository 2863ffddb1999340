using System.CommandLine;
using System.Globalization;
using Keel.Runtime.Live;
using Keel.Storage;

namespace Keel.Cli;

/// <summary><c>keel replay ID</c>: re-runs a live run's journaled inputs through the same kernel and compares its orders.</summary>
internal static class ReplayCommand
{
    public static Command Create(IReadOnlyList<Keel.Engine.Strategies.StrategyDescriptor> catalog, CliLogging logging)
    {
        var db = CliConfig.DbOption();
        var config = CliConfig.ConfigOption();
        var id = new Argument<string>("ID") { Description = "the live run's id, or a unique prefix of it (see 'keel runs list')" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "print only the verdict (no progress bar)" };
        var command = new Command(
            "replay",
            "Re-run a live run's journaled inputs (candles, ticks, the venue's order events, outside orders, commands, each at the time the kernel took it) through a fresh kernel with the run's strategy and settings, against a venue that sends nothing, and compare the orders it creates with the journal's. Exit 0 when they are the same, 1 with the differences when not. Nothing is sent and nothing is written.")
        {
            id, db, config, quiet,
        };
        command.SetAction((parse, ct) => Task.Run(
            () => logging.Guard(
                () =>
                {
                    var settings = CliConfig.Load(parse.GetValue(config));
                    var target = CliConfig.ResolveDb(parse.GetValue(db), settings)
                        ?? throw new UsageException("replay needs the store the run was recorded in; --db none was given");
                    using var store = KeelStore.Open(target);
                    var run = RunsCommand.Find(store, parse.GetValue(id)!);
                    var spec = RunSpecJson.Read(run.Spec, run.Id, target);
                    using var progress = new ProgressBar("replay", !parse.GetValue(quiet) && !logging.Json);
                    var result = LiveReplay.Run(store, run.Id, spec, CliServices.Create(null, logging, catalog: catalog), progress.Report);
                    progress.Dispose();
                    var rows = new List<(string, string)>
                    {
                        ("Inputs re-run", result.Inputs.ToString("N0", CultureInfo.InvariantCulture)),
                        ("Orders created", result.Orders.ToString("N0", CultureInfo.InvariantCulture)),
                        ("Fills booked", result.Fills.ToString("N0", CultureInfo.InvariantCulture)),
                        ("Differences", result.Differences.Count.ToString("N0", CultureInfo.InvariantCulture)),
                    };
                    Console.Write(Table.Render($"Keel replay · run {run.Id} · {spec.Strategy}", rows));
                    if (result.Identical)
                    {
                        Console.WriteLine($"identical: the replay created the same {result.Orders:N0} orders as the live session");
                        return 0;
                    }

                    foreach (var d in result.Differences.Take(50))
                    {
                        Console.WriteLine($"  {d.Order}: live {d.Live}; replay {d.Replay}");
                    }

                    return logging.Fail($"the replay differs from the live session in {result.Differences.Count} order(s)", 1);
                },
                ct),
            CancellationToken.None));
        return command;
    }
}
