using System.Text.Json;
using Keel.Domain;
using Keel.Domain.Events;
using Keel.Domain.Orders;
using Keel.Engine.Persistence;
using Keel.Engine.Strategies;

namespace Keel.Strategies;

/// <summary>Where one SLOB setup stands. Stored values: never renumber.</summary>
public enum SetupState
{
    WatchingLiq1 = 1,
    WatchingConsol = 2,
    WatchingLiq2 = 3,
    WaitingEntry = 4,
    SetupComplete = 5,
    Invalidated = 6,
}

/// <summary>
/// SLOB, the 5/1 setup (seed 001), as an event-driven setup tracker that only ever looks at bars already seen.
/// The rules are in docs/strategies.md; in short, for a short setup (a long one is the mirror image):
/// <list type="number">
/// <item>WATCHING_LIQ1: a bar takes the liquidity above the highest high of the previous <c>lookback</c> bars
/// (high above it) and closes back below it. A setup starts; its ceiling is that bar's high.</item>
/// <item>WATCHING_CONSOL: the following bars must stay under the ceiling and within a range of
/// <c>consol_range</c> × ATR(14, as of the LIQ1 bar); after <c>consol_min</c> bars the consolidation is formed.
/// A bar above the ceiling, a range too wide or more than <c>consol_max</c> bars invalidates the setup.</item>
/// <item>WATCHING_LIQ2: a bar whose high sweeps the consolidation high but stays under the ceiling and closes back
/// inside the consolidation is LIQ2, if the consolidation's quality score is at least <c>min_quality</c>. A close
/// above the consolidation invalidates; a bar inside it extends the consolidation (same limits).</item>
/// <item>WAITING_ENTRY: within <c>entry_timeout</c> bars, a close below the LIQ2 bar's low triggers the entry: a
/// bracket (market entry, stop-loss at the LIQ2 high plus <c>sl_buffer</c> × ATR, take-profit at <c>rr</c> times the
/// risk from the trigger close) → SETUP_COMPLETE. A high above the LIQ2 high, the timeout, or a position or order
/// already open in the instrument invalidates.</item>
/// </list>
/// The consolidation quality score (0–1) is computed as bars arrive: 0.5 × tightness (1 − range / allowed range)
/// + 0.3 × closes near the middle (1 − mean distance of closes from the range middle / half range)
/// + 0.2 × duration (bars / consol_max). Several setups are tracked at once (up to <c>max_setups</c>).
/// </summary>
public sealed class Slob : IStrategy<Slob.State>
{
    public const string Name = "slob";

    public static readonly IReadOnlyList<ParameterSpec> ParameterSpecs =
    [
        new("lookback", "integer", "20", "2..500", "bars whose highest high / lowest low is the liquidity LIQ1 takes"),
        new("consol_min", "integer", "3", "1..200", "bars a consolidation needs before LIQ2 can come"),
        new("consol_max", "integer", "30", "consol_min..500", "bars after which a consolidation without LIQ2 is abandoned"),
        new("consol_range", "decimal", "1.5", "0.1..20", "widest consolidation, in ATR(14) at LIQ1"),
        new("min_quality", "decimal", "0.4", "0..1", "lowest consolidation quality score accepted at LIQ2"),
        new("entry_timeout", "integer", "5", "1..100", "bars after LIQ2 within which the entry must trigger"),
        new("rr", "decimal", "2", "0.1..20", "take-profit distance as a multiple of the risk"),
        new("sl_buffer", "decimal", "0.1", "0..5", "stop-loss distance beyond the LIQ2 extreme, in ATR(14)"),
        new("max_setups", "integer", "10", "1..100", "setups tracked at once per instrument"),
        new("side", "text", "both", "both, long or short", "which setups to trade"),
    ];

    public Slob(SlobSettings settings) => Settings = settings;

    public SlobSettings Settings { get; }

    public static StrategyDescriptor Descriptor { get; } = new(
        Name,
        "The 5/1 SLOB setup: liquidity grab, consolidation, second liquidity grab, entry as a bracket (rules in docs/strategies.md).",
        ParameterSpecs,
        ctx =>
        {
            var p = ctx.Parameters;
            int consolMin = p.GetInt("consol_min", 3, 1, 200);
            var settings = new SlobSettings(
                p.GetInt("lookback", 20, 2, 500),
                consolMin,
                p.GetInt("consol_max", 30, consolMin, 500),
                p.GetDecimal("consol_range", 1.5m, 0.1m, 20m),
                p.GetDecimal("min_quality", 0.4m, 0m, 1m),
                p.GetInt("entry_timeout", 5, 1, 100),
                p.GetDecimal("rr", 2m, 0.1m, 20m),
                p.GetDecimal("sl_buffer", 0.1m, 0m, 5m),
                p.GetInt("max_setups", 10, 1, 100),
                p.GetString("side", "both").ToLowerInvariant() switch
                {
                    "both" => 0,
                    "long" => 1,
                    "short" => -1,
                    var other => throw new StrategyConfigurationException($"parameter side of slob was '{other}'; it must be both, long or short"),
                },
                ctx.Stake);
            p.EnsureAllUsed(ParameterSpecs);
            var strategy = new Slob(settings);
            return new StrategyHost<State>(Name, strategy, codec: new Codec(strategy));
        });

    public State CreateState() => new(Settings.Lookback);

    public State OnBar(State state, in Bar bar, IMarketView market, IIntents intents)
    {
        var book = state.For(bar.Instrument);
        var s = Settings;
        double high = bar.High.ToDouble(), low = bar.Low.ToDouble(), close = bar.Close.ToDouble();

        // Existing setups first: this bar may advance or end them.
        for (int i = 0; i < book.Setups.Count; i++)
        {
            Advance(book.Setups[i], bar, high, low, close, market, intents);
        }

        book.Setups.RemoveAll(x => x.State is SetupState.SetupComplete or SetupState.Invalidated);

        // Then LIQ1 against the bars before this one (never including it).
        if (book.Window.IsFull && book.Atr.IsReady && book.Setups.Count < s.MaxSetups)
        {
            double priorHigh = book.Window.Highest, priorLow = book.Window.Lowest;
            if (s.Side <= 0 && high > priorHigh && close < priorHigh)
            {
                Start(book, -1, bar, high, intents);
            }
            else if (s.Side >= 0 && low < priorLow && close > priorLow)
            {
                Start(book, +1, bar, low, intents);
            }
        }

        book.Window.Add(high, low);
        book.Atr.AddBar(bar.High, bar.Low, bar.Close);
        return state;
    }

    private void Start(Book book, int direction, in Bar bar, double extreme, IIntents intents)
    {
        var setup = new Setup(++book.Started, direction, bar.Time, extreme, book.Atr.Value * (double)Settings.ConsolRange, book.Atr.Value) { State = SetupState.WatchingConsol };
        book.Setups.Add(setup);
        intents.Note("setup_detected", $"{bar.Instrument} setup {setup.Id} ({Dir(direction)}): LIQ1 at {bar.Time} took {(direction < 0 ? "highs" : "lows")} to {extreme:0.#####}");
    }

    private static string Dir(int direction) => direction < 0 ? "short" : "long";

    private void Advance(Setup x, in Bar bar, double high, double low, double close, IMarketView market, IIntents intents)
    {
        var s = Settings;

        // Work in "short" orientation: mirror prices of long setups so one set of rules serves both.
        double d = x.Direction;
        double h = d < 0 ? high : -low, l = d < 0 ? low : -high, c = d < 0 ? close : -close;
        double ceiling = d < 0 ? x.Liq1 : -x.Liq1;
        switch (x.State)
        {
            case SetupState.WatchingConsol:
            case SetupState.WatchingLiq2:
                if (h > ceiling)
                {
                    Invalidate(x, bar, "price went beyond the LIQ1 extreme", intents);
                    return;
                }

                double top = x.Bars == 0 ? h : Math.Max(x.Top, h), bottom = x.Bars == 0 ? l : Math.Min(x.Bottom, l);
                if (x.State == SetupState.WatchingLiq2 && h > x.Top)
                {
                    // A sweep of the consolidation high: LIQ2 if it closes back inside, a breakout if it does not.
                    if (c > x.Top)
                    {
                        Invalidate(x, bar, "closed above the consolidation (breakout, not a sweep)", intents);
                        return;
                    }

                    double quality = x.Quality(s.ConsolMax);
                    if (quality < (double)s.MinQuality)
                    {
                        Invalidate(x, bar, $"consolidation quality {quality:0.00} is under {s.MinQuality}", intents);
                        return;
                    }

                    x.Liq2 = h;
                    x.Liq2Low = l;
                    x.State = SetupState.WaitingEntry;
                    x.Waited = 0;
                    intents.Note("setup_liq2", $"{bar.Instrument} setup {x.Id}: LIQ2 at {bar.Time} (quality {quality:0.00})");
                    return;
                }

                if (top - bottom > x.AllowedRange)
                {
                    Invalidate(x, bar, "consolidation range too wide", intents);
                    return;
                }

                x.AddBar(top, bottom, c);
                if (x.Bars > s.ConsolMax)
                {
                    Invalidate(x, bar, $"no LIQ2 within {s.ConsolMax} bars", intents);
                    return;
                }

                if (x.State == SetupState.WatchingConsol && x.Bars >= s.ConsolMin)
                {
                    x.State = SetupState.WatchingLiq2;
                }

                return;

            case SetupState.WaitingEntry:
                x.Waited++;
                if (h > x.Liq2)
                {
                    Invalidate(x, bar, "price went beyond the LIQ2 extreme before the entry", intents);
                    return;
                }

                if (c < x.Liq2Low)
                {
                    if (!market.Position(bar.Instrument).IsZero || market.OpenOrderCount(bar.Instrument) > 0)
                    {
                        Invalidate(x, bar, "a position or order is already open in the instrument", intents);
                        return;
                    }

                    Enter(x, bar, market.GetInstrument(bar.Instrument).TickSize, intents);
                    return;
                }

                if (x.Waited >= s.EntryTimeout)
                {
                    Invalidate(x, bar, $"no entry within {s.EntryTimeout} bars of LIQ2", intents);
                }

                return;
        }
    }

    private void Enter(Setup x, in Bar bar, Price tick, IIntents intents)
    {
        var s = Settings;
        bool shortSide = x.Direction < 0;
        double entry = bar.Close.ToDouble();
        double stop = shortSide ? x.Liq2 + ((double)s.SlBuffer * x.Atr) : -x.Liq2 - ((double)s.SlBuffer * x.Atr);
        double risk = Math.Abs(stop - entry);
        double target = shortSide ? entry - ((double)s.Rr * risk) : entry + ((double)s.Rr * risk);
        if (risk <= 0 || target <= 0)
        {
            Invalidate(x, bar, "no room for a stop-loss or take-profit", intents);
            return;
        }

        var request = OrderRequest.Market(bar.Instrument, shortSide ? OrderSide.Sell : OrderSide.Buy, s.Stake, $"slob-{x.Id}");
        // Stops round away from the entry and targets toward it, to whole ticks.
        var stopPrice = shortSide ? Px(stop).CeilingTo(tick) : Px(stop).FloorTo(tick);
        var targetPrice = shortSide ? Px(target).CeilingTo(tick) : Px(target).FloorTo(tick);
        intents.SubmitBracket(request, stopPrice, targetPrice);
        x.State = SetupState.SetupComplete;
        intents.Note("setup_complete", $"{bar.Instrument} setup {x.Id} ({Dir(x.Direction)}): entry at {bar.Time} near {entry:0.#####}, stop {stop:0.#####}, target {target:0.#####}");
    }

    private static Price Px(double value) => Price.From(decimal.Round((decimal)value, 9, MidpointRounding.ToEven));

    private static void Invalidate(Setup x, in Bar bar, string why, IIntents intents)
    {
        x.State = SetupState.Invalidated;
        intents.Note("setup_invalidated", $"{bar.Instrument} setup {x.Id} at {bar.Time}: {why}");
    }

    public State OnOrderEvent(State state, OrderEvent orderEvent, IMarketView market, IIntents intents) => state;

    public sealed class State(int lookback)
    {
        private readonly InstrumentMap<Book> _books = new();

        public IReadOnlyList<Book> Books => _books.Values;

        public Book For(InstrumentId instrument)
        {
            var book = _books.Find(instrument);
            if (book is null)
            {
                book = new Book(instrument, lookback);
                _books.Add(instrument, book);
            }

            return book;
        }
    }

    public sealed class Book(InstrumentId instrument, int lookback)
    {
        public InstrumentId Instrument { get; } = instrument;

        public RollingExtremes Window { get; } = new(lookback);

        public WilderRange Atr { get; } = new(14);

        public List<Setup> Setups { get; } = [];

        /// <summary>Setups started so far (their ids).</summary>
        public int Started { get; set; }
    }

    /// <summary>One setup. Prices of long setups are kept mirrored (negated), so the rules read the same.</summary>
    public sealed class Setup(int id, int direction, Timestamp liq1Time, double liq1, double allowedRange, double atr)
    {
        public int Id { get; } = id;

        /// <summary>−1 short (liquidity above taken), +1 long.</summary>
        public int Direction { get; } = direction;

        public Timestamp Liq1Time { get; } = liq1Time;

        /// <summary>The LIQ1 extreme, in real prices.</summary>
        public double Liq1 { get; } = liq1;

        public double AllowedRange { get; } = allowedRange;

        public double Atr { get; } = atr;

        public SetupState State { get; set; }

        public int Bars { get; set; }

        public double Top { get; set; }

        public double Bottom { get; set; }

        public double SumClose { get; set; }

        public double SumCloseSquares { get; set; }

        public double Liq2 { get; set; }

        public double Liq2Low { get; set; }

        public int Waited { get; set; }

        public void AddBar(double top, double bottom, double close)
        {
            Top = top;
            Bottom = bottom;
            Bars++;
            SumClose += close;
            SumCloseSquares += close * close;
        }

        /// <summary>0–1 from the bars seen so far: tightness, closes near the middle, duration.</summary>
        public double Quality(int consolMax)
        {
            double range = Top - Bottom;
            double tightness = AllowedRange <= 0 ? 0 : Math.Clamp(1 - (range / AllowedRange), 0, 1);
            double middle = (Top + Bottom) / 2;
            double meanDistance = Bars == 0 ? 0 : Math.Abs((SumClose / Bars) - middle);
            double centred = range <= 0 ? 1 : Math.Clamp(1 - (meanDistance / (range / 2)), 0, 1);
            double duration = Math.Clamp(Bars / (double)consolMax, 0, 1);
            return (0.5 * tightness) + (0.3 * centred) + (0.2 * duration);
        }
    }

    /// <summary>Snapshot codec: the rolling window, ATR and every live setup.</summary>
    public sealed class Codec(Slob strategy) : IStateCodec<State>
    {
        public JsonElement Write(State state)
        {
            var books = new List<SlobBookSnapshot>(state.Books.Count);
            foreach (var b in state.Books)
            {
                var setups = new List<SlobSetupSnapshot>(b.Setups.Count);
                foreach (var x in b.Setups)
                {
                    setups.Add(new SlobSetupSnapshot(
                        x.Id, x.Direction, x.Liq1Time, x.Liq1, x.AllowedRange, x.Atr, x.State, x.Bars, x.Top, x.Bottom, x.SumClose, x.SumCloseSquares,
                        x.Liq2, x.Liq2Low, x.Waited));
                }

                books.Add(new SlobBookSnapshot(b.Instrument, b.Started, b.Window.Capture(), b.Atr.Capture(), setups));
            }

            return JsonSerializer.SerializeToElement(new SlobSnapshot(books), StrategyStateJsonContext.Default.SlobSnapshot);
        }

        public State Read(JsonElement state)
        {
            var snapshot = StrategyStateJsonContext.Read(state, StrategyStateJsonContext.Default.SlobSnapshot);
            var result = strategy.CreateState();
            foreach (var e in snapshot.Books)
            {
                var b = result.For(e.Instrument);
                b.Started = e.Started;
                b.Window.Restore(e.Window);
                b.Atr.Restore(e.Atr);
                foreach (var a in e.Setups)
                {
                    b.Setups.Add(new Setup(a.Id, a.Direction, a.Liq1Time, a.Liq1, a.AllowedRange, a.Atr)
                    {
                        State = a.State,
                        Bars = a.Bars,
                        Top = a.Top,
                        Bottom = a.Bottom,
                        SumClose = a.SumClose,
                        SumCloseSquares = a.SumCloseSquares,
                        Liq2 = a.Liq2,
                        Liq2Low = a.Liq2Low,
                        Waited = a.Waited,
                    });
                }
            }

            return result;
        }
    }
}

/// <summary>The state of a <see cref="Slob"/>: per instrument its rolling window, ATR and live setups.</summary>
public sealed record SlobSnapshot(IReadOnlyList<SlobBookSnapshot> Books);

/// <summary>One instrument of a <see cref="SlobSnapshot"/>.</summary>
public sealed record SlobBookSnapshot(InstrumentId Instrument, int Started, RollingExtremesSnapshot Window, WilderRangeSnapshot Atr, IReadOnlyList<SlobSetupSnapshot> Setups);

/// <summary>One live setup of a <see cref="SlobBookSnapshot"/>.</summary>
public sealed record SlobSetupSnapshot(
    int Id,
    int Direction,
    Timestamp Liq1Time,
    double Liq1,
    double AllowedRange,
    double Atr,
    SetupState State,
    int Bars,
    double Top,
    double Bottom,
    double SumClose,
    double SumCloseSquares,
    double Liq2,
    double Liq2Low,
    int Waited);

/// <summary>The state of a <see cref="RollingExtremes"/>: its ring buffers as stored and how many bars it has seen.</summary>
public sealed record RollingExtremesSnapshot(long Count, IReadOnlyList<double> Highs, IReadOnlyList<double> Lows);

/// <summary>SLOB's settings, validated by the descriptor. <c>Side</c>: 0 both, +1 long only, −1 short only.</summary>
public sealed record SlobSettings(
    int Lookback,
    int ConsolMin,
    int ConsolMax,
    decimal ConsolRange,
    decimal MinQuality,
    int EntryTimeout,
    decimal Rr,
    decimal SlBuffer,
    int MaxSetups,
    int Side,
    Quantity Stake);

/// <summary>Highest high and lowest low of the last N bars: a ring of N values, scanned when read (once per bar).</summary>
public sealed class RollingExtremes(int period)
{
    private readonly double[] _highs = new double[period];
    private readonly double[] _lows = new double[period];
    private long _count;

    public bool IsFull => _count >= period;

    public double Highest
    {
        get
        {
            double max = double.MinValue;
            int n = (int)Math.Min(_count, period);
            for (int i = 0; i < n; i++)
            {
                max = Math.Max(max, _highs[i]);
            }

            return max;
        }
    }

    public double Lowest
    {
        get
        {
            double min = double.MaxValue;
            int n = (int)Math.Min(_count, period);
            for (int i = 0; i < n; i++)
            {
                min = Math.Min(min, _lows[i]);
            }

            return min;
        }
    }

    public void Add(double high, double low)
    {
        int at = (int)(_count % period);
        _highs[at] = high;
        _lows[at] = low;
        _count++;
    }

    public RollingExtremesSnapshot Capture() => new(_count, [.. _highs], [.. _lows]);

    public void Restore(RollingExtremesSnapshot snapshot)
    {
        if (snapshot.Highs.Count != period || snapshot.Lows.Count != period)
        {
            throw new SnapshotException($"the snapshot's rolling window holds {snapshot.Highs.Count} highs and {snapshot.Lows.Count} lows; this run's lookback is {period}");
        }

        _count = snapshot.Count;
        for (int i = 0; i < period; i++)
        {
            _highs[i] = snapshot.Highs[i];
            _lows[i] = snapshot.Lows[i];
        }
    }
}
