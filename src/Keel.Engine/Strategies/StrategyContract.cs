using System.Text.Json;
using Keel.Domain;
using Keel.Domain.Events;
using Keel.Domain.Orders;
using Keel.Domain.Portfolio;

namespace Keel.Engine.Strategies;

/// <summary>Signals a strategy may emit instead of explicit orders. Stored values: never renumber.</summary>
public enum SignalAction
{
    OpenLong = 1,
    CloseLong = 2,
    OpenShort = 3,
    CloseShort = 4,
}

/// <summary>Ids Keel assigned to the three orders of a bracket.</summary>
public readonly record struct BracketOrderIds(ClientOrderId Entry, ClientOrderId StopLoss, ClientOrderId TakeProfit);

/// <summary>What a strategy may read: time, prices, its account and its orders. Nothing here can change anything.</summary>
public interface IMarketView
{
    /// <summary>Time of the event being processed (data time, also in paper and live trading).</summary>
    Timestamp Time { get; }

    IPortfolioView Portfolio { get; }

    Quantity Position(InstrumentId instrument);

    bool TryGetLastBar(InstrumentId instrument, out Bar bar);

    bool TryGetLastTick(InstrumentId instrument, out Tick tick);

    Instrument GetInstrument(InstrumentId instrument);

    /// <summary>Orders that may still fill.</summary>
    IReadOnlyList<Order> OpenOrders { get; }

    int OpenOrderCount(InstrumentId instrument);

    /// <summary>An order by id: open ones, and recently completed ones.</summary>
    Order? GetOrder(ClientOrderId id);
}

/// <summary>
/// Where a strategy writes what it wants done. Nothing happens during the strategy call: the kernel processes the
/// intents, in order, after the call returns (risk gate, then venue). Ids are assigned at once and are deterministic.
/// </summary>
public interface IIntents
{
    /// <summary>OPEN_* need a positive quantity; CLOSE_* close what is held (quantity ignored).</summary>
    void Signal(InstrumentId instrument, SignalAction action, Quantity quantity = default, string? tag = null);

    ClientOrderId Submit(in OrderRequest request);

    /// <summary>Entry (any type) + stop-loss (stop, or stop-limit when <paramref name="stopLossLimit"/> is given) + take-profit (limit).</summary>
    BracketOrderIds SubmitBracket(in OrderRequest entry, Price stopLoss, Price takeProfit, Price? stopLossLimit = null);

    /// <summary>Two exit orders where the first fill of one cancels the other.</summary>
    (ClientOrderId First, ClientOrderId Second) SubmitOco(in OrderRequest first, in OrderRequest second);

    void Cancel(ClientOrderId id);

    /// <summary>Replaces a working order's quantity and/or prices; returns the replacement's id.</summary>
    ClientOrderId Replace(ClientOrderId id, Quantity? quantity = null, Price? limitPrice = null, Price? stopPrice = null);

    /// <summary>
    /// Records a decision worth knowing about (a setup detected, trading locked, a state mismatch) as a journaled
    /// notice <c>strategy.CODE</c>; <paramref name="warning"/> marks it as a warning rather than information.
    /// </summary>
    void Note(string code, string message, bool warning = false);
}

/// <summary>
/// A trading strategy as a pure function: <c>(state, event, read-only view) → (state, intents)</c>. It does no IO,
/// reads no clock and holds no mutable fields; everything it remembers is in <typeparamref name="TState"/>, which
/// serialises, so a run can be snapshotted and resumed.
/// State is passed by ownership: after a call only the returned state is valid, so an implementation may return a
/// new immutable value or update the one it was given and return it (the fast path used on hot paths).
/// </summary>
public interface IStrategy<TState>
    where TState : class
{
    TState CreateState();

    TState OnStart(TState state, IMarketView market, IIntents intents) => state;

    TState OnBar(TState state, in Bar bar, IMarketView market, IIntents intents);

    TState OnTick(TState state, in Tick tick, IMarketView market, IIntents intents) => state;

    TState OnOrderEvent(TState state, OrderEvent orderEvent, IMarketView market, IIntents intents) => state;

    TState OnPause(TState state, IMarketView market, IIntents intents) => state;

    TState OnResume(TState state, IMarketView market, IIntents intents) => state;

    TState OnStop(TState state, IMarketView market, IIntents intents) => state;
}

/// <summary>The kernel's handle on a strategy and its current state, with the type erased.</summary>
public interface IStrategyHost
{
    string Name { get; }

    object State { get; }

    void Start(IMarketView market, IIntents intents);

    void OnBar(in Bar bar, IMarketView market, IIntents intents);

    void OnTick(in Tick tick, IMarketView market, IIntents intents);

    void OnOrderEvent(OrderEvent orderEvent, IMarketView market, IIntents intents);

    void Pause(IMarketView market, IIntents intents);

    void Resume(IMarketView market, IIntents intents);

    void Stop(IMarketView market, IIntents intents);

    /// <summary>Replaces the state (resume from a snapshot).</summary>
    void Restore(object state);

    /// <summary>True when the strategy's state can be written to a snapshot (it has an <see cref="IStateCodec{TState}"/>).</summary>
    bool CanSnapshot { get; }

    /// <summary>The strategy's state as a JSON value, for the session snapshot.</summary>
    JsonElement CaptureState();

    /// <summary>Replaces the state with one captured by <see cref="CaptureState"/>.</summary>
    void RestoreState(JsonElement state);
}

/// <summary>
/// Turns a strategy's state into a JSON value for snapshots and back; reading must give a state that behaves
/// identically. Strategy state types are the strategy's own, so the engine's snapshot context cannot list them: a
/// codec maps its state to a record and serializes it with its own source-generated context (no reflection).
/// </summary>
public interface IStateCodec<TState>
{
    JsonElement Write(TState state);

    TState Read(JsonElement state);
}

/// <summary>Hosts an <see cref="IStrategy{TState}"/>: keeps the latest state and calls the strategy with it.</summary>
public sealed class StrategyHost<TState> : IStrategyHost
    where TState : class
{
    private readonly IStrategy<TState> _strategy;
    private readonly IStateCodec<TState>? _codec;
    private readonly Action<TState>? _afterOrderEvent;
    private TState _state;

    /// <param name="afterOrderEvent">
    /// Infrastructure hook run after the strategy has handled an order event (e.g. writing its state to a file); the
    /// strategy itself stays pure.
    /// </param>
    public StrategyHost(string name, IStrategy<TState> strategy, TState? initialState = null, IStateCodec<TState>? codec = null, Action<TState>? afterOrderEvent = null)
    {
        Name = name;
        _strategy = strategy;
        _codec = codec;
        _afterOrderEvent = afterOrderEvent;
        _state = initialState ?? strategy.CreateState();
    }

    public bool CanSnapshot => _codec is not null;

    public JsonElement CaptureState() =>
        (_codec ?? throw new NotSupportedException($"strategy {Name} has no state codec, so its runs cannot be snapshotted")).Write(_state);

    public void RestoreState(JsonElement state) =>
        _state = (_codec ?? throw new NotSupportedException($"strategy {Name} has no state codec, so its runs cannot be resumed")).Read(state);

    public string Name { get; }

    public object State => _state;

    public TState TypedState => _state;

    public void Start(IMarketView market, IIntents intents) => _state = _strategy.OnStart(_state, market, intents);

    public void OnBar(in Bar bar, IMarketView market, IIntents intents)
    {
        // Most strategies update their state in place and return it: storing the same reference again would cost a
        // GC write barrier on every bar.
        var next = _strategy.OnBar(_state, in bar, market, intents);
        if (!ReferenceEquals(next, _state))
        {
            _state = next;
        }
    }

    public void OnTick(in Tick tick, IMarketView market, IIntents intents) => _state = _strategy.OnTick(_state, in tick, market, intents);

    public void OnOrderEvent(OrderEvent orderEvent, IMarketView market, IIntents intents)
    {
        _state = _strategy.OnOrderEvent(_state, orderEvent, market, intents);
        _afterOrderEvent?.Invoke(_state);
    }

    public void Pause(IMarketView market, IIntents intents) => _state = _strategy.OnPause(_state, market, intents);

    public void Resume(IMarketView market, IIntents intents) => _state = _strategy.OnResume(_state, market, intents);

    public void Stop(IMarketView market, IIntents intents) => _state = _strategy.OnStop(_state, market, intents);

    public void Restore(object state) => _state = (TState)state;
}
