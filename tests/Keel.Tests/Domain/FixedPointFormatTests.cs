using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Keel.Domain;

namespace Keel.Tests.Domain;

/// <summary>
/// The fixed-point text writers against an independent reference: <see cref="decimal"/> arithmetic and .NET's own
/// integer formatting. Every CSV, report and journal number goes through them.
/// </summary>
public sealed class FixedPointFormatTests
{
    /// <summary>raw / 10^decimals as the shortest exact decimal text (no exponent, no trailing zeros, "-" only when non-zero).</summary>
    private static string Reference(long raw, int decimals)
    {
        decimal value = new decimal(raw) / (decimal)Math.Pow(10, decimals);
        string text = value.ToString("0.##################", CultureInfo.InvariantCulture);
        return text;
    }

    private static string Format(long raw, int decimals)
    {
        Span<byte> buffer = stackalloc byte[48];
        int n = FixedPoint.Format(raw, decimals, buffer);
        return Encoding.ASCII.GetString(buffer[..n]);
    }

    [Theory]
    [InlineData(0L, 9, "0")]
    [InlineData(1L, 9, "0.000000001")]
    [InlineData(-1L, 9, "-0.000000001")]
    [InlineData(1_500_000_000L, 9, "1.5")]
    [InlineData(100_000_000_000L, 10, "10")]
    [InlineData(312_345_678L, 10, "0.0312345678")]
    [InlineData(-312_345_600L, 10, "-0.03123456")]
    [InlineData(long.MaxValue, 9, "9223372036.854775807")]
    [InlineData(long.MinValue, 9, "-9223372036.854775808")]
    [InlineData(long.MinValue, 0, "-9223372036854775808")]
    [InlineData(long.MaxValue, 18, "9.223372036854775807")]
    [InlineData(10_000_000_000_000_000L, 18, "0.01")]
    [InlineData(1_000_000_001L, 18, "0.000000001000000001")]
    public void Format_WritesTheExactShortestText(long raw, int decimals, string expected) =>
        Assert.Equal(expected, Format(raw, decimals));

    [Fact]
    public void Format_MatchesDecimalForAnyValueAndScale() =>
        Prop.ForAll(
            ArbMap.Default.GeneratorFor<long>().Zip(Gen.Choose(0, 18)).ToArbitrary(),
            t => Format(t.Item1, t.Item2) == Reference(t.Item1, t.Item2))
            .QuickCheckThrowOnFailure();

    /// <summary>Large magnitudes, where the generator's longs are rare: every digit count and both signs.</summary>
    [Fact]
    public void Format_MatchesDecimalAtEveryDigitCount()
    {
        var random = new Random(42);
        for (int digits = 1; digits <= 18; digits++)
        {
            long low = (long)Math.Pow(10, digits - 1), high = (long)Math.Pow(10, digits);
            foreach (long raw in new[] { low, high - 1, random.NextInt64(low, high), -random.NextInt64(low, high) })
            {
                foreach (int decimals in new[] { 0, 1, 6, 8, 9, 10, 12, 17, 18 })
                {
                    Assert.Equal(Reference(raw, decimals), Format(raw, decimals));
                }
            }
        }
    }

    [Fact]
    public void CountDigits_IsTheLengthOfTheDecimalText()
    {
        var values = new List<ulong> { 0, ulong.MaxValue };
        for (int bit = 0; bit < 64; bit++)
        {
            ulong p = 1UL << bit;
            values.AddRange([p - 1, p, p + 1]);
        }

        ulong ten = 1;
        for (int i = 0; i < 20; i++)
        {
            values.AddRange([ten - 1, ten, ten + 1]);
            ten = unchecked(ten * 10);
        }

        var buffer = new byte[24];
        foreach (var v in values)
        {
            Assert.Equal(v.ToString(CultureInfo.InvariantCulture).Length, FixedPoint.CountDigits(v));
            int n = FixedPoint.WriteUnsigned(v, buffer);
            Assert.Equal(v.ToString(CultureInfo.InvariantCulture), Encoding.ASCII.GetString(buffer, 0, n));
        }
    }

    /// <summary>The eight-digit word against digits counted up one by one, for every value below 10^8.</summary>
    [Fact]
    public void Digits8_IsEveryValuesDigitsInReadingOrder()
    {
        var digits = new byte[8];
        for (uint v = 0; v < 100_000_000; v++)
        {
            ulong expected = 0;
            for (int i = 0; i < 8; i++)
            {
                expected |= (ulong)digits[i] << (8 * i);
            }

            ulong actual = FixedPoint.Digits8(v);
            if (actual != expected)
            {
                Assert.Fail($"Digits8({v}) = {actual:X16}, expected {expected:X16}");
            }

            for (int i = 7; i >= 0 && ++digits[i] == 10; i--)
            {
                digits[i] = 0;
            }
        }
    }

    /// <summary>Fractions of 8 and 9 digits (and 10, 17, 18) with every count of trailing zeros, where the word's high bytes are counted.</summary>
    [Fact]
    public void Format_TrimsEveryCountOfTrailingZeros()
    {
        var random = new Random(7);
        foreach (int decimals in new[] { 8, 9, 10, 17, 18 })
        {
            for (int zeros = 0; zeros < decimals; zeros++)
            {
                long unit = (long)Math.Pow(10, zeros);
                long bound = (long)Math.Pow(10, 17 - zeros);
                for (int i = 0; i < 50; i++)
                {
                    // A last digit that is not zero, then exactly `zeros` zeros; below 10^18 in all.
                    long raw = ((random.NextInt64(0, bound) * 10) + random.Next(1, 10)) * unit;
                    Assert.Equal(Reference(raw, decimals), Format(raw, decimals));
                    Assert.Equal(Reference(-raw, decimals), Format(-raw, decimals));
                }
            }
        }
    }

    /// <summary>Integers into spans of exactly their length (no room for the eight-byte store) and into wider ones.</summary>
    [Fact]
    public void WriteUnsigned_FitsExactSpansAndWiderOnes()
    {
        for (ulong ten = 1; ten <= 100_000_000_000UL; ten *= 10)
        {
            foreach (ulong value in new[] { ten - 1, ten, ten + 7, (ten * 3) + 1 })
            {
                string text = value.ToString(CultureInfo.InvariantCulture);
                var exact = new byte[text.Length];
                Assert.Equal(text.Length, FixedPoint.WriteUnsigned(value, exact));
                Assert.Equal(text, Encoding.ASCII.GetString(exact));
                var wide = new byte[24];
                Assert.Equal(text.Length, FixedPoint.WriteUnsigned(value, wide));
                Assert.Equal(text, Encoding.ASCII.GetString(wide, 0, text.Length));
            }
        }
    }

    /// <summary>Every second of a day, against .NET's own formatting.</summary>
    [Fact]
    public void Timestamp_FormatsEverySecondOfADay()
    {
        var day = Timestamp.Parse("2024-03-05");
        Span<byte> buffer = stackalloc byte[40];
        for (int s = 0; s < 86_400; s++)
        {
            var t = day.AddNanos(s * 1_000_000_000L);
            int n = t.FormatUtf8(buffer);
            string expected = new DateTime(2024, 3, 5, 0, 0, 0, DateTimeKind.Utc).AddSeconds(s).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
            Assert.Equal(expected, Encoding.ASCII.GetString(buffer[..n]));
        }
    }

    [Theory]
    [InlineData("2024-03-05T00:00:00Z")]
    [InlineData("2024-03-05T09:30:00Z")]
    [InlineData("2024-03-05T23:59:59.999999999Z")]
    [InlineData("2024-03-05T12:07:08.05Z")]
    [InlineData("1969-12-31T23:59:59.5Z")]
    [InlineData("1970-01-01T00:00:00.000000001Z")]
    public void Timestamp_FormatsItsOwnText(string text)
    {
        var t = Timestamp.Parse(text);
        Span<byte> buffer = stackalloc byte[40];
        int n = t.FormatUtf8(buffer);
        Assert.Equal(text, Encoding.ASCII.GetString(buffer[..n]));
    }
}
