using System.Text;
using System.Text.Json;
using Keel.Runtime.Reporting;

namespace Keel.Tests.Runtime;

/// <summary>
/// The report's candle prices and volumes are written as their exact decimal text where that is known to be what the
/// JSON writer writes for their double; the bytes must be exactly the writer's, for every value.
/// </summary>
public sealed class ExactNumberTests
{
    private static readonly JsonEncodedText Name = JsonEncodedText.Encode("open");

    private static string Reference(long raw)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteNumber(Name, raw / 1e9);
            w.WriteNumber(Name, raw / 1e9);
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static string Fast(long raw)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            ExactNumber.Write(w, Name, raw);
            ExactNumber.Write(w, Name, raw);
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(1L)]
    [InlineData(-1L)]
    [InlineData(99_999L)]
    [InlineData(100_000L)]
    [InlineData(-100_000L)]
    [InlineData(100_001L)]
    [InlineData(1_000_000_000L)]
    [InlineData(100_110_800_000L)]
    [InlineData(999_999_999_999_999L)]
    [InlineData(-999_999_999_999_999L)]
    [InlineData(1_000_000_000_000_000L)]
    [InlineData(123_456_789_012_345_678L)]
    [InlineData(long.MaxValue)]
    [InlineData(long.MinValue)]
    public void Boundaries_AreWrittenAsTheWriterWritesThem(long raw) => Assert.Equal(Reference(raw), Fast(raw));

    [Fact]
    public void A_Million_RandomValues_OfEveryMagnitude_AreWrittenAsTheWriterWritesThem()
    {
        var random = new Random(20261208);
        int fast = 0;
        Span<byte> text = stackalloc byte[32];
        for (int i = 0; i < 1_000_000; i++)
        {
            long raw = (i % 3) switch
            {
                // Every magnitude, every count of decimals.
                0 => random.NextInt64(1, 10) * (long)Math.Pow(10, random.Next(0, 18)) + random.NextInt64(0, (long)Math.Pow(10, random.Next(0, 10))),
                // Prices as bar files give them: a few decimals.
                1 => random.NextInt64(1, 10_000_000) * (long)Math.Pow(10, random.Next(3, 9)),
                _ => random.NextInt64(),
            };
            raw = i % 2 == 0 ? raw : -raw;
            string expected = Reference(raw);
            Assert.True(expected == Fast(raw), $"{raw}: expected {expected}, wrote {Fast(raw)}");
            if (ExactNumber.TryFormat(raw, text, out _))
            {
                fast++;
            }
        }

        Assert.True(fast > 300_000, $"the exact text was used for {fast} values");
    }
}
