using Keel.Domain.Orders;
using Keel.Engine.Ports;

namespace Keel.Engine.Brokerage;

/// <summary>The venue-neutral kinds of contingent group a <see cref="SubmitOrderList"/> can be.</summary>
internal enum ShapeKind
{
    /// <summary>Not a group a venue can express.</summary>
    Unknown = 1,

    /// <summary>Entry + take-profit limit + stop-loss stop (or stop-limit), exits released by the entry's fill.</summary>
    Bracket = 2,

    /// <summary>Entry + one exit released by its fill.</summary>
    Oto = 3,

    /// <summary>Two exits on the same side, a take-profit limit and a stop-loss stop: the first fill cancels the other.</summary>
    Oco = 4,
}

/// <summary>
/// A <see cref="SubmitOrderList"/> read as a venue sees it: the main order (the entry, or an OCO's take-profit) and its
/// take-profit and stop-loss legs. <see cref="Problem"/> says why a list is <see cref="ShapeKind.Unknown"/>.
/// </summary>
internal readonly record struct ContingentShape(ShapeKind Kind, SubmitOrder? Main, SubmitOrder? TakeProfit, SubmitOrder? StopLoss, string? Problem)
{
    public static ContingentShape Of(SubmitOrderList list)
    {
        var orders = list.Orders;
        if (orders.Count == 0)
        {
            return Unknown("the group has no orders");
        }

        var first = orders[0];
        if (first.Contingency == ContingencyType.Oto && orders.Count is 2 or 3)
        {
            SubmitOrder? tp = null, sl = null;
            for (int i = 1; i < orders.Count; i++)
            {
                var leg = orders[i];
                if (leg.ParentId != first.ClientOrderId)
                {
                    return Unknown($"order {leg.ClientOrderId} is not a leg of the entry {first.ClientOrderId}");
                }

                if (leg.Side == first.Side || leg.Quantity != first.Quantity || leg.Instrument != first.Instrument)
                {
                    return Unknown($"leg {leg.ClientOrderId} must close the entry: the other side, the same instrument and quantity");
                }

                if (!Assign(leg, ref tp, ref sl))
                {
                    return Unknown($"leg {leg.ClientOrderId} must be one take-profit limit or one stop-loss stop");
                }
            }

            return new(orders.Count == 3 ? ShapeKind.Bracket : ShapeKind.Oto, first, tp, sl, null);
        }

        if (orders.Count == 2 && first.Contingency == ContingencyType.Oco && orders[1].Contingency == ContingencyType.Oco)
        {
            var second = orders[1];
            if (first.Side != second.Side || first.Quantity != second.Quantity || first.Instrument != second.Instrument)
            {
                return Unknown("both orders of an OCO pair must be on the same side with the same instrument and quantity");
            }

            SubmitOrder? tp = null, sl = null;
            if (!Assign(first, ref tp, ref sl) || !Assign(second, ref tp, ref sl))
            {
                return Unknown("an OCO pair must be a take-profit limit and a stop-loss stop");
            }

            return new(ShapeKind.Oco, tp, tp, sl, null);
        }

        return Unknown("the group is neither a bracket, an OTO nor an OCO pair");
    }

    private static bool Assign(SubmitOrder leg, ref SubmitOrder? tp, ref SubmitOrder? sl)
    {
        if (leg.Type == OrderType.Limit && tp is null)
        {
            tp = leg;
            return true;
        }

        if (leg.Type is OrderType.Stop or OrderType.StopLimit && sl is null)
        {
            sl = leg;
            return true;
        }

        return false;
    }

    private static ContingentShape Unknown(string problem) => new(ShapeKind.Unknown, null, null, null, problem);
}
