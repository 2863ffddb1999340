using System.Text.Json;
using Keel.Domain;
using Keel.Domain.Events;
using Keel.Domain.Orders;
using Keel.Engine.Strategies;

namespace Keel.Strategies;

/// <summary>
/// Floor: multi-layer retracement (seed 002). Flat and unlocked, it opens layer 1 with <c>initial_units</c> in its
/// direction. Each time the price retraces <c>retracement_pips</c> against the newest layer's entry, it adds a layer
/// of <c>initial_units × size_multiplier^(n−1)</c> units (dynamic sizing), up to <c>max_layers</c>. When the price
/// reaches the average entry plus <c>take_profit_pips</c> in its favour, it closes every layer and starts a new cycle.
/// Volatility is the average true range over <c>volatility_period</c> bars (for quotes, the Wilder-smoothed absolute
/// change of the mid) divided by the retracement distance; while it exceeds <c>volatility_threshold</c>, trading is
/// locked: no new cycle and no new layer (take-profit and the optional stop still act); so it is until volatility has
/// been measured at all. Quotes: it buys at the ask and
/// sells at the bid and measures in pips of the instrument; on bars it uses the close. One order at a time.
/// </summary>
public sealed class Floor : IStrategy<Floor.State>
{
    public const string Name = "floor";

    public static readonly IReadOnlyList<ParameterSpec> ParameterSpecs =
    [
        new("initial_units", "decimal", "1000", "> 0", "units of the first layer (rounded down to the lot size)"),
        new("max_layers", "integer", "5", "1..50", "most layers open at once"),
        new("retracement_pips", "decimal", "10", "> 0", "adverse move from the newest layer's entry that adds a layer"),
        new("take_profit_pips", "decimal", "20", "> 0", "favourable move from the average entry that closes all layers"),
        new("volatility_threshold", "decimal", "0.5", "0..100 (0 = never lock)", "lock trading while ATR / retracement distance exceeds this"),
        new("volatility_period", "integer", "14", "1..1000", "bars (or quotes) in the volatility average"),
        new("size_multiplier", "decimal", "1.5", "0.1..10", "each new layer is this many times the previous one"),
        new("stop_loss_pips", "decimal", "0", "0 or more (0 = none)", "adverse move from the average entry that closes all layers"),
        new("direction", "text", "long", "long or short", "the side the layers are built on"),
    ];

    public Floor(FloorSettings settings) => Settings = settings;

    public FloorSettings Settings { get; }

    public static StrategyDescriptor Descriptor { get; } = new(
        Name,
        "Multi-layer retracement: add layers as the price retraces, take profit from the average entry, lock while volatile (forex quotes or bars).",
        ParameterSpecs,
        ctx =>
        {
            var p = ctx.Parameters;
            var settings = new FloorSettings(
                p.GetDecimal("initial_units", 1000m, 0.000000001m, 1_000_000_000m),
                p.GetInt("max_layers", 5, 1, 50),
                p.GetDecimal("retracement_pips", 10m, 0.000000001m, 1_000_000m),
                p.GetDecimal("take_profit_pips", 20m, 0.000000001m, 1_000_000m),
                p.GetDecimal("volatility_threshold", 0.5m, 0m, 100m),
                p.GetInt("volatility_period", 14, 1, 1000),
                p.GetDecimal("size_multiplier", 1.5m, 0.1m, 10m),
                p.GetDecimal("stop_loss_pips", 0m, 0m, 1_000_000m),
                p.GetString("direction", "long").ToLowerInvariant() switch
                {
                    "long" or "buy" => OrderSide.Buy,
                    "short" or "sell" => OrderSide.Sell,
                    var other => throw new StrategyConfigurationException($"parameter direction of floor was '{other}'; it must be long or short"),
                });
            p.EnsureAllUsed(ParameterSpecs);
            var strategy = new Floor(settings);
            return new StrategyHost<State>(Name, strategy, codec: new Codec(strategy));
        })
    {
        // Seed 002 trades on every bid/ask tick.
        LiveData = MarketDataKinds.Quotes,
    };

    public State CreateState() => new(Settings.VolatilityPeriod);

    public State OnBar(State state, in Bar bar, IMarketView market, IIntents intents)
    {
        var book = state.For(bar.Instrument);
        book.Volatility.AddBar(bar.High, bar.Low, bar.Close);
        Decide(book, market.GetInstrument(bar.Instrument), bar.Close, bar.Close, intents);
        return state;
    }

    public State OnTick(State state, in Tick tick, IMarketView market, IIntents intents)
    {
        var book = state.For(tick.Instrument);
        book.Volatility.AddPrice(tick.Mark);
        Decide(book, market.GetInstrument(tick.Instrument), tick.HasQuote ? tick.Ask : tick.Last, tick.HasQuote ? tick.Bid : tick.Last, intents);
        return state;
    }

    private void Decide(Book book, Instrument instrument, Price ask, Price bid, IIntents intents)
    {
        var s = Settings;
        var pip = instrument.PipSize.ToDecimal();
        // Until volatility has been measured it counts as too high: no cycle starts blind.
        bool measured = book.Volatility.IsReady;
        bool locked = s.VolatilityThreshold > 0
            && (!measured || book.Volatility.Value / (double)(s.RetracementPips * pip) > (double)s.VolatilityThreshold);
        if (locked != book.Locked)
        {
            book.Locked = locked;
            intents.Note(locked ? "floor_locked" : "floor_unlocked", !measured
                ? $"{instrument.Id}: volatility not measured yet (needs {s.VolatilityPeriod} prices)"
                : $"{instrument.Id}: volatility {book.Volatility.Value / (double)pip:0.##} pips (ATR) is {(locked ? "above" : "back under")} {s.VolatilityThreshold} × {s.RetracementPips} pips");
        }

        if (book.Working is not null)
        {
            return;
        }

        bool buy = s.Direction == OrderSide.Buy;

        // The price at which we would exit (sell a long at the bid) and the one at which we would add (buy at the ask).
        var exitPrice = (buy ? bid : ask).ToDecimal();
        var addPrice = (buy ? ask : bid).ToDecimal();
        if (book.Layers.Count == 0)
        {
            if (!locked)
            {
                Open(book, instrument, s.InitialUnits, intents, "floor-layer-1");
            }

            return;
        }

        var average = book.AverageEntry;
        var favourable = buy ? exitPrice - average : average - exitPrice;
        if (favourable >= s.TakeProfitPips * pip)
        {
            Close(book, intents, "floor-take-profit");
            return;
        }

        if (s.StopLossPips > 0 && -favourable >= s.StopLossPips * pip)
        {
            Close(book, intents, "floor-stop-loss");
            return;
        }

        var newest = book.Layers[^1].Entry.ToDecimal();
        var adverse = buy ? newest - addPrice : addPrice - newest;
        if (!locked && book.Layers.Count < s.MaxLayers && adverse >= s.RetracementPips * pip)
        {
            var units = s.InitialUnits * Pow(s.SizeMultiplier, book.Layers.Count);
            Open(book, instrument, units, intents, $"floor-layer-{book.Layers.Count + 1}");
        }
    }

    private static decimal Pow(decimal x, int n)
    {
        decimal r = 1m;
        for (int i = 0; i < n; i++)
        {
            r *= x;
        }

        return r;
    }

    private void Open(Book book, Instrument instrument, decimal units, IIntents intents, string tag)
    {
        var quantity = Quantity.From(decimal.Round(units, 9, MidpointRounding.ToZero)).TruncateTo(instrument.LotSize);
        if (!quantity.IsPositive)
        {
            return;
        }

        book.Working = intents.Submit(OrderRequest.Market(book.Instrument, Settings.Direction, quantity, tag));
        book.Closing = false;
    }

    private void Close(Book book, IIntents intents, string tag)
    {
        var total = book.Units;
        var side = Settings.Direction == OrderSide.Buy ? OrderSide.Sell : OrderSide.Buy;
        book.Working = intents.Submit(OrderRequest.Market(book.Instrument, side, total, tag));
        book.Closing = true;
    }

    public State OnOrderEvent(State state, OrderEvent orderEvent, IMarketView market, IIntents intents)
    {
        foreach (var book in state.Books)
        {
            if (book.Working != orderEvent.ClientOrderId)
            {
                continue;
            }

            // The order's state in the market view is already final when a venue accepted and filled it within one
            // event (a fill at the signal's price): what ends the working order is this event, not that state.
            bool done;
            if (orderEvent is OrderFilled fill)
            {
                if (book.Closing)
                {
                    book.Reduce(fill.LastQty);
                }
                else
                {
                    book.AddFill(fill.LastPx, fill.LastQty);
                }

                book.WorkingFilled += fill.LastQty;
                done = market.GetOrder(orderEvent.ClientOrderId) is not { } order || book.WorkingFilled >= order.Quantity;
            }
            else
            {
                done = orderEvent.Kind is OrderEventKind.Canceled or OrderEventKind.Rejected or OrderEventKind.Denied or OrderEventKind.Expired;
            }

            if (done)
            {
                book.Working = null;
                book.WorkingFilled = Quantity.Zero;
                if (book.Closing && book.Layers.Count == 0)
                {
                    book.Cycles++;
                }

                book.Closing = false;
                book.Pending = default;
            }
        }

        return state;
    }

    public sealed class State(int volatilityPeriod)
    {
        private readonly InstrumentMap<Book> _books = new();

        public IReadOnlyList<Book> Books => _books.Values;

        public Book For(InstrumentId instrument)
        {
            var book = _books.Find(instrument);
            if (book is null)
            {
                book = new Book(instrument, volatilityPeriod);
                _books.Add(instrument, book);
            }

            return book;
        }
    }

    /// <summary>One layer: its entry price and units.</summary>
    public readonly record struct Layer(Price Entry, Quantity Units);

    public sealed class Book(InstrumentId instrument, int volatilityPeriod)
    {
        public InstrumentId Instrument { get; } = instrument;

        public List<Layer> Layers { get; } = [];

        public WilderRange Volatility { get; } = new(volatilityPeriod);

        public bool Locked { get; set; }

        public ClientOrderId? Working { get; set; }

        /// <summary>Units of the working order filled so far.</summary>
        public Quantity WorkingFilled { get; set; }

        public bool Closing { get; set; }

        /// <summary>A layer being filled in parts: its volume-weighted entry so far.</summary>
        public Layer Pending { get; set; }

        public int Cycles { get; set; }

        public Quantity Units => Layers.Aggregate(Quantity.Zero, (sum, l) => sum + l.Units);

        /// <summary>Units-weighted average entry of the open layers.</summary>
        public decimal AverageEntry
        {
            get
            {
                decimal value = 0m, units = 0m;
                foreach (var l in Layers)
                {
                    value += l.Entry.ToDecimal() * l.Units.ToDecimal();
                    units += l.Units.ToDecimal();
                }

                return units == 0 ? 0 : value / units;
            }
        }

        /// <summary>A fill of the working opening order: the first part makes a layer, later parts re-average it.</summary>
        public void AddFill(Price price, Quantity units)
        {
            if (Pending.Units.IsZero)
            {
                Pending = new Layer(price, units);
                Layers.Add(Pending);
                return;
            }

            var total = Pending.Units + units;
            var entry = ((Pending.Entry.ToDecimal() * Pending.Units.ToDecimal()) + (price.ToDecimal() * units.ToDecimal())) / total.ToDecimal();
            Pending = new Layer(Price.From(decimal.Round(entry, 9, MidpointRounding.ToEven)), total);
            Layers[^1] = Pending;
        }

        /// <summary>A fill of the closing order: layers are closed from the newest.</summary>
        public void Reduce(Quantity units)
        {
            var left = units;
            while (left.IsPositive && Layers.Count > 0)
            {
                var last = Layers[^1];
                if (last.Units <= left)
                {
                    left -= last.Units;
                    Layers.RemoveAt(Layers.Count - 1);
                }
                else
                {
                    Layers[^1] = last with { Units = last.Units - left };
                    left = Quantity.Zero;
                }
            }
        }
    }

    /// <summary>Snapshot codec: layers, lock, working order and the volatility average per instrument.</summary>
    public sealed class Codec(Floor strategy) : IStateCodec<State>
    {
        public JsonElement Write(State state)
        {
            var books = new List<FloorBookSnapshot>(state.Books.Count);
            foreach (var b in state.Books)
            {
                books.Add(new FloorBookSnapshot(b.Instrument, b.Locked, b.Closing, b.Cycles, b.Working, [.. b.Layers], b.Pending, b.Volatility.Capture(), b.WorkingFilled));
            }

            return JsonSerializer.SerializeToElement(new FloorSnapshot(books), StrategyStateJsonContext.Default.FloorSnapshot);
        }

        public State Read(JsonElement state)
        {
            var snapshot = StrategyStateJsonContext.Read(state, StrategyStateJsonContext.Default.FloorSnapshot);
            var result = strategy.CreateState();
            foreach (var x in snapshot.Books)
            {
                var b = result.For(x.Instrument);
                b.Locked = x.Locked;
                b.Closing = x.Closing;
                b.Cycles = x.Cycles;
                b.Working = x.Working;
                b.WorkingFilled = x.WorkingFilled;
                b.Layers.AddRange(x.Layers);
                b.Pending = x.Pending;
                b.Volatility.Restore(x.Volatility);
            }

            return result;
        }
    }
}

/// <summary>The state of a <see cref="Floor"/>: per instrument its layers, lock, working order and volatility average.</summary>
public sealed record FloorSnapshot(IReadOnlyList<FloorBookSnapshot> Books);

/// <summary>One instrument of a <see cref="FloorSnapshot"/>.</summary>
public sealed record FloorBookSnapshot(
    InstrumentId Instrument,
    bool Locked,
    bool Closing,
    int Cycles,
    ClientOrderId? Working,
    IReadOnlyList<Floor.Layer> Layers,
    Floor.Layer Pending,
    WilderRangeSnapshot Volatility,
    Quantity WorkingFilled = default);

/// <summary>The state of a <see cref="WilderRange"/> (<paramref name="PreviousClose"/> is NaN before the first price).</summary>
public sealed record WilderRangeSnapshot(int Count, double Seed, double Value, double PreviousClose);

/// <summary>Floor's settings, validated by the descriptor.</summary>
public sealed record FloorSettings(
    decimal InitialUnits,
    int MaxLayers,
    decimal RetracementPips,
    decimal TakeProfitPips,
    decimal VolatilityThreshold,
    int VolatilityPeriod,
    decimal SizeMultiplier,
    decimal StopLossPips,
    OrderSide Direction);

/// <summary>
/// Average true range with Wilder's smoothing, fed bars (true range) or single prices (the absolute change); O(1)
/// per update. The first value is the simple mean of the first <c>period</c> ranges.
/// </summary>
public sealed class WilderRange(int period)
{
    private double _value;
    private double _seed;
    private int _count;
    private double _previousClose = double.NaN;

    public bool IsReady => _count >= period;

    public double Value => IsReady ? _value : double.NaN;

    public void AddBar(Price high, Price low, Price close)
    {
        double h = high.ToDouble(), l = low.ToDouble(), c = close.ToDouble();
        double range = double.IsNaN(_previousClose) ? h - l : Math.Max(h, _previousClose) - Math.Min(l, _previousClose);
        _previousClose = c;
        Add(range);
    }

    public void AddPrice(Price price)
    {
        double p = price.ToDouble();
        if (!double.IsNaN(_previousClose))
        {
            Add(Math.Abs(p - _previousClose));
        }

        _previousClose = p;
    }

    private void Add(double range)
    {
        _count++;
        if (_count < period)
        {
            _seed += range;
        }
        else if (_count == period)
        {
            _value = (_seed + range) / period;
        }
        else
        {
            _value = ((_value * (period - 1)) + range) / period;
        }
    }

    public WilderRangeSnapshot Capture() => new(_count, _seed, _value, _previousClose);

    public void Restore(WilderRangeSnapshot snapshot)
    {
        _count = snapshot.Count;
        _seed = snapshot.Seed;
        _value = snapshot.Value;
        _previousClose = snapshot.PreviousClose;
    }
}
