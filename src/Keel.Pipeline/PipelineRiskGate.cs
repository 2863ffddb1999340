using Keel.Domain;
using Keel.Domain.Orders;
using Keel.Engine.Ports;
using Keel.Engine.Risk;

namespace Keel.Pipeline;

/// <summary>
/// The pipeline's side of the risk gate (#6, #8): the same <see cref="RiskGate"/> the trading kernel applies to a
/// strategy's and an API client's orders, evaluated on each opening order the executor is about to send, with the
/// account as the venue reports it (the instrument's position, and the working orders). Protective orders (stop-loss,
/// take-profit) only ever reduce a position and are never put to it. A denial is journaled by the executor: the entry
/// order row is REJECTED with the gate's reason, the trade CANCELLED, and the decision executed with that reason.
/// </summary>
public sealed class PipelineRiskGate(RiskLimits limits)
{
    /// <summary>No limits: every order is approved (the default when none are configured).</summary>
    public static PipelineRiskGate None { get; } = new(RiskLimits.None);

    public RiskLimits Limits { get; } = limits ?? throw new ArgumentNullException(nameof(limits));

    /// <summary>Approves or denies <paramref name="order"/> against the venue's positions and working orders.</summary>
    public async Task<RiskDecision> CheckAsync(IVenuePort venue, SubmitOrder order, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(venue);
        ArgumentNullException.ThrowIfNull(order);
        if (Limits.MaxPositionQuantity is null && Limits.MaxOrderNotional is null && Limits.MaxOpenOrders is null)
        {
            return RiskDecision.Approve;
        }

        var position = Quantity.Zero;
        foreach (var p in await venue.GetPositionsAsync(ct).ConfigureAwait(false))
        {
            if (p.Instrument == order.Instrument)
            {
                position = p.Quantity;
            }
        }

        var open = await venue.GetOpenOrdersAsync(ct).ConfigureAwait(false);
        var buy = Quantity.Zero;
        var sell = Quantity.Zero;
        foreach (var o in open)
        {
            if (o.Instrument != order.Instrument)
            {
                continue;
            }

            var left = o.Quantity - o.FilledQuantity;
            if (o.Side == OrderSide.Buy)
            {
                buy += left;
            }
            else
            {
                sell += left;
            }
        }

        var request = new OrderRequest(order.Instrument, order.Side, order.Type, order.Quantity, order.LimitPrice, order.StopPrice, order.TimeInForce);
        var reference = order.LimitPrice ?? order.StopPrice ?? Price.Zero;
        return RiskGate.Evaluate(request, position, new WorkingExposure(buy, sell, open.Count), reference, Limits);
    }
}
