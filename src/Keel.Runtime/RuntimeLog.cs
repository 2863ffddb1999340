using Microsoft.Extensions.Logging;

namespace Keel.Runtime;

/// <summary>
/// The runtime's log entries: event ids 1000–1999 (docs/logging.md lists each and what to do about it). One entry per
/// step of a run's life, never one per bar, tick or order.
/// </summary>
internal static partial class RuntimeLog
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "run {RunId} started: {Mode} of {Strategy} on {Sources}; store {Store}")]
    public static partial void RunStarted(ILogger logger, string runId, string mode, string strategy, string sources, string store);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "run {RunId} resumed from {From}")]
    public static partial void RunResumed(ILogger logger, string runId, string from);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "run {RunId} completed: {DataEvents} data events, {Orders} orders, final equity {FinalEquity}")]
    public static partial void RunCompleted(ILogger logger, string runId, long dataEvents, long orders, Keel.Domain.Money finalEquity);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "run {RunId} stopped after {DataEvents} data events; it can be resumed")]
    public static partial void RunStopped(ILogger logger, string runId, long dataEvents);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Information, Message = "run {RunId} halted: {Reason}")]
    public static partial void RunHalted(ILogger logger, string runId, string reason);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Information, Message = "run {RunId} failed: {Reason}")]
    public static partial void RunFailed(ILogger logger, string runId, string reason);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Warning, Message = "run {RunId}: its staged output files are missing or shorter than its last snapshot; it starts again from the beginning")]
    public static partial void StagedOutputsBehind(ILogger logger, string runId);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Information, Message = "run {RunId} trades on the {Venue} feed: {Symbols}")]
    public static partial void LiveFeedOpened(ILogger logger, string runId, string venue, string symbols);

    /// <summary>The category every runtime entry is written under.</summary>
    public const string Category = "Keel.Runtime";
}
