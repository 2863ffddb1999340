using Keel.Engine.Clock;
using Keel.Engine.Ports;
using Keel.Storage;
using Keel.Storage.Pipeline;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Keel.Pipeline;

/// <summary>One valuation of a position (a row of positions.csv).</summary>
public sealed record PositionValuation(PositionTracking Position, decimal Bid, decimal Ask);

/// <summary>
/// Stage 3 (every 10 minutes in regular hours, and 18:15 ET): values every open position from the latest quote (the mid;
/// the ask or the bid when only one side is there; skipped when there is no quote): current price, market value and
/// unrealized P&amp;L. A position the venue no longer holds was closed outside Keel: if its stop-loss or take-profit
/// filled, the trade is closed from that fill (STOPPED_OUT or PROFIT_TAKEN), otherwise at the last known price as
/// MANUAL_EXIT; its position row is removed and its remaining orders are cancelled. When the venue's positions cannot
/// be read, nothing is reconciled (a missing answer is not an empty account).
/// </summary>
public sealed class PositionMonitor(PipelineStore store, IVenuePort venue, IQuoteSource quotes, IClock clock, ILogger? logger = null)
{
    private readonly ILogger _log = logger ?? NullLogger.Instance;

    /// <summary>The valuations of the last run, in trade order.</summary>
    public IReadOnlyList<PositionValuation> LastValuations { get; private set; } = [];

    public async Task<StageResult> RunOnceAsync(CancellationToken ct = default)
    {
        int done = 0, skipped = 0, failed = 0;
        var valuations = new List<PositionValuation>();
        var positions = store.Positions();
        if (positions.Count == 0)
        {
            LastValuations = valuations;
            return new StageResult(PipelineStage.PositionMonitor, 0, 0, 0);
        }

        Dictionary<string, decimal>? held = null;
        try
        {
            held = [];
            foreach (var p in await venue.GetPositionsAsync(ct).ConfigureAwait(false))
            {
                held[p.Instrument.Symbol] = held.GetValueOrDefault(p.Instrument.Symbol) + p.Quantity.ToDecimal();
            }
        }
        catch (Exception ex) when (VenueOrders.IsTransient(ex))
        {
            PipelineLog.StepFailed(_log, "position monitor", "reading the venue's positions", ex.Message);
            held = null;
            failed++;
        }

        foreach (var position in positions)
        {
            ct.ThrowIfCancellationRequested();
            try
            {
                if (held is not null && held.GetValueOrDefault(position.Symbol) == 0)
                {
                    await ReconcileAsync(position, ct).ConfigureAwait(false);
                    done++;
                    continue;
                }

                var quote = await quotes.LatestQuoteAsync(position.Symbol, ct).ConfigureAwait(false);
                if (quote?.Price is not decimal price)
                {
                    PipelineLog.NoQuote(_log, position.Symbol, position.TradeId);
                    skipped++;
                    continue;
                }

                if (store.Revalue(position.TradeId, price, clock.Now) is { } valued)
                {
                    valuations.Add(new PositionValuation(valued, quote.Bid ?? price, quote.Ask ?? price));
                    done++;
                }
            }
            catch (Exception ex) when (VenueOrders.IsTransient(ex) || ex is StorageException { IsTransient: true })
            {
                PipelineLog.StepFailed(_log, "position monitor", $"trade {position.TradeId}", ex.Message);
                failed++;
            }
        }

        LastValuations = valuations;
        return new StageResult(PipelineStage.PositionMonitor, done, skipped, failed);
    }

    private async Task ReconcileAsync(PositionTracking position, CancellationToken ct)
    {
        var orders = store.OrdersOfTrade(position.TradeId);
        OrderExecution? filledExit = null;
        foreach (var o in orders.Where(o => o.OrderType != PipelineOrderType.Entry))
        {
            var current = o;
            if (o.IsActive && await venue.GetOrderAsync(new(o.ClientOrderId), ct).ConfigureAwait(false) is { } v)
            {
                current = store.UpdateOrder(o.Id, VenueOrders.Update(v), clock.Now);
            }

            if (current.Status == PipelineOrderStatus.Filled && filledExit is null)
            {
                filledExit = current;
            }
        }

        var trade = filledExit is { } exit
            ? store.CloseTrade(position.TradeId, exit.FilledAveragePrice!.Value, exit.OrderType == PipelineOrderType.StopLoss ? ExitReason.StoppedOut : ExitReason.ProfitTaken, exit.FilledAt ?? clock.Now, clock.Now)
            : store.CloseTrade(position.TradeId, position.CurrentPrice, ExitReason.ManualExit, clock.Now, clock.Now);
        PipelineLog.ClosedOutside(_log, trade.Id, trade.Symbol, trade.ExitReason, trade.ExitPrice);

        foreach (var o in store.OrdersOfTrade(position.TradeId).Where(o => o.IsActive))
        {
            await venue.CancelAsync(new CancelOrder(new(o.ClientOrderId), new(position.Symbol), clock.Now), ct).ConfigureAwait(false);
            var now = await venue.GetOrderAsync(new(o.ClientOrderId), ct).ConfigureAwait(false);
            store.UpdateOrder(o.Id, now is null ? new OrderUpdate(PipelineOrderStatus.Cancelled, null, 0m, null, null) : VenueOrders.Update(now), clock.Now);
        }
    }
}
