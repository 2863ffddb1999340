using System.Text;
using Keel.Cli;

namespace Keel.Tests.Cli;

/// <summary>
/// Tables and the progress bar: redirected output keeps the plain text scripts read; a terminal gets Spectre.Console.
/// </summary>
public class ConsoleUiTests
{
    private static readonly (string, string)[] Rows = [("Initial cash", "100,000.00"), ("Net profit", "-3,143.65"), (string.Empty, string.Empty), ("Bars", "1,000,000")];

    [Theory]
    [InlineData(-0.000001, "0.00%")]
    [InlineData(-0.00004999, "0.00%")]
    [InlineData(-0.00005001, "-0.01%")]
    [InlineData(0.12345, "12.35%")]
    [InlineData(-1.5, "-150.00%")]
    public void Percentages_NeverShowNegativeZero(double value, string shown) => Assert.Equal(shown, Table.Pct(value));

    [Fact]
    public void Numbers_NeverShowNegativeZero()
    {
        Assert.Equal("0.000", Table.Num(-0.0001));
        Assert.Equal("-0.001", Table.Num(-0.0012));
    }

    [Fact]
    public void RedirectedSummaryTableIsThePlainBoxText()
    {
        const string expected =
            "Keel backtest\n"
            + "┌──────────────┬────────────┐\n"
            + "│ Initial cash │ 100,000.00 │\n"
            + "│ Net profit   │  -3,143.65 │\n"
            + "├──────────────┼────────────┤\n"
            + "│ Bars         │  1,000,000 │\n"
            + "└──────────────┴────────────┘\n";
        Assert.Equal(expected, Table.Render("Keel backtest", Rows, terminal: false));
    }

    [Fact]
    public void RedirectedGridIsThePlainBoxText()
    {
        const string expected =
            "┌────────┬─────────┐\n"
            + "│ symbol │ candles │\n"
            + "├────────┼─────────┤\n"
            + "│ IDX    │     250 │\n"
            + "└────────┴─────────┘\n";
        Assert.Equal(expected, Table.Grid(["symbol", ">candles"], [["IDX", "250"]], terminal: false));
    }

    [Fact]
    public void TerminalSummaryTableIsDrawnBySpectre()
    {
        var text = Table.Render("Keel backtest", Rows, terminal: true);

        Assert.Contains("╭", text, StringComparison.Ordinal); // Spectre's rounded border, not the plain one
        Assert.DoesNotContain("┌", text, StringComparison.Ordinal);
        Assert.Contains("Keel backtest", text, StringComparison.Ordinal);
        Assert.Contains("Initial cash", text, StringComparison.Ordinal);
        Assert.Contains("-3,143.65", text, StringComparison.Ordinal);
        Assert.Contains("1,000,000", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProgressBarDrawsOnATerminalAndASilentOneEndsCleanly()
    {
        var output = new StringWriter(new StringBuilder());
        var terminal = TextWriter.Synchronized(output);
        using (var bar = new ProgressBar("backtest", terminal, TimeSpan.Zero))
        {
            bar.Report(50, 100);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (!Drawn(terminal, output))
            {
                Assert.True(DateTime.UtcNow < deadline, "the progress bar was not drawn within 10 s");
                await Task.Delay(20);
            }
        }

        using (var silent = new ProgressBar("backtest", terminal: null, TimeSpan.Zero))
        {
            silent.Report(1, 2);
        }

        static bool Drawn(TextWriter terminal, StringWriter output)
        {
            lock (terminal)
            {
                var text = output.ToString();
                return text.Contains("backtest", StringComparison.Ordinal) && text.Contains("50%", StringComparison.Ordinal);
            }
        }
    }
}
