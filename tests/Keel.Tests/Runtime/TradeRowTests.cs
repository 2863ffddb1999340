using System.Text;
using Keel.Runtime.Reporting;

namespace Keel.Tests.Runtime;

/// <summary>
/// The report's reading of trades.csv: a long file is read and parsed in two halves at once, and gives exactly the
/// rows, in order, that reading it line by line gives; a bad line is named by its line number in the file.
/// </summary>
public sealed class TradeRowTests : IDisposable
{
    private const string Header = "trade_id,instrument,direction,entry_time,entry_price,exit_time,exit_price,quantity,gross_pnl,commission,net_pnl,return,bars_held,status";

    private readonly string _path = Path.Combine(Path.GetTempPath(), "keel-trades-" + Guid.NewGuid().ToString("N") + ".csv");

    public void Dispose() => File.Delete(_path);

    private static string Line(int i) =>
        FormattableString.Invariant($"{i},{(i % 7 == 0 ? "EUR_USD" : "AAPL")},{(i % 3 == 0 ? "short" : "long")},2024-01-02T10:{i % 60:00}:00Z,{100 + (i % 50)}.25,")
        + (i % 1000 == 999 ? ",,1,,,," + FormattableString.Invariant($"{i * 1e-7},{i % 40},open") : FormattableString.Invariant($"2024-01-03T11:00:00Z,101.5,{1 + (i % 5)},1.25,0.1,1.15,{i * 1e-7},{i % 40},closed"));

    private static string[] Fields(TradeRow r) =>
    [
        Encoding.UTF8.GetString(r.Id.Span), r.Instrument, r.Direction, Encoding.UTF8.GetString(r.EntryTime.Span), Encoding.UTF8.GetString(r.EntryPrice.Span),
        Encoding.UTF8.GetString(r.ExitTime.Span), Encoding.UTF8.GetString(r.ExitPrice.Span), Encoding.UTF8.GetString(r.Quantity.Span),
        Encoding.UTF8.GetString(r.NetPnl.Span), r.Return.ToString("R", System.Globalization.CultureInfo.InvariantCulture), Encoding.UTF8.GetString(r.BarsHeld.Span),
        r.IsOpen ? "open" : "closed", r.Entry?.ToString() ?? "-", r.Exit?.ToString() ?? "-",
    ];

    [Fact]
    public void A_LongFile_ReadInTwoHalves_GivesEveryRowInOrder_AsReadingItLineByLine()
    {
        var lines = Enumerable.Range(1, 9_001).Select(Line).ToList();
        File.WriteAllText(_path, "\uFEFF" + Header + "\r\n" + string.Join("\n", lines) + "\n");
        Assert.True(new FileInfo(_path).Length > 2 * TradeRow.SplitAt, "the file is long enough to be split");

        var halves = TradeRow.ReadCsv(_path, int.MaxValue);
        var oneByOne = TradeRow.ReadCsv(_path, int.MaxValue - 1); // a limit: read in one part

        Assert.Equal(9_001, halves.Count);
        Assert.Equal(oneByOne.Select(Fields), halves.Select(Fields));
        Assert.Equal(Enumerable.Range(1, 9_001).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), halves.Select(r => Encoding.UTF8.GetString(r.Id.Span)));
        Assert.Equal("EUR_USD", halves[6].Instrument);
        Assert.True(halves[998].IsOpen);
        Assert.Null(halves[998].Exit);
    }

    [Theory]
    [InlineData(10)]
    [InlineData(8_500)]
    public void A_BadLine_IsNamedByItsLineInTheFile_InEitherHalf(int bad)
    {
        var lines = Enumerable.Range(1, 9_000).Select(Line).ToList();
        lines[bad - 1] += ",extra";
        File.WriteAllText(_path, Header + "\n" + string.Join("\n", lines) + "\n");

        var ex = Assert.Throws<InvalidDataException>(() => TradeRow.ReadCsv(_path, int.MaxValue));
        Assert.Equal($"{_path} line {bad + 1} has 15 fields, expected 14", ex.Message);
    }

    [Fact]
    public void A_ShortFile_AndAHeaderOnly_AreRead()
    {
        File.WriteAllText(_path, Header + "\n" + Line(1) + "\n" + Line(2));
        Assert.Equal(["1", "2"], TradeRow.ReadCsv(_path, int.MaxValue).Select(r => Encoding.UTF8.GetString(r.Id.Span)));

        File.WriteAllText(_path, Header + "\n");
        Assert.Empty(TradeRow.ReadCsv(_path, int.MaxValue));
    }
}
