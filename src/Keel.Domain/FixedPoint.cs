using System.Runtime.CompilerServices;

namespace Keel.Domain;

/// <summary>Parsing and formatting of decimal text into scaled integers, shared by the exact value types.</summary>
public static class FixedPoint
{
    internal static readonly long[] Pow10 =
    [
        1L, 10L, 100L, 1_000L, 10_000L, 100_000L, 1_000_000L, 10_000_000L, 100_000_000L, 1_000_000_000L,
        10_000_000_000L, 100_000_000_000L, 1_000_000_000_000L, 10_000_000_000_000L, 100_000_000_000_000L,
        1_000_000_000_000_000L, 10_000_000_000_000_000L, 100_000_000_000_000_000L, 1_000_000_000_000_000_000L,
    ];

    /// <summary>
    /// Parses ASCII decimal text (<c>-12.345</c>, <c>+7</c>, <c>.5</c>, <c>1e-3</c> is not accepted) into a raw integer
    /// with <paramref name="decimals"/> implied decimals. Extra digits are rounded half to even.
    /// Returns false on anything that is not a plain decimal number or does not fit in 64 bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryParse(ReadOnlySpan<byte> s, int decimals, out long raw)
    {
        raw = 0;
        int i = 0, n = s.Length;
        if (n == 0)
        {
            return false;
        }

        bool negative = false;
        if (s[0] == (byte)'-' || s[0] == (byte)'+')
        {
            negative = s[0] == (byte)'-';
            i = 1;
        }

        ulong intPart = 0;
        int intDigits = 0;
        while (i < n)
        {
            uint d = unchecked((uint)(s[i] - '0'));
            if (d > 9)
            {
                break;
            }

            if (intPart > (ulong.MaxValue - 9) / 10)
            {
                return false;
            }

            intPart = (intPart * 10) + d;
            intDigits++;
            i++;
        }

        ulong frac = 0;
        int fracDigits = 0;
        bool roundUp = false;
        bool sticky = false;
        int roundDigit = -1;
        if (i < n && s[i] == (byte)'.')
        {
            i++;
            while (i < n)
            {
                uint d = unchecked((uint)(s[i] - '0'));
                if (d > 9)
                {
                    break;
                }

                if (fracDigits < decimals)
                {
                    frac = (frac * 10) + d;
                    fracDigits++;
                }
                else if (roundDigit < 0)
                {
                    roundDigit = (int)d;
                }
                else if (d != 0)
                {
                    sticky = true;
                }

                i++;
            }

            if (fracDigits == 0 && roundDigit < 0 && intDigits == 0)
            {
                return false;
            }
        }

        if (i != n || (intDigits == 0 && fracDigits == 0 && roundDigit < 0))
        {
            return false;
        }

        ulong scale = (ulong)Pow10[decimals];
        if (intPart > ulong.MaxValue / scale)
        {
            return false;
        }

        ulong value = (intPart * scale) + (frac * (ulong)Pow10[decimals - fracDigits]);
        if (roundDigit > 5 || (roundDigit == 5 && (sticky || (value & 1) == 1)))
        {
            roundUp = true;
        }

        if (roundUp)
        {
            value++;
        }

        if (negative)
        {
            if (value > (ulong)long.MaxValue + 1)
            {
                return false;
            }

            raw = value == (ulong)long.MaxValue + 1 ? long.MinValue : -(long)value;
        }
        else
        {
            if (value > long.MaxValue)
            {
                return false;
            }

            raw = (long)value;
        }

        return true;
    }

    /// <summary>Parses UTF-16 decimal text; see the byte overload.</summary>
    public static bool TryParse(ReadOnlySpan<char> s, int decimals, out long raw)
    {
        Span<byte> buffer = stackalloc byte[64];
        if (s.Length > buffer.Length)
        {
            raw = 0;
            return false;
        }

        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c > 127)
            {
                raw = 0;
                return false;
            }

            buffer[i] = (byte)c;
        }

        return TryParse(buffer[..s.Length], decimals, out raw);
    }

    /// <summary>Writes <paramref name="raw"/> with <paramref name="decimals"/> implied decimals, trailing zeros trimmed.</summary>
    public static int Format(long raw, int decimals, Span<byte> destination)
    {
        ulong magnitude = raw < 0 ? (ulong)(-(raw + 1)) + 1 : (ulong)raw;
        ulong scale = (ulong)Pow10[decimals];
        ulong integer = magnitude / scale;
        ulong fraction = magnitude - (integer * scale);
        return FormatParts(raw < 0, integer, fraction, decimals, destination);
    }

    /// <summary>Writes a sign, an integer part and a fraction of <paramref name="decimals"/> digits, trimmed.</summary>
    internal static int FormatParts(bool negative, ulong integer, ulong fraction, int decimals, Span<byte> destination)
    {
        int pos = 0;
        if (negative && (integer != 0 || fraction != 0))
        {
            destination[pos++] = (byte)'-';
        }

        pos += WriteUnsigned(integer, destination[pos..]);
        if (fraction != 0)
        {
            destination[pos++] = (byte)'.';
            int digits = decimals;
            while (fraction % 10 == 0)
            {
                fraction /= 10;
                digits--;
            }

            for (int k = digits - 1; k >= 0; k--)
            {
                destination[pos + k] = (byte)('0' + (int)(fraction % 10));
                fraction /= 10;
            }

            pos += digits;
        }

        return pos;
    }

    /// <summary>Writes an unsigned integer in decimal; returns the number of bytes written.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int WriteUnsigned(ulong value, Span<byte> destination)
    {
        if (value < 10)
        {
            destination[0] = (byte)('0' + (int)value);
            return 1;
        }

        int len = CountDigits(value);
        for (int k = len - 1; k >= 0; k--)
        {
            ulong q = value / 10;
            destination[k] = (byte)('0' + (int)(value - (q * 10)));
            value = q;
        }

        return len;
    }

    internal static int CountDigits(ulong value)
    {
        int digits = 1;
        while (value >= 10)
        {
            value /= 10;
            digits++;
        }

        return digits;
    }

    internal static string ToText(long raw, int decimals)
    {
        Span<byte> buffer = stackalloc byte[48];
        int len = Format(raw, decimals, buffer);
        return System.Text.Encoding.ASCII.GetString(buffer[..len]);
    }

    internal static long FromDecimal(decimal value, int decimals, string what)
    {
        decimal scaled = decimal.Round(value * Pow10[decimals], 0, MidpointRounding.ToEven);
        if (scaled > long.MaxValue || scaled < long.MinValue)
        {
            throw new OverflowException($"{what} {value} is out of range");
        }

        return (long)scaled;
    }

    internal static decimal ToDecimal(long raw, int decimals) => new decimal(raw) / Pow10[decimals];

    /// <summary>Truncating division with remainder (the remainder has the sign of the numerator).</summary>
    public static Int128 DivRem128(Int128 numerator, Int128 denominator, out Int128 remainder)
    {
        var (q, r) = Int128.DivRem(numerator, denominator);
        remainder = r;
        return q;
    }

    /// <summary>Divides with rounding half to even (the rounding used for every derived exact value in Keel).</summary>
    public static Int128 DivideRoundHalfEven(Int128 numerator, Int128 denominator)
    {
        if (denominator == Int128.Zero)
        {
            throw new DivideByZeroException();
        }

        Int128 quotient = DivRem128(numerator, denominator, out Int128 remainder);
        if (remainder == Int128.Zero)
        {
            return quotient;
        }

        Int128 twiceRemainder = Int128.Abs(remainder) * 2;
        Int128 absDenominator = Int128.Abs(denominator);
        bool positive = (numerator < 0) == (denominator < 0);
        int cmp = twiceRemainder.CompareTo(absDenominator);
        if (cmp > 0 || (cmp == 0 && (quotient & Int128.One) != Int128.Zero))
        {
            quotient += positive ? Int128.One : Int128.NegativeOne;
        }

        return quotient;
    }
}
