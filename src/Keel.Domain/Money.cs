using System.Globalization;
using System.Runtime.CompilerServices;

namespace Keel.Domain;

/// <summary>
/// An exact amount of money: a signed 128-bit count of 1e-18 units, held as two 64-bit words. A price (1e-9) times a
/// quantity (1e-9) is exactly representable, so notional values, cash and equity never round; only explicit policies
/// (commission rates, proportional cost basis, averages) round, half to even. Range ±1.7e20; overflow throws.
/// </summary>
public readonly struct Money : IEquatable<Money>, IComparable<Money>
{
    public const int Decimals = 18;

    private const ulong E18 = 1_000_000_000_000_000_000UL;
    private const ulong E9 = 1_000_000_000UL;

    private readonly long _hi;
    private readonly ulong _lo;

    private Money(long hi, ulong lo)
    {
        _hi = hi;
        _lo = lo;
    }

    public static Money Zero => default;

    public bool IsZero => _hi == 0 && _lo == 0;

    public bool IsNegative => _hi < 0;

    public bool IsPositive => _hi > 0 || (_hi == 0 && _lo != 0);

    /// <summary>The raw count of 1e-18 units (for tests and storage; hot paths use the operators).</summary>
    public Int128 Raw => new(unchecked((ulong)_hi), _lo);

    public static Money FromRaw(Int128 raw) => new(unchecked((long)(ulong)(raw >> 64)), unchecked((ulong)raw));

    /// <summary>Exact product of two raw 1e-9 values (price × quantity) as money.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Money Product(long a, long b)
    {
        long hi = Math.BigMul(a, b, out long lo);
        return new Money(hi, unchecked((ulong)lo));
    }

    public static Money From(long units) => Product(units, 1_000_000_000L) * 1_000_000_000L;

    public static Money From(decimal value)
    {
        decimal integer = decimal.Truncate(value);
        if (integer > long.MaxValue / 10 || integer < long.MinValue / 10)
        {
            throw new OverflowException($"amount {value} is out of range");
        }

        var whole = From((long)integer);
        long fraction = (long)decimal.Round((value - integer) * 1_000_000_000_000_000_000m, 0, MidpointRounding.ToEven);
        return whole + new Money(fraction < 0 ? -1 : 0, unchecked((ulong)fraction));
    }

    public static Money Parse(string text) =>
        TryParse(text, out var m) ? m : throw new FormatException($"amount '{text}' is not a decimal number");

    /// <summary>Parses invariant decimal text (up to 18 integer digits and 18 decimals; more decimals round half to even).</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out Money money)
    {
        money = default;
        text = text.Trim();
        if (text.IsEmpty)
        {
            return false;
        }

        bool negative = text[0] == '-';
        if (text[0] is '-' or '+')
        {
            text = text[1..];
        }

        int dot = text.IndexOf('.');
        var intText = dot < 0 ? text : text[..dot];
        var fracText = dot < 0 ? [] : text[(dot + 1)..];
        if ((intText.IsEmpty && fracText.IsEmpty) || intText.Length > 18)
        {
            return false;
        }

        long integer = 0;
        foreach (char c in intText)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }

            integer = (integer * 10) + (c - '0');
        }

        long fraction = 0;
        int digits = 0;
        int roundDigit = -1;
        bool sticky = false;
        foreach (char c in fracText)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }

            if (digits < Decimals)
            {
                fraction = (fraction * 10) + (c - '0');
                digits++;
            }
            else if (roundDigit < 0)
            {
                roundDigit = c - '0';
            }
            else if (c != '0')
            {
                sticky = true;
            }
        }

        for (; digits < Decimals; digits++)
        {
            fraction *= 10;
        }

        if (roundDigit > 5 || (roundDigit == 5 && (sticky || (fraction & 1) == 1)))
        {
            fraction++;
        }

        var value = From(integer) + new Money(0, (ulong)fraction);
        money = negative ? -value : value;
        return true;
    }

    public decimal ToDecimal()
    {
        bool positive = Wide.Magnitude(_hi, _lo, out ulong mHi, out ulong mLo);
        Wide.DivRem(mHi, mLo, E18, out ulong qHi, out ulong qLo, out ulong rem);
        decimal integer = qHi == 0 ? qLo : ((decimal)qHi * 18446744073709551616m) + qLo;
        decimal value = integer + ((decimal)rem / 1_000_000_000_000_000_000m);
        return positive ? value : -value;
    }

    /// <summary>Lossy conversion for statistics and charts only.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double ToDouble() => ((_hi * 18446744073709551616.0) + _lo) / 1e18;

    /// <summary>Multiplies by a rate given in units of 1e-9 (0.001 = 1,000,000), rounding half to even to 1e-18.</summary>
    public Money MultiplyByRate(long rateNanos) => Scale(rateNanos, (long)E9);

    public Money MultiplyBy(decimal rate) => MultiplyByRate(FixedPoint.FromDecimal(rate, 9, "rate"));

    /// <summary>Returns <c>this × numerator / denominator</c>, exactly then rounded half to even; throws on overflow.</summary>
    public Money Scale(long numerator, long denominator)
    {
        if (denominator <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(denominator), $"scale denominator was {denominator}; it must be positive");
        }

        bool positive = Wide.Magnitude(_hi, _lo, out ulong mHi, out ulong mLo);
        if (numerator < 0)
        {
            positive = !positive;
            numerator = -numerator;
        }

        ulong n = (ulong)numerator, d = (ulong)denominator;

        // m × n / d = (q × d + r) × n / d = q × n + r × n / d, with q = m / d and r < d.
        Wide.DivRem(mHi, mLo, d, out ulong qHi, out ulong qLo, out ulong r);
        ulong pHi = Math.BigMul(qLo, n, out ulong pLo);
        ulong carryHi = checked(qHi * n);
        pHi = checked(pHi + carryHi);
        ulong rnHi = Math.BigMul(r, n, out ulong rnLo);
        ulong extra = Wide.DivRem(rnHi, rnLo, d, out ulong rem);
        if (Wide.RoundUp(extra, rem, d))
        {
            extra++;
        }

        ulong lo = unchecked(pLo + extra);
        ulong hi = checked(pHi + (lo < pLo ? 1UL : 0UL));
        return FromMagnitude(positive, hi, lo);
    }

    /// <summary>This amount divided by a quantity, as a price (cost basis / position = average price), rounded half to even.</summary>
    public Price DivideToPrice(Quantity quantity)
    {
        if (quantity.IsZero)
        {
            throw new DivideByZeroException("cannot divide an amount by a zero quantity");
        }

        bool positive = Wide.Magnitude(_hi, _lo, out ulong mHi, out ulong mLo);
        long q = quantity.Raw;
        if (q < 0)
        {
            positive = !positive;
            q = -q;
        }

        Wide.DivRem(mHi, mLo, (ulong)q, out ulong qHi, out ulong qLo, out ulong rem);
        if (Wide.RoundUp(qLo, rem, (ulong)q))
        {
            qLo = checked(qLo + 1);
        }

        if (qHi != 0 || qLo > long.MaxValue)
        {
            throw new OverflowException($"{this} / {quantity} does not fit in a price");
        }

        return Price.FromRaw(positive ? (long)qLo : -(long)qLo);
    }

    /// <summary>Rounds to the given number of decimals, half to even (for display and broker-style amounts).</summary>
    public Money Round(int decimals)
    {
        if (decimals >= Decimals)
        {
            return this;
        }

        long unit = FixedPoint.Pow10[Decimals - decimals];
        bool positive = Wide.Magnitude(_hi, _lo, out ulong mHi, out ulong mLo);
        Wide.DivRem(mHi, mLo, (ulong)unit, out ulong qHi, out ulong qLo, out ulong rem);
        if (Wide.RoundUp(qLo, rem, (ulong)unit))
        {
            qLo = unchecked(qLo + 1);
            if (qLo == 0)
            {
                qHi++;
            }
        }

        // q × unit back to raw.
        ulong hi = Math.BigMul(qLo, (ulong)unit, out ulong lo);
        hi = checked(hi + (qHi * (ulong)unit));
        return FromMagnitude(positive, hi, lo);
    }

    private static Money FromMagnitude(bool positive, ulong hi, ulong lo)
    {
        if (hi > long.MaxValue)
        {
            throw new OverflowException("amount is out of range (±1.7e20)");
        }

        long h = (long)hi;
        if (!positive)
        {
            Wide.Negate(ref h, ref lo);
        }

        return new Money(h, lo);
    }

    /// <summary>Writes the exact value (trailing zeros trimmed) as ASCII.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int FormatUtf8(Span<byte> destination)
    {
        bool positive = Wide.Magnitude(_hi, _lo, out ulong mHi, out ulong mLo);
        if (mHi < 1UL << 18)
        {
            // Below 2^82 raw (about 4.8 million units), m / 10^18 = (m >> 18) / 5^18 with (m >> 18) in 64 bits: a
            // division by a constant, which compiles to a multiplication. The remainder is below 10^18, so the low
            // word alone gives it.
            unchecked
            {
                ulong units = ((mHi << 46) | (mLo >> 18)) / 3_814_697_265_625UL;
                return FixedPoint.FormatParts(!positive, units, mLo - (units * E18), Decimals, destination);
            }
        }

        Wide.DivRem(mHi, mLo, E18, out ulong qHi, out ulong qLo, out ulong fraction);
        if (qHi == 0)
        {
            return FixedPoint.FormatParts(!positive, qLo, fraction, Decimals, destination);
        }

        return FormatHuge(positive, qHi, qLo, fraction, destination);
    }

    private static int FormatHuge(bool positive, ulong qHi, ulong qLo, ulong fraction, Span<byte> destination)
    {
        var integer = ((System.Numerics.BigInteger)qHi << 64) + qLo;
        string digits = fraction == 0 ? string.Empty : "." + fraction.ToString("D18", CultureInfo.InvariantCulture).TrimEnd('0');
        var text = (positive ? string.Empty : "-") + integer.ToString(CultureInfo.InvariantCulture) + digits;
        return System.Text.Encoding.ASCII.GetBytes(text, destination);
    }

    /// <summary>The value rounded to <paramref name="decimals"/> with exactly that many decimals.</summary>
    /// <summary>
    /// <see cref="ToFixed"/> into <paramref name="destination"/> without allocating; false when it does not fit (or the
    /// amount needs more than 64 bits of whole units), and the caller uses <see cref="ToFixed"/>.
    /// </summary>
    public bool TryFormatFixed(Span<char> destination, int decimals, out int written)
    {
        written = 0;
        var rounded = Round(decimals);
        decimals = Math.Clamp(decimals, 0, Decimals);
        bool positive = Wide.Magnitude(rounded._hi, rounded._lo, out ulong mHi, out ulong mLo);
        Wide.DivRem(mHi, mLo, E18, out ulong qHi, out ulong qLo, out ulong fraction);
        if (qHi != 0)
        {
            return false;
        }

        int n = 0;
        if (!positive && (qLo != 0 || fraction != 0))
        {
            if (destination.IsEmpty)
            {
                return false;
            }

            destination[n++] = '-';
        }

        if (!qLo.TryFormat(destination[n..], out int integer, default, CultureInfo.InvariantCulture))
        {
            return false;
        }

        n += integer;
        if (decimals > 0)
        {
            if (destination.Length < n + 1 + decimals)
            {
                return false;
            }

            destination[n++] = '.';
            ulong digits = fraction;
            for (int i = decimals; i < Decimals; i++)
            {
                digits /= 10;
            }

            for (int i = n + decimals - 1; i >= n; i--)
            {
                destination[i] = (char)('0' + (int)(digits % 10));
                digits /= 10;
            }

            n += decimals;
        }

        written = n;
        return true;
    }

    public string ToFixed(int decimals)
    {
        var rounded = Round(decimals);
        bool positive = Wide.Magnitude(rounded._hi, rounded._lo, out ulong mHi, out ulong mLo);
        Wide.DivRem(mHi, mLo, E18, out ulong qHi, out ulong qLo, out ulong fraction);
        string integer = qHi == 0 ? qLo.ToString(CultureInfo.InvariantCulture) : (((System.Numerics.BigInteger)qHi << 64) + qLo).ToString(CultureInfo.InvariantCulture);
        string sign = !positive && (qHi != 0 || qLo != 0 || fraction != 0) ? "-" : string.Empty;
        if (decimals <= 0)
        {
            return sign + integer;
        }

        return sign + integer + "." + fraction.ToString("D18", CultureInfo.InvariantCulture)[..Math.Min(decimals, Decimals)];
    }

    public override string ToString()
    {
        Span<byte> buffer = stackalloc byte[64];
        int n = FormatUtf8(buffer);
        return System.Text.Encoding.ASCII.GetString(buffer[..n]);
    }

    public bool Equals(Money other) => _hi == other._hi && _lo == other._lo;

    public override bool Equals(object? obj) => obj is Money other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_hi, _lo);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int CompareTo(Money other) => _hi != other._hi ? (_hi < other._hi ? -1 : 1) : _lo.CompareTo(other._lo);

    public static Money Abs(Money m) => m._hi < 0 ? -m : m;

    public static Money Min(Money a, Money b) => a <= b ? a : b;

    public static Money Max(Money a, Money b) => a >= b ? a : b;

    /// <summary>The ratio of two amounts as a double (for returns and statistics).</summary>
    public static double Ratio(Money numerator, Money denominator) =>
        denominator.IsZero ? double.NaN : numerator.ToDouble() / denominator.ToDouble();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Money operator +(Money a, Money b)
    {
        ulong lo = unchecked(a._lo + b._lo);
        long hi = checked(a._hi + b._hi + (lo < a._lo ? 1L : 0L));
        return new Money(hi, lo);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Money operator -(Money a, Money b)
    {
        ulong lo = unchecked(a._lo - b._lo);
        long hi = checked(a._hi - b._hi - (a._lo < b._lo ? 1L : 0L));
        return new Money(hi, lo);
    }

    public static Money operator -(Money a)
    {
        if (a._hi == long.MinValue && a._lo == 0)
        {
            throw new OverflowException("amount is out of range (±1.7e20)");
        }

        long hi = a._hi;
        ulong lo = a._lo;
        Wide.Negate(ref hi, ref lo);
        return new Money(hi, lo);
    }

    /// <summary>Multiplies by a small whole factor (used for unit conversions); throws on overflow.</summary>
    public static Money operator *(Money a, long factor)
    {
        bool positive = Wide.Magnitude(a._hi, a._lo, out ulong mHi, out ulong mLo);
        if (factor < 0)
        {
            positive = !positive;
            factor = -factor;
        }

        ulong hi = Math.BigMul(mLo, (ulong)factor, out ulong lo);
        hi = checked(hi + checked(mHi * (ulong)factor));
        return FromMagnitude(positive, hi, lo);
    }

    public static bool operator ==(Money a, Money b) => a.Equals(b);

    public static bool operator !=(Money a, Money b) => !a.Equals(b);

    public static bool operator <(Money a, Money b) => a.CompareTo(b) < 0;

    public static bool operator >(Money a, Money b) => a.CompareTo(b) > 0;

    public static bool operator <=(Money a, Money b) => a.CompareTo(b) <= 0;

    public static bool operator >=(Money a, Money b) => a.CompareTo(b) >= 0;
}
