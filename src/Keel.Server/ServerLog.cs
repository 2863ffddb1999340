using Microsoft.Extensions.Logging;

namespace Keel.Server;

/// <summary>The server's log messages (fixed event ids 7000–7099). Tokens and webhook secrets never appear in them.</summary>
internal static partial class ServerLog
{
    public const string Category = "Keel.Server";

    [LoggerMessage(7000, LogLevel.Information, "Keel server listening on {Address}")]
    public static partial void Listening(ILogger logger, string address);

    [LoggerMessage(7001, LogLevel.Information, "Run {RunId} started ({Strategy}, {Kind})")]
    public static partial void RunStarted(ILogger logger, string runId, string strategy, string kind);

    [LoggerMessage(7002, LogLevel.Information, "Run {RunId}: {Command} by token '{Token}'")]
    public static partial void Command(ILogger logger, string runId, string command, string token);

    [LoggerMessage(7003, LogLevel.Warning, "WebSocket client of {Stream} disconnected: {Reason}")]
    public static partial void ClientDropped(ILogger logger, string stream, string reason);

    [LoggerMessage(7004, LogLevel.Warning, "TradingView webhook '{Hook}' refused from {Remote}: {Reason}")]
    public static partial void WebhookRefused(ILogger logger, string hook, string remote, string reason);

    [LoggerMessage(7005, LogLevel.Information, "TradingView webhook '{Hook}' alert {Key}: order {OrderId} {Status} {Reason}")]
    public static partial void WebhookOrder(ILogger logger, string hook, string key, string orderId, string status, string? reason);

    [LoggerMessage(7006, LogLevel.Error, "Request {Method} {Path} failed")]
    public static partial void RequestFailed(ILogger logger, Exception exception, string method, string path);

    [LoggerMessage(7007, LogLevel.Information, "Decision {DecisionId} {What} by token '{Token}'")]
    public static partial void DecisionCommand(ILogger logger, long decisionId, string what, string token);
}
