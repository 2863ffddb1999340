using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Keel.Domain;
using Keel.Domain.Orders;
using Keel.Engine.Ports;

namespace Keel.Venues.Oanda.Trading;

/// <summary>A reply from OANDA this adapter cannot read (truncated, not JSON, a field missing, an unknown enum value).</summary>
public sealed class OandaProtocolException : Exception
{
    public OandaProtocolException(string message, string? requestId = null, Exception? inner = null)
        : base(requestId is null ? message : $"{message} (RequestID {requestId})", inner)
    {
        RequestId = requestId;
    }

    public OandaProtocolException()
    {
    }

    public OandaProtocolException(string message)
        : this(message, null, null)
    {
    }

    public OandaProtocolException(string message, Exception innerException)
        : this(message, null, innerException)
    {
    }

    /// <summary>OANDA's <c>RequestID</c> response header, for support.</summary>
    public string? RequestId { get; }
}

/// <summary>Extras an OANDA order can carry that <see cref="SubmitOrder"/> has no field for.</summary>
/// <param name="MarketIfTouched">Send a LIMIT or STOP order as MARKET_IF_TOUCHED at its price (a touch, then a market fill).</param>
/// <param name="PriceBound">The worst price a MARKET or STOP order may fill at.</param>
/// <param name="TakeProfit">Take-profit on fill at this price.</param>
/// <param name="StopLoss">Stop-loss on fill at this price.</param>
/// <param name="StopLossDistance">Stop-loss on fill at this distance from the fill price (when <paramref name="StopLoss"/> is null).</param>
/// <param name="TrailingStopDistance">Trailing stop-loss on fill at this distance.</param>
public sealed record OandaOrderExtras(
    bool MarketIfTouched = false,
    Price? PriceBound = null,
    Price? TakeProfit = null,
    ClientOrderId? TakeProfitClientId = null,
    Price? StopLoss = null,
    Price? StopLossDistance = null,
    ClientOrderId? StopLossClientId = null,
    Price? TrailingStopDistance = null,
    ClientOrderId? TrailingStopClientId = null,
    TimeInForce ExitTimeInForce = TimeInForce.Gtc);

/// <summary>The OANDA v20 wire: order request bodies out, orders, trades, positions and error bodies in.</summary>
internal static class OandaWire
{
    public static bool TryTime(string text, out Timestamp time)
    {
        time = default;
        if (text.Length > 64 || text.Any(c => c > 127))
        {
            return false;
        }

        Span<byte> buffer = stackalloc byte[64];
        int n = Encoding.ASCII.GetBytes(text, buffer);
        return OandaPriceParser.TryTime(buffer[..n], out time);
    }

    /// <summary>The <c>{"order":{…}}</c> body of a create or replace.</summary>
    public static byte[] OrderBody(SubmitOrder order, OandaOrderExtras? extras)
    {
        extras ??= new OandaOrderExtras();
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartObject("order");
            string type = order.Type switch
            {
                OrderType.Market => "MARKET",
                OrderType.Limit when extras.MarketIfTouched => "MARKET_IF_TOUCHED",
                OrderType.Stop when extras.MarketIfTouched => "MARKET_IF_TOUCHED",
                OrderType.Limit => "LIMIT",
                OrderType.Stop or OrderType.StopLimit => "STOP",
                _ => throw new ArgumentException($"order type {order.Type} has no OANDA equivalent", nameof(order)),
            };
            w.WriteString("type", type);
            w.WriteString("instrument", order.Instrument.Symbol);
            var units = order.Side == OrderSide.Buy ? order.Quantity : -order.Quantity;
            w.WriteString("units", units.ToString());
            Price? price = order.Type switch
            {
                OrderType.Limit => order.LimitPrice,
                OrderType.Stop or OrderType.StopLimit => order.StopPrice,
                _ => null,
            };
            if (price is { } p)
            {
                w.WriteString("price", p.ToString());
            }

            // A stop-limit is a STOP whose fill may be no worse than its limit: OANDA's priceBound.
            if ((order.Type == OrderType.StopLimit ? order.LimitPrice : extras.PriceBound) is { } bound)
            {
                w.WriteString("priceBound", bound.ToString());
            }

            w.WriteString("timeInForce", order.Type == OrderType.Market
                ? (order.TimeInForce == TimeInForce.Ioc ? "IOC" : "FOK")
                : order.TimeInForce switch { TimeInForce.Day => "GFD", TimeInForce.Ioc => "IOC", TimeInForce.Fok => "FOK", _ => "GTC" });
            w.WriteString("positionFill", "DEFAULT");
            w.WriteStartObject("clientExtensions");
            w.WriteString("id", order.ClientOrderId.Value);
            w.WriteEndObject();
            string exitTif = extras.ExitTimeInForce == TimeInForce.Day ? "GFD" : "GTC";
            if (extras.TakeProfit is { } tp)
            {
                OnFill(w, "takeProfitOnFill", "price", tp, extras.TakeProfitClientId, exitTif);
            }

            if (extras.StopLoss is { } sl)
            {
                OnFill(w, "stopLossOnFill", "price", sl, extras.StopLossClientId, exitTif);
            }
            else if (extras.StopLossDistance is { } sld)
            {
                OnFill(w, "stopLossOnFill", "distance", sld, extras.StopLossClientId, exitTif);
            }

            if (extras.TrailingStopDistance is { } tsl)
            {
                OnFill(w, "trailingStopLossOnFill", "distance", tsl, extras.TrailingStopClientId, exitTif);
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void OnFill(Utf8JsonWriter w, string name, string field, Price value, ClientOrderId? clientId, string tif)
    {
        w.WriteStartObject(name);
        w.WriteString(field, value.ToString());
        w.WriteString("timeInForce", tif);
        if (clientId is { } id)
        {
            w.WriteStartObject("clientExtensions");
            w.WriteString("id", id.Value);
            w.WriteEndObject();
        }

        w.WriteEndObject();
    }

    public static byte[] Json(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            write(w);
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>An order as <c>GET …/orders/{id}</c> shows it. A dependent order (take profit, stop loss) names only its trade: <paramref name="trade"/> supplies instrument and size.</summary>
    public static VenueOrder Order(JsonElement o, Func<string, (string Instrument, Quantity Units)?> trade, OandaTransaction? fill, string? requestId)
    {
        string id = Need(o, "id", requestId);
        string type = Need(o, "type", requestId);
        string state = Need(o, "state", requestId);
        string? instrument = OandaTransaction.Str(o, "instrument");
        Quantity units;
        if (OandaTransaction.Str(o, "tradeID") is { } tradeId)
        {
            var t = trade(tradeId) ?? throw new OandaProtocolException($"order {id} belongs to trade {tradeId}, which OANDA does not show", requestId);
            instrument = t.Instrument;
            units = -t.Units; // the exit closes the trade
        }
        else
        {
            units = Qty(o, "units", requestId);
        }

        if (instrument is null)
        {
            throw new OandaProtocolException($"order {id} has no instrument", requestId);
        }

        var price = OandaTransaction.Str(o, "price") is { } pt ? Px(pt, "price", requestId) : (Price?)null;
        var (keelType, limit, stop) = type switch
        {
            "MARKET" or "FIXED_PRICE" => (OrderType.Market, (Price?)null, (Price?)null),
            "LIMIT" or "TAKE_PROFIT" => (OrderType.Limit, price, null),
            "STOP" when OandaTransaction.Str(o, "priceBound") is { } b => (OrderType.StopLimit, Px(b, "priceBound", requestId), price),
            "STOP" or "STOP_LOSS" or "GUARANTEED_STOP_LOSS" or "MARKET_IF_TOUCHED" => (OrderType.Stop, null, price),
            "TRAILING_STOP_LOSS" => (OrderType.Stop, null, OandaTransaction.Str(o, "trailingStopValue") is { } tv ? Px(tv, "trailingStopValue", requestId) : null),
            _ => throw new OandaProtocolException($"order {id} has type '{type}', which this adapter does not know", requestId),
        };
        var status = state switch
        {
            "PENDING" => OrderStatus.Accepted,
            "TRIGGERED" => OrderStatus.Accepted,
            "FILLED" => OrderStatus.Filled,
            "CANCELLED" when OandaTransaction.Str(o, "replacedByOrderID") is not null => OrderStatus.Replaced,
            "CANCELLED" => OrderStatus.Canceled,
            _ => throw new OandaProtocolException($"order {id} has state '{state}', which this adapter does not know", requestId),
        };
        string tifText = OandaTransaction.Str(o, "timeInForce") ?? "GTC";
        var tif = tifText switch
        {
            "GTC" or "GTD" => TimeInForce.Gtc,
            "GFD" => TimeInForce.Day,
            "IOC" => TimeInForce.Ioc,
            "FOK" => TimeInForce.Fok,
            _ => throw new OandaProtocolException($"order {id} has timeInForce '{tifText}', which this adapter does not know", requestId),
        };
        var created = Time(o, "createTime", requestId);
        var updated = OandaTransaction.Str(o, "filledTime") is { } ft && TryTime(ft, out var f) ? f
            : OandaTransaction.Str(o, "cancelledTime") is { } ct && TryTime(ct, out var c) ? c : created;
        string? clientId = o.TryGetProperty("clientExtensions", out var ext) ? OandaTransaction.Str(ext, "id") : null;
        var quantity = units.Abs();
        return new VenueOrder(
            clientId is null ? null : new ClientOrderId(clientId), new VenueOrderId(id), new InstrumentId(instrument),
            units.IsNegative ? OrderSide.Sell : OrderSide.Buy, keelType, quantity,
            status == OrderStatus.Filled ? (fill?.Units?.Abs() ?? quantity) : Quantity.Zero, status == OrderStatus.Filled ? fill?.Price : null,
            limit, stop, tif, status, created, updated,
            OandaTransaction.Str(o, "replacedByOrderID") is { } rb ? new VenueOrderId(rb) : null, null);
    }

    /// <summary>The errorMessage and errorCode (or the reject transaction's rejectReason) of an error body; the body itself when it is not JSON.</summary>
    public static (string Message, string? Code, string? RejectReason) Error(byte[] body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            string? reject = null;
            foreach (var name in (ReadOnlySpan<string>)["orderRejectTransaction", "orderCancelRejectTransaction", "orderCancelTransaction"])
            {
                if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out var tx))
                {
                    reject ??= OandaTransaction.Str(tx, "rejectReason") ?? OandaTransaction.Str(tx, "reason");
                }
            }

            string message = OandaTransaction.Str(root, "errorMessage") ?? reject ?? Http.ErrorBodies.ErrorText(Encoding.UTF8.GetString(body), "errorMessage");
            return (message, OandaTransaction.Str(root, "errorCode") ?? reject, reject);
        }
        catch (JsonException)
        {
            return (Http.ErrorBodies.ErrorText(Encoding.UTF8.GetString(body), "errorMessage"), null, null);
        }
    }

    public static string Need(JsonElement e, string name, string? requestId) =>
        OandaTransaction.Str(e, name) ?? throw new OandaProtocolException($"the reply has no '{name}'", requestId);

    public static Quantity Qty(JsonElement e, string name, string? requestId) =>
        Quantity.TryParse(Need(e, name, requestId).AsSpan(), out var q) ? q : throw new OandaProtocolException($"'{name}' is not a number: {OandaTransaction.Str(e, name)}", requestId);

    public static Price Px(string text, string name, string? requestId) =>
        Price.TryParse(text.AsSpan(), out var p) ? p : throw new OandaProtocolException($"'{name}' is not a price: {text}", requestId);

    public static Money Amount(JsonElement e, string name, string? requestId) =>
        Money.TryParse(Need(e, name, requestId), out var m) ? m : throw new OandaProtocolException($"'{name}' is not an amount: {OandaTransaction.Str(e, name)}", requestId);

    public static Timestamp Time(JsonElement e, string name, string? requestId) =>
        TryTime(Need(e, name, requestId), out var t) ? t : throw new OandaProtocolException($"'{name}' is not a time: {OandaTransaction.Str(e, name)}", requestId);

    public static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);
}
