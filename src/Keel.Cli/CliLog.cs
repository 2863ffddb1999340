using Microsoft.Extensions.Logging;

namespace Keel.Cli;

/// <summary>
/// The CLI's own log entries: event ids 5000–5999 (docs/logging.md). With <c>--log-format json</c> everything keel says
/// on stderr is one of these, so a service manager reads one JSON object per line; as text, the CLI renders the same
/// sentences for people (<c>keel: error: …</c>).
/// </summary>
internal static partial class CliLog
{
    [LoggerMessage(EventId = 5000, Level = LogLevel.Error, Message = "{Message} (exit status {ExitCode})")]
    public static partial void CommandFailed(ILogger logger, string message, int exitCode);

    [LoggerMessage(EventId = 5001, Level = LogLevel.Warning, Message = "{Message}")]
    public static partial void Warning(ILogger logger, string message);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Information, Message = "{Message}")]
    public static partial void Note(ILogger logger, string message);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Information, Message = "{Message}")]
    public static partial void Timings(ILogger logger, string message);

    /// <summary>The category of the CLI's entries.</summary>
    public const string Category = "Keel.Cli";
}
