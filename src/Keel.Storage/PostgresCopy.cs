using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Keel.Domain;

namespace Keel.Storage;

/// <summary>
/// Rows of a PostgreSQL binary COPY (<c>FORMAT BINARY</c>), encoded straight into a reused buffer and written to a raw
/// copy stream in large pieces: the journal's rows without a value object, a string or a type lookup per column.
/// <para>
/// The format: a signature and two zero words, then per row a 16-bit column count and per column a 32-bit length
/// (−1 for a null) and the value in PostgreSQL's binary form — <c>bigint</c> and <c>double precision</c> as 8 bytes
/// big-endian, <c>text</c> as UTF-8, <c>numeric</c> as base-10000 digits (<see cref="WriteNumeric"/>); a −1 word ends
/// the data.
/// </para>
/// </summary>
internal sealed class PostgresCopy : IBufferWriter<byte>, IDisposable
{
    /// <summary>Rows are sent to the server when this much is buffered (at a row boundary).</summary>
    private const int SendAt = 64 * 1024;

    private static readonly byte[] Signature = [(byte)'P', (byte)'G', (byte)'C', (byte)'O', (byte)'P', (byte)'Y', (byte)'\n', 0xFF, (byte)'\r', (byte)'\n', 0, 0, 0, 0, 0, 0, 0, 0, 0];

    private readonly Utf8JsonWriter _json;
    private byte[] _buffer = new byte[SendAt * 2];
    private int _at;
    private Stream? _stream;

    public PostgresCopy() => _json = new Utf8JsonWriter(this);

    public void Dispose() => _json.Dispose();

    /// <summary>Starts the data of one COPY on <paramref name="stream"/> (a raw binary copy stream).</summary>
    public void Start(Stream stream)
    {
        _stream = stream;
        _at = 0;
        Signature.CopyTo(Reserve(Signature.Length));
        _at += Signature.Length;
    }

    /// <summary>Ends the data and sends what is buffered (the caller then completes the COPY).</summary>
    public void Finish()
    {
        BinaryPrimitives.WriteInt16BigEndian(Reserve(2), -1);
        _at += 2;
        Send();
        _stream = null;
    }

    public void StartRow(short columns)
    {
        if (_at >= SendAt)
        {
            Send();
        }

        BinaryPrimitives.WriteInt16BigEndian(Reserve(2), columns);
        _at += 2;
    }

    public void WriteNull()
    {
        BinaryPrimitives.WriteInt32BigEndian(Reserve(4), -1);
        _at += 4;
    }

    public void Write(long value)
    {
        var span = Reserve(12);
        BinaryPrimitives.WriteInt32BigEndian(span, 8);
        BinaryPrimitives.WriteInt64BigEndian(span[4..], value);
        _at += 12;
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
        var span = Reserve(12);
        BinaryPrimitives.WriteInt32BigEndian(span, 8);
        BinaryPrimitives.WriteDoubleBigEndian(span[4..], value);
        _at += 12;
    }

    /// <summary>A <c>text</c> value (null writes a null).</summary>
    public void Write(string? value)
    {
        if (value is null)
        {
            WriteNull();
            return;
        }

        var span = Reserve(4 + Encoding.UTF8.GetMaxByteCount(value.Length));
        int n = Encoding.UTF8.GetBytes(value, span[4..]);
        BinaryPrimitives.WriteInt32BigEndian(span, n);
        _at += 4 + n;
    }

    /// <summary>A <c>text</c> value already in UTF-8 (such as a run id encoded once for a whole COPY).</summary>
    public void WriteUtf8(ReadOnlySpan<byte> utf8)
    {
        var span = Reserve(4 + utf8.Length);
        BinaryPrimitives.WriteInt32BigEndian(span, utf8.Length);
        utf8.CopyTo(span[4..]);
        _at += 4 + utf8.Length;
    }

    /// <summary>A <c>text</c> value: the JSON payload of a journaled event, written in place (no string in between).</summary>
    public void WriteJson(object source)
    {
        int lengthAt = _at;
        Reserve(4);
        _at += 4;
        _json.Reset();
        Keel.Engine.Persistence.JournalPayload.Write(_json, source);
        _json.Flush();
        BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(lengthAt), _at - lengthAt - 4);
    }

    public void Write(Price value)
    {
        Span<byte> text = stackalloc byte[40];
        WriteNumeric(text[..value.FormatUtf8(text)]);
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
        Span<byte> text = stackalloc byte[40];
        WriteNumeric(text[..value.FormatUtf8(text)]);
    }

    /// <summary>Money as <c>numeric</c>: exact at any size (its text, digit for digit).</summary>
    public void Write(Money value)
    {
        Span<byte> text = stackalloc byte[64];
        WriteNumeric(text[..value.FormatUtf8(text)]);
    }

    /// <summary>
    /// A <c>numeric</c> from its plain decimal text (an optional '-', digits, an optional '.' and digits: what the
    /// exact types format). Binary numeric is a digit count, a weight (the power of 10000 of the first digit), a sign
    /// (0 or 0x4000), a display scale (the decimals written) and the base-10000 digits without leading or trailing
    /// zero digits; zero has no digits.
    /// </summary>
    internal void WriteNumeric(ReadOnlySpan<byte> text)
    {
        bool negative = text.Length > 0 && text[0] == (byte)'-';
        if (negative)
        {
            text = text[1..];
        }

        int dot = text.IndexOf((byte)'.');
        var integer = dot < 0 ? text : text[..dot];
        var fraction = dot < 0 ? [] : text[(dot + 1)..];
        integer = integer.TrimStart((byte)'0');
        int integerGroups = (integer.Length + 3) / 4, fractionGroups = (fraction.Length + 3) / 4;
        Span<short> digits = stackalloc short[integerGroups + fractionGroups];
        int first = integer.Length - ((integerGroups - 1) * 4);
        for (int g = 0, at = 0; g < integerGroups; g++)
        {
            int length = g == 0 ? first : 4, value = 0;
            for (int i = 0; i < length; i++)
            {
                value = (value * 10) + Digit(integer[at++]);
            }

            digits[g] = (short)value;
        }

        for (int g = 0; g < fractionGroups; g++)
        {
            int value = 0;
            for (int i = 0, at = g * 4; i < 4; i++, at++)
            {
                value = (value * 10) + (at < fraction.Length ? Digit(fraction[at]) : 0);
            }

            digits[integerGroups + g] = (short)value;
        }

        int start = 0, end = digits.Length, weight = integerGroups - 1;
        while (start < end && digits[start] == 0)
        {
            start++;
            weight--;
        }

        while (end > start && digits[end - 1] == 0)
        {
            end--;
        }

        int count = end - start;
        if (count == 0)
        {
            weight = 0;
            negative = false;
        }

        var span = Reserve(4 + 8 + (2 * count));
        BinaryPrimitives.WriteInt32BigEndian(span, 8 + (2 * count));
        BinaryPrimitives.WriteInt16BigEndian(span[4..], (short)count);
        BinaryPrimitives.WriteInt16BigEndian(span[6..], (short)weight);
        BinaryPrimitives.WriteUInt16BigEndian(span[8..], negative ? (ushort)0x4000 : (ushort)0);
        BinaryPrimitives.WriteInt16BigEndian(span[10..], (short)fraction.Length);
        for (int i = 0; i < count; i++)
        {
            BinaryPrimitives.WriteInt16BigEndian(span[(12 + (2 * i))..], digits[start + i]);
        }

        _at += 12 + (2 * count);
    }

    private static int Digit(byte c) => c is >= (byte)'0' and <= (byte)'9'
        ? c - '0'
        : throw new StorageException($"'{(char)c}' in a number written to PostgreSQL: not a plain decimal");

    /// <summary>Room for <paramref name="size"/> bytes at the end of the buffer (grown, never sent, in the middle of a row).</summary>
    private Span<byte> Reserve(int size)
    {
        if (_buffer.Length - _at < size)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _at + size));
        }

        return _buffer.AsSpan(_at);
    }

    private void Send()
    {
        _stream!.Write(_buffer, 0, _at);
        _at = 0;
    }

    void IBufferWriter<byte>.Advance(int count) => _at += count;

    Memory<byte> IBufferWriter<byte>.GetMemory(int sizeHint)
    {
        Reserve(Math.Max(sizeHint, 256));
        return _buffer.AsMemory(_at);
    }

    Span<byte> IBufferWriter<byte>.GetSpan(int sizeHint) => Reserve(Math.Max(sizeHint, 256));
}
