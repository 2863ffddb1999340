using System.Text;
using Keel.Data;
using Keel.Domain;
using Keel.Engine.Data;
using Keel.Tests.Support;

namespace Keel.Tests.Readers;

public class CsvBarReaderTests
{
    private static readonly InstrumentId X = new("X");

    private static List<Bar> ReadAll(string csv, out CsvBarReader reader, string source = "test.csv")
    {
        reader = new CsvBarReader(new MemoryStream(Encoding.UTF8.GetBytes(csv)), source, X);
        var bars = new List<Bar>();
        while (reader.TryRead(out var b))
        {
            bars.Add(b);
        }

        return bars;
    }

    private static DataFormatException Fails(string csv) =>
        Assert.Throws<DataFormatException>(() => ReadAll(csv, out _));

    [Fact]
    public void Generic_DatetimeOhlcv()
    {
        var bars = ReadAll("datetime,open,high,low,close,volume\n2020-01-01 00:00:00,100.0000,100.1108,99.9906,100.0883,318\n2020-01-01 00:01:00,100.0883,100.1077,99.9340,99.9921,620\n", out var r);
        Assert.Equal(BarFileFormat.Generic, r.Format);
        Assert.Equal(2, bars.Count);
        Assert.Equal(Timestamp.Parse("2020-01-01T00:01:00Z"), bars[1].Time);
        Assert.Equal(Price.Parse("99.934"), bars[1].Low);
        Assert.Equal(Quantity.From(620), bars[1].Volume);
    }

    [Fact]
    public void Backtrader_Daily_And_UnnamedTimeColumn()
    {
        var daily = ReadAll(File.ReadAllText(TestPaths.Data("2006-day-001.txt")), out var r1);
        Assert.Equal(BarFileFormat.Backtrader, r1.Format);
        Assert.Equal(255, daily.Count);
        Assert.Equal(new Bar(X, Timestamp.Parse("2006-01-02"), Price.Parse("3578.73"), Price.Parse("3605.95"), Price.Parse("3578.73"), Price.Parse("3604.33"), Quantity.Zero), daily[0]);

        // backtrader's 1-minute files name no Time column but every row has one (and CRLF line ends).
        var quirk = ReadAll("Date,Open,High,Low,Close,Volume,OpenInterest\r\n2006-01-02,09:01:00,3602.00,3603.00,3597.00,3599.00,5699,0\r\n2006-01-02,09:02:00,3600.00,3601.00,3598.00,3599.00,894,0\r\n", out _);
        Assert.Equal(Timestamp.Parse("2006-01-02T09:02:00Z"), quirk[1].Time);
        Assert.Equal(Price.Parse("3601"), quirk[1].High);
        Assert.Equal(Quantity.From(894), quirk[1].Volume);
    }

    [Fact]
    public void Backtrader_DateAndTimeColumns()
    {
        var bars = ReadAll(File.ReadAllText(TestPaths.Data("2006-min-005.txt")), out _);
        Assert.Equal(2142, bars.Count);
        Assert.Equal(Timestamp.Parse("2006-01-02T09:05:00Z"), bars[0].Time);
    }

    [Fact]
    public void Yahoo_UsesUnadjustedPrices()
    {
        var bars = ReadAll(File.ReadAllText(TestPaths.Data("orcl-2014.txt")), out var r);
        Assert.Equal(BarFileFormat.Yahoo, r.Format);
        Assert.Equal(252, bars.Count);
        var first = File.ReadLines(TestPaths.Data("orcl-2014.txt")).Skip(1).First().Split(',');
        Assert.Equal(Price.Parse(first[4]), bars[0].Close);
        Assert.Equal(Quantity.Parse(first[6]), bars[0].Volume);
    }

    private const string YahooWithNulls = """
        Date,Open,High,Low,Close,Adj Close,Volume
        2019-04-16,10,11,9,10.5,10.1,1000
        2019-04-17,10.5,12,10,11,10.6,1200
        2019-04-18,null,null,null,null,null,null
        2019-04-22,11,11.5,10.5,11.2,10.8,900
        2019-04-23,null,null,null,null,null,null
        2019-04-24,11.2,12,11,11.8,11.3,1100

        """;

    [Fact]
    public void Yahoo_NullRows_AreSkipped_Counted_AndTheFirstNamed()
    {
        var bars = ReadAll(YahooWithNulls, out var r, "orcl.csv");
        Assert.Equal([Timestamp.FromParts(2019, 4, 16), Timestamp.FromParts(2019, 4, 17), Timestamp.FromParts(2019, 4, 22), Timestamp.FromParts(2019, 4, 24)], bars.Select(b => b.Time));
        Assert.Equal(Price.Parse("11.2"), bars[2].Close);
        Assert.Equal(4, r.RowsRead);
        Assert.Equal(2, r.SkippedRows);
        Assert.Equal(4, r.FirstSkippedLine);
        Assert.Equal("orcl.csv: skipped 2 rows with null values (Yahoo's missing days); the first is line 4", r.SkippedSummary);
    }

    [Fact]
    public void Yahoo_NullRows_InStrictMode_AreTheErrorTheyWere()
    {
        var strict = new CsvBarReader(new MemoryStream(Encoding.UTF8.GetBytes(YahooWithNulls)), "orcl.csv", X) { Strict = true };
        Assert.True(strict.TryRead(out _));
        Assert.True(strict.TryRead(out _));
        var ex = Assert.Throws<DataFormatException>(() => strict.TryRead(out _));
        Assert.Equal("orcl.csv: line 4, column 2 (Open): 'null' is not a number", ex.Message);
        Assert.Null(strict.SkippedSummary);
    }

    [Fact]
    public void NullPrices_OutsideAYahooMissingDay_StayErrors()
    {
        // Not Yahoo's layout: nothing says a null row is a missing day.
        Assert.Contains("line 3, column 2 (open): 'null' is not a number", Fails("datetime,open,high,low,close\n2020-01-01,1,2,1,2\n2020-01-02,null,null,null,null\n").Message, StringComparison.Ordinal);

        // Yahoo, but only some prices missing: a damaged row, not a missing day.
        Assert.Contains("line 3, column 2 (Open): 'null' is not a number", Fails("Date,Open,High,Low,Close,Adj Close,Volume\n2020-01-01,1,2,1,2,2,5\n2020-01-02,null,2,1,2,2,5\n").Message, StringComparison.Ordinal);
        var none = ReadAll(File.ReadAllText(TestPaths.Data("orcl-2014.txt")), out var r);
        Assert.Equal(252, none.Count);
        Assert.Equal((0L, 0L), (r.SkippedRows, r.FirstSkippedLine));
        Assert.Null(r.SkippedSummary);
    }

    [Fact]
    public void BarSpacing_TellsAFilesTimeframe_ThroughWeekendsAndNights()
    {
        static BarSpacing Of(string file)
        {
            using var reader = CsvBarReader.Open(TestPaths.Data(file), X);
            return BarSpacing.Measure(reader);
        }

        var minutes = Of("2006-min-005.txt");
        Assert.Equal(5 * Timestamp.NanosPerMinute, minutes.TypicalNanos);
        Assert.Equal(5 * Timestamp.NanosPerMinute, minutes.SmallestNanos);
        Assert.True(minutes.Fits("5m") && minutes.Fits("M5"));
        Assert.False(minutes.Fits("1d") || minutes.Fits("1m") || minutes.Fits("10m"));
        Assert.Equal(("5m", "5 minutes"), (BarSpacing.Name(minutes.TypicalNanos), BarSpacing.Words(minutes.TypicalNanos)));

        var days = Of("orcl-2014.txt");
        Assert.Equal(Timestamp.NanosPerDay, days.SmallestNanos);
        Assert.True(days.Fits("1d") && days.Fits("D"));
        Assert.False(days.Fits("1h") || days.Fits("1w") || days.Fits("2d"));
        Assert.Equal(("1d", "1 day"), (BarSpacing.Name(days.TypicalNanos), BarSpacing.Words(days.TypicalNanos)));

        var weeks = Of("2006-week-001.txt");
        Assert.True(weeks.Fits("1w") && weeks.Fits("W"));
        Assert.False(weeks.Fits("1d"));
        Assert.Equal("1w", BarSpacing.Name(weeks.TypicalNanos));

        // An hourly session that opens at 09:30: one short gap a day, the rest an hour.
        var hourly = ReadAll("datetime,open,high,low,close\n" + string.Concat(Enumerable.Range(0, 5).SelectMany(d => new[] { "09:30", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00" }
            .Select(t => $"2024-01-{8 + d:00} {t}:00,1,2,1,2\n"))), out _);
        using var hours = new ListBarReader(hourly);
        var session = BarSpacing.Measure(hours);
        Assert.Equal(Timestamp.NanosPerHour, session.TypicalNanos);
        Assert.True(session.Fits("1h"));
        Assert.False(session.Fits("1d"));

        Assert.True(new BarSpacing(0, 0, 0).Fits("1d"));
        Assert.Equal(("1mo", "1 month"), (BarSpacing.Name(31 * Timestamp.NanosPerDay), BarSpacing.Words(30 * Timestamp.NanosPerDay)));
        Assert.True(new BarSpacing(28 * Timestamp.NanosPerDay, 31 * Timestamp.NanosPerDay, 11).Fits("1mo"));
        Assert.Null(BarSpacing.NominalSeconds("daily"));
    }

    [Fact]
    public void IsoTimesWithZoneAndUnixSeconds_AreAccepted()
    {
        var bars = ReadAll("time,open,high,low,close\n2024-01-02T14:30:00Z,1,2,1,2\n2024-01-02T10:31:00-04:00,1,2,1,2\n1704206000,1,2,1,2\n", out _);
        Assert.Equal(Timestamp.Parse("2024-01-02T14:31:00Z"), bars[1].Time);
        Assert.Equal(Timestamp.FromUnixSeconds(1704206000), bars[2].Time);
    }

    [Fact]
    public void QuotedFieldsAndSpaces_AreAccepted()
    {
        var bars = ReadAll("\"Date\",\"Open\",\"High\",\"Low\",\"Close\"\n\"2024-01-02\", 10.5 ,11,10,10.75\n", out _);
        Assert.Equal(Price.Parse("10.5"), bars[0].Open);
    }

    [Fact]
    public void Streaming_LongFile_DoesNotNeedTheWholeFileInMemory()
    {
        var sb = new StringBuilder("datetime,open,high,low,close,volume\n");
        var t = Timestamp.Parse("2020-01-01");
        for (int i = 0; i < 60_000; i++)
        {
            sb.Append(t.AddNanos(i * Timestamp.NanosPerMinute).ToString().Replace("T", " ", StringComparison.Ordinal).TrimEnd('Z')).Append(",1.5,2,1,1.75,10\n");
        }

        var bytes = Encoding.UTF8.GetBytes(sb.ToString());
        using var reader = new CsvBarReader(new MemoryStream(bytes), "big.csv", X);
        int n = 0;
        while (reader.TryRead(out _))
        {
            n++;
        }

        Assert.Equal(60_000, n);
        Assert.True(bytes.Length > 2_000_000);
        Assert.Equal((bytes.Length, bytes.Length), reader.Progress);
    }

    /// <summary>
    /// Numbers of every shape the eight-byte parser splits differently: 0 to 9 digits before the point and after it,
    /// with and without a point, at the end of a line (LF, CRLF, none at the end of the file), across the buffer's
    /// refills. Each must read as <see cref="Price.Parse"/> reads its text.
    /// </summary>
    [Fact]
    public void Numbers_OfEveryLength_ReadAsTheirText()
    {
        var random = new Random(12);
        var texts = new List<string>();
        for (int intDigits = 0; intDigits <= 9; intDigits++)
        {
            for (int fracDigits = 0; fracDigits <= 9; fracDigits++)
            {
                for (int i = 0; i < 40; i++)
                {
                    string integer = intDigits == 0 ? string.Empty : random.Next(1, 10).ToString(System.Globalization.CultureInfo.InvariantCulture) + Digits(random, intDigits - 1);
                    string fraction = Digits(random, fracDigits);
                    if (intDigits == 0 && !fraction.Any(c => c != '0'))
                    {
                        continue;
                    }

                    texts.Add(fracDigits == 0 ? (intDigits == 0 ? "0" : integer) + (i % 2 == 0 ? "." : string.Empty) : $"{integer}.{fraction}");
                }
            }
        }

        // Enough rows to refill the 1 MB buffer several times.
        var sb = new StringBuilder("datetime,open,high,low,close,volume\n");
        var t = Timestamp.Parse("2020-01-01");
        var expected = new List<(Price Price, long Volume)>();
        int row = 0;
        for (int pass = 0; pass < 12; pass++)
        {
            foreach (var text in texts)
            {
                string volume = (row % 3 == 0 ? 123_456_789 : row % 97).ToString(System.Globalization.CultureInfo.InvariantCulture);
                string time = t.AddNanos(row * Timestamp.NanosPerMinute).ToString().Replace("T", " ", StringComparison.Ordinal).TrimEnd('Z');
                sb.Append(time).Append(',').Append(text).Append(',').Append(text).Append(',').Append(text).Append(',').Append(text).Append(',').Append(volume);
                sb.Append(row % 5 == 0 ? "\r\n" : "\n");
                expected.Add((Price.Parse(text), long.Parse(volume, System.Globalization.CultureInfo.InvariantCulture)));
                row++;
            }
        }

        // The last line: no line break, a short volume after long ones (what the buffer holds after it is stale).
        sb.Append(t.AddNanos(row * Timestamp.NanosPerMinute).ToString().Replace("T", " ", StringComparison.Ordinal).TrimEnd('Z')).Append(",2.5,2.5,2.5,2.5,7");
        expected.Add((Price.Parse("2.5"), 7));

        var bars = ReadAll(sb.ToString(), out _);
        Assert.True(sb.Length > 3_000_000);
        Assert.Equal(expected.Count, bars.Count);
        for (int i = 0; i < bars.Count; i++)
        {
            if (bars[i].Close != expected[i].Price || bars[i].Open != expected[i].Price || bars[i].Volume != Quantity.From(expected[i].Volume))
            {
                Assert.Fail($"row {i}: read {bars[i].Open} / {bars[i].Close} / {bars[i].Volume}, expected {expected[i].Price} and {expected[i].Volume}");
            }
        }

        static string Digits(Random random, int count) =>
            new(Enumerable.Range(0, count).Select(_ => (char)('0' + random.Next(10))).ToArray());
    }

    /// <summary>Text around the digits that the eight-byte parser must refuse, as the digit loop did. (Signs, spaces and long numbers go to the careful parser, which reads them.)</summary>
    [Theory]
    [InlineData("1.2.3")]
    [InlineData("12a")]
    [InlineData("1e5")]
    [InlineData(".")]
    [InlineData("12345678.123456789x")]
    public void MalformedNumbers_AreErrors(string text)
    {
        var ex = Fails($"datetime,open,high,low,close,volume\n2020-01-01 00:00:00,{text},{text},{text},{text},5\n");
        Assert.Contains("line 2, column 2 (open)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MalformedNumber_NamesFileLineAndColumn()
    {
        var ex = Fails("datetime,open,high,low,close,volume\n2020-01-01 00:00:00,1,2,1,2,5\n2020-01-01 00:01:00,1,2x,1,2,5\n");
        Assert.Equal("test.csv: line 3, column 3 (high): '2x' is not a number", ex.Message);
        Assert.Equal(3, ex.Line);
        Assert.Equal(3, ex.Column);
    }

    [Fact]
    public void MissingColumn_NamesWhatWasFound() =>
        Assert.Equal(
            "test.csv: line 1: header has no close column (found: datetime,open,high,low,volume); expected datetime,open,high,low,close,volume or a backtrader/Yahoo header",
            Fails("datetime,open,high,low,volume\n2020-01-01,1,2,1,5\n").Message);

    [Fact]
    public void TimestampOutOfOrder_IsAnError() =>
        Assert.Equal(
            "test.csv: line 3, column 1 (datetime): time 2020-01-01T00:00:00Z is before the previous row's 2020-01-01T00:01:00Z (rows must be in ascending time order)",
            Fails("datetime,open,high,low,close\n2020-01-01 00:01:00,1,2,1,2\n2020-01-01 00:00:00,1,2,1,2\n").Message);

    [Fact]
    public void DuplicateTimestamp_IsAnError() =>
        Assert.Contains("repeats the previous row's time", Fails("datetime,open,high,low,close\n2020-01-01,1,2,1,2\n2020-01-01,1,2,1,2\n").Message);

    [Theory]
    [InlineData("0", "price was 0; it must be positive")]
    [InlineData("-1", "price was -1; it must be positive")]
    public void NonPositivePrice_IsAnError(string low, string message) =>
        Assert.Equal($"test.csv: line 2, column 4 (low): {message}", Fails($"datetime,open,high,low,close\n2020-01-01,1,2,{low},2\n").Message);

    [Fact]
    public void InconsistentBar_IsAnError() =>
        Assert.Equal("test.csv: line 2, column 5 (close): close 3 is outside the bar's range 1..2", Fails("datetime,open,high,low,close\n2020-01-01,1,2,1,3\n").Message);

    [Fact]
    public void WrongFieldCount_IsAnError() =>
        Assert.Equal("test.csv: line 2: has 4 fields; the header has 5 (datetime,open,high,low,close)", Fails("datetime,open,high,low,close\n2020-01-01,1,2,1\n").Message);

    [Fact]
    public void EmptyFile_IsAnError() =>
        Assert.Equal("test.csv: is empty; it needs a header row such as datetime,open,high,low,close,volume", Fails(string.Empty).Message);

    [Fact]
    public void BadDate_IsAnError() =>
        Assert.Equal("test.csv: line 2, column 1 (datetime): '2020-02-30' is not a date/time (expected YYYY-MM-DD[ HH:MM:SS], ISO 8601 or Unix seconds)",
            Fails("datetime,open,high,low,close\n2020-02-30,1,2,1,2\n").Message);

    [Fact]
    public void HeaderOnly_GivesNoBars() => Assert.Empty(ReadAll("datetime,open,high,low,close\n", out _));

    [Fact]
    public void Merge_InterleavesByTime_KeepingFileOrderOnTies()
    {
        static IBarReader R(string symbol, params string[] days) => new ListBarReader(days.Select(d =>
            new Bar(new InstrumentId(symbol), Timestamp.Parse(d), Price.From(1), Price.From(1), Price.From(1), Price.From(1), Quantity.Zero)).ToList());
        using var merged = new MergedBarReader([R("A", "2024-01-01", "2024-01-03"), R("B", "2024-01-01", "2024-01-02")]);
        var order = new List<string>();
        while (merged.TryRead(out var b))
        {
            order.Add($"{b.Instrument.Symbol}{b.Time.ToDateTimeOffset().Day}");
        }

        Assert.Equal(["A1", "B1", "B2", "A3"], order);
    }
}
