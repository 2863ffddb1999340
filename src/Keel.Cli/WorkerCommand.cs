using System.CommandLine;
using Keel.Engine.Strategies;
using Keel.Runtime.Optimization;

namespace Keel.Cli;

/// <summary><c>keel worker</c>: runs combinations of cluster sweeps (<c>keel optimize --cluster</c>) queued in a shared store.</summary>
internal static class WorkerCommand
{
    public static Command Create(IReadOnlyList<StrategyDescriptor> catalog, CliLogging logging)
    {
        var db = CliConfig.DbOption();
        var config = CliConfig.ConfigOption();
        var jobs = new Option<string>("--jobs", "-j") { Description = $"combinations run at once, one per core [default: {Environment.ProcessorCount}, this machine's cores]", HelpName = "N" };
        var name = new Option<string>("--name") { Description = "this worker's name in the store [default: HOST-PID]", HelpName = "NAME" };
        var once = new Option<bool>("--once") { Description = "stop when nothing is queued instead of waiting for the next sweep (cron, tests)" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "print nothing but errors" };
        var poll = new Option<string>("--poll") { Description = "seconds between looks for work while idle [default: 1]", HelpName = "SECONDS" };
        var command = new Command(
            "worker",
            "Run combinations of the parameter sweeps that 'keel optimize --cluster' queues in a shared PostgreSQL store (--db), on this machine's cores, until stopped (Ctrl+C, SIGTERM). Start one on every node; each takes combinations as it frees a core, and a combination whose worker dies goes to another once its lease runs out. The data files a sweep names must be readable here at the same paths (or be candles in the store: db:SYMBOL:TIMEFRAME).")
        {
            db, config, jobs, name, once, poll, quiet,
        };
        command.SetAction((parse, ct) => Task.Run(
            () => logging.Guard(
                () =>
                {
                    var configPath = parse.GetValue(config);
                    using var store = CliConfig.OpenStore(parse, db, config);
                    if (!store.SharesSweeps)
                    {
                        throw new UsageException($"keel worker needs a PostgreSQL store shared with the node that starts the sweep; {store.Describe} is not one");
                    }

                    var options = new SweepWorkerOptions
                    {
                        Jobs = parse.GetValue(jobs) is string j ? (int)RunOptions.Dec(j, "--jobs", 1m, 1024m, whole: true) : Environment.ProcessorCount,
                        UntilIdle = parse.GetValue(once),
                        Poll = parse.GetValue(poll) is string p ? TimeSpan.FromSeconds((double)RunOptions.Dec(p, "--poll", 0.01m, 3600m)) : TimeSpan.FromSeconds(1),
                    };
                    if (parse.GetValue(name) is { Length: > 0 } n)
                    {
                        options = options with { Name = n };
                    }

                    bool quietly = parse.GetValue(quiet);
                    if (!quietly)
                    {
                        Console.WriteLine($"worker {options.Name}: {options.Jobs} cores on {store.Describe}; waiting for sweeps{(options.UntilIdle ? " (until none is queued)" : " (Ctrl+C stops)")}");
                    }

                    var sweeps = new HashSet<string>(StringComparer.Ordinal);
                    long ran = SweepWorker.Run(store, CliServices.Create(configPath, logging, null, catalog), options, job =>
                    {
                        lock (sweeps)
                        {
                            if (sweeps.Add(job.RunId) && !quietly)
                            {
                                Console.WriteLine($"working on sweep {job.RunId}");
                            }
                        }
                    }, ct);
                    if (!quietly)
                    {
                        Console.WriteLine($"worker {options.Name}: ran {ran:N0} combinations of {sweeps.Count:N0} sweeps");
                    }

                    return 0;
                },
                ct),
            CancellationToken.None));
        return command;
    }
}
