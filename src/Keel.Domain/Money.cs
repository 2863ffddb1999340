using System.Runtime.CompilerServices;

namespace Keel.Domain;

/// <summary>
/// An exact amount of money: a signed 128-bit count of 1e-18 units. A price (1e-9) times a quantity (1e-9) is exactly
/// representable, so notional values, cash and equity never round; only explicit policies (commission rates,
/// proportional cost basis) round, half to even. Range ±1.7e20.
/// </summary>
public readonly struct Money : IEquatable<Money>, IComparable<Money>
{
    public const int Decimals = 18;

    /// <summary>Raw units per 1.0.</summary>
    public static readonly Int128 Scale = (Int128)1_000_000_000_000_000_000L;

    private Money(Int128 raw) => Raw = raw;

    public Int128 Raw { get; }

    public static Money Zero => default;

    public bool IsZero => Raw == Int128.Zero;

    public bool IsNegative => Raw < Int128.Zero;

    public bool IsPositive => Raw > Int128.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Money FromRaw(Int128 raw) => new(raw);

    public static Money From(decimal value)
    {
        decimal integer = decimal.Truncate(value);
        decimal fraction = value - integer;
        Int128 raw = checked(((Int128)integer * Scale) + (Int128)decimal.Round(fraction * 1_000_000_000_000_000_000m, 0, MidpointRounding.ToEven));
        return new Money(raw);
    }

    public static Money From(long units) => new(checked((Int128)units * Scale));

    public static Money Parse(string text) =>
        TryParse(text, out var m) ? m : throw new FormatException($"amount '{text}' is not a decimal number");

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
        ReadOnlySpan<char> intText = dot < 0 ? text : text[..dot];
        ReadOnlySpan<char> fracText = dot < 0 ? [] : text[(dot + 1)..];
        if (intText.IsEmpty && fracText.IsEmpty)
        {
            return false;
        }

        Int128 integer = 0;
        foreach (char c in intText)
        {
            if (c is < '0' or > '9' || integer > Int128.MaxValue / 100 / Scale)
            {
                return false;
            }

            integer = (integer * 10) + (c - '0');
        }

        Int128 fraction = 0;
        int digits = 0;
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
        }

        for (; digits < Decimals; digits++)
        {
            fraction *= 10;
        }

        Int128 raw = (integer * Scale) + fraction;
        money = new Money(negative ? -raw : raw);
        return true;
    }

    public decimal ToDecimal()
    {
        Int128 integer = FixedPoint.DivRem128(Raw, Scale, out Int128 fraction);
        return (decimal)integer + ((decimal)(long)fraction / 1_000_000_000_000_000_000m);
    }

    /// <summary>Lossy conversion for statistics and charts only.</summary>
    public double ToDouble() => (double)Raw / 1e18;

    /// <summary>Multiplies by an exact rate (for example a commission fraction), rounding half to even to 1e-18.</summary>
    public Money MultiplyBy(decimal rate)
    {
        long rateRaw = FixedPoint.FromDecimal(rate, 9, "rate");
        return new Money(FixedPoint.DivideRoundHalfEven(checked(Raw * rateRaw), 1_000_000_000L));
    }

    /// <summary>Returns <c>this × numerator / denominator</c> without intermediate overflow, rounding half to even.</summary>
    public Money Scale128(long numerator, long denominator)
    {
        if (denominator == 0)
        {
            throw new DivideByZeroException("proportion denominator is zero");
        }

        Int128 q = FixedPoint.DivRem128(Raw, denominator, out Int128 r);
        return new Money(checked((q * numerator) + FixedPoint.DivideRoundHalfEven(r * numerator, denominator)));
    }

    /// <summary>Rounds to the given number of decimals, half to even (for display and broker-style amounts).</summary>
    public Money Round(int decimals)
    {
        Int128 unit = Int128.One;
        for (int i = decimals; i < Decimals; i++)
        {
            unit *= 10;
        }

        return new Money(FixedPoint.DivideRoundHalfEven(Raw, unit) * unit);
    }

    /// <summary>Writes the exact value (trailing zeros trimmed) as ASCII.</summary>
    public int FormatUtf8(Span<byte> destination)
    {
        Int128 magnitude = Raw < 0 ? -Raw : Raw;
        Int128 integer = FixedPoint.DivRem128(magnitude, Scale, out Int128 fraction);
        if (integer > ulong.MaxValue)
        {
            string digits = fraction == Int128.Zero
                ? string.Empty
                : "." + ((long)fraction).ToString("D18", System.Globalization.CultureInfo.InvariantCulture).TrimEnd('0');
            var text = (Raw < 0 ? "-" : string.Empty) + integer.ToString(System.Globalization.CultureInfo.InvariantCulture) + digits;
            return System.Text.Encoding.ASCII.GetBytes(text, destination);
        }

        return FixedPoint.FormatParts(Raw < 0, (ulong)integer, (ulong)fraction, Decimals, destination);
    }

    /// <summary>Writes the value rounded to <paramref name="decimals"/> with exactly that many decimals.</summary>
    public string ToFixed(int decimals)
    {
        Money rounded = Round(decimals);
        Int128 magnitude = rounded.Raw < 0 ? -rounded.Raw : rounded.Raw;
        Int128 integer = FixedPoint.DivRem128(magnitude, Scale, out Int128 fraction);
        string sign = rounded.Raw < 0 ? "-" : string.Empty;
        if (decimals == 0)
        {
            return sign + integer.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        string frac = fraction.ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(Decimals, '0')[..decimals];
        return sign + integer.ToString(System.Globalization.CultureInfo.InvariantCulture) + "." + frac;
    }

    public override string ToString()
    {
        Span<byte> buffer = stackalloc byte[64];
        int n = FormatUtf8(buffer);
        return System.Text.Encoding.ASCII.GetString(buffer[..n]);
    }

    public bool Equals(Money other) => Raw == other.Raw;

    public override bool Equals(object? obj) => obj is Money other && Equals(other);

    public override int GetHashCode() => Raw.GetHashCode();

    public int CompareTo(Money other) => Raw.CompareTo(other.Raw);

    public static Money Abs(Money m) => new(Int128.Abs(m.Raw));

    public static Money Min(Money a, Money b) => a.Raw <= b.Raw ? a : b;

    public static Money Max(Money a, Money b) => a.Raw >= b.Raw ? a : b;

    /// <summary>The ratio of two amounts as a double (for returns and statistics).</summary>
    public static double Ratio(Money numerator, Money denominator) =>
        denominator.IsZero ? double.NaN : (double)numerator.Raw / (double)denominator.Raw;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Money operator +(Money a, Money b) => new(checked(a.Raw + b.Raw));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Money operator -(Money a, Money b) => new(checked(a.Raw - b.Raw));

    public static Money operator -(Money a) => new(checked(-a.Raw));

    public static bool operator ==(Money a, Money b) => a.Raw == b.Raw;

    public static bool operator !=(Money a, Money b) => a.Raw != b.Raw;

    public static bool operator <(Money a, Money b) => a.Raw < b.Raw;

    public static bool operator >(Money a, Money b) => a.Raw > b.Raw;

    public static bool operator <=(Money a, Money b) => a.Raw <= b.Raw;

    public static bool operator >=(Money a, Money b) => a.Raw >= b.Raw;
}
