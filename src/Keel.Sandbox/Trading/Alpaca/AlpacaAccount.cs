using System.Globalization;
using System.Text.Json;
using Keel.Domain;
using Keel.Domain.Events;
using Keel.Domain.Orders;
using Keel.Domain.Portfolio;
using Keel.Engine.Ports;
using Keel.Engine.Simulation;
using Keel.Sandbox.Wire;

namespace Keel.Sandbox.Trading.Alpaca;

/// <summary>An answer of the trading API: status and JSON body (null for 204).</summary>
internal sealed record ApiResult(int Status, byte[]? Body)
{
    public static ApiResult Ok(byte[] body) => new(200, body);

    /// <summary>Alpaca's error body <c>{"code":…,"message":…}</c>, with optional extra string fields (403 buying power).</summary>
    public static ApiResult Error(int status, int code, string message, params (string Name, string Value)[] extra) => new(status, AlpacaWire.Write(w =>
    {
        w.WriteStartObject();
        foreach (var (name, value) in extra)
        {
            w.WriteString(name, value);
        }

        w.WriteNumber("code", code);
        w.WriteString("message", message);
        w.WriteEndObject();
    }));

    public static ApiResult NotFound(string message = "order not found") => Error(404, 40410000, message);

    public static ApiResult Invalid(string message) => Error(422, 40010001, message);

    public static ApiResult State(string message) => Error(422, 42210000, message);
}

/// <summary>One trade_updates event: the frame as sent, and what the fault switches look at.</summary>
internal sealed record TradeUpdate(string Event, string? ExecutionId, byte[] Frame)
{
    public bool IsFill => Event is "fill" or "partial_fill";
}

/// <summary>A FILL account activity (one execution).</summary>
internal sealed record FillActivity(string Id, long Time, bool Partial, Price Price, Quantity Qty, OrderSide Side, string Symbol, Quantity LeavesQty, string OrderId, Quantity CumQty, string OrderStatus);

/// <summary>A validated order request (POST /v2/orders).</summary>
internal sealed record OrderTicket(
    string Symbol,
    Quantity Qty,
    OrderSide Side,
    OrderType Type,
    TimeInForce TimeInForce,
    Price? LimitPrice,
    Price? StopPrice,
    string? ClientOrderId,
    string OrderClass,
    bool ExtendedHours,
    Price? TakeProfit,
    Price? StopLossStop,
    Price? StopLossLimit);

/// <summary>A validated replace request (PATCH /v2/orders/{id}); null fields keep the old value.</summary>
internal sealed record ReplaceTicket(Quantity? Qty, TimeInForce? TimeInForce, Price? LimitPrice, Price? StopPrice, string? ClientOrderId);

/// <summary>
/// The sandbox's one simulated Alpaca account: cash and positions in a Keel <see cref="Portfolio"/>, orders matched
/// by one <see cref="SimulatedExchange"/> per symbol on every new price of that symbol (buys at the ask, sells at the
/// bid when the sandbox has a half spread), and the Alpaca view of it all: Order objects, statuses, FILL activities
/// and trade_updates events. Everything happens under one lock, so REST answers, events and fills are in one order.
/// </summary>
internal sealed class AlpacaAccount : IOrderEventSink
{
    private static readonly Price MinTick = Price.From(0.0001m);
    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private readonly long _halfSpread;
    private readonly Action<TradeUpdate> _publish;
    private readonly Func<string, bool> _served;
    private readonly Dictionary<string, long> _last = new(StringComparer.Ordinal);
    private readonly string _accountId = Guid.NewGuid().ToString();
    private readonly long _createdAt;
    private Portfolio _portfolio;
    private Dictionary<string, (Instrument Instrument, SimulatedExchange Exchange)> _books = new(StringComparer.Ordinal);
    private Dictionary<string, AlpacaOrder> _byId = new(StringComparer.Ordinal);
    private Dictionary<string, AlpacaOrder> _byClientId = new(StringComparer.Ordinal);
    private List<AlpacaOrder> _orders = [];
    private List<FillActivity> _fills = [];
    private long _seq;
    private long _lastNanos;

    /// <param name="served">Whether the sandbox's market feed serves a symbol (it can be traded before its first price).</param>
    public AlpacaAccount(decimal cash, long halfSpread, TimeProvider time, Func<string, bool> served, Action<TradeUpdate> publish)
    {
        _time = time;
        _halfSpread = halfSpread;
        _served = served;
        _publish = publish;
        _portfolio = new Portfolio(Money.From(cash));
        _createdAt = Now();
    }

    /// <summary>A new price of <paramref name="symbol"/> (a replayed or generated tick, or a scripted one): marks the position and matches working orders.</summary>
    /// <param name="sizeRaw">How much the quote shows on each side (raw <see cref="Quantity"/>): an order larger than
    /// that fills in parts over several prices. Zero: unlimited (the feed has no depth).</param>
    public void OnPrice(string symbol, long priceRaw, long sizeRaw = 0)
    {
        lock (_gate)
        {
            OnPriceLocked(symbol, priceRaw, sizeRaw);
        }
    }

    /// <summary>The last price of each symbol.</summary>
    public long? LastPrice(string symbol)
    {
        lock (_gate)
        {
            return _last.TryGetValue(symbol, out long p) ? p : null;
        }
    }

    public ApiResult Submit(OrderTicket t)
    {
        lock (_gate)
        {
            if (t.ClientOrderId is { } cid && _byClientId.ContainsKey(cid))
            {
                return ApiResult.Invalid("client_order_id must be unique");
            }

            if (!_last.ContainsKey(t.Symbol) && !_served(t.Symbol))
            {
                return ApiResult.State($"asset \"{t.Symbol}\" not found");
            }

            if (CheckBuyingPower(t.Symbol, t.Side, t.Type, t.Qty, t.LimitPrice, t.StopPrice, null) is { } denied)
            {
                return denied;
            }

            long now = Now();
            var entry = NewOrder(t.ClientOrderId, t.Symbol, t.Side, t.Type, t.TimeInForce, t.Qty, t.LimitPrice, t.StopPrice, t.OrderClass, t.ExtendedHours, now, null);
            var (instrument, exchange) = Book(t.Symbol);
            var ts = Timestamp.FromUnixNanos(now);
            var exit = t.Side.Opposite();
            switch (t.OrderClass)
            {
                case "bracket":
                    {
                        var tp = NewOrder(null, t.Symbol, exit, OrderType.Limit, t.TimeInForce, t.Qty, t.TakeProfit, null, "bracket", false, now, null);
                        var sl = NewOrder(null, t.Symbol, exit, t.StopLossLimit is null ? OrderType.Stop : OrderType.StopLimit, t.TimeInForce, t.Qty, t.StopLossLimit, t.StopLossStop, "bracket", false, now, null);
                        Link(entry, tp, sl);
                        exchange.SubmitList(new SubmitOrderList(
                        [
                            Command(entry, instrument, ContingencyType.Oto, null, [Cid(tp), Cid(sl)], ts),
                            Command(tp, instrument, ContingencyType.Oco, Cid(entry), [Cid(sl)], ts),
                            Command(sl, instrument, ContingencyType.Oco, Cid(entry), [Cid(tp)], ts),
                        ], ts));
                        break;
                    }

                case "oto":
                    {
                        var leg = t.TakeProfit is { } take
                            ? NewOrder(null, t.Symbol, exit, OrderType.Limit, t.TimeInForce, t.Qty, take, null, "oto", false, now, null)
                            : NewOrder(null, t.Symbol, exit, t.StopLossLimit is null ? OrderType.Stop : OrderType.StopLimit, t.TimeInForce, t.Qty, t.StopLossLimit, t.StopLossStop, "oto", false, now, null);
                        Link(entry, leg);
                        exchange.SubmitList(new SubmitOrderList(
                        [
                            Command(entry, instrument, ContingencyType.Oto, null, [Cid(leg)], ts),
                            Command(leg, instrument, ContingencyType.None, Cid(entry), [], ts),
                        ], ts));
                        break;
                    }

                case "oco":
                    {
                        // The posted order is the take-profit limit; the stop-loss is its leg, and both work at once.
                        var sl = NewOrder(null, t.Symbol, t.Side, t.StopLossLimit is null ? OrderType.Stop : OrderType.StopLimit, t.TimeInForce, t.Qty, t.StopLossLimit, t.StopLossStop, "oco", false, now, null);
                        Link(entry, sl);
                        exchange.SubmitList(new SubmitOrderList(
                        [
                            Command(entry, instrument, ContingencyType.Oco, null, [Cid(sl)], ts),
                            Command(sl, instrument, ContingencyType.Oco, null, [Cid(entry)], ts),
                        ], ts));
                        break;
                    }

                default:
                    exchange.Submit(Command(entry, instrument, ContingencyType.None, null, [], ts));
                    break;
            }

            return ApiResult.Ok(entry.ToJson(nested: true));
        }
    }

    public ApiResult Replace(string id, ReplaceTicket r)
    {
        lock (_gate)
        {
            if (!_byId.TryGetValue(id, out var old))
            {
                return ApiResult.NotFound();
            }

            if (old.Status is not ("new" or "partially_filled") || old.Parent is not null || old.Legs is not null)
            {
                return ApiResult.State("unable to replace order in current state");
            }

            if (r.ClientOrderId is { } cid && _byClientId.ContainsKey(cid))
            {
                return ApiResult.Invalid("client_order_id must be unique");
            }

            var qty = r.Qty ?? old.Qty;
            if (qty <= old.FilledQty)
            {
                return ApiResult.Invalid($"qty {qty} must be more than the filled qty {old.FilledQty}");
            }

            var limit = old.Type is OrderType.Limit or OrderType.StopLimit ? r.LimitPrice ?? old.LimitPrice : null;
            var stop = old.Type is OrderType.Stop or OrderType.StopLimit ? r.StopPrice ?? old.StopPrice : null;
            if ((r.LimitPrice is not null && limit is null) || (r.StopPrice is not null && stop is null))
            {
                return ApiResult.Invalid($"a {old.Type.ToText()} order takes no {(r.LimitPrice is not null && limit is null ? "limit_price" : "stop_price")}");
            }

            if (CheckBuyingPower(old.Symbol, old.Side, old.Type, qty, limit, stop, old) is { } denied)
            {
                return denied;
            }

            long now = Now();
            var replacement = NewOrder(r.ClientOrderId, old.Symbol, old.Side, old.Type, r.TimeInForce ?? old.TimeInForce, qty, limit, stop, old.OrderClass, old.ExtendedHours, now, old.Id);
            var (instrument, exchange) = Book(old.Symbol);
            var ts = Timestamp.FromUnixNanos(now);
            exchange.Replace(new ReplaceOrder(Cid(old), Command(replacement, instrument, ContingencyType.None, null, [], ts), ts));
            return ApiResult.Ok(replacement.ToJson(nested: true));
        }
    }

    public ApiResult Cancel(string id)
    {
        lock (_gate)
        {
            if (!_byId.TryGetValue(id, out var o))
            {
                return ApiResult.NotFound();
            }

            if (!o.IsOpen)
            {
                return ApiResult.State("order is not cancelable");
            }

            CancelLocked(o);
            return new ApiResult(204, null);
        }
    }

    /// <summary>DELETE /v2/orders: cancels every open order (a group through its head); 207 with one entry per order.</summary>
    public ApiResult CancelAll()
    {
        lock (_gate)
        {
            var heads = _orders.Where(o => o.IsOpen && (o.Parent is null || !o.Parent.IsOpen)).ToList();
            foreach (var o in heads)
            {
                if (o.IsOpen)
                {
                    CancelLocked(o);
                }
            }

            return new ApiResult(207, AlpacaWire.Write(w =>
            {
                w.WriteStartArray();
                foreach (var o in heads)
                {
                    w.WriteStartObject();
                    w.WriteString("id", o.Id);
                    w.WriteNumber("status", 200);
                    w.WritePropertyName("body");
                    o.Write(w, nested: false);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
            }));
        }
    }

    public ApiResult Get(string id, bool nested)
    {
        lock (_gate)
        {
            return _byId.TryGetValue(id, out var o) ? ApiResult.Ok(o.ToJson(nested)) : ApiResult.NotFound();
        }
    }

    public ApiResult GetByClientId(string clientOrderId)
    {
        lock (_gate)
        {
            return _byClientId.TryGetValue(clientOrderId, out var o) ? ApiResult.Ok(o.ToJson(nested: true)) : ApiResult.NotFound();
        }
    }

    /// <summary>GET /v2/orders: status open|closed|all, after/until (submission time, exclusive), direction, limit, nested, symbols, side.</summary>
    public ApiResult List(string status, long after, long until, bool ascending, int limit, bool nested, IReadOnlySet<string>? symbols, OrderSide? side)
    {
        lock (_gate)
        {
            IEnumerable<AlpacaOrder> chosen = _orders.Where(o =>
                (status == "all" || (status == "open") == o.IsOpen)
                && o.SubmittedAt > after && o.SubmittedAt < until
                && (symbols is null || symbols.Contains(o.Symbol))
                && (side is null || o.Side == side)
                && (!nested || o.Parent is null));
            chosen = ascending ? chosen.OrderBy(o => o.Seq) : chosen.OrderByDescending(o => o.Seq);
            var page = chosen.Take(limit).ToList();
            return ApiResult.Ok(AlpacaWire.Write(w =>
            {
                w.WriteStartArray();
                foreach (var o in page)
                {
                    o.Write(w, nested);
                }

                w.WriteEndArray();
            }));
        }
    }

    /// <summary>The account's net position in <paramref name="symbol"/> and how many of its orders are open, read directly (no request, no faults).</summary>
    public (Quantity Position, int OpenOrders) Holdings(string symbol)
    {
        lock (_gate)
        {
            var position = _portfolio.Positions.FirstOrDefault(p => p.Instrument.Symbol == symbol);
            return (position?.Quantity ?? Quantity.Zero, _orders.Count(o => o.IsOpen && o.Symbol == symbol));
        }
    }

    public ApiResult Positions()
    {
        lock (_gate)
        {
            return ApiResult.Ok(AlpacaWire.Write(w =>
            {
                w.WriteStartArray();
                foreach (var p in _portfolio.Positions.Where(p => !p.IsFlat).OrderBy(p => p.Instrument.Symbol, StringComparer.Ordinal))
                {
                    WritePosition(w, p);
                }

                w.WriteEndArray();
            }));
        }
    }

    public ApiResult Position(string symbol)
    {
        lock (_gate)
        {
            var p = _portfolio.GetPosition(new InstrumentId(symbol));
            return p is null || p.IsFlat
                ? ApiResult.NotFound("position does not exist")
                : ApiResult.Ok(AlpacaWire.Write(w => WritePosition(w, p)));
        }
    }

    /// <summary>
    /// DELETE /v2/positions/{symbol}: a market order for the whole position (or <paramref name="qty"/>, or
    /// <paramref name="percentage"/> of it, whole shares); it fills at the symbol's next price.
    /// </summary>
    public ApiResult ClosePosition(string symbol, Quantity? qty, decimal? percentage)
    {
        lock (_gate)
        {
            var p = _portfolio.GetPosition(new InstrumentId(symbol));
            if (p is null || p.IsFlat)
            {
                return ApiResult.NotFound("position does not exist");
            }

            var held = p.Quantity.Abs();
            var amount = qty ?? (percentage is decimal pct ? Quantity.From(held.ToDecimal() * pct / 100m) : held);
            if (!amount.IsPositive || amount > held)
            {
                return ApiResult.State($"insufficient qty available for order (requested: {amount}, available: {held})");
            }

            return ClosingOrder(symbol, p, amount);
        }
    }

    /// <summary>
    /// Closes a position as a person in the broker's app would: a market order for all of it, filled at once at the
    /// last price (bid or ask), with its <c>new</c> and <c>fill</c> events. 404 without a position, 409 without a price.
    /// </summary>
    public ApiResult CloseByHand(string symbol)
    {
        lock (_gate)
        {
            var p = _portfolio.GetPosition(new InstrumentId(symbol));
            if (p is null || p.IsFlat)
            {
                return ApiResult.NotFound("position does not exist");
            }

            if (!_last.TryGetValue(symbol, out long last))
            {
                return ApiResult.Error(409, 40910000, $"{symbol} has no price yet to close at");
            }

            _ = ClosingOrder(symbol, p, p.Quantity.Abs());
            OnPriceLocked(symbol, last);
            var closing = _orders[^1];
            return ApiResult.Ok(closing.ToJson(nested: false));
        }
    }

    public ApiResult Account()
    {
        lock (_gate)
        {
            var cash = _portfolio.Cash;
            var equity = _portfolio.Equity;
            var longValue = Money.Zero;
            var shortValue = Money.Zero;
            foreach (var p in _portfolio.Positions)
            {
                if (p.Quantity.IsPositive)
                {
                    longValue += p.MarketValue;
                }
                else if (p.Quantity.IsNegative)
                {
                    shortValue += p.MarketValue;
                }
            }

            string power = Text(AvailableBuyingPower());
            return ApiResult.Ok(AlpacaWire.Write(w =>
            {
                w.WriteStartObject();
                w.WriteString("id", _accountId);
                w.WriteString("account_number", "PA3KEELSBX01");
                w.WriteString("status", "ACTIVE");
                w.WriteString("crypto_status", "INACTIVE");
                w.WriteString("currency", "USD");
                w.WriteString("cash", Text(cash));
                w.WriteString("buying_power", power);
                w.WriteString("regt_buying_power", power);
                w.WriteString("non_marginable_buying_power", power);
                w.WriteString("options_buying_power", power);
                w.WriteString("equity", Text(equity));
                w.WriteString("last_equity", Text(_portfolio.InitialCash));
                w.WriteString("portfolio_value", Text(equity));
                w.WriteString("long_market_value", Text(longValue));
                w.WriteString("short_market_value", Text(shortValue));
                w.WriteString("initial_margin", Text(_portfolio.GrossExposure));
                w.WriteString("maintenance_margin", Text(_portfolio.GrossExposure));
                w.WriteString("last_maintenance_margin", "0");
                w.WriteString("sma", "0");
                w.WriteString("multiplier", "1");
                w.WriteBoolean("shorting_enabled", true);
                w.WriteBoolean("trading_blocked", false);
                w.WriteBoolean("transfers_blocked", false);
                w.WriteBoolean("account_blocked", false);
                w.WriteBoolean("trade_suspended_by_user", false);
                AlpacaOrder.Time(w, "created_at", _createdAt);
                w.WriteString("accrued_fees", "0");
                w.WriteString("pending_transfer_in", "0");
                w.WriteString("pending_transfer_out", "0");
                w.WriteNumber("options_approved_level", 0);
                w.WriteNumber("options_trading_level", 0);
                w.WriteString("balance_asof", DateTimeOffset.FromUnixTimeMilliseconds(_createdAt / 1_000_000).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                w.WriteEndObject();
            }));
        }
    }

    /// <summary>Every FILL activity so far, oldest first.</summary>
    public IReadOnlyList<FillActivity> Fills()
    {
        lock (_gate)
        {
            return [.. _fills];
        }
    }

    /// <summary>A new account with <paramref name="cash"/>: positions, orders, activities and client order ids forgotten; prices kept.</summary>
    public void Reset(decimal cash)
    {
        lock (_gate)
        {
            _portfolio = new Portfolio(Money.From(cash));
            _books = new(StringComparer.Ordinal);
            _byId = new(StringComparer.Ordinal);
            _byClientId = new(StringComparer.Ordinal);
            _orders = [];
            _fills = [];
        }
    }

    /// <summary>Called by the simulated exchanges, under the lock, for everything that happens to an order.</summary>
    public void OnOrderEvent(OrderEvent orderEvent)
    {
        if (!_byId.TryGetValue(orderEvent.ClientOrderId.Value, out var o))
        {
            return;
        }

        long now = Now();
        switch (orderEvent)
        {
            case OrderAccepted:
                o.UpdatedAt = now;
                if (o.Parent is { } parent && o.OrderClass is "bracket" or "oto" && parent.Status != "filled")
                {
                    o.Status = "held";
                }
                else
                {
                    o.Status = "new";
                    Emit("new", o, now);
                }

                break;
            case OrderFilled f:
                OnFill(o, f, now);
                break;
            case OrderCanceled when o.IsOpen:
                o.Status = "canceled";
                o.CanceledAt = now;
                o.UpdatedAt = now;
                Emit("canceled", o, now);
                break;
            case OrderExpired when o.IsOpen:
                o.Status = "expired";
                o.ExpiredAt = now;
                o.UpdatedAt = now;
                Emit("expired", o, now);
                break;
            case OrderRejected when o.IsOpen:
                o.Status = "rejected";
                o.FailedAt = now;
                o.UpdatedAt = now;
                Emit("rejected", o, now);
                break;
            case OrderReplaced r when o.IsOpen:
                o.Status = "replaced";
                o.ReplacedAt = now;
                o.ReplacedBy = r.ReplacedBy.Value;
                o.UpdatedAt = now;
                Emit("replaced", o, now);
                break;
            default:
                break;
        }
    }

    private void OnFill(AlpacaOrder o, OrderFilled f, long now)
    {
        var (instrument, _) = Book(o.Symbol);
        _portfolio.ApplyFill(instrument.Id, f.Side, f.LastQty, f.LastPx, f.Commission);
        o.FilledQty += f.LastQty;
        o.FilledValue += f.LastPx * f.LastQty;
        o.UpdatedAt = now;
        bool complete = o.FilledQty >= o.Qty;
        if (complete)
        {
            o.Status = "filled";
            o.FilledAt = now;
        }
        else
        {
            o.Status = "partially_filled";
        }

        string executionId = Guid.NewGuid().ToString();
        string activityId = DateTimeOffset.FromUnixTimeMilliseconds(now / 1_000_000).ToString("yyyyMMddHHmmssfff", CultureInfo.InvariantCulture) + "::" + executionId;
        _fills.Add(new FillActivity(activityId, now, !complete, f.LastPx, f.LastQty, f.Side, o.Symbol, o.Leaves, o.Id, o.FilledQty, o.Status));
        var position = _portfolio.PositionQuantity(instrument.Id);
        Emit(complete ? "fill" : "partial_fill", o, now, executionId, f.LastPx, f.LastQty, position);

        // A filled entry releases its held exits (the exchange releases them for matching at the same moment).
        if (complete && o.Legs is { } legs && o.OrderClass is "bracket" or "oto")
        {
            foreach (var leg in legs)
            {
                if (leg.Status == "held")
                {
                    leg.Status = "new";
                    leg.UpdatedAt = now;
                    Emit("new", leg, now);
                }
            }
        }
    }

    private void Emit(string name, AlpacaOrder o, long now, string? executionId = null, Price? price = null, Quantity? qty = null, Quantity? positionQty = null)
    {
        executionId ??= Guid.NewGuid().ToString();
        var frame = AlpacaWire.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("stream", "trade_updates");
            w.WriteStartObject("data");
            w.WriteString("event", name);
            w.WriteString("execution_id", executionId);
            w.WritePropertyName("order");
            o.Write(w, nested: true);
            if (price is { } px)
            {
                w.WriteString("price", px.ToString());
                w.WriteString("qty", qty!.Value.ToString());
                w.WriteString("position_qty", positionQty!.Value.ToString());
            }

            w.WriteString("timestamp", WireText.Time9(now));
            w.WriteEndObject();
            w.WriteEndObject();
        });
        _publish(new TradeUpdate(name, executionId, frame));
    }

    private void OnPriceLocked(string symbol, long priceRaw, long sizeRaw = 0)
    {
        if (priceRaw <= 0)
        {
            return;
        }

        _last[symbol] = priceRaw;
        var (instrument, exchange) = Book(symbol);
        var price = Price.FromRaw(priceRaw);
        _portfolio.Mark(instrument.Id, price);
        var ts = Timestamp.FromUnixNanos(Now());
        var tick = _halfSpread > 0 && priceRaw > _halfSpread
            ? new Tick(instrument.Id, ts, TickKind.Quote | TickKind.Trade, Price.FromRaw(priceRaw - _halfSpread), Price.FromRaw(priceRaw + _halfSpread), Quantity.FromRaw(sizeRaw), Quantity.FromRaw(sizeRaw), price, default, null, ts)
            : Tick.Trade(instrument.Id, ts, price, Quantity.FromRaw(sizeRaw));
        exchange.OnTick(tick);
    }

    private ApiResult ClosingOrder(string symbol, Position p, Quantity amount)
    {
        long now = Now();
        var side = p.Quantity.IsPositive ? OrderSide.Sell : OrderSide.Buy;
        var o = NewOrder(null, symbol, side, OrderType.Market, TimeInForce.Day, amount, null, null, string.Empty, false, now, null);
        var (instrument, exchange) = Book(symbol);
        var ts = Timestamp.FromUnixNanos(now);
        exchange.Submit(Command(o, instrument, ContingencyType.None, null, [], ts));
        return ApiResult.Ok(o.ToJson(nested: false));
    }

    private void CancelLocked(AlpacaOrder o)
    {
        // Cancelling any order of a group cancels the group: a held exit through its entry.
        var target = o.Parent is { } parent && parent.IsOpen && o.OrderClass is "bracket" or "oto" ? parent : o;
        var (instrument, exchange) = Book(target.Symbol);
        exchange.Cancel(new CancelOrder(Cid(target), instrument.Id, Timestamp.FromUnixNanos(Now())));
    }

    /// <summary>
    /// Alpaca's check at submission: a buy needs qty × (limit, stop or ask) of buying power, a sell that opens a short
    /// needs the opening qty × max(limit, 103 % of the last price); open buy orders already hold theirs.
    /// </summary>
    private ApiResult? CheckBuyingPower(string symbol, OrderSide side, OrderType type, Quantity qty, Price? limit, Price? stop, AlpacaOrder? replacing)
    {
        Money cost;
        long last = _last.TryGetValue(symbol, out long l) ? l : 0;
        if (side == OrderSide.Buy)
        {
            var estimate = Estimate(type, limit, stop, last);
            var covering = Quantity.Max(Quantity.Zero, -_portfolio.PositionQuantity(new InstrumentId(symbol)));
            cost = Quantity.Max(Quantity.Zero, qty - covering) * estimate;
        }
        else
        {
            var held = _portfolio.PositionQuantity(new InstrumentId(symbol));
            var selling = Quantity.Zero;
            foreach (var o in _orders)
            {
                if (o.IsOpen && o.Status != "held" && o.Side == OrderSide.Sell && o.Symbol == symbol && o != replacing)
                {
                    selling += o.Leaves;
                }
            }

            var free = Quantity.Max(Quantity.Zero, held - selling);
            var opening = Quantity.Max(Quantity.Zero, qty - free);
            var shortPrice = Price.Max(limit ?? Price.Zero, Price.From(Price.FromRaw(last).ToDecimal() * 1.03m));
            cost = opening * shortPrice;
        }

        var available = AvailableBuyingPower(replacing);
        if (cost > available)
        {
            return ApiResult.Error(403, 40310000, "insufficient buying power", ("buying_power", Text(available)), ("cost_basis", Text(cost)));
        }

        return null;
    }

    private Money AvailableBuyingPower(AlpacaOrder? except = null)
    {
        var reserved = Money.Zero;
        foreach (var o in _orders)
        {
            if (o.IsOpen && o.Status != "held" && o.Side == OrderSide.Buy && o != except && (o.Parent is null || o.OrderClass == "oco"))
            {
                long last = _last.TryGetValue(o.Symbol, out long l) ? l : 0;
                reserved += o.Leaves * Estimate(o.Type, o.LimitPrice, o.StopPrice, last);
            }
        }

        var power = _portfolio.BuyingPower - reserved;
        return power.IsNegative ? Money.Zero : power;
    }

    private Price Estimate(OrderType type, Price? limit, Price? stop, long last) => type switch
    {
        OrderType.Limit or OrderType.StopLimit => limit!.Value,
        OrderType.Stop => stop!.Value,
        _ => Price.FromRaw(last == 0 ? 0 : last + _halfSpread),
    };

    private void WritePosition(Utf8JsonWriter w, Position p)
    {
        var qty = p.Quantity;
        var available = qty.Abs();
        foreach (var o in _orders)
        {
            if (o.IsOpen && o.Status != "held" && o.Symbol == p.Instrument.Symbol && (o.Side == OrderSide.Sell) == qty.IsPositive)
            {
                available -= o.Leaves;
            }
        }

        available = Quantity.Max(Quantity.Zero, available);
        var unrealized = p.UnrealizedPnl;
        decimal basis = Math.Abs(p.CostBasis.ToDecimal());
        string plpc = basis == 0 ? "0" : decimal.Round(unrealized.ToDecimal() / basis, 9, MidpointRounding.ToEven).ToString(CultureInfo.InvariantCulture);
        w.WriteStartObject();
        w.WriteString("asset_id", AlpacaOrder.AssetId(p.Instrument.Symbol));
        w.WriteString("symbol", p.Instrument.Symbol);
        w.WriteString("exchange", "NASDAQ");
        w.WriteString("asset_class", "us_equity");
        w.WriteBoolean("asset_marginable", true);
        w.WriteString("avg_entry_price", p.AverageEntryPrice?.ToString() ?? "0");
        w.WriteString("qty", qty.ToString());
        w.WriteString("qty_available", (qty.IsNegative ? -available : available).ToString());
        w.WriteString("side", qty.IsPositive ? "long" : "short");
        w.WriteString("market_value", Text(p.MarketValue));
        w.WriteString("cost_basis", Text(p.CostBasis));
        w.WriteString("unrealized_pl", Text(unrealized));
        w.WriteString("unrealized_plpc", plpc);
        w.WriteString("unrealized_intraday_pl", Text(unrealized));
        w.WriteString("unrealized_intraday_plpc", plpc);
        w.WriteString("current_price", p.LastPrice.ToString());
        w.WriteString("lastday_price", p.LastPrice.ToString());
        w.WriteString("change_today", "0");
        w.WriteEndObject();
    }

    private AlpacaOrder NewOrder(string? clientOrderId, string symbol, OrderSide side, OrderType type, TimeInForce tif, Quantity qty, Price? limit, Price? stop, string orderClass, bool extendedHours, long now, string? replaces)
    {
        var o = new AlpacaOrder
        {
            Id = Guid.NewGuid().ToString(),
            ClientOrderId = clientOrderId ?? Guid.NewGuid().ToString(),
            Symbol = symbol,
            Side = side,
            Type = type,
            TimeInForce = tif,
            Qty = qty,
            LimitPrice = limit,
            StopPrice = stop,
            OrderClass = orderClass,
            ExtendedHours = extendedHours,
            Seq = ++_seq,
            Status = "pending_new",
            CreatedAt = now,
            SubmittedAt = now,
            UpdatedAt = now,
            Replaces = replaces,
        };
        _byId.Add(o.Id, o);
        _byClientId.Add(o.ClientOrderId, o);
        _orders.Add(o);
        return o;
    }

    private static void Link(AlpacaOrder head, params AlpacaOrder[] legs)
    {
        head.Legs = [.. legs];
        foreach (var leg in legs)
        {
            leg.Parent = head;
        }
    }

    private static ClientOrderId Cid(AlpacaOrder o) => new(o.Id);

    private static SubmitOrder Command(AlpacaOrder o, Instrument instrument, ContingencyType contingency, ClientOrderId? parent, IReadOnlyList<ClientOrderId> linked, Timestamp ts) =>
        new(Cid(o), instrument.Id, o.Side, o.Type, o.Qty, o.LimitPrice, o.StopPrice, o.TimeInForce, contingency, parent, linked, ts);

    private (Instrument Instrument, SimulatedExchange Exchange) Book(string symbol)
    {
        if (!_books.TryGetValue(symbol, out var book))
        {
            // Sub-penny ticks and fractional lots: the API layer enforces Alpaca's own price and quantity rules.
            var instrument = new Instrument(new InstrumentId(symbol), AssetClass.Equity, MinTick, Quantity.FromRaw(1), "USD");
            var exchange = new SimulatedExchange(new SimulatedExchangeOptions { FillAtMostTickSize = true }, [instrument], _portfolio);
            exchange.Connect(this);
            book = (instrument, exchange);
            _books.Add(symbol, book);
        }

        return book;
    }

    /// <summary>Wall-clock nanoseconds, strictly increasing, so every timestamp orders events and paging cursors.</summary>
    private long Now()
    {
        long n = Timestamp.FromDateTimeOffset(_time.GetUtcNow()).UnixNanos;
        _lastNanos = Math.Max(_lastNanos + 1, n);
        return _lastNanos;
    }

    private static string Text(Money m) => m.ToString();
}
