using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using Keel.Engine.Strategies;
using Keel.Server;
using Microsoft.Extensions.Configuration;

namespace Keel.Cli;

/// <summary><c>keel serve</c>: the REST/WebSocket API, TradingView webhooks, metrics and the dashboard over one store.</summary>
internal static partial class ServeCommand
{
    [System.Text.RegularExpressions.GeneratedRegex(@"(?<![\w-])--([a-z][a-z-]*)")]
    private static partial System.Text.RegularExpressions.Regex OptionName();

    public static Command Create(IReadOnlyList<StrategyDescriptor> catalog, CliLogging logging)
    {
        var urls = new Option<string>("--urls") { Description = "addresses to listen on, separated by ';' [default: server.urls / KEEL__SERVER__URLS, else http://127.0.0.1:8080, this machine only]", HelpName = "URL" };
        var db = CliConfig.DbOption();
        var config = CliConfig.ConfigOption();
        var command = new Command("serve",
            "Serve runs over REST (/api, OpenAPI at /openapi/v1.json) and WebSocket, TradingView webhooks (/webhooks/tradingview/NAME), Prometheus metrics (/metrics) " +
            "and a dashboard (/), until Ctrl+C or SIGTERM. Every API call needs a bearer token from server.tokens (KEEL__SERVER__TOKENS__NAME__TOKEN and __SCOPE=read|trade); " +
            "with none configured, one trade token is made up and printed. See docs/server.md.")
        {
            urls, db, config,
        };
        command.SetAction((parse, ct) => RunAsync(parse, urls, db, config, catalog, logging, ct));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, Option<string> urlsOption, Option<string> dbOption, Option<string> configOption, IReadOnlyList<StrategyDescriptor> catalog, CliLogging logging, CancellationToken ct)
    {
        KeelServer server;
        string? madeUpToken = null;

        // Paper and live runs the server starts send the alerts the configuration asks for (docs/live.md).
        Keel.Runtime.RunServices? services = null;
        try
        {
            var configPath = parse.GetValue(configOption);
            var config = CliConfig.Load(configPath);
            var section = config.GetSection("server");
            var db = CliConfig.ResolveDb(parse.GetValue(dbOption), config) ?? throw new UsageException("keel serve needs a store; --db none was given");
            var tokens = Tokens(section);
            if (tokens.Count == 0)
            {
                madeUpToken = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
                tokens = [new ApiToken("generated", madeUpToken, TokenScope.Trade)];
            }

            var options = new ServerOptions
            {
                Urls = parse.GetValue(urlsOption) ?? section["urls"] ?? "http://127.0.0.1:8080",
                Db = db,
                Tokens = tokens,
                Webhooks = Webhooks(section),
                ClientBuffer = section["clientBuffer"] is string cb ? (int)RunOptions.Dec(cb, CliConfig.Name(config, "server:clientBuffer", "server.clientBuffer"), 16m, 1_000_000m, whole: true) : 4096,
                ResolveRun = (mode, opts) => Resolve(mode, opts, configPath, catalog),
                DecisionSymbols = section["decisionSymbols"] is string ds
                    ? ds.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(x => x.ToUpperInvariant()).ToHashSet(StringComparer.Ordinal)
                    : null,
                Services = services = CliServices.Create(configPath, logging, null, catalog, alerts: true, keepEvents: true),
            };
            server = await KeelServer.StartAsync(options, logging.Factory, ct).ConfigureAwait(false);
        }
        catch (UsageException ex)
        {
            return logging.Fail(ex.Message, 2);
        }
        catch (ArgumentException ex)
        {
            return logging.Fail(ex.Message.Split(" (Parameter", 2)[0], 2);
        }
        catch (IOException ex)
        {
            return logging.Fail(ex.Message, 1);
        }
        catch (Keel.Storage.StorageException ex)
        {
            return logging.Fail(ex.Message, 1);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return 130;
        }

        await using (server.ConfigureAwait(false))
        {
            var address = server.BaseAddress.ToString().TrimEnd('/');
            Console.WriteLine($"Keel server on {string.Join(", ", server.Addresses.Select(a => a.ToString().TrimEnd('/')))}");
            Console.WriteLine($"  API       {address}/api   (OpenAPI: {address}/openapi/v1.json)");
            Console.WriteLine($"  metrics   {address}/metrics");
            if (madeUpToken is not null)
            {
                // Printed once for the person who started the server, never logged.
                Console.WriteLine($"  token     {madeUpToken}   (trade scope, for this process only; configure server.tokens to keep one)");
                Console.WriteLine($"  dashboard {address}/#token={madeUpToken}");
            }
            else
            {
                Console.WriteLine($"  dashboard {address}/#token=YOUR_TOKEN");
            }

            Console.WriteLine("Ctrl+C stops (runs snapshot and can be resumed).");
            try
            {
                await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            Console.WriteLine("stopping: runs snapshot and stop");
        }

        // After the runs: queued alerts get a few seconds to go out.
        if (services?.Alerts is { } alerts)
        {
            await alerts.DisposeAsync().ConfigureAwait(false);
        }

        return 0;
    }

    /// <summary><c>server.tokens.NAME.token</c> and <c>.scope</c> (read or trade).</summary>
    internal static IReadOnlyList<ApiToken> Tokens(IConfigurationSection server)
    {
        var list = new List<ApiToken>();
        foreach (var t in server.GetSection("tokens").GetChildren())
        {
            var token = t["token"] ?? throw new UsageException($"server.tokens.{t.Key} has no token (KEEL__SERVER__TOKENS__{t.Key.ToUpperInvariant()}__TOKEN)");
            var scope = (t["scope"] ?? "read").ToLowerInvariant() switch
            {
                "read" => TokenScope.Read,
                "trade" => TokenScope.Trade,
                var other => throw new UsageException($"server.tokens.{t.Key}.scope was '{other}'; it must be read or trade"),
            };
            if (token.Length < 16)
            {
                throw new UsageException($"server.tokens.{t.Key}.token has {token.Length} characters; a token needs at least 16 (e.g. openssl rand -hex 32)");
            }

            list.Add(new ApiToken(t.Key, token, scope));
        }

        return list;
    }

    /// <summary><c>server.webhooks.NAME</c>: secret, run, window (seconds) and allow (addresses, or 'tradingview').</summary>
    internal static IReadOnlyList<TradingViewHook> Webhooks(IConfigurationSection server)
    {
        var list = new List<TradingViewHook>();
        foreach (var w in server.GetSection("webhooks").GetChildren())
        {
            var secret = w["secret"] ?? throw new UsageException($"server.webhooks.{w.Key} has no secret (KEEL__SERVER__WEBHOOKS__{w.Key.ToUpperInvariant()}__SECRET)");
            if (secret.Length < 16)
            {
                throw new UsageException($"server.webhooks.{w.Key}.secret has {secret.Length} characters; a secret needs at least 16");
            }

            var run = w["run"] ?? throw new UsageException($"server.webhooks.{w.Key} has no run: the id of the run its alerts trade in");
            double window = w["window"] is string text
                ? double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double s) && s > 0 && s <= 86_400 ? s
                    : throw new UsageException($"server.webhooks.{w.Key}.window was '{text}'; it must be seconds, from 1 to 86400")
                : 60;
            var allow = (w["allow"] ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .SelectMany(a => a.Equals("tradingview", StringComparison.OrdinalIgnoreCase) ? TradingViewHook.TradingViewAddresses : [a]).ToList();
            foreach (var a in allow)
            {
                if (!System.Net.IPAddress.TryParse(a, out _))
                {
                    throw new UsageException($"server.webhooks.{w.Key}.allow has '{a}'; give IP addresses separated by commas, or 'tradingview'");
                }
            }

            list.Add(new TradingViewHook { Name = w.Key, Secret = secret, Run = run, Window = TimeSpan.FromSeconds(window), AllowFrom = allow });
        }

        return list;
    }

    /// <summary>An API run request resolved exactly as the same options on the command line would be.</summary>
    internal static RunSpec Resolve(string mode, IReadOnlyList<KeyValuePair<string, string>> options, string? configPath, IReadOnlyList<StrategyDescriptor> catalog)
    {
        var runOptions = new RunOptions(paper: mode == "paper", catalog, live: mode == "live");
        var command = new Command(mode);
        foreach (var o in runOptions.All)
        {
            command.Options.Add(o);
        }

        var args = new List<string>();
        foreach (var (name, value) in options)
        {
            var option = runOptions.All.FirstOrDefault(o => o.Name == "--" + name || (name == "params" && o.Name == "--param"));
            if (option is null)
            {
                var near = Suggestions.Closest("--" + name, runOptions.All.Select(o => o.Name)) is string s ? $"; did you mean '{s.TrimStart('-')}'?" : string.Empty;
                throw new UsageException($"options.{name} is not an option of 'keel {mode}'{near}");
            }

            args.Add(option.Name);
            if (option.ValueType != typeof(bool))
            {
                args.Add(value);
            }
            else if (value != "true")
            {
                throw new UsageException($"options.{name} is a switch; give true or false");
            }
        }

        if (configPath is not null)
        {
            args.Add("--config");
            args.Add(configPath);
        }

        try
        {
            var parse = command.Parse(args);
            if (parse.Errors.Count > 0)
            {
                throw new UsageException(ParseErrors.Describe(parse));
            }

            return runOptions.Resolve(parse);
        }
        catch (UsageException ex)
        {
            // The request named its options without dashes: say "options.cash", not "--cash".
            throw new UsageException(OptionName().Replace(ex.Message, "options.$1"));
        }
    }
}
