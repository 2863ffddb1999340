using System.Runtime.CompilerServices;
using System.Text.Json;
using Keel.Domain;
using Keel.Engine.Strategies;
using Keel.Indicators;

namespace Keel.Strategies;

/// <summary>
/// The reference strategy: a fast and a slow simple moving average of closes. Long only by default: when flat and
/// the fast average crosses above the slow one, buy <c>stake</c>; when long and it crosses below, close. With
/// <c>short=true</c> it also sells short on a cross below and covers on a cross above (reversing).
/// Crossovers are exact (integer sums), so they never flicker on rounding noise.
/// </summary>
public sealed class SmaCross : IStrategy<SmaCross.State>
{
    public const string Name = "sma-cross";

    public static readonly IReadOnlyList<ParameterSpec> ParameterSpecs =
    [
        new("fast", "integer", "10", "1..10000", "period of the fast moving average, in bars"),
        new("slow", "integer", "30", "2..10000, above fast", "period of the slow moving average, in bars"),
        new("short", "boolean", "false", "true/false", "also trade the short side (reverse on every cross)"),
    ];

    public SmaCross(int fast, int slow, Quantity stake, bool allowShort = false)
    {
        if (fast < 1 || slow <= fast)
        {
            throw new StrategyConfigurationException($"sma-cross needs 1 ≤ fast < slow; fast was {fast} and slow was {slow}");
        }

        if (!stake.IsPositive)
        {
            throw new StrategyConfigurationException($"sma-cross stake was {stake}; it must be positive");
        }

        Fast = fast;
        Slow = slow;
        Stake = stake;
        AllowShort = allowShort;
    }

    public int Fast { get; }

    public int Slow { get; }

    public Quantity Stake { get; }

    public bool AllowShort { get; }

    public static StrategyDescriptor Descriptor { get; } = new(
        Name,
        "Moving-average crossover: buy when the fast SMA crosses above the slow SMA, close when it crosses below.",
        ParameterSpecs,
        ctx =>
        {
            var p = ctx.Parameters;
            int fast = p.GetInt("fast", 10, 1, 10_000);
            int slow = p.GetInt("slow", 30, 2, 10_000);
            bool allowShort = p.GetBool("short", false);
            p.EnsureAllUsed(ParameterSpecs);
            return new StrategyHost<State>(Name, new SmaCross(fast, slow, ctx.Stake, allowShort), codec: new Codec(fast, slow));
        })
    {
        ChartIndicators = p => [$"sma:{p.GetInt("fast", 10, 1, 10_000)}", $"sma:{p.GetInt("slow", 30, 2, 10_000)}"],
    };

    public State CreateState() => new(Fast, Slow);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public State OnBar(State state, in Bar bar, IMarketView market, IIntents intents)
    {
        var legs = state.For(bar.Instrument);
        legs.FastSma.Update(bar.Close);
        legs.SlowSma.Update(bar.Close);
        if (!legs.SlowSma.IsReady)
        {
            return state;
        }

        int cross = legs.Cross.UpdateSign(PriceSma.Compare(legs.FastSma, legs.SlowSma));
        if (cross == 0)
        {
            return state;
        }

        var position = market.Position(bar.Instrument);
        if (cross > 0)
        {
            if (position.IsNegative)
            {
                intents.Signal(bar.Instrument, SignalAction.CloseShort);
                intents.Signal(bar.Instrument, SignalAction.OpenLong, Stake);
            }
            else if (position.IsZero)
            {
                intents.Signal(bar.Instrument, SignalAction.OpenLong, Stake);
            }
        }
        else
        {
            if (position.IsPositive)
            {
                intents.Signal(bar.Instrument, SignalAction.CloseLong);
                if (AllowShort)
                {
                    intents.Signal(bar.Instrument, SignalAction.OpenShort, Stake);
                }
            }
            else if (position.IsZero && AllowShort)
            {
                intents.Signal(bar.Instrument, SignalAction.OpenShort, Stake);
            }
        }

        return state;
    }

    /// <summary>Per-instrument averages and crossover; updated in place (the state is owned by the call).</summary>
    public sealed class State(int fast, int slow)
    {
        private readonly InstrumentMap<Legs> _legs = new();

        public IReadOnlyList<Legs> Instruments => _legs.Values;

        public Legs For(InstrumentId instrument) => _legs.Find(instrument) ?? Add(instrument);

        private Legs Add(InstrumentId instrument)
        {
            var legs = new Legs(instrument, fast, slow);
            _legs.Add(instrument, legs);
            return legs;
        }
    }

    /// <summary>Snapshot codec: each instrument's two windows and its crossover state.</summary>
    public sealed class Codec(int fast, int slow) : IStateCodec<State>
    {
        public JsonElement Write(State state)
        {
            var instruments = new List<SmaCrossInstrumentSnapshot>(state.Instruments.Count);
            foreach (var legs in state.Instruments)
            {
                var (lastNonZero, seeded) = legs.Cross.Export();
                instruments.Add(new SmaCrossInstrumentSnapshot(legs.Instrument, Window(legs.FastSma), Window(legs.SlowSma), lastNonZero, seeded));
            }

            return JsonSerializer.SerializeToElement(new SmaCrossSnapshot(instruments), StrategyStateJsonContext.Default.SmaCrossSnapshot);
        }

        public State Read(JsonElement state)
        {
            var snapshot = StrategyStateJsonContext.Read(state, StrategyStateJsonContext.Default.SmaCrossSnapshot);
            var result = new State(fast, slow);
            foreach (var x in snapshot.Instruments)
            {
                var legs = result.For(x.Instrument);
                legs.FastSma.Import([.. x.Fast.Window], x.Fast.Count);
                legs.SlowSma.Import([.. x.Slow.Window], x.Slow.Count);
                legs.Cross.Import(x.Cross, x.Seeded);
            }

            return result;
        }

        private static SmaWindowSnapshot Window(PriceSma sma)
        {
            var (window, count) = sma.Export();
            return new SmaWindowSnapshot(count, window);
        }
    }

    public sealed class Legs(InstrumentId instrument, int fast, int slow)
    {
        public InstrumentId Instrument { get; } = instrument;

        public PriceSma FastSma { get; } = new(fast);

        public PriceSma SlowSma { get; } = new(slow);

        public CrossOver Cross { get; } = new();
    }
}

/// <summary>The state of a <see cref="SmaCross"/>: per instrument its two windows and its crossover.</summary>
public sealed record SmaCrossSnapshot(IReadOnlyList<SmaCrossInstrumentSnapshot> Instruments);

/// <summary>One instrument of a <see cref="SmaCrossSnapshot"/>.</summary>
public sealed record SmaCrossInstrumentSnapshot(InstrumentId Instrument, SmaWindowSnapshot Fast, SmaWindowSnapshot Slow, int Cross, bool Seeded);

/// <summary>A moving average's window (raw prices, oldest first) and how many prices it has seen.</summary>
public sealed record SmaWindowSnapshot(long Count, IReadOnlyList<long> Window);
