using System.Runtime.CompilerServices;
using Keel.Domain;
using Keel.Domain.Events;
using Keel.Domain.Orders;
using Keel.Domain.Portfolio;
using Keel.Engine.Persistence;
using Keel.Engine.Ports;

namespace Keel.Engine.Simulation;

/// <summary>When market orders fill.</summary>
public enum MarketFillTiming
{
    /// <summary>At the open of the bar after the one the order was placed on (no look-ahead; the default).</summary>
    NextBarOpen = 1,

    /// <summary>
    /// At the close of the bar the order was placed on ("cheat on close"); an order placed on a tick fills at that tick's
    /// price (the ask for a buy, the bid for a sell), as a venue answering at once would fill it.
    /// </summary>
    SignalBarClose = 2,
}

public sealed record SimulatedExchangeOptions
{
    public MarketFillTiming MarketFill { get; init; } = MarketFillTiming.NextBarOpen;

    public ICommissionModel Commission { get; init; } = NoCommission.Instance;

    public ISlippageModel Slippage { get; init; } = NoSlippage.Instance;

    /// <summary>If set, at most this fraction of a bar's volume fills per bar (summed over orders); the rest waits for later bars.</summary>
    public decimal? VolumeParticipation { get; init; }

    /// <summary>Reject a fill that would open more exposure than the account's buying power.</summary>
    public bool CheckBuyingPower { get; init; } = true;

    /// <summary>
    /// A tick fills at most the size it shows: a buy at most the ask size, a sell at most the bid size, and all orders
    /// together at most a trade tick's size; the rest waits for later ticks (a partial fill). A size of zero means
    /// unknown and does not limit. Off by default: a tick then fills every order that can fill on it completely.
    /// </summary>
    public bool FillAtMostTickSize { get; init; }
}

/// <summary>
/// A deterministic exchange that fills orders against bars and ticks.
/// <para>Bars: price moves along the path open → nearer extreme → farther extreme → close (high first when both are
/// equally far from the open). An order fills at the first point of the path where it can: a market order at the
/// open; a limit at its price, or at the open when the bar gaps through it; a stop at its price (plus slippage), or
/// at the open on a gap; a stop-limit becomes a limit where its stop is reached. Orders touched earlier on the path
/// fill first, so when both exits of a bracket lie inside one bar, the one the path reaches first fills and the
/// other is cancelled. Exit legs released by an entry fill can fill later on the same bar's path.</para>
/// <para>Ticks: buys fill at the ask, sells at the bid (last price for trade ticks).</para>
/// </summary>
public sealed class SimulatedExchange : IExecutionVenue, IMarketDataConsumer, ISnapshotable<ExchangeSnapshot>
{
    private const int Segments = 3;
    private readonly SimulatedExchangeOptions _options;
    private readonly IPortfolioView _account;
    private readonly InstrumentMap<Book> _books = new();
    private const int SpareOrders = 64;

    private readonly Dictionary<ClientOrderId, SimOrder> _orders = [];
    private readonly Stack<SimOrder> _spare = new(SpareOrders);
    private readonly long[] _path = new long[Segments + 1];
    private IOrderEventSink? _sink;
    private long _dataSeq;
    private long _arrivals;
    private long _venueIds;
    private long _tradeIds;
    private Timestamp _now;

    public SimulatedExchange(SimulatedExchangeOptions options, IEnumerable<Instrument> instruments, IPortfolioView account)
    {
        _options = options;
        _account = account;
        if (options.VolumeParticipation is decimal p && (p <= 0m || p > 1m))
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"volume participation was {p}; it must be above 0 and at most 1");
        }

        foreach (var i in instruments)
        {
            _books.Add(i.Id, new Book(i));
        }
    }

    public string Name => "simulated";

    public long FillCount { get; private set; }

    public ExchangeSnapshot Capture()
    {
        var orders = new List<WorkingOrderSnapshot>(_orders.Count);
        foreach (var book in _books.Values)
        {
            foreach (var o in book.Orders)
            {
                orders.Add(new WorkingOrderSnapshot(o.Command, o.VenueId, o.Arrival, o.Filled, o.Cap, o.Triggered, o.Held, o.EligibleAfter, o.Day, o.ReleasedAt));
            }
        }

        return new ExchangeSnapshot(_dataSeq, _arrivals, _venueIds, _tradeIds, FillCount, _now, orders);
    }

    public void Restore(ExchangeSnapshot snapshot)
    {
        _orders.Clear();
        foreach (var book in _books.Values)
        {
            book.Orders.Clear();
        }

        _dataSeq = snapshot.DataSeq;
        _arrivals = snapshot.Arrivals;
        _venueIds = snapshot.VenueIds;
        _tradeIds = snapshot.TradeIds;
        FillCount = snapshot.Fills;
        _now = snapshot.Now;
        foreach (var x in snapshot.Orders)
        {
            var command = x.Command;
            var book = FindBook(command.Instrument) ?? throw new SnapshotException($"the snapshot has a working order in {command.Instrument}, which this run does not trade");
            var o = new SimOrder(command, x.VenueId, x.Arrival)
            {
                Filled = x.Filled,
                Cap = x.Cap,
                Triggered = x.Triggered,
                Held = x.Held,
                EligibleAfter = x.EligibleAfter,
                Day = x.Day,
                ReleasedAt = x.ReleasedAt,
            };
            _orders.Add(command.ClientOrderId, o);
            book.Orders.Add(o);
        }
    }

    /// <summary>Where order events go (the kernel). Set once, before the first command.</summary>
    public void Connect(IOrderEventSink sink) => _sink = sink;

    public void Submit(SubmitOrder command) => Add(command, releaseHeld: false);

    public void SubmitList(SubmitOrderList command)
    {
        foreach (var c in command.Orders)
        {
            Add(c, releaseHeld: false);
        }
    }

    public void Cancel(CancelOrder command)
    {
        if (!_orders.TryGetValue(command.ClientOrderId, out var o))
        {
            Emit(new OrderCancelRejected(command.ClientOrderId, "order is not working at the venue (already filled, cancelled or unknown)", _now, _now));
            return;
        }

        CancelWithGroup(o, "cancelled by request");
    }

    public void Replace(ReplaceOrder command)
    {
        if (!_orders.TryGetValue(command.ClientOrderId, out var old))
        {
            Emit(new OrderRejected(command.Replacement.ClientOrderId, $"order {command.ClientOrderId} to replace is no longer working", _now, _now));
            return;
        }

        Remove(old);
        Emit(new OrderReplaced(old.Command.ClientOrderId, command.Replacement.ClientOrderId, _now, _now));
        Add(command.Replacement, releaseHeld: false);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void OnBar(in Bar bar)
    {
        _dataSeq++;
        _now = bar.Time;
        var book = FindBook(bar.Instrument);
        if (book is null || book.Orders.Count == 0)
        {
            return;
        }

        ExpireDayOrders(book, bar.Time);
        if (book.QuoteDriven)
        {
            return;
        }

        MatchBar(book, in bar);
        FinishImmediateOrders(book);
    }

    public void OnBarClosed(in Bar bar)
    {
        if (_options.MarketFill != MarketFillTiming.SignalBarClose)
        {
            return;
        }

        var book = FindBook(bar.Instrument);
        if (book is null || book.Orders.Count == 0 || book.QuoteDriven)
        {
            return;
        }

        // Market orders placed while this bar was processed fill at its close.
        for (int i = 0; i < book.Orders.Count; i++)
        {
            var o = book.Orders[i];
            if (o.Command.Type == OrderType.Market && !o.Held && o.EligibleAfter == _dataSeq)
            {
                long price = ClampToBar(_options.Slippage.Apply(o.Command.Side, bar.Close, book.Instrument).Raw, in bar);
                long available = long.MaxValue;
                if (TryFill(book, o, price, ref available))
                {
                    i = -1; // the list changed; rescan
                }
            }
        }
    }

    public void OnTickClosed(in Tick tick)
    {
        if (_options.MarketFill != MarketFillTiming.SignalBarClose)
        {
            return;
        }

        var book = FindBook(tick.Instrument);
        if (book is null || book.Orders.Count == 0)
        {
            return;
        }

        // Market orders placed while the strategy saw this tick fill at its price.
        for (int i = 0; i < book.Orders.Count; i++)
        {
            var o = book.Orders[i];
            if (o.Command.Type != OrderType.Market || o.Held || o.EligibleAfter != _dataSeq)
            {
                continue;
            }

            long px = tick.HasQuote ? (o.Command.Side == OrderSide.Buy ? tick.Ask.Raw : tick.Bid.Raw) : tick.Last.Raw;
            long available = long.MaxValue;
            if (px > 0 && TryFill(book, o, _options.Slippage.Apply(o.Command.Side, Price.FromRaw(px), book.Instrument).Raw, ref available))
            {
                i = -1; // the list changed; rescan
            }
        }
    }

    public void OnTick(in Tick tick)
    {
        _dataSeq++;
        _now = tick.Time;
        var book = FindBook(tick.Instrument);
        if (book is null)
        {
            return;
        }

        // From an instrument's first quote on, its orders fill on quotes only, not on bars (a candle strategy on a
        // live feed gets both).
        book.QuoteDriven |= tick.HasQuote;
        if (book.Orders.Count == 0)
        {
            return;
        }

        ExpireDayOrders(book, tick.Time);
        long buyAvailable = long.MaxValue, sellAvailable = long.MaxValue;
        bool oneSize = false;
        if (_options.FillAtMostTickSize)
        {
            if (tick.HasQuote)
            {
                buyAvailable = tick.AskSize.IsPositive ? tick.AskSize.Raw : long.MaxValue;
                sellAvailable = tick.BidSize.IsPositive ? tick.BidSize.Raw : long.MaxValue;
            }
            else if (tick.Size.IsPositive)
            {
                buyAvailable = tick.Size.Raw;
                oneSize = true;
            }
        }

        bool filled;
        do
        {
            filled = false;
            foreach (var o in book.Orders)
            {
                if (o.Held || o.EligibleAfter >= _dataSeq)
                {
                    continue;
                }

                var side = o.Command.Side;
                long px = tick.HasQuote ? (side == OrderSide.Buy ? tick.Ask.Raw : tick.Bid.Raw) : tick.Last.Raw;
                if (px <= 0)
                {
                    continue;
                }

                ref long available = ref side == OrderSide.Buy || oneSize ? ref buyAvailable : ref sellAvailable;
                if (available == 0)
                {
                    continue; // this side of the tick is used up
                }

                if (TickFillPrice(o, px, book.Instrument, out long fillPrice))
                {
                    TryFill(book, o, fillPrice, ref available);
                    filled = true;
                    break;
                }
            }
        }
        while (filled);

        FinishImmediateOrders(book);
    }

    private bool TickFillPrice(SimOrder o, long px, Instrument instrument, out long fillPrice)
    {
        var c = o.Command;
        bool buy = c.Side == OrderSide.Buy;
        fillPrice = px;
        switch (c.Type)
        {
            case OrderType.Market:
                fillPrice = _options.Slippage.Apply(c.Side, Price.FromRaw(px), instrument).Raw;
                return true;
            case OrderType.Limit:
                return buy ? px <= c.LimitPrice!.Value.Raw : px >= c.LimitPrice!.Value.Raw;
            case OrderType.Stop:
                if (buy ? px >= c.StopPrice!.Value.Raw : px <= c.StopPrice!.Value.Raw)
                {
                    fillPrice = _options.Slippage.Apply(c.Side, Price.FromRaw(px), instrument).Raw;
                    return true;
                }

                return false;
            default:
                if (!o.Triggered && (buy ? px >= c.StopPrice!.Value.Raw : px <= c.StopPrice!.Value.Raw))
                {
                    o.Triggered = true;
                }

                return o.Triggered && (buy ? px <= c.LimitPrice!.Value.Raw : px >= c.LimitPrice!.Value.Raw);
        }
    }

    private void MatchBar(Book book, in Bar bar)
    {
        var p = _path;
        p[0] = bar.Open.Raw;
        bool highFirst = bar.High.Raw - bar.Open.Raw <= bar.Open.Raw - bar.Low.Raw;
        p[1] = highFirst ? bar.High.Raw : bar.Low.Raw;
        p[2] = highFirst ? bar.Low.Raw : bar.High.Raw;
        p[3] = bar.Close.Raw;

        long available = long.MaxValue;
        if (_options.VolumeParticipation is decimal rate)
        {
            var cap = Quantity.From(bar.Volume.ToDecimal() * rate).TruncateTo(book.Instrument.LotSize);
            available = cap.Raw;
        }

        foreach (var o in book.Orders)
        {
            o.DoneThisBar = false;
            o.StartSeg = 0;
            o.StartPrice = p[0];
            o.Positioned = true;
        }

        int seg = 0;
        long cur = p[0];
        while (true)
        {
            SimOrder? best = null;
            Touch bestTouch = default;
            foreach (var o in book.Orders)
            {
                if (o.Held || o.DoneThisBar || o.EligibleAfter >= _dataSeq)
                {
                    continue;
                }

                if (FirstTouch(o, seg, cur, out var t) && (best is null || t.Before(bestTouch)))
                {
                    best = o;
                    bestTouch = t;
                }
            }

            if (best is null)
            {
                break;
            }

            seg = bestTouch.Seg;
            cur = bestTouch.Point;
            long price = bestTouch.Price;
            if (bestTouch.Slip)
            {
                price = ClampToBar(_options.Slippage.Apply(best.Command.Side, Price.FromRaw(price), book.Instrument).Raw, in bar);
                if (best.Command.Type == OrderType.StopLimit)
                {
                    long limit = best.Command.LimitPrice!.Value.Raw;
                    price = best.Command.Side == OrderSide.Buy ? Math.Min(price, limit) : Math.Max(price, limit);
                }
            }

            if (!TryFill(book, best, price, ref available))
            {
                best.DoneThisBar = true;
            }
            else if (_orders.ContainsKey(best.Command.ClientOrderId))
            {
                best.DoneThisBar = true; // partially filled: no volume left for it on this bar
            }

            // Children released by this fill start from the current point of the path.
            foreach (var o in book.Orders)
            {
                if (o.ReleasedAt == _dataSeq && !o.Positioned)
                {
                    o.StartSeg = seg;
                    o.StartPrice = cur;
                    o.Positioned = true;
                }
            }

            if (available <= 0)
            {
                break;
            }
        }

        // A stop-limit whose stop was reached on this bar stays triggered even if its limit did not fill.
        foreach (var o in book.Orders)
        {
            if (o.Command.Type == OrderType.StopLimit && !o.Triggered && !o.Held && o.EligibleAfter < _dataSeq)
            {
                bool buy = o.Command.Side == OrderSide.Buy;
                if (Reach(!buy, o.Command.StopPrice!.Value.Raw, o.StartSeg, o.StartPrice, out _))
                {
                    o.Triggered = true;
                }
            }
        }
    }

    private static long ClampToBar(long price, in Bar bar) => Math.Clamp(price, bar.Low.Raw, bar.High.Raw);

    /// <summary>Where on the rest of the path (from segment <paramref name="seg"/> at <paramref name="cur"/>) the order first fills.</summary>
    private bool FirstTouch(SimOrder o, int seg, long cur, out Touch touch)
    {
        touch = default;
        var c = o.Command;
        bool buy = c.Side == OrderSide.Buy;
        if (o.ReleasedAt == _dataSeq && o.Positioned && (o.StartSeg > seg || (o.StartSeg == seg && Dist(o.StartSeg, o.StartPrice) > Dist(seg, cur))))
        {
            seg = o.StartSeg;
            cur = o.StartPrice;
        }

        switch (c.Type)
        {
            case OrderType.Market:
                touch = new Touch(seg, Dist(seg, cur), cur, cur, Slip: true);
                return true;
            case OrderType.Limit:
                if (Reach(buy, c.LimitPrice!.Value.Raw, seg, cur, out var hit))
                {
                    touch = hit;
                    return true;
                }

                return false;
            case OrderType.Stop:
                if (Reach(!buy, c.StopPrice!.Value.Raw, seg, cur, out hit))
                {
                    touch = hit with { Slip = true };
                    return true;
                }

                return false;
            default:
                {
                    int tseg = seg;
                    long tcur = cur;
                    if (!o.Triggered)
                    {
                        if (!Reach(!buy, c.StopPrice!.Value.Raw, seg, cur, out var trigger))
                        {
                            return false;
                        }

                        tseg = trigger.Seg;
                        tcur = trigger.Price;
                    }

                    if (Reach(buy, c.LimitPrice!.Value.Raw, tseg, tcur, out hit))
                    {
                        touch = hit;
                        return true;
                    }

                    return false;
                }
        }
    }

    /// <summary>
    /// First point at or after (seg, cur) where price ≤ level (<paramref name="below"/>) or ≥ level. At the starting
    /// point itself the fill is at that point's price (a gap); inside a segment it is at the level.
    /// </summary>
    private bool Reach(bool below, long level, int seg, long cur, out Touch touch)
    {
        var p = _path;
        if (below ? cur <= level : cur >= level)
        {
            touch = new Touch(seg, Dist(seg, cur), cur, cur, Slip: false);
            return true;
        }

        for (int k = seg; k < Segments; k++)
        {
            long start = k == seg ? cur : p[k];
            long end = p[k + 1];
            if (below ? (end <= level && start > level) : (end >= level && start < level))
            {
                touch = new Touch(k, Dist(k, level), level, level, Slip: false);
                return true;
            }
        }

        touch = default;
        return false;
    }

    private long Dist(int seg, long price) => Math.Abs(price - _path[seg]);

    /// <summary>Fills what it can; returns true if a fill (or a rejection) happened.</summary>
    private bool TryFill(Book book, SimOrder o, long priceRaw, ref long available)
    {
        var c = o.Command;
        var leaves = o.Cap - o.Filled;
        var quantity = leaves;
        if (available != long.MaxValue)
        {
            quantity = Quantity.FromRaw(Math.Min(leaves.Raw, available));
            if (!quantity.IsPositive)
            {
                return false;
            }
        }

        if (c.TimeInForce == TimeInForce.Fok && quantity < leaves)
        {
            CancelWithGroup(o, "fill-or-kill order could not fill completely");
            return true;
        }

        var price = Price.FromRaw(priceRaw);
        var commission = _options.Commission.Compute(c.Side, quantity, price, o.Filled.IsZero);
        if (_options.CheckBuyingPower)
        {
            var position = _account.PositionQuantity(c.Instrument);
            var signed = c.Side == OrderSide.Buy ? quantity : -quantity;
            var opening = position.IsZero || position.Sign == signed.Sign
                ? quantity
                : Quantity.Max(Quantity.Zero, quantity - position.Abs());
            if (opening.IsPositive)
            {
                var required = (price * opening) + commission;
                var power = _account.BuyingPower;
                if (required > power)
                {
                    Remove(o);
                    Emit(new OrderRejected(c.ClientOrderId, $"insufficient buying power: the fill needs {required.ToFixed(2)}, the account has {power.ToFixed(2)}", _now, _now));
                    ResolveGroupAfterTermination(o);
                    return true;
                }
            }
        }

        bool first = o.Filled.IsZero;
        o.Filled += quantity;
        if (available != long.MaxValue)
        {
            available -= quantity.Raw;
        }

        FillCount++;
        Emit(new OrderFilled(c.ClientOrderId, o.VenueId, new TradeId(IdText.Format("T-", ++_tradeIds)), c.Instrument, c.Side, quantity, price, commission, _now, _now));

        bool complete = o.Filled == o.Cap;
        if (first && c.Contingency == ContingencyType.Oco)
        {
            foreach (var id in c.LinkedIds)
            {
                if (_orders.TryGetValue(id, out var sibling))
                {
                    Remove(sibling);
                    Emit(new OrderCanceled(id, $"OCO: {c.ClientOrderId} filled", _now, _now));
                }
            }
        }

        if (complete)
        {
            Remove(o);
            if (o.Cap < c.Quantity)
            {
                // A bracket exit sized down to a partially filled entry: the rest will never be needed.
                Emit(new OrderCanceled(c.ClientOrderId, $"filled the {o.Cap} its entry filled", _now, _now));
            }

            if (c.Contingency == ContingencyType.Oto)
            {
                ReleaseChildren(o, o.Filled);
            }
        }

        return true;
    }

    private void ReleaseChildren(SimOrder parent, Quantity filled)
    {
        foreach (var id in parent.Command.LinkedIds)
        {
            if (_orders.TryGetValue(id, out var child) && child.Held)
            {
                child.Held = false;
                child.Cap = Quantity.Min(child.Command.Quantity, filled);
                child.ReleasedAt = _dataSeq;
                child.Positioned = false;
                child.EligibleAfter = _dataSeq - 1;
            }
        }
    }

    /// <summary>An order ended without completing: release or cancel what depends on it.</summary>
    private void ResolveGroupAfterTermination(SimOrder o)
    {
        var c = o.Command;
        if (c.Contingency == ContingencyType.Oto)
        {
            if (o.Filled.IsPositive)
            {
                ReleaseChildren(o, o.Filled);
            }
            else
            {
                foreach (var id in c.LinkedIds)
                {
                    if (_orders.TryGetValue(id, out var child))
                    {
                        Remove(child);
                        Emit(new OrderCanceled(id, $"entry {c.ClientOrderId} did not fill", _now, _now));
                    }
                }
            }
        }
    }

    private void CancelWithGroup(SimOrder o, string reason)
    {
        var c = o.Command;
        Remove(o);
        Emit(new OrderCanceled(c.ClientOrderId, reason, _now, _now));
        if (c.Contingency == ContingencyType.Oto)
        {
            ResolveGroupAfterTermination(o);
        }
        else if (c.Contingency == ContingencyType.Oco)
        {
            foreach (var id in c.LinkedIds)
            {
                if (_orders.TryGetValue(id, out var sibling))
                {
                    Remove(sibling);
                    Emit(new OrderCanceled(id, $"OCO: {c.ClientOrderId} was cancelled", _now, _now));
                }
            }
        }
    }

    /// <summary>
    /// A DAY order is good for the first trading day on which it can execute (an order placed after a daily bar's
    /// close works on the next day) and expires at the first data of a later day.
    /// </summary>
    private void ExpireDayOrders(Book book, Timestamp time)
    {
        long day = time.UtcDayNumber;
        for (int i = book.Orders.Count - 1; i >= 0; i--)
        {
            if (i >= book.Orders.Count)
            {
                continue;
            }

            var o = book.Orders[i];
            if (o.Command.TimeInForce != TimeInForce.Day || o.Held || o.EligibleAfter >= _dataSeq)
            {
                continue;
            }

            if (o.Day == long.MinValue)
            {
                o.Day = day;
            }
            else if (o.Day < day)
            {
                Remove(o);
                Emit(new OrderExpired(o.Command.ClientOrderId, time, time));
                ResolveGroupAfterTermination(o);
            }
        }
    }

    /// <summary>IOC and FOK orders live for one evaluation.</summary>
    private void FinishImmediateOrders(Book book)
    {
        for (int i = book.Orders.Count - 1; i >= 0; i--)
        {
            if (i >= book.Orders.Count)
            {
                continue;
            }

            var o = book.Orders[i];
            if (o.Command.TimeInForce is TimeInForce.Ioc or TimeInForce.Fok && !o.Held && o.EligibleAfter < _dataSeq)
            {
                CancelWithGroup(o, o.Command.TimeInForce == TimeInForce.Ioc ? "immediate-or-cancel remainder" : "fill-or-kill order could not fill");
            }
        }
    }

    private void Add(SubmitOrder c, bool releaseHeld)
    {
        var book = FindBook(c.Instrument);
        string? problem = book is null ? $"instrument {c.Instrument} is not traded here" : Validate(c, book.Instrument);
        if (problem is not null || _orders.ContainsKey(c.ClientOrderId))
        {
            Emit(new OrderRejected(c.ClientOrderId, problem ?? $"duplicate client order id {c.ClientOrderId}", _now, _now));
            return;
        }

        var venueId = new VenueOrderId(IdText.Format("SIM-", ++_venueIds));
        SimOrder o;
        if (_spare.Count > 0)
        {
            o = _spare.Pop();
            o.Reuse(c, venueId, ++_arrivals);
        }
        else
        {
            o = new SimOrder(c, venueId, ++_arrivals);
        }

        o.EligibleAfter = _dataSeq;
        o.Day = long.MinValue;
        o.Held = c.ParentId is not null && !releaseHeld && IsWorkingParent(c.ParentId.Value);
        o.Cap = c.Quantity;
        _orders.Add(c.ClientOrderId, o);
        book!.Orders.Add(o);
        Emit(new OrderAccepted(c.ClientOrderId, o.VenueId, _now, _now));
    }

    private bool IsWorkingParent(ClientOrderId id) => _orders.ContainsKey(id);

    private static string? Validate(SubmitOrder c, Instrument instrument)
    {
        if (c.Quantity.Raw % instrument.LotSize.Raw != 0)
        {
            return $"quantity {c.Quantity} is not a multiple of the lot size {instrument.LotSize}";
        }

        if (c.LimitPrice is Price lp && lp.Raw % instrument.TickSize.Raw != 0)
        {
            return $"limit price {lp} is not a multiple of the tick size {instrument.TickSize}";
        }

        if (c.StopPrice is Price sp && sp.Raw % instrument.TickSize.Raw != 0)
        {
            return $"stop price {sp} is not a multiple of the tick size {instrument.TickSize}";
        }

        return null;
    }

    private void Remove(SimOrder o)
    {
        if (_orders.Remove(o.Command.ClientOrderId))
        {
            FindBook(o.Command.Instrument)?.Orders.Remove(o);
            if (_spare.Count < SpareOrders)
            {
                // Kept for the next Add: most runs have a handful of working orders at a time, so a handful of
                // objects serves every order of the run.
                _spare.Push(o);
            }
        }
    }

    private Book? FindBook(InstrumentId id) => _books.Find(id);

    private void Emit(OrderEvent e)
    {
        if (_sink is null)
        {
            throw new InvalidOperationException("the simulated exchange is not connected to an order event sink");
        }

        _sink.OnOrderEvent(e);
    }

    private readonly record struct Touch(int Seg, long Key, long Price, long Point, bool Slip)
    {
        public bool Before(in Touch other) => Seg < other.Seg || (Seg == other.Seg && Key < other.Key);
    }

    private sealed class Book(Instrument instrument)
    {
        public Instrument Instrument { get; } = instrument;

        public List<SimOrder> Orders { get; } = [];

        /// <summary>Live quotes drive this instrument's fills; bars no longer match its orders.</summary>
        public bool QuoteDriven { get; set; }
    }

    /// <summary>
    /// A working order. Objects are reused (see <see cref="Remove"/>): a removed one is only taken again by the next
    /// <see cref="Add"/>, which a call into the exchange never makes while it still reads one it removed.
    /// </summary>
    private sealed class SimOrder(SubmitOrder command, VenueOrderId venueId, long arrival)
    {
        public SubmitOrder Command { get; private set; } = command;

        public VenueOrderId VenueId { get; private set; } = venueId;

        public long Arrival { get; private set; } = arrival;

        public Quantity Filled { get; set; }

        /// <summary>The most this order may fill (less than its quantity for an exit of a partially filled entry).</summary>
        public Quantity Cap { get; set; }

        public bool Triggered { get; set; }

        public bool Held { get; set; }

        /// <summary>Data event number at submission; the order matches from the next data event on.</summary>
        public long EligibleAfter { get; set; }

        /// <summary>UTC day of the first data on which the order could execute (DAY orders expire after it).</summary>
        public long Day { get; set; } = long.MinValue;

        public bool DoneThisBar { get; set; }

        public long ReleasedAt { get; set; } = -1;

        public bool Positioned { get; set; }

        public int StartSeg { get; set; }

        public long StartPrice { get; set; }

        /// <summary>Makes this object a new working order, every field as a new object would have it.</summary>
        public void Reuse(SubmitOrder command, VenueOrderId venueId, long arrival)
        {
            Command = command;
            VenueId = venueId;
            Arrival = arrival;
            Filled = default;
            Cap = default;
            Triggered = false;
            Held = false;
            EligibleAfter = 0;
            Day = long.MinValue;
            DoneThisBar = false;
            ReleasedAt = -1;
            Positioned = false;
            StartSeg = 0;
            StartPrice = 0;
        }
    }
}

/// <summary>The state of a <see cref="SimulatedExchange"/>: its counters and every working order, book by book.</summary>
public sealed record ExchangeSnapshot(long DataSeq, long Arrivals, long VenueIds, long TradeIds, long Fills, Timestamp Now, IReadOnlyList<WorkingOrderSnapshot> Orders);

/// <summary>An order working at the simulated exchange.</summary>
public sealed record WorkingOrderSnapshot(
    SubmitOrder Command,
    VenueOrderId VenueId,
    long Arrival,
    Quantity Filled,
    Quantity Cap,
    bool Triggered,
    bool Held,
    long EligibleAfter,
    long Day,
    long ReleasedAt);
