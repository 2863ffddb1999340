using System.Runtime.CompilerServices;
using Keel.Domain;
using Keel.Domain.Events;
using Keel.Domain.Orders;
using Keel.Domain.Portfolio;
using Keel.Engine.Brokerage;
using Keel.Engine.Clock;
using Keel.Engine.Orders;
using Keel.Engine.Persistence;
using Keel.Engine.Ports;
using Keel.Engine.Risk;
using Keel.Engine.Strategies;

namespace Keel.Engine.Kernel;

public sealed record KernelOptions
{
    /// <summary>Consecutive errors after which new orders are denied (seed 003: 5).</summary>
    public int CircuitBreakerThreshold { get; init; } = 5;

    /// <summary>Client order ids are this prefix plus a counter; live runs use a per-run prefix so ids stay unique at the broker.</summary>
    public string ClientOrderIdPrefix { get; init; } = "O-";

    public RiskLimits Risk { get; init; } = RiskLimits.None;

    /// <summary>Time in force of bracket exit legs.</summary>
    public TimeInForce BracketExitTimeInForce { get; init; } = TimeInForce.Gtc;

    /// <summary>
    /// Which ticks drive the strategy: a tick with a trade when <see cref="MarketDataKinds.Trades"/> is set, with a quote
    /// when <see cref="MarketDataKinds.Quotes"/> is. Such a tick is a time slice of its own: it marks the portfolio and the
    /// strategy sees it. Any other tick is market data for the venue only (a candle strategy on a live feed: its orders
    /// fill on the quotes while the strategy, the slices and the marks run on the candles, as in a backtest). Every
    /// tick by default (a backtest on tick data).
    /// </summary>
    public MarketDataKinds StrategyTicks { get; init; } = MarketDataKinds.Trades | MarketDataKinds.Quotes;

    /// <summary>
    /// Validates every order as the venue would before it is sent (after the risk gate); an order it refuses is
    /// rejected with the venue's message, as if the venue had answered. Accepts everything by default.
    /// </summary>
    public IBrokerageModel Brokerage { get; init; } = AcceptAllBrokerageModel.Instance;

    /// <summary>
    /// How opening signals and bracket entries are sized (<see cref="PositionSizing"/>); by default the strategy's own
    /// quantity. Orders a strategy submits itself (a ladder's levels) are never resized.
    /// </summary>
    public PositionSizing Sizing { get; init; }
}

/// <summary>An order changed: the event and the order after it was applied.</summary>
public readonly record struct OrderUpdate(Order Order, OrderEvent Event);

/// <summary>A fill was booked into the portfolio.</summary>
public readonly record struct FillBooked(OrderFilled Fill, FillEffect Effect, Position Position, Order Order);

/// <summary>
/// The Keel kernel: the single-threaded, deterministic core shared by backtest, paper and live trading. One caller
/// (the inbox loop or a backtest driver) feeds it market data, venue events and commands; it runs the strategy,
/// the risk gate and the order manager, talks to the venue through a port, books fills into the portfolio and
/// publishes every event, with a sequence number, on the <see cref="EventBus"/>. It never reads the wall clock.
/// </summary>
public sealed class TradingKernel : IOrderEventSink, IMarketView, ISnapshotable<KernelSnapshot>
{
    private readonly IClock _clock;
    private readonly IExecutionVenue _venue;
    private readonly IStrategyHost _strategy;
    private readonly Portfolio _portfolio;
    private readonly EventBus _bus;
    private readonly OrderManager _orders;
    private readonly IntentBuffer _intents;
    private string? _haltReason;
    private readonly CircuitBreaker _breaker;
    private readonly KernelOptions _options;
    private readonly IMarketDataConsumer[] _consumers;
    private readonly MarketDataKinds _strategyTicks;
    private readonly IBrokerageModel? _brokerage;
    private readonly InstrumentMap<InstrumentSlot> _slots = new();
    private readonly Queue<PendingNotification> _pending = new();
    private Timestamp _eventTime;
    private Timestamp _sliceTime;
    private bool _sliceOpen;
    private bool _errorInEvent;
    private bool _inNotice;
    private string? _lastInvalid;
    private readonly bool _riskRules;
    private RiskState _risk;

    public TradingKernel(
        IClock clock,
        IExecutionVenue venue,
        IStrategyHost strategy,
        Portfolio portfolio,
        IEnumerable<Instrument> instruments,
        EventBus bus,
        KernelOptions? options = null,
        IEnumerable<IMarketDataConsumer>? marketDataConsumers = null)
    {
        _clock = clock;
        _venue = venue;
        _strategy = strategy;
        _portfolio = portfolio;
        _bus = bus;
        _options = options ?? new KernelOptions();
        string? riskProblem = _options.Risk.Validate();
        if (riskProblem is not null)
        {
            throw new ArgumentException(riskProblem, nameof(options));
        }

        _riskRules = _options.Risk.HasStateRules;
        _orders = new OrderManager(_options.ClientOrderIdPrefix);
        _intents = new IntentBuffer(_orders);
        _breaker = new CircuitBreaker(_options.CircuitBreakerThreshold);
        _consumers = marketDataConsumers?.ToArray() ?? [];
        _strategyTicks = _options.StrategyTicks;
        _brokerage = _options.Brokerage is AcceptAllBrokerageModel ? null : _options.Brokerage;
        foreach (var instrument in instruments)
        {
            _slots.Add(instrument.Id, new InstrumentSlot(instrument));
        }

        _bus.OnFailure = f => Notice(NoticeLevel.Error, "handler_failed", $"handler {f.Handler} failed on {f.EventType} #{f.Sequence}: {f.Error.Message}");
    }

    /// <summary>Sequence number of the last published event.</summary>
    public long Sequence { get; private set; }

    public KernelState State { get; private set; } = KernelState.Created;

    public CircuitBreaker CircuitBreaker => _breaker;

    /// <summary>The enhanced risk gate's state (default while its rules are off).</summary>
    public RiskState RiskState => _risk;

    public OrderManager Orders => _orders;

    public long ErrorCount { get; private set; }

    public long WarningCount { get; private set; }

    public Timestamp Time => _eventTime;

    public IPortfolioView Portfolio => _portfolio;

    public IReadOnlyList<Order> OpenOrders => _orders.Open;

    public IStrategyHost Strategy => _strategy;

    /// <summary>The instruments the run trades.</summary>
    public IReadOnlyList<InstrumentId> Instruments => [.. _slots.Values.Select(s => s.Instrument.Id)];

    /// <summary>Journals a fact from outside the kernel's own decisions (a live venue's reconciliation) as a notice.</summary>
    public void Annotate(NoticeLevel level, string code, string message)
    {
        Notice(level, code, message);
        Drain();
    }

    /// <summary>
    /// Stops new orders (the circuit breaker opens; reducing orders included) and journals why as an error notice: a
    /// live venue that differs from the run in ways nobody can explain. An operator resets the breaker when it is resolved.
    /// </summary>
    public void Halt(string reason)
    {
        _haltReason = reason;
        _breaker.Trip();
        Notice(NoticeLevel.Error, "halted", reason);
        Drain();
    }

    public void Start()
    {
        Transition(KernelState.Created, KernelState.Running);
        Guard(static (s, k) => s.Start(k, k._intents));
        Drain();
        EndEvent();
    }

    public void Pause()
    {
        Transition(KernelState.Running, KernelState.Paused);
        Guard(static (s, k) => s.Pause(k, k._intents));
        Drain();
        EndEvent();
    }

    public void Resume()
    {
        Transition(KernelState.Paused, KernelState.Running);
        Guard(static (s, k) => s.Resume(k, k._intents));
        Drain();
        EndEvent();
    }

    /// <summary>Stops the strategy (its exit intents are still processed) and closes the last time slice.</summary>
    public void Stop()
    {
        if (State == KernelState.Stopped)
        {
            return;
        }

        if (State is KernelState.Running or KernelState.Paused)
        {
            Guard(static (s, k) => s.Stop(k, k._intents));
            Drain();
        }

        CloseSlice();
        Transition(State, KernelState.Stopped);
        EndEvent();
    }

    /// <summary>Processes one bar: venue matching, mark-to-market, strategy, then close-of-bar matching.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void OnBar(in Bar bar)
    {
        if (!BeginMarketEvent(bar.Time, bar.Instrument, out var slot))
        {
            return;
        }

        _bus.Publish(in bar, ++Sequence);
        var consumers = _consumers;
        for (int i = 0; i < consumers.Length; i++)
        {
            consumers[i].OnBar(in bar);
        }

        if (_pending.Count > 0)
        {
            Drain();
        }

        _portfolio.Mark(bar.Instrument, bar.Close);
        slot.SetBar(in bar);
        slot.ReferencePrice = bar.Close;
        if (State == KernelState.Running)
        {
            try
            {
                _strategy.OnBar(in bar, this, _intents);
            }
            catch (Exception ex)
            {
                StrategyFailed("OnBar", ex);
            }

            if (_intents.Count > 0)
            {
                ProcessIntents();
            }
        }

        for (int i = 0; i < consumers.Length; i++)
        {
            consumers[i].OnBarClosed(in bar);
        }

        if (_pending.Count > 0)
        {
            Drain();
        }

        EndEvent();
    }

    /// <summary>
    /// Processes one tick: venue matching, then, when it is a tick the strategy trades on (<see cref="KernelOptions.StrategyTicks"/>),
    /// mark-to-market and the strategy; otherwise it is for the venue only.
    /// </summary>
    public void OnTick(in Tick tick)
    {
        if (!DrivesStrategy(in tick))
        {
            OnVenueTick(in tick);
            return;
        }

        if (!BeginMarketEvent(tick.Time, tick.Instrument, out var slot))
        {
            return;
        }

        _bus.Publish(in tick, ++Sequence);
        foreach (var c in _consumers)
        {
            c.OnTick(in tick);
        }

        Drain();
        var mark = tick.Mark;
        if (mark.Raw > 0)
        {
            _portfolio.Mark(tick.Instrument, mark);
            slot.ReferencePrice = mark;
        }

        slot.LastTick = tick;
        slot.HasTick = true;
        if (State == KernelState.Running)
        {
            try
            {
                _strategy.OnTick(in tick, this, _intents);
            }
            catch (Exception ex)
            {
                StrategyFailed("OnTick", ex);
            }

            ProcessIntents();
        }

        foreach (var c in _consumers)
        {
            c.OnTickClosed(in tick);
        }

        Drain();
        EndEvent();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool DrivesStrategy(in Tick tick) =>
        (_strategyTicks & MarketDataKinds.Trades) != 0 && tick.HasTrade
        || (_strategyTicks & MarketDataKinds.Quotes) != 0 && tick.HasQuote;

    /// <summary>
    /// A tick the strategy does not trade on: the venue matches working orders on it (at the ask for a buy and the bid
    /// for a sell when it has a quote); the strategy, the slices and the marks do not see it. A tick after the open
    /// slice's time ends that slice, as the next bar would in a backtest, so fills (and the bars a trade is held) count
    /// from the same slice as there.
    /// </summary>
    private void OnVenueTick(in Tick tick)
    {
        _errorInEvent = false;
        if (FindSlot(tick.Instrument) is null)
        {
            Notice(NoticeLevel.Error, "unknown_instrument", $"market data for {tick.Instrument}, which is not registered with this run, was ignored");
            EndEvent();
            return;
        }

        if (_sliceOpen && tick.Time > _sliceTime)
        {
            CloseSlice();
        }

        foreach (var c in _consumers)
        {
            c.OnTick(in tick);
        }

        Drain();
        EndEvent();
    }

    /// <summary>An order event from a live venue (via the inbox): book it and tell the strategy.</summary>
    public void ProcessVenueEvent(OrderEvent orderEvent)
    {
        _errorInEvent = false;
        OnOrderEvent(orderEvent);
        Drain();
        EndEvent();
    }

    /// <summary>
    /// The venue sink. Books the event at once (order state, portfolio), so buying power is current while a venue
    /// processes several orders; the strategy hears of it after the venue call returns, in order.
    /// </summary>
    public void OnOrderEvent(OrderEvent orderEvent)
    {
        var order = _orders.Find(orderEvent.ClientOrderId);
        if (order is null)
        {
            Notice(NoticeLevel.Error, "unknown_order", $"{_venue.Name} reported '{orderEvent.Kind}' for unknown order {orderEvent.ClientOrderId}");
            return;
        }

        if (IsAlreadyKnown(order, orderEvent))
        {
            return;
        }

        if (orderEvent is OrderFilled repeated && order.HasFill(repeated.TradeId))
        {
            // The same execution again (a stream that repeats, a catch-up query, a reconciliation): booked once only.
            Notice(NoticeLevel.Info, "duplicate_fill", $"{_venue.Name} reported fill {repeated.TradeId} of order {order.Id} again; it was booked once");
            return;
        }

        try
        {
            order.Apply(orderEvent);
        }
        catch (InvalidOrderTransitionException ex)
        {
            Notice(NoticeLevel.Error, "invalid_order_event", $"{_venue.Name}: {ex.Message} (order {order.Id})");
            return;
        }

        FillEffect? effect = null;
        if (orderEvent is OrderFilled fill)
        {
            effect = _portfolio.ApplyFill(fill.Instrument, fill.Side, fill.LastQty, fill.LastPx, fill.Commission);
        }
        else if (orderEvent is OrderRejected rejected)
        {
            Notice(NoticeLevel.Error, "order_rejected", $"order {order.Id} rejected by {_venue.Name}: {rejected.Reason}");
        }

        _orders.Updated(order);
        _pending.Enqueue(new PendingNotification(orderEvent, order, effect));
    }

    /// <summary>
    /// A live venue says some things twice over different paths: the answer to the request and the stream both say
    /// "accepted"; an answer that was lost ("unknown") arrives after the stream already told what became of the order.
    /// Those repeat what the order already shows and are dropped without a trace (they change nothing).
    /// </summary>
    private static bool IsAlreadyKnown(Order order, OrderEvent orderEvent) => orderEvent switch
    {
        OrderAccepted a => order.VenueOrderId == a.VenueOrderId && order.Status is not (OrderStatus.Submitted or OrderStatus.Unknown),
        OrderStatusUnknown => order.Status is not (OrderStatus.Submitted or OrderStatus.Unknown),
        _ => false,
    };

    /// <summary>
    /// An order from outside the strategy (an operator, the decision pipeline, a webhook). It gets the next client id
    /// and passes the same validation, circuit breaker, risk gate and journal as a strategy's intent; the strategy hears
    /// of its events as of its own. Taken while the run is running or paused (a paused strategy does not stop an
    /// operator), refused otherwise. Returns the order's state right after the venue call.
    /// </summary>
    public ExternalOrderResult SubmitExternal(in OrderRequest request)
    {
        if (State is not (KernelState.Running or KernelState.Paused))
        {
            return new ExternalOrderResult(default, OrderStatus.Denied, $"the run is {State.ToString().ToLowerInvariant()}; it takes orders only while running or paused");
        }

        _errorInEvent = false;
        _lastInvalid = null;
        var id = _intents.Submit(request);
        ProcessIntents();
        Drain();
        EndEvent();
        var order = _orders.Find(id);
        return order is null
            ? new ExternalOrderResult(id, OrderStatus.Denied, _lastInvalid ?? "the order was not created")
            : new ExternalOrderResult(id, order.Status, order.Reason);
    }

    /// <summary>A cancel from outside the strategy, through the same path as a strategy's cancel intent.</summary>
    public ExternalOrderResult CancelExternal(ClientOrderId id)
    {
        var order = _orders.Find(id);
        if (order is null || State is not (KernelState.Running or KernelState.Paused))
        {
            return new ExternalOrderResult(id, OrderStatus.Denied, order is null ? $"order {id} is not known to this run" : $"the run is {State.ToString().ToLowerInvariant()}");
        }

        if (order.IsComplete)
        {
            return new ExternalOrderResult(id, order.Status, $"order {id} is already {order.Status.ToText()}");
        }

        _errorInEvent = false;
        _intents.Cancel(id);
        ProcessIntents();
        Drain();
        EndEvent();
        return new ExternalOrderResult(id, order.Status, order.Reason);
    }

    /// <summary>
    /// Books an execution the venue made outside the run's orders — a trade by hand, or the difference between the
    /// venue's position and the run's — when reconciliation adopts the venue's state. It becomes an order of the run
    /// (the next client id, tagged <c>adopted</c>) that was accepted and filled at once, and a warning notice journals
    /// why. No risk check: it already happened. Returns the order's id.
    /// </summary>
    public ClientOrderId AdoptExecution(InstrumentId instrument, OrderSide side, Quantity quantity, Price price, Money commission, TradeId tradeId, VenueOrderId venueOrderId, Timestamp time, string reason)
    {
        _errorInEvent = false;
        var id = _orders.NextId();
        var order = _orders.Create(id, OrderRequest.Market(instrument, side, quantity, "adopted"), _eventTime);
        Notice(NoticeLevel.Warning, "adopted", $"order {id}: {side.ToText()} {quantity} {instrument} at {price} adopted from {_venue.Name}: {reason}");
        OnOrderEvent(new OrderSubmitted(id, _eventTime, _clock.Now));
        OnOrderEvent(new OrderAccepted(id, venueOrderId, _eventTime, _clock.Now));
        OnOrderEvent(new OrderFilled(id, venueOrderId, tradeId, instrument, side, quantity, price, commission, time, _clock.Now));
        Drain();
        EndEvent();
        return order.Id;
    }

    /// <summary>
    /// Asks the venue to cancel every working order of the run (a live run stopping with <c>--cancel-on-stop</c>), in
    /// any state but created; each cancel is journaled like a strategy's. Returns how many were asked.
    /// </summary>
    public int CancelOpenOrders()
    {
        if (State == KernelState.Created)
        {
            return 0;
        }

        var working = _orders.Open.Where(o => o.IsWorking && o.Status != OrderStatus.PendingCancel).Select(o => o.Id).ToList();
        foreach (var id in working)
        {
            CancelOrder(id);
        }

        Drain();
        return working.Count;
    }

    /// <summary>Closes the current time slice, if any (end of data).</summary>
    public void CloseSlice()
    {
        if (_sliceOpen)
        {
            _sliceOpen = false;
            if (_riskRules)
            {
                ObserveRisk();
            }

            _bus.Publish(new SliceClosed(_sliceTime), ++Sequence);
        }
    }

    /// <summary>Reopens the circuit breaker after an operator has looked at the errors.</summary>
    public void ResetCircuitBreaker()
    {
        _haltReason = null;
        _breaker.Reset();
    }

    public Quantity Position(InstrumentId instrument) => _portfolio.PositionQuantity(instrument);

    public bool TryGetLastBar(InstrumentId instrument, out Bar bar)
    {
        var slot = FindSlot(instrument);
        if (slot is { HasBar: true })
        {
            bar = slot.LastBar;
            return true;
        }

        bar = default;
        return false;
    }

    public bool TryGetLastTick(InstrumentId instrument, out Tick tick)
    {
        var slot = FindSlot(instrument);
        if (slot is { HasTick: true })
        {
            tick = slot.LastTick;
            return true;
        }

        tick = default;
        return false;
    }

    public Instrument GetInstrument(InstrumentId instrument) =>
        FindSlot(instrument)?.Instrument ?? throw new KeyNotFoundException($"instrument {instrument} is not registered with this run");

    public int OpenOrderCount(InstrumentId instrument) => _orders.OpenCount(instrument);

    public Order? GetOrder(ClientOrderId id) => _orders.Find(id);

    /// <summary>The kernel's state (between events): sequence, lifecycle, slice, breaker, last market data, orders.</summary>
    public KernelSnapshot Capture()
    {
        if (_pending.Count > 0)
        {
            throw new InvalidOperationException("a snapshot can only be taken between events");
        }

        var instruments = new List<InstrumentSnapshot>();
        foreach (var slot in _slots.Values)
        {
            instruments.Add(new InstrumentSnapshot(slot.Instrument.Id, slot.ReferencePrice, slot.HasBar ? slot.LastBar : null, slot.HasTick ? slot.LastTick : null));
        }

        return new KernelSnapshot(
            Sequence, State, _eventTime, _sliceTime, _sliceOpen, ErrorCount, WarningCount,
            new BreakerSnapshot(_breaker.ConsecutiveErrors, _breaker.IsOpen, _breaker.TotalErrors), instruments, _orders.Capture(),
            _riskRules ? _risk : null);
    }

    /// <summary>Restores the kernel's state; the instruments must be the ones the snapshot was taken with.</summary>
    public void Restore(KernelSnapshot snapshot)
    {
        Sequence = snapshot.Sequence;
        State = snapshot.State;
        _eventTime = snapshot.EventTime;
        _sliceTime = snapshot.SliceTime;
        _sliceOpen = snapshot.SliceOpen;
        ErrorCount = snapshot.Errors;
        WarningCount = snapshot.Warnings;
        _breaker.Restore(snapshot.Breaker.ConsecutiveErrors, snapshot.Breaker.IsOpen, snapshot.Breaker.TotalErrors);
        foreach (var x in snapshot.Instruments)
        {
            var slot = FindSlot(x.Instrument) ?? throw new SnapshotException($"the snapshot has instrument {x.Instrument}, which this run does not trade");
            slot.ReferencePrice = x.ReferencePrice;
            if (x.LastBar is { } lastBar)
            {
                slot.SetBar(in lastBar);
            }
            else
            {
                slot.HasBar = false;
            }

            slot.HasTick = x.LastTick is not null;
            slot.LastTick = x.LastTick ?? default;
        }

        _orders.Restore(snapshot.Orders);
        _risk = snapshot.Risk ?? default;
        _clock.Observe(_eventTime);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool BeginMarketEvent(Timestamp time, InstrumentId instrument, out InstrumentSlot slot)
    {
        _errorInEvent = false;
        var found = FindSlot(instrument);
        if (found is null)
        {
            slot = null!;
            Notice(NoticeLevel.Error, "unknown_instrument", $"market data for {instrument}, which is not registered with this run, was ignored");
            EndEvent();
            return false;
        }

        if (_sliceOpen && time != _sliceTime)
        {
            if (time < _sliceTime)
            {
                slot = found;
                Notice(NoticeLevel.Error, "out_of_order", $"market data for {instrument} at {time} arrived after {_sliceTime} and was ignored");
                EndEvent();
                return false;
            }

            CloseSlice();
        }

        _sliceTime = time;
        _sliceOpen = true;
        _eventTime = time;
        _clock.Observe(time);
        slot = found;
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private InstrumentSlot? FindSlot(InstrumentId instrument) => _slots.Find(instrument);

    private void EndEvent()
    {
        if (!_errorInEvent)
        {
            _breaker.RecordSuccess();
        }

        _errorInEvent = false;
    }

    private void Drain()
    {
        while (_pending.TryDequeue(out var p))
        {
            _bus.Publish(new OrderUpdate(p.Order, p.Event), ++Sequence);
            if (p.Effect is FillEffect effect)
            {
                var fill = (OrderFilled)p.Event;
                _bus.Publish(new FillBooked(fill, effect, _portfolio.GetPosition(fill.Instrument)!, p.Order), ++Sequence);
            }

            if (State is KernelState.Running or KernelState.Paused)
            {
                try
                {
                    _strategy.OnOrderEvent(p.Event, this, _intents);
                }
                catch (Exception ex)
                {
                    StrategyFailed("OnOrderEvent", ex);
                }

                ProcessIntents();
            }
        }
    }

    private void Guard(Action<IStrategyHost, TradingKernel> call)
    {
        try
        {
            call(_strategy, this);
        }
        catch (Exception ex)
        {
            StrategyFailed("lifecycle hook", ex);
        }

        ProcessIntents();
    }

    private void StrategyFailed(string where, Exception ex)
    {
        _intents.Clear();
        Notice(NoticeLevel.Error, "strategy_failed", $"strategy {_strategy.Name} threw in {where} at {_eventTime}: {ex.GetType().Name}: {ex.Message}");
    }

    private void Transition(KernelState from, KernelState to)
    {
        if (State != from)
        {
            throw new InvalidOperationException($"the kernel cannot go to {to} from {State}; it must be {from}");
        }

        State = to;
        _bus.Publish(new KernelStateChanged(from, to, _eventTime), ++Sequence);
    }

    private void Notice(NoticeLevel level, string code, string message)
    {
        if (level == NoticeLevel.Error)
        {
            ErrorCount++;
            _errorInEvent = true;
        }
        else if (level == NoticeLevel.Warning)
        {
            WarningCount++;
        }

        if (_inNotice)
        {
            return;
        }

        _inNotice = true;
        try
        {
            _bus.Publish(new KernelNotice(level, code, message, _eventTime), ++Sequence);
            if (level == NoticeLevel.Error && _breaker.RecordError())
            {
                _bus.Publish(
                    new KernelNotice(NoticeLevel.Error, "circuit_breaker_open", $"circuit breaker opened after {_breaker.Threshold} consecutive errors; new orders are denied", _eventTime),
                    ++Sequence);
            }
        }
        finally
        {
            _inNotice = false;
        }
    }

    private void ProcessIntents()
    {
        int count = _intents.Count;
        for (int i = 0; i < count; i++)
        {
            var intent = _intents[i];
            try
            {
                switch (intent.Kind)
                {
                    case IntentKind.Signal:
                        ProcessSignal(intent);
                        break;
                    case IntentKind.Submit:
                        SubmitSingle(intent.Id, intent.Request);
                        break;
                    case IntentKind.Bracket:
                        SubmitBracket(intent);
                        break;
                    case IntentKind.Oco:
                        SubmitOco(intent);
                        break;
                    case IntentKind.Cancel:
                        CancelOrder(intent.Id);
                        break;
                    case IntentKind.Replace:
                        ReplaceOrder(intent);
                        break;
                    case IntentKind.Note:
                        Notice(intent.Warning ? NoticeLevel.Warning : NoticeLevel.Info, "strategy." + intent.Tag, intent.Message ?? string.Empty);
                        break;
                }
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or KeyNotFoundException)
            {
                Notice(NoticeLevel.Error, "intent_failed", $"strategy {_strategy.Name}: {ex.Message}");
            }
        }

        _intents.Clear();
    }

    private void ProcessSignal(in Intent intent)
    {
        var instrument = intent.Instrument;
        OrderRequest request;
        switch (intent.Action)
        {
            case SignalAction.OpenLong:
            case SignalAction.OpenShort:
                if (!intent.Quantity.IsPositive)
                {
                    Notice(NoticeLevel.Error, "bad_signal", $"{intent.Action} for {instrument} needs a positive quantity; it was {intent.Quantity}");
                    return;
                }

                var quantity = intent.Quantity;
                if (!_options.Sizing.IsStake && !TrySize(instrument, null, null, out quantity))
                {
                    return;
                }

                request = OrderRequest.Market(instrument, intent.Action == SignalAction.OpenLong ? OrderSide.Buy : OrderSide.Sell, quantity, intent.Tag);
                break;
            case SignalAction.CloseLong:
            case SignalAction.CloseShort:
                {
                    bool closeLong = intent.Action == SignalAction.CloseLong;
                    var held = _portfolio.PositionQuantity(instrument);
                    var side = closeLong ? OrderSide.Sell : OrderSide.Buy;
                    var toClose = (closeLong ? held : -held) - _orders.WorkingQuantity(instrument, side);
                    if (!toClose.IsPositive)
                    {
                        Notice(NoticeLevel.Info, "signal_ignored", $"{intent.Action} for {instrument} ignored: nothing left to close (position {held})");
                        return;
                    }

                    request = OrderRequest.Market(instrument, side, toClose, intent.Tag);
                    break;
                }

            default:
                Notice(NoticeLevel.Error, "bad_signal", $"unknown signal action {(int)intent.Action}");
                return;
        }

        SubmitSingle(_orders.NextId(), request);
    }

    /// <summary>
    /// Sizes an opening order by the run's <see cref="KernelOptions.Sizing"/>, at its limit price or the instrument's
    /// reference price; false (with a warning saying why) when it comes out below one lot, and then nothing is placed.
    /// </summary>
    private bool TrySize(InstrumentId instrument, Price? limit, Price? stop, out Quantity quantity)
    {
        var slot = FindSlot(instrument);
        if (slot is null)
        {
            quantity = default;
            Notice(NoticeLevel.Error, "invalid_order", $"instrument {instrument} is not registered with this run");
            return false;
        }

        quantity = _options.Sizing.Size(slot.Instrument, limit ?? slot.ReferencePrice, stop, _portfolio.Equity, _portfolio.BuyingPower, out var problem);
        if (problem is not null)
        {
            Notice(_options.Sizing.Mode == SizingMode.Risk && stop is null ? NoticeLevel.Error : NoticeLevel.Warning, "order_not_sized", $"{_strategy.Name}'s order on {instrument} was not placed: {problem}");
            return false;
        }

        return true;
    }

    private Order? CreateOrder(ClientOrderId id, in OrderRequest request, ContingencyType contingency = ContingencyType.None, ClientOrderId? parent = null)
    {
        string? problem = request.Validate();
        if (problem is null && FindSlot(request.Instrument) is null)
        {
            problem = $"instrument {request.Instrument} is not registered with this run";
        }

        if (problem is not null)
        {
            _lastInvalid = problem;
            Notice(NoticeLevel.Error, "invalid_order", $"order {id} from strategy {_strategy.Name} is invalid: {problem}");
            return null;
        }

        return _orders.Create(id, request, _eventTime, contingency, parent);
    }

    private string? CheckRisk(Order order)
    {
        if (_breaker.IsOpen)
        {
            return _haltReason is not null ? $"circuit breaker is open: halted ({_haltReason})"
                : _breaker.ConsecutiveErrors >= _breaker.Threshold ? $"circuit breaker is open after {_breaker.ConsecutiveErrors} consecutive errors"
                : "circuit breaker is open (halted)";
        }

        var request = new OrderRequest(order.Instrument, order.Side, order.Type, order.Quantity, order.LimitPrice, order.StopPrice, order.TimeInForce);
        var slot = FindSlot(order.Instrument)!;
        var position = _portfolio.PositionQuantity(order.Instrument);
        var decision = RiskGate.Evaluate(request, position, _orders.Exposure(order.Instrument), slot.ReferencePrice, _options.Risk);
        if (!decision.Approved || !_riskRules)
        {
            return decision.Reason;
        }

        ObserveRisk();
        var held = _portfolio.GetPosition(order.Instrument);
        var account = new RiskAccount(_portfolio.Equity, _portfolio.GrossExposure, held is null ? Money.Zero : Money.Abs(held.MarketValue));
        decision = RiskRules.Evaluate(request, position, slot.ReferencePrice, account, _eventTime, _options.Risk, _risk, out _risk);
        return decision.Reason;
    }

    /// <summary>Brings the risk state up to date with the equity now; a change of state is journaled as a notice.</summary>
    private void ObserveRisk()
    {
        _risk = RiskRules.Observe(_risk, _portfolio.Equity, _eventTime, _options.Risk, out var transition);
        if (transition is RiskTransition t)
        {
            Notice(
                t.To == RiskMode.Active ? NoticeLevel.Info : NoticeLevel.Warning,
                "risk_state",
                $"risk state {t.From.ToString().ToUpperInvariant()} -> {t.To.ToString().ToUpperInvariant()}: {t.Reason}");
        }
    }

    private void Deny(Order order, string reason) =>
        OnOrderEvent(new OrderDenied(order.Id, reason, _eventTime, _clock.Now));

    private void MarkSubmitted(Order order) =>
        OnOrderEvent(new OrderSubmitted(order.Id, _eventTime, _clock.Now));

    private void SubmitSingle(ClientOrderId id, in OrderRequest request)
    {
        var order = CreateOrder(id, request);
        if (order is null)
        {
            return;
        }

        string? denied = CheckRisk(order);
        if (denied is not null)
        {
            Deny(order, denied);
            return;
        }

        var command = SubmitOrder.From(order, _clock.Now);
        if (_brokerage?.Validate(command, Context(order)) is { } rejection)
        {
            RejectBeforeSending(order, rejection);
            return;
        }

        // The submitted event is published (and journaled) before the venue sees the command.
        MarkSubmitted(order);
        _venue.Submit(command);
    }

    private BrokerageContext Context(Order order)
    {
        var slot = FindSlot(order.Instrument)!;
        return new(slot.Instrument, slot.ReferencePrice, _eventTime);
    }

    /// <summary>
    /// The brokerage model refused the order: it is rejected with the venue's message, as if the venue had answered
    /// (an error notice, as for a venue's rejection), and never sent.
    /// </summary>
    private void RejectBeforeSending(Order order, BrokerageRejection rejection)
    {
        var rejected = new OrderRejected(order.Id, rejection.Message, _eventTime, _clock.Now);
        order.Apply(rejected);
        Notice(NoticeLevel.Error, "order_rejected", $"order {order.Id} rejected by the {_brokerage!.Name} brokerage model before sending ({rejection.Code}): {rejection.Message}");
        _orders.Updated(order);
        _pending.Enqueue(new PendingNotification(rejected, order, null));
    }

    private bool RejectListBeforeSending(SubmitOrderList list, Order[] orders)
    {
        if (_brokerage?.ValidateList(list, Context(orders[0])) is not { } rejection)
        {
            return false;
        }

        foreach (var o in orders)
        {
            RejectBeforeSending(o, rejection);
        }

        return true;
    }

    private void SubmitBracket(in Intent intent)
    {
        var entryRequest = intent.Request;
        var exitSide = entryRequest.Side.Opposite();
        var stop = intent.Price1!.Value;
        if (!_options.Sizing.IsStake)
        {
            if (!TrySize(entryRequest.Instrument, entryRequest.LimitPrice, stop, out var sized))
            {
                return;
            }

            entryRequest = entryRequest with { Quantity = sized };
        }

        var take = intent.Price2!.Value;
        var slRequest = intent.Price3 is Price slLimit
            ? OrderRequest.StopLimit(entryRequest.Instrument, exitSide, entryRequest.Quantity, stop, slLimit, _options.BracketExitTimeInForce, "stop_loss")
            : OrderRequest.Stop(entryRequest.Instrument, exitSide, entryRequest.Quantity, stop, _options.BracketExitTimeInForce, "stop_loss");
        var tpRequest = OrderRequest.Limit(entryRequest.Instrument, exitSide, entryRequest.Quantity, take, _options.BracketExitTimeInForce, "take_profit");

        var entry = CreateOrder(intent.Id, entryRequest, ContingencyType.Oto);
        var sl = CreateOrder(intent.Id2, slRequest, ContingencyType.Oco, intent.Id);
        var tp = CreateOrder(intent.Id3, tpRequest, ContingencyType.Oco, intent.Id);
        if (entry is null || sl is null || tp is null)
        {
            foreach (var o in new[] { entry, sl, tp })
            {
                if (o is not null)
                {
                    Deny(o, "bracket has an invalid leg");
                }
            }

            return;
        }

        Order.LinkGroup(entry, [sl, tp]);
        Order.LinkGroup(sl, [tp]);
        Order.LinkGroup(tp, [sl]);

        string? problem = entryRequest.Side == OrderSide.Buy
            ? (stop >= take ? $"a buy bracket needs stop-loss {stop} below take-profit {take}" : null)
            : (stop <= take ? $"a sell bracket needs stop-loss {stop} above take-profit {take}" : null);
        problem ??= entryRequest.LimitPrice is Price entryLimit && (entryRequest.Side == OrderSide.Buy ? (stop >= entryLimit || take <= entryLimit) : (stop <= entryLimit || take >= entryLimit))
            ? $"bracket exits (stop-loss {stop}, take-profit {take}) must lie on either side of the entry limit {entryLimit}"
            : null;
        problem ??= CheckRisk(entry);
        if (problem is not null)
        {
            Deny(entry, problem);
            Deny(sl, $"entry {entry.Id} was denied");
            Deny(tp, $"entry {entry.Id} was denied");
            return;
        }

        var now = _clock.Now;
        var list = new SubmitOrderList([SubmitOrder.From(entry, now), SubmitOrder.From(sl, now), SubmitOrder.From(tp, now)], now);
        if (_brokerage is not null && RejectListBeforeSending(list, [entry, sl, tp]))
        {
            return;
        }

        MarkSubmitted(entry);
        MarkSubmitted(sl);
        MarkSubmitted(tp);
        _venue.SubmitList(list);
    }

    private void SubmitOco(in Intent intent)
    {
        var a = CreateOrder(intent.Id, intent.Request, ContingencyType.Oco);
        var b = CreateOrder(intent.Id2, intent.Second, ContingencyType.Oco);
        if (a is null || b is null)
        {
            if (a is not null)
            {
                Deny(a, "the other order of the OCO pair is invalid");
            }

            if (b is not null)
            {
                Deny(b, "the other order of the OCO pair is invalid");
            }

            return;
        }

        Order.LinkGroup(a, [b]);
        Order.LinkGroup(b, [a]);
        string? problem = a.Instrument != b.Instrument ? "both orders of an OCO pair must be in the same instrument" : null;
        problem ??= CheckRisk(a) ?? CheckRisk(b);
        if (problem is not null)
        {
            Deny(a, problem);
            Deny(b, problem);
            return;
        }

        var now = _clock.Now;
        var list = new SubmitOrderList([SubmitOrder.From(a, now), SubmitOrder.From(b, now)], now);
        if (_brokerage is not null && RejectListBeforeSending(list, [a, b]))
        {
            return;
        }

        MarkSubmitted(a);
        MarkSubmitted(b);
        _venue.SubmitList(list);
    }

    private void CancelOrder(ClientOrderId id)
    {
        var order = _orders.Find(id);
        if (order is null || order.IsComplete)
        {
            Notice(NoticeLevel.Warning, "cancel_ignored", $"cancel of order {id} ignored: it is {(order is null ? "unknown" : order.Status.ToText())}");
            return;
        }

        if (order.Status == OrderStatus.PendingCancel)
        {
            return;
        }

        OnOrderEvent(new OrderPendingCancel(order.Id, _eventTime, _clock.Now));
        _venue.Cancel(new CancelOrder(order.Id, order.Instrument, _clock.Now));
    }

    private void ReplaceOrder(in Intent intent)
    {
        var old = _orders.Find(intent.Id);
        if (old is null || !old.IsWorking || old.Status == OrderStatus.PendingCancel)
        {
            Notice(NoticeLevel.Warning, "replace_ignored", $"replace of order {intent.Id} ignored: it is {(old is null ? "unknown" : old.Status.ToText())}");
            return;
        }

        if (old.Contingency != ContingencyType.None)
        {
            Notice(NoticeLevel.Error, "replace_unsupported", $"order {old.Id} belongs to a contingent group; cancel it and submit a new group instead of replacing it");
            return;
        }

        // Like a broker's replace: the new quantity is the order's total; the replacement carries what is left of it.
        var total = intent.Quantity.IsPositive ? intent.Quantity : old.Quantity;
        if (total <= old.FilledQuantity)
        {
            Notice(NoticeLevel.Error, "replace_invalid", $"replacement quantity {total} of order {old.Id} is not above its filled quantity {old.FilledQuantity}");
            return;
        }

        var request = new OrderRequest(old.Instrument, old.Side, old.Type, total - old.FilledQuantity, intent.Price1 ?? old.LimitPrice, intent.Price2 ?? old.StopPrice, old.TimeInForce, old.Tag);

        var replacement = CreateOrder(intent.Id2, request);
        if (replacement is null)
        {
            return;
        }

        string? denied = CheckRisk(replacement);
        if (denied is not null)
        {
            Deny(replacement, denied);
            return;
        }

        var terms = SubmitOrder.From(replacement, _clock.Now);
        if (_brokerage?.Validate(terms, Context(replacement)) is { } rejection)
        {
            RejectBeforeSending(replacement, rejection);
            return;
        }

        MarkSubmitted(replacement);
        _venue.Replace(new ReplaceOrder(old.Id, terms, _clock.Now));
    }

    private sealed class InstrumentSlot(Instrument instrument)
    {
        public Instrument Instrument { get; } = instrument;

        // The last bar's numbers, without its instrument (always this slot's): storing them on every bar is then a plain
        // copy, where a Bar, which holds a reference, is copied through the GC's write barrier and a `rep movsq`.
        private BarValues _bar;

        public Bar LastBar
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => new(Instrument.Id, _bar.Time, _bar.Open, _bar.High, _bar.Low, _bar.Close, _bar.Volume);
        }

        public bool HasBar { get; set; }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void SetBar(in Bar bar)
        {
            _bar = new BarValues(bar.Time, bar.Open, bar.High, bar.Low, bar.Close, bar.Volume);
            HasBar = true;
        }

        public Tick LastTick { get; set; }

        public bool HasTick { get; set; }

        public Price ReferencePrice { get; set; }
    }

    private readonly record struct BarValues(Timestamp Time, Price Open, Price High, Price Low, Price Close, Quantity Volume);

    private readonly record struct PendingNotification(OrderEvent Event, Order Order, FillEffect? Effect);
}

/// <summary>The state of a <see cref="TradingKernel"/> between events. <paramref name="Risk"/> is the enhanced risk gate's state, null while its rules are off (and in snapshots written before it existed).</summary>
public sealed record KernelSnapshot(
    long Sequence,
    KernelState State,
    Timestamp EventTime,
    Timestamp SliceTime,
    bool SliceOpen,
    long Errors,
    long Warnings,
    BreakerSnapshot Breaker,
    IReadOnlyList<InstrumentSnapshot> Instruments,
    OrderBookSnapshot Orders,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] RiskState? Risk = null);

/// <summary>The state of the kernel's circuit breaker.</summary>
public sealed record BreakerSnapshot(int ConsecutiveErrors, bool IsOpen, long TotalErrors);

/// <summary>What the kernel last saw of one instrument (null: nothing of that kind yet).</summary>
public sealed record InstrumentSnapshot(InstrumentId Instrument, Price ReferencePrice, Bar? LastBar, Tick? LastTick);
