using System.Runtime.CompilerServices;

namespace Keel.Domain;

/// <summary>An exact price: a signed 64-bit count of nano-units (9 decimals). Never a binary floating-point number.</summary>
public readonly struct Price : IEquatable<Price>, IComparable<Price>
{
    /// <summary>Number of decimals every price carries.</summary>
    public const int Decimals = 9;

    /// <summary>Raw units per 1.0.</summary>
    public const long Scale = 1_000_000_000;

    private Price(long raw) => Raw = raw;

    /// <summary>The scaled integer value (units of 1e-9).</summary>
    public long Raw { get; }

    public static Price Zero => default;

    public bool IsPositive => Raw > 0;

    public static Price FromRaw(long raw) => new(raw);

    public static Price From(decimal value) => new(FixedPoint.FromDecimal(value, Decimals, "price"));

    public static Price From(long units) => new(checked(units * Scale));

    /// <summary>Parses invariant decimal text such as <c>101.25</c>.</summary>
    public static Price Parse(string text) =>
        TryParse(text, out var price) ? price : throw new FormatException($"price '{text}' is not a decimal number");

    public static bool TryParse(ReadOnlySpan<char> text, out Price price)
    {
        bool ok = FixedPoint.TryParse(text, Decimals, out long raw);
        price = new Price(raw);
        return ok;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryParse(ReadOnlySpan<byte> utf8, out Price price)
    {
        bool ok = FixedPoint.TryParse(utf8, Decimals, out long raw);
        price = new Price(raw);
        return ok;
    }

    public decimal ToDecimal() => FixedPoint.ToDecimal(Raw, Decimals);

    /// <summary>Lossy conversion for indicators and statistics only.</summary>
    public double ToDouble() => Raw / (double)Scale;

    /// <summary>Rounds to a multiple of <paramref name="increment"/> (half to even).</summary>
    public Price RoundTo(Price increment)
    {
        if (increment.Raw <= 0)
        {
            return this;
        }

        return new Price(checked(FixedPoint.DivideRoundHalfEven(Raw, increment.Raw) * increment.Raw));
    }

    /// <summary>Rounds up (toward +infinity) to a multiple of <paramref name="increment"/>.</summary>
    public Price CeilingTo(Price increment)
    {
        if (increment.Raw <= 0)
        {
            return this;
        }

        long q = Math.DivRem(Raw, increment.Raw, out long r);
        if (r > 0)
        {
            q++;
        }

        return new Price(checked(q * increment.Raw));
    }

    /// <summary>Rounds down (toward -infinity) to a multiple of <paramref name="increment"/>.</summary>
    public Price FloorTo(Price increment)
    {
        if (increment.Raw <= 0)
        {
            return this;
        }

        long q = Math.DivRem(Raw, increment.Raw, out long r);
        if (r < 0)
        {
            q--;
        }

        return new Price(checked(q * increment.Raw));
    }

    public int FormatUtf8(Span<byte> destination) => FixedPoint.Format(Raw, Decimals, destination);

    public override string ToString() => FixedPoint.ToText(Raw, Decimals);

    public bool Equals(Price other) => Raw == other.Raw;

    public override bool Equals(object? obj) => obj is Price other && Equals(other);

    public override int GetHashCode() => Raw.GetHashCode();

    public int CompareTo(Price other) => Raw.CompareTo(other.Raw);

    public static Price Min(Price a, Price b) => a.Raw <= b.Raw ? a : b;

    public static Price Max(Price a, Price b) => a.Raw >= b.Raw ? a : b;

    public static Price operator +(Price a, Price b) => new(checked(a.Raw + b.Raw));

    public static Price operator -(Price a, Price b) => new(checked(a.Raw - b.Raw));

    public static Price operator -(Price a) => new(checked(-a.Raw));

    /// <summary>Exact notional: price times quantity, with no rounding.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Money operator *(Price p, Quantity q) => Money.Product(p.Raw, q.Raw);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Money operator *(Quantity q, Price p) => Money.Product(p.Raw, q.Raw);

    public static bool operator ==(Price a, Price b) => a.Raw == b.Raw;

    public static bool operator !=(Price a, Price b) => a.Raw != b.Raw;

    public static bool operator <(Price a, Price b) => a.Raw < b.Raw;

    public static bool operator >(Price a, Price b) => a.Raw > b.Raw;

    public static bool operator <=(Price a, Price b) => a.Raw <= b.Raw;

    public static bool operator >=(Price a, Price b) => a.Raw >= b.Raw;
}
