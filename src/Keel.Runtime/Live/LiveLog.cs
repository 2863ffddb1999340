using Microsoft.Extensions.Logging;

namespace Keel.Runtime.Live;

/// <summary>
/// Live trading's log entries: event ids 1100–1199 of the runtime's block (docs/logging.md lists each and what to do
/// about it). Per request, not per tick; never a credential.
/// </summary>
internal static partial class LiveLog
{
    [LoggerMessage(EventId = 1100, Level = LogLevel.Debug, Message = "run {RunId}: {Request} of {ClientOrderId} answered {Outcome} (request {RequestId})")]
    public static partial void Answered(ILogger logger, string runId, string request, string clientOrderId, Keel.Engine.Ports.VenueOutcomeKind outcome, string requestId);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "run {RunId}: the answer to order {ClientOrderId} from {Venue} was lost ({Reason}); it is UNKNOWN until a lookup finds it")]
    public static partial void AnswerLost(ILogger logger, string runId, string clientOrderId, string venue, string reason);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "run {RunId}: {Venue} rate-limited a request; sending it again in {Seconds} s")]
    public static partial void RateLimited(ILogger logger, string runId, string venue, double seconds);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Warning, Message = "run {RunId}: order {ClientOrderId} never reached {Venue}; sending it once more under the same client id")]
    public static partial void Resending(ILogger logger, string runId, string clientOrderId, string venue);

    [LoggerMessage(EventId = 1104, Level = LogLevel.Warning, Message = "run {RunId}: reconciliation with {Venue} failed ({Reason}); it is tried again at the next round")]
    public static partial void ReconcileFailed(ILogger logger, string runId, string venue, string reason);

    [LoggerMessage(EventId = 1105, Level = LogLevel.Error, Message = "run {RunId}: orders are no longer sent: {Reason}")]
    public static partial void SenderStopped(ILogger logger, string runId, string reason);

    [LoggerMessage(EventId = 1106, Level = LogLevel.Information, Message = "run {RunId}: cancelling {Count} working orders as it stops")]
    public static partial void CancellingOnStop(ILogger logger, string runId, int count);

    [LoggerMessage(EventId = 1107, Level = LogLevel.Warning, Message = "run {RunId}: disconnecting from {Venue} failed: {Reason}")]
    public static partial void DisconnectFailed(ILogger logger, string runId, string venue, string reason);

    [LoggerMessage(EventId = 1108, Level = LogLevel.Information, Message = "run {RunId}: reconciled with {Venue}: {Summary}")]
    public static partial void Reconciled(ILogger logger, string runId, string venue, string summary);

    [LoggerMessage(EventId = 1109, Level = LogLevel.Warning, Message = "run {RunId}: {Venue} differs from the run in ways it cannot explain: {Summary}")]
    public static partial void Unexplained(ILogger logger, string runId, string venue, string summary);

    [LoggerMessage(EventId = 1110, Level = LogLevel.Information, Message = "run {RunId}: {Venue} differs from the run in a way it cannot explain yet; checking again before halting")]
    public static partial void Unconfirmed(ILogger logger, string runId, string venue);
}
