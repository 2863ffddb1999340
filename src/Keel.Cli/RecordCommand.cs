using System.CommandLine;
using System.Globalization;
using Keel.Engine.Data.Live;
using Keel.Engine.Ports;
using Keel.Storage;
using Keel.Venues.Alpaca;
using Keel.Venues.Oanda;
using Keel.Venues.Recording;
using Microsoft.Extensions.Configuration;

namespace Keel.Cli;

/// <summary>
/// <c>keel record --venue alpaca|oanda --symbols … [--url …]</c>: stream live ticks, build candles, persist them. A
/// health line every 60 s; SIGINT/SIGTERM stops gracefully (open candles force-completed, everything flushed) and the
/// last line is <c>candles generated N, persisted N</c>.
/// </summary>
internal static class RecordCommand
{
    public static Command Create(CliLogging logging)
    {
        var venue = new Option<string>("--venue") { Description = "alpaca (US stocks: trades) or oanda (forex: bid/ask quotes, candles of the mid)", HelpName = "alpaca|oanda", Required = true };
        var symbols = new Option<string>("--symbols") { Description = "symbols to record, comma-separated: AAPL,MSFT (Alpaca) or EUR_USD,USD_JPY (OANDA)", HelpName = "SYM[,SYM…]", Required = true };
        var url = new Option<string>("--url") { Description = "where to connect instead of the real venue, e.g. the sandbox: ws://127.0.0.1:P (Alpaca stream) or http://127.0.0.1:Q (OANDA) [default: alpaca.stream_url / oanda.stream_url, else the venue]", HelpName = "URL" };
        var timeframe = new Option<string>("--timeframe") { Description = "candle timeframe: S5 … D1 or 5s, 1m, 5m, 1h, 1d [default: 1m]", HelpName = "TF" };
        var gapFill = new Option<int?>("--gap-fill") { Description = "fill gaps of up to N intervals with flat candles (tick count 0); longer ones are recorded as gaps [default: 2]", HelpName = "N" };
        var buffer = new Option<int?>("--buffer") { Description = "tick buffer size; on overflow the oldest tick is dropped and counted [default: 10000]", HelpName = "N" };
        var ttl = new Option<double?>("--tick-ttl") { Description = "seconds a buffered tick stays usable [default: 60]", HelpName = "S" };
        var grace = new Option<double?>("--grace") { Description = "seconds after an interval's end before its candle completes without a later tick [default: 2]", HelpName = "S" };
        var health = new Option<double?>("--health-every") { Description = "seconds between health lines [default: 60]", HelpName = "S" };
        var db = CliConfig.DbOption();
        var config = CliConfig.ConfigOption();
        var command = new Command(
            "record",
            "Record a live feed into the candle store: connect (reconnecting with back-off), buffer ticks, aggregate candles, persist them with their tick counts, and record the intervals a disconnection lost. Ctrl+C stops cleanly.\n"
            + "Credentials: KEEL__ALPACA__KEY/KEEL__ALPACA__SECRET or KEEL__OANDA__TOKEN/KEEL__OANDA__ACCOUNT (or keel.json). Try it offline with 'keel sandbox'.")
        {
            venue, symbols, url, timeframe, gapFill, buffer, ttl, grace, health, db, config,
        };
        command.SetAction((parse, ct) => Task.Run(
            () => logging.Guard(
                () =>
                {
                    var cfg = CliConfig.Load(parse.GetValue(config));
                    var v = VenueConfig.Normalize(parse.GetValue(venue));
                    var syms = VenueConfig.Symbols(parse.GetValue(symbols), v);
                    var tfText = parse.GetValue(timeframe) ?? cfg.GetSection("record")["timeframe"] ?? "1m";
                    if (!Timeframe.TryParse(tfText, out var tf))
                    {
                        var tfName = parse.GetValue(timeframe) is null ? CliConfig.Name(cfg, "record:timeframe", "--timeframe") : "--timeframe";
                        throw new UsageException($"{tfName} was '{tfText}'; it is not a timeframe that divides a day: S5, S10, S15, S30, M1 … M30, H1 … H12, D1 (or 5s, 1m, 1h, 1d)");
                    }

                    var options = new RecorderOptions
                    {
                        Timeframe = tf,
                        Source = v == "oanda" ? CandleSource.Quotes : CandleSource.Trades,
                        MaxGapFill = Range(parse.GetValue(gapFill) ?? 2, 0, 1000, "--gap-fill"),
                        BufferCapacity = Range(parse.GetValue(buffer) ?? 10_000, 1, 10_000_000, "--buffer"),
                        TickTimeToLive = Seconds(parse.GetValue(ttl) ?? 60, "--tick-ttl"),
                        Grace = Seconds(parse.GetValue(grace) ?? 2, "--grace"),
                        HealthEvery = Seconds(parse.GetValue(health) ?? 60, "--health-every"),
                    };
                    var target = CliConfig.ResolveDb(parse.GetValue(db), cfg) ?? throw new UsageException("record needs a store to write candles to; --db none was given");
                    using var store = KeelStore.Open(target);
                    return Record(v, syms, parse.GetValue(url), cfg, options, store, logging, ct);
                },
                CancellationToken.None),
            CancellationToken.None));
        return command;
    }

    internal static IMarketDataFeed Feed(string venue, IConfiguration config, string? url, CliLogging logging, bool alpacaQuotes = false) => venue == "alpaca"
        ? new AlpacaDataFeed(VenueConfig.Alpaca(config, url, alpacaQuotes), VenueConfig.Policy(config, "alpaca", TimeSpan.FromSeconds(60))) { Logger = logging.Factory.CreateLogger("Keel.Venues.Feeds") }
        : new OandaPricingFeed(VenueConfig.Oanda(config, url), VenueConfig.Policy(config, "oanda", TimeSpan.FromSeconds(10))) { Logger = logging.Factory.CreateLogger("Keel.Venues.Feeds") };

    private static int Record(string venue, IReadOnlyList<string> symbols, string? url, IConfiguration config, RecorderOptions options, KeelStore store, CliLogging logging, CancellationToken ct)
    {
        var feed = Feed(venue, config, url, logging);
        var writer = new Keel.Runtime.Wiring.StoreCandleWriter(store, TimeProvider.System);
        var recorder = new LiveRecorder(feed, symbols, options, writer, TimeProvider.System, logging.Factory.CreateLogger("Keel.Venues.Recording"))
        {
            HealthReported = h => Console.WriteLine($"{Stamp()} {h.Format()}"),
        };
        Console.WriteLine($"recording {string.Join(',', symbols)} from {venue} as {options.Timeframe.Name} candles into {store.Describe}; Ctrl+C stops");
        RecorderHealth final;
        int code = 0;
        try
        {
            final = recorder.RunAsync(ct).GetAwaiter().GetResult();
        }
        catch (FeedFailedException ex)
        {
            final = recorder.Health;
            code = logging.Fail(ex.Message, 1);
        }
        finally
        {
            feed.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        Console.WriteLine($"{Stamp()} {final.Format()}");
        foreach (var s in symbols)
        {
            Console.WriteLine($"backtest {s} with: keel backtest --data db:{s}:{options.Timeframe.Name} …");
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"candles generated {final.CandlesGenerated}, persisted {final.CandlesPersisted}"));
        return code;
    }

    private static string Stamp() => DateTime.UtcNow.ToString("HH:mm:ss", CultureInfo.InvariantCulture);

    private static int Range(int value, int min, int max, string name) =>
        value >= min && value <= max ? value : throw new UsageException($"{name} was {value}; it must be between {min} and {max}");

    private static TimeSpan Seconds(double value, string name) =>
        value > 0 && value <= 86_400 ? TimeSpan.FromSeconds(value) : throw new UsageException($"{name} was {value.ToString(CultureInfo.InvariantCulture)}; it must be a number of seconds between 0 and 86400");
}
