using System.Runtime.CompilerServices;

namespace Keel.Domain;

/// <summary>
/// An exact quantity (shares, units, contracts): a signed 64-bit count of nano-units (9 decimals).
/// Order quantities are positive; position quantities carry a sign (negative = short).
/// </summary>
public readonly struct Quantity : IEquatable<Quantity>, IComparable<Quantity>
{
    public const int Decimals = 9;
    public const long Scale = 1_000_000_000;

    private Quantity(long raw) => Raw = raw;

    public long Raw { get; }

    public static Quantity Zero => default;

    public bool IsZero => Raw == 0;

    public bool IsPositive => Raw > 0;

    public bool IsNegative => Raw < 0;

    public int Sign => Math.Sign(Raw);

    public static Quantity FromRaw(long raw) => new(raw);

    public static Quantity From(decimal value) => new(FixedPoint.FromDecimal(value, Decimals, "quantity"));

    public static Quantity From(long units) => new(checked(units * Scale));

    public static Quantity Parse(string text) =>
        TryParse(text, out var q) ? q : throw new FormatException($"quantity '{text}' is not a decimal number");

    public static bool TryParse(ReadOnlySpan<char> text, out Quantity quantity)
    {
        bool ok = FixedPoint.TryParse(text, Decimals, out long raw);
        quantity = new Quantity(raw);
        return ok;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryParse(ReadOnlySpan<byte> utf8, out Quantity quantity)
    {
        bool ok = FixedPoint.TryParse(utf8, Decimals, out long raw);
        quantity = new Quantity(raw);
        return ok;
    }

    public Quantity Abs() => new(checked(Math.Abs(Raw)));

    public decimal ToDecimal() => FixedPoint.ToDecimal(Raw, Decimals);

    public double ToDouble() => Raw / (double)Scale;

    /// <summary>Rounds down (toward zero) to a multiple of <paramref name="lot"/>.</summary>
    public Quantity TruncateTo(Quantity lot) => lot.Raw <= 0 ? this : new Quantity(Raw / lot.Raw * lot.Raw);

    public int FormatUtf8(Span<byte> destination) => FixedPoint.Format(Raw, Decimals, destination);

    public override string ToString() => FixedPoint.ToText(Raw, Decimals);

    public bool Equals(Quantity other) => Raw == other.Raw;

    public override bool Equals(object? obj) => obj is Quantity other && Equals(other);

    public override int GetHashCode() => Raw.GetHashCode();

    public int CompareTo(Quantity other) => Raw.CompareTo(other.Raw);

    public static Quantity Min(Quantity a, Quantity b) => a.Raw <= b.Raw ? a : b;

    public static Quantity Max(Quantity a, Quantity b) => a.Raw >= b.Raw ? a : b;

    public static Quantity operator +(Quantity a, Quantity b) => new(checked(a.Raw + b.Raw));

    public static Quantity operator -(Quantity a, Quantity b) => new(checked(a.Raw - b.Raw));

    public static Quantity operator -(Quantity a) => new(checked(-a.Raw));

    public static bool operator ==(Quantity a, Quantity b) => a.Raw == b.Raw;

    public static bool operator !=(Quantity a, Quantity b) => a.Raw != b.Raw;

    public static bool operator <(Quantity a, Quantity b) => a.Raw < b.Raw;

    public static bool operator >(Quantity a, Quantity b) => a.Raw > b.Raw;

    public static bool operator <=(Quantity a, Quantity b) => a.Raw <= b.Raw;

    public static bool operator >=(Quantity a, Quantity b) => a.Raw >= b.Raw;
}
