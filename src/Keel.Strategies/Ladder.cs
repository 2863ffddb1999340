using System.Text.Json;
using Keel.Domain;
using Keel.Domain.Events;
using Keel.Domain.Orders;
using Keel.Engine.Persistence;
using Keel.Engine.Strategies;

namespace Keel.Strategies;

/// <summary>Where a ladder stands with its one working order. Stored values: never renumber.</summary>
public enum LadderOrderState
{
    None = 1,
    Buying = 2,
    Selling = 3,
    Cancelling = 4,
}

/// <summary>
/// The SCALE_T price ladder. A CSV lists levels, each with a buy price, a sell price and a number of shares. On every
/// price: if no order is working, levels with shares to sell whose sell price the price has reached (price ≥ sell)
/// are sold together in one limit order at the highest of their sell prices; otherwise levels with room to buy whose
/// buy price the price has reached (price ≤ buy) are bought together in one limit order at the lowest of their buy
/// prices, so no level ever pays more than its buy price or gets less than its sell price. Filled shares go to levels
/// from the lowest index (buys) or the highest index (sells); each sale adds (fill price − buy price) × shares to its
/// level's profit. A working order is cancelled when the price moves away from its limit by more than
/// <c>cancel_distance</c> before it fills. One order at a time: NONE → BUYING/SELLING → (CANCELLING) → NONE.
/// Prices are the bar close, or for quotes the ask (buying) and the bid (selling).
/// </summary>
public sealed class Ladder : IStrategy<Ladder.State>
{
    public const string Name = "ladder";

    public static readonly IReadOnlyList<ParameterSpec> ParameterSpecs =
    [
        new("levels", "path", "(required)", "a CSV file", "the ladder: columns level,buy_price,sell_price,shares,held,profit (see docs/strategies.md); with several instruments, levels.SYMBOL=FILE for each"),
        new("state", "path", "(none)", "a CSV file", "write the ladder (held shares, profit) to this file after every fill, atomically"),
        new("write_back", "boolean", "false", "true/false", "write the ladder back into the levels file itself after every fill, atomically (as SCALE_T does)"),
        new("cancel_distance", "decimal", "0", "0..0.5", "cancel a working order when the price is this fraction beyond its limit (0 = as soon as it is beyond)"),
        new("on_mismatch", "text", "fail", "fail or reset", "when the ladder's held shares differ from the account position at start: fail with a report, or reset held to the position (emptying levels from the top) and warn"),
    ];

    private readonly IReadOnlyDictionary<InstrumentId, IReadOnlyList<LadderLevel>> _ladders;
    private readonly IReadOnlyList<string> _startNotes;

    public Ladder(IReadOnlyDictionary<InstrumentId, IReadOnlyList<LadderLevel>> ladders, decimal cancelDistance, IReadOnlyList<string>? startNotes = null)
    {
        _ladders = ladders;
        CancelDistance = cancelDistance;
        _startNotes = startNotes ?? [];
    }

    public decimal CancelDistance { get; }

    public static StrategyDescriptor Descriptor { get; } = new(
        Name,
        "SCALE_T price ladder from a CSV: buy levels as the price falls to them, sell them as it rises to their sell prices; profit tracked per level.",
        ParameterSpecs,
        Create)
    {
        // Seed 000 places and cancels its orders on every price update.
        LiveData = MarketDataKinds.Trades,
    };

    private static StrategyHost<State> Create(StrategyContext ctx)
    {
        var p = ctx.Parameters;
        var ladders = new Dictionary<InstrumentId, IReadOnlyList<LadderLevel>>();
        var files = new Dictionary<InstrumentId, string>();
        var notes = new List<string>();
        foreach (var instrument in ctx.Instruments)
        {
            var key = ctx.Instruments.Count == 1 && p.Values.ContainsKey("levels") ? "levels" : $"levels.{instrument.Id.Symbol}";
            var file = p.GetString(key, string.Empty);
            if (file.Length == 0)
            {
                throw new StrategyConfigurationException(ctx.Instruments.Count == 1
                    ? "ladder needs --param levels=FILE (a CSV of levels: level,buy_price,sell_price,shares,held,profit)"
                    : $"ladder needs --param levels.{instrument.Id.Symbol}=FILE for each instrument");
            }

            var levels = LadderFile.Read(file);
            files[instrument.Id] = file;
            var onMismatch = p.GetString("on_mismatch", "fail");

            // A replay takes the held shares and profits the run started with from its journal, not from the file.
            ladders[instrument.Id] = ctx.Replaying ? levels : Reconcile(levels, file, instrument.Id, ctx.Position(instrument.Id), onMismatch, notes);
        }

        decimal cancel = p.GetDecimal("cancel_distance", 0m, 0m, 0.5m);
        var stateTarget = p.GetString("state", string.Empty);
        bool writeBackToLevels = p.GetBool("write_back", false);
        if (writeBackToLevels && stateTarget.Length > 0)
        {
            throw new StrategyConfigurationException("ladder takes state=FILE or write_back=true, not both");
        }
        p.EnsureAllUsed(ParameterSpecs.Concat(ctx.Instruments.Select(i => new ParameterSpec($"levels.{i.Id.Symbol}", "path", string.Empty, string.Empty, string.Empty))));
        var strategy = new Ladder(ladders, cancel, notes);
        Action<State>? writeBack = null;
        if ((stateTarget.Length > 0 || writeBackToLevels) && !ctx.Replaying)
        {
            writeBack = state =>
            {
                foreach (var book in state.Books)
                {
                    if (book.Dirty)
                    {
                        var target = writeBackToLevels ? files[book.Instrument]
                            : ctx.Instruments.Count == 1 ? stateTarget : InsertSymbol(stateTarget, book.Instrument.Symbol);
                        LadderFile.Write(target, book.Levels);
                        book.Dirty = false;
                    }
                }
            };
        }

        return new StrategyHost<State>(Name, strategy, codec: new Codec(strategy), afterOrderEvent: writeBack);
    }

    private static string InsertSymbol(string path, string symbol) =>
        Path.Combine(Path.GetDirectoryName(path) ?? string.Empty, $"{Path.GetFileNameWithoutExtension(path)}.{symbol}{Path.GetExtension(path)}");

    /// <summary>Start-up check (SCALE_T): the shares the ladder holds must be what the account holds.</summary>
    private static List<LadderLevel> Reconcile(List<LadderLevel> levels, string file, InstrumentId instrument, Quantity position, string onMismatch, List<string> notes)
    {
        var held = levels.Aggregate(Quantity.Zero, (sum, l) => sum + l.Held);
        if (held == position)
        {
            return levels;
        }

        var report = $"ladder {file} holds {held} shares of {instrument} ({string.Join(", ", levels.Where(l => !l.Held.IsZero).Select(l => $"level {l.Index}: {l.Held}"))}) but the account holds {position}";
        switch (onMismatch.ToLowerInvariant())
        {
            case "fail":
                throw new StrategyConfigurationException($"{report}; fix the file, or run with --param on_mismatch=reset to make the ladder follow the account");
            case "reset":
                var remaining = position.IsNegative ? Quantity.Zero : position;
                foreach (var l in levels.OrderByDescending(l => l.Index))
                {
                    var keep = Quantity.Min(l.Shares, remaining);
                    l.Held = keep;
                    remaining -= keep;
                }

                notes.Add($"{report}; held shares were reset to follow the account");
                return levels;
            default:
                throw new StrategyConfigurationException($"parameter on_mismatch of ladder was '{onMismatch}'; it must be fail or reset");
        }
    }

    public State CreateState()
    {
        var state = new State();
        foreach (var (instrument, levels) in _ladders)
        {
            state.Add(new Book(instrument, levels.Select(l => l.Copy()).ToList()));
        }

        return state;
    }

    /// <summary>Reports what the start-up check changed (a factory cannot write to the journal; the first call can).</summary>
    public State OnStart(State state, IMarketView market, IIntents intents)
    {
        foreach (var note in _startNotes)
        {
            intents.Note("ladder_mismatch", note, warning: true);
        }

        return state;
    }

    public State OnBar(State state, in Bar bar, IMarketView market, IIntents intents)
    {
        if (state.Find(bar.Instrument) is Book book)
        {
            Decide(book, bar.Close, bar.Close, intents);
        }

        return state;
    }

    public State OnTick(State state, in Tick tick, IMarketView market, IIntents intents)
    {
        if (state.Find(tick.Instrument) is Book book)
        {
            Decide(book, tick.HasQuote ? tick.Ask : tick.Last, tick.HasQuote ? tick.Bid : tick.Last, intents);
        }

        return state;
    }

    private void Decide(Book book, Price buyAt, Price sellAt, IIntents intents)
    {
        switch (book.OrderState)
        {
            case LadderOrderState.None:
                if (TrySell(book, sellAt, intents))
                {
                    return;
                }

                TryBuy(book, buyAt, intents);
                return;
            case LadderOrderState.Buying when Beyond(buyAt, book.Limit, above: true):
                intents.Cancel(book.Working!.Value);
                book.OrderState = LadderOrderState.Cancelling;
                return;
            case LadderOrderState.Selling when Beyond(sellAt, book.Limit, above: false):
                intents.Cancel(book.Working!.Value);
                book.OrderState = LadderOrderState.Cancelling;
                return;
        }
    }

    /// <summary>True when the price has moved away from the limit by more than the cancel distance.</summary>
    private bool Beyond(Price price, Price limit, bool above)
    {
        var margin = Price.FromRaw((long)(limit.Raw * CancelDistance));
        return above ? price > limit + margin : price < limit - margin;
    }

    private static bool TrySell(Book book, Price price, IIntents intents)
    {
        var quantity = Quantity.Zero;
        var limit = Price.Zero;
        foreach (var l in book.Levels)
        {
            if (l.Held.IsPositive && price >= l.Sell)
            {
                quantity += l.Held;
                limit = Price.Max(limit, l.Sell);
            }
        }

        if (!quantity.IsPositive)
        {
            return false;
        }

        book.Working = intents.Submit(OrderRequest.Limit(book.Instrument, OrderSide.Sell, quantity, limit, tag: "ladder-sell"));
        book.Limit = limit;
        book.OrderState = LadderOrderState.Selling;
        return true;
    }

    private static void TryBuy(Book book, Price price, IIntents intents)
    {
        var quantity = Quantity.Zero;
        var limit = Price.Zero;
        foreach (var l in book.Levels)
        {
            if (l.Room.IsPositive && price <= l.Buy)
            {
                quantity += l.Room;
                limit = limit.Raw == 0 ? l.Buy : Price.Min(limit, l.Buy);
            }
        }

        if (quantity.IsPositive)
        {
            book.Working = intents.Submit(OrderRequest.Limit(book.Instrument, OrderSide.Buy, quantity, limit, tag: "ladder-buy"));
            book.Limit = limit;
            book.OrderState = LadderOrderState.Buying;
        }
    }

    public State OnOrderEvent(State state, OrderEvent orderEvent, IMarketView market, IIntents intents)
    {
        foreach (var book in state.Books)
        {
            if (book.Working != orderEvent.ClientOrderId)
            {
                continue;
            }

            if (orderEvent is OrderFilled fill)
            {
                Allocate(book, fill);
            }

            if (market.GetOrder(orderEvent.ClientOrderId) is not { IsComplete: false })
            {
                book.Working = null;
                book.Limit = Price.Zero;
                book.OrderState = LadderOrderState.None;
            }
        }

        return state;
    }

    private static void Allocate(Book book, OrderFilled fill)
    {
        var left = fill.LastQty;
        if (fill.Side == OrderSide.Buy)
        {
            for (int i = 0; i < book.Levels.Count && left.IsPositive; i++)
            {
                var l = book.Levels[i];
                var take = Quantity.Min(l.Room, left);
                l.Held += take;
                left -= take;
            }
        }
        else
        {
            for (int i = book.Levels.Count - 1; i >= 0 && left.IsPositive; i--)
            {
                var l = book.Levels[i];
                var take = Quantity.Min(l.Held, left);
                if (take.IsPositive)
                {
                    l.Held -= take;
                    l.Profit += (fill.LastPx - l.Buy) * take;
                    left -= take;
                }
            }
        }

        book.Dirty = true;
    }

    /// <summary>The ladders of the run, one book per instrument; updated in place (the state is owned by the call).</summary>
    public sealed class State
    {
        private readonly InstrumentMap<Book> _books = new();

        public IReadOnlyList<Book> Books => _books.Values;

        public Book? Find(InstrumentId instrument) => _books.Find(instrument);

        internal void Add(Book book) => _books.Add(book.Instrument, book);
    }

    public sealed class Book(InstrumentId instrument, List<LadderLevel> levels)
    {
        public InstrumentId Instrument { get; } = instrument;

        public List<LadderLevel> Levels { get; } = levels;

        public LadderOrderState OrderState { get; set; } = LadderOrderState.None;

        public ClientOrderId? Working { get; set; }

        public Price Limit { get; set; }

        /// <summary>Changed since last written back.</summary>
        public bool Dirty { get; set; }

        public Quantity Held => Levels.Aggregate(Quantity.Zero, (sum, l) => sum + l.Held);
    }

    /// <summary>Snapshot codec: per book the order state and each level's held shares and profit (prices come from the file).</summary>
    public sealed class Codec(Ladder strategy) : IStateCodec<State>
    {
        public JsonElement Write(State state)
        {
            var books = new List<LadderBookSnapshot>(state.Books.Count);
            foreach (var book in state.Books)
            {
                var levels = new List<LadderLevelSnapshot>(book.Levels.Count);
                foreach (var l in book.Levels)
                {
                    levels.Add(new LadderLevelSnapshot(l.Index, l.Held, l.Profit));
                }

                books.Add(new LadderBookSnapshot(book.Instrument, book.OrderState, book.Working, book.Limit, levels));
            }

            return JsonSerializer.SerializeToElement(new LadderSnapshot(books), StrategyStateJsonContext.Default.LadderSnapshot);
        }

        public State Read(JsonElement state)
        {
            var snapshot = StrategyStateJsonContext.Read(state, StrategyStateJsonContext.Default.LadderSnapshot);
            var result = strategy.CreateState();
            foreach (var x in snapshot.Books)
            {
                var book = result.Find(x.Instrument) ?? throw new SnapshotException($"the snapshot has a ladder for {x.Instrument}, which this run does not trade");
                book.OrderState = x.OrderState;
                book.Working = x.Working;
                book.Limit = x.Limit;
                foreach (var l in x.Levels)
                {
                    var level = book.Levels.Find(v => v.Index == l.Index) ?? throw new SnapshotException($"the snapshot has ladder level {l.Index}, which the levels file does not");
                    level.Held = l.Held;
                    level.Profit = l.Profit;
                }
            }

            return result;
        }
    }
}

/// <summary>The state of a <see cref="Ladder"/>: per instrument its order state and each level's held shares and profit.</summary>
public sealed record LadderSnapshot(IReadOnlyList<LadderBookSnapshot> Books);

/// <summary>One instrument's ladder in a <see cref="LadderSnapshot"/>.</summary>
public sealed record LadderBookSnapshot(InstrumentId Instrument, LadderOrderState OrderState, ClientOrderId? Working, Price Limit, IReadOnlyList<LadderLevelSnapshot> Levels);

/// <summary>One level of a <see cref="LadderBookSnapshot"/> (its prices come from the levels file).</summary>
public sealed record LadderLevelSnapshot(int Index, Quantity Held, Money Profit);
