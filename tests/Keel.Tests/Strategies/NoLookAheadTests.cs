using Keel.Domain;
using Keel.Strategies;
using Keel.Tests.Support;

namespace Keel.Tests.Strategies;

/// <summary>
/// No strategy may peek at the future. For every built-in strategy, on real data: (1) the decisions made up to bar t
/// are the same whether the data ends at t or goes on; (2) changing any later bar never changes a decision made at or
/// before t. A decision is any call on the intents (orders, brackets, cancels, signals, notes) with its time.
/// </summary>
public sealed class NoLookAheadTests
{
    private static readonly string[] Names = ["sma-cross", "ladder", "floor", "slob"];

    public static TheoryData<string> Strategies => new(Names);

    [Fact]
    public void EveryBuiltInStrategy_IsCovered()
    {
        var covered = Names.Order().ToArray();
        Assert.Equal(StrategyCatalog.All.Select(d => d.Name).Order().ToArray(), covered);
    }

    [Theory]
    [MemberData(nameof(Strategies))]
    public void Decisions_UpToBarT_AreTheSame_WhetherTheDataEndsThereOrGoesOn(string strategy)
    {
        using var tmp = new TempDir();
        var (descriptor, parameters, bars, instrument) = Case(strategy, tmp);
        var full = StrategyRuns.Run(descriptor, parameters, bars, instrument);
        Assert.True(full.Decisions.Count >= 6, $"{strategy} made only {full.Decisions.Count} decisions; the test would prove little");

        var rng = new Random(4242);
        var cuts = Enumerable.Range(0, 8).Select(_ => rng.Next(bars.Count / 10, bars.Count - 1)).Append(bars.Count / 2).Distinct();
        int compared = 0;
        foreach (int t in cuts)
        {
            var truncated = StrategyRuns.Run(descriptor, parameters, bars.Take(t + 1).ToList(), instrument);
            var expected = StrategyRuns.Until(full.Decisions, bars[t].Time);
            Assert.Equal(expected, StrategyRuns.Until(truncated.Decisions, bars[t].Time));
            compared += expected.Count;
        }

        Assert.True(compared > 0, "no decision fell before any cut point");
    }

    [Theory]
    [MemberData(nameof(Strategies))]
    public void ChangingAFutureBar_NeverChangesAPastDecision(string strategy)
    {
        using var tmp = new TempDir();
        var (descriptor, parameters, bars, instrument) = Case(strategy, tmp);
        var original = StrategyRuns.Run(descriptor, parameters, bars, instrument);
        var rng = new Random(777);
        int changedLater = 0;
        for (int round = 0; round < 10; round++)
        {
            int t = rng.Next(bars.Count / 4, (3 * bars.Count) / 4);
            int j = rng.Next(t + 1, bars.Count);
            var mutated = bars.ToList();
            mutated[j] = Scale(bars[j], 0.85m + (decimal)(rng.NextDouble() * 0.3));
            var run = StrategyRuns.Run(descriptor, parameters, mutated, instrument);
            Assert.Equal(StrategyRuns.Until(original.Decisions, bars[t].Time), StrategyRuns.Until(run.Decisions, bars[t].Time));
            if (!run.Decisions.Select(d => d.ToString()).SequenceEqual(original.Decisions.Select(d => d.ToString())))
            {
                changedLater++;
            }
        }

        // The changes must matter to the strategy at all, or the test would pass for the wrong reason.
        Assert.True(changedLater > 0, $"no future change altered any later decision of {strategy}");
    }

    /// <summary>Every price of a bar times <paramref name="factor"/>, on whole cents (so high ≥ open, close ≥ low still hold).</summary>
    private static Bar Scale(Bar b, decimal factor)
    {
        Price S(Price p) => Price.From(decimal.Round(p.ToDecimal() * factor, 2, MidpointRounding.ToEven));
        return new Bar(b.Instrument, b.Time, S(b.Open), S(b.High), S(b.Low), S(b.Close), b.Volume);
    }

    internal static (Keel.Engine.Strategies.StrategyDescriptor Descriptor, string[] Parameters, List<Bar> Bars, Instrument Instrument) Case(string strategy, TempDir tmp)
    {
        var descriptor = StrategyCatalog.Get(strategy);
        switch (strategy)
        {
            case "sma-cross":
                {
                    var orcl = Instrument.Equity("ORCL");
                    return (descriptor, ["fast=5", "slow=12"], StrategyRuns.Bars(TestPaths.Data("orcl-2014.txt"), orcl), orcl);
                }

            case "ladder":
                {
                    var orcl = Instrument.Equity("ORCL");
                    var levels = tmp.Write("ladder.csv", "level,buy_price,sell_price,shares,held,profit\n"
                        + string.Concat(Enumerable.Range(0, 8).Select(i => $"{i},{44 - i}.00,{45.5m - i},{10 + i},0,0\n")));
                    return (descriptor, [$"levels={levels}", "cancel_distance=0.005"], StrategyRuns.Bars(TestPaths.Data("orcl-2014.txt"), orcl), orcl);
                }

            case "floor":
                {
                    var idx = Instrument.Equity("IDX");
                    return (descriptor, ["initial_units=2", "max_layers=4", "retracement_pips=400", "take_profit_pips=600", "volatility_threshold=0.8"],
                        StrategyRuns.Bars(TestPaths.Data("2006-min-005.txt"), idx), idx);
                }

            case "slob":
                {
                    var idx = Instrument.Equity("IDX");
                    return (descriptor, ["lookback=10", "consol_range=2.5", "min_quality=0.3"], StrategyRuns.Bars(TestPaths.Data("2006-min-005.txt"), idx), idx);
                }

            default:
                throw new ArgumentException($"no test case for strategy {strategy}", nameof(strategy));
        }
    }
}
