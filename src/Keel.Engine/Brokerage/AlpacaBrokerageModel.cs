using Keel.Domain;
using Keel.Domain.Orders;
using Keel.Engine.Ports;

namespace Keel.Engine.Brokerage;

/// <summary>
/// Alpaca's Trading API v2 order rules, with Alpaca's codes (<c>40010001</c> validation, <c>42210000</c> market rules)
/// and messages word for word (trading-protocols.md §1.1–1.2, brokers.md §A.3.1). A Keel group maps to an
/// <c>order_class</c>: an entry with two legs is a <c>bracket</c>, with one leg an <c>oto</c>, two exits an <c>oco</c>.
/// Rules, in the order Alpaca (and the sandbox) checks them:
/// <list type="bullet">
/// <item>qty must be positive; crypto takes market, limit and stop-limit orders, good till cancelled or IOC, and no order class;</item>
/// <item>client_order_id at most 128 characters;</item>
/// <item>extended hours (a model option: every order of the run is sent with <c>extended_hours</c>): DAY or GTC limit orders only, no order class;</item>
/// <item>order classes: DAY or GTC; bracket take-profit above the stop-loss for a buy (below for a sell); take-profit and stop-loss at
/// least $0.01 beyond the base price (the entry's limit, else the last price); an OCO's take-profit above its stop-loss for a sell exit;</item>
/// <item>a fractional equity quantity only for a simple market DAY order;</item>
/// <item>equity prices: whole cents from $1.00 up, at most four decimals below (the sub-penny rule).</item>
/// </list>
/// </summary>
public sealed class AlpacaBrokerageModel : IBrokerageModel
{
    /// <summary>Alpaca's validation code (HTTP 422).</summary>
    public const string ValidationCode = "40010001";

    /// <summary>Alpaca's market-rule code (HTTP 422).</summary>
    public const string RuleCode = "42210000";

    private const int MaxClientOrderIdLength = 128;
    private const long Cent = Price.Scale / 100;

    /// <summary>A model for a run whose orders are sent with <c>extended_hours</c> set, or not.</summary>
    public AlpacaBrokerageModel(bool extendedHours = false) => ExtendedHours = extendedHours;

    /// <summary>Every order is sent with <c>extended_hours: true</c> (pre-market, after-hours and overnight sessions).</summary>
    public bool ExtendedHours { get; }

    /// <inheritdoc/>
    public string Name => "alpaca";

    /// <inheritdoc/>
    public BrokerageRejection? Validate(SubmitOrder order, in BrokerageContext context)
    {
        bool crypto = context.Instrument.AssetClass == AssetClass.Crypto;
        var problem = Common(order, crypto);
        if (problem is not null)
        {
            return problem;
        }

        if (ExtendedHours && (order.Type != OrderType.Limit || order.TimeInForce is not (TimeInForce.Day or TimeInForce.Gtc)))
        {
            return Invalid("extended hours order must be DAY or GTC limit orders");
        }

        if (crypto)
        {
            return null;
        }

        if (IsFractional(order.Quantity) && (order.Type != OrderType.Market || order.TimeInForce != TimeInForce.Day))
        {
            return Invalid("fractional orders must be simple market DAY orders");
        }

        return SubPenny("limit_price", order.LimitPrice) ?? SubPenny("stop_price", order.StopPrice);
    }

    /// <inheritdoc/>
    public BrokerageRejection? ValidateList(SubmitOrderList list, in BrokerageContext context)
    {
        var shape = ContingentShape.Of(list);
        if (shape.Kind == ShapeKind.Unknown)
        {
            return Invalid($"invalid order_class: Keel cannot send this group to Alpaca ({shape.Problem})");
        }

        var main = shape.Main!;
        bool crypto = context.Instrument.AssetClass == AssetClass.Crypto;
        var problem = Common(main, crypto);
        if (problem is not null)
        {
            return problem;
        }

        string orderClass = shape.Kind switch
        {
            ShapeKind.Bracket => "bracket",
            ShapeKind.Oto => "oto",
            _ => "oco",
        };
        if (crypto)
        {
            return Invalid($"invalid order_class for crypto order: {orderClass}");
        }

        if (ExtendedHours)
        {
            return Invalid("extended hours order must be DAY or GTC limit orders");
        }

        if (main.TimeInForce is not (TimeInForce.Day or TimeInForce.Gtc))
        {
            return Invalid($"{orderClass} orders must be DAY or GTC orders");
        }

        var side = main.Side;
        var tp = shape.TakeProfit?.LimitPrice;
        var sl = shape.StopLoss?.StopPrice;
        if (shape.Kind == ShapeKind.Bracket && (side == OrderSide.Buy ? tp <= sl : tp >= sl))
        {
            return Rule($"take_profit.limit_price must be {(side == OrderSide.Buy ? "above" : "below")} stop_loss.stop_price");
        }

        if (shape.Kind == ShapeKind.Oco && tp <= sl == (side == OrderSide.Sell))
        {
            return Rule($"take_profit.limit_price must be {(side == OrderSide.Sell ? "above" : "below")} stop_loss.stop_price");
        }

        if (shape.Kind is ShapeKind.Bracket or ShapeKind.Oto)
        {
            // The base price is the entry's limit, else the current market (the last price Keel saw).
            var basePrice = main.Type is OrderType.Limit or OrderType.StopLimit ? main.LimitPrice!.Value : context.ReferencePrice;
            problem = basePrice.IsPositive ? BasePrice(side, basePrice, tp, sl) : null;
            if (problem is not null)
            {
                return problem;
            }
        }

        for (int i = 0; i < list.Orders.Count; i++)
        {
            if (IsFractional(list.Orders[i].Quantity))
            {
                return Invalid("fractional orders must be simple market DAY orders");
            }
        }

        return SubPenny("limit_price", main.LimitPrice)
            ?? SubPenny("stop_price", main.StopPrice)
            ?? SubPenny("take_profit.limit_price", tp)
            ?? SubPenny("stop_loss.stop_price", sl)
            ?? SubPenny("stop_loss.limit_price", shape.StopLoss?.LimitPrice);
    }

    /// <summary>Alpaca's pricing rule for equities: whole cents from $1.00 up, at most four decimals below.</summary>
    public static bool IsSubPenny(Price price) => price.Raw % (price.Raw >= Price.Scale ? Cent : Price.Scale / 10_000) != 0;

    private static BrokerageRejection? Common(SubmitOrder order, bool crypto)
    {
        if (!order.Quantity.IsPositive)
        {
            return Invalid("qty must be > 0");
        }

        if (crypto && order.Type == OrderType.Stop)
        {
            return Invalid("invalid order type for crypto order");
        }

        if (crypto && order.TimeInForce is not (TimeInForce.Gtc or TimeInForce.Ioc))
        {
            return Invalid($"invalid crypto time_in_force: {order.TimeInForce.ToText()} (gtc or ioc)");
        }

        return order.ClientOrderId.Value?.Length > MaxClientOrderIdLength
            ? Invalid("client_order_id must be no more than 128 characters")
            : null;
    }

    private static BrokerageRejection? BasePrice(OrderSide side, Price basePrice, Price? tp, Price? sl)
    {
        var cent = Price.FromRaw(Cent);
        if (side == OrderSide.Buy)
        {
            if (tp is Price t && t < basePrice + cent)
            {
                return Rule("take_profit.limit_price must be >= base_price + 0.01");
            }

            return sl is Price s && s > basePrice - cent ? Rule("stop_loss.stop_price must be <= base_price - 0.01") : null;
        }

        if (tp is Price t2 && t2 > basePrice - cent)
        {
            return Rule("take_profit.limit_price must be <= base_price - 0.01");
        }

        return sl is Price s2 && s2 < basePrice + cent ? Rule("stop_loss.stop_price must be >= base_price + 0.01") : null;
    }

    private static bool IsFractional(Quantity quantity) => quantity.Raw % Quantity.Scale != 0;

    private static BrokerageRejection? SubPenny(string name, Price? price) =>
        price is Price p && IsSubPenny(p) ? Rule($"invalid {name} {p}. sub-penny increment does not fulfill minimum pricing criteria") : null;

    private static BrokerageRejection Invalid(string message) => new(ValidationCode, message);

    private static BrokerageRejection Rule(string message) => new(RuleCode, message);
}
