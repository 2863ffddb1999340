using System.Text;
using Keel.Domain;
using Keel.Domain.Orders;
using Keel.Engine.Brokerage;
using Keel.Engine.Ports;

namespace Keel.Tests.Brokerage;

/// <summary>Orders and groups for the brokerage model tests, and the request bodies a venue adapter would send for them.</summary>
internal static class BrokerageOrders
{
    public static readonly Instrument Aapl = Instrument.Equity("AAPL");
    public static readonly Instrument Btc = new(new InstrumentId("BTC/USD"), AssetClass.Crypto, Price.From(0.01m), Quantity.From(0.00000001m), "USD");
    public static readonly Instrument EurUsd = Instrument.ForexPair("EUR_USD");
    private static readonly Timestamp Now = Timestamp.FromParts(2024, 1, 2, 15);
    private static int _next;

    public static BrokerageContext Context(Instrument instrument, string reference = "100") => new(instrument, Price.Parse(reference), Now);

    public static SubmitOrder Order(
        OrderSide side,
        OrderType type,
        string qty,
        string? limit = null,
        string? stop = null,
        TimeInForce tif = TimeInForce.Gtc,
        Instrument? instrument = null,
        string? id = null,
        ContingencyType contingency = ContingencyType.None,
        ClientOrderId? parent = null) =>
        new(
            new ClientOrderId(id ?? $"B-{Interlocked.Increment(ref _next)}"),
            (instrument ?? Aapl).Id,
            side,
            type,
            Quantity.Parse(qty),
            limit is null ? null : Price.Parse(limit),
            stop is null ? null : Price.Parse(stop),
            tif,
            contingency,
            parent,
            [],
            Now);

    public static SubmitOrder Market(OrderSide side, string qty, TimeInForce tif = TimeInForce.Gtc, Instrument? instrument = null) =>
        Order(side, OrderType.Market, qty, tif: tif, instrument: instrument);

    public static SubmitOrder Limit(OrderSide side, string qty, string limit, TimeInForce tif = TimeInForce.Gtc, Instrument? instrument = null) =>
        Order(side, OrderType.Limit, qty, limit, tif: tif, instrument: instrument);

    /// <summary>Entry, stop-loss and take-profit as the kernel builds a bracket (slLimit makes the stop-loss a stop-limit).</summary>
    public static SubmitOrderList Bracket(OrderSide side, string qty, string? entryLimit, string stopLoss, string takeProfit, TimeInForce tif = TimeInForce.Gtc, Instrument? instrument = null, string? slLimit = null)
    {
        var entry = Order(side, entryLimit is null ? OrderType.Market : OrderType.Limit, qty, entryLimit, tif: tif, instrument: instrument, contingency: ContingencyType.Oto);
        var exit = side.Opposite();
        var sl = Order(exit, slLimit is null ? OrderType.Stop : OrderType.StopLimit, qty, slLimit, stopLoss, TimeInForce.Gtc, instrument, contingency: ContingencyType.Oco, parent: entry.ClientOrderId);
        var tp = Order(exit, OrderType.Limit, qty, takeProfit, tif: TimeInForce.Gtc, instrument: instrument, contingency: ContingencyType.Oco, parent: entry.ClientOrderId);
        return new SubmitOrderList([entry, sl, tp], Now);
    }

    /// <summary>An entry with one exit (a limit take-profit, or a stop-loss when <paramref name="stopLoss"/>).</summary>
    public static SubmitOrderList Oto(OrderSide side, string qty, string? entryLimit, string exitPrice, bool stopLoss, TimeInForce tif = TimeInForce.Gtc)
    {
        var entry = Order(side, entryLimit is null ? OrderType.Market : OrderType.Limit, qty, entryLimit, tif: tif, contingency: ContingencyType.Oto);
        var leg = stopLoss
            ? Order(side.Opposite(), OrderType.Stop, qty, stop: exitPrice, contingency: ContingencyType.Oco, parent: entry.ClientOrderId)
            : Order(side.Opposite(), OrderType.Limit, qty, exitPrice, contingency: ContingencyType.Oco, parent: entry.ClientOrderId);
        return new SubmitOrderList([entry, leg], Now);
    }

    /// <summary>Two exits on one side: a take-profit limit and a stop-loss stop.</summary>
    public static SubmitOrderList Oco(OrderSide side, string qty, string takeProfit, string stopLoss, TimeInForce tif = TimeInForce.Gtc, Instrument? instrument = null) =>
        new([Order(side, OrderType.Limit, qty, takeProfit, tif: tif, instrument: instrument, contingency: ContingencyType.Oco),
            Order(side, OrderType.Stop, qty, stop: stopLoss, tif: tif, instrument: instrument, contingency: ContingencyType.Oco)], Now);

    /// <summary>The <c>POST /v2/orders</c> body an Alpaca adapter sends for one order.</summary>
    public static string AlpacaBody(SubmitOrder o, bool extendedHours = false)
    {
        var b = new StringBuilder();
        b.Append($"{{\"symbol\":\"{o.Instrument}\",\"qty\":\"{o.Quantity}\",\"side\":\"{o.Side.ToText()}\",\"type\":\"{o.Type.ToText()}\",\"time_in_force\":\"{o.TimeInForce.ToText()}\",\"client_order_id\":\"{o.ClientOrderId}\"");
        Field(b, "limit_price", o.LimitPrice);
        Field(b, "stop_price", o.StopPrice);
        if (extendedHours)
        {
            b.Append(",\"extended_hours\":true");
        }

        return b.Append('}').ToString();
    }

    /// <summary>The body for a group: its main order with <c>order_class</c>, <c>take_profit</c> and <c>stop_loss</c>.</summary>
    public static string AlpacaBody(SubmitOrderList list, bool extendedHours = false)
    {
        var orders = list.Orders;
        bool oco = orders[0].Contingency == ContingencyType.Oco;
        var main = oco ? orders.First(o => o.Type == OrderType.Limit) : orders[0];
        var legs = oco ? orders : orders.Skip(1).ToList();
        var tp = legs.FirstOrDefault(o => o.Type == OrderType.Limit);
        var sl = legs.FirstOrDefault(o => o.Type is OrderType.Stop or OrderType.StopLimit);
        string orderClass = oco ? "oco" : orders.Count == 3 ? "bracket" : "oto";
        var body = AlpacaBody(main, extendedHours);
        var b = new StringBuilder(body, 0, body.Length - 1, body.Length + 200);
        b.Append($",\"order_class\":\"{orderClass}\"");
        if (tp is not null)
        {
            b.Append($",\"take_profit\":{{\"limit_price\":\"{tp.LimitPrice}\"}}");
        }

        if (sl is not null)
        {
            b.Append($",\"stop_loss\":{{\"stop_price\":\"{sl.StopPrice}\"");
            Field(b, "limit_price", sl.LimitPrice);
            b.Append('}');
        }

        return b.Append('}').ToString();
    }

    /// <summary>The <c>order</c> object an OANDA adapter sends for one order (with take-profit and stop-loss on fill for a group).</summary>
    public static string OandaBody(SubmitOrder o, SubmitOrder? takeProfit = null, SubmitOrder? stopLoss = null)
    {
        string type = o.Type switch
        {
            OrderType.Market => "MARKET",
            OrderType.Limit => "LIMIT",
            _ => "STOP",
        };
        string units = (o.Side == OrderSide.Buy ? string.Empty : "-") + o.Quantity;
        var b = new StringBuilder($"{{\"type\":\"{type}\",\"instrument\":\"{o.Instrument}\",\"units\":\"{units}\",\"clientExtensions\":{{\"id\":\"{o.ClientOrderId}\"}}");
        if (o.Type != OrderType.Market)
        {
            b.Append($",\"price\":\"{(o.Type == OrderType.Limit ? o.LimitPrice : o.StopPrice)}\"");
        }

        if (o.Type == OrderType.StopLimit)
        {
            b.Append($",\"priceBound\":\"{o.LimitPrice}\"");
        }

        string? tif = (o.Type, o.TimeInForce) switch
        {
            (_, TimeInForce.Ioc) => "IOC",
            (_, TimeInForce.Fok) => "FOK",
            (OrderType.Market, _) => null,
            (_, TimeInForce.Day) => "GFD",
            _ => "GTC",
        };
        if (tif is not null)
        {
            b.Append($",\"timeInForce\":\"{tif}\"");
        }

        if (takeProfit is not null)
        {
            b.Append($",\"takeProfitOnFill\":{{\"price\":\"{takeProfit.LimitPrice}\"}}");
        }

        if (stopLoss is not null)
        {
            b.Append($",\"stopLossOnFill\":{{\"price\":\"{stopLoss.StopPrice}\"}}");
        }

        return b.Append('}').ToString();
    }

    private static void Field(StringBuilder b, string name, Price? price)
    {
        if (price is Price p)
        {
            b.Append($",\"{name}\":\"{p}\"");
        }
    }
}
