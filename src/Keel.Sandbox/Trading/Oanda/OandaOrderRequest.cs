using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Keel.Domain;
using Keel.Sandbox.Wire;

namespace Keel.Sandbox.Trading.Oanda;

/// <summary>
/// A parsed <c>{"order":{…}}</c> request. A malformed request has <see cref="ValidationError"/> (a plain 400 with
/// only <c>errorMessage</c>, as OANDA answers bad field values); a well-formed one OANDA refuses has
/// <see cref="RejectReason"/> (a 400 with an <c>…_ORDER_REJECT</c> transaction).
/// </summary>
internal sealed record OandaOrderRequest
{
    private static readonly Dictionary<string, string> Messages = new(StringComparer.Ordinal)
    {
        ["UNITS_INVALID"] = "Order units specified are invalid",
        ["UNITS_PRECISION_EXCEEDED"] = "The Order units specified exceed the precision allowed for the Order's instrument",
        ["PRICE_MISSING"] = "The Order does not specify a price",
        ["PRICE_INVALID"] = "The Order price specified is invalid",
        ["PRICE_PRECISION_EXCEEDED"] = "The Order price specified exceeds the precision allowed for the Order's instrument",
        ["PRICE_BOUND_INVALID"] = "The price bound specified is invalid",
        ["PRICE_BOUND_PRECISION_EXCEEDED"] = "The price bound specified exceeds the precision allowed for the Order's instrument",
        ["TIME_IN_FORCE_INVALID"] = "The time-in-force specified is invalid for the Order's type",
        ["TIME_IN_FORCE_GTD_TIMESTAMP_MISSING"] = "The Order is GTD but no GTD timestamp is provided",
        ["TIME_IN_FORCE_GTD_TIMESTAMP_IN_PAST"] = "The Order is GTD but the GTD timestamp is in the past",
        ["CLIENT_ORDER_ID_ALREADY_EXISTS"] = "The client Order ID specified is already assigned to another pending Order",
        ["CLIENT_ORDER_ID_INVALID"] = "The client Order ID specified is invalid",
        ["TAKE_PROFIT_ON_FILL_PRICE_MISSING"] = "The Take Profit on fill specified does not provide a price",
        ["TAKE_PROFIT_ON_FILL_PRICE_PRECISION_EXCEEDED"] = "The Take Profit on fill specifies a price with more precision than is allowed by the Order's instrument",
        ["STOP_LOSS_ON_FILL_PRICE_MISSING"] = "The Stop Loss on fill specified does not provide a price or a distance",
        ["STOP_LOSS_ON_FILL_PRICE_PRECISION_EXCEEDED"] = "The Stop Loss on fill specifies a price with more precision than is allowed by the Order's instrument",
        ["TRAILING_STOP_LOSS_ON_FILL_PRICE_DISTANCE_MISSING"] = "The Trailing Stop Loss on fill specified does not provide a distance",
    };

    public string Type { get; init; } = "MARKET";

    public string Instrument { get; init; } = "";

    public string UnitsText { get; init; } = "0";

    public long Units { get; init; }

    public long? Price { get; init; }

    public string? PriceText { get; init; }

    public long? PriceBound { get; init; }

    public string? PriceBoundText { get; init; }

    public string TimeInForce { get; init; } = "FOK";

    public string? GtdText { get; init; }

    public long? GtdNanos { get; init; }

    public string PositionFill { get; init; } = "DEFAULT";

    public string TriggerCondition { get; init; } = "DEFAULT";

    public string? ClientExtensions { get; init; }

    public string? ClientId { get; init; }

    public string? TradeClientExtensions { get; init; }

    public string? TakeProfitOnFill { get; init; }

    public long? TakeProfitPrice { get; init; }

    public string? StopLossOnFill { get; init; }

    public long? StopLossPrice { get; init; }

    public long? StopLossDistance { get; init; }

    public string? TrailingStopLossOnFill { get; init; }

    public long? TrailingDistance { get; init; }

    public string? RejectReason { get; init; }

    public string? ValidationError { get; init; }

    /// <summary>The message OANDA pairs with a reject reason.</summary>
    public static string Message(string reason) => Messages.TryGetValue(reason, out var m) ? m : reason.Replace('_', ' ').ToLowerInvariant();

    /// <summary>A market order that only reduces (trade and position close-outs).</summary>
    public static OandaOrderRequest Close(string instrument, long units) => new()
    {
        Type = "MARKET",
        Instrument = instrument,
        Units = units,
        UnitsText = units.ToString(CultureInfo.InvariantCulture),
        TimeInForce = "FOK",
        PositionFill = "REDUCE_ONLY",
    };

    public static OandaOrderRequest Parse(JsonElement order, IReadOnlySet<string> instruments, Func<string, int> decimals)
    {
        if (!order.TryGetProperty("type", out var typeElement) || typeElement.ValueKind != JsonValueKind.String
            || typeElement.GetString() is not ("MARKET" or "LIMIT" or "STOP" or "MARKET_IF_TOUCHED") || typeElement.GetString() is not { } type)
        {
            return Invalid("order.type");
        }

        if (!order.TryGetProperty("instrument", out var instrumentElement) || instrumentElement.ValueKind != JsonValueKind.String
            || instrumentElement.GetString() is not { } instrument || !instruments.Contains(instrument))
        {
            return Invalid("order.instrument");
        }

        int dec = decimals(instrument);
        if (!order.TryGetProperty("units", out var unitsElement) || Text(unitsElement) is not { } unitsText || !FixedPoint.TryParse(unitsText.AsSpan().Trim(), 9, out long unitsRaw))
        {
            return Invalid("order.units");
        }

        var request = new OandaOrderRequest
        {
            Type = type,
            Instrument = instrument,
            UnitsText = unitsText,
            Units = unitsRaw / Keel.Domain.Price.Scale,
            TimeInForce = type == "MARKET" ? "FOK" : "GTC",
        };
        string? reject = null;
        if (unitsRaw == 0)
        {
            reject ??= "UNITS_INVALID";
        }
        else if (unitsRaw % Keel.Domain.Price.Scale != 0)
        {
            reject ??= "UNITS_PRECISION_EXCEEDED";
        }

        if (order.TryGetProperty("price", out var priceElement))
        {
            var (value, text, problem) = ParsePrice(priceElement, dec, "PRICE");
            if (text is null)
            {
                return Invalid("order.price");
            }

            request = request with { Price = value, PriceText = text };
            reject ??= type == "MARKET" ? null : problem;
        }
        else if (type != "MARKET")
        {
            reject ??= "PRICE_MISSING";
        }

        if (order.TryGetProperty("priceBound", out var boundElement))
        {
            var (value, text, problem) = ParsePrice(boundElement, dec, "PRICE_BOUND");
            if (text is null)
            {
                return Invalid("order.priceBound");
            }

            request = request with { PriceBound = value, PriceBoundText = text };
            reject ??= problem;
        }

        if (order.TryGetProperty("timeInForce", out var tifElement))
        {
            if (tifElement.ValueKind != JsonValueKind.String || tifElement.GetString() is not ("GTC" or "GTD" or "GFD" or "FOK" or "IOC") || tifElement.GetString() is not { } tif)
            {
                return Invalid("order.timeInForce");
            }

            request = request with { TimeInForce = tif };
            // MARKET: FOK or IOC; LIMIT and STOP: any of the five; MARKET_IF_TOUCHED and the dependent orders: GTC, GTD, GFD.
            if (type == "MARKET" ? tif is not ("FOK" or "IOC") : type is "LIMIT" or "STOP" ? false : tif is not ("GTC" or "GTD" or "GFD"))
            {
                reject ??= "TIME_IN_FORCE_INVALID";
            }
        }

        if (request.TimeInForce == "GTD")
        {
            if (!order.TryGetProperty("gtdTime", out var gtd) || gtd.ValueKind != JsonValueKind.String)
            {
                reject ??= "TIME_IN_FORCE_GTD_TIMESTAMP_MISSING";
            }
            else if (!WireText.TryParseTime(gtd.GetString(), out long nanos) && !WireText.TryParseUnix(gtd.GetString(), out nanos))
            {
                return Invalid("order.gtdTime");
            }
            else
            {
                request = request with { GtdText = WireText.Time9(nanos), GtdNanos = nanos };
            }
        }

        if (order.TryGetProperty("positionFill", out var fillElement))
        {
            if (fillElement.GetString() is not ("DEFAULT" or "OPEN_ONLY" or "REDUCE_FIRST" or "REDUCE_ONLY") || fillElement.GetString() is not { } fill)
            {
                return Invalid("order.positionFill");
            }

            request = request with { PositionFill = fill };
        }

        if (order.TryGetProperty("triggerCondition", out var triggerElement))
        {
            if (triggerElement.GetString() is not ("DEFAULT" or "INVERSE" or "BID" or "ASK" or "MID") || triggerElement.GetString() is not { } trigger)
            {
                return Invalid("order.triggerCondition");
            }

            request = request with { TriggerCondition = trigger };
        }

        if (order.TryGetProperty("clientExtensions", out var ext))
        {
            if (ext.ValueKind != JsonValueKind.Object)
            {
                return Invalid("order.clientExtensions");
            }

            string? id = null;
            if (ext.TryGetProperty("id", out var idElement))
            {
                id = idElement.ValueKind == JsonValueKind.String ? idElement.GetString() : null;
                if (string.IsNullOrEmpty(id) || id.Length > 128)
                {
                    reject ??= "CLIENT_ORDER_ID_INVALID";
                }
            }

            request = request with { ClientExtensions = ext.GetRawText(), ClientId = id };
        }

        if (order.TryGetProperty("tradeClientExtensions", out var tradeExt) && tradeExt.ValueKind == JsonValueKind.Object)
        {
            request = request with { TradeClientExtensions = tradeExt.GetRawText() };
        }

        if (order.TryGetProperty("takeProfitOnFill", out var tp) && tp.ValueKind == JsonValueKind.Object)
        {
            long? price = null;
            if (!tp.TryGetProperty("price", out var tpPrice))
            {
                reject ??= "TAKE_PROFIT_ON_FILL_PRICE_MISSING";
            }
            else
            {
                var (value, text, problem) = ParsePrice(tpPrice, dec, "TAKE_PROFIT_ON_FILL_PRICE");
                if (text is null)
                {
                    return Invalid("order.takeProfitOnFill.price");
                }

                price = value;
                reject ??= problem;
            }

            request = request with { TakeProfitOnFill = tp.GetRawText(), TakeProfitPrice = price };
        }

        if (order.TryGetProperty("stopLossOnFill", out var sl) && sl.ValueKind == JsonValueKind.Object)
        {
            long? price = null, distance = null;
            if (sl.TryGetProperty("price", out var slPrice))
            {
                var (value, text, problem) = ParsePrice(slPrice, dec, "STOP_LOSS_ON_FILL_PRICE");
                if (text is null)
                {
                    return Invalid("order.stopLossOnFill.price");
                }

                price = value;
                reject ??= problem;
            }
            else if (sl.TryGetProperty("distance", out var slDistance))
            {
                var (value, text, _) = ParsePrice(slDistance, 9, "STOP_LOSS_ON_FILL_DISTANCE");
                if (text is null)
                {
                    return Invalid("order.stopLossOnFill.distance");
                }

                distance = value;
            }
            else
            {
                reject ??= "STOP_LOSS_ON_FILL_PRICE_MISSING";
            }

            request = request with { StopLossOnFill = sl.GetRawText(), StopLossPrice = price, StopLossDistance = distance };
        }

        if (order.TryGetProperty("trailingStopLossOnFill", out var tsl) && tsl.ValueKind == JsonValueKind.Object)
        {
            long? distance = null;
            if (tsl.TryGetProperty("distance", out var tslDistance))
            {
                var (value, text, _) = ParsePrice(tslDistance, 9, "TRAILING_STOP_LOSS_ON_FILL_DISTANCE");
                if (text is null)
                {
                    return Invalid("order.trailingStopLossOnFill.distance");
                }

                distance = value;
            }
            else
            {
                reject ??= "TRAILING_STOP_LOSS_ON_FILL_PRICE_DISTANCE_MISSING";
            }

            request = request with { TrailingStopLossOnFill = tsl.GetRawText(), TrailingDistance = distance };
        }

        return request with { RejectReason = reject };
    }

    /// <summary>The fields of the order's create (or reject) transaction after the common header.</summary>
    public JsonObject Fields(string reason, string? rejectReason = null)
    {
        var o = new JsonObject
        {
            ["instrument"] = Instrument,
            ["units"] = UnitsText,
        };
        if (PriceText is not null && Type != "MARKET")
        {
            o["price"] = PriceText;
        }

        if (PriceBoundText is not null)
        {
            o["priceBound"] = PriceBoundText;
        }

        o["timeInForce"] = TimeInForce;
        if (GtdText is not null)
        {
            o["gtdTime"] = GtdText;
        }

        if (Type != "MARKET")
        {
            o["triggerCondition"] = TriggerCondition;
        }

        o["positionFill"] = PositionFill;
        o["reason"] = reason;
        OandaOrder.Add(o, "clientExtensions", ClientExtensions);
        OandaOrder.Add(o, "takeProfitOnFill", TakeProfitOnFill);
        OandaOrder.Add(o, "stopLossOnFill", StopLossOnFill);
        OandaOrder.Add(o, "trailingStopLossOnFill", TrailingStopLossOnFill);
        OandaOrder.Add(o, "tradeClientExtensions", TradeClientExtensions);
        if (rejectReason is not null)
        {
            o["rejectReason"] = rejectReason;
        }

        return o;
    }

    /// <summary>The reject transaction's fields.</summary>
    public JsonObject Echo(string rejectReason, string reason) => Fields(reason, rejectReason);

    private static OandaOrderRequest Invalid(string field) => new() { ValidationError = $"Invalid value specified for '{field}'" };

    /// <summary>A JSON string or number as text; null for anything else.</summary>
    private static string? Text(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Number => e.GetRawText(),
        _ => null,
    };

    /// <summary>Parses a price; text null = not a number at all; problem = the reject reason for too many decimals or ≤ 0.</summary>
    private static (long Value, string? Text, string? Problem) ParsePrice(JsonElement e, int decimals, string prefix)
    {
        if (Text(e) is not { } text || !FixedPoint.TryParse(text.AsSpan().Trim(), 9, out long raw))
        {
            return (0, null, null);
        }

        int dot = text.IndexOf('.', StringComparison.Ordinal);
        int given = dot < 0 ? 0 : text.Trim().Length - dot - 1;
        string? problem = raw <= 0 ? prefix + "_INVALID" : given > decimals ? prefix + "_PRECISION_EXCEEDED" : null;
        return (raw, text.Trim(), problem);
    }
}
