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

    // The writers below only ever handle digits (values 0-99 into bytes, quotients of positive numbers), which cannot
    // overflow: they run unchecked, without the overflow tests this project's checked build adds to every byte cast.

    /// <summary>Writes <paramref name="raw"/> with <paramref name="decimals"/> implied decimals, trailing zeros trimmed.</summary>
    public static int Format(long raw, int decimals, Span<byte> destination)
    {
        unchecked
        {
            ulong magnitude = raw < 0 ? (ulong)(-(raw + 1)) + 1 : (ulong)raw;

            // The scales the value types and the CSV writer use, as constants: a multiplication instead of a division.
            ulong integer = decimals switch
            {
                9 => magnitude / 1_000_000_000UL,
                10 => magnitude / 10_000_000_000UL,
                _ => magnitude / (ulong)Pow10[decimals],
            };
            ulong fraction = magnitude - (integer * (ulong)Pow10[decimals]);
            return FormatParts(raw < 0, integer, fraction, decimals, destination);
        }
    }

    /// <summary>Writes a sign, an integer part and a fraction of <paramref name="decimals"/> digits, trimmed.</summary>
    internal static int FormatParts(bool negative, ulong integer, ulong fraction, int decimals, Span<byte> destination)
    {
        unchecked
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
                pos += WriteFraction(fraction, decimals, destination[pos..]);
            }

            return pos;
        }
    }

    /// <summary>Writes a non-zero fraction of <paramref name="decimals"/> digits (≤ 18), leading zeros kept, trailing zeros trimmed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int WriteFraction(ulong fraction, int decimals, Span<byte> destination)
    {
        unchecked
        {
            if (decimals <= 9)
            {
                return WriteTrimmed((uint)fraction, decimals, destination);
            }

            // Split into a high part of (decimals − 9) digits and a low part of 9 digits, so the work is 32-bit.
            ulong high = fraction / 1_000_000_000UL;
            uint low = (uint)(fraction - (high * 1_000_000_000UL));
            if (low == 0)
            {
                return WriteTrimmed((uint)high, decimals - 9, destination);
            }

            WriteFixed((uint)high, decimals - 9, destination);
            return decimals - 9 + WriteTrimmed(low, 9, destination[(decimals - 9)..]);
        }
    }

    /// <summary>Writes a non-zero <paramref name="value"/> as <paramref name="digits"/> digits, then drops the trailing zeros.</summary>
    private static int WriteTrimmed(uint value, int digits, Span<byte> destination)
    {
        unchecked
        {
            if (digits is 8 or 9 && destination.Length >= digits)
            {
                // The trailing zero digits are counted from the last eight's zero high bytes instead of a loop over the text.
                ulong eight = WriteEightOrNine(value, digits, destination);
                return eight == 0 ? digits - 8 : digits - (System.Numerics.BitOperations.LeadingZeroCount(eight) >> 3);
            }

            WriteFixed(value, digits, destination);
            while (destination[digits - 1] == (byte)'0')
            {
                digits--;
            }

            return digits;
        }
    }

    /// <summary>Writes exactly <paramref name="digits"/> digits, zero-padded on the left.</summary>
    private static void WriteFixed(uint value, int digits, Span<byte> destination)
    {
        unchecked
        {
            if (digits is 8 or 9 && destination.Length >= digits)
            {
                WriteEightOrNine(value, digits, destination);
                return;
            }

            ReadOnlySpan<byte> pairs = DigitPairs;
            int k = digits;
            while (k >= 2)
            {
                uint q = value / 100;
                int r = (int)(value - (q * 100)) * 2;
                destination[k - 1] = pairs[r + 1];
                destination[k - 2] = pairs[r];
                value = q;
                k -= 2;
            }

            if (k == 1)
            {
                destination[0] = (byte)('0' + (value % 10));
            }
        }
    }

    private const ulong AsciiZeros = 0x3030_3030_3030_3030UL;

    /// <summary>
    /// Writes <paramref name="value"/> (below 10^<paramref name="digits"/>) as exactly 8 or 9 digits: the first of nine
    /// alone, the last eight as one store of their word (<see cref="Digits8"/>), which it returns.
    /// </summary>
    private static ulong WriteEightOrNine(uint value, int digits, Span<byte> destination)
    {
        unchecked
        {
            if (digits == 9)
            {
                uint head = value / 100_000_000;
                value -= head * 100_000_000;
                destination[0] = (byte)('0' + head);
            }

            ulong eight = Digits8(value);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(destination[(digits - 8)..], eight + AsciiZeros);
            return eight;
        }
    }

    /// <summary>
    /// The eight decimal digits of <paramref name="value"/> (below 10^8, zero-padded) as one byte each, the most
    /// significant in the lowest byte: the word stored little-endian is the digits in reading order (add '0' to each for
    /// text). Trailing zero digits are the word's zero high bytes. Splits into halves of four digits, then pairs, then
    /// digits, in parallel lanes: multiplications by 10486 / 2^20 and 103 / 2^10 divide exactly by 100 and 10 in
    /// the ranges the lanes hold (below 10^4 and below 100), and the lanes are wide enough that nothing carries
    /// from one to the next.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong Digits8(uint value)
    {
        unchecked
        {
            ulong high = value / 10_000;
            ulong low = value - (high * 10_000);
            ulong merged = high | (low << 32);
            ulong hundreds = ((merged * 10486UL) >> 20) & 0x0000_007F_0000_007FUL;
            ulong pairs = ((merged - (100UL * hundreds)) << 16) + hundreds;
            ulong tens = ((pairs * 103UL) >> 10) & 0x000F_000F_000F_000FUL;
            return ((pairs - (10UL * tens)) << 8) + tens;
        }
    }

    /// <summary>"00" to "99", two ASCII digits each (read as little-endian 16-bit words, each pair in reading order).</summary>
    internal static ReadOnlySpan<byte> DigitPairs =>
        "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"u8;

    /// <summary>Writes an unsigned integer in decimal; returns the number of bytes written.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int WriteUnsigned(ulong value, Span<byte> destination)
    {
        unchecked
        {
            if (value < 10)
            {
                destination[0] = (byte)('0' + (int)value);
                return 1;
            }

            int len = CountDigits(value);
            if (value < 100_000_000 && destination.Length >= 8)
            {
                // The eight-digit word shifted so that its last len digits come first; the bytes after them are scratch.
                ulong eight = Digits8((uint)value) >> ((8 - len) << 3);
                System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(destination, eight + AsciiZeros);
                return len;
            }

            int k = len;
            ReadOnlySpan<byte> pairs = DigitPairs;
            while (value >= 100)
            {
                ulong q = value / 100;
                int r = (int)(value - (q * 100)) * 2;
                destination[k - 1] = pairs[r + 1];
                destination[k - 2] = pairs[r];
                value = q;
                k -= 2;
            }

            if (value >= 10)
            {
                int r = (int)value * 2;
                destination[1] = pairs[r + 1];
                destination[0] = pairs[r];
            }
            else
            {
                destination[0] = (byte)('0' + (int)value);
            }

            return len;
        }
    }

    /// <summary>The number of decimal digits of <paramref name="value"/> (1 for zero), from its bit length.</summary>
    internal static int CountDigits(ulong value)
    {
        unchecked
        {
            // 1233 / 4096 ≈ log10(2): t is the digit count or one less, and one comparison tells which.
            int t = ((64 - System.Numerics.BitOperations.LeadingZeroCount(value | 1)) * 1233) >> 12;
            return t == 0 ? 1 : t + (value >= PowersOfTen[t] ? 1 : 0);
        }
    }

    private static ReadOnlySpan<ulong> PowersOfTen =>
    [
        1UL, 10UL, 100UL, 1_000UL, 10_000UL, 100_000UL, 1_000_000UL, 10_000_000UL, 100_000_000UL, 1_000_000_000UL,
        10_000_000_000UL, 100_000_000_000UL, 1_000_000_000_000UL, 10_000_000_000_000UL, 100_000_000_000_000UL,
        1_000_000_000_000_000UL, 10_000_000_000_000_000UL, 100_000_000_000_000_000UL, 1_000_000_000_000_000_000UL,
        10_000_000_000_000_000_000UL,
    ];

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

    /// <summary>Divides with rounding half to even (the rounding used for every derived exact value in Keel).</summary>
    public static long DivideRoundHalfEven(long numerator, long denominator)
    {
        if (denominator == 0)
        {
            throw new DivideByZeroException();
        }

        long quotient = Math.DivRem(numerator, denominator, out long remainder);
        if (remainder == 0)
        {
            return quotient;
        }

        ulong r = remainder < 0 ? (ulong)(-(remainder + 1)) + 1 : (ulong)remainder;
        ulong d = denominator < 0 ? (ulong)(-(denominator + 1)) + 1 : (ulong)denominator;
        bool positive = (numerator < 0) == (denominator < 0);
        if (Wide.RoundUp(unchecked((ulong)quotient), r, d))
        {
            quotient += positive ? 1 : -1;
        }

        return quotient;
    }

    /// <summary><c>a × b / divisor</c> with a 128-bit intermediate, truncated toward zero; throws if the result does not fit.</summary>
    public static long MultiplyDivide(long a, long b, long divisor)
    {
        if (divisor <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(divisor), $"divisor was {divisor}; it must be positive");
        }

        bool positive = (a < 0) == (b < 0);
        ulong ua = a < 0 ? (ulong)(-(a + 1)) + 1 : (ulong)a;
        ulong ub = b < 0 ? (ulong)(-(b + 1)) + 1 : (ulong)b;
        ulong hi = Math.BigMul(ua, ub, out ulong lo);
        Wide.DivRem(hi, lo, (ulong)divisor, out ulong qHi, out ulong qLo, out _);
        if (qHi != 0 || qLo > long.MaxValue)
        {
            throw new OverflowException($"{a} × {b} / {divisor} is out of range");
        }

        return positive ? (long)qLo : -(long)qLo;
    }
}
