using Keel.Domain.Orders;
using Keel.Engine.Clock;
using Keel.Engine.Ports;
using Keel.Storage;
using Keel.Storage.Pipeline;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Keel.Pipeline;

/// <summary>What one run of a stage did.</summary>
public sealed record StageResult(PipelineStage Stage, int Done, int Skipped, int Failed);

/// <summary>
/// Stage 1 (09:45 ET): places each approved, unexecuted decision exactly once. NEW_TRADE journals the trade (ORDERED)
/// and its entry order (pending) under a client id derived from the decision, then looks that id up at the venue and
/// sends the limit order only if the venue does not have it, then marks the decision executed. A crash at any point
/// leaves the decision unexecuted, and the next run finds the journaled order (and the venue's copy of it, if it was
/// sent) instead of sending again. CANCEL cancels the target decision's entry while it has not filled (trade CANCELLED);
/// AMEND does that, then places its own entry.
/// </summary>
public sealed class DecisionExecutor(PipelineStore store, IVenuePort venue, IClock clock, PipelineOptions? options = null, ILogger? logger = null, PipelineRiskGate? risk = null)
{
    private readonly PipelineOptions _options = options ?? new PipelineOptions();
    private readonly PipelineRiskGate _risk = risk ?? PipelineRiskGate.None;
    private readonly ILogger _log = logger ?? NullLogger.Instance;

    /// <summary>Starts the outcome of a decision whose entry the risk gate denied.</summary>
    public const string DeniedPrefix = "denied by the risk gate: ";

    public async Task<StageResult> RunOnceAsync(CancellationToken ct = default)
    {
        int done = 0, skipped = 0, failed = 0;
        foreach (var d in store.ApprovedUnexecuted())
        {
            ct.ThrowIfCancellationRequested();
            try
            {
                string? outcome = d.Action switch
                {
                    DecisionAction.NewTrade => await PlaceAsync(d, ct).ConfigureAwait(false),
                    DecisionAction.Cancel => await CancelTargetAsync(d, ct).ConfigureAwait(false),
                    _ => await AmendAsync(d, ct).ConfigureAwait(false),
                };
                if (outcome is null)
                {
                    skipped++;
                    continue;
                }

                store.MarkExecuted(d.Id, outcome, clock.Now);
                PipelineLog.DecisionExecuted(_log, d.Id, outcome);
                done++;
            }
            catch (Exception ex) when (VenueOrders.IsTransient(ex) || ex is StorageException { IsTransient: true })
            {
                PipelineLog.StepFailed(_log, "executor", $"decision {d.Id}", ex.Message);
                failed++;
            }
        }

        return new StageResult(PipelineStage.Executor, done, skipped, failed);
    }

    /// <summary>Places the decision's entry; the outcome in words, or null when it is not known yet (retry next run).</summary>
    private async Task<string?> PlaceAsync(Decision d, CancellationToken ct)
    {
        var (trade, entry) = store.OpenTrade(
            d,
            new NewOrderExecution(PipelineOrderType.Entry, VenueOrders.EntrySide(d.Side), d.Quantity!.Value, d.PlannedEntry, null, _options.EntryId(d.Id)),
            clock.Now);
        if (entry.Status == PipelineOrderStatus.Rejected && entry.Error is { } error)
        {
            // Denied or refused before a crash left the decision unexecuted: the same outcome again.
            return error.StartsWith(DeniedPrefix, StringComparison.Ordinal) ? error : $"rejected by the venue: {error}";
        }

        if (entry.Status != PipelineOrderStatus.Pending)
        {
            return $"placed {entry.ClientOrderId} (trade {trade.Id})";
        }

        if (await venue.GetOrderAsync(new(entry.ClientOrderId), ct).ConfigureAwait(false) is { } existing)
        {
            store.UpdateOrder(entry.Id, VenueOrders.Update(existing), clock.Now);
            return $"placed {entry.ClientOrderId} (trade {trade.Id}; found at the venue, not sent again)";
        }

        var tif = d.TradeStyle == TradeStyle.Day ? TimeInForce.Day : TimeInForce.Gtc;
        var command = VenueOrders.Command(entry, d.Symbol, tif, clock.Now);
        var verdict = await _risk.CheckAsync(venue, command, ct).ConfigureAwait(false);
        if (!verdict.Approved)
        {
            // Journaled: the entry row keeps the reason, the trade is cancelled, the decision executed with the reason.
            string denied = DeniedPrefix + verdict.Reason;
            store.UpdateOrder(entry.Id, new OrderUpdate(PipelineOrderStatus.Rejected, null, 0m, null, null, denied), clock.Now);
            store.CancelTrade(trade.Id, clock.Now);
            PipelineLog.RiskDenied(_log, d.Id, entry.ClientOrderId, verdict.Reason ?? "denied");
            return denied;
        }

        var answer = await venue.SubmitAsync(command, ct).ConfigureAwait(false);
        if (VenueOrders.AfterSubmit(answer) is not { } update)
        {
            PipelineLog.OutcomeUnknown(_log, d.Id, entry.ClientOrderId, answer.Reason ?? answer.Kind.ToString());
            return null;
        }

        store.UpdateOrder(entry.Id, update, clock.Now);
        if (update.Status == PipelineOrderStatus.Rejected)
        {
            PipelineLog.OrderRejected(_log, entry.ClientOrderId, update.Error ?? "rejected");
            store.CancelTrade(trade.Id, clock.Now);
            return $"rejected by the venue: {update.Error}";
        }

        return $"placed {entry.ClientOrderId} (trade {trade.Id})";
    }

    /// <summary>Cancels the target decision's entry; the outcome in words, or null to retry.</summary>
    private async Task<string?> CancelTargetAsync(Decision d, CancellationToken ct)
    {
        var target = d.TargetDecisionId is long t ? store.TradeOfDecision(t) : null;
        if (target is null)
        {
            return $"nothing to cancel: decision {d.TargetDecisionId} has no trade";
        }

        if (target.Status == TradeStatus.Cancelled)
        {
            return $"cancelled trade {target.Id} (it already was)";
        }

        if (target.Status != TradeStatus.Ordered)
        {
            return $"not cancelled: trade {target.Id} is {PipelineText.Of(target.Status)}";
        }

        var entry = store.OrdersOfTrade(target.Id).Single(o => o.OrderType == PipelineOrderType.Entry);
        var atVenue = await venue.GetOrderAsync(new(entry.ClientOrderId), ct).ConfigureAwait(false);
        if (atVenue is { IsOpen: true })
        {
            var answer = await venue.CancelAsync(new CancelOrder(new(entry.ClientOrderId), new(target.Symbol), clock.Now), ct).ConfigureAwait(false);
            if (!answer.IsAccepted)
            {
                return answer.Kind is VenueOutcomeKind.Unknown or VenueOutcomeKind.RateLimited ? null : $"not cancelled: the venue refused ({answer.Reason})";
            }

            atVenue = await venue.GetOrderAsync(new(entry.ClientOrderId), ct).ConfigureAwait(false);
        }

        if (atVenue is not null)
        {
            store.UpdateOrder(entry.Id, VenueOrders.Update(atVenue), clock.Now);
            if (!atVenue.FilledQuantity.IsZero)
            {
                return $"not cancelled: the entry of trade {target.Id} has filled {atVenue.FilledQuantity}; the order monitor takes the position";
            }

            if (atVenue.IsOpen)
            {
                return null;
            }
        }
        else
        {
            store.UpdateOrder(entry.Id, new OrderUpdate(PipelineOrderStatus.Cancelled, null, 0m, null, null), clock.Now);
        }

        store.CancelTrade(target.Id, clock.Now);
        return $"cancelled trade {target.Id}";
    }

    private async Task<string?> AmendAsync(Decision d, CancellationToken ct)
    {
        var own = store.TradeOfDecision(d.Id);
        string cancelled = string.Empty;
        if (own is null)
        {
            var result = await CancelTargetAsync(d, ct).ConfigureAwait(false);
            if (result is null)
            {
                return null;
            }

            if (!result.StartsWith("cancelled", StringComparison.Ordinal) && !result.StartsWith("nothing", StringComparison.Ordinal))
            {
                return "not amended: " + result;
            }

            cancelled = result + "; ";
        }

        var placed = await PlaceAsync(d, ct).ConfigureAwait(false);
        return placed is null ? null : cancelled + placed;
    }
}
