using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Keel.Sandbox.Market;

namespace Keel.Sandbox.Wire;

/// <summary>Alpaca market data messages (numbers for prices and sizes, nanosecond times).</summary>
internal static class AlpacaWire
{
    /// <summary>IEX's participant code: the sandbox reports every trade as if it printed there.</summary>
    public const string Exchange = "V";
    public const string Tape = "C";

    public static byte[] Trade(MarketEvent e) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("T", "t");
        w.WriteNumber("i", e.TradeId);
        w.WriteString("S", e.Symbol);
        w.WriteString("x", Exchange);
        w.WritePropertyName("p");
        w.WriteRawValue(WireText.Number(e.Price), skipInputValidation: true);
        w.WritePropertyName("s");
        w.WriteRawValue(WireText.Number(e.Size), skipInputValidation: true);
        w.WriteString("t", WireText.Time9(e.Time));
        w.WriteStartArray("c");
        w.WriteStringValue("@");
        w.WriteEndArray();
        w.WriteString("z", Tape);
        w.WriteEndObject();
    });

    public static byte[] Quote(MarketEvent e, long halfSpread) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("T", "q");
        w.WriteString("S", e.Symbol);
        w.WriteString("bx", Exchange);
        w.WritePropertyName("bp");
        w.WriteRawValue(WireText.Number(e.Price - halfSpread), skipInputValidation: true);
        w.WriteNumber("bs", 1);
        w.WriteString("ax", Exchange);
        w.WritePropertyName("ap");
        w.WriteRawValue(WireText.Number(e.Price + halfSpread), skipInputValidation: true);
        w.WriteNumber("as", 1);
        w.WriteString("t", WireText.Time9(e.Time));
        w.WriteStartArray("c");
        w.WriteStringValue("R");
        w.WriteEndArray();
        w.WriteString("z", Tape);
        w.WriteEndObject();
    });

    /// <summary>A stream bar <c>{"T":"b",...}</c>.</summary>
    public static byte[] StreamBar(MarketEvent e) => Write(w => WriteBar(w, e.Bar, e.Symbol));

    /// <summary>A bar object; with <paramref name="symbol"/> it is a stream message (<c>T</c>, <c>S</c>), without it a REST bar.</summary>
    public static void WriteBar(Utf8JsonWriter w, in ServedBar bar, string? symbol)
    {
        w.WriteStartObject();
        if (symbol is not null)
        {
            w.WriteString("T", "b");
            w.WriteString("S", symbol);
        }
        else
        {
            w.WriteString("t", WireText.BarTime(bar.Time));
        }

        WriteNumber(w, "o", bar.Open);
        WriteNumber(w, "h", bar.High);
        WriteNumber(w, "l", bar.Low);
        WriteNumber(w, "c", bar.Close);
        WriteNumber(w, "v", bar.Volume);
        if (symbol is not null)
        {
            w.WriteString("t", WireText.BarTime(bar.Time));
        }

        w.WriteNumber("n", bar.Ticks);
        w.WriteNumber("vw", bar.Vwap);
        w.WriteEndObject();
    }

    public static byte[] Control(string type, string msg) => Frame(Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("T", type);
        w.WriteString("msg", msg);
        w.WriteEndObject();
    }));

    public static byte[] Error(int code, string msg) => Frame(Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("T", "error");
        w.WriteNumber("code", code);
        w.WriteString("msg", msg);
        w.WriteEndObject();
    }));

    /// <summary>Wraps one encoded object into a one-element array, as every control message is sent.</summary>
    public static byte[] Frame(byte[] element)
    {
        var frame = new byte[element.Length + 2];
        frame[0] = (byte)'[';
        element.CopyTo(frame, 1);
        frame[^1] = (byte)']';
        return frame;
    }

    /// <summary>Three kinds of garbage a client must survive, in turn: broken JSON, wrong types, an unknown message type.</summary>
    public static byte[] Malformed(long n) => (n % 3) switch
    {
        0 => "[{\"T\":\"t\",\"S\":\"AAPL\",\"p\":12"u8.ToArray(),
        1 => "[{\"T\":\"t\",\"i\":\"not-a-number\",\"S\":42,\"x\":\"V\",\"p\":\"abc\",\"s\":null,\"t\":17,\"c\":\"@\",\"z\":\"C\"}]"u8.ToArray(),
        _ => "[{\"T\":\"sandbox-unknown\",\"S\":\"AAPL\",\"msg\":\"unknown message type\"}]"u8.ToArray(),
    };

    /// <summary>Relaxed escaping keeps quotes and '+' readable (<c>'instruments'</c>, not <c>\u0027instruments\u0027</c>).</summary>
    internal static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    internal static void WriteNumber(Utf8JsonWriter w, string name, long raw)
    {
        w.WritePropertyName(name);
        w.WriteRawValue(WireText.Number(raw), skipInputValidation: true);
    }

    internal static byte[] Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer, Options))
        {
            body(w);
        }

        return buffer.WrittenSpan.ToArray();
    }
}

/// <summary>OANDA v20 pricing stream lines (strings for prices, nine-digit times).</summary>
internal static class OandaWire
{
    public const int Liquidity = 10_000_000;

    /// <summary>A PRICE line (with its newline): bid = p − h, ask = p + h.</summary>
    public static byte[] Price(MarketEvent e, long halfSpread, int decimals, bool unixTimes) => Line(w =>
    {
        var bid = WireText.Fixed(e.Price - halfSpread, decimals);
        var ask = WireText.Fixed(e.Price + halfSpread, decimals);
        w.WriteStartObject();
        w.WriteString("type", "PRICE");
        w.WriteString("instrument", e.Symbol);
        w.WriteString("time", unixTimes ? WireText.Unix9(e.Time) : WireText.Time9(e.Time));
        w.WriteString("status", "tradeable");
        w.WriteBoolean("tradeable", true);
        w.WriteStartArray("bids");
        w.WriteStartObject();
        w.WriteString("price", bid);
        w.WriteNumber("liquidity", Liquidity);
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteStartArray("asks");
        w.WriteStartObject();
        w.WriteString("price", ask);
        w.WriteNumber("liquidity", Liquidity);
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteString("closeoutBid", bid);
        w.WriteString("closeoutAsk", ask);
        w.WriteEndObject();
    });

    public static byte[] Heartbeat(long nanos, bool unixTimes) => Line(w =>
    {
        w.WriteStartObject();
        w.WriteString("type", "HEARTBEAT");
        w.WriteString("time", unixTimes ? WireText.Unix9(nanos) : WireText.Time9(nanos));
        w.WriteEndObject();
    });

    public static byte[] Malformed(long n) => Encoding.UTF8.GetBytes((n % 3) switch
    {
        0 => "{\"type\":\"PRICE\",\"instrument\":\"EUR_USD\",\"bids\":[{\"price\":\"1.0\n",
        1 => "{\"type\":\"PRICE\",\"instrument\":7,\"time\":17,\"tradeable\":\"yes\",\"bids\":\"none\",\"asks\":[{\"price\":1.1,\"liquidity\":\"x\"}]}\n",
        _ => "{\"type\":\"SANDBOX_UNKNOWN\",\"time\":\"not a time\"}\n",
    });

    public static byte[] Error(string message) => AlpacaWire.Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("errorMessage", message);
        w.WriteEndObject();
    });

    private static byte[] Line(Action<Utf8JsonWriter> body)
    {
        var bytes = AlpacaWire.Write(body);
        var line = new byte[bytes.Length + 1];
        bytes.CopyTo(line, 0);
        line[^1] = (byte)'\n';
        return line;
    }
}
