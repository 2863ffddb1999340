using System.Globalization;
using Keel.Domain;

namespace Keel.Sandbox.Wire;

/// <summary>Exact text of fixed-point values and timestamps as the venues write them.</summary>
internal static class WireText
{
    /// <summary>A raw 9-decimal value as the shortest exact decimal text (<c>3578.73</c>, <c>169</c>): Alpaca's JSON numbers.</summary>
    public static string Number(long raw) => Price.FromRaw(raw).ToString();

    /// <summary>A raw 9-decimal value with exactly <paramref name="decimals"/> decimals (<c>1.09340</c>): OANDA's price strings.</summary>
    public static string Fixed(long raw, int decimals)
    {
        bool negative = raw < 0;
        ulong magnitude = negative ? (ulong)(-(raw + 1)) + 1 : (ulong)raw;
        ulong integer = magnitude / Price.Scale;
        ulong fraction = magnitude % Price.Scale;
        var text = integer.ToString(CultureInfo.InvariantCulture);
        if (decimals > 0)
        {
            var digits = fraction.ToString("D9", CultureInfo.InvariantCulture);
            text = text + "." + digits[..decimals];
        }

        return negative && magnitude != 0 ? "-" + text : text;
    }

    /// <summary>RFC 3339 UTC with exactly nine fractional digits: <c>2016-10-17T19:35:00.000000000Z</c>.</summary>
    public static string Time9(long nanos)
    {
        long fraction = ((nanos % Timestamp.NanosPerSecond) + Timestamp.NanosPerSecond) % Timestamp.NanosPerSecond;
        var whole = Timestamp.FromUnixNanos(nanos - fraction).ToString(); // 2016-10-17T19:35:00Z
        return $"{whole[..^1]}.{fraction.ToString("D9", CultureInfo.InvariantCulture)}Z";
    }

    /// <summary>RFC 3339 UTC without fraction when whole: Alpaca bar times (<c>2021-02-22T19:15:00Z</c>).</summary>
    public static string BarTime(long nanos) => Timestamp.FromUnixNanos(nanos).ToString();

    /// <summary>UNIX seconds with nine decimals, as OANDA writes under <c>Accept-Datetime-Format: UNIX</c>.</summary>
    public static string Unix9(long nanos)
    {
        long seconds = Math.DivRem(nanos, Timestamp.NanosPerSecond, out long fraction);
        if (fraction < 0)
        {
            seconds--;
            fraction += Timestamp.NanosPerSecond;
        }

        return $"{seconds.ToString(CultureInfo.InvariantCulture)}.{fraction.ToString("D9", CultureInfo.InvariantCulture)}";
    }

    /// <summary>Parses RFC 3339 (any fraction, Z or offset) or a date <c>YYYY-MM-DD</c>.</summary>
    public static bool TryParseTime(string? text, out long nanos)
    {
        nanos = 0;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        if (Timestamp.TryParse(text.AsSpan().Trim(), out var ts))
        {
            nanos = ts.UnixNanos;
            return true;
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var dto))
        {
            nanos = Timestamp.FromDateTimeOffset(dto).UnixNanos;
            return true;
        }

        return false;
    }

    /// <summary>Parses UNIX seconds with an optional fraction (<c>1476732900.000000000</c>).</summary>
    public static bool TryParseUnix(string? text, out long nanos)
    {
        nanos = 0;
        if (string.IsNullOrWhiteSpace(text) || !FixedPoint.TryParse(text.AsSpan().Trim(), 9, out long raw))
        {
            return false;
        }

        nanos = raw;
        return true;
    }
}
