using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Keel.Domain;
using Keel.Domain.Events;
using Keel.Domain.Orders;
using Keel.Engine.Ports;
using Keel.Sandbox.Wire;

namespace Keel.Sandbox.Trading.Oanda;

/// <summary>The account's inner workings: transactions, matching through the exchange, fills, trades and their JSON.</summary>
internal sealed partial class OandaAccount
{
    private readonly List<long> _related = [];

    /// <summary>Starts a batch: the transactions of one request (or one price) share its first id as batchID.</summary>
    private void Begin()
    {
        _batch = _lastId + 1;
        _requestId++;
        _related.Clear();
    }

    private OandaTransaction Append(string type, JsonObject fields)
    {
        long id = ++_lastId;
        var node = new JsonObject
        {
            ["id"] = OandaOrder.Text(id),
            ["accountID"] = AccountId,
            ["userID"] = UserId,
            ["batchID"] = OandaOrder.Text(_batch),
            ["requestID"] = OandaOrder.Text(_requestId),
            ["time"] = Now(),
            ["type"] = type,
        };
        foreach (var (name, value) in fields.ToList())
        {
            fields.Remove(name);
            node[name] = value;
        }

        var tx = new OandaTransaction(id, type, node, System.Text.Encoding.UTF8.GetBytes(node.ToJsonString()));
        _transactions.Add(tx);
        _related.Add(id);
        Published?.Invoke(tx);
        return tx;
    }

    private OandaOrder Create(OandaOrderRequest request, string reason, long? replaces, long? closeTrade = null, JsonObject? extra = null, string? fillReason = null)
    {
        var fields = request.Fields(reason);
        if (replaces is long r)
        {
            fields["replacesOrderID"] = OandaOrder.Text(r);
        }

        if (extra is not null)
        {
            foreach (var (name, value) in extra.ToList())
            {
                extra.Remove(name);
                fields[name] = value;
            }
        }

        var tx = Append(request.Type + "_ORDER", fields);
        var order = new OandaOrder
        {
            Id = tx.Id,
            Type = request.Type,
            Instrument = request.Instrument,
            Units = request.Units,
            Price = request.Type == "MARKET" ? null : request.Price,
            PriceBound = request.PriceBound,
            TimeInForce = request.TimeInForce,
            GtdNanos = request.GtdNanos,
            PositionFill = request.PositionFill,
            TriggerCondition = request.TriggerCondition,
            ClientExtensions = request.ClientExtensions,
            ClientId = request.ClientId,
            TradeClientExtensions = request.TradeClientExtensions,
            TakeProfitOnFill = request.TakeProfitOnFill,
            StopLossOnFill = request.StopLossOnFill,
            TrailingStopLossOnFill = request.TrailingStopLossOnFill,
            CloseTradeId = closeTrade,
            ReduceOnly = request.PositionFill == "REDUCE_ONLY",
            FillReason = fillReason ?? "MARKET_ORDER",
            CreateTime = (string)tx.Node["time"]!,
            ReplacesOrderId = replaces,
        };
        _orders.Add(order.Id, order);
        _requests[order.Id] = request;
        bool hasQuote = _quotes.TryGetValue(order.Instrument, out var q);
        if (order.Type == "MARKET")
        {
            bool buy = order.Units > 0;
            if (!hasQuote)
            {
                CancelOrder(order, "MARKET_HALTED", replacedBy: null);
                return order;
            }

            if (order.PriceBound is long bound && (buy ? q.Ask > bound : q.Bid < bound))
            {
                CancelOrder(order, "BOUNDS_VIOLATION", replacedBy: null);
                return order;
            }
        }

        Submit(order, order.Units > 0 ? OrderSide.Buy : OrderSide.Sell, Math.Abs(order.Units), hasQuote ? q : null);
        if (hasQuote)
        {
            Feed(order.Instrument);
        }

        if (order.Type == "MARKET" && order.State == "PENDING")
        {
            CancelOrder(order, "INSUFFICIENT_LIQUIDITY", replacedBy: null);
        }

        return order;
    }

    private readonly Dictionary<long, OandaOrderRequest> _requests = [];

    /// <summary>Puts an order into the exchange's book (a market-if-touched order as the limit or stop its side of the market makes it).</summary>
    private void Submit(OandaOrder order, OrderSide side, long units, (long Bid, long Ask, long Time)? quote)
    {
        OrderType type;
        long? limit = null, stop = null;
        switch (order.Type)
        {
            case "MARKET":
                type = OrderType.Market;
                break;
            case "LIMIT" or "TAKE_PROFIT":
                type = OrderType.Limit;
                limit = order.Price;
                break;
            case "STOP" or "STOP_LOSS":
                type = OrderType.Stop;
                stop = order.Price;
                break;
            case "MARKET_IF_TOUCHED":
                // The touch price is reached by a fall (a buy below the ask, a sell below the bid: a stop for the sell)
                // or by a rise (a buy above the ask: a stop; a sell above the bid: a limit). No quote yet: a limit.
                long market = quote is { } x ? (side == OrderSide.Buy ? x.Ask : x.Bid) : long.MaxValue;
                bool asLimit = side == OrderSide.Buy ? market > order.Price : market == long.MaxValue || market < order.Price;
                if (asLimit)
                {
                    type = OrderType.Limit;
                    limit = order.Price;
                }
                else
                {
                    type = OrderType.Stop;
                    stop = order.Price;
                }

                break;
            default:
                return; // trailing stops are followed by hand (the exchange has none)
        }

        var tif = order.Type == "MARKET"
            ? (order.TimeInForce == "IOC" ? TimeInForce.Ioc : TimeInForce.Fok)
            : order.TimeInForce switch { "IOC" => TimeInForce.Ioc, "FOK" => TimeInForce.Fok, _ => TimeInForce.Gtc };
        _exchange.Submit(new SubmitOrder(new ClientOrderId(OandaOrder.Text(order.Id)), new InstrumentId(order.Instrument), side, type, Quantity.From(units),
            limit is long l ? Price.FromRaw(l) : null, stop is long s ? Price.FromRaw(s) : null, tif, ContingencyType.None, null, [], Stamp()));
        ProcessEvents();
    }

    /// <summary>Feeds the instrument's current quote to the exchange and books what fills.</summary>
    private void Feed(string instrument)
    {
        var q = _quotes[instrument];
        _exchange.OnTick(Tick.Quote(new InstrumentId(instrument), Timestamp.FromUnixNanos(q.Time), Price.FromRaw(q.Bid), Price.FromRaw(q.Ask)));
        ProcessEvents();
    }

    private void ProcessEvents()
    {
        while (_events.Count > 0)
        {
            var batch = _events.ToArray();
            _events.Clear();
            foreach (var e in batch)
            {
                if (e is OrderFilled f && long.TryParse(f.ClientOrderId.Value, CultureInfo.InvariantCulture, out long id)
                    && _orders.TryGetValue(id, out var order) && order.State == "PENDING")
                {
                    Fill(order, f.LastPx.Raw);
                }
            }
        }
    }

    private void ExpireOrders()
    {
        long now = NowNanos();
        foreach (var o in _orders.Values.Where(o => o.State == "PENDING" && o.GtdNanos is long g && g <= now).ToList())
        {
            CancelOrder(o, "TIME_IN_FORCE_EXPIRED", replacedBy: null);
        }
    }

    /// <summary>Moves trailing stops with the market and fills those the market reaches (long: at the bid; short: at the ask).</summary>
    private void Trail(string instrument)
    {
        var q = _quotes[instrument];
        foreach (var o in _orders.Values.Where(o => o.State == "PENDING" && o.Type == "TRAILING_STOP_LOSS" && o.Instrument == instrument).ToList())
        {
            var trade = _trades[o.TradeId!.Value];
            long distance = o.Distance!.Value;
            if (trade.CurrentUnits > 0)
            {
                o.TrailingLevel = Math.Max(o.TrailingLevel, q.Bid - distance);
                if (q.Bid <= o.TrailingLevel)
                {
                    Fill(o, q.Bid);
                }
            }
            else
            {
                o.TrailingLevel = Math.Min(o.TrailingLevel, q.Ask + distance);
                if (q.Ask >= o.TrailingLevel)
                {
                    Fill(o, q.Ask);
                }
            }
        }
    }

    /// <summary>Books a fill at <paramref name="price"/>: closes or reduces opposite trades first in, first out (or the one trade a close names), opens a trade with the rest.</summary>
    private void Fill(OandaOrder order, long price)
    {
        var q = _quotes[order.Instrument];
        long units = order.Units;
        var reductions = new List<(OandaTrade Trade, long Units)>();
        long? target = order.TradeId ?? order.CloseTradeId;
        if (target is long t)
        {
            var trade = _trades[t];
            if (!trade.Open)
            {
                CancelOrder(order, "LINKED_TRADE_CLOSED", replacedBy: null);
                return;
            }

            if (order.IsDependent)
            {
                units = -trade.CurrentUnits;
            }

            reductions.Add((trade, Math.Sign(units) * Math.Min(Math.Abs(units), Math.Abs(trade.CurrentUnits))));
        }
        else
        {
            long left = units;
            foreach (var trade in _trades.Values)
            {
                if (left == 0)
                {
                    break;
                }

                if (trade.Open && trade.Instrument == order.Instrument && Math.Sign(trade.CurrentUnits) == -Math.Sign(left))
                {
                    long take = Math.Sign(left) * Math.Min(Math.Abs(left), Math.Abs(trade.CurrentUnits));
                    reductions.Add((trade, take));
                    left -= take;
                }
            }
        }

        long reduced = reductions.Sum(r => r.Units);
        long opening = order.ReduceOnly || target is not null ? 0 : units - reduced;
        if (reduced == 0 && opening == 0)
        {
            CancelOrder(order, "REDUCE_ONLY", replacedBy: null);
            return;
        }

        if (opening != 0)
        {
            var required = Money.Product(price, Math.Abs(opening) * Price.Scale).MultiplyBy(_options.OandaMarginRate);
            var released = reductions.Aggregate(Money.Zero, (m, r) => m + Money.Product(Mid(order.Instrument), Math.Abs(r.Units) * Price.Scale).MultiplyBy(_options.OandaMarginRate));
            if (required > MarginAvailable() + released)
            {
                CancelOrder(order, "INSUFFICIENT_MARGIN", replacedBy: null);
                return;
            }
        }

        long filled = reduced + opening;
        long fillId = _lastId + 1;
        string time = Now();
        var plTotal = Money.Zero;
        var closed = new JsonArray();
        JsonObject? tradeReduced = null;
        foreach (var (trade, u) in reductions)
        {
            var pl = Money.Product(price - trade.Price, -u * Price.Scale);
            plTotal += pl;
            trade.CurrentUnits += u;
            trade.RealizedPL += pl;
            var side = _positionPl.GetValueOrDefault(trade.Instrument);
            _positionPl[trade.Instrument] = trade.InitialUnits > 0 ? (side.Long + pl, side.Short) : (side.Long, side.Short + pl);
            var entry = new JsonObject
            {
                ["tradeID"] = OandaOrder.Text(trade.Id),
                ["units"] = OandaOrder.Text(u),
                ["price"] = Px(order.Instrument)(price),
                ["realizedPL"] = Fmt(pl),
                ["financing"] = "0.0000",
                ["baseFinancing"] = "0",
                ["guaranteedExecutionFee"] = "0.0000",
                ["quoteGuaranteedExecutionFee"] = "0",
                ["halfSpreadCost"] = Fmt(HalfSpreadCost(u)),
            };
            if (trade.Open)
            {
                tradeReduced = entry;
                order.TradeReducedId = trade.Id;
            }
            else
            {
                trade.CloseTime = time;
                trade.ClosingTransactionIds.Add(fillId);
                closed.Add((JsonNode)entry);
                order.TradeClosedIds.Add(trade.Id);
            }
        }

        _balance += plTotal;
        _pl += plTotal;
        _portfolio.ApplyFill(new InstrumentId(order.Instrument), filled > 0 ? OrderSide.Buy : OrderSide.Sell, Quantity.From(Math.Abs(filled)), Price.FromRaw(price), Money.Zero);
        string px = Px(order.Instrument)(price);
        var fields = new JsonObject
        {
            ["orderID"] = OandaOrder.Text(order.Id),
        };
        if (order.ClientId is not null)
        {
            fields["clientOrderID"] = order.ClientId;
        }

        fields["instrument"] = order.Instrument;
        fields["units"] = OandaOrder.Text(filled);
        fields["requestedUnits"] = OandaOrder.Text(units);
        fields["price"] = px;
        fields["fullVWAP"] = px;
        fields["fullPrice"] = new JsonObject
        {
            ["closeoutBid"] = Px(order.Instrument)(q.Bid),
            ["closeoutAsk"] = Px(order.Instrument)(q.Ask),
            ["timestamp"] = WireText.Time9(q.Time),
            ["bids"] = new JsonArray(new JsonObject { ["price"] = Px(order.Instrument)(q.Bid), ["liquidity"] = "10000000" }),
            ["asks"] = new JsonArray(new JsonObject { ["price"] = Px(order.Instrument)(q.Ask), ["liquidity"] = "10000000" }),
        };
        fields["reason"] = order.Type == "MARKET" ? order.FillReason : order.Type + "_ORDER";
        fields["pl"] = Fmt(plTotal);
        fields["quotePL"] = Fmt(plTotal);
        fields["financing"] = "0.0000";
        fields["baseFinancing"] = "0";
        fields["commission"] = "0.0000";
        fields["guaranteedExecutionFee"] = "0.0000";
        fields["quoteGuaranteedExecutionFee"] = "0";
        fields["accountBalance"] = Fmt(_balance);
        fields["halfSpreadCost"] = Fmt(HalfSpreadCost(filled));
        fields["gainQuoteHomeConversionFactor"] = "1";
        fields["lossQuoteHomeConversionFactor"] = "1";
        OandaTrade? openedTrade = null;
        if (opening != 0)
        {
            var margin = Money.Product(price, Math.Abs(opening) * Price.Scale).MultiplyBy(_options.OandaMarginRate);
            fields["tradeOpened"] = new JsonObject
            {
                ["tradeID"] = OandaOrder.Text(fillId),
                ["units"] = OandaOrder.Text(opening),
                ["price"] = px,
                ["guaranteedExecutionFee"] = "0.0000",
                ["quoteGuaranteedExecutionFee"] = "0",
                ["halfSpreadCost"] = Fmt(HalfSpreadCost(opening)),
                ["initialMarginRequired"] = Fmt(margin),
            };
            openedTrade = new OandaTrade
            {
                Id = fillId,
                Instrument = order.Instrument,
                Price = price,
                OpenTime = time,
                InitialUnits = opening,
                CurrentUnits = opening,
                InitialMargin = margin,
                ClientExtensions = order.TradeClientExtensions,
                ClientId = order.TradeClientExtensions is { } ext && JsonNode.Parse(ext)?["id"] is JsonValue v && v.TryGetValue(out string? cid) ? cid : null,
            };
            _trades.Add(fillId, openedTrade);
            _positionPl.TryAdd(order.Instrument, (Money.Zero, Money.Zero));
            order.TradeOpenedId = fillId;
        }

        if (tradeReduced is not null)
        {
            fields["tradeReduced"] = tradeReduced;
        }

        if (closed.Count > 0)
        {
            fields["tradesClosed"] = closed;
        }

        order.State = "FILLED";
        order.FilledTime = time;
        order.FillingTransactionId = fillId;
        Append("ORDER_FILL", fields);

        // The orders of a closed trade go with it.
        foreach (var (trade, _) in reductions)
        {
            if (!trade.Open)
            {
                foreach (var dependent in new[] { trade.TakeProfitOrderId, trade.StopLossOrderId, trade.TrailingStopLossOrderId })
                {
                    if (dependent is long d && _orders.TryGetValue(d, out var o) && o.State == "PENDING")
                    {
                        CancelOrder(o, "LINKED_TRADE_CLOSED", replacedBy: null, new JsonObject { ["closedTradeID"] = OandaOrder.Text(trade.Id), ["tradeCloseTransactionID"] = OandaOrder.Text(fillId) });
                    }
                }
            }
        }

        if (openedTrade is not null && _requests.TryGetValue(order.Id, out var request))
        {
            OnFill(openedTrade, request, fillId, price);
        }
    }

    /// <summary>Creates the take-profit, stop-loss and trailing stop a filled order asked for on its new trade.</summary>
    private void OnFill(OandaTrade trade, OandaOrderRequest request, long fillId, long price)
    {
        bool isLong = trade.CurrentUnits > 0;
        if (request.TakeProfitPrice is long tp)
        {
            trade.TakeProfitOrderId = Dependent(trade, "TAKE_PROFIT", request.TakeProfitOnFill!, tp, null, fillId);
        }

        if (request.StopLossPrice is not null || request.StopLossDistance is not null)
        {
            long sl = request.StopLossPrice ?? (isLong ? price - request.StopLossDistance!.Value : price + request.StopLossDistance!.Value);
            trade.StopLossOrderId = Dependent(trade, "STOP_LOSS", request.StopLossOnFill!, sl, null, fillId);
        }

        if (request.TrailingDistance is long distance)
        {
            trade.TrailingStopLossOrderId = Dependent(trade, "TRAILING_STOP_LOSS", request.TrailingStopLossOnFill!, null, distance, fillId);
        }
    }

    private long Dependent(OandaTrade trade, string type, string onFill, long? price, long? distance, long fillId)
    {
        var spec = JsonNode.Parse(onFill)!.AsObject();
        string tif = spec["timeInForce"] is JsonValue v && v.TryGetValue(out string? t) && t is "GTC" or "GTD" or "GFD" ? t : "GTC";
        string? ext = spec["clientExtensions"]?.ToJsonString();
        string? clientId = spec["clientExtensions"]?["id"] is JsonValue idValue && idValue.TryGetValue(out string? id) ? id : null;
        var fields = new JsonObject { ["tradeID"] = OandaOrder.Text(trade.Id) };
        if (trade.ClientId is not null)
        {
            fields["clientTradeID"] = trade.ClientId;
        }

        var px = Px(trade.Instrument);
        if (price is long p)
        {
            fields["price"] = px(p);
        }

        if (distance is long d)
        {
            fields["distance"] = px(d);
        }

        fields["timeInForce"] = tif;
        fields["triggerCondition"] = "DEFAULT";
        fields["reason"] = "ON_FILL";
        OandaOrder.Add(fields, "clientExtensions", ext);
        fields["orderFillTransactionID"] = OandaOrder.Text(fillId);
        var tx = Append(type + "_ORDER", fields);
        var q = _quotes[trade.Instrument];
        var order = new OandaOrder
        {
            Id = tx.Id,
            Type = type,
            Instrument = trade.Instrument,
            Price = price,
            Distance = distance,
            TrailingLevel = distance is long dd ? (trade.CurrentUnits > 0 ? trade.Price - dd : trade.Price + dd) : 0,
            TimeInForce = tif,
            ClientExtensions = ext,
            ClientId = clientId,
            TradeId = trade.Id,
            CreateTime = (string)tx.Node["time"]!,
        };
        _orders.Add(order.Id, order);
        Submit(order, trade.CurrentUnits > 0 ? OrderSide.Sell : OrderSide.Buy, Math.Abs(trade.CurrentUnits), q);
        return order.Id;
    }

    private OandaTransaction CancelOrder(OandaOrder order, string reason, long? replacedBy, JsonObject? extra = null)
    {
        var fields = new JsonObject { ["orderID"] = OandaOrder.Text(order.Id) };
        if (order.ClientId is not null)
        {
            fields["clientOrderID"] = order.ClientId;
        }

        fields["reason"] = reason;
        if (replacedBy is long r)
        {
            fields["replacedByOrderID"] = OandaOrder.Text(r);
        }

        if (extra is not null)
        {
            foreach (var (name, value) in extra.ToList())
            {
                extra.Remove(name);
                fields[name] = value;
            }
        }

        bool wasPending = order.State == "PENDING";
        var tx = Append("ORDER_CANCEL", fields);
        order.State = "CANCELLED";
        order.CancelledTime = (string)tx.Node["time"]!;
        order.CancellingTransactionId = tx.Id;
        order.ReplacedByOrderId = replacedBy;
        if (wasPending)
        {
            _exchange.Cancel(new CancelOrder(new ClientOrderId(OandaOrder.Text(order.Id)), new InstrumentId(order.Instrument), Stamp()));
            _events.Clear(); // the exchange's own acknowledgement (cancelled or not working) says nothing new
        }

        if (order.TradeId is long tradeId && _trades.TryGetValue(tradeId, out var trade))
        {
            if (trade.TakeProfitOrderId == order.Id)
            {
                trade.TakeProfitOrderId = null;
            }

            if (trade.StopLossOrderId == order.Id)
            {
                trade.StopLossOrderId = null;
            }

            if (trade.TrailingStopLossOrderId == order.Id)
            {
                trade.TrailingStopLossOrderId = null;
            }
        }

        return tx;
    }

    private OandaResult CancelReject(string specifier, OandaOrder? order)
    {
        var fields = new JsonObject();
        if (order is not null)
        {
            fields["orderID"] = OandaOrder.Text(order.Id);
        }
        else if (!specifier.StartsWith('@'))
        {
            fields["orderID"] = specifier;
        }

        if (order?.ClientId is { } cid)
        {
            fields["clientOrderID"] = cid;
        }
        else if (specifier.StartsWith('@'))
        {
            fields["clientOrderID"] = specifier[1..];
        }

        fields["reason"] = "CLIENT_REQUEST";
        fields["rejectReason"] = "ORDER_DOESNT_EXIST";
        var tx = Append("ORDER_CANCEL_REJECT", fields);
        return Respond(404, w =>
        {
            Tx(w, "orderCancelRejectTransaction", tx);
            Related(w);
            w.WriteString("errorCode", "ORDER_DOESNT_EXIST");
            w.WriteString("errorMessage", "The Order specified does not exist");
        });
    }

    private void OrderOutcome(Utf8JsonWriter w, OandaOrder order, OandaTransaction? cancelFirst)
    {
        if (cancelFirst is not null)
        {
            Tx(w, "orderCancelTransaction", cancelFirst);
        }

        WriteById(w, "orderCreateTransaction", order.Id);
        if (order.FillingTransactionId is long f)
        {
            WriteById(w, "orderFillTransaction", f);
        }

        if (order.CancellingTransactionId is long c)
        {
            WriteById(w, cancelFirst is null ? "orderCancelTransaction" : "replacingOrderCancelTransaction", c);
        }

        Related(w);
    }

    // ---- state as JSON --------------------------------------------------------------------------------------------

    private JsonObject Summary()
    {
        var unrealized = Money.Zero;
        var margin = Money.Zero;
        foreach (var t in _trades.Values.Where(t => t.Open))
        {
            unrealized += UnrealizedPL(t);
            margin += MarginUsed(t);
        }

        var nav = _balance + unrealized;
        var available = Money.Max(Money.Zero, nav - margin);
        var positionValue = _portfolio.GrossExposure;
        string callPercent = nav.IsPositive ? (margin.ToDecimal() / nav.ToDecimal()).ToString("0.00000", CultureInfo.InvariantCulture) : "0.00000";
        string closeoutPercent = nav.IsPositive ? (margin.ToDecimal() / 2 / nav.ToDecimal()).ToString("0.00000", CultureInfo.InvariantCulture) : "0.00000";
        int openPositions = _trades.Values.Where(t => t.Open).Select(t => t.Instrument).Distinct(StringComparer.Ordinal).Count();
        return new JsonObject
        {
            ["id"] = AccountId,
            ["alias"] = "Keel sandbox",
            ["currency"] = _options.OandaCurrency,
            ["balance"] = Fmt(_balance),
            ["createdByUserID"] = UserId,
            ["createdTime"] = _createdTime,
            ["guaranteedStopLossOrderMode"] = "DISABLED",
            ["pl"] = Fmt(_pl),
            ["resettablePL"] = Fmt(_pl),
            ["resettablePLTime"] = "0",
            ["financing"] = "0.0000",
            ["commission"] = "0.0000",
            ["dividendAdjustment"] = "0.0000",
            ["guaranteedExecutionFees"] = "0.0000",
            ["marginRate"] = _options.OandaMarginRate.ToString(CultureInfo.InvariantCulture),
            ["openTradeCount"] = _trades.Values.Count(t => t.Open),
            ["openPositionCount"] = openPositions,
            ["pendingOrderCount"] = _orders.Values.Count(o => o.State == "PENDING"),
            ["hedgingEnabled"] = false,
            ["unrealizedPL"] = Fmt(unrealized),
            ["NAV"] = Fmt(nav),
            ["marginUsed"] = Fmt(margin),
            ["marginAvailable"] = Fmt(available),
            ["positionValue"] = Fmt(positionValue),
            ["marginCloseoutUnrealizedPL"] = Fmt(unrealized),
            ["marginCloseoutNAV"] = Fmt(nav),
            ["marginCloseoutMarginUsed"] = Fmt(margin),
            ["marginCloseoutPercent"] = closeoutPercent,
            ["marginCloseoutPositionValue"] = Fmt(positionValue),
            ["withdrawalLimit"] = Fmt(available),
            ["marginCallMarginUsed"] = Fmt(margin),
            ["marginCallPercent"] = callPercent,
            ["lastTransactionID"] = OandaOrder.Text(_lastId),
        };
    }

    private JsonObject TradeJson(OandaTrade t)
    {
        var px = Px(t.Instrument);
        var o = new JsonObject
        {
            ["id"] = OandaOrder.Text(t.Id),
            ["instrument"] = t.Instrument,
            ["price"] = px(t.Price),
            ["openTime"] = t.OpenTime,
            ["initialUnits"] = OandaOrder.Text(t.InitialUnits),
            ["initialMarginRequired"] = Fmt(t.InitialMargin),
            ["state"] = t.Open ? "OPEN" : "CLOSED",
            ["currentUnits"] = OandaOrder.Text(t.CurrentUnits),
            ["realizedPL"] = Fmt(t.RealizedPL),
            ["financing"] = "0.0000",
            ["dividendAdjustment"] = "0.0000",
        };
        if (t.Open)
        {
            o["unrealizedPL"] = Fmt(UnrealizedPL(t));
            o["marginUsed"] = Fmt(MarginUsed(t));
        }
        else
        {
            o["closeTime"] = t.CloseTime;
            var ids = new JsonArray();
            foreach (var id in t.ClosingTransactionIds)
            {
                ids.Add((JsonNode)OandaOrder.Text(id));
            }

            o["closingTransactionIDs"] = ids;
        }

        OandaOrder.Add(o, "clientExtensions", t.ClientExtensions);
        foreach (var (name, id) in new[] { ("takeProfitOrder", t.TakeProfitOrderId), ("stopLossOrder", t.StopLossOrderId), ("trailingStopLossOrder", t.TrailingStopLossOrderId) })
        {
            if (id is long d && _orders.TryGetValue(d, out var order))
            {
                o[name] = order.ToJson(px);
            }
        }

        return o;
    }

    private JsonObject PositionJson(string instrument)
    {
        var pl = _positionPl.GetValueOrDefault(instrument);
        var open = _trades.Values.Where(t => t.Open && t.Instrument == instrument).ToList();
        var longSide = Side(open.Where(t => t.CurrentUnits > 0).ToList(), pl.Long);
        var shortSide = Side(open.Where(t => t.CurrentUnits < 0).ToList(), pl.Short);
        var unrealized = open.Aggregate(Money.Zero, (m, t) => m + UnrealizedPL(t));
        var margin = open.Aggregate(Money.Zero, (m, t) => m + MarginUsed(t));
        return new JsonObject
        {
            ["instrument"] = instrument,
            ["pl"] = Fmt(pl.Long + pl.Short),
            ["resettablePL"] = Fmt(pl.Long + pl.Short),
            ["unrealizedPL"] = Fmt(unrealized),
            ["marginUsed"] = Fmt(margin),
            ["commission"] = "0.0000",
            ["financing"] = "0.0000",
            ["dividendAdjustment"] = "0.0000",
            ["guaranteedExecutionFees"] = "0.0000",
            ["long"] = longSide,
            ["short"] = shortSide,
        };

        JsonObject Side(List<OandaTrade> trades, Money sidePl)
        {
            long units = trades.Sum(t => t.CurrentUnits);
            var side = new JsonObject { ["units"] = OandaOrder.Text(units) };
            if (units != 0)
            {
                var cost = trades.Aggregate(Money.Zero, (m, t) => m + Money.Product(t.Price, Math.Abs(t.CurrentUnits) * Price.Scale));
                side["averagePrice"] = Px(instrument)(cost.DivideToPrice(Quantity.From(Math.Abs(units))).Raw);
                var ids = new JsonArray();
                foreach (var t in trades)
                {
                    ids.Add((JsonNode)OandaOrder.Text(t.Id));
                }

                side["tradeIDs"] = ids;
            }

            side["pl"] = Fmt(sidePl);
            side["resettablePL"] = Fmt(sidePl);
            side["unrealizedPL"] = Fmt(trades.Aggregate(Money.Zero, (m, t) => m + UnrealizedPL(t)));
            side["financing"] = "0.0000";
            side["dividendAdjustment"] = "0.0000";
            side["guaranteedExecutionFees"] = "0.0000";
            return side;
        }
    }

    // ---- small pieces ---------------------------------------------------------------------------------------------

    /// <summary>What closing the trade now would realize: a long closes at the bid, a short at the ask.</summary>
    private Money UnrealizedPL(OandaTrade t)
    {
        if (!_quotes.TryGetValue(t.Instrument, out var q))
        {
            return Money.Zero;
        }

        long close = t.CurrentUnits > 0 ? q.Bid : q.Ask;
        return Money.Product(close - t.Price, t.CurrentUnits * Price.Scale);
    }

    private Money MarginUsed(OandaTrade t) => Money.Product(Mid(t.Instrument), Math.Abs(t.CurrentUnits) * Price.Scale).MultiplyBy(_options.OandaMarginRate);

    private long Mid(string instrument) => _quotes.TryGetValue(instrument, out var q) ? q.Bid + ((q.Ask - q.Bid) / 2) : 0;

    private Money MarginAvailable()
    {
        var unrealized = Money.Zero;
        var margin = Money.Zero;
        foreach (var t in _trades.Values.Where(t => t.Open))
        {
            unrealized += UnrealizedPL(t);
            margin += MarginUsed(t);
        }

        return Money.Max(Money.Zero, _balance + unrealized - margin);
    }

    private Money HalfSpreadCost(long units) => Money.Product(_halfSpread, Math.Abs(units) * Price.Scale);

    private static string Fmt(Money m) => m.ToFixed(4);

    private Func<long, string> Px(string instrument)
    {
        int decimals = _decimals(instrument);
        return raw => WireText.Fixed(raw, decimals);
    }

    private long NowNanos() => Timestamp.FromDateTimeOffset(_time.GetUtcNow()).UnixNanos;

    private string Now() => WireText.Time9(NowNanos());

    private Timestamp Stamp() => Timestamp.FromUnixNanos(NowNanos());

    private OandaOrder? FindOrder(string specifier)
    {
        if (specifier.StartsWith('@'))
        {
            string cid = specifier[1..];
            return FindPendingByClientId(cid) ?? _orders.Values.Where(o => o.ClientId == cid).MaxBy(o => o.Id);
        }

        return long.TryParse(specifier, NumberStyles.None, CultureInfo.InvariantCulture, out long id) && _orders.TryGetValue(id, out var order) ? order : null;
    }

    private OandaOrder? FindPendingByClientId(string clientId) => _orders.Values.FirstOrDefault(o => o.State == "PENDING" && o.ClientId == clientId);

    private OandaTrade? FindTrade(string specifier)
    {
        if (specifier.StartsWith('@'))
        {
            string cid = specifier[1..];
            return _trades.Values.Where(t => t.ClientId == cid).MaxBy(t => t.Id);
        }

        return long.TryParse(specifier, NumberStyles.None, CultureInfo.InvariantCulture, out long id) && _trades.TryGetValue(id, out var trade) ? trade : null;
    }

    private static bool TryOrderElement(JsonElement body, out JsonElement order, out string error)
    {
        error = "Invalid value specified for 'order'";
        order = default;
        if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("order", out order) || order.ValueKind != JsonValueKind.Object)
        {
            return false;
        }

        return true;
    }

    private static bool TryCount(string? text, int fallback, int max, out int count)
    {
        count = fallback;
        return string.IsNullOrEmpty(text) || (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out count) && count >= 1 && count <= max);
    }

    private static bool TryId(string? text, out long? id)
    {
        id = null;
        if (string.IsNullOrEmpty(text))
        {
            return true;
        }

        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long value))
        {
            id = value;
            return true;
        }

        return false;
    }

    private static bool TryIds(string? text, out HashSet<long>? ids)
    {
        ids = null;
        if (string.IsNullOrEmpty(text))
        {
            return true;
        }

        ids = [];
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!long.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out long id))
            {
                return false;
            }

            ids.Add(id);
        }

        return true;
    }

    private static string[]? Types(string? text) =>
        string.IsNullOrEmpty(text) ? null : text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static bool Matches(OandaTransaction t, string[]? types) => types is null || types.Contains(t.Type);

    private static long? TimeOf(OandaTransaction t) => WireText.TryParseTime((string?)t.Node["time"], out long n) ? n : null;

    private OandaResult Respond(int status, Action<Utf8JsonWriter> body) => new(status, AlpacaWire.Write(w =>
    {
        w.WriteStartObject();
        body(w);
        w.WriteString("lastTransactionID", OandaOrder.Text(_lastId));
        w.WriteEndObject();
    }));

    private OandaResult Error(int status, string message, string? code = null) => new(status, AlpacaWire.Write(w =>
    {
        w.WriteStartObject();
        if (code is not null)
        {
            w.WriteString("lastTransactionID", OandaOrder.Text(_lastId));
            w.WriteString("errorCode", code);
        }

        w.WriteString("errorMessage", message);
        w.WriteEndObject();
    }));

    private static void Tx(Utf8JsonWriter w, string name, OandaTransaction tx)
    {
        w.WritePropertyName(name);
        w.WriteRawValue(tx.Json, skipInputValidation: true);
    }

    private void WriteById(Utf8JsonWriter w, string name, long id) => Tx(w, name, _transactions[(int)(id - _transactions[0].Id)]);

    private void Related(Utf8JsonWriter w)
    {
        w.WriteStartArray("relatedTransactionIDs");
        foreach (var id in _related)
        {
            w.WriteStringValue(OandaOrder.Text(id));
        }

        w.WriteEndArray();
    }
}
