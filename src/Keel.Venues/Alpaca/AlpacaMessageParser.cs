using System.Text;
using System.Text.Json;
using Keel.Domain;

namespace Keel.Venues.Alpaca;

/// <summary>What the parser found in an Alpaca market data frame, element by element.</summary>
internal interface IAlpacaMessageHandler
{
    void OnTick(in Tick tick);

    void OnBar(in Bar bar);

    /// <summary><c>success</c>, <c>error</c> or <c>subscription</c>; <paramref name="code"/> is 0 when absent.</summary>
    void OnControl(AlpacaControl kind, int code, string message);

    void OnMalformed(string detail);
}

internal enum AlpacaControl
{
    Success,
    Error,
    Subscription,
}

/// <summary>
/// Parses Alpaca market data v2 frames (a JSON array of messages, §B.2 of the reference) without allocating per
/// trade or quote: prices and sizes go straight from their UTF-8 digits into Keel's fixed-point values, the
/// nanosecond timestamps are parsed exactly, and symbols resolve through a table of the subscribed instruments.
/// A frame that is not valid JSON is reported once and skipped; an element with missing or mistyped fields is reported
/// and skipped while the rest of the frame is still read.
/// </summary>
internal sealed class AlpacaMessageParser
{
    private readonly Feeds.SymbolTable _symbols;
    private readonly string?[] _exchanges = new string?[128];

    public AlpacaMessageParser(IEnumerable<string> symbols)
    {
        _symbols = new Feeds.SymbolTable(symbols);
    }

    public void Parse(ReadOnlySpan<byte> frame, Timestamp receivedAt, IAlpacaMessageHandler handler)
    {
        var reader = new Utf8JsonReader(frame, new JsonReaderOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
            {
                handler.OnMalformed($"frame is not a JSON array: {Preview(frame)}");
                return;
            }

            int index = 0;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    reader.Skip();
                    handler.OnMalformed($"element {index} is not an object: {Preview(frame)}");
                    index++;
                    continue;
                }

                ParseElement(ref reader, frame, index, receivedAt, handler);
                index++;
            }
        }
        catch (JsonException ex)
        {
            handler.OnMalformed($"invalid JSON at byte {ex.BytePositionInLine}: {Preview(frame)}");
        }
    }

    private void ParseElement(ref Utf8JsonReader reader, ReadOnlySpan<byte> frame, int index, Timestamp receivedAt, IAlpacaMessageHandler handler)
    {
        byte type = 0;
        int typeLength = 0;
        bool bad = false;
        string? badField = null;
        InstrumentId instrument = default;
        bool hasSymbol = false;
        Timestamp time = default;
        bool hasTime = false;
        long price = 0, size = 0, bid = 0, ask = 0, bidSize = 0, askSize = 0, open = 0, high = 0, low = 0, close = 0, volume = 0;
        int have = 0;
        string? exchange = null;
        int code = 0;
        string? message = null;
        List<string>? lists = null;

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.ValueSpan;
            if (!reader.Read())
            {
                break;
            }

            if (name.Length == 1)
            {
                switch (name[0])
                {
                    case (byte)'T':
                        if (reader.TokenType != JsonTokenType.String || reader.ValueSpan.Length == 0)
                        {
                            bad = true;
                            badField ??= "T";
                            break;
                        }

                        type = reader.ValueSpan[0];
                        typeLength = reader.ValueSpan.Length;
                        if (typeLength > 1)
                        {
                            // "success", "error", "subscription".
                            type = reader.ValueSpan.SequenceEqual("success"u8) ? (byte)'S'
                                : reader.ValueSpan.SequenceEqual("error"u8) ? (byte)'E'
                                : reader.ValueSpan.SequenceEqual("subscription"u8) ? (byte)'U'
                                : (byte)'?';
                        }

                        break;
                    case (byte)'S':
                        if (reader.TokenType == JsonTokenType.String && reader.ValueSpan.Length > 0 && !reader.ValueIsEscaped)
                        {
                            instrument = _symbols.Resolve(reader.ValueSpan);
                            hasSymbol = true;
                        }
                        else
                        {
                            bad = true;
                            badField ??= "S";
                        }

                        break;
                    case (byte)'t':
                        hasTime = reader.TokenType == JsonTokenType.String && Timestamp.TryParseIso(reader.ValueSpan, out time);
                        if (!hasTime)
                        {
                            bad = true;
                            badField ??= "t";
                        }

                        break;
                    case (byte)'p':
                        bad |= !Fixed(ref reader, Price.Decimals, ref price, ref have, 1, ref badField, "p");
                        break;
                    case (byte)'s':
                        bad |= !Fixed(ref reader, Quantity.Decimals, ref size, ref have, 2, ref badField, "s");
                        break;
                    case (byte)'o':
                        bad |= !Fixed(ref reader, Price.Decimals, ref open, ref have, 4, ref badField, "o");
                        break;
                    case (byte)'h':
                        bad |= !Fixed(ref reader, Price.Decimals, ref high, ref have, 8, ref badField, "h");
                        break;
                    case (byte)'l':
                        bad |= !Fixed(ref reader, Price.Decimals, ref low, ref have, 16, ref badField, "l");
                        break;
                    case (byte)'c':
                        if (reader.TokenType == JsonTokenType.Number)
                        {
                            bad |= !Fixed(ref reader, Price.Decimals, ref close, ref have, 32, ref badField, "c");
                        }
                        else
                        {
                            reader.Skip(); // trade/quote conditions
                        }

                        break;
                    case (byte)'v':
                        bad |= !Fixed(ref reader, Quantity.Decimals, ref volume, ref have, 64, ref badField, "v");
                        break;
                    case (byte)'x':
                        if (reader.TokenType == JsonTokenType.String && reader.ValueSpan.Length == 1 && reader.ValueSpan[0] < 128)
                        {
                            exchange = _exchanges[reader.ValueSpan[0]] ??= Encoding.ASCII.GetString(reader.ValueSpan);
                        }
                        else
                        {
                            reader.Skip();
                        }

                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }
            else if (name.Length == 2 && name[1] == (byte)'p' && (name[0] == (byte)'b' || name[0] == (byte)'a'))
            {
                bad |= name[0] == (byte)'b'
                    ? !Fixed(ref reader, Price.Decimals, ref bid, ref have, 128, ref badField, "bp")
                    : !Fixed(ref reader, Price.Decimals, ref ask, ref have, 256, ref badField, "ap");
            }
            else if (name.Length == 2 && name[1] == (byte)'s' && (name[0] == (byte)'b' || name[0] == (byte)'a'))
            {
                bad |= name[0] == (byte)'b'
                    ? !Fixed(ref reader, Quantity.Decimals, ref bidSize, ref have, 512, ref badField, "bs")
                    : !Fixed(ref reader, Quantity.Decimals, ref askSize, ref have, 1024, ref badField, "as");
            }
            else if (name.SequenceEqual("code"u8))
            {
                if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out int c))
                {
                    code = c;
                }
                else
                {
                    reader.Skip();
                }
            }
            else if (name.SequenceEqual("msg"u8))
            {
                message = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            }
            else if (reader.TokenType == JsonTokenType.StartArray && (name.SequenceEqual("trades"u8) || name.SequenceEqual("quotes"u8) || name.SequenceEqual("bars"u8)))
            {
                var list = Encoding.UTF8.GetString(name);
                int count = 0;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    count++;
                }

                (lists ??= []).Add($"{list}: {count}");
            }
            else
            {
                reader.Skip();
            }
        }

        switch (type)
        {
            case (byte)'t' when typeLength == 1:
                if (bad || !hasSymbol || !hasTime || (have & 1) == 0)
                {
                    handler.OnMalformed($"trade (element {index}) {Missing(bad, badField, hasSymbol, hasTime)}: {Preview(frame)}");
                    return;
                }

                handler.OnTick(new Tick(instrument, time, TickKind.Trade, default, default, default, default, Price.FromRaw(price), Quantity.FromRaw(size), exchange, receivedAt));
                return;
            case (byte)'q' when typeLength == 1:
                if (bad || !hasSymbol || !hasTime || (have & (128 | 256)) != (128 | 256))
                {
                    handler.OnMalformed($"quote (element {index}) {Missing(bad, badField, hasSymbol, hasTime)}: {Preview(frame)}");
                    return;
                }

                handler.OnTick(new Tick(instrument, time, TickKind.Quote, Price.FromRaw(bid), Price.FromRaw(ask), Quantity.FromRaw(bidSize), Quantity.FromRaw(askSize), default, default, exchange, receivedAt));
                return;
            case (byte)'b' when typeLength == 1:
                if (bad || !hasSymbol || !hasTime || (have & (4 | 8 | 16 | 32)) != (4 | 8 | 16 | 32))
                {
                    handler.OnMalformed($"bar (element {index}) {Missing(bad, badField, hasSymbol, hasTime)}: {Preview(frame)}");
                    return;
                }

                handler.OnBar(new Bar(instrument, time, Price.FromRaw(open), Price.FromRaw(high), Price.FromRaw(low), Price.FromRaw(close), Quantity.FromRaw(volume)));
                return;
            case (byte)'S' when typeLength > 1:
                handler.OnControl(AlpacaControl.Success, 0, message ?? string.Empty);
                return;
            case (byte)'E' when typeLength > 1:
                handler.OnControl(AlpacaControl.Error, code, message ?? string.Empty);
                return;
            case (byte)'U' when typeLength > 1:
                handler.OnControl(AlpacaControl.Subscription, 0, lists is null ? string.Empty : string.Join(", ", lists));
                return;
            case (byte)'d' or (byte)'u' or (byte)'s' or (byte)'l' or (byte)'c' or (byte)'x' or (byte)'i' or (byte)'o' or (byte)'n' when typeLength == 1:
                // Daily/updated bars, statuses, LULD, corrections, cancel errors, imbalances, order books, news: valid,
                // not used for candles.
                return;
            default:
                handler.OnMalformed($"element {index} has {(type == 0 ? "no message type T" : "an unknown message type")}: {Preview(frame)}");
                return;
        }
    }

    private static string Missing(bool bad, string? badField, bool hasSymbol, bool hasTime) =>
        bad ? $"has an invalid '{badField}'"
        : !hasSymbol ? "has no symbol 'S'"
        : !hasTime ? "has no time 't'"
        : "lacks a price or size field";

    private static bool Fixed(ref Utf8JsonReader reader, int decimals, ref long value, ref int have, int bit, ref string? badField, string field)
    {
        if (reader.TokenType == JsonTokenType.Number && !reader.HasValueSequence && FixedPoint.TryParse(reader.ValueSpan, decimals, out value))
        {
            have |= bit;
            return true;
        }

        if (reader.TokenType == JsonTokenType.Number && reader.TryGetDecimal(out decimal d))
        {
            try
            {
                value = decimals == Price.Decimals ? Price.From(d).Raw : Quantity.From(d).Raw;
                have |= bit;
                return true;
            }
            catch (Exception ex) when (ex is ArgumentException or OverflowException)
            {
                // Out of range: fall through to "invalid".
            }
        }

        if (reader.TokenType is JsonTokenType.StartArray or JsonTokenType.StartObject)
        {
            reader.Skip();
        }

        badField ??= field;
        return false;
    }

    internal static string Preview(ReadOnlySpan<byte> frame)
    {
        const int Max = 160;
        var text = Encoding.UTF8.GetString(frame.Length > Max ? frame[..Max] : frame);
        return frame.Length > Max ? text + "…" : text;
    }
}
