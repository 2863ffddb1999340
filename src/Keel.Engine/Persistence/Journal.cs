using System.Text.Json;
using Keel.Domain;
using Keel.Domain.Events;
using Keel.Domain.Orders;
using Keel.Engine.Analytics;
using Keel.Engine.Kernel;

namespace Keel.Engine.Persistence;

/// <summary>Lifecycle of a run record. Stored values: never renumber.</summary>
public enum RunStatus
{
    Created = 1,
    Running = 2,
    Paused = 3,
    Stopped = 4,
    Completed = 5,
    Failed = 6,

    /// <summary>Reached the end of its data, but had stopped trading because of errors (circuit breaker open, or every order refused).</summary>
    Halted = 7,
}

/// <summary>An event as stored in the journal: sequence, type, time and a JSON payload (a value: the recorder keeps
/// them in a list without an object per event).</summary>
public readonly record struct JournalEvent(long Sequence, string Type, Timestamp Time, object Source)
{
    /// <summary>The payload as JSON (formatted on the journal's writer thread).</summary>
    public string Payload() => JournalPayload.Format(Source);
}

/// <summary>An order's state after an event, for the orders table (latest wins).</summary>
public readonly record struct OrderRecord(
    ClientOrderId Id,
    long Number,
    InstrumentId Instrument,
    OrderSide Side,
    OrderType Type,
    Quantity Quantity,
    Price? LimitPrice,
    Price? StopPrice,
    TimeInForce TimeInForce,
    OrderStatus Status,
    Timestamp CreatedAt,
    Timestamp UpdatedAt,
    Quantity FilledQuantity,
    Price? AverageFillPrice,
    Money Commission,
    ContingencyType Contingency,
    ClientOrderId? ParentId,
    VenueOrderId? VenueOrderId,
    string? Tag,
    string? Reason)
{
    /// <summary>The sequence of the event that left the order in this state (0 when not known): the latest state wins.</summary>
    public long Sequence { get; init; }

    public static OrderRecord Of(Order o, long sequence = 0) => new(o.Id, o.Number, o.Instrument, o.Side, o.Type, o.Quantity, o.LimitPrice, o.StopPrice, o.TimeInForce,
        o.Status, o.CreatedAt, o.LastEventAt, o.FilledQuantity, o.AverageFillPrice, o.Commission, o.Contingency, o.ParentId, o.VenueOrderId, o.Tag, o.Reason)
    {
        Sequence = sequence,
    };
}

/// <summary>One execution with its effect on the position (a value: a batch keeps them in a list without an object each).</summary>
public readonly record struct FillRecord(OrderFilled Fill, long Sequence, Money RealizedPnl, Quantity PositionAfter);

/// <summary>A position's state after a fill (latest wins).</summary>
public readonly record struct PositionRecord(InstrumentId Instrument, Quantity Quantity, Money CostBasis, Money RealizedPnl, Money Commissions, Price LastPrice, Timestamp UpdatedAt);

/// <summary>A periodic summary of a run's performance.</summary>
public sealed record MetricsCheckpoint(long Sequence, long Processed, double TotalReturn, Money Pnl, double? WinRate, double MaxDrawdown, double? Sharpe, double? ProfitFactor, Timestamp CreatedAt);

/// <summary>A snapshot: all state needed to continue the run after <see cref="Sequence"/>, and a checksum of it.</summary>
public sealed class SnapshotRecord
{
    private string? _payload;
    private byte[]? _utf8;

    public SnapshotRecord(long sequence, long dataEvents, string payload, string checksum, Timestamp createdAt)
        : this(sequence, dataEvents, checksum, createdAt) => _payload = payload;

    private SnapshotRecord(long sequence, long dataEvents, byte[] utf8, string checksum, Timestamp createdAt)
        : this(sequence, dataEvents, checksum, createdAt) => _utf8 = utf8;

    private SnapshotRecord(long sequence, long dataEvents, string checksum, Timestamp createdAt) =>
        (Sequence, DataEvents, Checksum, CreatedAt) = (sequence, dataEvents, checksum, createdAt);

    public long Sequence { get; }

    public long DataEvents { get; }

    /// <summary>The payload (JSON); decoded on first use when the record was made from UTF-8.</summary>
    public string Payload => _payload ??= System.Text.Encoding.UTF8.GetString(_utf8!);

    /// <summary>The payload as UTF-8: what a store that keeps UTF-8 text writes, without decoding and encoding it again.</summary>
    public ReadOnlySpan<byte> Utf8 => _utf8 ??= System.Text.Encoding.UTF8.GetBytes(_payload!);

    /// <summary>SHA-256 of the payload's UTF-8, lower-case hex.</summary>
    public string Checksum { get; }

    public Timestamp CreatedAt { get; }

    public static SnapshotRecord Create(long sequence, long dataEvents, string payload, Timestamp createdAt) =>
        new(sequence, dataEvents, payload, ChecksumOf(payload), createdAt);

    /// <summary>
    /// A record from the payload as UTF-8 (as a serializer writes it): the checksum is taken from these bytes, which are
    /// exactly the UTF-8 of the text, so it equals <see cref="ChecksumOf"/> of <see cref="Payload"/>. The bytes are copied
    /// and kept; the text is decoded only if something asks for it (a store that writes UTF-8 never does).
    /// </summary>
    public static SnapshotRecord FromUtf8(long sequence, long dataEvents, ReadOnlySpan<byte> payload, Timestamp createdAt) =>
        new(sequence, dataEvents, payload.ToArray(), Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(payload)), createdAt);

    public static string ChecksumOf(string payload) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(payload)));

    public bool IsIntact => ChecksumOf(Payload) == Checksum;
}

/// <summary>A run's progress and status, written with a batch.</summary>
public sealed record RunProgress(RunStatus Status, double Progress, long LastSequence, Timestamp UpdatedAt, string? Error = null);

/// <summary>Everything the journal writes in one transaction.</summary>
public sealed class JournalBatch(string runId)
{
    private readonly Dictionary<ClientOrderId, int> _orderIndex = [];
    private readonly Dictionary<ClientOrderId, int> _liveIndex = [];
    private readonly List<(Order Order, long Sequence)> _live = [];
    private readonly Dictionary<InstrumentId, int> _positionIndex = [];
    private SnapshotRecord? _snapshot;
    private Func<SnapshotRecord>? _encodeSnapshot;

    public string RunId { get; } = runId;

    public List<JournalEvent> Events { get; } = [];

    public List<OrderRecord> Orders { get; } = [];

    public List<FillRecord> Fills { get; } = [];

    public List<PositionRecord> Positions { get; } = [];

    public List<Trade> Trades { get; } = [];

    /// <summary>Inputs the kernel took, in sequence order (live runs; see <see cref="InputCodec"/>).</summary>
    public List<InputRecord> Inputs { get; } = [];

    public MetricsCheckpoint? Checkpoint { get; set; }

    /// <summary>
    /// The snapshot this batch writes. One handed over as captured state (<see cref="SetSnapshot"/>) is encoded on
    /// first read, which is the journal's writer thread: the kernel thread only captures.
    /// </summary>
    public SnapshotRecord? Snapshot
    {
        get
        {
            if (_snapshot is null && _encodeSnapshot is { } encode)
            {
                _snapshot = encode();
                _encodeSnapshot = null;
            }

            return _snapshot;
        }

        set
        {
            _snapshot = value;
            _encodeSnapshot = null;
        }
    }

    /// <summary>True when the batch carries a snapshot, encoded or not.</summary>
    public bool HasSnapshot => _snapshot is not null || _encodeSnapshot is not null;

    public RunProgress? Progress { get; set; }

    public int Count => Events.Count + Orders.Count + _live.Count + Fills.Count + Positions.Count + Trades.Count + Inputs.Count;

    public bool IsEmpty => Count == 0 && Checkpoint is null && !HasSnapshot && Progress is null;

    /// <summary>
    /// Sets a snapshot to be encoded later, by whoever reads <see cref="Snapshot"/> first (the writer thread).
    /// <paramref name="encode"/> must only read state captured for it, never live state.
    /// </summary>
    public void SetSnapshot(Func<SnapshotRecord> encode)
    {
        _snapshot = null;
        _encodeSnapshot = encode;
    }

    public void SetOrder(OrderRecord record)
    {
        if (_orderIndex.TryGetValue(record.Id, out int i))
        {
            Orders[i] = record;
        }
        else
        {
            _orderIndex[record.Id] = Orders.Count;
            Orders.Add(record);
        }
    }

    /// <summary>
    /// Notes that <paramref name="order"/> changed at <paramref name="sequence"/>; its record is taken at
    /// <see cref="Seal"/>, so an order that changes several times in one batch (submitted, accepted, filled) is copied
    /// once. Only for the thread that changes the order, which must seal the batch before the order changes again
    /// after it is handed over.
    /// </summary>
    public void SetOrder(Order order, long sequence)
    {
        if (_liveIndex.TryGetValue(order.Id, out int i))
        {
            _live[i] = (order, sequence);
        }
        else
        {
            _liveIndex[order.Id] = _live.Count;
            _live.Add((order, sequence));
        }
    }

    /// <summary>Empties the batch for reuse, keeping its lists' capacity.</summary>
    public void Clear()
    {
        _orderIndex.Clear();
        _positionIndex.Clear();
        _liveIndex.Clear();
        _live.Clear();
        _snapshot = null;
        _encodeSnapshot = null;
        Events.Clear();
        Orders.Clear();
        Fills.Clear();
        Positions.Clear();
        Trades.Clear();
        Inputs.Clear();
        Checkpoint = null;
        Progress = null;
    }

    /// <summary>Takes the records of the orders noted with <see cref="SetOrder(Order, long)"/> (on the thread that changes them).</summary>
    public void Seal()
    {
        foreach (var (order, sequence) in _live)
        {
            SetOrder(OrderRecord.Of(order, sequence));
        }

        _live.Clear();
        _liveIndex.Clear();
    }

    public void SetPosition(PositionRecord record)
    {
        if (_positionIndex.TryGetValue(record.Instrument, out int i))
        {
            Positions[i] = record;
        }
        else
        {
            _positionIndex[record.Instrument] = Positions.Count;
            Positions.Add(record);
        }
    }
}

/// <summary>
/// Where a run's journal goes: runs, events, orders, fills, positions, trades, checkpoints and snapshots. Called from a
/// single background thread, batches in order; each batch is committed atomically. Records already stored
/// (same run and sequence, order id, trade id) are kept as they are, so a resumed run can write them again.
/// </summary>
public interface IRunJournal
{
    /// <summary>Names the store in messages, without secrets.</summary>
    string Describe { get; }

    /// <summary>
    /// True when the journal keeps nothing of a batch once <see cref="Write"/> returns, so the writer may clear the
    /// batch and fill it again (its lists keep their capacity: no new arrays, large ones included, per batch).
    /// </summary>
    bool ReleasesBatches => false;

    void Write(JournalBatch batch);
}

/// <summary>The journal could not be written; the run stops.</summary>
public sealed class JournalException : Exception
{
    public JournalException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public JournalException(string message)
        : base(message)
    {
    }

    public JournalException()
    {
    }
}

/// <summary>The journal's names of order events (stored values: never rename).</summary>
public static class JournalEventTypes
{
    public static string Of(OrderEvent e) => e.Kind switch
    {
        OrderEventKind.Submitted => "order.submitted",
        OrderEventKind.Accepted => "order.accepted",
        OrderEventKind.Rejected => "order.rejected",
        OrderEventKind.Denied => "order.denied",
        OrderEventKind.PendingCancel => "order.pending_cancel",
        OrderEventKind.CancelRejected => "order.cancel_rejected",
        OrderEventKind.Canceled => "order.canceled",
        OrderEventKind.Expired => "order.expired",
        OrderEventKind.Replaced => "order.replaced",
        OrderEventKind.Unknown => "order.unknown",
        _ => "order.filled",
    };
}

/// <summary>JSON payloads of journaled events (exact decimals, ISO times).</summary>
public static class JournalPayload
{
    public static string Format(object source)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            Write(w, source);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static readonly JsonEncodedText CodeName = JsonEncodedText.Encode("code");
    private static readonly JsonEncodedText FromName = JsonEncodedText.Encode("from");
    private static readonly JsonEncodedText InstrumentName = JsonEncodedText.Encode("instrument");
    private static readonly JsonEncodedText MessageName = JsonEncodedText.Encode("message");
    private static readonly JsonEncodedText OrderName = JsonEncodedText.Encode("order");
    private static readonly JsonEncodedText ReasonName = JsonEncodedText.Encode("reason");
    private static readonly JsonEncodedText ReplacedByName = JsonEncodedText.Encode("replaced_by");
    private static readonly JsonEncodedText SideName = JsonEncodedText.Encode("side");
    private static readonly JsonEncodedText ToName = JsonEncodedText.Encode("to");
    private static readonly JsonEncodedText TradeName = JsonEncodedText.Encode("trade");
    private static readonly JsonEncodedText VenueOrderName = JsonEncodedText.Encode("venue_order");

    /// <summary>
    /// The payloads of the three events of nearly every order (submitted, accepted, filled) written straight into
    /// <paramref name="destination"/> as UTF-8, byte for byte what <see cref="Write"/> gives them, when every text in
    /// them is plain (ASCII letters, digits and <c>- _ . :</c>, which the JSON writer writes as they are). False, with
    /// nothing promised about <paramref name="destination"/>, for any other event or text, or when it does not fit:
    /// the caller then uses <see cref="Write"/>. The writer's per-property escaping checks and UTF-16 transcoding were
    /// most of a recorded backtest's payload time.
    /// </summary>
    public static bool TryWriteOrderEvent(object source, Span<byte> destination, out int written)
    {
        written = 0;
        int pos = 0;
        bool ok;
        switch (source)
        {
            case OrderFilled f:
                Span<byte> number = stackalloc byte[64];
                ok = Put(destination, ref pos, "{\"order\":\""u8) && Plain(destination, ref pos, f.ClientOrderId.Value)
                    && Put(destination, ref pos, "\",\"venue_order\":\""u8) && Plain(destination, ref pos, f.VenueOrderId.Value)
                    && Put(destination, ref pos, "\",\"trade\":\""u8) && Plain(destination, ref pos, f.TradeId.Value)
                    && Put(destination, ref pos, "\",\"instrument\":\""u8) && Plain(destination, ref pos, f.Instrument.Symbol)
                    && Put(destination, ref pos, "\",\"side\":\""u8) && Plain(destination, ref pos, f.Side.ToText())
                    && Put(destination, ref pos, "\",\"quantity\":\""u8) && Put(destination, ref pos, number[..f.LastQty.FormatUtf8(number)])
                    && Put(destination, ref pos, "\",\"price\":\""u8) && Put(destination, ref pos, number[..f.LastPx.FormatUtf8(number)])
                    && Put(destination, ref pos, "\",\"commission\":\""u8) && Put(destination, ref pos, number[..f.Commission.FormatUtf8(number)])
                    && Put(destination, ref pos, "\"}"u8);
                break;
            case OrderAccepted a:
                ok = Put(destination, ref pos, "{\"order\":\""u8) && Plain(destination, ref pos, a.ClientOrderId.Value)
                    && Put(destination, ref pos, "\",\"venue_order\":\""u8) && Plain(destination, ref pos, a.VenueOrderId.Value)
                    && Put(destination, ref pos, "\"}"u8);
                break;
            case OrderSubmitted o:
                ok = Put(destination, ref pos, "{\"order\":\""u8) && Plain(destination, ref pos, o.ClientOrderId.Value)
                    && Put(destination, ref pos, "\"}"u8);
                break;
            default:
                return false;
        }

        written = ok ? pos : 0;
        return ok;

        static bool Put(Span<byte> d, ref int at, ReadOnlySpan<byte> bytes)
        {
            if (!bytes.TryCopyTo(d[at..]))
            {
                return false;
            }

            at += bytes.Length;
            return true;
        }

        static bool Plain(Span<byte> d, ref int at, string? text)
        {
            if (text is null || text.Length > d.Length - at)
            {
                return false;
            }

            for (int i = 0; i < text.Length; i++)
            {
                char c = text[i];
                if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':'))
                {
                    return false;
                }

                d[at + i] = (byte)c;
            }

            at += text.Length;
            return true;
        }
    }

    /// <summary>Writes the payload object of <paramref name="source"/> (no allocation beyond the writer's buffer).</summary>
    public static void Write(Utf8JsonWriter w, object source)
    {
        w.WriteStartObject();
        switch (source)
        {
            case OrderFilled f:
                w.WriteString(OrderName, f.ClientOrderId.Value);
                w.WriteString(VenueOrderName, f.VenueOrderId.Value);
                w.WriteString(TradeName, f.TradeId.Value);
                w.WriteString(InstrumentName, f.Instrument.Symbol);
                w.WriteString(SideName, f.Side.ToText());
                Span<byte> text = stackalloc byte[64];
                w.WriteString("quantity"u8, text[..f.LastQty.FormatUtf8(text)]);
                w.WriteString("price"u8, text[..f.LastPx.FormatUtf8(text)]);
                w.WriteString("commission"u8, text[..f.Commission.FormatUtf8(text)]);
                break;
            case OrderAccepted a:
                w.WriteString(OrderName, a.ClientOrderId.Value);
                w.WriteString(VenueOrderName, a.VenueOrderId.Value);
                break;
            case OrderRejected r:
                w.WriteString(OrderName, r.ClientOrderId.Value);
                w.WriteString(ReasonName, r.Reason);
                break;
            case OrderDenied d:
                w.WriteString(OrderName, d.ClientOrderId.Value);
                w.WriteString(ReasonName, d.Reason);
                break;
            case OrderCanceled c:
                w.WriteString(OrderName, c.ClientOrderId.Value);
                w.WriteString(ReasonName, c.Reason);
                break;
            case OrderCancelRejected cr:
                w.WriteString(OrderName, cr.ClientOrderId.Value);
                w.WriteString(ReasonName, cr.Reason);
                break;
            case OrderStatusUnknown u:
                w.WriteString(OrderName, u.ClientOrderId.Value);
                w.WriteString(ReasonName, u.Reason);
                break;
            case OrderReplaced rp:
                w.WriteString(OrderName, rp.ClientOrderId.Value);
                w.WriteString(ReplacedByName, rp.ReplacedBy.Value);
                break;
            case OrderEvent o:
                w.WriteString(OrderName, o.ClientOrderId.Value);
                break;
            case KernelNotice n:
                w.WriteString("level"u8, n.Level switch
                {
                    NoticeLevel.Info => "info"u8,
                    NoticeLevel.Warning => "warning"u8,
                    NoticeLevel.Error => "error"u8,
                    _ => System.Text.Encoding.UTF8.GetBytes(n.Level.ToString().ToLowerInvariant()),
                });
                w.WriteString(CodeName, n.Code);
                w.WriteString(MessageName, n.Message);
                break;
            case KernelStateChanged s:
                w.WriteString(FromName, s.From.ToString().ToLowerInvariant());
                w.WriteString(ToName, s.To.ToString().ToLowerInvariant());
                break;
        }

        w.WriteEndObject();
    }
}
