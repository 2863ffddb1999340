using System.Text.Json;
using Keel.Domain;
using Keel.Domain.Orders;

namespace Keel.Sandbox.Trading.Alpaca;

/// <summary>Reads and validates Trading API request bodies; every problem becomes an Alpaca-shaped 4xx, never an exception.</summary>
internal static class AlpacaRequests
{
    /// <summary>POST /v2/orders body → a ticket, or the 422 Alpaca would answer.</summary>
    public static (OrderTicket? Ticket, ApiResult? Error) ParseOrder(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return (null, ApiResult.Error(400, 40010000, "request body format is invalid"));
        }

        string? symbol = String(root, "symbol");
        if (string.IsNullOrWhiteSpace(symbol))
        {
            return (null, ApiResult.Invalid("symbol is required"));
        }

        if (Has(root, "notional"))
        {
            return (null, ApiResult.Invalid("notional orders are not supported by the Keel sandbox; send qty"));
        }

        if (!TryQuantity(root, "qty", out var qty, out var error))
        {
            return (null, error);
        }

        if (qty is not { IsPositive: true } q)
        {
            return (null, ApiResult.Invalid("qty must be > 0"));
        }

        var side = String(root, "side") switch
        {
            "buy" => OrderSide.Buy,
            "sell" => (OrderSide?)OrderSide.Sell,
            _ => null,
        };
        if (side is not OrderSide s)
        {
            return (null, ApiResult.Invalid($"invalid side: '{String(root, "side")}' (buy or sell)"));
        }

        string typeText = String(root, "type") ?? String(root, "order_type") ?? string.Empty;
        OrderType? type = typeText switch
        {
            "market" => OrderType.Market,
            "limit" => OrderType.Limit,
            "stop" => OrderType.Stop,
            "stop_limit" => OrderType.StopLimit,
            _ => null,
        };
        if (type is not OrderType t)
        {
            return (null, ApiResult.Invalid(typeText == "trailing_stop" ? "trailing_stop orders are not supported by the Keel sandbox" : $"invalid order type: '{typeText}'"));
        }

        string tifText = String(root, "time_in_force") ?? string.Empty;
        if (!TryTimeInForce(tifText, out var tif))
        {
            return (null, ApiResult.Invalid(tifText is "opg" or "cls" ? $"time_in_force {tifText} is not supported by the Keel sandbox" : $"invalid time_in_force: '{tifText}'"));
        }

        string? clientOrderId = String(root, "client_order_id");
        if (clientOrderId is { Length: > 128 })
        {
            return (null, ApiResult.Invalid("client_order_id must be no more than 128 characters"));
        }

        if (clientOrderId is { Length: 0 })
        {
            clientOrderId = null;
        }

        string orderClass = String(root, "order_class") ?? string.Empty;
        if (orderClass is not ("" or "simple" or "bracket" or "oco" or "oto"))
        {
            return (null, ApiResult.Invalid($"invalid order_class: '{orderClass}'"));
        }

        bool extended = root.TryGetProperty("extended_hours", out var ext) && ext.ValueKind == JsonValueKind.True;
        if (extended && (t != OrderType.Limit || tif is not (TimeInForce.Day or TimeInForce.Gtc) || orderClass is "bracket" or "oco" or "oto"))
        {
            return (null, ApiResult.Invalid("extended hours order must be DAY or GTC limit orders"));
        }

        if (!TryPrice(root, "limit_price", out var limit, out error) || !TryPrice(root, "stop_price", out var stop, out error))
        {
            return (null, error);
        }

        Price? takeProfit = null, slStop = null, slLimit = null;
        if (orderClass is "bracket" or "oco" or "oto")
        {
            if (root.TryGetProperty("take_profit", out var tp) && tp.ValueKind == JsonValueKind.Object && !TryPrice(tp, "limit_price", out takeProfit, out error))
            {
                return (null, error);
            }

            if (root.TryGetProperty("stop_loss", out var sl) && sl.ValueKind == JsonValueKind.Object
                && (!TryPrice(sl, "stop_price", out slStop, out error) || !TryPrice(sl, "limit_price", out slLimit, out error)))
            {
                return (null, error);
            }

            if (orderClass == "oco")
            {
                if (t != OrderType.Limit)
                {
                    return (null, ApiResult.Invalid("oco orders must be limit orders"));
                }

                limit ??= takeProfit;
            }

            if (tif is not (TimeInForce.Day or TimeInForce.Gtc))
            {
                return (null, ApiResult.Invalid($"{orderClass} orders must be DAY or GTC orders"));
            }

            bool bothNeeded = orderClass is "bracket" or "oco";
            if (bothNeeded && (takeProfit is null || slStop is null))
            {
                return (null, ApiResult.Invalid($"{orderClass} orders require take_profit.limit_price and stop_loss.stop_price"));
            }

            if (orderClass == "oto" && (takeProfit is null) == (slStop is null))
            {
                return (null, ApiResult.Invalid("oto orders require exactly one of take_profit and stop_loss"));
            }

            if (bothNeeded && (s == OrderSide.Buy ? takeProfit <= slStop : takeProfit >= slStop) && orderClass == "bracket")
            {
                return (null, ApiResult.State($"take_profit.limit_price must be {(s == OrderSide.Buy ? "above" : "below")} stop_loss.stop_price"));
            }

            if (orderClass == "oco" && takeProfit <= slStop == (s == OrderSide.Sell))
            {
                return (null, ApiResult.State($"take_profit.limit_price must be {(s == OrderSide.Sell ? "above" : "below")} stop_loss.stop_price"));
            }

            // The exits must lie at least a cent beyond the base price: the entry's limit (Alpaca uses the current market
            // for other entries, which this parser does not know).
            if (orderClass is "bracket" or "oto" && t is OrderType.Limit or OrderType.StopLimit && limit is Price basePrice
                && BasePriceProblem(s, basePrice, takeProfit, slStop) is { } baseProblem)
            {
                return (null, ApiResult.Error(422, 42210000, baseProblem, ("base_price", basePrice.ToString())));
            }
        }

        if (t is OrderType.Limit or OrderType.StopLimit && limit is null)
        {
            return (null, ApiResult.Invalid($"limit_price is required for {typeText} orders"));
        }

        if (t is OrderType.Stop or OrderType.StopLimit && stop is null)
        {
            return (null, ApiResult.Invalid($"stop_price is required for {typeText} orders"));
        }

        if (t is OrderType.Market or OrderType.Stop)
        {
            limit = null;
        }

        if (t is OrderType.Market or OrderType.Limit)
        {
            stop = null;
        }

        if (q.Raw % Quantity.Scale != 0 && (t != OrderType.Market || tif != TimeInForce.Day || orderClass is "bracket" or "oco" or "oto"))
        {
            return (null, ApiResult.Invalid("fractional orders must be simple market DAY orders"));
        }

        foreach (var (name, price) in new[] { ("limit_price", limit), ("stop_price", stop), ("take_profit.limit_price", takeProfit), ("stop_loss.stop_price", slStop), ("stop_loss.limit_price", slLimit) })
        {
            if (price is Price p && SubPenny(p))
            {
                return (null, ApiResult.State($"invalid {name} {p}. sub-penny increment does not fulfill minimum pricing criteria"));
            }
        }

        return (new OrderTicket(symbol, q, s, t, tif, limit, stop, clientOrderId, orderClass, extended, takeProfit, slStop, slLimit), null);
    }

    /// <summary>PATCH /v2/orders/{id} body.</summary>
    public static (ReplaceTicket? Ticket, ApiResult? Error) ParseReplace(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return (null, ApiResult.Error(400, 40010000, "request body format is invalid"));
        }

        if (!TryQuantity(root, "qty", out var qty, out var error) || !TryPrice(root, "limit_price", out var limit, out error) || !TryPrice(root, "stop_price", out var stop, out error))
        {
            return (null, error);
        }

        if (qty is { IsPositive: false } || qty is { } q && q.Raw % Quantity.Scale != 0)
        {
            return (null, ApiResult.Invalid("qty must be a positive whole number of shares"));
        }

        TimeInForce? tif = null;
        if (String(root, "time_in_force") is { } tifText)
        {
            if (!TryTimeInForce(tifText, out var parsed))
            {
                return (null, ApiResult.Invalid($"invalid time_in_force: '{tifText}'"));
            }

            tif = parsed;
        }

        string? clientOrderId = String(root, "client_order_id");
        if (clientOrderId is { Length: > 128 })
        {
            return (null, ApiResult.Invalid("client_order_id must be no more than 128 characters"));
        }

        foreach (var (name, price) in new[] { ("limit_price", limit), ("stop_price", stop) })
        {
            if (price is Price p && SubPenny(p))
            {
                return (null, ApiResult.State($"invalid {name} {p}. sub-penny increment does not fulfill minimum pricing criteria"));
            }
        }

        return (new ReplaceTicket(qty, tif, limit, stop, clientOrderId is { Length: > 0 } ? clientOrderId : null), null);
    }

    private static string? BasePriceProblem(OrderSide side, Price basePrice, Price? takeProfit, Price? stopLoss)
    {
        var cent = Price.From(0.01m);
        if (side == OrderSide.Buy)
        {
            return takeProfit < basePrice + cent ? "take_profit.limit_price must be >= base_price + 0.01"
                : stopLoss > basePrice - cent ? "stop_loss.stop_price must be <= base_price - 0.01"
                : null;
        }

        return takeProfit > basePrice - cent ? "take_profit.limit_price must be <= base_price - 0.01"
            : stopLoss < basePrice + cent ? "stop_loss.stop_price must be >= base_price + 0.01"
            : null;
    }

    /// <summary>Alpaca's pricing rule: whole cents from $1.00 up, up to four decimals below.</summary>
    private static bool SubPenny(Price p) => p.Raw % (p.Raw >= Price.Scale ? Price.Scale / 100 : Price.Scale / 10_000) != 0;

    private static bool TryTimeInForce(string text, out TimeInForce tif)
    {
        (bool ok, tif) = text switch
        {
            "day" => (true, TimeInForce.Day),
            "gtc" => (true, TimeInForce.Gtc),
            "ioc" => (true, TimeInForce.Ioc),
            "fok" => (true, TimeInForce.Fok),
            _ => (false, default),
        };
        return ok;
    }

    private static bool Has(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind is not JsonValueKind.Null;

    private static string? String(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    /// <summary>A decimal field sent as a string (<c>"10"</c>, as the docs say) or a JSON number (as some SDKs send); absent or null → null.</summary>
    private static bool TryDecimalText(JsonElement e, string name, out string? text, out ApiResult? error)
    {
        text = null;
        error = null;
        if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (v.ValueKind is JsonValueKind.String or JsonValueKind.Number)
        {
            text = v.ValueKind == JsonValueKind.String ? v.GetString()!.Trim() : v.GetRawText();
            if (text.Length > 0)
            {
                return true;
            }
        }

        error = ApiResult.Invalid($"invalid {name}: {v.GetRawText()}");
        return false;
    }

    private static bool TryPrice(JsonElement e, string name, out Price? price, out ApiResult? error)
    {
        price = null;
        if (!TryDecimalText(e, name, out var text, out error))
        {
            return false;
        }

        if (text is null)
        {
            return true;
        }

        if (!Price.TryParse(text, out var p) || !p.IsPositive)
        {
            error = ApiResult.Invalid($"invalid {name}: {text} (a positive decimal)");
            return false;
        }

        price = p;
        return true;
    }

    private static bool TryQuantity(JsonElement e, string name, out Quantity? qty, out ApiResult? error)
    {
        qty = null;
        if (!TryDecimalText(e, name, out var text, out error))
        {
            return false;
        }

        if (text is null)
        {
            return true;
        }

        if (!Quantity.TryParse(text, out var q))
        {
            error = ApiResult.Invalid($"invalid {name}: {text} (a decimal with at most 9 decimals)");
            return false;
        }

        qty = q;
        return true;
    }
}
