using System.Text;
using System.Text.Json;
using Keel.Runtime.Reporting;

namespace Keel.Tests.Runtime;

/// <summary>
/// The report's numbers rounded to 8 decimals are written without the general double formatting where the text is
/// known; the bytes must be exactly what the JSON writer writes for <c>Math.Round(x, 8)</c>, for every value.
/// </summary>
public sealed class Rounded8Tests
{
    private static string Reference(double x)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteNumberValue(Math.Round(x, 8));
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static string Fast(double x)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            Rounded8.Write(w, x);
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1e-9)]
    [InlineData(-4e-9)]
    [InlineData(5e-9)]
    [InlineData(0.00001234)]
    [InlineData(0.0001)]
    [InlineData(-0.0001)]
    [InlineData(0.00009999999)]
    [InlineData(0.1)]
    [InlineData(0.3)]
    [InlineData(1.0)]
    [InlineData(-2.5)]
    [InlineData(0.123456785)]
    [InlineData(-0.0014531593)]
    [InlineData(123.45678901)]
    [InlineData(9999999.999999994)]
    [InlineData(9999999.99999999)]
    [InlineData(10000000.0)]
    [InlineData(12345678.12345678)]
    [InlineData(1e15)]
    [InlineData(double.MaxValue)]
    public void Boundaries_AndSpecialValues_AreWrittenAsTheWriterWritesThem(double x) => Assert.Equal(Reference(x), Fast(x));

    [Fact]
    public void NegativeZero_AndValuesThatRoundToIt_AreWrittenAsTheWriterWritesThem()
    {
        Assert.Equal(Reference(-0.0), Fast(-0.0));
        Assert.Equal(Reference(-1e-12), Fast(-1e-12));
    }

    [Fact]
    public void A_Million_RandomValues_OfEveryMagnitude_AreWrittenAsTheWriterWritesThem()
    {
        var random = new Random(20261207);
        int fast = 0;
        Span<byte> text = stackalloc byte[32];
        for (int i = 0; i < 1_000_000; i++)
        {
            double x = (i % 4) switch
            {
                0 => (random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-10, 9)),
                1 => Math.Round((random.NextDouble() - 0.5) * 20, random.Next(0, 12)),
                2 => random.NextInt64(-10_000_000_000_000_000, 10_000_000_000_000_000) / 1e8,
                _ => BitConverter.Int64BitsToDouble(random.NextInt64()),
            };
            if (!double.IsFinite(x))
            {
                continue;
            }

            string expected = Reference(x);
            Assert.True(expected == Fast(x), $"{x:R}: expected {expected}, wrote {Fast(x)}");
            if (Rounded8.TryFormat(Math.Round(x, 8), text, out _))
            {
                fast++;
            }
        }

        Assert.True(fast > 400_000, $"the fast text was used for {fast} values");
    }
}
