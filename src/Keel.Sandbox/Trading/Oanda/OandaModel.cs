using System.Text.Json.Nodes;

namespace Keel.Sandbox.Trading.Oanda;

/// <summary>An order of the simulated OANDA account (pending until filled, triggered or cancelled).</summary>
internal sealed class OandaOrder
{
    public required long Id { get; init; }

    /// <summary>MARKET, LIMIT, STOP, MARKET_IF_TOUCHED, TAKE_PROFIT, STOP_LOSS or TRAILING_STOP_LOSS.</summary>
    public required string Type { get; init; }

    public required string Instrument { get; init; }

    /// <summary>Signed: positive buys, negative sells. Zero for dependent orders (they close their trade).</summary>
    public long Units { get; set; }

    /// <summary>Raw 9-decimal price (limit, stop, touch, take-profit or stop-loss level).</summary>
    public long? Price { get; init; }

    public long? PriceBound { get; init; }

    /// <summary>Trailing stop distance (raw).</summary>
    public long? Distance { get; init; }

    /// <summary>Where a trailing stop currently triggers (raw).</summary>
    public long TrailingLevel { get; set; }

    public string TimeInForce { get; init; } = "GTC";

    public long? GtdNanos { get; init; }

    public string PositionFill { get; init; } = "DEFAULT";

    public string TriggerCondition { get; init; } = "DEFAULT";

    /// <summary>The request's clientExtensions as JSON text, if any.</summary>
    public string? ClientExtensions { get; init; }

    public string? ClientId { get; init; }

    public string? TradeClientExtensions { get; init; }

    public string? TakeProfitOnFill { get; init; }

    public string? StopLossOnFill { get; init; }

    public string? TrailingStopLossOnFill { get; init; }

    /// <summary>The trade a dependent order (take profit, stop loss, trailing stop) belongs to.</summary>
    public long? TradeId { get; init; }

    /// <summary>The trade a TRADE_CLOSE market order reduces.</summary>
    public long? CloseTradeId { get; init; }

    /// <summary>Only reduces (trade and position close-outs, REDUCE_ONLY).</summary>
    public bool ReduceOnly { get; init; }

    public string FillReason { get; init; } = "MARKET_ORDER";

    public required string CreateTime { get; init; }

    /// <summary>PENDING, FILLED, TRIGGERED or CANCELLED.</summary>
    public string State { get; set; } = "PENDING";

    public long? ReplacesOrderId { get; init; }

    public long? ReplacedByOrderId { get; set; }

    public string? FilledTime { get; set; }

    public long? FillingTransactionId { get; set; }

    public long? TradeOpenedId { get; set; }

    public long? TradeReducedId { get; set; }

    public List<long> TradeClosedIds { get; } = [];

    public string? CancelledTime { get; set; }

    public long? CancellingTransactionId { get; set; }

    public bool IsDependent => Type is "TAKE_PROFIT" or "STOP_LOSS" or "TRAILING_STOP_LOSS";

    /// <summary>The order as <c>GET …/orders/{id}</c> shows it.</summary>
    public JsonObject ToJson(Func<long, string> price)
    {
        var o = new JsonObject
        {
            ["id"] = Text(Id),
            ["createTime"] = CreateTime,
            ["type"] = Type,
        };
        if (TradeId is long trade)
        {
            o["tradeID"] = Text(trade);
        }
        else
        {
            o["instrument"] = Instrument;
            o["units"] = Text(Units);
        }

        if (Price is long p)
        {
            o["price"] = price(p);
        }

        if (PriceBound is long b)
        {
            o["priceBound"] = price(b);
        }

        if (Distance is long d)
        {
            o["distance"] = price(d);
            o["trailingStopValue"] = price(TrailingLevel);
        }

        o["timeInForce"] = TimeInForce;
        if (Type != "MARKET")
        {
            o["triggerCondition"] = TriggerCondition;
        }

        if (TradeId is null)
        {
            o["positionFill"] = PositionFill;
        }

        o["state"] = State;
        Add(o, "clientExtensions", ClientExtensions);
        Add(o, "tradeClientExtensions", TradeClientExtensions);
        Add(o, "takeProfitOnFill", TakeProfitOnFill);
        Add(o, "stopLossOnFill", StopLossOnFill);
        Add(o, "trailingStopLossOnFill", TrailingStopLossOnFill);
        if (ReplacesOrderId is long r)
        {
            o["replacesOrderID"] = Text(r);
        }

        if (ReplacedByOrderId is long rb)
        {
            o["replacedByOrderID"] = Text(rb);
        }

        if (FillingTransactionId is long f)
        {
            o["fillingTransactionID"] = Text(f);
            o["filledTime"] = FilledTime;
        }

        if (TradeOpenedId is long t)
        {
            o["tradeOpenedID"] = Text(t);
        }

        if (TradeReducedId is long tr)
        {
            o["tradeReducedID"] = Text(tr);
        }

        if (TradeClosedIds.Count > 0)
        {
            var closed = new JsonArray();
            foreach (var id in TradeClosedIds)
            {
                closed.Add((JsonNode)Text(id));
            }

            o["tradeClosedIDs"] = closed;
        }

        if (CancellingTransactionId is long c)
        {
            o["cancellingTransactionID"] = Text(c);
            o["cancelledTime"] = CancelledTime;
        }

        return o;
    }

    internal static string Text(long value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    internal static void Add(JsonObject o, string name, string? json)
    {
        if (json is not null)
        {
            o[name] = JsonNode.Parse(json);
        }
    }
}

/// <summary>A trade of the simulated OANDA account: units opened by one fill, reduced and closed first in, first out.</summary>
internal sealed class OandaTrade
{
    public required long Id { get; init; }

    public required string Instrument { get; init; }

    public required long Price { get; init; }

    public required string OpenTime { get; init; }

    public required long InitialUnits { get; init; }

    public long CurrentUnits { get; set; }

    public Keel.Domain.Money RealizedPL { get; set; }

    public Keel.Domain.Money InitialMargin { get; init; }

    public string? ClientExtensions { get; init; }

    public string? ClientId { get; init; }

    public long? TakeProfitOrderId { get; set; }

    public long? StopLossOrderId { get; set; }

    public long? TrailingStopLossOrderId { get; set; }

    public string? CloseTime { get; set; }

    public List<long> ClosingTransactionIds { get; } = [];

    public bool Open => CurrentUnits != 0;
}

/// <summary>One transaction: its id, its JSON (for inspection) and the exact bytes served.</summary>
internal sealed record OandaTransaction(long Id, string Type, JsonObject Node, byte[] Json);
