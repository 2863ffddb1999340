using Keel.Domain;
using Keel.Engine.Strategies;
using Keel.Strategies;
using Keel.Tests.Support;

namespace Keel.Tests.Strategies;

public sealed class LadderTests
{
    private static readonly Instrument Aapl = Instrument.Equity("AAPL");
    private const string Header = "level,buy_price,sell_price,shares,held,profit\n";

    private static Bar Bar(int day, decimal open, decimal high, decimal low, decimal close) =>
        new(Aapl.Id, Timestamp.FromParts(2024, 1, day), Price.From(open), Price.From(high), Price.From(low), Price.From(close), Quantity.From(1000));

    private static string Levels(TempDir tmp, string rows) => tmp.Write("levels.csv", Header + rows);

    [Theory]
    [InlineData("level,buy_price,sell_price,shares,held\n0,10,11,5,0\n", "line 1: the header has no profit column")]
    [InlineData(Header + "0,10,11,5,0,0\n0,9,10,5,0,0\n", "line 3, field level: level 0 at buy price 9 overlaps level 0")]
    [InlineData(Header + "0,10,11,5,0,0\n1,10,12,5,0,0\n", "line 3, field buy_price: level 1 at buy price 10 overlaps level 0")]
    [InlineData(Header + "1,10,11,5,0,0\n0,9,10,5,0,0\n", "line 3, field level: level 0 comes after level 1")]
    [InlineData(Header + "0,10,11,5,0,0\n1,12,13,5,0,0\n", "line 3, field buy_price: level 1 buys at 12, above level 0 at 10")]
    [InlineData(Header + "0,10,9.5,5,0,0\n", "line 2, field sell_price: 9.5 is not above buy_price 10")]
    [InlineData(Header + "0,10,11,-5,0,0\n", "line 2, field shares: -5 shares; it must be positive")]
    [InlineData(Header + "0,10,11,5,-1,0\n", "line 2, field held: -1 shares; it must be zero or more")]
    [InlineData(Header + "0,10,11,5,6,0\n", "line 2, field held: 6 is more than the level's 5 shares")]
    [InlineData(Header + "0,ten,11,5,0,0\n", "line 2, field buy_price: 'ten' is not a positive price")]
    [InlineData(Header + "0,10,11,5\n", "line 2: 4 fields, but the header has 6")]
    [InlineData("", "line 1: the file is empty")]
    public void BadLadderFiles_FailWithFileLineAndField(string content, string expected)
    {
        using var tmp = new TempDir();
        var path = tmp.Write("bad.csv", content);
        var ex = Assert.Throws<StrategyConfigurationException>(() => LadderFile.Read(path));
        Assert.StartsWith($"{path}: ", ex.Message, StringComparison.Ordinal);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Buying_FillsFromTheLowestIndex_AndSelling_FromTheHighest_WithProfitPerLevel()
    {
        using var tmp = new TempDir();
        var levels = Levels(tmp, "0,100,110,10,0,0\n1,95,105,10,0,0\n2,90,100,10,0,0\n");
        var bars = new List<Bar>
        {
            Bar(2, 101, 101, 97, 97),   // close 97 ≤ 100: buy level 0 (10 at limit 100)
            Bar(3, 96, 96, 94, 94),     // filled at the open 96 → level 0 full; close 94 ≤ 95: buy level 1 at 95
            Bar(4, 93, 93, 92, 92),     // filled at 93 → level 1 full
            Bar(5, 104, 106, 104, 106), // close 106 ≥ 105: sell level 1 (10 at limit 105)
            Bar(8, 107, 108, 107, 108), // filled at 107 → level 1 sold: profit (107 − 95) × 10 = 120
            Bar(9, 108, 109, 108, 109),
        };
        var state = RunLadder(levels, bars, out var run);
        var book = Assert.Single(state.Books);
        Assert.Equal([10m, 0m, 0m], book.Levels.Select(l => l.Held.ToDecimal()));
        Assert.Equal([0m, 120m, 0m], book.Levels.Select(l => l.Profit.ToDecimal()));
        Assert.Equal(LadderOrderState.None, book.OrderState);
        Assert.Equal(
            ["submit O-1 Buy Limit 10 100  Gtc ladder-buy", "submit O-2 Buy Limit 10 95  Gtc ladder-buy", "submit O-3 Sell Limit 10 105  Gtc ladder-sell"],
            run.Decisions.Select(d => d.What));
    }

    [Fact]
    public void OneOrder_ForAllLevelsReached_AtTheLowestOfTheirBuyPrices_ThenSplitByIndex()
    {
        using var tmp = new TempDir();
        var levels = Levels(tmp, "0,100,110,10,0,0\n1,95,105,20,0,0\n2,90,100,30,0,0\n");
        var bars = new List<Bar> { Bar(2, 96, 96, 94, 94), Bar(3, 93, 93, 90, 91), Bar(4, 91, 92, 91, 92) };
        var state = RunLadder(levels, bars, out var run);
        Assert.Equal("submit O-1 Buy Limit 30 95  Gtc ladder-buy", run.Decisions[0].What);
        Assert.Equal([10m, 20m, 0m], state.Books[0].Levels.Select(l => l.Held.ToDecimal()));
    }

    [Fact]
    public void A_WorkingOrder_IsCancelled_WhenThePriceMovesAwayBeforeItFills()
    {
        using var tmp = new TempDir();
        var levels = Levels(tmp, "0,100,110,10,0,0\n");
        var bars = new List<Bar>
        {
            Bar(2, 101, 101, 99, 99),     // buy 10 at 100
            Bar(3, 100.5m, 103, 100.5m, 103), // not filled (low 100.5 > 100); close 103 > 100 × 1.01: cancel
            Bar(4, 102, 102, 101, 101),
            Bar(5, 99.5m, 99.5m, 99, 99), // back under 100: a new buy order
        };
        var state = RunLadder(levels, bars, out var run, "cancel_distance=0.01");
        Assert.Equal(["submit O-1 Buy Limit 10 100  Gtc ladder-buy", "cancel O-1", "submit O-2 Buy Limit 10 100  Gtc ladder-buy"], run.Decisions.Select(d => d.What));
        Assert.Equal(LadderOrderState.Buying, state.Books[0].OrderState);
    }

    [Fact]
    public void HeldShares_ThatTheAccountDoesNotHold_AreReported_OrReset()
    {
        using var tmp = new TempDir();
        var levels = Levels(tmp, "0,100,110,10,10,5\n1,95,105,10,4,0\n");
        var ctx = new StrategyContext(StrategyParameters.Parse("ladder", [$"levels={levels}"]), [Aapl], Quantity.From(1));
        var ex = Assert.Throws<StrategyConfigurationException>(() => Ladder.Descriptor.Create(ctx));
        Assert.Contains($"ladder {levels} holds 14 shares of AAPL (level 0: 10, level 1: 4) but the account holds 0", ex.Message, StringComparison.Ordinal);
        Assert.Contains("on_mismatch=reset", ex.Message, StringComparison.Ordinal);

        var matching = ctx with { StartingPositions = new Dictionary<InstrumentId, Quantity> { [Aapl.Id] = Quantity.From(14) } };
        Assert.NotNull(Ladder.Descriptor.Create(matching));

        var reset = new StrategyContext(StrategyParameters.Parse("ladder", [$"levels={levels}", "on_mismatch=reset"]), [Aapl], Quantity.From(1))
        {
            StartingPositions = new Dictionary<InstrumentId, Quantity> { [Aapl.Id] = Quantity.From(3) },
        };
        var host = (StrategyHost<Ladder.State>)Ladder.Descriptor.Create(reset);
        Assert.Equal([0m, 3m], host.TypedState.Books[0].Levels.Select(l => l.Held.ToDecimal()));
    }

    [Fact]
    public void WriteBack_ReplacesTheFileAtomically_AfterEachFill_AndAResumedReadSeesTheNewState()
    {
        using var tmp = new TempDir();
        var levels = Levels(tmp, "0,100,110,10,0,0\n1,95,105,10,0,0\n");
        var bars = new List<Bar> { Bar(2, 101, 101, 97, 97), Bar(3, 96, 96, 96, 96), Bar(4, 96, 96, 96, 96) };
        RunLadder(levels, bars, out _, "write_back=true");
        Assert.Equal(Header + "0,100,110,10,10,0\n1,95,105,10,0,0\n", File.ReadAllText(levels));
        Assert.Empty(Directory.GetFiles(tmp.Path, "*.tmp", SearchOption.AllDirectories));
        Assert.Equal(10m, LadderFile.Read(levels)[0].Held.ToDecimal());

        var other = tmp.File("state.csv");
        var fresh = Levels(tmp, "0,100,110,10,0,0\n1,95,105,10,0,0\n");
        RunLadder(fresh, bars, out _, $"state={other}");
        Assert.Equal(Header + "0,100,110,10,0,0\n1,95,105,10,0,0\n", File.ReadAllText(fresh));
        Assert.Equal(Header + "0,100,110,10,10,0\n1,95,105,10,0,0\n", File.ReadAllText(other));
    }

    [Fact]
    public void State_RoundTripsThroughTheSnapshotCodec()
    {
        using var tmp = new TempDir();
        var levels = Levels(tmp, "0,100,110,10,0,0\n1,95,105,10,0,0\n");
        var bars = new List<Bar> { Bar(2, 101, 101, 97, 97), Bar(3, 96, 96, 94, 94) };
        RunLadder(levels, bars, out var run);
        var host = (StrategyHost<Ladder.State>)Ladder.Descriptor.Create(new StrategyContext(StrategyParameters.Parse("ladder", [$"levels={levels}"]), [Aapl], Quantity.From(1)));
        host.Restore(run.State);
        var json = host.CaptureState().GetRawText();

        var copy = (StrategyHost<Ladder.State>)Ladder.Descriptor.Create(new StrategyContext(StrategyParameters.Parse("ladder", [$"levels={levels}"]), [Aapl], Quantity.From(1)));
        copy.RestoreState(System.Text.Json.JsonDocument.Parse(json).RootElement);
        var a = run.State.Books[0];
        var b = copy.TypedState.Books[0];
        Assert.Equal((a.OrderState, a.Working, a.Limit), (b.OrderState, b.Working, b.Limit));
        Assert.Equal(a.Levels.Select(l => (l.Held, l.Profit)), b.Levels.Select(l => (l.Held, l.Profit)));
    }

    private static Ladder.State RunLadder(string levels, List<Bar> bars, out (IReadOnlyList<StrategyRuns.Decision> Decisions, Ladder.State State) run, params string[] extra)
    {
        var result = StrategyRuns.Run(Ladder.Descriptor, [$"levels={levels}", .. extra], bars, Aapl);
        var state = (Ladder.State)result.State;
        run = (result.Decisions, state);
        return state;
    }
}
