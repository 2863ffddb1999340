using Keel.Domain;
using Keel.Strategies;
using Keel.Tests.Support;

namespace Keel.Tests.Strategies;

/// <summary>The SLOB setup tracker walked through each state on hand-made bars (rules in docs/strategies.md).</summary>
public sealed class SlobTests
{
    private static readonly Instrument Nq = Instrument.Equity("NQ");

    private static readonly string[] Params =
        ["lookback=3", "consol_min=2", "consol_max=10", "consol_range=3", "min_quality=0", "entry_timeout=3", "rr=2", "sl_buffer=0"];

    private static List<Bar> Calm()
    {
        // 15 quiet bars: true range 2 each, so ATR(14) = 2 and the allowed consolidation range is 3 × 2 = 6.
        return Enumerable.Range(0, 15).Select(i => B(i, 100, 101, 99, 100)).ToList();
    }

    private static Bar B(int minute, decimal open, decimal high, decimal low, decimal close) =>
        new(Nq.Id, Timestamp.FromParts(2024, 5, 6, 14, 0).AddNanos(minute * 60L * Timestamp.NanosPerSecond),
            Price.From(open), Price.From(high), Price.From(low), Price.From(close), Quantity.From(10));

    private static List<string> Decisions(List<Bar> bars, params string[] extra) =>
        StrategyRuns.Run(Slob.Descriptor, [.. Params.Where(p => !extra.Any(e => e.Split('=')[0] == p.Split('=')[0])), .. extra], bars, Nq).Decisions
            .Select(d => d.What.StartsWith("note ", StringComparison.Ordinal) ? string.Join(' ', d.What.Split(' ').Take(2)) : d.What).ToList();

    [Fact]
    public void A_ShortSetup_GoesLiq1_Consolidation_Liq2_Entry_WithAStopAboveLiq2_AndTheTargetAtTwiceTheRisk()
    {
        var bars = Calm();
        bars.Add(B(15, 100, 103, 99.5m, 100.5m));    // LIQ1: takes the 101 highs, closes back under them
        bars.Add(B(16, 100.5m, 101.5m, 99.5m, 100)); // consolidation bar 1
        bars.Add(B(17, 100, 101.2m, 99.8m, 100.2m)); // bar 2: formed (consol_min 2)
        bars.Add(B(18, 100.2m, 102, 100.5m, 101));   // LIQ2: sweeps 101.5, stays under 103, closes back inside
        bars.Add(B(19, 101, 101.5m, 100, 100.2m));   // closes under the LIQ2 bar's low 100.5: entry
        bars.Add(B(20, 100.2m, 100.4m, 100, 100.1m));
        Assert.Equal(
            ["note setup_detected", "note setup_liq2", "bracket O-1 Sell Market 1   Gtc slob-1 sl 102 tp 96.6 ", "note setup_complete"],
            Decisions(bars));
    }

    [Fact]
    public void A_LongSetup_IsTheMirrorImage()
    {
        var bars = Calm();
        bars.Add(B(15, 100, 100.5m, 97, 99.5m));     // LIQ1: takes the 99 lows, closes back above them
        bars.Add(B(16, 99.5m, 100.5m, 98.5m, 100));
        bars.Add(B(17, 100, 100.2m, 98.8m, 99.8m));
        bars.Add(B(18, 99.8m, 99.5m, 98, 99));       // LIQ2: sweeps 98.5 from above, stays over 97, closes back inside
        bars.Add(B(19, 99, 100, 98.5m, 99.8m));      // closes over the LIQ2 bar's high 99.5: entry
        Assert.Equal(
            ["note setup_detected", "note setup_liq2", "bracket O-1 Buy Market 1   Gtc slob-1 sl 98 tp 103.4 ", "note setup_complete"],
            Decisions(bars));
    }

    [Theory]
    [InlineData(103.5, 100, "note setup_detected|note setup_invalidated|note setup_detected")] // above the LIQ1 high (which is itself a new LIQ1)
    [InlineData(102, 102, "note setup_detected|note setup_invalidated")]                       // closes above the consolidation: a breakout, not a sweep
    public void A_SetupIsInvalidated_ByABreakOfItsLevels(double high, double close, string expected)
    {
        var bars = Calm();
        bars.Add(B(15, 100, 103, 99.5m, 100.5m));
        bars.Add(B(16, 100.5m, 101.5m, 99.5m, 100));
        bars.Add(B(17, 100, 101.2m, 99.8m, 100.2m));
        bars.Add(B(18, 100.2m, (decimal)high, 100.1m, (decimal)close));
        Assert.Equal(expected.Split('|'), Decisions(bars));
    }

    [Fact]
    public void WithoutATrigger_TheSetupTimesOut()
    {
        var bars = Calm();
        bars.Add(B(15, 100, 103, 99.5m, 100.5m));
        bars.Add(B(16, 100.5m, 101.5m, 99.5m, 100));
        bars.Add(B(17, 100, 101.2m, 99.8m, 100.2m));
        bars.Add(B(18, 100.2m, 102, 100.5m, 101));
        for (int i = 0; i < 3; i++)
        {
            bars.Add(B(19 + i, 101, 101.5m, 100.6m, 101)); // never closes under 100.5
        }

        Assert.Equal(["note setup_detected", "note setup_liq2", "note setup_invalidated"], Decisions(bars));
    }

    [Fact]
    public void A_TooLowQuality_IsRejectedAtLiq2()
    {
        var bars = Calm();
        bars.Add(B(15, 100, 103, 99.5m, 100.5m));
        bars.Add(B(16, 100.5m, 101.5m, 96, 96.5m));  // wide and lopsided
        bars.Add(B(17, 96.5m, 97, 95.6m, 96));
        bars.Add(B(18, 96, 102, 96, 101));
        Assert.Equal(["note setup_detected", "note setup_invalidated"], Decisions(bars, "min_quality=0.9"));
    }

    [Fact]
    public void SeveralSetups_AreTrackedAtOnce()
    {
        var bars = Calm();
        bars.Add(B(15, 100, 103, 99.5m, 100.5m));    // setup 1 (short)
        bars.Add(B(16, 100.5m, 101.5m, 99.5m, 100));
        bars.Add(B(17, 100, 101.2m, 99.8m, 100.2m));
        var run = StrategyRuns.Run(Slob.Descriptor, Params, bars, Nq);
        var state = (Slob.State)run.State;
        Assert.Equal(SetupState.WatchingLiq2, Assert.Single(state.Books[0].Setups).State);

        bars.Add(B(18, 100.2m, 101.4m, 98, 99.6m));  // inside setup 1's range; takes the 99.5 lows and closes back over: setup 2 (long)
        run = StrategyRuns.Run(Slob.Descriptor, Params, bars, Nq);
        state = (Slob.State)run.State;
        Assert.Equal(2, state.Books[0].Setups.Count);
        Assert.Equal([-1, 1], state.Books[0].Setups.Select(s => s.Direction));
    }
}
