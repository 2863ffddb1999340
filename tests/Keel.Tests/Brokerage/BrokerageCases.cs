using Keel.Domain;
using Keel.Domain.Orders;
using Keel.Engine.Brokerage;
using Keel.Engine.Ports;
using static Keel.Tests.Brokerage.BrokerageOrders;

namespace Keel.Tests.Brokerage;

/// <summary>
/// One order or group and what the venue answers: null code for "accepted". <see cref="Sandbox"/> says whether the
/// sandbox can judge it too (it has no crypto, and knows no current market price when it parses a request).
/// </summary>
internal sealed record BrokerageCase(string Name, SubmitOrder? Order, SubmitOrderList? List, string? Code, string? Message, bool Sandbox = true, bool ExtendedHours = false, Instrument? Instrument = null, string Reference = "100")
{
    public BrokerageRejection? Run(IBrokerageModel model)
    {
        var context = Context(Instrument ?? (Order?.Instrument ?? List!.Orders[0].Instrument) switch
        {
            var id when id == EurUsd.Id => EurUsd,
            var id when id == Btc.Id => Btc,
            _ => Aapl,
        }, Reference);
        return Order is not null ? model.Validate(Order, context) : model.ValidateList(List!, context);
    }

    public override string ToString() => Name;
}

internal static class BrokerageCases
{
    private const string Sub = ". sub-penny increment does not fulfill minimum pricing criteria";
    private const string V = AlpacaBrokerageModel.ValidationCode;
    private const string R = AlpacaBrokerageModel.RuleCode;
    private const string Fractional = "fractional orders must be simple market DAY orders";
    private const string Extended = "extended hours order must be DAY or GTC limit orders";

    public static readonly BrokerageCase[] Alpaca =
    [
        new("zero qty", Market(OrderSide.Buy, "0"), null, V, "qty must be > 0"),
        new("whole qty", Market(OrderSide.Buy, "1"), null, null, null),
        new("sub-penny limit from $1", Limit(OrderSide.Buy, "1", "99.005"), null, R, "invalid limit_price 99.005" + Sub),
        new("whole-cent limit", Limit(OrderSide.Buy, "1", "99.01"), null, null, null),
        new("five decimals below $1", Limit(OrderSide.Buy, "1", "0.12345"), null, R, "invalid limit_price 0.12345" + Sub),
        new("four decimals below $1", Limit(OrderSide.Buy, "1", "0.1234"), null, null, null),
        new("sub-penny stop", Order(OrderSide.Buy, OrderType.Stop, "1", stop: "120.001"), null, R, "invalid stop_price 120.001" + Sub),
        new("whole-cent stop", Order(OrderSide.Buy, OrderType.Stop, "1", stop: "120.25"), null, null, null),
        new("fractional limit", Limit(OrderSide.Buy, "1.5", "99"), null, V, Fractional),
        new("fractional market gtc", Market(OrderSide.Buy, "0.5"), null, V, Fractional),
        new("fractional market day", Market(OrderSide.Buy, "0.5", TimeInForce.Day), null, null, null),
        new("extended hours market", Market(OrderSide.Buy, "1", TimeInForce.Day), null, V, Extended, ExtendedHours: true),
        new("extended hours limit ioc", Limit(OrderSide.Buy, "1", "99", TimeInForce.Ioc), null, V, Extended, ExtendedHours: true),
        new("extended hours limit day", Limit(OrderSide.Buy, "1", "99", TimeInForce.Day), null, null, null, ExtendedHours: true),
        new("extended hours bracket", null, Bracket(OrderSide.Buy, "1", "100", "95", "110", TimeInForce.Day), V, Extended, ExtendedHours: true),
        new("crypto stop", Order(OrderSide.Buy, OrderType.Stop, "1", stop: "50000", instrument: Btc), null, V, "invalid order type for crypto order", Sandbox: false),
        new("crypto stop-limit", Order(OrderSide.Buy, OrderType.StopLimit, "0.001", "50010.5", "50000", instrument: Btc), null, null, null, Sandbox: false),
        new("crypto day", Limit(OrderSide.Buy, "1", "50000", TimeInForce.Day, Btc), null, V, "invalid crypto time_in_force: day (gtc or ioc)", Sandbox: false),
        new("crypto fractional ioc", Limit(OrderSide.Buy, "0.5", "50000.123", TimeInForce.Ioc, Btc), null, null, null, Sandbox: false),
        new("crypto bracket", null, Bracket(OrderSide.Buy, "1", "50000", "49000", "51000", instrument: Btc), V, "invalid order_class for crypto order: bracket", Sandbox: false),
        new("bracket ioc", null, Bracket(OrderSide.Buy, "1", "100", "95", "110", TimeInForce.Ioc), V, "bracket orders must be DAY or GTC orders"),
        new("bracket take-profit below stop-loss", null, Bracket(OrderSide.Buy, "1", "100", "105", "95"), R, "take_profit.limit_price must be above stop_loss.stop_price"),
        new("sell bracket take-profit above stop-loss", null, Bracket(OrderSide.Sell, "1", "100", "95", "105"), R, "take_profit.limit_price must be below stop_loss.stop_price"),
        new("bracket take-profit at the base price", null, Bracket(OrderSide.Buy, "1", "100", "95", "100"), R, "take_profit.limit_price must be >= base_price + 0.01"),
        new("bracket stop-loss at the base price", null, Bracket(OrderSide.Buy, "1", "100", "100", "110"), R, "stop_loss.stop_price must be <= base_price - 0.01"),
        new("sell bracket stop-loss at the base price", null, Bracket(OrderSide.Sell, "1", "100", "100", "90"), R, "stop_loss.stop_price must be >= base_price + 0.01"),
        new("sell bracket take-profit at the base price", null, Bracket(OrderSide.Sell, "1", "100", "110", "100"), R, "take_profit.limit_price must be <= base_price - 0.01"),
        new("market bracket stop-loss above the last price", null, Bracket(OrderSide.Buy, "1", null, "101", "110"), R, "stop_loss.stop_price must be <= base_price - 0.01", Sandbox: false),
        new("market bracket", null, Bracket(OrderSide.Buy, "1", null, "95", "110"), null, null),
        new("fractional bracket", null, Bracket(OrderSide.Buy, "1.5", "100", "95", "110"), V, Fractional),
        new("bracket sub-penny stop-loss", null, Bracket(OrderSide.Buy, "1", "100", "95.005", "110"), R, "invalid stop_loss.stop_price 95.005" + Sub),
        new("bracket sub-penny stop-loss limit", null, Bracket(OrderSide.Buy, "1", "100", "95", "110", slLimit: "94.995"), R, "invalid stop_loss.limit_price 94.995" + Sub),
        new("bracket sub-penny entry", null, Bracket(OrderSide.Buy, "1", "100.001", "95", "110"), R, "invalid limit_price 100.001" + Sub),
        new("bracket", null, Bracket(OrderSide.Buy, "1", "100", "95", "110", slLimit: "94.5"), null, null),
        new("oto sub-penny take-profit", null, Oto(OrderSide.Buy, "1", "100", "110.001", stopLoss: false), R, "invalid take_profit.limit_price 110.001" + Sub),
        new("oto fok", null, Oto(OrderSide.Buy, "1", "100", "95", stopLoss: true, TimeInForce.Fok), V, "oto orders must be DAY or GTC orders"),
        new("oto", null, Oto(OrderSide.Buy, "1", "100", "95", stopLoss: true), null, null),
        new("oco ioc", null, Oco(OrderSide.Sell, "1", "110", "95", TimeInForce.Ioc), V, "oco orders must be DAY or GTC orders"),
        new("sell oco take-profit below stop-loss", null, Oco(OrderSide.Sell, "1", "95", "110"), R, "take_profit.limit_price must be above stop_loss.stop_price"),
        new("sell oco", null, Oco(OrderSide.Sell, "1", "110", "95"), null, null),
        new("two limits as an oco", null, new SubmitOrderList([
            Order(OrderSide.Sell, OrderType.Limit, "1", "110", contingency: ContingencyType.Oco),
            Order(OrderSide.Sell, OrderType.Limit, "1", "120", contingency: ContingencyType.Oco)], default), V, "invalid order_class: Keel cannot send this group to Alpaca (an OCO pair must be a take-profit limit and a stop-loss stop)", Sandbox: false),
    ];

    public static readonly BrokerageCase[] Oanda =
    [
        new("zero units", Market(OrderSide.Buy, "0", instrument: EurUsd), null, "UNITS_INVALID", "Order units specified are invalid"),
        new("fractional units", Market(OrderSide.Buy, "1.5", instrument: EurUsd), null, "UNITS_PRECISION_EXCEEDED", "The Order units specified exceed the precision allowed for the Order's instrument"),
        new("market buy", Market(OrderSide.Buy, "1000", instrument: EurUsd), null, null, null),
        new("market sell (negative units)", Market(OrderSide.Sell, "1000", TimeInForce.Day, EurUsd), null, null, null),
        new("market ioc", Market(OrderSide.Buy, "1000", TimeInForce.Ioc, EurUsd), null, null, null),
        new("price beyond the display precision", Limit(OrderSide.Buy, "1000", "1.090001", instrument: EurUsd), null, "PRICE_PRECISION_EXCEEDED", "The Order price specified exceeds the precision allowed for the Order's instrument"),
        new("limit on the tick", Limit(OrderSide.Buy, "1000", "1.09001", instrument: EurUsd), null, null, null),
        new("stop beyond the display precision", Order(OrderSide.Buy, OrderType.Stop, "1000", stop: "1.200001", instrument: EurUsd), null, "PRICE_PRECISION_EXCEEDED", "The Order price specified exceeds the precision allowed for the Order's instrument"),
        new("price bound beyond the display precision", Order(OrderSide.Buy, OrderType.StopLimit, "1000", "1.200001", "1.2", instrument: EurUsd), null, "PRICE_BOUND_PRECISION_EXCEEDED", "The price bound specified exceeds the precision allowed for the Order's instrument"),
        new("stop with a price bound", Order(OrderSide.Buy, OrderType.StopLimit, "1000", "1.2001", "1.2", instrument: EurUsd), null, null, null),
        new("limit ioc (LIMIT and STOP take FOK and IOC)", Limit(OrderSide.Buy, "1000", "1.09", TimeInForce.Ioc, EurUsd), null, null, null),
        new("limit fok", Limit(OrderSide.Buy, "1000", "1.09", TimeInForce.Fok, EurUsd), null, null, null),
        new("limit day (GFD)", Limit(OrderSide.Buy, "1000", "1.09", TimeInForce.Day, EurUsd), null, null, null),
        new("take-profit beyond the display precision", null, Bracket(OrderSide.Buy, "1000", "1.09", "1.08", "1.100001", instrument: EurUsd), "TAKE_PROFIT_ON_FILL_PRICE_PRECISION_EXCEEDED", "The Take Profit on fill specifies a price with more precision than is allowed by the Order's instrument"),
        new("stop-loss beyond the display precision", null, Bracket(OrderSide.Buy, "1000", "1.09", "1.080001", "1.1", instrument: EurUsd), "STOP_LOSS_ON_FILL_PRICE_PRECISION_EXCEEDED", "The Stop Loss on fill specifies a price with more precision than is allowed by the Order's instrument"),
        new("entry precision before the exits'", null, Bracket(OrderSide.Buy, "1000", "1.090001", "1.080001", "1.1", instrument: EurUsd), "PRICE_PRECISION_EXCEEDED", "The Order price specified exceeds the precision allowed for the Order's instrument"),
        new("bracket", null, Bracket(OrderSide.Buy, "1000", "1.09", "1.08", "1.1", instrument: EurUsd), null, null),
        new("market take-profit at a loss", null, Bracket(OrderSide.Buy, "1000", null, "1.08", "1.099", instrument: EurUsd), "TAKE_PROFIT_ON_FILL_LOSS", "Filling the Order would result in the creation of a Take Profit Order that would have been filled immediately, closing the new Trade at a loss.", Sandbox: false, Reference: "1.1"),
        new("market sell stop-loss at a loss", null, Bracket(OrderSide.Sell, "1000", null, "1.099", "1.08", instrument: EurUsd), "STOP_LOSS_ON_FILL_LOSS", "Filling the Order would result in the creation of a Stop Loss Order that would have been filled immediately, closing the new Trade at a loss.", Sandbox: false, Reference: "1.1"),
        new("market bracket", null, Bracket(OrderSide.Sell, "1000", null, "1.11", "1.08", instrument: EurUsd), null, null, Reference: "1.1"),
        new("oco", null, Oco(OrderSide.Sell, "1000", "1.11", "1.08", instrument: EurUsd), OandaBrokerageModel.UnsupportedCode, "OANDA has no OCO orders; a take-profit and a stop-loss are attached to an entry (takeProfitOnFill, stopLossOnFill)", Sandbox: false),
        new("stop-limit stop-loss", null, Bracket(OrderSide.Buy, "1000", "1.09", "1.08", "1.1", instrument: EurUsd, slLimit: "1.079"), OandaBrokerageModel.UnsupportedCode, "OANDA stop-loss orders take no limit price; use a stop-loss stop", Sandbox: false),
    ];

    public static TheoryData<string> Names(BrokerageCase[] cases)
    {
        var data = new TheoryData<string>();
        foreach (var c in cases)
        {
            data.Add(c.Name);
        }

        return data;
    }
}
