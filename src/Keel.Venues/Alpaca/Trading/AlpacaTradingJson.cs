using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Keel.Domain;
using Keel.Domain.Orders;
using Keel.Engine.Ports;

namespace Keel.Venues.Alpaca.Trading;

/// <summary>A reply from Alpaca that Keel cannot read: malformed or truncated JSON, a missing field, an unknown enum value.</summary>
public sealed class AlpacaReplyException : Exception
{
    public AlpacaReplyException(string message)
        : base(message)
    {
    }

    public AlpacaReplyException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public AlpacaReplyException()
        : base("unreadable reply")
    {
    }
}

/// <summary>An Alpaca Order object, read field by field.</summary>
internal sealed record AlpacaOrderDto(
    string Id,
    string ClientOrderId,
    string Symbol,
    OrderSide Side,
    OrderType Type,
    TimeInForce TimeInForce,
    Quantity Qty,
    Quantity FilledQty,
    Price? AveragePrice,
    Price? LimitPrice,
    Price? StopPrice,
    string Status,
    OrderStatus MappedStatus,
    string OrderClass,
    Timestamp CreatedAt,
    Timestamp UpdatedAt,
    string? ReplacedBy,
    string? Replaces,
    IReadOnlyList<AlpacaOrderDto> Legs);

/// <summary>One <c>trade_updates</c> event.</summary>
internal sealed record AlpacaTradeUpdateDto(string Event, string? ExecutionId, AlpacaOrderDto Order, Price? Price, Quantity? Qty, Timestamp Time);

/// <summary>One FILL activity.</summary>
internal sealed record AlpacaFillActivityDto(string Id, string OrderId, string Symbol, OrderSide Side, Quantity Qty, Price Price, Quantity CumQty, Timestamp Time)
{
    /// <summary>The execution id: the part of the activity id after <c>::</c> (the stream's <c>execution_id</c>), else the whole id.</summary>
    public string ExecutionId => Id.LastIndexOf("::", StringComparison.Ordinal) is int at and >= 0 ? Id[(at + 2)..] : Id;
}

/// <summary>Reads Alpaca's Trading API JSON by hand (trim- and AOT-safe) and writes its request bodies.</summary>
internal static class AlpacaTradingJson
{
    public static JsonDocument Parse(ReadOnlyMemory<byte> body)
    {
        try
        {
            return JsonDocument.Parse(body);
        }
        catch (JsonException ex)
        {
            throw new AlpacaReplyException($"the reply is not valid JSON ({ex.Message}): {Preview(body.Span)}", ex);
        }
    }

    public static AlpacaOrderDto Order(JsonElement e)
    {
        Expect(e, JsonValueKind.Object, "order");
        string status = Str(e, "status");
        var legs = new List<AlpacaOrderDto>();
        if (e.TryGetProperty("legs", out var l) && l.ValueKind == JsonValueKind.Array)
        {
            foreach (var leg in l.EnumerateArray())
            {
                legs.Add(Order(leg));
            }
        }

        return new AlpacaOrderDto(
            Str(e, "id"),
            Str(e, "client_order_id"),
            Str(e, "symbol"),
            Side(Str(e, "side")),
            Type(OptStr(e, "type") ?? Str(e, "order_type")),
            Tif(Str(e, "time_in_force")),
            Qty(e, "qty") ?? throw Missing("qty"),
            Qty(e, "filled_qty") ?? Quantity.Zero,
            Px(e, "filled_avg_price"),
            Px(e, "limit_price"),
            Px(e, "stop_price"),
            status,
            Status(status),
            OptStr(e, "order_class") ?? string.Empty,
            Time(e, "created_at") ?? throw Missing("created_at"),
            Time(e, "updated_at") ?? Time(e, "created_at")!.Value,
            OptStr(e, "replaced_by"),
            OptStr(e, "replaces"),
            legs);
    }

    public static AlpacaTradeUpdateDto TradeUpdate(JsonElement data)
    {
        Expect(data, JsonValueKind.Object, "trade update");
        if (!data.TryGetProperty("order", out var order))
        {
            throw Missing("order");
        }

        return new AlpacaTradeUpdateDto(
            Str(data, "event"), OptStr(data, "execution_id"), Order(order), Px(data, "price"), Qty(data, "qty"),
            Time(data, "timestamp") ?? throw Missing("timestamp"));
    }

    public static AlpacaFillActivityDto Activity(JsonElement e)
    {
        Expect(e, JsonValueKind.Object, "activity");
        return new AlpacaFillActivityDto(
            Str(e, "id"), Str(e, "order_id"), Str(e, "symbol"), Side(Str(e, "side")),
            Qty(e, "qty") ?? throw Missing("qty"), Px(e, "price") ?? throw Missing("price"),
            Qty(e, "cum_qty") ?? throw Missing("cum_qty"), Time(e, "transaction_time") ?? throw Missing("transaction_time"));
    }

    public static VenuePosition Position(JsonElement e)
    {
        Expect(e, JsonValueKind.Object, "position");
        return new VenuePosition(new InstrumentId(Str(e, "symbol")), Qty(e, "qty") ?? throw Missing("qty"), Px(e, "avg_entry_price") ?? throw Missing("avg_entry_price"));
    }

    public static VenueAccount Account(JsonElement e)
    {
        Expect(e, JsonValueKind.Object, "account");
        return new VenueAccount(OptStr(e, "currency") ?? "USD", Cash(e, "cash"), Cash(e, "buying_power"), Cash(e, "equity"));
    }

    public static AlpacaClock Clock(JsonElement e)
    {
        Expect(e, JsonValueKind.Object, "clock");
        bool open = e.TryGetProperty("is_open", out var o) && o.ValueKind is JsonValueKind.True or JsonValueKind.False ? o.GetBoolean() : throw Missing("is_open");
        return new AlpacaClock(Time(e, "timestamp") ?? throw Missing("timestamp"), open, Time(e, "next_open") ?? throw Missing("next_open"), Time(e, "next_close") ?? throw Missing("next_close"));
    }

    public static AlpacaCalendarDay CalendarDay(JsonElement e)
    {
        Expect(e, JsonValueKind.Object, "calendar day");
        string date = Str(e, "date");
        if (!DateOnly.TryParseExact(date, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            throw new AlpacaReplyException($"calendar date was '{date}'; expected YYYY-MM-DD");
        }

        return new AlpacaCalendarDay(day, Str(e, "open"), Str(e, "close"));
    }

    /// <summary>The <c>{code, message}</c> of an Alpaca error body; the body itself (shortened) when it has no message.</summary>
    public static (string Message, string? Code) Error(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            using var doc = JsonDocument.ParseValue(ref reader);
            var root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                string? message = OptStr(root, "message");
                string? code = root.TryGetProperty("code", out var c) ? (c.ValueKind == JsonValueKind.Number ? c.GetRawText() : c.ValueKind == JsonValueKind.String ? c.GetString() : null) : null;
                if (message is not null)
                {
                    return (message, code);
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON: show it as it is.
        }

        return (Preview(body), null);
    }

    /// <summary>The body of <c>POST /v2/orders</c> for one order, or the head of a bracket/OCO/OTO with its exits.</summary>
    public static byte[] OrderBody(SubmitOrder o, string orderClass = "", SubmitOrder? takeProfit = null, SubmitOrder? stopLoss = null) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("symbol", o.Instrument.Symbol);
        w.WriteString("qty", o.Quantity.ToString());
        w.WriteString("side", o.Side.ToText());
        w.WriteString("type", o.Type.ToText());
        w.WriteString("time_in_force", o.TimeInForce.ToText());
        if (o.LimitPrice is { } limit)
        {
            w.WriteString("limit_price", limit.ToString());
        }

        if (o.StopPrice is { } stop)
        {
            w.WriteString("stop_price", stop.ToString());
        }

        w.WriteString("client_order_id", o.ClientOrderId.Value);
        if (orderClass.Length > 0)
        {
            w.WriteString("order_class", orderClass);
        }

        if (takeProfit is not null)
        {
            w.WriteStartObject("take_profit");
            w.WriteString("limit_price", takeProfit.LimitPrice!.Value.ToString());
            w.WriteEndObject();
        }

        if (stopLoss is not null)
        {
            w.WriteStartObject("stop_loss");
            w.WriteString("stop_price", stopLoss.StopPrice!.Value.ToString());
            if (stopLoss.Type == OrderType.StopLimit && stopLoss.LimitPrice is { } slLimit)
            {
                w.WriteString("limit_price", slLimit.ToString());
            }

            w.WriteEndObject();
        }

        w.WriteEndObject();
    });

    /// <summary>The body of <c>PATCH /v2/orders/{id}</c>: the replacement's quantity, prices, time in force and client id.</summary>
    public static byte[] ReplaceBody(SubmitOrder r) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("qty", r.Quantity.ToString());
        w.WriteString("time_in_force", r.TimeInForce.ToText());
        if (r.LimitPrice is { } limit)
        {
            w.WriteString("limit_price", limit.ToString());
        }

        if (r.StopPrice is { } stop)
        {
            w.WriteString("stop_price", stop.ToString());
        }

        w.WriteString("client_order_id", r.ClientOrderId.Value);
        w.WriteEndObject();
    });

    public static byte[] StreamAuth(string key, string secret) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("action", "authenticate");
        w.WriteStartObject("data");
        w.WriteString("key_id", key);
        w.WriteString("secret_key", secret);
        w.WriteEndObject();
        w.WriteEndObject();
    });

    public static byte[] StreamListen() => """{"action":"listen","data":{"streams":["trade_updates"]}}"""u8.ToArray();

    public static OrderStatus Status(string status) => status switch
    {
        "new" or "accepted" or "pending_new" or "accepted_for_bidding" or "pending_replace" or "done_for_day" or "stopped" or "calculated" or "suspended" => OrderStatus.Accepted,
        "held" => OrderStatus.Pending,
        "partially_filled" => OrderStatus.PartiallyFilled,
        "filled" => OrderStatus.Filled,
        "canceled" => OrderStatus.Canceled,
        "expired" => OrderStatus.Expired,
        "replaced" => OrderStatus.Replaced,
        "rejected" => OrderStatus.Rejected,
        "pending_cancel" => OrderStatus.PendingCancel,
        _ => throw new AlpacaReplyException($"order status was '{status}', which Keel does not know"),
    };

    public static string? OptStr(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    public static string Preview(ReadOnlySpan<byte> body)
    {
        string text = System.Text.Encoding.UTF8.GetString(body.Length > 200 ? body[..200] : body).ReplaceLineEndings(" ").Trim();
        return text.Length == 0 ? "(empty body)" : body.Length > 200 ? text + "…" : text;
    }

    private static byte[] Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            write(w);
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void Expect(JsonElement e, JsonValueKind kind, string what)
    {
        if (e.ValueKind != kind)
        {
            throw new AlpacaReplyException($"expected the {what} as a JSON {kind.ToString().ToLowerInvariant()}, got {e.ValueKind.ToString().ToLowerInvariant()}");
        }
    }

    private static AlpacaReplyException Missing(string name) => new($"field '{name}' was missing or null");

    private static string Str(JsonElement e, string name) => OptStr(e, name) ?? throw Missing(name);

    private static Quantity? Qty(JsonElement e, string name)
    {
        if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        string text = v.ValueKind == JsonValueKind.String ? v.GetString()! : v.GetRawText();
        return Quantity.TryParse(text, out var q) ? q : throw new AlpacaReplyException($"field '{name}' was '{text}'; expected a decimal quantity");
    }

    private static Price? Px(JsonElement e, string name)
    {
        if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        string text = v.ValueKind == JsonValueKind.String ? v.GetString()! : v.GetRawText();
        return Price.TryParse(text, out var p) ? p : throw new AlpacaReplyException($"field '{name}' was '{text}'; expected a decimal price");
    }

    private static Money Cash(JsonElement e, string name)
    {
        string text = Str(e, name);
        return Money.TryParse(text, out var m) ? m : throw new AlpacaReplyException($"field '{name}' was '{text}'; expected a decimal amount");
    }

    private static Timestamp? Time(JsonElement e, string name)
    {
        string? text = OptStr(e, name);
        if (text is null)
        {
            return null;
        }

        return Timestamp.TryParse(text, out var t) ? t : throw new AlpacaReplyException($"field '{name}' was '{text}'; expected an ISO 8601 time");
    }

    private static OrderSide Side(string s) => s switch
    {
        "buy" => OrderSide.Buy,
        "sell" => OrderSide.Sell,
        _ => throw new AlpacaReplyException($"side was '{s}'; expected buy or sell"),
    };

    private static OrderType Type(string s) => s switch
    {
        "market" => OrderType.Market,
        "limit" => OrderType.Limit,
        "stop" => OrderType.Stop,
        "stop_limit" => OrderType.StopLimit,
        _ => throw new AlpacaReplyException($"order type was '{s}', which Keel does not know"),
    };

    private static TimeInForce Tif(string s) => s switch
    {
        "day" => TimeInForce.Day,
        "gtc" => TimeInForce.Gtc,
        "ioc" => TimeInForce.Ioc,
        "fok" => TimeInForce.Fok,
        _ => throw new AlpacaReplyException($"time_in_force was '{s}', which Keel does not know"),
    };
}
