using Keel.Domain;
using Keel.Domain.Events;
using Keel.Domain.Orders;
using Keel.Domain.Portfolio;
using Keel.Engine.Clock;
using Keel.Engine.Kernel;
using Keel.Engine.Simulation;
using Keel.Engine.Strategies;

namespace Keel.Tests.Support;

/// <summary>A test strategy driven by a script: called with the bar index so a test can act on chosen bars.</summary>
public sealed class ScriptStrategy(Action<int, Bar, IMarketView, IIntents> onBar, Action<OrderEvent, IMarketView, IIntents>? onEvent = null)
    : IStrategy<ScriptStrategy.State>
{
    public State CreateState() => new();

    public State OnBar(State state, in Bar bar, IMarketView market, IIntents intents)
    {
        onBar(state.Bars++, bar, market, intents);
        return state;
    }

    public State OnOrderEvent(State state, OrderEvent orderEvent, IMarketView market, IIntents intents)
    {
        state.Events.Add(orderEvent);
        onEvent?.Invoke(orderEvent, market, intents);
        return state;
    }

    public sealed class State
    {
        public int Bars { get; set; }

        public List<OrderEvent> Events { get; } = [];
    }
}

/// <summary>Kernel + simulated exchange + portfolio wired as in a backtest, with everything it publishes recorded.</summary>
public sealed class Harness
{
    public Harness(
        Action<int, Bar, IMarketView, IIntents> onBar,
        SimulatedExchangeOptions? exchange = null,
        KernelOptions? kernel = null,
        decimal cash = 100_000m,
        Instrument? instrument = null,
        Action<OrderEvent, IMarketView, IIntents>? onEvent = null)
    {
        Instrument = instrument ?? Instrument.Equity("X");
        Portfolio = new Portfolio(Money.From(cash));
        Exchange = new SimulatedExchange(exchange ?? new SimulatedExchangeOptions(), [Instrument], Portfolio);
        Bus = new EventBus();
        Strategy = new StrategyHost<ScriptStrategy.State>("script", new ScriptStrategy(onBar, onEvent));
        Kernel = new TradingKernel(new SimulatedClock(), Exchange, Strategy, Portfolio, [Instrument], Bus, kernel, [Exchange]);
        Exchange.Connect(Kernel);
        Bus.Subscribe<OrderUpdate>(u => Updates.Add(u), "test-updates");
        Bus.Subscribe<KernelNotice>(n => Notices.Add(n), "test-notices");
        Bus.Subscribe<FillBooked>(f => Fills.Add(f.Fill), "test-fills");
        Bus.Subscribe<SliceClosed>(s => Equity.Add((s.Time, Portfolio.Equity, Portfolio.Cash)), "test-equity");
    }

    public Instrument Instrument { get; }

    public InstrumentId Id => Instrument.Id;

    public Portfolio Portfolio { get; }

    public SimulatedExchange Exchange { get; }

    public EventBus Bus { get; }

    public StrategyHost<ScriptStrategy.State> Strategy { get; }

    public TradingKernel Kernel { get; }

    public List<OrderUpdate> Updates { get; } = [];

    public List<KernelNotice> Notices { get; } = [];

    public List<OrderFilled> Fills { get; } = [];

    public List<(Timestamp Time, Money Equity, Money Cash)> Equity { get; } = [];

    public Harness Run(params Bar[] bars)
    {
        Kernel.Start();
        foreach (var b in bars)
        {
            Kernel.OnBar(b);
        }

        Kernel.Stop();
        return this;
    }

    public Order Order(string id) => Kernel.GetOrder(new ClientOrderId(id)) ?? throw new InvalidOperationException($"no order {id}");

    public OrderStatus Status(string id) => Order(id).Status;

    /// <summary>A bar for instrument X on day <paramref name="day"/> of January 2024 (one bar per day).</summary>
    public static Bar Bar(int day, string open, string high, string low, string close, long volume = 1_000, string symbol = "X") =>
        new(new InstrumentId(symbol), Timestamp.FromParts(2024, 1, day), Price.Parse(open), Price.Parse(high), Price.Parse(low), Price.Parse(close), Quantity.From(volume));

    /// <summary>A bar at minute <paramref name="minute"/> of 2024-01-02.</summary>
    public static Bar Minute(int minute, string open, string high, string low, string close, long volume = 1_000) =>
        new(new InstrumentId("X"), Timestamp.FromParts(2024, 1, 2, 14, minute), Price.Parse(open), Price.Parse(high), Price.Parse(low), Price.Parse(close), Quantity.From(volume));
}
