using System.CommandLine;
using Keel.Engine.Persistence;
using Keel.Storage;

namespace Keel.Cli;

/// <summary><c>keel resume ID</c>: continues a run that stopped, crashed, failed or was paused, from its newest intact snapshot.</summary>
internal static class ResumeCommand
{
    public static Command Create(IReadOnlyList<Keel.Engine.Strategies.StrategyDescriptor> catalog, CliLogging logging)
    {
        var db = CliConfig.DbOption();
        var config = CliConfig.ConfigOption();
        var id = new Argument<string>("ID") { Description = "run id, or a unique prefix of it (see 'keel runs list')" };
        var output = new Option<string>("--out") { Description = "write the results here instead of the run's own output folder (the run is then replayed from its start, with the same result)", HelpName = "DIR" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "print only the summary (no progress bar)" };
        var command = new Command(
            "resume",
            "Continue a recorded run that stopped, crashed, failed or was paused. It picks up from the newest intact snapshot and writes exactly the outputs an uninterrupted run would have written (same metrics.json and orders.csv, byte for byte).")
        {
            id, db, config, output, quiet,
        };
        command.SetAction((parse, ct) => Task.Run(
            () => logging.Guard(() => Continue(parse.GetValue(id)!, parse.GetValue(db), parse.GetValue(config), parse.GetValue(output), parse.GetValue(quiet), logging, catalog, ct), ct),
            CancellationToken.None));
        return command;
    }

    /// <summary>Continues run <paramref name="id"/> (any mode that can be resumed; a live run reconciles first).</summary>
    internal static int Continue(string id, string? db, string? configPath, string? outDir, bool quiet, CliLogging logging, IReadOnlyList<Keel.Engine.Strategies.StrategyDescriptor> catalog, CancellationToken ct, bool adopt = false)
    {
        var settings = CliConfig.Load(configPath);
        var target = CliConfig.ResolveDb(db, settings)
            ?? throw new UsageException("resume needs the store the run was recorded in; --db none was given");
        RunRecord run;
        using (var store = KeelStore.Open(target))
        {
            run = RunsCommand.Find(store, id);
        }

        if (run.Status == RunStatus.Completed)
        {
            Console.WriteLine($"run {run.Id} already completed{(run.OutDir is null ? string.Empty : $"; its results are in {run.OutDir}")}");
            return 0;
        }

        if (run.Kind == Keel.Runtime.Optimization.SweepService.Kind)
        {
            throw new UsageException($"run {run.Id} is a parameter sweep; a sweep is not resumed: run keel optimize again");
        }

        var spec = RunSpecJson.Read(run.Spec, run.Id, target) with { Quiet = quiet };
        if (outDir is not null)
        {
            spec = spec with { OutDir = outDir };
        }

        if (adopt)
        {
            // For this start only: the stored run keeps its own setting.
            spec = spec with { Live = (spec.Live ?? throw new UsageException($"--adopt is for live runs; run {run.Id} is a {spec.Kind} run")) with { Adopt = true } };
        }

        return RunCommand.Run(spec, run, logging, ct, catalog);
    }
}
