using Keel.Domain;
using Keel.Domain.Events;
using Keel.Domain.Orders;
using Keel.Engine.Clock;
using Keel.Engine.Kernel;
using Keel.Engine.Simulation;
using Keel.Engine.Strategies;
using Keel.Runtime.Sessions;
using Keel.Strategies;

namespace Keel.Tests.Strategies;

/// <summary>Floor on forex quotes: buys at the ask, sells at the bid, measures in pips.</summary>
public sealed class FloorTests
{
    private static readonly Instrument EurUsd = Instrument.ForexPair("EUR_USD");

    private static Tick Quote(int second, decimal bid, decimal ask) =>
        Tick.Quote(EurUsd.Id, Timestamp.FromParts(2024, 3, 4, 10, 0, second), Price.From(bid), Price.From(ask));

    [Fact]
    public void Layers_AddOnRetracement_AndAllCloseAtTheTakeProfit_FromTheAverageEntry()
    {
        var ticks = new List<Tick>
        {
            Quote(1, 1.1000m, 1.1002m),  // flat: open layer 1 (1000)
            Quote(2, 1.1000m, 1.1002m),  // filled at the ask 1.1002
            Quote(3, 1.0990m, 1.0992m),  // 10 pips under layer 1's entry: layer 2 (1000 × 2)
            Quote(4, 1.0990m, 1.0992m),  // filled at 1.0992; average 1.0995333…
            Quote(5, 1.1015m, 1.1017m),  // bid 1.1015: 19.67 pips over the average, not yet 20
            Quote(6, 1.1016m, 1.1018m),  // 20.67 pips: take profit, sell 3000
            Quote(7, 1.1016m, 1.1018m),  // filled at the bid 1.1016
            Quote(8, 1.1016m, 1.1018m),  // a new cycle starts
        };
        var (state, fills, notes) = Run(ticks, "initial_units=1000", "max_layers=3", "retracement_pips=10", "take_profit_pips=20", "volatility_threshold=0", "size_multiplier=2");
        Assert.Equal(
            [("Buy", 1000m, 1.1002m), ("Buy", 2000m, 1.0992m), ("Sell", 3000m, 1.1016m)],
            fills.Take(3).Select(f => (f.Side.ToString(), f.LastQty.ToDecimal(), f.LastPx.ToDecimal())));
        var book = state.Books[0];
        Assert.Equal(1, book.Cycles);
        Assert.Equal(("Buy", 1000m, 1.1018m), (fills[3].Side.ToString(), fills[3].LastQty.ToDecimal(), fills[3].LastPx.ToDecimal()));
        Assert.Equal(4, fills.Count);
        Assert.Single(book.Layers);
        Assert.Empty(notes);
    }

    [Fact]
    public void Layers_StopAtMaxLayers()
    {
        var ticks = new List<Tick> { Quote(1, 1.2000m, 1.2001m) };
        for (int i = 1; i <= 12; i++)
        {
            ticks.Add(Quote(1 + i, 1.2000m - (i * 0.0006m), 1.2001m - (i * 0.0006m)));
        }

        var (state, fills, _) = Run(ticks, "initial_units=100", "max_layers=3", "retracement_pips=5", "take_profit_pips=50", "volatility_threshold=0", "size_multiplier=1.5");
        Assert.Equal([100m, 150m, 225m], fills.Select(f => f.LastQty.ToDecimal()));
        Assert.Equal(3, state.Books[0].Layers.Count);
    }

    [Fact]
    public void Layers_CountWhenTheVenueFillsAtTheQuoteTheOrderWasPlacedOn()
    {
        // A venue that fills at once (OANDA; paper with --fill-at close) accepts and fills the order within the event
        // that placed it: by the time Floor hears "accepted", the order is already filled. Each fill must still count.
        var ticks = new List<Tick> { Quote(1, 1.2000m, 1.2001m) };
        for (int i = 1; i <= 12; i++)
        {
            ticks.Add(Quote(1 + i, 1.2000m - (i * 0.0006m), 1.2001m - (i * 0.0006m)));
        }

        var (state, fills, _) = Run(ticks, new SimulatedExchangeOptions { MarketFill = MarketFillTiming.SignalBarClose }, "initial_units=100", "max_layers=3", "retracement_pips=5", "take_profit_pips=50", "volatility_threshold=0", "size_multiplier=1.5");
        Assert.Equal([(100m, 1.2001m), (150m, 1.1995m), (225m, 1.1989m)], fills.Select(f => (f.LastQty.ToDecimal(), f.LastPx.ToDecimal())));
        Assert.Equal(3, state.Books[0].Layers.Count);
        Assert.Null(state.Books[0].Working);
    }

    [Fact]
    public void Trading_IsLocked_WhileVolatile_AndResumesWhenCalm()
    {
        var ticks = new List<Tick>();
        for (int i = 0; i < 6; i++)
        {
            // 30-pip swings: average absolute change 30 pips ≫ 0.5 × 10 pips.
            decimal mid = i % 2 == 0 ? 1.3000m : 1.3030m;
            ticks.Add(Quote(i + 1, mid, mid + 0.0001m));
        }

        for (int i = 0; i < 20; i++)
        {
            ticks.Add(Quote(10 + i, 1.3030m, 1.3031m));
        }

        var (state, fills, notes) = Run(ticks, "initial_units=1000", "retracement_pips=10", "volatility_threshold=0.5", "volatility_period=3", "volatility_threshold=0.5");
        Assert.Contains(notes, n => n.Code == "strategy.floor_locked" && n.Message.Contains("not measured yet", StringComparison.Ordinal));
        Assert.Contains(notes, n => n.Code == "strategy.floor_unlocked");
        var unlocked = notes.First(n => n.Code == "strategy.floor_unlocked").Time;
        var first = Assert.Single(fills);
        Assert.True(first.TsEvent > unlocked, $"the first fill at {first.TsEvent} came before trading unlocked at {unlocked}");
        Assert.False(state.Books[0].Locked);
    }

    [Fact]
    public void Short_SellsAtTheBid_AndTakesProfitBuyingAtTheAsk()
    {
        var ticks = new List<Tick>
        {
            Quote(1, 1.5000m, 1.5002m),
            Quote(2, 1.5000m, 1.5002m),  // sold at the bid 1.5000
            Quote(3, 1.4988m, 1.4990m),  // ask 1.4990: only 10 pips of profit
            Quote(4, 1.4978m, 1.4980m),  // ask 20 pips under the entry: take profit
            Quote(5, 1.4978m, 1.4980m),  // bought back at the ask 1.4980
        };
        var (_, fills, _) = Run(ticks, "initial_units=1000", "take_profit_pips=20", "volatility_threshold=0", "direction=short");
        Assert.Equal([("Sell", 1.5000m), ("Buy", 1.4980m)], fills.Select(f => (f.Side.ToString(), f.LastPx.ToDecimal())));
    }

    [Theory]
    [InlineData("direction=sideways", "parameter direction of floor was 'sideways'")]
    [InlineData("max_layers=0", "parameter max_layers of floor was 0; it must be between 1 and 50")]
    [InlineData("retracement_pips=-1", "parameter retracement_pips of floor was -1")]
    [InlineData("take_profit=5", "unknown parameter 'take_profit' for strategy floor")]
    public void BadParameters_AreNamed(string parameter, string expected)
    {
        var ex = Assert.Throws<StrategyConfigurationException>(() =>
            Floor.Descriptor.Create(new StrategyContext(StrategyParameters.Parse("floor", [parameter]), [EurUsd], Quantity.From(1))));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    private static (Floor.State State, List<OrderFilled> Fills, List<KernelNotice> Notes) Run(List<Tick> ticks, params string[] parameters) =>
        Run(ticks, new SimulatedExchangeOptions(), parameters);

    private static (Floor.State State, List<OrderFilled> Fills, List<KernelNotice> Notes) Run(List<Tick> ticks, SimulatedExchangeOptions exchange, params string[] parameters)
    {
        var host = (StrategyHost<Floor.State>)Floor.Descriptor.Create(new StrategyContext(StrategyParameters.Parse("floor", parameters.Distinct()), [EurUsd], Quantity.From(1)));
        var capture = new Capture();
        var result = TradingSession.Run(new SessionSettings { InitialCash = Money.From(1_000_000), Exchange = exchange }, [EurUsd], new ObservedHost(host, capture), new TickFeeder(ticks), new SimulatedClock(), new SessionOutputs(), CancellationToken.None);
        return (host.TypedState, capture.Fills, result.Notices.Concat(capture.Notes).Where(n => n.Code.StartsWith("strategy.", StringComparison.Ordinal)).DistinctBy(n => (n.Code, n.Time)).ToList());
    }

    private sealed class Capture
    {
        public List<OrderFilled> Fills { get; } = [];

        public List<KernelNotice> Notes { get; } = [];
    }

    /// <summary>Passes everything through and keeps the fills the strategy was told about.</summary>
    private sealed class ObservedHost(IStrategyHost inner, Capture capture) : IStrategyHost
    {
        public string Name => inner.Name;

        public object State => inner.State;

        public bool CanSnapshot => inner.CanSnapshot;

        public void Start(IMarketView market, IIntents intents) => inner.Start(market, new NoteCapture(intents, market, capture));

        public void OnBar(in Bar bar, IMarketView market, IIntents intents) => inner.OnBar(in bar, market, new NoteCapture(intents, market, capture));

        public void OnTick(in Tick tick, IMarketView market, IIntents intents) => inner.OnTick(in tick, market, new NoteCapture(intents, market, capture));

        public void OnOrderEvent(OrderEvent orderEvent, IMarketView market, IIntents intents)
        {
            if (orderEvent is OrderFilled f)
            {
                capture.Fills.Add(f);
            }

            inner.OnOrderEvent(orderEvent, market, new NoteCapture(intents, market, capture));
        }

        public void Pause(IMarketView market, IIntents intents) => inner.Pause(market, intents);

        public void Resume(IMarketView market, IIntents intents) => inner.Resume(market, intents);

        public void Stop(IMarketView market, IIntents intents) => inner.Stop(market, intents);

        public void Restore(object state) => inner.Restore(state);

        public System.Text.Json.JsonElement CaptureState() => inner.CaptureState();

        public void RestoreState(System.Text.Json.JsonElement state) => inner.RestoreState(state);
    }

    private sealed class NoteCapture(IIntents inner, IMarketView market, Capture capture) : IIntents
    {
        public void Signal(InstrumentId instrument, SignalAction action, Quantity quantity = default, string? tag = null) => inner.Signal(instrument, action, quantity, tag);

        public ClientOrderId Submit(in OrderRequest request) => inner.Submit(request);

        public BracketOrderIds SubmitBracket(in OrderRequest entry, Price stopLoss, Price takeProfit, Price? stopLossLimit = null) =>
            inner.SubmitBracket(entry, stopLoss, takeProfit, stopLossLimit);

        public (ClientOrderId First, ClientOrderId Second) SubmitOco(in OrderRequest first, in OrderRequest second) => inner.SubmitOco(first, second);

        public void Cancel(ClientOrderId id) => inner.Cancel(id);

        public ClientOrderId Replace(ClientOrderId id, Quantity? quantity = null, Price? limitPrice = null, Price? stopPrice = null) => inner.Replace(id, quantity, limitPrice, stopPrice);

        public void Note(string code, string message, bool warning = false)
        {
            capture.Notes.Add(new KernelNotice(warning ? NoticeLevel.Warning : NoticeLevel.Info, "strategy." + code, message, market.Time));
            inner.Note(code, message, warning);
        }
    }

    /// <summary>Feeds quote ticks one by one through the inbox, as a live feed would.</summary>
    private sealed class TickFeeder(IReadOnlyList<Tick> ticks) : IDataFeeder
    {
        public void Run(Inbox inbox, CancellationToken ct)
        {
            foreach (var t in ticks)
            {
                inbox.Write(InboxItem.ForTick(t), ct);
            }

            inbox.Write(InboxItem.EndOfData, ct);
        }
    }
}
