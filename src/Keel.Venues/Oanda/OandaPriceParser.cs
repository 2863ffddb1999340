using System.Text.Json;
using Keel.Domain;

namespace Keel.Venues.Oanda;

internal enum OandaLine
{
    Price,
    Heartbeat,
    Other,
    Malformed,
}

/// <summary>
/// Parses one line of OANDA's pricing stream (§D.6): <c>PRICE</c> (best bid/ask from <c>bids[0]</c>/<c>asks[0]</c>, prices
/// as strings, liquidity as an integer) or <c>HEARTBEAT</c>. No allocation per price: prices are parsed from their UTF-8
/// text into fixed point, times exactly to the nanosecond, instruments through a table of the streamed ones.
/// </summary>
internal sealed class OandaPriceParser
{
    private readonly Feeds.SymbolTable _symbols;

    public OandaPriceParser(IEnumerable<string> instruments)
    {
        _symbols = new Feeds.SymbolTable(instruments);
    }

    public OandaLine Parse(ReadOnlySpan<byte> line, Timestamp receivedAt, out Tick tick, out Timestamp time, out string? problem)
    {
        tick = default;
        time = default;
        problem = null;
        var reader = new Utf8JsonReader(line);
        bool isPrice = false, isHeartbeat = false, hasType = false, hasTime = false, hasInstrument = false;
        InstrumentId instrument = default;
        long bid = 0, ask = 0, bidSize = 0, askSize = 0;
        bool hasBid = false, hasAsk = false;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                problem = "line is not a JSON object";
                return OandaLine.Malformed;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.ValueSpan;
                reader.Read();
                if (name.SequenceEqual("type"u8))
                {
                    hasType = reader.TokenType == JsonTokenType.String;
                    isPrice = hasType && reader.ValueSpan.SequenceEqual("PRICE"u8);
                    isHeartbeat = hasType && reader.ValueSpan.SequenceEqual("HEARTBEAT"u8);
                }
                else if (name.SequenceEqual("time"u8))
                {
                    hasTime = reader.TokenType == JsonTokenType.String && TryTime(reader.ValueSpan, out time);
                    if (!hasTime)
                    {
                        problem = "invalid 'time'";
                    }
                }
                else if (name.SequenceEqual("instrument"u8))
                {
                    if (reader.TokenType == JsonTokenType.String && reader.ValueSpan.Length > 0)
                    {
                        instrument = _symbols.Resolve(reader.ValueSpan);
                        hasInstrument = true;
                    }
                    else
                    {
                        problem = "invalid 'instrument'";
                    }
                }
                else if (name.SequenceEqual("bids"u8))
                {
                    hasBid = Best(ref reader, out bid, out bidSize);
                }
                else if (name.SequenceEqual("asks"u8))
                {
                    hasAsk = Best(ref reader, out ask, out askSize);
                }
                else
                {
                    reader.Skip();
                }
            }
        }
        catch (JsonException ex)
        {
            problem = $"invalid JSON at byte {ex.BytePositionInLine}";
            return OandaLine.Malformed;
        }

        if (!hasType)
        {
            problem ??= "no 'type'";
            return OandaLine.Malformed;
        }

        if (isHeartbeat)
        {
            return hasTime ? OandaLine.Heartbeat : Malformed(ref problem, "heartbeat without a valid 'time'");
        }

        if (!isPrice)
        {
            return OandaLine.Other;
        }

        if (problem is not null || !hasTime || !hasInstrument || !hasBid || !hasAsk)
        {
            return Malformed(ref problem, !hasInstrument ? "price without 'instrument'" : !hasTime ? "price without 'time'" : "price without a valid bids[0]/asks[0]");
        }

        tick = new Tick(instrument, time, TickKind.Quote, Price.FromRaw(bid), Price.FromRaw(ask), Quantity.FromRaw(bidSize), Quantity.FromRaw(askSize), default, default, null, receivedAt);
        return OandaLine.Price;
    }

    private static OandaLine Malformed(ref string? problem, string fallback)
    {
        problem ??= fallback;
        return OandaLine.Malformed;
    }

    /// <summary>RFC 3339 with 9 digits, or UNIX seconds with 9 decimals when <c>Accept-Datetime-Format: UNIX</c>.</summary>
    internal static bool TryTime(ReadOnlySpan<byte> text, out Timestamp time)
    {
        if (text.Length > 4 && text[4] == (byte)'-')
        {
            return Timestamp.TryParseIso(text, out time);
        }

        time = default;
        if (!FixedPoint.TryParse(text, 9, out long nanos))
        {
            return false;
        }

        time = Timestamp.FromUnixNanos(nanos);
        return true;
    }

    // The first element of a bids/asks array: {"price":"1.09177","liquidity":10000000}.
    private static bool Best(ref Utf8JsonReader reader, out long price, out long size)
    {
        price = 0;
        size = 0;
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return false;
        }

        bool found = false;
        int element = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (element++ > 0 || reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                continue;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.ValueSpan;
                reader.Read();
                if (name.SequenceEqual("price"u8))
                {
                    found = reader.TokenType is JsonTokenType.String or JsonTokenType.Number && FixedPoint.TryParse(reader.ValueSpan, Price.Decimals, out price);
                }
                else if (name.SequenceEqual("liquidity"u8))
                {
                    if (!(reader.TokenType is JsonTokenType.String or JsonTokenType.Number && FixedPoint.TryParse(reader.ValueSpan, Quantity.Decimals, out size)))
                    {
                        size = 0;
                    }
                }
                else
                {
                    reader.Skip();
                }
            }
        }

        return found;
    }
}
