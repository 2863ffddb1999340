using Keel.Domain;
using Keel.Engine.Data;
using Keel.Engine.Kernel;
using Keel.Engine.Strategies;
using Keel.Runtime.Sessions;

namespace Keel.Tests.Runtime;

/// <summary><c>--bar-ticks</c>: each bar as the sandbox's four ticks, then the bar; a resumed run continues input by input.</summary>
public sealed class BarTickFeederTests
{
    private static List<Bar> Bars() =>
    [
        new Bar(new InstrumentId("ORCL"), Timestamp.Parse("2010-01-04"), Price.From(24.7m), Price.From(25.0m), Price.From(24.5m), Price.From(24.8m), Quantity.From(1000)),
        new Bar(new InstrumentId("ORCL"), Timestamp.Parse("2010-01-05"), Price.From(24.8m), Price.From(24.9m), Price.From(24.1m), Price.From(24.2m), Quantity.From(1001)),
        new Bar(new InstrumentId("ORCL"), Timestamp.Parse("2010-01-08"), Price.From(24.2m), Price.From(24.6m), Price.From(23.9m), Price.From(24.5m), Quantity.From(800)),
    ];

    private static List<string> Feed(MarketDataKinds wants, long skip = 0)
    {
        var inbox = new Inbox();
        new BarTickFeeder(new ListBarReader(Bars()), wants, skip).Run(inbox, CancellationToken.None);
        var items = new List<string>();
        while (inbox.Reader.TryRead(out var item) && item.Kind != InboxItemKind.EndOfData)
        {
            items.Add(item.Kind == InboxItemKind.Tick ? $"tick {item.Tick.Time} {item.Tick.Last} {item.Tick.Size}" : $"bar {item.Bar.Time} {item.Bar.Close}");
        }

        return items;
    }

    [Fact]
    public void TickStrategy_GetsFourTradesABar_OpenNearerExtremeOtherExtremeClose_AtQuarterIntervals()
    {
        var items = Feed(MarketDataKinds.Trades);
        Assert.Equal(12, items.Count);
        Assert.Equal(
        [
            "tick 2010-01-04T00:00:00Z 24.7 250", "tick 2010-01-04T06:00:00Z 24.5 250", "tick 2010-01-04T12:00:00Z 25 250", "tick 2010-01-04T18:00:00Z 24.8 250",
            "tick 2010-01-05T00:00:00Z 24.8 250", "tick 2010-01-05T06:00:00Z 24.9 250", "tick 2010-01-05T12:00:00Z 24.1 250", "tick 2010-01-05T18:00:00Z 24.2 251",
        ], items.Take(8));

        // The interval is the smallest gap (a day), not the weekend gap before the third bar.
        Assert.Equal("tick 2010-01-08T06:00:00Z 23.9 200", items[9]);
    }

    [Fact]
    public void BarStrategy_GetsTheTicksForTheVenue_ThenEachBar()
    {
        // The venue fills on the ticks whatever the strategy trades on; the kernel hands them to a bar strategy's venue only.
        var bars = Feed(MarketDataKinds.Bars);
        Assert.Equal(15, bars.Count);
        Assert.Equal(["tick 2010-01-04T00:00:00Z 24.7 250", "tick 2010-01-04T06:00:00Z 24.5 250", "tick 2010-01-04T12:00:00Z 25 250", "tick 2010-01-04T18:00:00Z 24.8 250", "bar 2010-01-04T00:00:00Z 24.8"], bars.Take(5));
        Assert.Equal(["bar 2010-01-04T00:00:00Z 24.8", "bar 2010-01-05T00:00:00Z 24.2", "bar 2010-01-08T00:00:00Z 24.5"], bars.Where(i => i.StartsWith("bar", StringComparison.Ordinal)));
        Assert.Equal(bars, Feed(MarketDataKinds.Bars | MarketDataKinds.Trades));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(7)]
    public void Resume_SkipsExactlyTheInputsASnapshotHolds(long skip)
    {
        var all = Feed(MarketDataKinds.Bars | MarketDataKinds.Trades);
        Assert.Equal(all.Skip((int)skip), Feed(MarketDataKinds.Bars | MarketDataKinds.Trades, skip));
    }
}
