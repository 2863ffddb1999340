using Keel.Domain;
using Keel.Domain.Orders;
using Keel.Engine.Clock;
using Keel.Engine.Ports;
using Keel.Storage;
using Keel.Storage.Pipeline;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Keel.Pipeline;

/// <summary>
/// Stage 2 (every 5 minutes in regular hours, and 18:00 ET): brings every active order up to date from the venue and
/// acts on what changed. An entry with fills makes the trade a POSITION (the position row follows the filled quantity
/// through partial fills); once the entry is done (filled, or cancelled or expired after a partial fill) the position
/// is protected: a stop-loss always and a take-profit for SWING trades, sent as one OCO pair so the venue never fills
/// both. A partial exit fill shrinks the position row to what is left. An exit that filled closes the trade (realized P&amp;L, STOPPED_OUT or PROFIT_TAKEN), removes the position row
/// and cancels the sibling. An entry that ended with nothing filled cancels the trade. Protective orders are journaled
/// before they are sent under ids derived from the trade, so a crash anywhere is repaired by the next run; a venue
/// failure on one order is logged and the rest are processed.
/// </summary>
public sealed class OrderMonitor(PipelineStore store, IVenuePort venue, IClock clock, PipelineOptions? options = null, ILogger? logger = null)
{
    private readonly PipelineOptions _options = options ?? new PipelineOptions();
    private readonly ILogger _log = logger ?? NullLogger.Instance;

    public async Task<StageResult> RunOnceAsync(CancellationToken ct = default)
    {
        int done = 0, skipped = 0, failed = 0;
        foreach (var order in store.ActiveOrders())
        {
            ct.ThrowIfCancellationRequested();
            try
            {
                if (await SyncAsync(order, ct).ConfigureAwait(false))
                {
                    done++;
                }
                else
                {
                    skipped++;
                }
            }
            catch (Exception ex) when (VenueOrders.IsTransient(ex) || ex is StorageException { IsTransient: true })
            {
                PipelineLog.StepFailed(_log, "order monitor", $"order {order.ClientOrderId}", ex.Message);
                failed++;
            }
        }

        // Positions whose protection is missing (a crash between the fill and the protective orders, or an entry that
        // ended after a partial fill) get it now.
        foreach (var position in store.Positions())
        {
            try
            {
                var trade = store.FindTrade(position.TradeId)!;
                var entry = store.OrdersOfTrade(trade.Id).Single(o => o.OrderType == PipelineOrderType.Entry);
                if (!entry.IsActive)
                {
                    await ProtectAsync(trade, ct).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (VenueOrders.IsTransient(ex) || ex is StorageException { IsTransient: true })
            {
                PipelineLog.StepFailed(_log, "order monitor", $"protecting trade {position.TradeId}", ex.Message);
                failed++;
            }
        }

        return new StageResult(PipelineStage.OrderMonitor, done, skipped, failed);
    }

    /// <summary>Brings one order up to date and acts on it; false when there was nothing to do.</summary>
    private async Task<bool> SyncAsync(OrderExecution order, CancellationToken ct)
    {
        var trade = store.FindTrade(order.TradeId)!;
        var atVenue = await venue.GetOrderAsync(new(order.ClientOrderId), ct).ConfigureAwait(false);
        if (atVenue is null)
        {
            // Journaled but never seen by the venue. Entries are the executor's (their decision is still unexecuted);
            // exits of an open position are sent by ProtectAsync below; exits of a finished trade are void.
            if (order.OrderType != PipelineOrderType.Entry && trade.Status is TradeStatus.Closed or TradeStatus.Cancelled)
            {
                store.UpdateOrder(order.Id, new OrderUpdate(PipelineOrderStatus.Cancelled, null, 0m, null, null, "never sent: the trade had ended"), clock.Now);
                return true;
            }

            return false;
        }

        var updated = store.UpdateOrder(order.Id, VenueOrders.Update(atVenue), clock.Now);
        if (updated.OrderType == PipelineOrderType.Entry)
        {
            OnEntry(trade, updated);
            return true;
        }

        if (trade.Status == TradeStatus.Closed)
        {
            var own = updated.OrderType == PipelineOrderType.StopLoss ? ExitReason.StoppedOut : ExitReason.ProfitTaken;
            if (updated.Status == PipelineOrderStatus.Filled && trade.ExitReason != own)
            {
                PipelineLog.BothExitsFilled(_log, trade.Id, trade.Symbol);
            }

            await CancelAsync(updated, trade.Symbol, ct).ConfigureAwait(false);
            return true;
        }

        if (updated.Status == PipelineOrderStatus.PartiallyFilled && trade.Status == TradeStatus.Position && trade.ActualQuantity is decimal held)
        {
            // Part of the exit filled: the position row holds what is left until the rest fills (or the order ends).
            store.ShrinkPosition(trade.Id, held - updated.FilledQuantity, clock.Now);
            return true;
        }

        if (updated.Status == PipelineOrderStatus.Filled && trade.Status == TradeStatus.Position)
        {
            var reason = updated.OrderType == PipelineOrderType.StopLoss ? ExitReason.StoppedOut : ExitReason.ProfitTaken;
            var closed = store.CloseTrade(trade.Id, updated.FilledAveragePrice!.Value, reason, updated.FilledAt ?? clock.Now, clock.Now);
            PipelineLog.TradeClosed(_log, trade.Id, trade.Symbol, closed.ExitPrice!.Value, reason, closed.ActualPnl!.Value);
            foreach (var sibling in store.OrdersOfTrade(trade.Id).Where(o => o.Id != updated.Id && o.OrderType != PipelineOrderType.Entry && o.IsActive))
            {
                await CancelAsync(sibling, trade.Symbol, ct).ConfigureAwait(false);
            }
        }

        return true;
    }

    private void OnEntry(TradeJournalEntry trade, OrderExecution entry)
    {
        if (entry.FilledQuantity > 0 && trade.Status is TradeStatus.Ordered or TradeStatus.Position
            && (trade.ActualQuantity != entry.FilledQuantity || trade.ActualEntry != entry.FilledAveragePrice))
        {
            store.OpenPosition(trade.Id, entry.FilledQuantity, entry.FilledAveragePrice!.Value, entry.FilledAt ?? clock.Now, clock.Now);
            PipelineLog.PositionOpened(_log, trade.Id, trade.Symbol, entry.FilledQuantity, entry.FilledAveragePrice.Value);
        }
        else if (entry.FilledQuantity == 0 && !entry.IsActive && trade.Status == TradeStatus.Ordered)
        {
            store.CancelTrade(trade.Id, clock.Now);
        }
    }

    /// <summary>Journals and sends the stop-loss (and the take-profit for SWING) of an open position, once.</summary>
    private async Task ProtectAsync(TradeJournalEntry trade, CancellationToken ct)
    {
        decimal qty = trade.ActualQuantity!.Value;
        string side = VenueOrders.ExitSide(trade.Side);
        var sl = store.AddOrder(trade.Id, new NewOrderExecution(PipelineOrderType.StopLoss, side, qty, null, trade.PlannedStopLoss, _options.StopLossId(trade.Id)), clock.Now);
        OrderExecution? tp = trade.TradeStyle == TradeStyle.Swing && trade.PlannedTakeProfit is decimal target
            ? store.AddOrder(trade.Id, new NewOrderExecution(PipelineOrderType.TakeProfit, side, qty, target, null, _options.TakeProfitId(trade.Id)), clock.Now)
            : null;
        store.SetProtection(trade.Id, sl.Id, tp?.Id);
        if (sl.Status != PipelineOrderStatus.Pending || await venue.GetOrderAsync(new(sl.ClientOrderId), ct).ConfigureAwait(false) is not null)
        {
            return;
        }

        VenueOutcome answer;
        if (tp is null)
        {
            answer = await venue.SubmitAsync(VenueOrders.Command(sl, trade.Symbol, TimeInForce.Gtc, clock.Now), ct).ConfigureAwait(false);
        }
        else
        {
            ClientOrderId slId = new(sl.ClientOrderId), tpId = new(tp.ClientOrderId);
            answer = await venue.SubmitListAsync(
                new SubmitOrderList(
                    [
                        VenueOrders.Command(sl, trade.Symbol, TimeInForce.Gtc, clock.Now, ContingencyType.Oco, [tpId]),
                        VenueOrders.Command(tp, trade.Symbol, TimeInForce.Gtc, clock.Now, ContingencyType.Oco, [slId]),
                    ],
                    clock.Now),
                ct).ConfigureAwait(false);
        }

        if (VenueOrders.AfterSubmit(answer) is { Status: PipelineOrderStatus.Rejected } rejected)
        {
            PipelineLog.OrderRejected(_log, sl.ClientOrderId, rejected.Error ?? "rejected");
            store.UpdateOrder(sl.Id, rejected, clock.Now);
            if (tp is not null)
            {
                store.UpdateOrder(tp.Id, rejected, clock.Now);
            }

            return;
        }

        // Accepted (or not known yet): the venue's record is read back, so venue ids and any immediate fill are kept.
        foreach (var o in tp is null ? new[] { sl } : [sl, tp])
        {
            if (await venue.GetOrderAsync(new(o.ClientOrderId), ct).ConfigureAwait(false) is { } v)
            {
                store.UpdateOrder(o.Id, VenueOrders.Update(v), clock.Now);
            }
        }
    }

    private async Task CancelAsync(OrderExecution order, string symbol, CancellationToken ct)
    {
        if (!order.IsActive)
        {
            return;
        }

        var answer = await venue.CancelAsync(new CancelOrder(new(order.ClientOrderId), new InstrumentId(symbol), clock.Now), ct).ConfigureAwait(false);
        var now = await venue.GetOrderAsync(new(order.ClientOrderId), ct).ConfigureAwait(false);
        if (now is not null)
        {
            store.UpdateOrder(order.Id, VenueOrders.Update(now), clock.Now);
        }
        else if (answer.IsAccepted || answer.Kind == VenueOutcomeKind.Rejected)
        {
            store.UpdateOrder(order.Id, new OrderUpdate(PipelineOrderStatus.Cancelled, null, 0m, null, null), clock.Now);
        }
    }
}
