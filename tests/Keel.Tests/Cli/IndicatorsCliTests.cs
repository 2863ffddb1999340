using System.Globalization;
using Keel.Indicators;
using Keel.Tests.Support;

namespace Keel.Tests.Cli;

public class IndicatorsCliTests
{
    private static readonly string Day001 = TestPaths.Data("2006-day-001.txt");

    [Fact]
    public void Indicators_SeveralSpecs_WriteTheExactHeaderAndEmptyWarmUpCells()
    {
        using var tmp = new TempDir();
        var r = CliRunner.Run(tmp.Path, null, "indicators", "--data", Day001, "--indicator", "sma:3", "--indicator", "macd:2,3,2", "-i", "rsi:2", "--out", "ind.csv");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("wrote ind.csv: 255 bars, 5 indicator columns", r.Stdout.Trim());
        var lines = File.ReadAllLines(tmp.File("ind.csv"));
        Assert.Equal("time,sma:3,\"macd:2,3,2.macd\",\"macd:2,3,2.signal\",\"macd:2,3,2.histogram\",rsi:2", lines[0]);
        Assert.Equal(256, lines.Length);
        Assert.Equal("2006-01-02T00:00:00Z,,,,,", lines[1]);
        Assert.Equal("2006-01-03T00:00:00Z,,,,,", lines[2]);

        // Bar 3: SMA(3), the MACD line (slow EMA of 3) and RSI(2) have values; the signal and histogram one bar later.
        var third = lines[3].Split(',');
        Assert.Equal("2006-01-04T00:00:00Z", third[0]);
        Assert.All(new[] { third[1], third[2], third[5] }, c => Assert.NotEqual(string.Empty, c));
        Assert.Equal(string.Empty, third[3]);
        Assert.Equal(string.Empty, third[4]);
        Assert.DoesNotContain(string.Empty, lines[4].Split(','));

        var closes = File.ReadLines(Day001).Skip(1).Take(3).Select(l => double.Parse(l.Split(',')[4], CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(closes.Average(), double.Parse(third[1], CultureInfo.InvariantCulture), 1e-9);
        Assert.Empty(Directory.GetFiles(tmp.Path, ".*"));
    }

    [Fact]
    public void Indicators_Values_AreTheLibrarysRoundTripped()
    {
        using var tmp = new TempDir();
        var r = CliRunner.Run(tmp.Path, null, "indicators", "--data", Day001, "-i", "adx", "-i", "bbands:,2.5", "-o", "out/sub/ind.csv");
        Assert.True(r.ExitCode == 0, r.ToString());
        var lines = File.ReadAllLines(Path.Combine(tmp.Path, "out", "sub", "ind.csv"));
        Assert.Equal("time,adx.adx,adx.plus_di,adx.minus_di,\"bbands:,2.5.middle\",\"bbands:,2.5.upper\",\"bbands:,2.5.lower\"", lines[0]);

        var adx = IndicatorSpec.Parse("adx").Create();
        using var reader = Keel.Data.CsvBarReader.Open(Day001, new Keel.Domain.InstrumentId("X"));
        int row = 0;
        while (reader.TryRead(out var bar))
        {
            adx.Update(bar);
            row++;
            var cells = lines[row].Split(',');
            for (int l = 0; l < 3; l++)
            {
                double v = adx.Value(l);
                Assert.Equal(double.IsNaN(v) ? string.Empty : v.ToString("R", CultureInfo.InvariantCulture), cells[1 + l]);
            }
        }

        Assert.Equal(255, row);
    }

    [Theory]
    [InlineData(new[] { "--indicator", "macd:26,12" }, "indicator spec 'macd:26,12': MACD slow period was 12; it must be greater than the fast period 26")]
    [InlineData(new[] { "--indicator", "smaa:30" }, "indicator spec 'smaa:30': unknown indicator 'smaa'; known indicators: sma ema wma")]
    [InlineData(new[] { "--indicator", "rsi:fourteen" }, "indicator spec 'rsi:fourteen': parameter 1 (period) was 'fourteen'; it must be a whole number")]
    [InlineData(new[] { "--indicator", "sma:30,2" }, "indicator spec 'sma:30,2': sma takes at most 1 parameter (period), but 2 were given")]
    [InlineData(new[] { "--indicator", "bbands:20,0" }, "indicator spec 'bbands:20,0': parameter 2 (multiplier) was 0; it must be between 0.001 and 100")]
    [InlineData(new[] { "--indicator", "stochastic:0,3,3" }, "indicator spec 'stochastic:0,3,3': parameter 1 (period) was 0; it must be between 1 and 100000")]
    [InlineData(new[] { "--indicator", "sma:3", "--indicator", "sma:3" }, "--indicator sma:3 is given twice; each spec names its column(s), so each may appear once")]
    [InlineData(new[] { "-i", "macd:12,26,9", "-i", "sma", "-i", " macd:12,26,9" }, "--indicator macd:12,26,9 is given twice; each spec names its column(s), so each may appear once")]
    [InlineData(new string[0], "--indicator is required: one or more specs, e.g. --indicator sma:30 --indicator macd:12,26,9 (see 'keel indicators --help')")]
    public void Indicators_BadOptions_ExitTwoWithOneClearLine_AndWriteNothing(string[] extra, string expected)
    {
        using var tmp = new TempDir();
        var r = CliRunner.Run(tmp.Path, null, ["indicators", "--data", Day001, "--out", "ind.csv", .. extra]);
        Assert.Equal(2, r.ExitCode);
        var line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"keel: error: {expected}", line, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(tmp.Path));
    }

    [Fact]
    public void Indicators_MissingDataFileOrOut_AreUsageErrors()
    {
        using var tmp = new TempDir();
        var missing = CliRunner.Run(tmp.Path, null, "indicators", "--data", "missing.csv", "-i", "sma", "--out", "ind.csv");
        Assert.Equal(2, missing.ExitCode);
        Assert.Equal("keel: error: data file missing.csv does not exist", missing.Stderr.Trim());
        var noOut = CliRunner.Run(tmp.Path, null, "indicators", "--data", Day001, "-i", "sma");
        Assert.Equal(2, noOut.ExitCode);
        Assert.Equal("keel: error: --out is required: the CSV file to write, e.g. --out indicators.csv", noOut.Stderr.Trim());
    }

    [Fact]
    public void Indicators_IntoAnExistingFile_ReplaceIt_AndLeaveNoTemporaryFile()
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File("ind.csv"), "an earlier result, longer than the new one will be: " + new string('x', 100_000) + "\n");
        var r = CliRunner.Run(tmp.Path, null, "indicators", "--data", Day001, "-i", "sma:3", "--out", "ind.csv");
        Assert.True(r.ExitCode == 0, r.ToString());
        var lines = File.ReadAllLines(tmp.File("ind.csv"));
        Assert.Equal("time,sma:3", lines[0]);
        Assert.Equal(256, lines.Length);
        Assert.Equal(["ind.csv"], Directory.GetFiles(tmp.Path).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void Indicators_BadDataLate_ExitsOne_KeepsThePreviousFile_AndLeavesNoTemporaryFile()
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File("ind.csv"), "the previous, complete result\n");
        var lines = File.ReadAllLines(Day001).ToList();
        lines[200] = lines[200].Replace(',', ';');
        File.WriteAllLines(tmp.File("late.csv"), lines);
        var r = CliRunner.Run(tmp.Path, null, "indicators", "--data", "late.csv", "-i", "ema:5", "--out", "ind.csv");
        Assert.Equal(1, r.ExitCode);
        var line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("keel: error: late.csv: line 201", line, StringComparison.Ordinal);
        Assert.Equal("the previous, complete result\n", File.ReadAllText(tmp.File("ind.csv")));
        Assert.Equal(["ind.csv", "late.csv"], Directory.GetFiles(tmp.Path).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void Indicators_EmptyData_ExitsOne()
    {
        using var tmp = new TempDir();
        tmp.Write("empty.csv", "datetime,open,high,low,close\n");
        var r = CliRunner.Run(tmp.Path, null, "indicators", "--data", "empty.csv", "-i", "sma", "--out", "ind.csv");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("keel: error: empty.csv: has no bars; nothing to compute", r.Stderr.Trim());
        Assert.False(File.Exists(tmp.File("ind.csv")));
    }

    [Fact]
    public void IndicatorsHelp_ExplainsEveryIndicatorWithItsParametersAndDefaults()
    {
        using var tmp = new TempDir();
        var r = CliRunner.Run(tmp.Path, null, "indicators", "--help");
        Assert.Equal(0, r.ExitCode);
        string help = string.Join(' ', r.Stdout.Split((char[])['\n', ' '], StringSplitOptions.RemoveEmptyEntries));
        foreach (var d in IndicatorCatalog.All)
        {
            string form = d.Parameters.Count == 0 ? d.Name : $"{d.Name}:{string.Join(",", d.Parameters.Select(p => p.Name))}";
            Assert.Contains($"{form} — ", help, StringComparison.Ordinal);
            foreach (var p in d.Parameters)
            {
                Assert.Contains($"{p.Name} {p.DefaultText} ({p.Description})", help, StringComparison.Ordinal);
            }
        }

        Assert.Contains("--indicator <SPEC>", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("docs/indicators.md", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void RootHelp_ListsIndicatorsInOneLine_WithoutTheCatalog()
    {
        using var tmp = new TempDir();
        var r = CliRunner.Run(tmp.Path, null, "--help");
        Assert.Equal(0, r.ExitCode);
        var line = Assert.Single(r.Stdout.Split('\n'), l => l.TrimStart().StartsWith("indicators ", StringComparison.Ordinal));
        Assert.Contains("'keel indicators --help' lists every indicator", line, StringComparison.Ordinal);
        Assert.DoesNotContain("sma:period", r.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("Indicators (value indicators", r.Stdout, StringComparison.Ordinal);
    }
}
