using Microsoft.Extensions.Logging;

namespace Keel.Sandbox;

/// <summary>The sandbox server's log entries: event ids 3000–3999 (docs/logging.md lists each and what to do about it).</summary>
internal static partial class SandboxLog
{
    [LoggerMessage(EventId = 3000, Level = LogLevel.Information, Message = "{Venue} sandbox listening on {Url}")]
    public static partial void Listening(ILogger logger, string venue, Uri url);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "{Venue}: stream client {Session} connected")]
    public static partial void ClientConnected(ILogger logger, string venue, long session);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information, Message = "{Venue}: stream client {Session} disconnected")]
    public static partial void ClientDisconnected(ILogger logger, string venue, long session);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "fault drill: {Faults}")]
    public static partial void FaultsChanged(ILogger logger, string faults);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Information, Message = "{Venue}: the replay reached the end of its data")]
    public static partial void ReplayCompleted(ILogger logger, string venue);

    [LoggerMessage(EventId = 3100, Level = LogLevel.Warning, Message = "Alpaca trading fault drill {Fault} applied to {Path}")]
    public static partial void TradingFault(ILogger logger, string fault, string path);

    [LoggerMessage(EventId = 3101, Level = LogLevel.Warning, Message = "Alpaca trading: {Method} {Path} could not be handled and was answered 422")]
    public static partial void TradingRequestFailed(ILogger logger, string method, string path, Exception exception);

    /// <summary>The category every sandbox entry is written under.</summary>
    public const string Category = "Keel.Sandbox";
}
