namespace Keel.Runtime.Reporting;

/// <summary>
/// JSON text of a double rounded to 8 decimals (<c>Math.Round(x, 8)</c>), byte for byte what <see cref="System.Text.Json.Utf8JsonWriter"/>
/// writes for it (the shortest text that reads back to the same double), without the general algorithm, for the
/// values where the answer is known: 10⁻⁴ ≤ |x| &lt; 10⁷.
/// </summary>
/// <remarks>
/// Such a value is the double nearest to m / 10⁸ for an integer m. The decimal m·10⁻⁸ (trailing zeros dropped) reads
/// back to it, and no shorter or other decimal of as many digits does: any other candidate of its magnitude is a
/// multiple of 10⁻⁸ at least 10⁻⁸ away, while below 10⁷ two doubles are less than 2·10⁻⁹ apart. The runtime writes
/// that decimal in plain notation, as it does from 10⁻⁵ up to 10¹⁵. Anything else (zero, which may be negative zero,
/// smaller or larger values, NaN) is left to the writer.
/// </remarks>
internal static class Rounded8
{
    private const double Scale = 1e8;

    /// <summary>Writes <c>Math.Round(value, 8)</c> as a JSON number.</summary>
    public static void Write(System.Text.Json.Utf8JsonWriter writer, double value)
    {
        double rounded = Math.Round(value, 8);
        Span<byte> text = stackalloc byte[32];
        if (TryFormat(rounded, text, out int written))
        {
            writer.WriteRawValue(text[..written], skipInputValidation: true);
        }
        else
        {
            writer.WriteNumberValue(rounded);
        }
    }

    /// <summary>The text of <paramref name="rounded"/> (a result of <c>Math.Round(x, 8)</c>); false outside 10⁻⁴ ≤ |x| &lt; 10⁷.</summary>
    public static bool TryFormat(double rounded, Span<byte> destination, out int written)
    {
        written = 0;
        double magnitude = Math.Abs(rounded);
        if (!(magnitude >= 1e-4 && magnitude < 1e7) || destination.Length < 20)
        {
            return false;
        }

        long m = (long)Math.Round(magnitude * Scale);
        if (m / Scale != magnitude)
        {
            // Not a value Math.Round(x, 8) gives: say nothing rather than something else.
            return false;
        }

        // Sign, integer part and the fraction's digits with trailing zeros dropped, as the CSV writer writes fixed points.
        written = Keel.Domain.FixedPoint.Format(rounded < 0 ? -m : m, 8, destination);
        return true;
    }
}
