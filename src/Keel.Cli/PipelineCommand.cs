using System.CommandLine;
using System.Globalization;
using Keel.Engine.Clock;
using Keel.Pipeline;

namespace Keel.Cli;

/// <summary><c>keel pipeline run-once|backtest</c>: the decision pipeline (docs/pipeline.md).</summary>
internal static class PipelineCommand
{
    public static Command Create(CliLogging logging)
    {
        var command = new Command("pipeline", "The decision pipeline: approved decisions → executor → order monitor → position monitor (docs/pipeline.md).");
        command.Subcommands.Add(RunOnce(logging));
        command.Subcommands.Add(Backtest(logging));
        return command;
    }

    private static Command RunOnce(CliLogging logging)
    {
        var db = CliConfig.DbOption();
        var config = CliConfig.ConfigOption();
        var stage = new Option<string>("--stage") { Description = "executor, order-monitor or position-monitor", HelpName = "STAGE", Required = true };
        var venue = new Option<string>("--venue") { Description = "alpaca or oanda (paper/practice endpoints unless --real-money)", HelpName = "alpaca|oanda", Required = true };
        var url = new Option<string>("--url") { Description = "the venue's address instead of the real one, e.g. the sandbox's http://127.0.0.1:P", HelpName = "URL" };
        var realMoney = new Option<bool>("--real-money") { Description = "allow a real-money endpoint" };
        var timeframe = new Option<string>("--quote-timeframe") { Description = "position-monitor: price from the close of the latest candle of this timeframe in the store (kept current by keel record) [default: 1m]", HelpName = "TF" };
        var prefix = new Option<string>("--client-id-prefix") { Description = "starts every client order id; keep it different for two stores trading one account [default: kp]", HelpName = "TEXT" };
        var command = new Command("run-once", "Run one stage of the pipeline once, now, against a venue (for cron and tests).") { stage, venue, url, realMoney, timeframe, prefix, db, config };
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
            var cfg = CliConfig.Load(parse.GetValue(config));
            var v = VenueConfig.Normalize(parse.GetValue(venue));
            using var store = CliConfig.OpenStore(parse, db, config);
            var log = logging.Factory.CreateLogger("Keel.Pipeline");
            await using var port = VenueConfig.TradingPort(v, cfg, parse.GetValue(url), parse.GetValue(realMoney), logging.Factory.CreateLogger("Keel.Venues"));
            var clock = new WallClock(TimeProvider.System);
            var options = new PipelineOptions(parse.GetValue(prefix) ?? "kp");
            StageResult result = which switch
            {
                PipelineStage.Executor => await new DecisionExecutor(store.Pipeline, port, clock, options, log).RunOnceAsync(ct).ConfigureAwait(false),
                PipelineStage.OrderMonitor => await new OrderMonitor(store.Pipeline, port, clock, options, log).RunOnceAsync(ct).ConfigureAwait(false),
                _ => await new PositionMonitor(store.Pipeline, port, new StoreQuotes(store, parse.GetValue(timeframe) ?? "1m"), clock, log).RunOnceAsync(ct).ConfigureAwait(false),
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
        var outDir = new Option<string>("--out") { Description = "folder for trade_journal.csv, order_executions.csv, positions.csv, metrics.json and pipeline.db", HelpName = "DIR", Required = true };
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
