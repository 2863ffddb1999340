using System.Text.Json;
using Keel.Domain;

namespace Keel.Runtime.Reporting;

/// <summary>
/// A price or quantity (nine implied decimals) as a JSON number, byte for byte what <see cref="Utf8JsonWriter"/> writes
/// for its double (<c>raw / 10⁹</c>, the shortest text that reads back to it), without the general algorithm, where the
/// answer is known: 10⁻⁴ ≤ |x| &lt; 10⁶.
/// </summary>
/// <remarks>
/// There the value has at most 15 significant digits, and the double nearest to it is less than 1.2·10⁻¹⁰ from it (the
/// spacing of doubles below 10⁶). Every other decimal of at most nine decimals is at least 10⁻⁹ away, so it reads back to
/// another double; a text with more decimals has more significant digits. The decimal itself, trailing zeros dropped,
/// is therefore the shortest text, and the runtime writes it in plain notation (it does from 10⁻⁵ up to 10¹⁵). Other
/// values (zero, which the writer writes as 0, smaller or larger ones) are left to the writer.
/// </remarks>
internal static class ExactNumber
{
    private const long Low = 100_000;
    private const long High = 1_000_000_000_000_000;

    /// <summary>Writes the property <paramref name="name"/> with the value <paramref name="raw"/> / 10⁹.</summary>
    public static void Write(Utf8JsonWriter writer, JsonEncodedText name, long raw)
    {
        Span<byte> text = stackalloc byte[32];
        if (TryFormat(raw, text, out int written))
        {
            writer.WritePropertyName(name);
            writer.WriteRawValue(text[..written], skipInputValidation: true);
        }
        else
        {
            writer.WriteNumber(name, raw / (double)Price.Scale);
        }
    }

    /// <summary>The text of <paramref name="raw"/> / 10⁹; false outside 10⁻⁴ ≤ |x| &lt; 10⁶.</summary>
    public static bool TryFormat(long raw, Span<byte> destination, out int written)
    {
        written = 0;
        if (!((raw >= Low && raw < High) || (raw <= -Low && raw > -High)) || destination.Length < 24)
        {
            return false;
        }

        written = FixedPoint.Format(raw, 9, destination);
        return true;
    }
}
