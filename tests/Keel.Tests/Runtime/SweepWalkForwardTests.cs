using Keel.Domain;
using Keel.Runtime;
using Keel.Runtime.Optimization;

namespace Keel.Tests.Runtime;

/// <summary>Walk-forward windows of a sweep: equal bar-count segments, rolling or anchored, and what is too few bars.</summary>
public class SweepWalkForwardTests
{
    /// <summary>One bar per time for each symbol, time t being t days after 2024-01-01.</summary>
    private static Bar[] Bars(int times, params string[] symbols) =>
        [.. Enumerable.Range(0, times).SelectMany(t => symbols.Select(s =>
            new Bar(new InstrumentId(s), Timestamp.FromParts(2024, 1, 1).AddNanos(t * Timestamp.NanosPerDay), Price.Parse("10"), Price.Parse("11"), Price.Parse("9"), Price.Parse("10"), Quantity.From(100))))];

    [Fact]
    public void Segments_TenBarsThreeFolds_AreFloorOfKTimesLengthOverFour()
    {
        Assert.Equal([0, 2, 5, 7, 10], WalkForward.Segments(Bars(10, "X"), 3));
        Assert.Equal([0, 63, 126, 189, 252], WalkForward.Segments(Bars(252, "X"), 3));
    }

    [Fact]
    public void Windows_Rolling_TrainOnSegmentKAndTestOnTheNext()
    {
        var bars = Bars(10, "X");
        var w = WalkForward.Windows(bars, 3, anchored: false);
        Assert.Equal([(0, 2, 2, 5), (2, 5, 5, 7), (5, 7, 7, 10)], w.Select(f => (f.Train.Start, f.Train.End, f.Test.Start, f.Test.End)));
        Assert.Equal(Timestamp.FromParts(2024, 1, 3), w[1].Train.First);
        Assert.Equal(Timestamp.FromParts(2024, 1, 5), w[1].Train.Last);
        Assert.Equal(Timestamp.FromParts(2024, 1, 6), w[1].Test.First);
        Assert.Equal(Timestamp.FromParts(2024, 1, 7), w[1].Test.Last);
        Assert.Equal(3, w[2].Test.Bars);
    }

    [Fact]
    public void Windows_Anchored_TrainFromTheFirstBarAndTestOnTheSameSegments()
    {
        var w = WalkForward.Windows(Bars(10, "X"), 3, anchored: true);
        Assert.Equal([(0, 2, 2, 5), (0, 5, 5, 7), (0, 7, 7, 10)], w.Select(f => (f.Train.Start, f.Train.End, f.Test.Start, f.Test.End)));
        Assert.All(w, f => Assert.Equal(Timestamp.FromParts(2024, 1, 1), f.Train.First));
    }

    [Fact]
    public void Segments_BarsOfOneTime_NeverFallOnBothSidesOfABoundary()
    {
        // Two instruments, five times: ⌊10/3⌋ = 3 is the second bar of time 1, so the boundary moves to 4; ⌊20/3⌋ = 6 starts time 3.
        Assert.Equal([0, 4, 6, 10], WalkForward.Segments(Bars(5, "A", "B"), 2));
    }

    [Theory]
    [InlineData(5, 2, "--walk-forward 2: 5 bars split into 3 segments leave segment 1 with 1 bar; each needs at least 2, so give fewer folds")]
    [InlineData(7, 3, "--walk-forward 3: 7 bars split into 4 segments leave segment 1 with 1 bar")]
    [InlineData(100, 1, "--walk-forward was 1; it must be between 2 and 1000")]
    [InlineData(10_000, 1001, "--walk-forward was 1001; it must be between 2 and 1000")]
    public void Segments_TooFewBarsOrFolds_IsAUsageErrorNamingTheOption(int bars, int folds, string message)
    {
        var ex = Assert.Throws<UsageException>(() => WalkForward.Segments(Bars(bars, "X"), folds));
        Assert.StartsWith(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Segments_TwoBarsEach_IsEnough()
    {
        Assert.Equal([0, 2, 4, 6], WalkForward.Segments(Bars(6, "X"), 2));
    }
}
