using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Keel.Domain;

namespace Keel.Sandbox.Wire;

/// <summary>
/// MessagePack for Alpaca's market data stream, which speaks it to clients that open the WebSocket with
/// <c>Content-Type: application/msgpack</c> (alpaca-py does): the same messages as JSON, in binary frames, with the
/// <c>t</c> times as MessagePack timestamps (extension type −1). Outgoing JSON frames are transcoded; incoming
/// MessagePack client messages are turned back into JSON for the usual handler. Only what JSON can express is
/// supported (maps with string keys, arrays, strings, integers, floats, booleans, nil; timestamps read back as text).
/// </summary>
internal static class MsgPack
{
    /// <summary>JSON bytes → MessagePack bytes; strings under the key <c>t</c> that are RFC 3339 times become timestamps.</summary>
    public static byte[] FromJson(ReadOnlySpan<byte> json)
    {
        using var doc = JsonDocument.Parse(json.ToArray());
        var output = new ArrayBufferWriter<byte>(json.Length);
        Write(output, doc.RootElement, key: null);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>MessagePack bytes → JSON bytes; throws <see cref="FormatException"/> on anything malformed.</summary>
    public static byte[] ToJson(ReadOnlySpan<byte> data)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            int pos = 0;
            Read(data, ref pos, json, depth: 0);
            if (pos != data.Length)
            {
                throw new FormatException($"{data.Length - pos} bytes after the MessagePack value");
            }
        }

        return stream.ToArray();
    }

    private static void Write(ArrayBufferWriter<byte> o, JsonElement e, string? key)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                int fields = e.EnumerateObject().Count();
                Header(o, fields, 0x80, 15, 0xde, 0xdf);
                foreach (var p in e.EnumerateObject())
                {
                    Str(o, p.Name);
                    Write(o, p.Value, p.Name);
                }

                break;
            case JsonValueKind.Array:
                Header(o, e.GetArrayLength(), 0x90, 15, 0xdc, 0xdd);
                foreach (var item in e.EnumerateArray())
                {
                    Write(o, item, null);
                }

                break;
            case JsonValueKind.String:
                var text = e.GetString()!;
                if (key == "t" && Timestamp.TryParse(text, out var time))
                {
                    TimestampExt(o, time);
                }
                else
                {
                    Str(o, text);
                }

                break;
            case JsonValueKind.Number:
                if (e.TryGetInt64(out long integer))
                {
                    Int(o, integer);
                }
                else
                {
                    var span = o.GetSpan(9);
                    span[0] = 0xcb;
                    BinaryPrimitives.WriteDoubleBigEndian(span[1..], e.GetDouble());
                    o.Advance(9);
                }

                break;
            case JsonValueKind.True:
                Byte(o, 0xc3);
                break;
            case JsonValueKind.False:
                Byte(o, 0xc2);
                break;
            default:
                Byte(o, 0xc0);
                break;
        }
    }

    private static void Header(ArrayBufferWriter<byte> o, int count, byte fix, int fixMax, byte sixteen, byte thirtyTwo)
    {
        if (count <= fixMax)
        {
            Byte(o, (byte)(fix | count));
        }
        else
        {
            Length(o, count, 0, sixteen, thirtyTwo);
        }
    }

    private static void Str(ArrayBufferWriter<byte> o, string s)
    {
        int n = Encoding.UTF8.GetByteCount(s);
        if (n <= 31)
        {
            Byte(o, (byte)(0xa0 | n));
        }
        else
        {
            Length(o, n, 0xd9, 0xda, 0xdb);
        }

        o.Advance(Encoding.UTF8.GetBytes(s, o.GetSpan(n)));
    }

    /// <summary>A marker and a big-endian length in the narrowest form given (<paramref name="eight"/> 0 = no 8-bit form).</summary>
    private static void Length(ArrayBufferWriter<byte> o, int n, byte eight, byte sixteen, byte thirtyTwo)
    {
        if (eight != 0 && n <= byte.MaxValue)
        {
            Byte(o, eight);
            Byte(o, (byte)n);
        }
        else if (n <= ushort.MaxValue)
        {
            Fixed(o, sixteen, 2, (ulong)n);
        }
        else
        {
            Fixed(o, thirtyTwo, 4, (ulong)n);
        }
    }

    private static void Int(ArrayBufferWriter<byte> o, long v)
    {
        if (v >= 0 && v <= 127)
        {
            Byte(o, (byte)v);
        }
        else if (v < 0 && v >= -32)
        {
            Byte(o, unchecked((byte)(sbyte)v));
        }
        else if (v >= 0 && v <= uint.MaxValue)
        {
            Fixed(o, 0xce, 4, (ulong)v);
        }
        else
        {
            Fixed(o, 0xd3, 8, unchecked((ulong)v));
        }
    }

    /// <summary>A marker followed by <paramref name="bytes"/> big-endian bytes of <paramref name="value"/>.</summary>
    private static void Fixed(ArrayBufferWriter<byte> o, byte marker, int bytes, ulong value)
    {
        var span = o.GetSpan(1 + bytes);
        span[0] = marker;
        for (int k = bytes; k >= 1; k--)
        {
            span[k] = (byte)value;
            value >>= 8;
        }

        o.Advance(1 + bytes);
    }

    // Timestamp 96: ext 8, length 12, type −1, nanoseconds (uint32), seconds (int64), big-endian.
    private static void TimestampExt(ArrayBufferWriter<byte> o, Timestamp t)
    {
        long seconds = Math.DivRem(t.UnixNanos, Timestamp.NanosPerSecond, out long nanos);
        if (nanos < 0)
        {
            seconds--;
            nanos += Timestamp.NanosPerSecond;
        }

        var span = o.GetSpan(15);
        span[0] = 0xc7;
        span[1] = 12;
        span[2] = 0xff;
        BinaryPrimitives.WriteUInt32BigEndian(span[3..], (uint)nanos);
        BinaryPrimitives.WriteInt64BigEndian(span[7..], seconds);
        o.Advance(15);
    }

    private static void Byte(ArrayBufferWriter<byte> o, byte b)
    {
        o.GetSpan(1)[0] = b;
        o.Advance(1);
    }

    private static void Read(ReadOnlySpan<byte> d, ref int pos, Utf8JsonWriter json, int depth)
    {
        if (depth > 32)
        {
            throw new FormatException("MessagePack nested too deeply");
        }

        byte b = Take(d, ref pos, 1)[0];
        switch (b)
        {
            case <= 0x7f:
                json.WriteNumberValue(b);
                return;
            case >= 0x80 and <= 0x8f:
                Map(d, ref pos, json, b & 0x0f, depth);
                return;
            case >= 0x90 and <= 0x9f:
                Array(d, ref pos, json, b & 0x0f, depth);
                return;
            case >= 0xa0 and <= 0xbf:
                json.WriteStringValue(Encoding.UTF8.GetString(Take(d, ref pos, b & 0x1f)));
                return;
            case 0xc0:
                json.WriteNullValue();
                return;
            case 0xc2:
                json.WriteBooleanValue(false);
                return;
            case 0xc3:
                json.WriteBooleanValue(true);
                return;
            case 0xca:
                json.WriteNumberValue(BinaryPrimitives.ReadSingleBigEndian(Take(d, ref pos, 4)));
                return;
            case 0xcb:
                json.WriteNumberValue(BinaryPrimitives.ReadDoubleBigEndian(Take(d, ref pos, 8)));
                return;
            case 0xcc:
                json.WriteNumberValue(Take(d, ref pos, 1)[0]);
                return;
            case 0xcd:
                json.WriteNumberValue(BinaryPrimitives.ReadUInt16BigEndian(Take(d, ref pos, 2)));
                return;
            case 0xce:
                json.WriteNumberValue(BinaryPrimitives.ReadUInt32BigEndian(Take(d, ref pos, 4)));
                return;
            case 0xcf:
                json.WriteNumberValue(BinaryPrimitives.ReadUInt64BigEndian(Take(d, ref pos, 8)));
                return;
            case 0xd0:
                json.WriteNumberValue((sbyte)Take(d, ref pos, 1)[0]);
                return;
            case 0xd1:
                json.WriteNumberValue(BinaryPrimitives.ReadInt16BigEndian(Take(d, ref pos, 2)));
                return;
            case 0xd2:
                json.WriteNumberValue(BinaryPrimitives.ReadInt32BigEndian(Take(d, ref pos, 4)));
                return;
            case 0xd3:
                json.WriteNumberValue(BinaryPrimitives.ReadInt64BigEndian(Take(d, ref pos, 8)));
                return;
            case 0xd9:
                json.WriteStringValue(Encoding.UTF8.GetString(Take(d, ref pos, Take(d, ref pos, 1)[0])));
                return;
            case 0xda:
                json.WriteStringValue(Encoding.UTF8.GetString(Take(d, ref pos, BinaryPrimitives.ReadUInt16BigEndian(Take(d, ref pos, 2)))));
                return;
            case 0xdb:
                json.WriteStringValue(Encoding.UTF8.GetString(Take(d, ref pos, Length(BinaryPrimitives.ReadUInt32BigEndian(Take(d, ref pos, 4))))));
                return;
            case 0xc4:
                json.WriteStringValue(Encoding.UTF8.GetString(Take(d, ref pos, Take(d, ref pos, 1)[0])));
                return;
            case 0xdc:
                Array(d, ref pos, json, BinaryPrimitives.ReadUInt16BigEndian(Take(d, ref pos, 2)), depth);
                return;
            case 0xdd:
                Array(d, ref pos, json, Length(BinaryPrimitives.ReadUInt32BigEndian(Take(d, ref pos, 4))), depth);
                return;
            case 0xde:
                Map(d, ref pos, json, BinaryPrimitives.ReadUInt16BigEndian(Take(d, ref pos, 2)), depth);
                return;
            case 0xdf:
                Map(d, ref pos, json, Length(BinaryPrimitives.ReadUInt32BigEndian(Take(d, ref pos, 4))), depth);
                return;
            case 0xc7 when d.Length - pos >= 14 && d[pos] == 12 && d[pos + 1] == 0xff:
                // Timestamp 96 → RFC 3339 text.
                var ts = Take(d, ref pos, 14);
                long nanos = BinaryPrimitives.ReadUInt32BigEndian(ts[2..]);
                long secs = BinaryPrimitives.ReadInt64BigEndian(ts[6..]);
                json.WriteStringValue(Timestamp.FromUnixNanos((secs * Timestamp.NanosPerSecond) + nanos).ToString());
                return;
            case >= 0xe0:
                json.WriteNumberValue((sbyte)b);
                return;
            default:
                throw new FormatException($"MessagePack type 0x{b:x2} is not supported here");
        }
    }

    private static void Map(ReadOnlySpan<byte> d, ref int pos, Utf8JsonWriter json, int count, int depth)
    {
        json.WriteStartObject();
        for (int i = 0; i < count; i++)
        {
            byte b = Take(d, ref pos, 1)[0];
            int length = b is >= 0xa0 and <= 0xbf ? b & 0x1f
                : b == 0xd9 ? Take(d, ref pos, 1)[0]
                : b == 0xda ? BinaryPrimitives.ReadUInt16BigEndian(Take(d, ref pos, 2))
                : throw new FormatException("a MessagePack map key is not a string");
            json.WritePropertyName(Encoding.UTF8.GetString(Take(d, ref pos, length)));
            Read(d, ref pos, json, depth + 1);
        }

        json.WriteEndObject();
    }

    private static void Array(ReadOnlySpan<byte> d, ref int pos, Utf8JsonWriter json, int count, int depth)
    {
        json.WriteStartArray();
        for (int i = 0; i < count; i++)
        {
            Read(d, ref pos, json, depth + 1);
        }

        json.WriteEndArray();
    }

    private static int Length(uint n) => n <= int.MaxValue ? (int)n : throw new FormatException("MessagePack length too large");

    private static ReadOnlySpan<byte> Take(ReadOnlySpan<byte> d, ref int pos, int count)
    {
        if (count < 0 || pos + count > d.Length)
        {
            throw new FormatException("MessagePack value cut short");
        }

        var s = d.Slice(pos, count);
        pos += count;
        return s;
    }
}
