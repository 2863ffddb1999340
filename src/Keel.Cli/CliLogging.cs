using System.CommandLine;
using System.Text.Json;
using Keel.Engine.Data;
using Keel.Engine.Persistence;
using Keel.Engine.Strategies;
using Keel.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Keel.Cli;

/// <summary>
/// What keel writes on stderr, and how: the logger factory every command hands to the libraries (Microsoft.Extensions.Logging
/// with the console logger, configured in code: no reflection-bound options), and the CLI's own errors, warnings and
/// notes. <c>--log-format text</c> (the default) renders them for people, one line each; <c>--log-format json</c> makes
/// every stderr line one JSON object (Timestamp, EventId, LogLevel, Category, Message, State) for a service manager.
/// stdout is the rendered result either way.
/// </summary>
internal sealed class CliLogging : IDisposable
{
    private DeferredLoggerFactory? _factory;
    private ILogger _cli = NullLogger.Instance;

    /// <summary>Given on the root command, so every command takes it.</summary>
    public Option<string> FormatOption { get; } = new("--log-format")
    {
        Description = "how log entries are written to stderr: 'text' (one readable line each) or 'json' (one JSON object per line, for a service manager; keel's own errors and notes become entries too) [default: logging.format / KEEL__LOGGING__FORMAT, else text]",
        HelpName = "text|json",
        Recursive = true,
    };

    public Option<string> LevelOption { get; } = new("--log-level")
    {
        Description = "the least severe entries written: trace, debug, information, warning, error, critical or none [default: logging.level / KEEL__LOGGING__LEVEL, else warning for text and information for json]",
        HelpName = "LEVEL",
        Recursive = true,
    };

    /// <summary>Entries are JSON objects: the CLI's own stderr lines go through the logger too.</summary>
    public bool Json { get; private set; }

    public LogLevel Level { get; private set; } = LogLevel.Warning;

    /// <summary>The factory the libraries log through (nothing is logged before <see cref="Open"/>).</summary>
    public ILoggerFactory Factory => _factory is null ? NullLoggerFactory.Instance : _factory;

    /// <summary>
    /// Picks the format and level (command line, else the <c>logging</c> section of keel.json or <c>KEEL__LOGGING__…</c>)
    /// and creates the factory; returns what is wrong with a setting, or null.
    /// </summary>
    public string? Open(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var config = TolerantConfig(parse);
        string? problem = null;
        string? formatText = Value(parse, FormatOption) ?? config?.GetSection("logging")["format"];
        string formatName = Value(parse, FormatOption) is not null ? "--log-format" : config is null ? "--log-format" : CliConfig.Name(config, "logging:format", "--log-format");
        if (formatText is not null && !string.Equals(formatText, "text", StringComparison.OrdinalIgnoreCase))
        {
            if (string.Equals(formatText, "json", StringComparison.OrdinalIgnoreCase))
            {
                Json = true;
            }
            else
            {
                problem = $"{formatName} was '{formatText}'; it must be text or json";
            }
        }

        Level = Json ? LogLevel.Information : LogLevel.Warning;
        string? levelText = Value(parse, LevelOption) ?? config?.GetSection("logging")["level"];
        string levelName = Value(parse, LevelOption) is not null ? "--log-level" : config is null ? "--log-level" : CliConfig.Name(config, "logging:level", "--log-level");
        if (levelText is not null)
        {
            if (ParseLevel(levelText) is LogLevel level)
            {
                Level = level;
            }
            else
            {
                problem ??= $"{levelName} was '{levelText}'; it must be trace, debug, information, warning, error, critical or none";
            }
        }

        bool json = Json;
        var minimum = Level;
        _factory = new DeferredLoggerFactory(minimum, () => Create(json, minimum));
        _cli = _factory.CreateLogger(CliLog.Category);
        return problem;
    }

    /// <summary>The console logger, configured in code: every entry to stderr, one line each (text) or one JSON object each.</summary>
    internal static ILoggerFactory Create(bool json, LogLevel level) => LoggerFactory.Create(builder =>
    {
        builder.SetMinimumLevel(level);
        builder.AddConsole(o =>
        {
            o.LogToStandardErrorThreshold = LogLevel.Trace;
            o.FormatterName = json ? ConsoleFormatterNames.Json : ConsoleFormatterNames.Simple;
        });
        if (json)
        {
            builder.AddJsonConsole(o =>
            {
                o.IncludeScopes = false;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                o.JsonWriterOptions = new JsonWriterOptions { Indented = false };
            });
        }
        else
        {
            builder.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.IncludeScopes = false;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "HH:mm:ss ";
                o.ColorBehavior = LoggerColorBehavior.Disabled;
            });
        }
    });

    internal static LogLevel? ParseLevel(string text) => text.Trim().ToLowerInvariant() switch
    {
        "trace" => LogLevel.Trace,
        "debug" => LogLevel.Debug,
        "information" or "info" => LogLevel.Information,
        "warning" or "warn" => LogLevel.Warning,
        "error" => LogLevel.Error,
        "critical" => LogLevel.Critical,
        "none" => LogLevel.None,
        _ => null,
    };

    /// <summary>A failure, one line: <c>keel: error: …</c> for people, an error entry (event 5000) as JSON. Returns <paramref name="code"/>.</summary>
    public int Fail(string message, int code)
    {
        if (Json)
        {
            CliLog.CommandFailed(_cli, message, code);
        }
        else
        {
            Console.Error.WriteLine($"keel: error: {message}");
        }

        return code;
    }

    /// <summary>Something the user should know that did not stop the command: <c>keel: warning: …</c>, or event 5001.</summary>
    public void Warning(string message)
    {
        if (Json)
        {
            CliLog.Warning(_cli, message);
        }
        else
        {
            Console.Error.WriteLine($"keel: warning: {message}");
        }
    }

    /// <summary>Information for the user on stderr: <c>keel: …</c>, or event 5002.</summary>
    public void Note(string message)
    {
        if (Json)
        {
            CliLog.Note(_cli, message);
        }
        else
        {
            Console.Error.WriteLine($"keel: {message}");
        }
    }

    /// <summary>The developer timings of <c>KEEL_TIMINGS=1</c>: a bare line, or event 5003.</summary>
    public void Timings(string line)
    {
        if (Json)
        {
            CliLog.Timings(_cli, line);
        }
        else
        {
            Console.Error.WriteLine(line);
        }
    }

    /// <summary>Runs <paramref name="action"/>, turning every expected failure into one line on stderr and an exit code.</summary>
    public int Guard(Func<int> action, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(action);
        try
        {
            return action();
        }
        catch (UsageException ex)
        {
            return Fail(ex.Message, 2);
        }
        catch (StrategyConfigurationException ex)
        {
            return Fail(ex.Message, 2);
        }
        catch (DataFormatException ex)
        {
            return Fail(ex.Message, 1);
        }
        catch (StorageException ex)
        {
            return Fail(ex.Message, 1);
        }
        catch (JournalException ex)
        {
            return Fail(ex.Message, 1);
        }
        catch (SnapshotException ex)
        {
            return Fail(ex.Message, 1);
        }
        catch (Keel.Venues.Http.VenueRequestException ex)
        {
            return Fail(ex.Message, 1);
        }
        catch (Keel.Engine.Ports.FeedFailedException ex)
        {
            return Fail(ex.Message, 1);
        }
        catch (Keel.Runtime.Live.ReconciliationException ex)
        {
            // The venue differs from the run in ways Keel cannot explain: the report, and nothing changed.
            return Fail($"{ex.Message}{Environment.NewLine}resolve the differences at the venue, or continue with: keel live --resume ID --adopt", 4);
        }
        catch (Keel.Engine.Ports.VenueQueryException ex)
        {
            return Fail($"the venue did not answer: {ex.Message}", 1);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return Fail("interrupted; no results were written", 130);
        }
        catch (IOException ex)
        {
            return Fail(ex.Message, 1);
        }
        catch (Exception ex) when (Environment.GetEnvironmentVariable("KEEL_DEBUG") is null)
        {
            // A bug in Keel. One line for the user; KEEL_DEBUG=1 shows the stack trace.
            return Fail($"internal error: {ex.GetType().Name}: {ex.Message} (set KEEL_DEBUG=1 for details)", 70);
        }
    }

    /// <summary>Flushes what the console logger still holds (it writes on its own thread).</summary>
    public void Dispose() => _factory?.Dispose();

    private static string? Value(ParseResult parse, Option<string> option)
    {
        try
        {
            return parse.GetValue(option);
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>
    /// The configuration as the command will read it, for the <c>logging</c> section only; a file or variable that does
    /// not load is left for the command itself to report.
    /// </summary>
    private static IConfiguration? TolerantConfig(ParseResult parse)
    {
        try
        {
            var configOption = parse.CommandResult.Command.Options.OfType<Option<string>>().FirstOrDefault(o => o.Name == "--config");
            var path = configOption is null ? null : parse.GetValue(configOption);
            var file = path ?? (File.Exists("keel.json") ? "keel.json" : null);
            var builder = new ConfigurationBuilder();
            if (file is not null && File.Exists(file))
            {
                builder.AddJsonFile(Path.GetFullPath(file), optional: true);
            }

            builder.AddEnvironmentVariables(CliConfig.EnvironmentPrefix);
            return builder.Build();
        }
        catch (Exception ex) when (ex is FormatException or InvalidDataException or IOException or UnauthorizedAccessException or InvalidOperationException or JsonException)
        {
            return null;
        }
    }
}
