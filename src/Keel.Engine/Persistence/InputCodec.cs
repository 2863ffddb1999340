using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Keel.Domain;
using Keel.Domain.Events;
using Keel.Domain.Orders;
using Keel.Engine.Kernel;

namespace Keel.Engine.Persistence;

/// <summary>
/// Turns an inbox item into an <see cref="InputRecord"/> and back, exactly. Payloads are flat JSON objects (field names
/// are stored: never rename one). Prices and quantities are whole numbers of raw units (1e-9), money a whole number of
/// 1e-18 units, times Unix nanoseconds, enums their numeric values. Nothing is validated on the way in or corrected on
/// the way out: an order from outside may be invalid (a negative quantity, an unknown side), and its replay must reach
/// the kernel just as invalid, to be refused the same way. Every field is required; a payload with a missing, extra
/// or mistyped field is refused with a <see cref="FormatException"/> naming the record's sequence.
/// </summary>
public static class InputCodec
{
    // One writer per thread, reused: encoding an input allocates only the payload string and the record.
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? _threadBuffer;

    [ThreadStatic]
    private static Utf8JsonWriter? _threadWriter;

    /// <summary>
    /// The record of <paramref name="item"/>, taken by the kernel as input number <paramref name="sequence"/> at
    /// <paramref name="clock"/>. Throws <see cref="ArgumentException"/> for items that are not inputs (bar batches, end of
    /// data, faults), which a live run does not journal one by one.
    /// </summary>
    public static InputRecord Encode(long sequence, Timestamp clock, in InboxItem item)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sequence, 1);
        var buffer = _threadBuffer ??= new ArrayBufferWriter<byte>(256);
        buffer.ResetWrittenCount();
        var w = _threadWriter ??= new Utf8JsonWriter(buffer);
        w.Reset(buffer);
        InputKind kind;
        try
        {
            kind = Write(w, in item);
            w.Flush();
        }
        catch
        {
            // A half-written object would poison the next encode on this thread.
            w.Reset(buffer);
            throw;
        }

        return new InputRecord(sequence, clock, kind, System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    /// <summary>
    /// The inbox item <paramref name="record"/> holds; an external order or cancel comes back as a fresh
    /// <see cref="ExternalOrderRequest"/> (nobody waits for its result). Throws <see cref="FormatException"/> for a
    /// payload that does not decode.
    /// </summary>
    public static InboxItem Decode(InputRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(record.Payload);
        }
        catch (JsonException ex)
        {
            throw new FormatException($"input {record.Sequence} ({Describe(record.Kind)}): the payload is not valid JSON: {ex.Message}", ex);
        }

        using (document)
        {
            var r = new PayloadReader(document.RootElement, record.Sequence, record.Kind);
            var item = record.Kind switch
            {
                InputKind.Bar => InboxItem.ForBar(ReadBar(r)),
                InputKind.Tick => InboxItem.ForTick(ReadTick(r)),
                InputKind.OrderEvent => InboxItem.ForOrderEvent(ReadOrderEvent(r)),
                InputKind.ExternalSubmit => InboxItem.ForExternal(ExternalOrderRequest.Submit(ReadOrder(r))),
                InputKind.ExternalCancel => InboxItem.ForExternal(ExternalOrderRequest.Cancel(r.OrderId("order"))),
                InputKind.Command => InboxItem.ForCommand((KernelCommand)r.Int32("command")),
                InputKind.Adjustment => InboxItem.ForAdjustment(ReadAdjustment(r)),
                _ => throw new FormatException($"input {record.Sequence}: kind {(int)record.Kind} is not a kind of input this Keel knows"),
            };
            r.End();
            return item;
        }
    }

    private static string Describe(InputKind kind) => kind switch
    {
        InputKind.Bar => "bar",
        InputKind.Tick => "tick",
        InputKind.OrderEvent => "order event",
        InputKind.ExternalSubmit => "external order",
        InputKind.ExternalCancel => "external cancel",
        InputKind.Command => "command",
        InputKind.Adjustment => "adjustment",
        _ => $"kind {(int)kind}",
    };

    private static InputKind Write(Utf8JsonWriter w, in InboxItem item)
    {
        switch (item.Kind)
        {
            case InboxItemKind.Bar:
                WriteBar(w, item.Bar);
                return InputKind.Bar;
            case InboxItemKind.Tick:
                WriteTick(w, item.Tick);
                return InputKind.Tick;
            case InboxItemKind.OrderEvent:
                WriteOrderEvent(w, item.Payload as OrderEvent ?? throw new ArgumentException("an order-event inbox item carried no order event", nameof(item)));
                return InputKind.OrderEvent;
            case InboxItemKind.External:
                {
                    var request = item.Payload as ExternalOrderRequest ?? throw new ArgumentException("an external inbox item carried no request", nameof(item));
                    w.WriteStartObject();
                    if (request.CancelId is ClientOrderId cancel)
                    {
                        WriteText(w, "order"u8, cancel.Value);
                        w.WriteEndObject();
                        return InputKind.ExternalCancel;
                    }

                    WriteOrder(w, request.Order);
                    w.WriteEndObject();
                    return InputKind.ExternalSubmit;
                }

            case InboxItemKind.Command:
                w.WriteStartObject();
                w.WriteNumber("command"u8, (int)item.Command);
                w.WriteEndObject();
                return InputKind.Command;
            case InboxItemKind.Adjustment:
                WriteAdjustment(w, item.Payload as KernelAdjustment ?? throw new ArgumentException("an adjustment inbox item carried no adjustment", nameof(item)));
                return InputKind.Adjustment;
            default:
                throw new ArgumentException(
                    $"an inbox item of kind {item.Kind} is not an input; only bars, ticks, order events, external orders and cancels, commands and adjustments are journaled",
                    nameof(item));
        }
    }

    private static void WriteBar(Utf8JsonWriter w, in Bar b)
    {
        w.WriteStartObject();
        WriteText(w, "instrument"u8, b.Instrument.Symbol);
        w.WriteNumber("time"u8, b.Time.UnixNanos);
        w.WriteNumber("open"u8, b.Open.Raw);
        w.WriteNumber("high"u8, b.High.Raw);
        w.WriteNumber("low"u8, b.Low.Raw);
        w.WriteNumber("close"u8, b.Close.Raw);
        w.WriteNumber("volume"u8, b.Volume.Raw);
        w.WriteEndObject();
    }

    private static Bar ReadBar(PayloadReader r) => new(
        r.Instrument("instrument"),
        r.Time("time"),
        Price.FromRaw(r.Int64("open")),
        Price.FromRaw(r.Int64("high")),
        Price.FromRaw(r.Int64("low")),
        Price.FromRaw(r.Int64("close")),
        Quantity.FromRaw(r.Int64("volume")));

    private static void WriteTick(Utf8JsonWriter w, in Tick t)
    {
        w.WriteStartObject();
        WriteText(w, "instrument"u8, t.Instrument.Symbol);
        w.WriteNumber("time"u8, t.Time.UnixNanos);
        w.WriteNumber("kind"u8, (int)t.Kind);
        w.WriteNumber("bid"u8, t.Bid.Raw);
        w.WriteNumber("ask"u8, t.Ask.Raw);
        w.WriteNumber("bid_size"u8, t.BidSize.Raw);
        w.WriteNumber("ask_size"u8, t.AskSize.Raw);
        w.WriteNumber("last"u8, t.Last.Raw);
        w.WriteNumber("size"u8, t.Size.Raw);
        WriteText(w, "exchange"u8, t.Exchange);
        w.WriteNumber("received_at"u8, t.ReceivedAt.UnixNanos);
        w.WriteEndObject();
    }

    private static Tick ReadTick(PayloadReader r) => new(
        r.Instrument("instrument"),
        r.Time("time"),
        (TickKind)r.Int32("kind"),
        Price.FromRaw(r.Int64("bid")),
        Price.FromRaw(r.Int64("ask")),
        Quantity.FromRaw(r.Int64("bid_size")),
        Quantity.FromRaw(r.Int64("ask_size")),
        Price.FromRaw(r.Int64("last")),
        Quantity.FromRaw(r.Int64("size")),
        r.Text("exchange"),
        r.Time("received_at"));

    private static void WriteOrder(Utf8JsonWriter w, in OrderRequest o)
    {
        WriteText(w, "instrument"u8, o.Instrument.Symbol);
        w.WriteNumber("side"u8, (int)o.Side);
        w.WriteNumber("type"u8, (int)o.Type);
        w.WriteNumber("quantity"u8, o.Quantity.Raw);
        WriteOptional(w, "limit"u8, o.LimitPrice);
        WriteOptional(w, "stop"u8, o.StopPrice);
        w.WriteNumber("time_in_force"u8, (int)o.TimeInForce);
        WriteText(w, "tag"u8, o.Tag);
    }

    private static OrderRequest ReadOrder(PayloadReader r) => new(
        r.Instrument("instrument"),
        (OrderSide)r.Code("side"),
        (OrderType)r.Code("type"),
        Quantity.FromRaw(r.Int64("quantity")),
        r.OptionalInt64("limit") is long limit ? Price.FromRaw(limit) : null,
        r.OptionalInt64("stop") is long stop ? Price.FromRaw(stop) : null,
        (TimeInForce)r.Code("time_in_force"),
        r.Text("tag"));

    // Stored names of order events: never rename.
    private static ReadOnlySpan<byte> EventName(OrderEvent e) => e switch
    {
        OrderSubmitted => "submitted"u8,
        OrderAccepted => "accepted"u8,
        OrderRejected => "rejected"u8,
        OrderDenied => "denied"u8,
        OrderPendingCancel => "pending_cancel"u8,
        OrderCancelRejected => "cancel_rejected"u8,
        OrderCanceled => "canceled"u8,
        OrderExpired => "expired"u8,
        OrderReplaced => "replaced"u8,
        OrderFilled => "filled"u8,
        OrderStatusUnknown => "unknown"u8,
        _ => throw new ArgumentException($"order event {e.GetType().Name} has no input encoding", nameof(e)),
    };

    private static void WriteOrderEvent(Utf8JsonWriter w, OrderEvent e)
    {
        w.WriteStartObject();
        w.WriteString("event"u8, EventName(e));
        WriteText(w, "order"u8, e.ClientOrderId.Value);
        w.WriteNumber("ts_event"u8, e.TsEvent.UnixNanos);
        w.WriteNumber("ts_init"u8, e.TsInit.UnixNanos);
        switch (e)
        {
            case OrderAccepted a:
                WriteText(w, "venue_order"u8, a.VenueOrderId.Value);
                break;
            case OrderRejected x:
                WriteText(w, "reason"u8, x.Reason);
                break;
            case OrderDenied x:
                WriteText(w, "reason"u8, x.Reason);
                break;
            case OrderCancelRejected x:
                WriteText(w, "reason"u8, x.Reason);
                break;
            case OrderCanceled x:
                WriteText(w, "reason"u8, x.Reason);
                break;
            case OrderReplaced x:
                WriteText(w, "replaced_by"u8, x.ReplacedBy.Value);
                break;
            case OrderStatusUnknown x:
                WriteText(w, "reason"u8, x.Reason);
                break;
            case OrderFilled f:
                WriteText(w, "venue_order"u8, f.VenueOrderId.Value);
                WriteText(w, "trade"u8, f.TradeId.Value);
                WriteText(w, "instrument"u8, f.Instrument.Symbol);
                w.WriteNumber("side"u8, (int)f.Side);
                w.WriteNumber("quantity"u8, f.LastQty.Raw);
                w.WriteNumber("price"u8, f.LastPx.Raw);
                WriteInt128(w, "commission"u8, f.Commission.Raw);
                break;
        }

        w.WriteEndObject();
    }

    private static OrderEvent ReadOrderEvent(PayloadReader r)
    {
        string name = r.Text("event") ?? throw r.Fail("field 'event' was null; it must name an order event");
        var id = r.OrderId("order");
        var tsEvent = r.Time("ts_event");
        var tsInit = r.Time("ts_init");
        return name switch
        {
            "submitted" => new OrderSubmitted(id, tsEvent, tsInit),
            "accepted" => new OrderAccepted(id, new VenueOrderId(r.Text("venue_order")!), tsEvent, tsInit),
            "rejected" => new OrderRejected(id, r.Text("reason")!, tsEvent, tsInit),
            "denied" => new OrderDenied(id, r.Text("reason")!, tsEvent, tsInit),
            "pending_cancel" => new OrderPendingCancel(id, tsEvent, tsInit),
            "cancel_rejected" => new OrderCancelRejected(id, r.Text("reason")!, tsEvent, tsInit),
            "canceled" => new OrderCanceled(id, r.Text("reason"), tsEvent, tsInit),
            "expired" => new OrderExpired(id, tsEvent, tsInit),
            "replaced" => new OrderReplaced(id, r.OrderId("replaced_by"), tsEvent, tsInit),
            "unknown" => new OrderStatusUnknown(id, r.Text("reason")!, tsEvent, tsInit),
            "filled" => new OrderFilled(
                id,
                new VenueOrderId(r.Text("venue_order")!),
                new TradeId(r.Text("trade")!),
                r.Instrument("instrument"),
                (OrderSide)r.Code("side"),
                Quantity.FromRaw(r.Int64("quantity")),
                Price.FromRaw(r.Int64("price")),
                Money.FromRaw(r.Int128("commission")),
                tsEvent,
                tsInit),
            _ => throw r.Fail($"field 'event' was \"{name}\"; it must name an order event (submitted, accepted, rejected, denied, pending_cancel, cancel_rejected, canceled, expired, replaced, filled, unknown)"),
        };
    }

    private static void WriteAdjustment(Utf8JsonWriter w, KernelAdjustment a)
    {
        w.WriteStartObject();
        w.WriteNumber("adjustment"u8, (int)a.Kind);
        WriteText(w, "reason"u8, a.Reason);
        WriteText(w, "instrument"u8, a.Instrument.Symbol);
        w.WriteNumber("side"u8, (int)a.Side);
        w.WriteNumber("quantity"u8, a.Quantity.Raw);
        w.WriteNumber("price"u8, a.Price.Raw);
        WriteInt128(w, "commission"u8, a.Commission.Raw);
        WriteText(w, "trade"u8, a.TradeId.Value);
        WriteText(w, "venue_order"u8, a.VenueOrderId.Value);
        w.WriteNumber("time"u8, a.Time.UnixNanos);
        WriteText(w, "state"u8, a.State);
        w.WriteEndObject();
    }

    private static KernelAdjustment ReadAdjustment(PayloadReader r) => new(
        (KernelAdjustmentKind)r.Int32("adjustment"),
        r.Text("reason") ?? throw r.Fail("field 'reason' was null; an adjustment says why it was made"),
        r.Instrument("instrument"),
        (OrderSide)r.Code("side"),
        Quantity.FromRaw(r.Int64("quantity")),
        Price.FromRaw(r.Int64("price")),
        Money.FromRaw(r.Int128("commission")),
        new TradeId(r.Text("trade")!),
        new VenueOrderId(r.Text("venue_order")!),
        r.Time("time"),
        r.Text("state"));

    private static void WriteInt128(Utf8JsonWriter w, ReadOnlySpan<byte> name, Int128 value)
    {
        Span<byte> digits = stackalloc byte[48];
        if (!value.TryFormat(digits, out int n, default, CultureInfo.InvariantCulture))
        {
            throw new InvalidOperationException("a 128-bit integer did not fit 48 bytes");
        }

        w.WritePropertyName(name);
        w.WriteRawValue(digits[..n], skipInputValidation: true);
    }

    // Ids and free text; null stays null (a default id holds none), so every value comes back as it went in.
    private static void WriteText(Utf8JsonWriter w, ReadOnlySpan<byte> name, string? value)
    {
        if (value is null)
        {
            w.WriteNull(name);
        }
        else
        {
            w.WriteString(name, value);
        }
    }

    private static void WriteOptional(Utf8JsonWriter w, ReadOnlySpan<byte> name, Price? value)
    {
        if (value is Price p)
        {
            w.WriteNumber(name, p.Raw);
        }
        else
        {
            w.WriteNull(name);
        }
    }

    /// <summary>Reads the fields of one flat payload object, each exactly once, and says precisely what was wrong.</summary>
    private sealed class PayloadReader
    {
        private readonly JsonElement _root;
        private readonly long _sequence;
        private readonly InputKind _kind;
        private readonly List<string> _read = new(12);

        public PayloadReader(JsonElement root, long sequence, InputKind kind)
        {
            _root = root;
            _sequence = sequence;
            _kind = kind;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Fail($"the payload was a JSON {root.ValueKind.ToString().ToLowerInvariant()}; it must be an object");
            }
        }

        public FormatException Fail(string what) => new($"input {_sequence} ({Describe(_kind)}): {what}");

        private JsonElement Field(string name)
        {
            if (!_root.TryGetProperty(name, out var value))
            {
                throw Fail($"the payload has no field '{name}'");
            }

            _read.Add(name);
            return value;
        }

        public long Int64(string name)
        {
            var v = Field(name);
            return v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out long x) ? x : throw Fail($"field '{name}' was {v.GetRawText()}; it must be a whole number");
        }

        public long? OptionalInt64(string name)
        {
            var v = Field(name);
            if (v.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            return v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out long x) ? x : throw Fail($"field '{name}' was {v.GetRawText()}; it must be a whole number or null");
        }

        public int Int32(string name)
        {
            var v = Field(name);
            return v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int x) ? x : throw Fail($"field '{name}' was {v.GetRawText()}; it must be a whole number (32 bits)");
        }

        /// <summary>
        /// An enum's stored number (the order enums are bytes): a number outside 0–255, which a journal of an older
        /// build may hold for an invalid request, reads as 0, so it stays invalid instead of wrapping onto a valid value.
        /// </summary>
        public byte Code(string name)
        {
            int x = Int32(name);
            return x is >= 0 and <= byte.MaxValue ? (byte)x : (byte)0;
        }

        public Int128 Int128(string name)
        {
            var v = Field(name);
            return v.ValueKind == JsonValueKind.Number && System.Int128.TryParse(v.GetRawText(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var x)
                ? x
                : throw Fail($"field '{name}' was {v.GetRawText()}; it must be a whole number (128 bits)");
        }

        public Timestamp Time(string name) => Timestamp.FromUnixNanos(Int64(name));

        public string? Text(string name)
        {
            var v = Field(name);
            return v.ValueKind switch
            {
                JsonValueKind.String => v.GetString(),
                JsonValueKind.Null => null,
                _ => throw Fail($"field '{name}' was {v.GetRawText()}; it must be a string or null"),
            };
        }

        public InstrumentId Instrument(string name)
        {
            string? symbol = Text(name);
            try
            {
                return symbol is null ? default : new InstrumentId(symbol);
            }
            catch (ArgumentException ex)
            {
                throw Fail($"field '{name}' was \"{symbol}\"; {ex.Message}");
            }
        }

        public ClientOrderId OrderId(string name)
        {
            string? value = Text(name);
            try
            {
                return value is null ? default : new ClientOrderId(value);
            }
            catch (ArgumentException)
            {
                throw Fail($"field '{name}' was \"{value}\"; a client order id has 1 to 48 characters");
            }
        }

        /// <summary>Refuses fields the kind does not have, and fields given twice.</summary>
        public void End()
        {
            int count = 0;
            foreach (var p in _root.EnumerateObject())
            {
                count++;
                if (!_read.Contains(p.Name))
                {
                    throw Fail($"the payload has a field '{p.Name}' that {Describe(_kind)} inputs do not have");
                }
            }

            if (count != _read.Count)
            {
                throw Fail($"the payload has {count} fields where {_read.Count} were expected; a field is given twice");
            }
        }
    }
}
