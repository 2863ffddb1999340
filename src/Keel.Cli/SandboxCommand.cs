using System.CommandLine;
using System.Globalization;
using Keel.Engine.Data;
using Keel.Sandbox;

namespace Keel.Cli;

/// <summary><c>keel sandbox</c>: a local Alpaca/OANDA market data server replaying bar files (or generating ticks).</summary>
internal static class SandboxCommand
{
    internal const int DefaultAlpacaPort = 7801;
    internal const int DefaultOandaPort = 7802;
    private const string SampleFile = "2006-min-005.txt";

    public static Command Create(CliLogging logging)
    {
        var alpacaPort = new Option<int>("--alpaca-port") { Description = "port of the Alpaca stream and REST API (0 = any free port)", HelpName = "PORT", DefaultValueFactory = _ => DefaultAlpacaPort };
        var oandaPort = new Option<int>("--oanda-port") { Description = "port of the OANDA REST API and pricing stream (0 = any free port)", HelpName = "PORT", DefaultValueFactory = _ => DefaultOandaPort };
        var host = new Option<string>("--host") { Description = "address to listen on [default: 127.0.0.1, this machine only]", HelpName = "ADDRESS" };
        var speed = new Option<string>("--speed") { Description = "replay speed: 60 plays an hour of bars in a minute; 'max' = as fast as clients read [default: 1]", HelpName = "X|max" };
        var data = new Option<string[]>("--data") { Description = "replay a bar file as SYMBOL=FILE, or SYMBOL:TIMEFRAME=FILE (e.g. AAPL:5m=aapl.csv); repeatable. Both venues serve every symbol", HelpName = "SYM=FILE" };
        var generate = new Option<string>("--generate") { Description = "generate random-walk ticks for these symbols (comma-separated), stamped with the wall clock", HelpName = "SYM,SYM" };
        var rate = new Option<int>("--rate") { Description = "generated ticks per second, all symbols together", HelpName = "N", DefaultValueFactory = _ => 10 };
        var startPrice = new Option<string>("--start-price") { Description = "first price of generated symbols [default: 100]", HelpName = "PRICE" };
        var seed = new Option<int>("--seed") { Description = "seed of the generator (same seed, same prices)", HelpName = "N", DefaultValueFactory = _ => 42 };
        var halfSpread = new Option<string>("--half-spread") { Description = "quotes: bid = price - H, ask = price + H (the mid is the replayed price) [default: 0]", HelpName = "H" };
        var command = new Command("sandbox",
            "Run a local market data server that speaks Alpaca's and OANDA's wire protocols (WebSocket/REST, pricing stream/candles), replaying bar files " +
            "as ticks: each bar becomes open, nearer extreme, farther extreme, close. With no --data or --generate it replays the bundled 5-minute sample and " +
            "generates EUR_USD. Fault drills: POST /_sandbox/faults on either port (see docs/sandbox.md). Runs until Ctrl+C.")
        {
            alpacaPort, oandaPort, host, speed, data, generate, rate, startPrice, seed, halfSpread,
        };
        command.SetAction((parse, ct) => RunAsync(logging, () =>
        {
            var options = new SandboxOptions
            {
                AlpacaPort = parse.GetValue(alpacaPort),
                OandaPort = parse.GetValue(oandaPort),
                Host = parse.GetValue(host) ?? "127.0.0.1",
                Speed = ParseSpeed(parse.GetValue(speed)),
                HalfSpread = ParseDecimal(parse.GetValue(halfSpread), "--half-spread", 0m, allowZero: true),
            };
            foreach (var item in parse.GetValue(data) ?? [])
            {
                options.Series.Add(ParseSeries(item));
            }

            var generated = parse.GetValue(generate);
            int perSecond = parse.GetValue(rate);
            if (perSecond <= 0)
            {
                throw new UsageException($"--rate was {perSecond}; it must be a positive number of ticks per second");
            }

            decimal start = ParseDecimal(parse.GetValue(startPrice), "--start-price", 100m, allowZero: false);
            if (generated is not null)
            {
                var symbols = generated.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                if (symbols.Length == 0)
                {
                    throw new UsageException("--generate needs at least one symbol, e.g. --generate EUR_USD,GBP_USD");
                }

                options.Generator = new SandboxGenerator(symbols, perSecond, start, parse.GetValue(seed));
            }

            if (options.Series.Count == 0 && options.Generator is null)
            {
                var sample = FindSample() ?? throw new UsageException($"no --data given and the bundled sample samples/data/{SampleFile} was not found; pass --data SYMBOL=FILE or --generate SYMBOL");
                options.Series.Add(new SandboxSeries("IDX", sample));
                options.Generator = new SandboxGenerator(["EUR_USD"], perSecond, parse.GetValue(startPrice) is null ? 1.1m : start, parse.GetValue(seed));
            }

            return options;
        }, ct));
        return command;
    }

    /// <summary>Starts the server, prints how to reach it and waits for Ctrl+C; expected failures become one line and an exit code.</summary>
    private static async Task<int> RunAsync(CliLogging logging, Func<SandboxOptions> configure, CancellationToken ct)
    {
        SandboxServer server;
        SandboxOptions options;
        try
        {
            options = configure();
            server = await SandboxServer.StartAsync(options, logging.Factory, ct).ConfigureAwait(false);
        }
        catch (UsageException ex)
        {
            return logging.Fail(ex.Message, 2);
        }
        catch (ArgumentException ex)
        {
            return logging.Fail(ex.Message.Split(" (Parameter", 2)[0], 2);
        }
        catch (DataFormatException ex)
        {
            return logging.Fail(ex.Message, 1);
        }
        catch (IOException ex)
        {
            return logging.Fail(ex.Message, 1);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return 130;
        }

        await using (server.ConfigureAwait(false))
        {
            Describe(server, options);
            try
            {
                await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            Console.WriteLine("sandbox stopped");
        }

        return 0;
    }

    private static void Describe(SandboxServer server, SandboxOptions options)
    {
        var alpacaWs = server.AlpacaStreamBase.ToString().TrimEnd('/');
        var alpacaRest = server.AlpacaRestBase.ToString().TrimEnd('/');
        var oanda = server.OandaRestBase.ToString().TrimEnd('/');
        var symbols = options.Series.Select(s => $"{s.Symbol} ({Path.GetFileName(s.Path)})")
            .Concat(options.Generator?.Symbols.Select(s => $"{s} (generated, {options.Generator.TicksPerSecond} ticks/s across all generated)") ?? []);
        Console.WriteLine($"Keel sandbox running; speed {(double.IsPositiveInfinity(options.Speed) ? "max" : options.Speed.ToString(CultureInfo.InvariantCulture))}; symbols on both venues: {string.Join(", ", symbols)}");
        Console.WriteLine();
        Console.WriteLine("Alpaca market data");
        Console.WriteLine($"  stream    {alpacaWs}/v2/iex   (also /v2/sip, /v2/test)");
        Console.WriteLine($"  REST      {alpacaRest}/v2/stocks/{{symbol}}/bars");
        Console.WriteLine($"  key       {options.AlpacaKey}");
        Console.WriteLine($"  secret    {options.AlpacaSecret}");
        Console.WriteLine("OANDA v20");
        Console.WriteLine($"  REST      {oanda}/v3/instruments/{{instrument}}/candles");
        Console.WriteLine($"  stream    {oanda}/v3/accounts/{options.OandaAccount}/pricing/stream?instruments=…");
        Console.WriteLine($"  token     {options.OandaToken}");
        Console.WriteLine($"  account   {options.OandaAccount}");
        Console.WriteLine();
        Console.WriteLine("Point a Keel client at it with:");
        Console.WriteLine($"  export KEEL__ALPACA__KEY={options.AlpacaKey}");
        Console.WriteLine($"  export KEEL__ALPACA__SECRET={options.AlpacaSecret}");
        Console.WriteLine($"  export KEEL__ALPACA__DATA_URL={alpacaRest}");
        Console.WriteLine($"  export KEEL__ALPACA__STREAM_URL={alpacaWs}/v2/iex");
        Console.WriteLine($"  export KEEL__OANDA__TOKEN={options.OandaToken}");
        Console.WriteLine($"  export KEEL__OANDA__ACCOUNT={options.OandaAccount}");
        Console.WriteLine($"  export KEEL__OANDA__URL={oanda}");
        Console.WriteLine($"  export KEEL__OANDA__STREAM_URL={oanda}");
        Console.WriteLine();
        Console.WriteLine($"Faults: curl -X POST {alpacaRest}/_sandbox/faults -d '{{\"drop\":true}}'   (also stall_ms, malformed, reject_auth, connection_limit, rate_limit_next, reset)");
        Console.WriteLine($"Stats:  curl {alpacaRest}/_sandbox/stats");
        Console.WriteLine("The replay starts when the first client subscribes. Ctrl+C stops.");
    }

    internal static double ParseSpeed(string? text)
    {
        if (text is null)
        {
            return 1;
        }

        if (string.Equals(text, "max", StringComparison.OrdinalIgnoreCase))
        {
            return double.PositiveInfinity;
        }

        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double speed) || !(speed > 0) || double.IsInfinity(speed))
        {
            throw new UsageException($"--speed '{text}' is not a positive number or 'max'");
        }

        return speed;
    }

    internal static SandboxSeries ParseSeries(string text)
    {
        int eq = text.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0 || eq == text.Length - 1)
        {
            throw new UsageException($"--data '{text}' is not SYMBOL=FILE (or SYMBOL:TIMEFRAME=FILE), e.g. AAPL=aapl.csv");
        }

        var left = text[..eq].Trim();
        var path = text[(eq + 1)..].Trim();
        string? timeframe = null;
        int colon = left.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0)
        {
            timeframe = left[(colon + 1)..];
            left = left[..colon];
        }

        if (left.Length == 0)
        {
            throw new UsageException($"--data '{text}' has no symbol before '='");
        }

        if (!File.Exists(path))
        {
            throw new UsageException($"--data {left}: data file {path} does not exist");
        }

        return new SandboxSeries(left, path, timeframe);
    }

    private static decimal ParseDecimal(string? text, string option, decimal fallback, bool allowZero)
    {
        if (text is null)
        {
            return fallback;
        }

        if (!decimal.TryParse(text, NumberStyles.Number, CultureInfo.InvariantCulture, out decimal value) || value < 0 || (!allowZero && value == 0))
        {
            throw new UsageException($"{option} '{text}' is not a {(allowZero ? "non-negative" : "positive")} decimal number");
        }

        return value;
    }

    /// <summary>The bundled sample, looked for above the program and the working directory (a checkout, or the published CLI inside one).</summary>
    private static string? FindSample()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "samples", "data", SampleFile);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }
}
