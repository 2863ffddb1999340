using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Keel.Domain;
using Keel.Domain.Orders;
using Keel.Engine.Analytics;
using Keel.Engine.Persistence;

namespace Keel.Storage;

/// <summary>Which records a chunk of the journal holds. Stored values: never renumber.</summary>
internal enum ChunkKind
{
    Events = 1,
    Orders = 2,
    Fills = 3,
    Trades = 4,
}

/// <summary>
/// The journal's chunk format (both stores: SQLite and PostgreSQL from schema version 7 of each). A batch's events, orders, fills and trades are each stored as one row of
/// <c>journal_chunks</c> — run, kind, the key range it covers, a row count and a body — instead of one table row per
/// record: one B-tree insert and a handful of binds per batch instead of one insert and a dozen binds per record.
/// <para>
/// A body is a format byte (1) and then the rows, each a fixed number of tagged values (<see cref="Columns"/>): a null
/// (0), an integer (1, zig-zag varint), a text (2, varint length and UTF-8) or a double (3, 8 bytes little-endian).
/// Texts are exactly what the row tables held (exact decimals as text), so a chunk decodes to the same records.
/// </para>
/// <para>
/// Keys: events by sequence, fills by sequence, trades by trade id, orders by the sequence of the event that left
/// the order in that state. A resumed run writes again what it replays; chunks may then overlap, always with equal
/// content where they do, and readers keep one record per key (for orders, the state with the highest sequence).
/// </para>
/// </summary>
internal static class JournalChunks
{
    public const byte Format = 1;

    /// <summary>The rows compressed (see <see cref="Writer.Packed"/>).</summary>
    public const byte Compressed = 2;

    private const byte Null = 0;
    private const byte Integer = 1;
    private const byte Text = 2;
    private const byte Real = 3;

    /// <summary>Values per row of each kind.</summary>
    public static int Columns(ChunkKind kind) => kind switch
    {
        ChunkKind.Events => 4,
        ChunkKind.Orders => 21,
        ChunkKind.Fills => 11,
        ChunkKind.Trades => 13,
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>Builds one chunk body in a reused buffer.</summary>
    public sealed class Writer
    {
        private readonly ArrayBufferWriter<byte> _buffer = new(64 * 1024);
        private byte[] _packed = new byte[64 * 1024];

        /// <summary>The rows as written (format 1).</summary>
        public ReadOnlySpan<byte> Written => _buffer.WrittenSpan;

        /// <summary>
        /// The body to store: the rows compressed with Brotli at quality 0 (format 2: the format byte, the length of the
        /// rows as a varint, the compressed rows), or as written (format 1) when that is no larger. Quality 0 rather than
        /// 1: in a recorded 1M-bar backtest, with every core busy, it took 90 ms instead of 320 ms for the run's 22.7 MB
        /// of rows, for 6.5 MB stored instead of 5.5 MB (docs/performance.md).
        /// </summary>
        public ReadOnlySpan<byte> Packed()
        {
            var rows = _buffer.WrittenSpan[1..];
            int bound = BrotliEncoder.GetMaxCompressedLength(rows.Length) + 6;
            if (_packed.Length < bound)
            {
                _packed = new byte[Math.Max(bound, _packed.Length * 2)];
            }

            _packed[0] = Compressed;
            int n = 1 + Varint(_packed.AsSpan(1), (ulong)rows.Length);
            if (BrotliEncoder.TryCompress(rows, _packed.AsSpan(n), out int written, quality: 0, window: 22) && n + written < _buffer.WrittenCount)
            {
                return _packed.AsSpan(0, n + written);
            }

            return _buffer.WrittenSpan;
        }

        /// <summary>
        /// Starts a body and writes <paramref name="rows"/> into it with <paramref name="write"/>; gives the least and
        /// greatest <paramref name="key"/>. False, with nothing started, when there are no rows.
        /// </summary>
        public bool Encode<T>(List<T> rows, Func<T, long> key, Action<T> write, out long first, out long last)
        {
            first = long.MaxValue;
            last = long.MinValue;
            if (rows.Count == 0)
            {
                return false;
            }

            Start();
            foreach (var row in rows)
            {
                long k = key(row);
                first = Math.Min(first, k);
                last = Math.Max(last, k);
                write(row);
            }

            return true;
        }

        public void Start()
        {
            _buffer.ResetWrittenCount();
            _buffer.GetSpan(1)[0] = Format;
            _buffer.Advance(1);
        }

        public void WriteNull()
        {
            _buffer.GetSpan(1)[0] = Null;
            _buffer.Advance(1);
        }

        public void Write(long value)
        {
            var span = _buffer.GetSpan(11);
            span[0] = Integer;
            _buffer.Advance(1 + Varint(span[1..], (ulong)((value << 1) ^ (value >> 63))));
        }

        public void Write(long? value)
        {
            if (value is long v)
            {
                Write(v);
            }
            else
            {
                WriteNull();
            }
        }

        public void Write(double value)
        {
            var span = _buffer.GetSpan(9);
            span[0] = Real;
            BinaryPrimitives.WriteDoubleLittleEndian(span[1..], value);
            _buffer.Advance(9);
        }

        public void Write(string? value)
        {
            if (value is null)
            {
                WriteNull();
                return;
            }

            if (value.Length <= ShortChars)
            {
                // At most 126 bytes: a one-byte length, and the text written in its place (nothing to move).
                var near = _buffer.GetSpan(2 + (3 * ShortChars));
                WriteShort(near, Encoding.UTF8.GetBytes(value, near[2..]));
                return;
            }

            int max = Encoding.UTF8.GetMaxByteCount(value.Length);
            var span = _buffer.GetSpan(1 + 5 + max);
            int written = Encoding.UTF8.GetBytes(value, span[6..]);
            Finish(span, written);
        }

        public void WriteUtf8(ReadOnlySpan<byte> utf8)
        {
            if (utf8.Length < 128)
            {
                var near = _buffer.GetSpan(2 + utf8.Length);
                utf8.CopyTo(near[2..]);
                WriteShort(near, utf8.Length);
                return;
            }

            var span = _buffer.GetSpan(1 + 5 + utf8.Length);
            utf8.CopyTo(span[6..]);
            Finish(span, utf8.Length);
        }

        public void Write(Price value)
        {
            // The text is at most 40 bytes: its length is one byte, and the text goes straight after it.
            var span = _buffer.GetSpan(2 + 40);
            WriteShort(span, value.FormatUtf8(span.Slice(2, 40)));
        }

        public void Write(Price? value)
        {
            if (value is Price p)
            {
                Write(p);
            }
            else
            {
                WriteNull();
            }
        }

        public void Write(Quantity value)
        {
            var span = _buffer.GetSpan(2 + 40);
            WriteShort(span, value.FormatUtf8(span.Slice(2, 40)));
        }

        public void Write(Money value)
        {
            var span = _buffer.GetSpan(2 + 64);
            WriteShort(span, value.FormatUtf8(span.Slice(2, 64)));
        }

        /// <summary>Characters of a text short enough that its UTF-8 (at most three bytes each) has a one-byte length.</summary>
        private const int ShortChars = 42;

        /// <summary>A text of fewer than 128 bytes already written at offset 2: its tag and one-byte length before it.</summary>
        private void WriteShort(Span<byte> span, int length)
        {
            span[0] = Text;
            span[1] = (byte)length;
            _buffer.Advance(2 + length);
        }

        /// <summary>The text was written at offset 6; writes its tag and length before it and closes the gap.</summary>
        private void Finish(Span<byte> span, int length)
        {
            span[0] = Text;
            int n = 1 + Varint(span[1..], (ulong)length);
            if (n < 6)
            {
                span.Slice(6, length).CopyTo(span[n..]);
            }

            _buffer.Advance(n + length);
        }
    }

    /// <summary>Writes <paramref name="value"/> as a little-endian base-128 varint; returns its length.</summary>
    private static int Varint(Span<byte> destination, ulong value)
    {
        int n = 0;
        while (value >= 0x80)
        {
            destination[n++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[n++] = (byte)value;
        return n;
    }

    /// <summary>Reads the tagged values of a chunk body in order.</summary>
    public ref struct Reader
    {
        private readonly ReadOnlySpan<byte> _body;
        private readonly string _where;
        private int _at;

        /// <summary>A reader of the bytes as they are, from <paramref name="at"/> (no format check, nothing unpacked).</summary>
        private Reader(ReadOnlySpan<byte> body, string where, int at)
        {
            _body = body;
            _where = where;
            _at = at;
        }

        public Reader(ReadOnlySpan<byte> body, string where)
        {
            if (body.Length > 0 && body[0] == Compressed)
            {
                body = Unpack(body, where);
            }

            if (body.Length == 0 || body[0] != Format)
            {
                throw new StorageException($"{where}: a journal chunk in an unknown format ({(body.Length == 0 ? "empty" : $"format {body[0]}")}); was it written by a newer Keel?");
            }

            _body = body;
            _where = where;
            _at = 1;
        }

        private static byte[] Unpack(ReadOnlySpan<byte> body, string where)
        {
            // The length is read as the varint after the format byte, by a reader over the body itself.
            var header = new Reader(body, where, at: 1);
            ulong length = header.ReadVarint();
            if (length > int.MaxValue - 1)
            {
                throw header.Corrupt("its rows are longer than 2 GB");
            }

            var rows = new byte[length + 1];
            rows[0] = Format;
            if (!BrotliDecoder.TryDecompress(body[header._at..], rows.AsSpan(1), out int written) || written != (int)length)
            {
                throw header.Corrupt("its compressed rows do not decode to their recorded length");
            }

            return rows;
        }

        public readonly bool End => _at >= _body.Length;

        public long? ReadInteger()
        {
            byte tag = Next();
            if (tag == Null)
            {
                return null;
            }

            Expect(tag, Integer);
            ulong v = ReadVarint();
            return (long)(v >> 1) ^ -(long)(v & 1);
        }

        public long ReadLong() => ReadInteger() ?? throw Corrupt("a null where an integer belongs");

        /// <summary>A double; a null (what SQLite stored for a NaN) reads as NaN.</summary>
        public double ReadDouble()
        {
            if (_at < _body.Length && _body[_at] == Null)
            {
                _at++;
                return double.NaN;
            }

            Expect(Next(), Real);
            return BinaryPrimitives.ReadDoubleLittleEndian(Take(8));
        }

        public string? ReadText()
        {
            var utf8 = ReadUtf8(out bool isNull);
            return isNull ? null : Encoding.UTF8.GetString(utf8);
        }

        public string ReadString() => ReadText() ?? throw Corrupt("a null where a text belongs");

        /// <summary>Skips one value of any kind.</summary>
        public void Skip()
        {
            byte tag = _at < _body.Length ? _body[_at] : throw Corrupt("it ends in the middle of a row");
            switch (tag)
            {
                case Null:
                    _at++;
                    break;
                case Integer:
                    ReadInteger();
                    break;
                case Real:
                    _at++;
                    Take(8);
                    break;
                default:
                    ReadUtf8(out _);
                    break;
            }
        }

        private ReadOnlySpan<byte> ReadUtf8(out bool isNull)
        {
            byte tag = Next();
            if (tag == Null)
            {
                isNull = true;
                return default;
            }

            Expect(tag, Text);
            ulong length = ReadVarint();
            isNull = false;
            return Take(length);
        }

        private ulong ReadVarint()
        {
            ulong v = 0;
            for (int shift = 0; ; shift += 7)
            {
                byte b = Next();
                if (shift > 63)
                {
                    throw Corrupt("a number longer than 64 bits");
                }

                v |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return v;
                }
            }
        }

        private byte Next() => _at < _body.Length ? _body[_at++] : throw Corrupt("it ends in the middle of a row");

        private ReadOnlySpan<byte> Take(ulong length)
        {
            if (length > (ulong)(_body.Length - _at))
            {
                throw Corrupt("it ends in the middle of a value");
            }

            var span = _body.Slice(_at, (int)length);
            _at += (int)length;
            return span;
        }

        private readonly void Expect(byte tag, byte expected)
        {
            if (tag != expected)
            {
                throw Corrupt($"value tag {tag} where {expected} belongs");
            }
        }

        private readonly StorageException Corrupt(string what) => new($"{_where}: a journal chunk is damaged: {what}");
    }

    public static void WriteEvent(Writer w, JournalEvent e, ArrayBufferWriter<byte> payloadBuffer, System.Text.Json.Utf8JsonWriter payloadWriter)
    {
        w.Write(e.Sequence);
        w.Write(e.Type);
        w.Write(e.Time.UnixNanos);
        Span<byte> fast = stackalloc byte[512];
        if (JournalPayload.TryWriteOrderEvent(e.Source, fast, out int written))
        {
            w.WriteUtf8(fast[..written]);
            return;
        }

        payloadBuffer.ResetWrittenCount();
        payloadWriter.Reset(payloadBuffer);
        JournalPayload.Write(payloadWriter, e.Source);
        payloadWriter.Flush();
        w.WriteUtf8(payloadBuffer.WrittenSpan);
    }

    public static void WriteOrder(Writer w, OrderRecord r)
    {
        w.Write(r.Sequence);
        w.Write(r.Id.Value);
        w.Write(r.Number);
        w.Write(r.Instrument.Symbol);
        w.Write(r.Side.ToText());
        w.Write(r.Type.ToText());
        w.Write(r.Quantity);
        w.Write(r.LimitPrice);
        w.Write(r.StopPrice);
        w.Write(r.TimeInForce.ToText());
        w.Write(r.Status.ToText());
        w.Write(r.CreatedAt.UnixNanos);
        w.Write(r.UpdatedAt.UnixNanos);
        w.Write(r.FilledQuantity);
        w.Write(r.AverageFillPrice);
        w.Write(r.Commission);
        w.Write(r.Contingency.ToText());
        w.Write(r.ParentId?.Value);
        w.Write(r.VenueOrderId?.Value);
        w.Write(r.Tag);
        w.Write(r.Reason);
    }

    public static void WriteFill(Writer w, FillRecord f)
    {
        var x = f.Fill;
        w.Write(x.TradeId.Value);
        w.Write(f.Sequence);
        w.Write(x.ClientOrderId.Value);
        w.Write(x.Instrument.Symbol);
        w.Write(x.Side.ToText());
        w.Write(x.LastQty);
        w.Write(x.LastPx);
        w.Write(x.Commission);
        w.Write(f.RealizedPnl);
        w.Write(f.PositionAfter);
        w.Write(x.TsEvent.UnixNanos);
    }

    public static void WriteTrade(Writer w, Trade t)
    {
        w.Write(t.Id);
        w.Write(t.Instrument.Symbol);
        w.Write(t.Direction == Keel.Domain.Portfolio.PositionSide.Long ? "long" : "short");
        w.Write(t.EntryTime.UnixNanos);
        w.Write(t.EntryPrice);
        w.Write(t.ExitTime?.UnixNanos);
        w.Write(t.ExitPrice);
        w.Write(t.Quantity);
        w.Write(t.GrossPnl);
        w.Write(t.Commission);
        w.Write(t.NetPnl);
        w.Write(t.Return);
        w.Write(t.BarsHeld);
    }

    public static StoredEvent ReadEvent(ref Reader r) =>
        new(r.ReadLong(), r.ReadString(), Timestamp.FromUnixNanos(r.ReadLong()), r.ReadString());

    /// <summary>An order row: the sequence of its state, and the columns <see cref="StoredOrder"/> has (the rest skipped).</summary>
    public static (long Sequence, StoredOrder Order) ReadOrder(ref Reader r)
    {
        long seq = r.ReadLong();
        var order = new StoredOrder(r.ReadString(), r.ReadLong(), r.ReadString(), r.ReadString(), r.ReadString(), r.ReadString(), r.ReadText(), r.ReadText(), r.ReadString(), r.ReadString());
        for (int i = 11; i < 21; i++)
        {
            r.Skip();
        }

        return (seq, order);
    }

    public static StoredFill ReadFill(ref Reader r) =>
        new(r.ReadString(), r.ReadLong(), r.ReadString(), r.ReadString(), r.ReadString(), r.ReadString(), r.ReadString(), r.ReadString(), r.ReadString(), r.ReadString(), Timestamp.FromUnixNanos(r.ReadLong()));

    public static StoredTrade ReadTrade(ref Reader r) =>
        new(r.ReadLong(), r.ReadString(), r.ReadString(), Timestamp.FromUnixNanos(r.ReadLong()), r.ReadString(), r.ReadInteger() is long exit ? Timestamp.FromUnixNanos(exit) : null, r.ReadText(), r.ReadString(), r.ReadString(), r.ReadString(), r.ReadString(), r.ReadDouble(), r.ReadLong());

    /// <summary>The key of a row (the first value; for fills the second), skipping the rest of it.</summary>
    public static long ReadKey(ref Reader r, ChunkKind kind, out string? orderId)
    {
        orderId = null;
        long key;
        int read;
        switch (kind)
        {
            case ChunkKind.Fills:
                r.Skip();
                key = r.ReadLong();
                read = 2;
                break;
            case ChunkKind.Orders:
                key = r.ReadLong();
                orderId = r.ReadString();
                read = 2;
                break;
            default:
                key = r.ReadLong();
                read = 1;
                break;
        }

        for (int i = read; i < Columns(kind); i++)
        {
            r.Skip();
        }

        return key;
    }
}
