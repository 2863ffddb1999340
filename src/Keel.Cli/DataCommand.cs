using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Keel.Data;
using Keel.Domain;


namespace Keel.Cli;

/// <summary><c>keel data import|list</c>: the candle store.</summary>
internal static partial class DataCommand
{
    public static Command Create(CliLogging logging)
    {
        var command = new Command("data", "Load candles into the store and see what it holds; backtests read them with --data db:SYMBOL:TIMEFRAME.");
        command.Subcommands.Add(Import(logging));
        command.Subcommands.Add(List(logging));
        command.Subcommands.Add(Download(logging));
        return command;
    }

    private static Command Download(CliLogging logging)
    {
        var db = CliConfig.DbOption();
        var config = CliConfig.ConfigOption();
        var venue = new Option<string>("--venue") { Description = "alpaca (bars REST, paged by next_page_token) or oanda (candles REST, mid prices)", HelpName = "alpaca|oanda", Required = true };
        var symbols = new Option<string>("--symbols") { Description = "symbols, comma-separated: AAPL,MSFT or EUR_USD", HelpName = "SYM[,SYM…]", Required = true };
        var timeframe = new Option<string>("--timeframe") { Description = "candle timeframe: 1m, 5m, 15m, 1h, 1d (Alpaca: whole minutes, hours or 1d; OANDA: S5 … H12, D) [default: 1m]", HelpName = "TF" };
        var from = new Option<string>("--from") { Description = "first candle time (YYYY-MM-DD or RFC 3339, UTC)", HelpName = "TIME", Required = true };
        var to = new Option<string>("--to") { Description = "end of the range, exclusive; a date means the start of that day [default: now]", HelpName = "TIME" };
        var url = new Option<string>("--url") { Description = "REST base instead of the real venue, e.g. the sandbox's http://127.0.0.1:P [default: alpaca.rest_url / oanda.rest_url]", HelpName = "URL" };
        var command = new Command("download", "Download historical candles from Alpaca or OANDA into the candle store (insert or replace), for backtests with --data db:SYMBOL:TIMEFRAME.")
        {
            venue, symbols, timeframe, from, to, url, db, config,
        };
        command.SetAction((parse, ct) => Task.Run(
            () => logging.Guard(
                () =>
                {
                    var cfg = CliConfig.Load(parse.GetValue(config));
                    var v = VenueConfig.Normalize(parse.GetValue(venue));
                    var syms = VenueConfig.Symbols(parse.GetValue(symbols), v);
                    var tfText = parse.GetValue(timeframe) ?? "1m";
                    if (!Keel.Engine.Data.Live.Timeframe.TryParse(tfText, out var tf))
                    {
                        throw new UsageException($"--timeframe '{tfText}' is not a timeframe such as 1m, 5m, 1h or 1d");
                    }

                    var start = Time(parse.GetValue(from)!, "--from");
                    var end = parse.GetValue(to) is string t ? Time(t, "--to") : Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow);
                    if (start >= end)
                    {
                        throw new UsageException($"--from {start} is not before --to {end}");
                    }

                    var target = CliConfig.ResolveDb(parse.GetValue(db), cfg) ?? throw new UsageException("download needs a store to write candles to; --db none was given");
                    Keel.Engine.Ports.IHistoricalBarSource source;
                    try
                    {
                        source = v == "alpaca"
                            ? new Keel.Venues.Alpaca.AlpacaBarSource(VenueConfig.Alpaca(cfg, parse.GetValue(url))) { Logger = logging.Factory.CreateLogger("Keel.Venues.Http") }
                            : new Keel.Venues.Oanda.OandaCandleSource(VenueConfig.Oanda(cfg, parse.GetValue(url))) { Logger = logging.Factory.CreateLogger("Keel.Venues.Http") };
                        _ = v == "alpaca" ? Keel.Venues.Alpaca.AlpacaBarSource.TimeframeName(tf) : Keel.Venues.Oanda.OandaCandleSource.GranularityName(tf);
                    }
                    catch (ArgumentException ex)
                    {
                        throw new UsageException($"--timeframe: {ex.Message}");
                    }

                    using var store = Keel.Storage.KeelStore.Open(target);
                    using var dispose = source as IDisposable;
                    foreach (var sym in syms)
                    {
                        long count = 0;
                        int pages = 0;
                        Timestamp? first = null, last = null;
                        var clock = Stopwatch.StartNew();
                        var enumerator = source.DownloadAsync(sym, tf.Name, start, end, ct).GetAsyncEnumerator(ct);
                        try
                        {
                            while (enumerator.MoveNextAsync().AsTask().GetAwaiter().GetResult())
                            {
                                var page = enumerator.Current;
                                pages++;
                                if (page.Bars.Count == 0)
                                {
                                    continue;
                                }

                                first ??= page.Bars[0].Time;
                                last = page.Bars[^1].Time;
                                count += store.UpsertLiveCandles(tf.Name, page.Bars.Select(b => new Keel.Engine.Data.Live.Candle(b, v == "oanda" ? (int)Math.Min(int.MaxValue, b.Volume.Raw / Quantity.Scale) : 0, false)).ToList());
                                if (!logging.Json)
                                {
                                    Console.Error.Write($"\r{sym}: {count.ToString("N0", CultureInfo.InvariantCulture)} candles, {pages} pages");
                                }
                            }
                        }
                        finally
                        {
                            enumerator.DisposeAsync().AsTask().GetAwaiter().GetResult();
                            if (!logging.Json)
                            {
                                Console.Error.WriteLine();
                            }
                        }

                        Console.WriteLine(count == 0
                            ? $"{sym}: no candles between {start} and {end}"
                            : $"{sym}: stored {count.ToString("N0", CultureInfo.InvariantCulture)} {tf.Name} candles ({first} … {last}) from {pages} page(s) in {clock.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s; backtest with --data db:{sym}:{tf.Name}");
                    }

                    return 0;
                },
                ct),
            CancellationToken.None));
        return command;
    }

    private static Timestamp Time(string text, string name) =>
        Timestamp.TryParse(text.Trim(), out var t) ? t : throw new UsageException($"{name} '{text}' is not a time: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC)");

    /// <summary>Timeframes: a count and a unit (s, m, h, d, w, mo), e.g. 1m, 5m, 1h, 1d; or OANDA-style S5, M1, H4, D, W, M.</summary>
    [GeneratedRegex("^([1-9][0-9]{0,4}(s|m|h|d|w|mo)|S(5|10|15|30)|M(1|2|4|5|10|15|30)?|H(1|2|3|4|6|8|12)|D|W)$")]
    private static partial Regex TimeframePattern();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._/-]{0,31}$")]
    private static partial Regex SymbolPattern();

    private static Command Import(CliLogging logging)
    {
        var db = CliConfig.DbOption();
        var config = CliConfig.ConfigOption();
        var symbol = new Option<string>("--symbol") { Description = "the symbol the candles belong to, e.g. AAPL or EUR_USD", HelpName = "SYMBOL", Required = true };
        var timeframe = new Option<string>("--timeframe") { Description = "the candles' timeframe, e.g. 1m, 5m, 1h, 1d (or S5, M1, H1, D)", HelpName = "TF", Required = true };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "no progress bar" };
        var strict = new Option<bool>("--strict") { Description = "refuse a file with Yahoo's rows without prices (DATE,null,null,…, its missing days) instead of skipping them with a warning" };
        var file = new Argument<string>("FILE") { Description = "CSV of bars (generic datetime,open,high,low,close,volume; backtrader; Yahoo)" };
        var command = new Command("import", "Bulk-load a CSV of bars into the candle store (insert or replace by symbol, timeframe and time). The bars' spacing must match --timeframe.") { file, symbol, timeframe, db, config, quiet, strict };
        command.SetAction((parse, ct) => Task.FromResult(logging.Guard(
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

                bool isStrict = parse.GetValue(strict);
                CheckSpacing(path, tf, isStrict);
                using var store = CliConfig.OpenStore(parse, db, config);
                using var reader = CsvBarReader.Open(path, new InstrumentId(sym), isStrict);
                using var progress = new ProgressBar("import", !parse.GetValue(quiet));
                var clock = Stopwatch.StartNew();
                long rows = store.ImportCandles(sym, tf, reader, _ =>
                {
                    var (done, total) = reader.Progress;
                    progress.Report(done, total);
                    ct.ThrowIfCancellationRequested();
                });
                progress.Dispose();
                if (reader.SkippedSummary is string skipped)
                {
                    logging.Warning(skipped + "; --strict refuses such a file instead");
                }

                double seconds = clock.Elapsed.TotalSeconds;
                Console.WriteLine(
                    $"imported {rows.ToString("N0", CultureInfo.InvariantCulture)} candles of {sym} {tf} into {store.Describe} in {seconds.ToString("0.00", CultureInfo.InvariantCulture)} s ({(rows / Math.Max(seconds, 1e-9)).ToString("N0", CultureInfo.InvariantCulture)} rows/s)");
                Console.WriteLine($"backtest them with: keel backtest --data db:{sym}:{tf} …");
                return 0;
            },
            ct)));
        return command;
    }

    /// <summary>Refuses a --timeframe the file's bars are not spaced by (5-minute bars imported as 1d), naming both.</summary>
    private static void CheckSpacing(string path, string timeframe, bool strict)
    {
        BarSpacing spacing;
        using (var peek = CsvBarReader.Open(path, new InstrumentId("PEEK"), strict))
        {
            spacing = BarSpacing.Measure(peek);
        }

        if (!spacing.Fits(timeframe))
        {
            string name = BarSpacing.Name(spacing.TypicalNanos);
            throw new UsageException($"--timeframe {timeframe} does not match {path}: its bars are {BarSpacing.Words(spacing.TypicalNanos)} apart ({name}); import it with --timeframe {name}. Nothing was imported");
        }
    }

    private static Command List(CliLogging logging)
    {
        var db = CliConfig.DbOption();
        var config = CliConfig.ConfigOption();
        var command = new Command("list", "What the candle store holds: each symbol and timeframe with its count and time range, and the store's size on disk.") { db, config };
        command.SetAction((parse, ct) => Task.FromResult(logging.Guard(
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

    internal static string Size(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{(bytes / (double)(1L << 30)).ToString("0.0", CultureInfo.InvariantCulture)} GiB",
        >= 1L << 20 => $"{(bytes / (double)(1L << 20)).ToString("0.0", CultureInfo.InvariantCulture)} MiB",
        >= 1L << 10 => $"{(bytes / 1024.0).ToString("0.0", CultureInfo.InvariantCulture)} KiB",
        _ => $"{bytes} B",
    };
}
