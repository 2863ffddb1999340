using System.CommandLine;
using Keel.Storage;
using Microsoft.Extensions.Configuration;

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

    public static IConfiguration Load(string? configPath)
    {
        var builder = new ConfigurationBuilder();
        if (configPath is not null)
        {
            if (!File.Exists(configPath))
            {
                throw new UsageException($"configuration file {configPath} does not exist");
            }

            builder.AddJsonFile(Path.GetFullPath(configPath), optional: false);
        }
        else if (File.Exists("keel.json"))
        {
            builder.AddJsonFile(Path.GetFullPath("keel.json"), optional: true);
        }

        builder.AddEnvironmentVariables("KEEL__");
        try
        {
            return builder.Build();
        }
        catch (Exception ex) when (ex is FormatException or InvalidDataException or IOException)
        {
            throw new UsageException($"configuration file {configPath ?? "keel.json"} is not valid JSON: {ex.GetBaseException().Message}");
        }
    }

    /// <summary>The store target: <c>--db</c>, else <c>storage:db</c>, else the per-user default; null for 'none'.</summary>
    public static string? ResolveDb(string? commandLine, IConfiguration config)
    {
        var target = commandLine ?? config.GetSection("storage")["db"] ?? KeelStore.DefaultLocation();
        target = target.Trim();
        if (target.Length == 0)
        {
            throw new UsageException("--db is empty; give a SQLite file path, a PostgreSQL connection string or 'none'");
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
