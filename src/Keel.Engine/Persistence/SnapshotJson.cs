using System.Text.Json;
using Keel.Domain;
using Keel.Domain.Events;
using Keel.Domain.Orders;

namespace Keel.Engine.Persistence;

/// <summary>A component whose complete state can be written to, and restored from, a snapshot.</summary>
public interface ISnapshotable
{
    void Save(Utf8JsonWriter w);

    void Load(JsonElement e);
}

/// <summary>A snapshot that cannot be used: bad JSON, a missing field, or state that does not fit this run.</summary>
public sealed class SnapshotException : Exception
{
    public SnapshotException(string message)
        : base(message)
    {
    }

    public SnapshotException()
    {
    }

    public SnapshotException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// JSON conventions for snapshots: prices, quantities and money as exact decimal strings, times as Unix
/// nanoseconds, doubles as shortest round-trip numbers (so they restore bit for bit).
/// </summary>
public static class SnapshotJson
{
    public static void Write(this Utf8JsonWriter w, string name, Money value) => w.WriteString(name, value.ToString());

    public static void Write(this Utf8JsonWriter w, string name, Price value) => w.WriteString(name, value.ToString());

    public static void Write(this Utf8JsonWriter w, string name, Price? value)
    {
        if (value is Price p)
        {
            w.WriteString(name, p.ToString());
        }
        else
        {
            w.WriteNull(name);
        }
    }

    public static void Write(this Utf8JsonWriter w, string name, Quantity value) => w.WriteString(name, value.ToString());

    public static void Write(this Utf8JsonWriter w, string name, Timestamp value) => w.WriteNumber(name, value.UnixNanos);

    public static void Write(this Utf8JsonWriter w, string name, Timestamp? value)
    {
        if (value is Timestamp t)
        {
            w.WriteNumber(name, t.UnixNanos);
        }
        else
        {
            w.WriteNull(name);
        }
    }

    public static JsonElement Get(this JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) ? v : throw new SnapshotException($"snapshot field '{name}' is missing");

    public static Money GetMoney(this JsonElement e, string name) => Money.Parse(e.Get(name).GetString()!);

    public static Price GetPrice(this JsonElement e, string name) => Price.Parse(e.Get(name).GetString()!);

    public static Price? GetPriceOrNull(this JsonElement e, string name) =>
        e.Get(name).ValueKind == JsonValueKind.Null ? null : Price.Parse(e.Get(name).GetString()!);

    public static Quantity GetQuantity(this JsonElement e, string name) => Quantity.Parse(e.Get(name).GetString()!);

    public static Timestamp GetTime(this JsonElement e, string name) => Timestamp.FromUnixNanos(e.Get(name).GetInt64());

    public static Timestamp? GetTimeOrNull(this JsonElement e, string name) =>
        e.Get(name).ValueKind == JsonValueKind.Null ? null : Timestamp.FromUnixNanos(e.Get(name).GetInt64());

    public static long GetLong(this JsonElement e, string name) => e.Get(name).GetInt64();

    public static int GetInt(this JsonElement e, string name) => e.Get(name).GetInt32();

    public static bool GetBool(this JsonElement e, string name) => e.Get(name).GetBoolean();

    public static double GetDouble(this JsonElement e, string name) => e.Get(name).GetDouble();

    public static string? GetStringOrNull(this JsonElement e, string name) =>
        e.Get(name).ValueKind == JsonValueKind.Null ? null : e.Get(name).GetString();

    public static string GetText(this JsonElement e, string name) => e.Get(name).GetString() ?? throw new SnapshotException($"snapshot field '{name}' is null");

    public static void WriteBar(Utf8JsonWriter w, in Bar b)
    {
        w.WriteStartObject();
        w.WriteString("i", b.Instrument.Symbol);
        w.Write("t", b.Time);
        w.Write("o", b.Open);
        w.Write("h", b.High);
        w.Write("l", b.Low);
        w.Write("c", b.Close);
        w.Write("v", b.Volume);
        w.WriteEndObject();
    }

    public static Bar ReadBar(JsonElement e) =>
        new(new InstrumentId(e.GetText("i")), e.GetTime("t"), e.GetPrice("o"), e.GetPrice("h"), e.GetPrice("l"), e.GetPrice("c"), e.GetQuantity("v"));

    public static void WriteTick(Utf8JsonWriter w, in Tick t)
    {
        w.WriteStartObject();
        w.WriteString("i", t.Instrument.Symbol);
        w.Write("t", t.Time);
        w.WriteNumber("k", (int)t.Kind);
        w.Write("bid", t.Bid);
        w.Write("ask", t.Ask);
        w.Write("bidSize", t.BidSize);
        w.Write("askSize", t.AskSize);
        w.Write("last", t.Last);
        w.Write("size", t.Size);
        w.WriteString("x", t.Exchange);
        w.Write("recv", t.ReceivedAt);
        w.WriteEndObject();
    }

    public static Tick ReadTick(JsonElement e) =>
        new(new InstrumentId(e.GetText("i")), e.GetTime("t"), (TickKind)e.GetInt("k"), e.GetPrice("bid"), e.GetPrice("ask"),
            e.GetQuantity("bidSize"), e.GetQuantity("askSize"), e.GetPrice("last"), e.GetQuantity("size"), e.GetStringOrNull("x"), e.GetTime("recv"));

    public static void WriteFill(Utf8JsonWriter w, OrderFilled f)
    {
        w.WriteStartObject();
        w.WriteString("order", f.ClientOrderId.Value);
        w.WriteString("venueOrder", f.VenueOrderId.Value);
        w.WriteString("trade", f.TradeId.Value);
        w.WriteString("i", f.Instrument.Symbol);
        w.WriteNumber("side", (int)f.Side);
        w.Write("qty", f.LastQty);
        w.Write("px", f.LastPx);
        w.Write("commission", f.Commission);
        w.Write("ts", f.TsEvent);
        w.Write("init", f.TsInit);
        w.WriteEndObject();
    }

    public static OrderFilled ReadFill(JsonElement e) =>
        new(new ClientOrderId(e.GetText("order")), new VenueOrderId(e.GetText("venueOrder")), new TradeId(e.GetText("trade")),
            new InstrumentId(e.GetText("i")), (OrderSide)e.GetInt("side"), e.GetQuantity("qty"), e.GetPrice("px"), e.GetMoney("commission"),
            e.GetTime("ts"), e.GetTime("init"));

    public static void WriteOrder(Utf8JsonWriter w, Order order)
    {
        var s = order.Capture();
        w.WriteStartObject();
        w.WriteString("id", s.Id.Value);
        w.WriteNumber("number", s.Number);
        w.WriteString("i", s.Request.Instrument.Symbol);
        w.WriteNumber("side", (int)s.Request.Side);
        w.WriteNumber("type", (int)s.Request.Type);
        w.Write("qty", s.Request.Quantity);
        w.Write("limit", s.Request.LimitPrice);
        w.Write("stop", s.Request.StopPrice);
        w.WriteNumber("tif", (int)s.Request.TimeInForce);
        w.WriteString("tag", s.Request.Tag);
        w.Write("created", s.CreatedAt);
        w.WriteNumber("contingency", (int)s.Contingency);
        w.WriteString("parent", s.ParentId?.Value);
        w.WriteStartArray("linked");
        foreach (var id in s.LinkedIds)
        {
            w.WriteStringValue(id.Value);
        }

        w.WriteEndArray();
        w.WriteNumber("status", (int)s.Status);
        w.WriteString("venueId", s.VenueOrderId?.Value);
        w.WriteString("reason", s.Reason);
        w.Write("submitted", s.SubmittedAt);
        w.Write("last", s.LastEventAt);
        w.WriteStartArray("fills");
        foreach (var f in s.Fills)
        {
            WriteFill(w, f);
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    public static Order ReadOrder(JsonElement e)
    {
        var request = new OrderRequest(new InstrumentId(e.GetText("i")), (OrderSide)e.GetInt("side"), (OrderType)e.GetInt("type"), e.GetQuantity("qty"),
            e.GetPriceOrNull("limit"), e.GetPriceOrNull("stop"), (TimeInForce)e.GetInt("tif"), e.GetStringOrNull("tag"));
        var parent = e.GetStringOrNull("parent");
        var venue = e.GetStringOrNull("venueId");
        var state = new OrderState(
            new ClientOrderId(e.GetText("id")),
            e.GetLong("number"),
            request,
            e.GetTime("created"),
            (ContingencyType)e.GetInt("contingency"),
            parent is null ? null : new ClientOrderId(parent),
            [.. e.Get("linked").EnumerateArray().Select(x => new ClientOrderId(x.GetString()!))],
            (OrderStatus)e.GetInt("status"),
            venue is null ? null : new VenueOrderId(venue),
            e.GetStringOrNull("reason"),
            e.GetTimeOrNull("submitted"),
            e.GetTime("last"),
            [.. e.Get("fills").EnumerateArray().Select(ReadFill)]);
        return Order.Restore(state);
    }
}
