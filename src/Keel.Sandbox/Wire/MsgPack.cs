using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Keel.Domain;
using Nerdbank.MessagePack;

namespace Keel.Sandbox.Wire;

/// <summary>
/// MessagePack for Alpaca's market data stream, which speaks it to clients that open the WebSocket with
/// <c>Content-Type: application/msgpack</c> (alpaca-py does): the same messages as JSON, in binary frames, with the
/// <c>t</c> times as MessagePack timestamps (extension type −1). Outgoing JSON frames are transcoded; incoming
/// MessagePack client messages are turned back into JSON for the usual handler. Only what JSON can express is
/// supported (maps with string keys, arrays, strings, integers, floats, booleans, nil; timestamps read back as text).
/// </summary>
/// <remarks>
/// The bytes are read and written by Nerdbank.MessagePack's primitive <see cref="MessagePackWriter"/> and
/// <see cref="MessagePackReader"/> (no serializer, no reflection: trim- and AOT-safe). What stays here is the mapping
/// to and from JSON and two encoding choices the library leaves to its caller, kept so that the frames are the bytes
/// the sandbox has always sent: integers that do not fit a fixint go out as uint32 or int64 (never uint8/16), and
/// timestamps always as the 96-bit form (nanoseconds and seconds in full), as Alpaca sends them.
/// </remarks>
internal static class MsgPack
{
    private const sbyte TimestampType = -1;

    /// <summary>JSON bytes → MessagePack bytes; strings under the key <c>t</c> that are RFC 3339 times become timestamps.</summary>
    public static byte[] FromJson(ReadOnlySpan<byte> json)
    {
        using var doc = JsonDocument.Parse(json.ToArray());
        var output = new ArrayBufferWriter<byte>(json.Length);
        var writer = new MessagePackWriter(output);
        Write(ref writer, doc.RootElement, key: null);
        writer.Flush();
        return output.WrittenSpan.ToArray();
    }

    /// <summary>MessagePack bytes → JSON bytes; throws <see cref="FormatException"/> on anything malformed.</summary>
    public static byte[] ToJson(ReadOnlyMemory<byte> data)
    {
        var output = new ArrayBufferWriter<byte>(Math.Max(256, data.Length * 2));
        using (var json = new Utf8JsonWriter(output))
        {
            var reader = new MessagePackReader(new ReadOnlySequence<byte>(data));
            try
            {
                Read(ref reader, json, depth: 0);
            }
            catch (Exception ex) when (ex is MessagePackSerializationException or EndOfStreamException or OverflowException)
            {
                throw new FormatException($"malformed MessagePack: {ex.Message}", ex);
            }

            if (!reader.End)
            {
                throw new FormatException($"{data.Length - reader.Consumed} bytes after the MessagePack value");
            }
        }

        return output.WrittenSpan.ToArray();
    }

    private static void Write(ref MessagePackWriter w, JsonElement e, string? key)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                int fields = 0;
                foreach (var _ in e.EnumerateObject())
                {
                    fields++;
                }

                w.WriteMapHeader(fields);
                foreach (var p in e.EnumerateObject())
                {
                    w.Write(p.Name);
                    Write(ref w, p.Value, p.Name);
                }

                break;
            case JsonValueKind.Array:
                w.WriteArrayHeader(e.GetArrayLength());
                foreach (var item in e.EnumerateArray())
                {
                    Write(ref w, item, null);
                }

                break;
            case JsonValueKind.String:
                var text = e.GetString()!;
                if (key == "t" && Timestamp.TryParse(text, out var time))
                {
                    WriteTimestamp(ref w, time);
                }
                else
                {
                    w.Write(text);
                }

                break;
            case JsonValueKind.Number:
                if (e.TryGetInt64(out long integer))
                {
                    WriteInteger(ref w, integer);
                }
                else
                {
                    w.Write(e.GetDouble());
                }

                break;
            case JsonValueKind.True:
                w.Write(true);
                break;
            case JsonValueKind.False:
                w.Write(false);
                break;
            default:
                w.WriteNil();
                break;
        }
    }

    // The library's compact Write(long) would pick uint8/uint16/int8… by size; the sandbox has always sent fixints,
    // then uint32, then int64 (every decoder reads them alike), and keeps those bytes.
    private static void WriteInteger(ref MessagePackWriter w, long v)
    {
        if (v is >= -32 and <= 127)
        {
            w.Write(v); // positive or negative fixint: one byte
        }
        else if (v is >= 0 and <= uint.MaxValue)
        {
            w.WriteUInt32((uint)v);
        }
        else
        {
            w.WriteInt64(v);
        }
    }

    // Timestamp 96: ext 8, length 12, type −1, nanoseconds (uint32), seconds (int64), big-endian. The library's
    // Write(DateTime) would pick the 32- or 64-bit form when it fits and cannot carry nanoseconds below 100.
    private static void WriteTimestamp(ref MessagePackWriter w, Timestamp t)
    {
        long seconds = Math.DivRem(t.UnixNanos, Timestamp.NanosPerSecond, out long nanos);
        if (nanos < 0)
        {
            seconds--;
            nanos += Timestamp.NanosPerSecond;
        }

        w.Write(new ExtensionHeader(TimestampType, 12));
        var span = w.GetSpan(12);
        BinaryPrimitives.WriteUInt32BigEndian(span, (uint)nanos);
        BinaryPrimitives.WriteInt64BigEndian(span[4..], seconds);
        w.Advance(12);
    }

    private static void Read(ref MessagePackReader r, Utf8JsonWriter json, int depth)
    {
        if (depth > 32)
        {
            throw new FormatException("MessagePack nested too deeply");
        }

        switch (r.NextMessagePackType)
        {
            case MessagePackType.Integer:
                if (r.NextCode == MessagePackCode.UInt64)
                {
                    json.WriteNumberValue(r.ReadUInt64());
                }
                else
                {
                    json.WriteNumberValue(r.ReadInt64());
                }

                return;
            case MessagePackType.Float:
                if (r.NextCode == MessagePackCode.Float32)
                {
                    json.WriteNumberValue(r.ReadSingle());
                }
                else
                {
                    json.WriteNumberValue(r.ReadDouble());
                }

                return;
            case MessagePackType.Boolean:
                json.WriteBooleanValue(r.ReadBoolean());
                return;
            case MessagePackType.Nil:
                r.ReadNil();
                json.WriteNullValue();
                return;
            case MessagePackType.String:
                json.WriteStringValue(r.ReadString());
                return;
            case MessagePackType.Binary:
                // JSON has no bytes: binary is read as the UTF-8 text it carries in the messages that use it.
                json.WriteStringValue(Encoding.UTF8.GetString(r.ReadBytes()!.Value));
                return;
            case MessagePackType.Array:
                int items = r.ReadArrayHeader();
                json.WriteStartArray();
                for (int i = 0; i < items; i++)
                {
                    Read(ref r, json, depth + 1);
                }

                json.WriteEndArray();
                return;
            case MessagePackType.Map:
                int entries = r.ReadMapHeader();
                json.WriteStartObject();
                for (int i = 0; i < entries; i++)
                {
                    if (r.NextMessagePackType != MessagePackType.String)
                    {
                        throw new FormatException("a MessagePack map key is not a string");
                    }

                    json.WritePropertyName(r.ReadString()!);
                    Read(ref r, json, depth + 1);
                }

                json.WriteEndObject();
                return;
            case MessagePackType.Extension:
                var header = r.ReadExtensionHeader();
                if (header.TypeCode != TimestampType)
                {
                    throw new FormatException($"MessagePack extension type {header.TypeCode} is not supported here");
                }

                json.WriteStringValue(ReadTimestamp(r.ReadRaw(header.Length), header.Length).ToString());
                return;
            default:
                throw new FormatException($"MessagePack type 0x{r.NextCode:x2} is not supported here");
        }
    }

    /// <summary>The three timestamp forms of the specification (32, 64 and 96 bits) → RFC 3339 text.</summary>
    private static Timestamp ReadTimestamp(ReadOnlySequence<byte> payload, uint length)
    {
        Span<byte> b = stackalloc byte[12];
        if (length is not (4 or 8 or 12))
        {
            throw new FormatException($"a MessagePack timestamp is 4, 8 or 12 bytes; this one is {length}");
        }

        payload.CopyTo(b);
        long seconds, nanos;
        switch (length)
        {
            case 4:
                seconds = BinaryPrimitives.ReadUInt32BigEndian(b);
                nanos = 0;
                break;
            case 8:
                ulong both = BinaryPrimitives.ReadUInt64BigEndian(b);
                nanos = (long)(both >> 34);
                seconds = (long)(both & 0x3_FFFF_FFFFUL);
                break;
            default:
                nanos = BinaryPrimitives.ReadUInt32BigEndian(b);
                seconds = BinaryPrimitives.ReadInt64BigEndian(b[4..]);
                break;
        }

        if (nanos >= Timestamp.NanosPerSecond)
        {
            throw new FormatException($"a MessagePack timestamp has {nanos} nanoseconds; at most 999999999 are allowed");
        }

        return Timestamp.FromUnixNanos(checked((seconds * Timestamp.NanosPerSecond) + nanos));
    }
}
