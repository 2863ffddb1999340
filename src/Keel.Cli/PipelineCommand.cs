using System.CommandLine;
using System.Globalization;
using Keel.Engine.Clock;
using Keel.Pipeline;

namespace Keel.Cli;

/// <summary><c>keel pipeline run|run-once|backtest</c>: the decision pipeline (docs/pipeline.md).</summary>
internal static class PipelineCommand
{
    public static Command Create(CliLogging logging)
    {
        var command = new Command("pipeline", "The decision pipeline: approved decisions → executor → order monitor → position monitor (docs/pipeline.md).");
        command.Subcommands.Add(Run(logging));
        command.Subcommands.Add(RunOnce(logging));
        command.Subcommands.Add(Backtest(logging));
        return command;
    }

    private static Command Run(CliLogging logging)
    {
        var db = CliConfig.DbOption();
        var config = CliConfig.ConfigOption();
        var venue = new Option<string>("--venue") { Description = "alpaca or oanda (paper/practice endpoints unless --real-money)", HelpName = "alpaca|oanda", Required = true };
        var url = new Option<string>("--url") { Description = "the venue's address instead of the real one, e.g. the sandbox's http://127.0.0.1:P", HelpName = "URL" };
        var realMoney = new Option<bool>("--real-money") { Description = "allow a real-money endpoint" };
        var timeframe = new Option<string>("--quote-timeframe") { Description = "position-monitor: price from the close of the latest candle of this timeframe in the store (kept current by keel record) instead of the venue's latest quote", HelpName = "TF" };
        var prefix = new Option<string>("--client-id-prefix") { Description = "starts every client order id; keep it different for two stores trading one account [default: kp]", HelpName = "TEXT" };
        var node = new Option<string>("--node") { Description = "this node's name, recorded with each firing it runs and unique in a cluster [default: HOST-PID]", HelpName = "NAME" };
        var every = new Option<string>("--every") { Description = "tests and drills: fire every stage every DURATION (e.g. 2s, 500ms, 1m) on every day, instead of the NYSE schedule; check-in 1s and misfire threshold 2s unless given", HelpName = "DURATION" };
        var checkin = new Option<string>("--checkin-interval") { Description = "clustered store: how often this node records that it is alive [default: 7.5s; 1s with --every]", HelpName = "DURATION" };
        var misfire = new Option<string>("--misfire-threshold") { Description = "how late a firing may start and still run, and how long past a missed check-in before another node takes over a dead one's work [default: 60s; 2s with --every]", HelpName = "DURATION" };
        var command = new Command(
            "run",
            "Run the pipeline on its schedule until Ctrl+C or SIGTERM: the executor at 09:45 New York time on NYSE trading days, the order monitor every 5 minutes 09:30–16:00 (13:00 on early closes) and at 18:00, the position monitor every 10 minutes in regular hours and at 18:15. " +
            "Scheduled with Quartz.NET: in memory with a SQLite store; with a PostgreSQL store (--db) a clustered job store shared by every node running this command, so each firing runs on exactly one node and a dead node's work is taken over by another. Each firing is recorded in pipeline_firings. See docs/pipeline.md.")
        {
            venue, url, realMoney, timeframe, prefix, node, every, checkin, misfire, db, config,
        };
        var risk = new RiskOptions();
        risk.AddTo(command);
        command.SetAction((parse, ct) => Task.Run(() => logging.Guard(
            () => Body(parse, ct).GetAwaiter().GetResult(),
            ct)));

        async Task<int> Body(ParseResult parse, CancellationToken ct)
        {
            TimeSpan? interval = parse.GetValue(every) is string e ? Duration(e, "--every", TimeSpan.FromMilliseconds(100)) : null;
            var (defaultCheckin, defaultMisfire) = PipelineRunOptions.Defaults(interval);
            var checkinInterval = parse.GetValue(checkin) is string c ? Duration(c, "--checkin-interval", TimeSpan.FromMilliseconds(100)) : defaultCheckin;
            var misfireThreshold = parse.GetValue(misfire) is string m ? Duration(m, "--misfire-threshold", TimeSpan.FromMilliseconds(100)) : defaultMisfire;
            var name = parse.GetValue(node) is { Length: > 0 } n ? n.Trim() : $"{Environment.MachineName}-{Environment.ProcessId}";
            var gate = risk.Gate(parse);
            var cfg = CliConfig.Load(parse.GetValue(config));
            var v = VenueConfig.Normalize(parse.GetValue(venue));
            using var store = CliConfig.OpenStore(parse, db, config);
            var log = logging.Factory.CreateLogger("Keel.Pipeline");
            await using var port = VenueConfig.TradingPort(v, cfg, parse.GetValue(url), parse.GetValue(realMoney), logging.Factory.CreateLogger("Keel.Venues"));
            var clock = new WallClock(TimeProvider.System);
            var options = new PipelineOptions(parse.GetValue(prefix) ?? "kp");
            var quotes = Quotes(parse.GetValue(timeframe), store, port);

            // One stage at a time on this node, in the order Quartz hands the firings over (by priority at the same minute).
            using var oneAtATime = new SemaphoreSlim(1, 1);
            async Task<StageResult> RunStage(PipelineStage stage, CancellationToken token)
            {
                await oneAtATime.WaitAsync(token).ConfigureAwait(false);
                try
                {
                    return stage switch
                    {
                        PipelineStage.Executor => await new DecisionExecutor(store.Pipeline, port, clock, options, log, gate).RunOnceAsync(token).ConfigureAwait(false),
                        PipelineStage.OrderMonitor => await new OrderMonitor(store.Pipeline, port, clock, options, log).RunOnceAsync(token).ConfigureAwait(false),
                        _ => await new PositionMonitor(store.Pipeline, port, quotes, clock, log).RunOnceAsync(token).ConfigureAwait(false),
                    };
                }
                finally
                {
                    oneAtATime.Release();
                }
            }

            var runOptions = new PipelineRunOptions(name, interval, (store as Keel.Storage.PostgresStore)?.ConnectionString, checkinInterval, misfireThreshold);
            await using (var scheduler = await PipelineScheduler.StartAsync(runOptions, RunStage, store.Pipeline, TimeProvider.System, logging.Factory, ct).ConfigureAwait(false))
            {
                Console.WriteLine($"pipeline run: node {name}, {(runOptions.PostgresConnectionString is null ? "in-memory scheduler" : "clustered scheduler")} on {store.Describe}, {(interval is { } i ? $"every {i.TotalSeconds:0.###} s" : "NYSE schedule")} (Ctrl+C stops)");
                try
                {
                    await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // Ctrl+C or SIGTERM: the scheduler stops below, cancelling and awaiting a running stage.
                }
            }

            Console.WriteLine($"pipeline run: node {name} stopped");
            return 0;
        }

        return command;
    }

    /// <summary>The position monitor's prices: the venue's latest quote, or the store's candles with --quote-timeframe.</summary>
    private static IQuoteSource Quotes(string? timeframe, Keel.Storage.KeelStore store, Keel.Engine.Ports.IVenuePort port) =>
        timeframe is not null ? new StoreQuotes(store, timeframe)
        : port is Keel.Venues.ILatestQuotes venue ? new VenueQuoteSource(venue)
        : new StoreQuotes(store, "1m");

    /// <summary>The venue's latest quote as the pipeline's quote.</summary>
    private sealed class VenueQuoteSource(Keel.Venues.ILatestQuotes venue) : IQuoteSource
    {
        public async Task<PipelineQuote?> LatestQuoteAsync(string symbol, CancellationToken ct = default) =>
            await venue.LatestQuoteAsync(symbol, ct).ConfigureAwait(false) is { } q
                ? new PipelineQuote(q.Bid, q.Ask, Keel.Domain.Timestamp.FromDateTimeOffset(q.Time))
                : null;
    }

    /// <summary>The risk limits every entry the executor sends is checked against (the kernel's gate, docs/pipeline.md).</summary>
    private sealed class RiskOptions
    {
        public Option<string> MaxPosition { get; } = new("--max-position") { Description = "risk: largest absolute position per symbol an entry may lead to, with the working orders on its side", HelpName = "QTY" };

        public Option<string> MaxOrderNotional { get; } = new("--max-order-notional") { Description = "risk: largest value of one entry (quantity × limit price)", HelpName = "AMOUNT" };

        public Option<string> MaxOpenOrders { get; } = new("--max-open-orders") { Description = "risk: most orders working at the venue when an entry is sent", HelpName = "N" };

        public void AddTo(Command command)
        {
            command.Options.Add(MaxPosition);
            command.Options.Add(MaxOrderNotional);
            command.Options.Add(MaxOpenOrders);
        }

        public PipelineRiskGate Gate(ParseResult parse)
        {
            var limits = new Keel.Engine.Risk.RiskLimits(
                parse.GetValue(MaxPosition) is string p ? Keel.Domain.Quantity.From(RunOptions.Dec(p, "--max-position", 0.000001m, 1_000_000_000m)) : null,
                parse.GetValue(MaxOrderNotional) is string n ? Keel.Domain.Money.From(RunOptions.Dec(n, "--max-order-notional", 0.01m, 1_000_000_000_000m)) : null,
                parse.GetValue(MaxOpenOrders) is string o ? (int)RunOptions.Dec(o, "--max-open-orders", 1m, 100_000m, whole: true) : null);
            return new PipelineRiskGate(limits);
        }
    }

    /// <summary>A duration: a positive number and a unit (ms, s, m or h).</summary>
    internal static TimeSpan Duration(string text, string option, TimeSpan min)
    {
        var t = text.Trim().ToLowerInvariant();
        int split = 0;
        while (split < t.Length && (char.IsAsciiDigit(t[split]) || t[split] == '.'))
        {
            split++;
        }

        if (split > 0 && decimal.TryParse(t[..split], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n) && n > 0)
        {
            TimeSpan? d = t[split..] switch
            {
                "ms" => TimeSpan.FromMilliseconds((double)n),
                "s" => TimeSpan.FromSeconds((double)n),
                "m" or "min" => TimeSpan.FromMinutes((double)n),
                "h" => TimeSpan.FromHours((double)n),
                _ => null,
            };
            if (d is { } ok && ok >= min && ok <= TimeSpan.FromDays(1))
            {
                return ok;
            }
        }

        throw new UsageException($"{option} '{text}' is not a duration from {min.TotalMilliseconds:0} ms to 1 day (a number and ms, s, m or h, e.g. 2s)");
    }

    private static Command RunOnce(CliLogging logging)
    {
        var db = CliConfig.DbOption();
        var config = CliConfig.ConfigOption();
        var stage = new Option<string>("--stage") { Description = "executor, order-monitor or position-monitor", HelpName = "STAGE", Required = true };
        var venue = new Option<string>("--venue") { Description = "alpaca or oanda (paper/practice endpoints unless --real-money)", HelpName = "alpaca|oanda", Required = true };
        var url = new Option<string>("--url") { Description = "the venue's address instead of the real one, e.g. the sandbox's http://127.0.0.1:P", HelpName = "URL" };
        var realMoney = new Option<bool>("--real-money") { Description = "allow a real-money endpoint" };
        var timeframe = new Option<string>("--quote-timeframe") { Description = "position-monitor: price from the close of the latest candle of this timeframe in the store (kept current by keel record) instead of the venue's latest quote", HelpName = "TF" };
        var prefix = new Option<string>("--client-id-prefix") { Description = "starts every client order id; keep it different for two stores trading one account [default: kp]", HelpName = "TEXT" };
        var command = new Command("run-once", "Run one stage of the pipeline once, now, against a venue (for cron and tests).") { stage, venue, url, realMoney, timeframe, prefix, db, config };
        var risk = new RiskOptions();
        risk.AddTo(command);
        command.SetAction((parse, ct) => Task.Run(() => logging.Guard(
            () => Body(parse, ct).GetAwaiter().GetResult(),
            ct)));

        async Task<int> Body(ParseResult parse, CancellationToken ct)
        {
            var which = parse.GetValue(stage)!.Trim().ToLowerInvariant() switch
            {
                "executor" => PipelineStage.Executor,
                "order-monitor" => PipelineStage.OrderMonitor,
                "position-monitor" => PipelineStage.PositionMonitor,
                var other => throw new UsageException($"--stage '{other}' is not a stage: executor, order-monitor or position-monitor"),
            };
            var gate = risk.Gate(parse);
            var cfg = CliConfig.Load(parse.GetValue(config));
            var v = VenueConfig.Normalize(parse.GetValue(venue));
            using var store = CliConfig.OpenStore(parse, db, config);
            var log = logging.Factory.CreateLogger("Keel.Pipeline");
            await using var port = VenueConfig.TradingPort(v, cfg, parse.GetValue(url), parse.GetValue(realMoney), logging.Factory.CreateLogger("Keel.Venues"));
            var clock = new WallClock(TimeProvider.System);
            var options = new PipelineOptions(parse.GetValue(prefix) ?? "kp");
            StageResult result = which switch
            {
                PipelineStage.Executor => await new DecisionExecutor(store.Pipeline, port, clock, options, log, gate).RunOnceAsync(ct).ConfigureAwait(false),
                PipelineStage.OrderMonitor => await new OrderMonitor(store.Pipeline, port, clock, options, log).RunOnceAsync(ct).ConfigureAwait(false),
                _ => await new PositionMonitor(store.Pipeline, port, Quotes(parse.GetValue(timeframe), store, port), clock, log).RunOnceAsync(ct).ConfigureAwait(false),
            };
            Console.WriteLine($"{parse.GetValue(stage)}: {result.Done} done, {result.Skipped} skipped, {result.Failed} failed (retried at the next run)");
            return result.Failed > 0 ? 3 : 0;
        }

        return command;
    }

    private static Command Backtest(CliLogging logging)
    {
        var decisions = new Option<string>("--decisions") { Description = "decisions CSV (as keel decisions import, plus an optional date column: the day each is made)", HelpName = "FILE", Required = true };
        var data = new Option<string>("--data") { Description = "bar files, comma-separated; FILE (symbol = the file name up to the first '-', '_' or '.') or SYMBOL=FILE", HelpName = "FILE[,FILE…]", Required = true };
        var outDir = new Option<string>("--out") { Description = "folder for trade_journal.csv, order_executions.csv, positions.csv, metrics.json, report.html and pipeline.db", HelpName = "DIR", Required = true };
        var cash = new Option<string>("--cash") { Description = "the simulated account's cash [default: 100000]", HelpName = "AMOUNT" };
        var command = new Command("backtest", "Run the pipeline's three stages on their NYSE schedule over historical bars, against the simulated exchange: what a source of decisions would have done.") { decisions, data, outDir, cash };
        command.SetAction((parse, ct) => Task.Run(() => logging.Guard(
            () => Body(parse, ct).GetAwaiter().GetResult(),
            ct)));

        async Task<int> Body(ParseResult parse, CancellationToken ct)
        {
            decimal money = 100_000m;
            if (parse.GetValue(cash) is string c && (!decimal.TryParse(c, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out money) || money <= 0))
            {
                throw new UsageException($"--cash '{c}' is not a positive amount");
            }

            var path = parse.GetValue(decisions)!;
            if (!File.Exists(path))
            {
                throw new UsageException($"decisions file {path} does not exist");
            }

            var spec = new PipelineBacktestSpec(path, parse.GetValue(data)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), parse.GetValue(outDir)!, money);
            PipelineBacktestResult r;
            try
            {
                r = await PipelineBacktest.RunAsync(spec, logging.Factory.CreateLogger("Keel.Pipeline"), ct).ConfigureAwait(false);
            }
            catch (DecisionFormatException ex)
            {
                throw new UsageException(ex.Message);
            }

            Console.Write(Table.Render("pipeline backtest", [
                ("decisions", r.Decisions.ToString(CultureInfo.InvariantCulture)),
                    ("trades", r.Trades.ToString(CultureInfo.InvariantCulture)),
                    ("  closed", r.Closed.ToString(CultureInfo.InvariantCulture)),
                    ("  cancelled", r.Cancelled.ToString(CultureInfo.InvariantCulture)),
                    ("  open", r.Open.ToString(CultureInfo.InvariantCulture)),
                    ("realized P&L", Keel.Storage.Pipeline.PipelineText.Money(r.RealizedPnl)),
                    ("unrealized P&L", Keel.Storage.Pipeline.PipelineText.Money(r.UnrealizedPnl)),
                    ("valuations", r.Valuations.ToString(CultureInfo.InvariantCulture)),
                    ("store", r.Database),
                ]));
            return 0;
        }

        return command;
    }
}
