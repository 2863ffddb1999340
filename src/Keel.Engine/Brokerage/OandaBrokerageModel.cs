using Keel.Domain;
using Keel.Domain.Orders;
using Keel.Engine.Ports;

namespace Keel.Engine.Brokerage;

/// <summary>
/// OANDA v20's order rules, with OANDA's reject reasons (<c>TransactionRejectReason</c>) as codes and the messages it
/// pairs with them (trading-protocols.md §2, brokers.md §D.4). How a Keel order is sent: a buy has positive units, a
/// sell negative ones; market → <c>MARKET</c> (IOC and FOK as such; day and GTC are sent without a time in force, so
/// OANDA's FOK applies), limit → <c>LIMIT</c>, stop → <c>STOP</c>, stop-limit → <c>STOP</c> with its limit as
/// <c>priceBound</c>; a pending order is GTC, or GFD for a day order; a bracket or OTO is its entry with
/// <c>takeProfitOnFill</c> and <c>stopLossOnFill</c>. Rules, in the order OANDA (and the sandbox) checks them: units not
/// zero and in whole lots (tradeUnitsPrecision), prices and the price bound on the instrument's tick (displayPrecision),
/// a time in force the order type takes (pending orders: GTC, GTD, GFD), a client id of at most 128 characters, the
/// take-profit's and the stop-loss's precision; then a take-profit or stop-loss on the losing side of the entry price
/// (the entry's limit or stop, else the last price), which OANDA cancels at fill time and the model refuses up front.
/// OANDA cannot place OCO pairs nor stop-limit stop-losses; such groups are refused with <see cref="UnsupportedCode"/>.
/// </summary>
public sealed class OandaBrokerageModel : IBrokerageModel
{
    /// <summary>The code of a group OANDA has no order for (Keel's, not OANDA's).</summary>
    public const string UnsupportedCode = "KEEL_UNSUPPORTED_BY_VENUE";

    private const int MaxClientIdLength = 128;

    private static readonly BrokerageRejection UnitsInvalid = Reject("UNITS_INVALID", "Order units specified are invalid");
    private static readonly BrokerageRejection UnitsPrecision = Reject("UNITS_PRECISION_EXCEEDED", "The Order units specified exceed the precision allowed for the Order's instrument");
    private static readonly BrokerageRejection PricePrecision = Reject("PRICE_PRECISION_EXCEEDED", "The Order price specified exceeds the precision allowed for the Order's instrument");
    private static readonly BrokerageRejection BoundPrecision = Reject("PRICE_BOUND_PRECISION_EXCEEDED", "The price bound specified exceeds the precision allowed for the Order's instrument");
    private static readonly BrokerageRejection ClientIdInvalid = Reject("CLIENT_ORDER_ID_INVALID", "The client Order ID specified is invalid");
    private static readonly BrokerageRejection TakeProfitPrecision = Reject("TAKE_PROFIT_ON_FILL_PRICE_PRECISION_EXCEEDED", "The Take Profit on fill specifies a price with more precision than is allowed by the Order's instrument");
    private static readonly BrokerageRejection StopLossPrecision = Reject("STOP_LOSS_ON_FILL_PRICE_PRECISION_EXCEEDED", "The Stop Loss on fill specifies a price with more precision than is allowed by the Order's instrument");
    private static readonly BrokerageRejection TakeProfitLoss = Reject("TAKE_PROFIT_ON_FILL_LOSS", "Filling the Order would result in the creation of a Take Profit Order that would have been filled immediately, closing the new Trade at a loss.");
    private static readonly BrokerageRejection StopLossLoss = Reject("STOP_LOSS_ON_FILL_LOSS", "Filling the Order would result in the creation of a Stop Loss Order that would have been filled immediately, closing the new Trade at a loss.");

    /// <inheritdoc/>
    public string Name => "oanda";

    /// <inheritdoc/>
    public BrokerageRejection? Validate(SubmitOrder order, in BrokerageContext context)
    {
        var instrument = context.Instrument;
        if (order.Quantity.IsZero)
        {
            return UnitsInvalid;
        }

        if (order.Quantity.Raw % instrument.LotSize.Raw != 0)
        {
            return UnitsPrecision;
        }

        if (order.Type != OrderType.Market && OffTick(order.Type == OrderType.Limit ? order.LimitPrice : order.StopPrice, instrument))
        {
            return PricePrecision;
        }

        if (order.Type == OrderType.StopLimit && OffTick(order.LimitPrice, instrument))
        {
            return BoundPrecision;
        }

        // Every Keel time in force maps to one OANDA takes for the order's type: MARKET is sent FOK (IOC as IOC); LIMIT
        // and STOP take GTC, GFD (Keel's DAY), FOK and IOC.
        return order.ClientOrderId.Value is { Length: > MaxClientIdLength } ? ClientIdInvalid : null;
    }

    /// <inheritdoc/>
    public BrokerageRejection? ValidateList(SubmitOrderList list, in BrokerageContext context)
    {
        var shape = ContingentShape.Of(list);
        if (shape.Kind == ShapeKind.Unknown)
        {
            return Reject(UnsupportedCode, $"OANDA has no order for this group: {shape.Problem}");
        }

        if (shape.Kind == ShapeKind.Oco)
        {
            return Reject(UnsupportedCode, "OANDA has no OCO orders; a take-profit and a stop-loss are attached to an entry (takeProfitOnFill, stopLossOnFill)");
        }

        if (shape.StopLoss is { Type: OrderType.StopLimit })
        {
            return Reject(UnsupportedCode, "OANDA stop-loss orders take no limit price; use a stop-loss stop");
        }

        var entry = shape.Main!;
        var problem = Validate(entry, context);
        if (problem is not null)
        {
            return problem;
        }

        var tp = shape.TakeProfit?.LimitPrice;
        var sl = shape.StopLoss?.StopPrice;
        if (OffTick(tp, context.Instrument))
        {
            return TakeProfitPrecision;
        }

        if (OffTick(sl, context.Instrument))
        {
            return StopLossPrecision;
        }

        var entryPrice = entry.Type switch
        {
            OrderType.Limit => entry.LimitPrice!.Value,
            OrderType.Stop or OrderType.StopLimit => entry.StopPrice!.Value,
            _ => context.ReferencePrice,
        };
        if (!entryPrice.IsPositive)
        {
            return null;
        }

        bool buy = entry.Side == OrderSide.Buy;
        if (tp is Price t && (buy ? t <= entryPrice : t >= entryPrice))
        {
            return TakeProfitLoss;
        }

        return sl is Price s && (buy ? s >= entryPrice : s <= entryPrice) ? StopLossLoss : null;
    }

    private static bool OffTick(Price? price, Instrument instrument) => price is Price p && p.Raw % instrument.TickSize.Raw != 0;

    private static BrokerageRejection Reject(string reason, string message) => new(reason, message);
}
