using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Keel.Runtime.Reporting;

namespace Keel.Tests.Runtime;

/// <summary>
/// The CSV writer's text fields (RFC 4180): a field with a comma, quote or line break is quoted and its quotes doubled,
/// anything else is written as it is, in UTF-8; text of any length is written whole.
/// </summary>
public sealed class CsvOutTests
{
    /// <summary>What RFC 4180 says the field is, as UTF-8 (lone surrogates become U+FFFD, as the UTF-8 encoder writes them).</summary>
    private static string Expected(string s) =>
        s.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : s;

    private static byte[] Row(params string?[] fields)
    {
        using var stream = new MemoryStream();
        using (var csv = new CsvOut(stream))
        {
            foreach (var f in fields)
            {
                csv.Text(f);
            }

            csv.EndRow();
        }

        return stream.ToArray();
    }

    private static byte[] ExpectedRow(params string?[] fields) =>
        Encoding.UTF8.GetBytes(string.Join(",", fields.Select(f => Expected(f ?? string.Empty))) + "\n");

    [Theory]
    [InlineData("O-1")]
    [InlineData("")]
    [InlineData("a,b")]
    [InlineData("say \"hi\"")]
    [InlineData("\"")]
    [InlineData("line\nbreak")]
    [InlineData("cr\rhere")]
    [InlineData("café")]
    [InlineData("€,\"€\"")]
    [InlineData("📈 up")]
    public void Text_QuotesOnlyWhatNeedsIt(string text) =>
        Assert.Equal(ExpectedRow(text, "x"), Row(text, "x"));

    [Fact]
    public void Text_NullIsAnEmptyField() => Assert.Equal("a,,b\n"u8.ToArray(), Row("a", null, "b"));

    [Fact]
    public void Text_LoneSurrogateIsWrittenAsTheReplacementCharacter() =>
        Assert.Equal("a\uFFFDb,c\n"u8.ToArray(), Row("a\uD800b", "c"));

    /// <summary>
    /// Longer than the writer's buffer several times over, with quotes and non-ASCII text: written whole (the writer
    /// used to cut such text to 8,192 characters without a word).
    /// </summary>
    [Theory]
    [InlineData(1_025)]
    [InlineData(70_000)]
    [InlineData(300_001)]
    public void Text_LongerThanTheBufferIsWrittenWhole(int length)
    {
        var sb = new StringBuilder(length);
        for (int i = 0; sb.Length < length; i++)
        {
            sb.Append(i % 97 == 0 ? "\"q\"" : i % 89 == 0 ? "é," : "abc");
        }

        string text = sb.ToString(0, length);
        Assert.Equal(ExpectedRow("before", text, "after"), Row("before", text, "after"));
        Assert.Equal(ExpectedRow(text), Row(text));
    }

    [Fact]
    public void Text_AnyStringIsItsRfc4180Field() =>
        Prop.ForAll(ArbMap.Default.ArbFor<string>(), s => Row(s, "end").AsSpan().SequenceEqual(ExpectedRow(s, "end")))
            .QuickCheckThrowOnFailure();

    /// <summary>Many rows that cross the buffer's end at every offset: nothing lost or doubled at a flush.</summary>
    [Fact]
    public void Text_RowsAcrossManyFlushesAreExact()
    {
        var fields = Enumerable.Range(0, 20_000).Select(i => i % 7 == 0 ? $"t,{i}" : i % 11 == 0 ? $"ü{i}" : $"id-{i}").ToArray();
        using var stream = new MemoryStream();
        using (var csv = new CsvOut(stream))
        {
            foreach (var f in fields)
            {
                csv.Text(f).Long(f.Length).EndRow();
            }
        }

        var expected = string.Concat(fields.Select(f => Expected(f) + "," + f.Length + "\n"));
        Assert.Equal(expected, Encoding.UTF8.GetString(stream.ToArray()));
    }
}
