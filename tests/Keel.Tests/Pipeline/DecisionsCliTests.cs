using Keel.Storage;
using Keel.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Keel.Tests.Pipeline;

/// <summary><c>keel decisions …</c> through the real CLI: import is checked row by row and all or nothing.</summary>
public sealed class DecisionsCliTests : IDisposable
{
    private readonly TempDir _dir = new();

    private string Db => _dir.File("keel.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    private CliRunner.Result Keel(params string[] args) => CliRunner.Run(_dir.Path, null, [.. args, "--db", Db]);

    private string Csv(string name, string text)
    {
        var path = _dir.File(name);
        File.WriteAllText(path, text);
        return path;
    }

    private const string Header = "symbol,action,planned_entry,planned_sl,planned_tp,quantity,trade_style,approved,note\n";

    [Fact]
    public void Import_ListShowApprove_TheSeedDecision()
    {
        var file = Csv("d.csv", Header + "AAPL,NEW_TRADE,150.25,145.00,160.00,10,SWING,false,\"seed, example\"\nMSFT,NEW_TRADE,400,390,,5,DAY,true,\n");
        var import = Keel("decisions", "import", file, "--symbols", "AAPL,MSFT");
        Assert.True(import.ExitCode == 0, import.ToString());
        Assert.Contains("imported 2 decisions", import.Stdout, StringComparison.Ordinal);

        var list = Keel("decisions", "list");
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains("AAPL", list.Stdout, StringComparison.Ordinal);
        Assert.Contains("150.25", list.Stdout, StringComparison.Ordinal);

        Assert.Equal(0, Keel("decisions", "approve", "1").ExitCode);
        using (var store = KeelStore.Open(Db))
        {
            var d = store.Pipeline.FindDecision(1)!;
            Assert.True(d.Approved);
            Assert.Equal("seed, example", d.Note);
            Assert.Equal(2, store.Pipeline.ApprovedUnexecuted().Count);
        }

        var show = Keel("decisions", "show", "1");
        Assert.True(show.ExitCode == 0, show.ToString());
        Assert.Contains("160", show.Stdout, StringComparison.Ordinal);

        var missing = Keel("decisions", "approve", "1", "99");
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("no decision 99", missing.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("AAPL,BUY_NOW,150.25,145,160,10,SWING,true,", "line 3: unknown action 'BUY_NOW'")]
    [InlineData("AAPL,NEW_TRADE,150.25,151,160,10,SWING,true,", "line 3: stop-loss 151 is above or at the entry 150.25 for a long")]
    [InlineData("AAPL,NEW_TRADE,150.25,145,160,0,SWING,true,", "line 3: quantity is 0; it must be more than zero")]
    [InlineData("TSLA,NEW_TRADE,150.25,145,160,10,SWING,true,", "line 3: unknown symbol 'TSLA'")]
    [InlineData("AAPL,NEW_TRADE,abc,145,160,10,SWING,true,", "line 3: planned_entry 'abc' is not a number")]
    [InlineData("AAPL,NEW_TRADE,150.25,145,,10,SWING,true,", "line 3: a SWING trade needs planned_tp")]
    public void Import_ABadRow_IsNamedWithItsLineAndReason_AndNothingIsImported(string bad, string expected)
    {
        var file = Csv("d.csv", Header + "AAPL,NEW_TRADE,150.25,145.00,160.00,10,SWING,true,\n" + bad + "\n");
        var result = Keel("decisions", "import", file, "--symbols", "AAPL,MSFT");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("d.csv: " + expected, result.Stderr, StringComparison.Ordinal);
        Assert.Contains("nothing was imported", result.Stderr, StringComparison.Ordinal);
        Assert.Single(result.Stderr.Trim().Split('\n'));
        using var store = KeelStore.Open(Db);
        Assert.Empty(store.Pipeline.ListDecisions());
    }

    [Fact]
    public void Import_SeveralBadRows_NamesTheFirstAndCountsTheRest()
    {
        var file = Csv("d.csv", Header + "AAPL,NOPE,1,0.5,2,1,SWING,true,\nAAPL,NEW_TRADE,1,0.5,2,1,SWING,true,\nAAPL,NEW_TRADE,1,0.5,2,0,SWING,true,\nAAPL,CANCEL,,,,,,true,\n");
        var result = Keel("decisions", "import", file);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("line 2: unknown action 'NOPE'", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("2 more bad rows (lines 4, 5)", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Add_ADecisionWithAStopAboveTheEntry_IsRefused_AndAGoodOneIsAdded()
    {
        var bad = Keel("decisions", "add", "--symbol", "AAPL", "--entry", "150.25", "--sl", "155", "--tp", "160", "--qty", "10", "--style", "SWING");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("stop-loss 155 is above or at the entry 150.25", bad.Stderr, StringComparison.Ordinal);

        var good = Keel("decisions", "add", "--symbol", "aapl", "--entry", "150.25", "--sl", "145", "--tp", "160", "--qty", "10", "--style", "swing", "--approve");
        Assert.True(good.ExitCode == 0, good.ToString());
        Assert.Contains("decision 1: NEW_TRADE LONG 10 AAPL at 150.25", good.Stdout, StringComparison.Ordinal);

        var cancel = Keel("decisions", "add", "--symbol", "AAPL", "--action", "CANCEL", "--target", "7");
        Assert.Equal(2, cancel.ExitCode);
        Assert.Contains("there is no decision 7", cancel.Stderr, StringComparison.Ordinal);
    }
}
