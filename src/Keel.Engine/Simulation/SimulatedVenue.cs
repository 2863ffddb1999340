using System.Globalization;
using Keel.Domain;
using Keel.Domain.Events;
using Keel.Domain.Orders;
using Keel.Domain.Portfolio;
using Keel.Engine.Ports;

namespace Keel.Engine.Simulation;

/// <summary>
/// The simulated exchange behind the asynchronous venue port, with an account of its own: what a paper venue in
/// another process looks like to an execution client. Market data drives it (<see cref="OnTick"/>, <see cref="OnBar"/>);
/// requests, queries and fills happen under one lock, and order events reach the connected sink in the order they
/// happened. A submit that the account's buying power cannot cover at the last price is refused as insufficient
/// funds before it rests, as a broker does; everything else is the <see cref="SimulatedExchange"/>'s matching.
/// </summary>
/// <remarks>The backtest and paper wirings drive a <see cref="SimulatedExchange"/> directly on the kernel thread; this
/// class is the same exchange for hosts and tests that speak the port (the venue contract suite runs on it).</remarks>
public sealed class SimulatedVenue : IVenuePort, IOrderEventSink
{
    private readonly Lock _gate = new();
    private readonly SimulatedExchange _exchange;
    private readonly Portfolio _account;
    private readonly string _currency;
    private readonly Dictionary<ClientOrderId, Entry> _orders = [];
    private readonly Dictionary<VenueOrderId, Entry> _byVenueId = [];
    private readonly List<VenueFill> _fills = [];
    private readonly Dictionary<InstrumentId, Price> _last = [];
    private readonly Dictionary<InstrumentId, Tick> _lastTick = [];
    private readonly List<OrderEvent> _emitted = [];
    private IOrderEventSink? _sink;
    private Timestamp _now;

    /// <param name="instruments">What the venue trades.</param>
    /// <param name="cash">The account's starting cash.</param>
    /// <param name="options">Matching options; ticks fill at most their size unless the options say otherwise.</param>
    /// <param name="currency">The account currency.</param>
    public SimulatedVenue(IEnumerable<Instrument> instruments, Money cash, SimulatedExchangeOptions? options = null, string currency = "USD")
    {
        _account = new Portfolio(cash);
        _currency = currency;
        _exchange = new SimulatedExchange(options ?? new SimulatedExchangeOptions { FillAtMostTickSize = true }, instruments, _account);
        _exchange.Connect(this);
    }

    public string Name => "simulated";

    /// <summary>A new quote or trade: marks the account and matches working orders on it.</summary>
    public void OnTick(in Tick tick)
    {
        lock (_gate)
        {
            _now = tick.Time;
            _last[tick.Instrument] = tick.Mark;
            _lastTick[tick.Instrument] = tick;
            _exchange.OnTick(in tick);
            _account.Mark(tick.Instrument, tick.Mark);
            Deliver();
        }
    }

    /// <summary>A new bar: matches working orders along its path and marks the account at its close.</summary>
    public void OnBar(in Bar bar)
    {
        lock (_gate)
        {
            _now = bar.Time;
            _last[bar.Instrument] = bar.Close;
            _lastTick.Remove(bar.Instrument);
            _exchange.OnBar(in bar);
            _exchange.OnBarClosed(in bar);
            _account.Mark(bar.Instrument, bar.Close);
            Deliver();
        }
    }

    public Task ConnectAsync(IOrderEventSink sink, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(sink);
        lock (_gate)
        {
            _sink = sink;
        }

        return Task.CompletedTask;
    }

    public Task DisconnectAsync(CancellationToken ct = default)
    {
        lock (_gate)
        {
            _sink = null;
        }

        return Task.CompletedTask;
    }

    public Task<VenueOutcome> SubmitAsync(SubmitOrder order, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(order);
        ct.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (Unaffordable(order) is { } refused)
            {
                return Task.FromResult(refused);
            }

            Track(order, null);
            _exchange.Submit(order);
            MatchNow(order.Instrument);
            var outcome = Answer(order.ClientOrderId);
            Deliver();
            return Task.FromResult(outcome);
        }
    }

    public Task<VenueOutcome> SubmitListAsync(SubmitOrderList list, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(list);
        ct.ThrowIfCancellationRequested();
        if (list.Orders.Count == 0)
        {
            return Task.FromResult(VenueOutcome.Rejected("an order list needs at least one order"));
        }

        lock (_gate)
        {
            // Only the entry opens exposure; its exits close what it opens.
            var head = list.Orders[0];
            if (head.ParentId is null && Unaffordable(head) is { } refused)
            {
                return Task.FromResult(refused);
            }

            foreach (var o in list.Orders)
            {
                Track(o, o.ParentId is { } p && _orders.TryGetValue(p, out var parent) ? parent.VenueId : null);
            }

            _exchange.SubmitList(list);
            MatchNow(head.Instrument);
            var outcome = Answer(head.ClientOrderId);
            foreach (var o in list.Orders)
            {
                var leg = Answer(o.ClientOrderId);
                if (outcome.IsAccepted && !leg.IsAccepted)
                {
                    outcome = leg;
                }
            }

            Deliver();
            return Task.FromResult(outcome);
        }
    }

    public Task<VenueOutcome> CancelAsync(CancelOrder cancel, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(cancel);
        ct.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (!_orders.TryGetValue(cancel.ClientOrderId, out var entry))
            {
                return Task.FromResult(VenueOutcome.Rejected($"order {cancel.ClientOrderId} is not known here", "order_not_found"));
            }

            int before = _emitted.Count;
            _exchange.Cancel(cancel);

            // A refused cancel is the request's answer, not an event of the order (venues answer it, they do not stream it).
            var refused = _emitted.Skip(before).OfType<OrderCancelRejected>().FirstOrDefault(e => e.ClientOrderId == cancel.ClientOrderId);
            _emitted.RemoveAll(e => e is OrderCancelRejected);
            Deliver();
            return Task.FromResult(refused is null ? VenueOutcome.Accepted(entry.VenueId) : VenueOutcome.Rejected(refused.Reason, "order_not_cancelable"));
        }
    }

    public Task<VenueOutcome> ReplaceAsync(ReplaceOrder replace, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(replace);
        ct.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (!_orders.TryGetValue(replace.ClientOrderId, out var old) || !old.Open)
            {
                return Task.FromResult(VenueOutcome.Rejected($"order {replace.ClientOrderId} to replace is no longer working", "order_not_replaceable"));
            }

            Track(replace.Replacement, old.ParentVenueId);
            _exchange.Replace(replace);
            MatchNow(replace.Replacement.Instrument);
            var outcome = Answer(replace.Replacement.ClientOrderId);
            Deliver();
            return Task.FromResult(outcome);
        }
    }

    public Task<VenueOrder?> GetOrderAsync(ClientOrderId clientOrderId, CancellationToken ct = default)
    {
        lock (_gate)
        {
            return Task.FromResult(_orders.TryGetValue(clientOrderId, out var e) && e.VenueId is not null ? e.View(_orders) : null);
        }
    }

    public Task<VenueOrder?> GetOrderByVenueIdAsync(VenueOrderId venueOrderId, CancellationToken ct = default)
    {
        lock (_gate)
        {
            return Task.FromResult(_byVenueId.TryGetValue(venueOrderId, out var e) ? e.View(_orders) : null);
        }
    }

    public Task<IReadOnlyList<VenueOrder>> GetOpenOrdersAsync(CancellationToken ct = default)
    {
        lock (_gate)
        {
            IReadOnlyList<VenueOrder> open = [.. _orders.Values.Where(e => e.VenueId is not null && e.Open).OrderBy(e => e.Arrival).Select(e => e.View(_orders))];
            return Task.FromResult(open);
        }
    }

    public Task<VenueFillPage> GetFillsSinceAsync(VenueWatermark? since, CancellationToken ct = default)
    {
        lock (_gate)
        {
            int from = since is { } w ? int.Parse(w.Value, NumberStyles.None, CultureInfo.InvariantCulture) : 0;
            if (from < 0 || from > _fills.Count)
            {
                throw new VenueQueryException($"watermark {since} is not one this venue gave");
            }

            IReadOnlyList<VenueFill> page = [.. _fills.Skip(from)];
            return Task.FromResult(new VenueFillPage(page, new VenueWatermark(_fills.Count.ToString(CultureInfo.InvariantCulture))));
        }
    }

    public Task<IReadOnlyList<VenuePosition>> GetPositionsAsync(CancellationToken ct = default)
    {
        lock (_gate)
        {
            IReadOnlyList<VenuePosition> positions = [.. _account.Positions.Where(p => !p.Quantity.IsZero).OrderBy(p => p.Instrument.Symbol, StringComparer.Ordinal).Select(p => new VenuePosition(p.Instrument, p.Quantity, p.AverageEntryPrice!.Value))];
            return Task.FromResult(positions);
        }
    }

    public Task<VenueAccount> GetAccountAsync(CancellationToken ct = default)
    {
        lock (_gate)
        {
            return Task.FromResult(new VenueAccount(_currency, _account.Cash, _account.BuyingPower, _account.Equity));
        }
    }

    public ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            _sink = null;
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Called by the exchange under the lock: updates the venue's records and queues the event for the sink.</summary>
    void IOrderEventSink.OnOrderEvent(OrderEvent orderEvent)
    {
        _emitted.Add(orderEvent);
        if (!_orders.TryGetValue(orderEvent.ClientOrderId, out var e))
        {
            return;
        }

        e.UpdatedAt = orderEvent.TsEvent;
        switch (orderEvent)
        {
            case OrderAccepted a:
                e.VenueId = a.VenueOrderId;
                e.Status = OrderStatus.Accepted;
                _byVenueId[a.VenueOrderId] = e;
                break;
            case OrderFilled f:
                _account.ApplyFill(f.Instrument, f.Side, f.LastQty, f.LastPx, f.Commission);
                e.Notional += f.LastPx * f.LastQty;
                e.Filled += f.LastQty;
                e.Status = e.Filled >= e.Order.Quantity ? OrderStatus.Filled : OrderStatus.PartiallyFilled;
                _fills.Add(new VenueFill(f.TradeId, f.ClientOrderId, f.VenueOrderId, f.Instrument, f.Side, f.LastQty, f.LastPx, f.Commission, f.TsEvent));
                break;
            case OrderCanceled:
                e.Status = OrderStatus.Canceled;
                break;
            case OrderExpired:
                e.Status = OrderStatus.Expired;
                break;
            case OrderRejected:
                e.Status = OrderStatus.Rejected;
                break;
            case OrderReplaced r:
                e.Status = OrderStatus.Replaced;
                e.ReplacedBy = r.ReplacedBy;
                break;
        }
    }

    private VenueOutcome? Unaffordable(SubmitOrder order)
    {
        if (!_last.TryGetValue(order.Instrument, out var last))
        {
            return null;
        }

        var position = _account.PositionQuantity(order.Instrument);
        var signed = order.Side == OrderSide.Buy ? order.Quantity : -order.Quantity;
        var opening = position.IsZero || position.Sign == signed.Sign ? order.Quantity : Quantity.Max(Quantity.Zero, order.Quantity - position.Abs());
        if (!opening.IsPositive)
        {
            return null;
        }

        var price = order.LimitPrice ?? order.StopPrice ?? last;
        var required = price * opening;
        var power = _account.BuyingPower;
        return required > power
            ? VenueOutcome.InsufficientFunds($"insufficient buying power: the order needs {required.ToFixed(2)}, the account has {power.ToFixed(2)}", "insufficient_funds")
            : null;
    }

    /// <summary>
    /// A venue matches an order on arrival against the market as it stands: the last quote is shown to the exchange
    /// again, so a market order fills at once at the current ask or bid (the exchange alone waits for the next tick).
    /// </summary>
    private void MatchNow(InstrumentId instrument)
    {
        if (_lastTick.TryGetValue(instrument, out var tick))
        {
            _exchange.OnTick(in tick);
        }
    }

    private void Track(SubmitOrder order, VenueOrderId? parent)
    {
        if (!_orders.ContainsKey(order.ClientOrderId))
        {
            _orders.Add(order.ClientOrderId, new Entry(order, _orders.Count, _now) { ParentVenueId = parent });
        }
    }

    /// <summary>What the events the current request produced say about <paramref name="id"/>.</summary>
    private VenueOutcome Answer(ClientOrderId id)
    {
        VenueOutcome outcome = VenueOutcome.Unknown($"the simulated exchange said nothing about {id}");
        foreach (var e in _emitted)
        {
            if (e.ClientOrderId != id)
            {
                continue;
            }

            if (e is OrderAccepted a)
            {
                outcome = VenueOutcome.Accepted(a.VenueOrderId);
                break;
            }

            if (e is OrderRejected r)
            {
                outcome = r.Reason.StartsWith("insufficient buying power", StringComparison.Ordinal)
                    ? VenueOutcome.InsufficientFunds(r.Reason, "insufficient_funds")
                    : VenueOutcome.Rejected(r.Reason, "rejected");
                break;
            }
        }

        return outcome;
    }

    private void Deliver()
    {
        if (_emitted.Count == 0)
        {
            return;
        }

        var sink = _sink;
        if (sink is not null)
        {
            foreach (var e in _emitted)
            {
                sink.OnOrderEvent(e);
            }
        }

        _emitted.Clear();
    }

    private sealed class Entry(SubmitOrder order, long arrival, Timestamp createdAt)
    {
        public SubmitOrder Order { get; } = order;

        public long Arrival { get; } = arrival;

        public VenueOrderId? VenueId { get; set; }

        public VenueOrderId? ParentVenueId { get; set; }

        public OrderStatus Status { get; set; } = OrderStatus.Submitted;

        public Quantity Filled { get; set; }

        /// <summary>Σ price × quantity of the fills: the average price is this over <see cref="Filled"/>.</summary>
        public Money Notional { get; set; }

        public ClientOrderId? ReplacedBy { get; set; }

        public Timestamp CreatedAt { get; } = createdAt;

        public Timestamp UpdatedAt { get; set; } = createdAt;

        public bool Open => Status is OrderStatus.Submitted or OrderStatus.Accepted or OrderStatus.PartiallyFilled or OrderStatus.PendingCancel;

        public VenueOrder View(Dictionary<ClientOrderId, Entry> all) => new(
            Order.ClientOrderId, VenueId!.Value, Order.Instrument, Order.Side, Order.Type, Order.Quantity, Filled,
            Filled.IsZero ? null : Notional.DivideToPrice(Filled), Order.LimitPrice, Order.StopPrice, Order.TimeInForce, Status,
            CreatedAt, UpdatedAt, ReplacedBy is { } r && all.TryGetValue(r, out var next) ? next.VenueId : null, ParentVenueId);
    }
}
