using System.CommandLine;
using System.Text.Json;
using Keel.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Microsoft.Extensions.FileProviders;

namespace Keel.Cli;

/// <summary>
/// Configuration shared by every command: the JSON file (<c>--config</c>, else <c>./keel.json</c>) overlaid by
/// <c>KEEL__SECTION__KEY</c> environment variables; the command line overrides both.
/// </summary>
internal static class CliConfig
{
    public const string NoDatabase = "none";

    public static Option<string> ConfigOption() =>
        new("--config") { Description = "JSON configuration file [default: ./keel.json if present]; KEEL__SECTION__KEY environment variables override it", HelpName = "FILE" };

    public static Option<string> DbOption() =>
        new("--db")
        {
            Description = $"the store: a SQLite file path, or a PostgreSQL connection string (Host=…;Database=…, or postgres://…); 'none' records nothing [default: storage:db from configuration / KEEL__STORAGE__DB, else {KeelStore.DefaultLocation()}]",
            HelpName = "PATH|CONNECTION",
        };

    /// <summary>Environment variables with this prefix are Keel's: <c>KEEL__SECTION__KEY</c>.</summary>
    public const string EnvironmentPrefix = "KEEL__";

    /// <summary>Runs read <c>params</c> (any names: the strategy checks them) under these sections.</summary>
    private const string Params = "params";

    /// <summary>
    /// Every setting keel reads from configuration, by section; anything else is a typo and an error. Keep it in step
    /// with the code that reads the sections (RunOptions, CliConfig.ResolveDb, VenueConfig, RecordCommand, CliLogging).
    /// </summary>
    private static readonly Dictionary<string, string[]> Known = new(StringComparer.OrdinalIgnoreCase)
    {
        ["backtest"] = RunOptions.ConfigKeys,
        ["paper"] = RunOptions.ConfigKeys,
        ["live"] = RunOptions.ConfigKeys,
        ["storage"] = ["db", "snapshotEvery", "snapshotSeconds"],
        ["alpaca"] = ["key", "secret", "feed", "stream_url", "streamUrl", "rest_url", "restUrl", "data_url", "trading_url", "tradingUrl", .. VenueConfig.PolicyKeys],
        ["oanda"] = ["token", "account", "stream_url", "streamUrl", "rest_url", "restUrl", "url", .. VenueConfig.PolicyKeys],
        ["record"] = ["timeframe"],
        ["logging"] = ["format", "level"],
        ["alerts"] = AlertConfig.Keys,
        ["server"] = ["urls", "tokens", "webhooks", "clientBuffer"],
    };

    /// <summary>Settings that are sections of named entries (<c>server.tokens.NAME.token</c>), not single values.</summary>
    private static readonly string[] Named = ["server:tokens", "server:webhooks"];

    public static IConfiguration Load(string? configPath)
    {
        if (configPath is not null && !File.Exists(configPath))
        {
            throw new UsageException($"configuration file {configPath} does not exist");
        }

        var file = configPath ?? (File.Exists("keel.json") ? "keel.json" : null);
        var builder = new ConfigurationBuilder();
        if (file is not null)
        {
            CheckJson(file);
            builder.AddJsonFile(Path.GetFullPath(file), optional: false);
        }

        builder.AddEnvironmentVariables(EnvironmentPrefix);
        IConfigurationRoot root;
        try
        {
            root = builder.Build();
        }
        catch (Exception ex) when (ex is FormatException or InvalidDataException or IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"{file ?? "keel.json"}: {ex.GetBaseException().Message}");
        }

        CheckKeys(root);
        return root;
    }

    /// <summary>
    /// Where the setting <paramref name="key"/> (<c>section:key</c>) comes from, for messages: <c>keel.json: backtest.cash</c>
    /// or <c>KEEL__BACKTEST__CASH</c>; null when no source sets it.
    /// </summary>
    public static string? Source(IConfiguration config, string key)
    {
        if (config is not IConfigurationRoot root)
        {
            return null;
        }

        // The last provider that has the key is the one whose value is used.
        foreach (var provider in root.Providers.Reverse())
        {
            if (provider.TryGet(key, out var value) && value is not null)
            {
                return Label(provider, key);
            }
        }

        return null;
    }

    /// <summary>The name of a setting in messages: where it came from, else <paramref name="fallback"/> (the option).</summary>
    public static string Name(IConfiguration config, string key, string fallback) => Source(config, key) ?? fallback;

    private static string Label(IConfigurationProvider provider, string key) => provider switch
    {
        EnvironmentVariablesConfigurationProvider => EnvironmentName(key),
        FileConfigurationProvider f => $"{FileName(f)}: {key.Replace(':', '.')}",
        _ => key.Replace(':', '.'),
    };

    private static string EnvironmentName(string key) => EnvironmentPrefix + key.Replace(":", "__", StringComparison.Ordinal).ToUpperInvariant();

    private static string FileName(FileConfigurationProvider provider)
    {
        var full = provider.Source.FileProvider is PhysicalFileProvider physical ? Path.Combine(physical.Root, provider.Source.Path ?? string.Empty) : provider.Source.Path ?? "keel.json";
        var relative = Path.GetRelativePath(Environment.CurrentDirectory, full);
        return relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative) ? full : relative;
    }

    /// <summary>The file must be one JSON object; a syntax error is reported with its line and column.</summary>
    private static void CheckJson(string file)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(file);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"cannot read configuration file {file}: {ex.Message}");
        }

        try
        {
            using var doc = JsonDocument.Parse(bytes, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new UsageException($"{file} holds a JSON {doc.RootElement.ValueKind.ToString().ToLowerInvariant()}; it must be one object of sections, e.g. {{\"backtest\": {{\"cash\": 50000}}}}");
            }
        }
        catch (JsonException ex)
        {
            if (System.Text.Encoding.UTF8.GetString(bytes).Trim(' ', '\t', '\r', '\n', '\uFEFF').Length == 0)
            {
                throw new UsageException($"{file} is empty; it must hold one JSON object of sections, e.g. {{\"backtest\": {{\"cash\": 50000}}}}");
            }

            var what = ex.Message;
            int cut = what.IndexOf(" Path:", StringComparison.Ordinal) is int p and >= 0 ? p : what.IndexOf(" LineNumber:", StringComparison.Ordinal);
            what = (cut >= 0 ? what[..cut] : what).Trim().TrimEnd('.');
            var at = ex.LineNumber is long line ? $"line {line + 1}, column {(ex.BytePositionInLine ?? 0) + 1}: " : string.Empty;
            throw new UsageException($"{file} is not valid JSON: {at}{what}");
        }
    }

    /// <summary>Every key from the file and from KEEL__ variables must be one keel reads: a typo would otherwise be ignored.</summary>
    private static void CheckKeys(IConfigurationRoot root)
    {
        foreach (var provider in root.Providers)
        {
            bool env = provider is EnvironmentVariablesConfigurationProvider;
            string Where(string key) => env ? EnvironmentName(key) : Label(provider, key);
            string Show(string key) => env ? EnvironmentName(key) : key.Replace(':', '.');
            foreach (var section in provider.GetChildKeys([], null).Distinct(StringComparer.OrdinalIgnoreCase))
            {
                if (!Known.TryGetValue(section, out var keys))
                {
                    var hint = Suggestions.Closest(section, Known.Keys) is string s ? $"; did you mean '{Show(s)}'?" : $" (keel reads {string.Join(", ", Known.Keys)})";
                    throw new UsageException(env
                        ? $"{Where(section)} is not a Keel setting: there is no section '{section}'{hint}"
                        : $"{Where(section)} is not a section keel reads{hint}");
                }

                if (provider.TryGet(section, out var scalar) && !string.IsNullOrEmpty(scalar))
                {
                    throw new UsageException($"{Where(section)} was '{scalar}'; it must be a section of settings, e.g. {{\"{section}\": {{\"{keys[0]}\": …}}}}");
                }

                foreach (var key in provider.GetChildKeys([], section).Distinct(StringComparer.OrdinalIgnoreCase))
                {
                    var path = $"{section}:{key}";
                    if ((key.Equals(Params, StringComparison.OrdinalIgnoreCase) && keys.Contains(Params, StringComparer.OrdinalIgnoreCase)) || Named.Contains(path, StringComparer.OrdinalIgnoreCase))
                    {
                        continue;
                    }

                    if (keys.Contains(key, StringComparer.OrdinalIgnoreCase))
                    {
                        if (provider.GetChildKeys([], path).Any())
                        {
                            throw new UsageException($"{Where(path)} must be a single value, not a section");
                        }

                        continue;
                    }

                    var near = Suggestions.Closest(key, keys) is string k ? $"; did you mean '{Show($"{section}:{k}")}'?" : $" ({section} settings: {string.Join(", ", keys)})";
                    throw new UsageException(env
                        ? $"{Where(path)} is not a Keel setting: section '{section}' has no key '{key}'{near}"
                        : $"{Where(path)} is not a setting keel reads{near}");
                }
            }
        }
    }

    /// <summary>The store target: <c>--db</c>, else <c>storage:db</c>, else the per-user default; null for 'none'.</summary>
    public static string? ResolveDb(string? commandLine, IConfiguration config)
    {
        var target = commandLine ?? config.GetSection("storage")["db"] ?? KeelStore.DefaultLocation();
        var name = commandLine is not null ? "--db" : Name(config, "storage:db", "--db");
        target = target.Trim();
        if (target.Length == 0)
        {
            throw new UsageException($"{name} is empty; give a SQLite file path, a PostgreSQL connection string or 'none'");
        }

        if (KeelStore.Problem(target) is string problem)
        {
            throw new UsageException($"{name}: {problem}");
        }

        return target.Equals(NoDatabase, StringComparison.OrdinalIgnoreCase) ? null : target;
    }

    /// <summary>Opens the store for a command that needs one.</summary>
    public static KeelStore OpenStore(ParseResult parse, Option<string> db, Option<string> configOption)
    {
        var config = Load(parse.GetValue(configOption));
        var target = ResolveDb(parse.GetValue(db), config)
            ?? throw new UsageException("this command needs a store; --db none was given");
        return KeelStore.Open(target);
    }
}
