using Microsoft.Extensions.Logging;

namespace Keel.Pipeline;

/// <summary>The pipeline's log events (6000–6999, docs/logging.md).</summary>
internal static partial class PipelineLog
{
    [LoggerMessage(EventId = 6000, Level = LogLevel.Information, Message = "decision {DecisionId}: {Outcome}")]
    public static partial void DecisionExecuted(ILogger logger, long decisionId, string outcome);

    [LoggerMessage(EventId = 6001, Level = LogLevel.Warning, Message = "decision {DecisionId}: the venue's answer to order {ClientOrderId} is unknown ({Reason}); the next run looks it up before anything is sent again")]
    public static partial void OutcomeUnknown(ILogger logger, long decisionId, string clientOrderId, string reason);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Warning, Message = "order {ClientOrderId} was refused by the venue: {Reason}")]
    public static partial void OrderRejected(ILogger logger, string clientOrderId, string reason);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Warning, Message = "{Stage}: {What} failed and is retried at the next run: {Reason}")]
    public static partial void StepFailed(ILogger logger, string stage, string what, string reason);

    [LoggerMessage(EventId = 6004, Level = LogLevel.Information, Message = "trade {TradeId} ({Symbol}): position of {Quantity} at {Price}")]
    public static partial void PositionOpened(ILogger logger, long tradeId, string symbol, decimal quantity, decimal price);

    [LoggerMessage(EventId = 6005, Level = LogLevel.Information, Message = "trade {TradeId} ({Symbol}) closed at {Price}: {Reason}, P&L {Pnl}")]
    public static partial void TradeClosed(ILogger logger, long tradeId, string symbol, decimal price, Keel.Storage.Pipeline.ExitReason reason, decimal pnl);

    [LoggerMessage(EventId = 6006, Level = LogLevel.Error, Message = "trade {TradeId} ({Symbol}): both its stop-loss and its take-profit filled; the position may now be reversed at the venue")]
    public static partial void BothExitsFilled(ILogger logger, long tradeId, string symbol);

    [LoggerMessage(EventId = 6007, Level = LogLevel.Information, Message = "{Symbol}: no quote; position of trade {TradeId} not valued")]
    public static partial void NoQuote(ILogger logger, string symbol, long tradeId);

    [LoggerMessage(EventId = 6008, Level = LogLevel.Warning, Message = "trade {TradeId} ({Symbol}) has no position at the venue any more: closed outside Keel, reconciled as {Reason} at {Price}")]
    public static partial void ClosedOutside(ILogger logger, long tradeId, string symbol, Keel.Storage.Pipeline.ExitReason? reason, decimal? price);
    [LoggerMessage(EventId = 6009, Level = LogLevel.Information, Message = "pipeline scheduler started on node {Node}: {Store}, {Schedule}")]
    public static partial void SchedulerStarted(ILogger logger, string node, string store, string schedule);

    [LoggerMessage(EventId = 6010, Level = LogLevel.Information, Message = "{Stage} firing of {FireTime:O} started on node {Node}")]
    public static partial void FiringStarted(ILogger logger, string stage, DateTimeOffset fireTime, string node);

    [LoggerMessage(EventId = 6011, Level = LogLevel.Information, Message = "{Stage} firing of {FireTime:O}: {Outcome}")]
    public static partial void FiringFinished(ILogger logger, string stage, DateTimeOffset fireTime, string outcome);

    [LoggerMessage(EventId = 6012, Level = LogLevel.Warning, Message = "{Stage} firing of {FireTime:O} was already claimed by another run; node {Node} skips it")]
    public static partial void FiringAlreadyClaimed(ILogger logger, string stage, DateTimeOffset fireTime, string node);

    [LoggerMessage(EventId = 6013, Level = LogLevel.Error, Message = "{Stage} firing of {FireTime:O} failed: {Reason}")]
    public static partial void FiringFailed(ILogger logger, string stage, DateTimeOffset fireTime, string reason);

    [LoggerMessage(EventId = 6014, Level = LogLevel.Information, Message = "pipeline scheduler on node {Node} stopped")]
    public static partial void SchedulerStopped(ILogger logger, string node);

    [LoggerMessage(EventId = 6015, Level = LogLevel.Warning, Message = "decision {DecisionId}: entry {ClientOrderId} denied by the risk gate: {Reason}")]
    public static partial void RiskDenied(ILogger logger, long decisionId, string clientOrderId, string reason);
}
