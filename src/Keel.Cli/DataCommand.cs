using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Keel.Domain;
using Keel.Engine.Data;

namespace Keel.Cli;

/// <summary><c>keel data import|list</c>: the candle store.</summary>
internal static partial class DataCommand
{
    public static Command Create()
    {
        var command = new Command("data", "Load candles into the store and see what it holds; backtests read them with --data db:SYMBOL:TIMEFRAME.");
        command.Subcommands.Add(Import());
        command.Subcommands.Add(List());
        return command;
    }

    /// <summary>Timeframes: a count and a unit (s, m, h, d, w, mo), e.g. 1m, 5m, 1h, 1d; or OANDA-style S5, M1, H4, D, W, M.</summary>
    [GeneratedRegex("^([1-9][0-9]{0,4}(s|m|h|d|w|mo)|S(5|10|15|30)|M(1|2|4|5|10|15|30)?|H(1|2|3|4|6|8|12)|D|W)$")]
    private static partial Regex TimeframePattern();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._/-]{0,31}$")]
    private static partial Regex SymbolPattern();

    private static Command Import()
    {
        var db = CliConfig.DbOption();
        var config = CliConfig.ConfigOption();
        var symbol = new Option<string>("--symbol") { Description = "the symbol the candles belong to, e.g. AAPL or EUR_USD", HelpName = "SYMBOL", Required = true };
        var timeframe = new Option<string>("--timeframe") { Description = "the candles' timeframe, e.g. 1m, 5m, 1h, 1d (or S5, M1, H1, D)", HelpName = "TF", Required = true };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "no progress bar" };
        var file = new Argument<string>("FILE") { Description = "CSV of bars (generic datetime,open,high,low,close,volume; backtrader; Yahoo)" };
        var command = new Command("import", "Bulk-load a CSV of bars into the candle store (insert or replace by symbol, timeframe and time).") { file, symbol, timeframe, db, config, quiet };
        command.SetAction((parse, ct) => Task.FromResult(RunCommand.Guard(
            () =>
            {
                var sym = parse.GetValue(symbol)!;
                var tf = parse.GetValue(timeframe)!;
                var path = parse.GetValue(file)!;
                if (!SymbolPattern().IsMatch(sym))
                {
                    throw new UsageException($"--symbol '{sym}' is not a symbol: letters and digits, then letters, digits, '.', '_', '/' or '-' (at most 32)");
                }

                if (!TimeframePattern().IsMatch(tf))
                {
                    throw new UsageException($"--timeframe '{tf}' is not a timeframe such as 1m, 5m, 1h, 1d, S5, M1, H1 or D");
                }

                if (!File.Exists(path))
                {
                    throw new UsageException($"data file {path} does not exist");
                }

                using var store = CliConfig.OpenStore(parse, db, config);
                using var reader = CsvBarReader.Open(path, new InstrumentId(sym));
                using var progress = new ProgressBar("import", !parse.GetValue(quiet));
                var clock = Stopwatch.StartNew();
                long rows = store.ImportCandles(sym, tf, reader, _ =>
                {
                    var (done, total) = reader.Progress;
                    progress.Report(done, total);
                    ct.ThrowIfCancellationRequested();
                });
                progress.Dispose();
                double seconds = clock.Elapsed.TotalSeconds;
                Console.WriteLine(
                    $"imported {rows.ToString("N0", CultureInfo.InvariantCulture)} candles of {sym} {tf} into {store.Describe} in {seconds.ToString("0.00", CultureInfo.InvariantCulture)} s ({(rows / Math.Max(seconds, 1e-9)).ToString("N0", CultureInfo.InvariantCulture)} rows/s)");
                Console.WriteLine($"backtest them with: keel backtest --data db:{sym}:{tf} …");
                return 0;
            },
            ct)));
        return command;
    }

    private static Command List()
    {
        var db = CliConfig.DbOption();
        var config = CliConfig.ConfigOption();
        var command = new Command("list", "What the candle store holds: each symbol and timeframe with its count and time range, and the store's size on disk.") { db, config };
        command.SetAction((parse, ct) => Task.FromResult(RunCommand.Guard(
            () =>
            {
                using var store = CliConfig.OpenStore(parse, db, config);
                var stats = store.CandleStatistics();
                if (stats.Series.Count == 0)
                {
                    Console.WriteLine($"no candles in {store.Describe}; load some with 'keel data import'");
                    return 0;
                }

                var rows = stats.Series.Select(s => (IReadOnlyList<string>)
                [
                    s.Symbol, s.Timeframe, s.Count.ToString("N0", CultureInfo.InvariantCulture), s.First.ToString(), s.Last.ToString(), $"db:{s.Symbol}:{s.Timeframe}",
                ]).ToList();
                Console.WriteLine($"candles in {store.Describe}: {stats.Count.ToString("N0", CultureInfo.InvariantCulture)} rows, {Size(stats.SizeOnDiskBytes)} on disk");
                Console.Write(Table.Grid(["symbol", "timeframe", ">candles", "first (UTC)", "last (UTC)", "--data"], rows));
                return 0;
            },
            ct)));
        return command;
    }

    private static string Size(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{(bytes / (double)(1L << 30)).ToString("0.0", CultureInfo.InvariantCulture)} GiB",
        >= 1L << 20 => $"{(bytes / (double)(1L << 20)).ToString("0.0", CultureInfo.InvariantCulture)} MiB",
        >= 1L << 10 => $"{(bytes / 1024.0).ToString("0.0", CultureInfo.InvariantCulture)} KiB",
        _ => $"{bytes} B",
    };
}
