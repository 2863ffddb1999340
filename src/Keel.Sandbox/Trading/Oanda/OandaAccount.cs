using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Keel.Domain;
using Keel.Domain.Events;
using Keel.Engine.Ports;
using Keel.Engine.Simulation;
using Keel.Sandbox.Wire;

namespace Keel.Sandbox.Trading.Oanda;

/// <summary>What an account operation answers: the HTTP status and the JSON body.</summary>
internal readonly record struct OandaResult(int Status, byte[] Body);

/// <summary>
/// One simulated OANDA v20 account (non-hedging, FIFO trades, home currency = every instrument's quote currency).
/// Working orders rest in a <see cref="SimulatedExchange"/> and fill on the sandbox's quotes (buy at the ask, sell at
/// the bid); this class turns the exchange's fills into OANDA's transactions, trades and positions. Every change is a
/// transaction with the next id; <see cref="Published"/> sees each one, in order, under the account's lock.
/// Market orders fill at once on the last quote (the quote is fed to the exchange again after the order arrives).
/// </summary>
internal sealed partial class OandaAccount : IOrderEventSink
{
    private const int UserId = 1_001;
    private static readonly string[] StateFields = ["unrealizedPL", "NAV", "marginUsed", "marginAvailable", "positionValue", "marginCloseoutUnrealizedPL", "marginCloseoutNAV",
        "marginCloseoutMarginUsed", "marginCloseoutPercent", "marginCloseoutPositionValue", "withdrawalLimit", "marginCallMarginUsed", "marginCallPercent"];
    private readonly Lock _gate = new();
    private readonly SandboxOptions _options;
    private readonly IReadOnlySet<string> _instruments;
    private readonly Func<string, int> _decimals;
    private readonly long _halfSpread;
    private readonly TimeProvider _time;
    private readonly List<OandaTransaction> _transactions = [];
    private readonly Dictionary<long, OandaOrder> _orders = [];
    private readonly SortedDictionary<long, OandaTrade> _trades = [];
    private readonly Dictionary<string, (long Bid, long Ask, long Time)> _quotes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (Money Long, Money Short)> _positionPl = new(StringComparer.Ordinal);
    private readonly List<OrderEvent> _events = [];
    private SimulatedExchange _exchange = null!;
    private Keel.Domain.Portfolio.Portfolio _portfolio = null!;
    private Money _balance;
    private Money _pl;
    private string _createdTime = "";
    private long _lastId;
    private long _requestId = 78_953_049_230_000_000;
    private long _batch;

    public OandaAccount(SandboxOptions options, IReadOnlySet<string> instruments, Func<string, int> decimals, TimeProvider time)
    {
        _options = options;
        _instruments = instruments;
        _decimals = decimals;
        _halfSpread = Price.From(options.HalfSpread).Raw;
        _time = time;
        Reset();
    }

    /// <summary>Called with every new transaction, in id order, while the account is locked (so never out of order).</summary>
    public Action<OandaTransaction>? Published { get; set; }

    public string AccountId => _options.OandaAccount;

    public long LastTransactionId
    {
        get
        {
            lock (_gate)
            {
                return _lastId;
            }
        }
    }

    /// <summary>A fresh account: no orders, trades or history but its CREATE and deposit transactions.</summary>
    public void Reset()
    {
        lock (_gate)
        {
            _transactions.Clear();
            _orders.Clear();
            _trades.Clear();
            _positionPl.Clear();
            _events.Clear();
            _lastId = 0;
            var instruments = _instruments.Select(s => new Instrument(new InstrumentId(s), AssetClass.Forex, Price.FromRaw(Pow10(9 - _decimals(s))), Quantity.From(1), "USD"));
            _portfolio = new Keel.Domain.Portfolio.Portfolio(Money.From(_options.OandaBalance), 50m);
            _exchange = new SimulatedExchange(new SimulatedExchangeOptions { CheckBuyingPower = false }, instruments, _portfolio);
            _exchange.Connect(this);
            _balance = Money.Zero;
            _pl = Money.Zero;
            _createdTime = Now();
            Begin();
            Append("CREATE", new JsonObject
            {
                ["divisionID"] = 4,
                ["siteID"] = 101,
                ["accountUserID"] = UserId,
                ["accountNumber"] = 1,
                ["homeCurrency"] = _options.OandaCurrency,
                ["reason"] = "CLIENT_REQUEST",
            });
            _balance = Money.From(_options.OandaBalance);
            Append("TRANSFER_FUNDS", new JsonObject
            {
                ["amount"] = Fmt(_balance),
                ["fundingReason"] = "CLIENT_FUNDED",
                ["accountBalance"] = Fmt(_balance),
            });
        }
    }

    void IOrderEventSink.OnOrderEvent(OrderEvent orderEvent) => _events.Add(orderEvent);

    /// <summary>A new price of an instrument (mid; bid and ask from the half spread): working orders match on it.</summary>
    public void OnPrice(string instrument, long time, long mid)
    {
        if (!_instruments.Contains(instrument))
        {
            return;
        }

        lock (_gate)
        {
            _quotes[instrument] = (mid - _halfSpread, mid + _halfSpread, time);
            _portfolio.Mark(new InstrumentId(instrument), Price.FromRaw(mid));
            Begin();
            ExpireOrders();
            Trail(instrument);
            Feed(instrument);
        }
    }

    // ---- orders ---------------------------------------------------------------------------------------------------

    /// <summary><c>POST …/orders</c>.</summary>
    public OandaResult CreateOrder(JsonElement body)
    {
        lock (_gate)
        {
            if (!TryOrderElement(body, out var element, out var error))
            {
                return Error(400, error);
            }

            var request = OandaOrderRequest.Parse(element, _instruments, _decimals);
            if (request.ValidationError is { } invalid)
            {
                return Error(400, invalid);
            }

            Begin();
            if (request.RejectReason is null && request.ClientId is { } cid && FindPendingByClientId(cid) is not null)
            {
                request = request with { RejectReason = "CLIENT_ORDER_ID_ALREADY_EXISTS" };
            }

            if (request.RejectReason is { } reason)
            {
                var reject = Append(request.Type + "_ORDER_REJECT", request.Echo(reason, "CLIENT_ORDER"));
                return Respond(400, w =>
                {
                    Tx(w, "orderRejectTransaction", reject);
                    Related(w);
                    w.WriteString("errorCode", reason);
                    w.WriteString("errorMessage", OandaOrderRequest.Message(reason));
                });
            }

            var order = Create(request, "CLIENT_ORDER", replaces: null);
            return Respond(201, w => OrderOutcome(w, order, cancelFirst: null));
        }
    }

    /// <summary><c>PUT …/orders/{specifier}</c>: cancel the pending order and create its replacement (a new id).</summary>
    public OandaResult ReplaceOrder(string specifier, JsonElement body)
    {
        lock (_gate)
        {
            var old = FindOrder(specifier);
            if (old is null || old.State != "PENDING")
            {
                Begin();
                return CancelReject(specifier, old);
            }

            if (!TryOrderElement(body, out var element, out var error))
            {
                return Error(400, error);
            }

            var request = OandaOrderRequest.Parse(element, _instruments, _decimals);
            if (request.ValidationError is { } invalid)
            {
                return Error(400, invalid);
            }

            Begin();
            if (request.RejectReason is null && request.ClientId is { } cid && FindPendingByClientId(cid) is { } other && other.Id != old.Id)
            {
                request = request with { RejectReason = "CLIENT_ORDER_ID_ALREADY_EXISTS" };
            }

            if (request.RejectReason is { } reason)
            {
                var reject = Append(request.Type + "_ORDER_REJECT", request.Echo(reason, "REPLACEMENT"));
                return Respond(400, w =>
                {
                    Tx(w, "orderRejectTransaction", reject);
                    Related(w);
                    w.WriteString("errorCode", reason);
                    w.WriteString("errorMessage", OandaOrderRequest.Message(reason));
                });
            }

            var cancel = CancelOrder(old, "CLIENT_REQUEST_REPLACED", replacedBy: _lastId + 2);
            var order = Create(request, "REPLACEMENT", replaces: old.Id);
            return Respond(201, w => OrderOutcome(w, order, cancel));
        }
    }

    /// <summary><c>PUT …/orders/{specifier}/cancel</c>.</summary>
    public OandaResult CancelOrder(string specifier)
    {
        lock (_gate)
        {
            Begin();
            var order = FindOrder(specifier);
            if (order is null || order.State != "PENDING")
            {
                return CancelReject(specifier, order);
            }

            var cancel = CancelOrder(order, "CLIENT_REQUEST", replacedBy: null);
            return Respond(200, w =>
            {
                Tx(w, "orderCancelTransaction", cancel);
                Related(w);
            });
        }
    }

    public OandaResult GetOrder(string specifier)
    {
        lock (_gate)
        {
            var order = FindOrder(specifier);
            if (order is null)
            {
                return Error(404, "The Order specified does not exist", "NO_SUCH_ORDER");
            }

            return Respond(200, w =>
            {
                w.WritePropertyName("order");
                order.ToJson(Px(order.Instrument)).WriteTo(w);
            });
        }
    }

    /// <summary><c>GET …/orders</c> (state PENDING by default, FILLED, TRIGGERED, CANCELLED, ALL; instrument; count; beforeID; ids).</summary>
    public OandaResult ListOrders(string? state, string? instrument, string? countText, string? beforeIdText, string? idsText)
    {
        lock (_gate)
        {
            state = string.IsNullOrEmpty(state) ? "PENDING" : state;
            if (state is not ("PENDING" or "FILLED" or "TRIGGERED" or "CANCELLED" or "ALL"))
            {
                return Error(400, "Invalid value specified for 'state'");
            }

            if (!TryCount(countText, 50, 500, out int count) || !TryId(beforeIdText, out long? before) || !TryIds(idsText, out var ids))
            {
                return Error(400, "Invalid value specified for 'count', 'beforeID' or 'ids'");
            }

            var list = _orders.Values
                .Where(o => state == "ALL" || o.State == state)
                .Where(o => string.IsNullOrEmpty(instrument) || o.Instrument == instrument)
                .Where(o => before is null || o.Id < before)
                .Where(o => ids is null || ids.Contains(o.Id))
                .OrderByDescending(o => o.Id).Take(count).ToList();
            return Respond(200, w =>
            {
                w.WriteStartArray("orders");
                foreach (var o in list)
                {
                    o.ToJson(Px(o.Instrument)).WriteTo(w);
                }

                w.WriteEndArray();
            });
        }
    }

    // ---- trades and positions -------------------------------------------------------------------------------------

    /// <summary><c>GET …/trades</c> (state OPEN by default, CLOSED, ALL; instrument; count; beforeID; ids).</summary>
    public OandaResult ListTrades(string? state, string? instrument, string? countText, string? beforeIdText, string? idsText)
    {
        lock (_gate)
        {
            state = string.IsNullOrEmpty(state) ? "OPEN" : state;
            if (state is not ("OPEN" or "CLOSED" or "CLOSE_WHEN_TRADEABLE" or "ALL"))
            {
                return Error(400, "Invalid value specified for 'state'");
            }

            if (!TryCount(countText, 50, 500, out int count) || !TryId(beforeIdText, out long? before) || !TryIds(idsText, out var ids))
            {
                return Error(400, "Invalid value specified for 'count', 'beforeID' or 'ids'");
            }

            var list = _trades.Values
                .Where(t => state == "ALL" || (state == "OPEN" && t.Open) || (state == "CLOSED" && !t.Open))
                .Where(t => string.IsNullOrEmpty(instrument) || t.Instrument == instrument)
                .Where(t => before is null || t.Id < before)
                .Where(t => ids is null || ids.Contains(t.Id))
                .OrderByDescending(t => t.Id).Take(count).ToList();
            return Respond(200, w =>
            {
                w.WriteStartArray("trades");
                foreach (var t in list)
                {
                    TradeJson(t).WriteTo(w);
                }

                w.WriteEndArray();
            });
        }
    }

    public OandaResult GetTrade(string specifier)
    {
        lock (_gate)
        {
            var trade = FindTrade(specifier);
            if (trade is null)
            {
                return Error(404, "The Trade specified does not exist", "NO_SUCH_TRADE");
            }

            return Respond(200, w =>
            {
                w.WritePropertyName("trade");
                TradeJson(trade).WriteTo(w);
            });
        }
    }

    /// <summary><c>PUT …/trades/{specifier}/close</c> with units ALL or a number; also the sandbox's close "by hand".</summary>
    public OandaResult CloseTrade(string specifier, string? unitsText)
    {
        lock (_gate)
        {
            var trade = FindTrade(specifier);
            if (trade is null || !trade.Open)
            {
                return Error(404, "The Trade specified does not exist", "NO_SUCH_TRADE");
            }

            long units = Math.Abs(trade.CurrentUnits);
            if (!string.IsNullOrEmpty(unitsText) && unitsText != "ALL")
            {
                if (!long.TryParse(unitsText, NumberStyles.None, CultureInfo.InvariantCulture, out units) || units <= 0)
                {
                    return Error(400, "Invalid value specified for 'units'", "CLOSE_TRADE_UNITS_INVALID");
                }

                if (units > Math.Abs(trade.CurrentUnits))
                {
                    return Error(400, "The units specified exceed the size of the Trade", "CLOSE_TRADE_UNITS_EXCEED_TRADE_SIZE");
                }
            }

            Begin();
            var request = OandaOrderRequest.Close(trade.Instrument, -Math.Sign(trade.CurrentUnits) * units);
            var extra = new JsonObject { ["tradeClose"] = new JsonObject { ["units"] = unitsText is null or "ALL" ? "ALL" : OandaOrder.Text(units), ["tradeID"] = OandaOrder.Text(trade.Id) } };
            var order = Create(request, "TRADE_CLOSE", replaces: null, closeTrade: trade.Id, extra: extra, fillReason: "MARKET_ORDER_TRADE_CLOSE");
            return Respond(200, w => OrderOutcome(w, order, cancelFirst: null));
        }
    }

    public OandaResult ListPositions(bool openOnly)
    {
        lock (_gate)
        {
            var instruments = _trades.Values.Select(t => t.Instrument).Concat(_positionPl.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
                .Where(i => !openOnly || _trades.Values.Any(t => t.Open && t.Instrument == i)).ToList();
            return Respond(200, w =>
            {
                w.WriteStartArray("positions");
                foreach (var i in instruments)
                {
                    PositionJson(i).WriteTo(w);
                }

                w.WriteEndArray();
            });
        }
    }

    public OandaResult GetPosition(string instrument)
    {
        lock (_gate)
        {
            if (!_instruments.Contains(instrument))
            {
                return Error(400, "Invalid value specified for 'instrument'");
            }

            return Respond(200, w =>
            {
                w.WritePropertyName("position");
                PositionJson(instrument).WriteTo(w);
            });
        }
    }

    /// <summary><c>PUT …/positions/{instrument}/close</c> with longUnits and/or shortUnits (ALL, NONE or a number).</summary>
    public OandaResult ClosePosition(string instrument, string? longUnits, string? shortUnits)
    {
        lock (_gate)
        {
            if (!_instruments.Contains(instrument))
            {
                return Error(400, "Invalid value specified for 'instrument'");
            }

            long longOpen = _trades.Values.Where(t => t.Open && t.Instrument == instrument && t.CurrentUnits > 0).Sum(t => t.CurrentUnits);
            long shortOpen = -_trades.Values.Where(t => t.Open && t.Instrument == instrument && t.CurrentUnits < 0).Sum(t => t.CurrentUnits);
            if (longUnits is null && shortUnits is null)
            {
                longUnits = longOpen > 0 ? "ALL" : null;
                shortUnits = shortOpen > 0 ? "ALL" : null;
            }

            long? longClose = null, shortClose = null;
            foreach (var (text, open, assign) in new (string?, long, Action<long>)[] { (longUnits, longOpen, v => longClose = v), (shortUnits, shortOpen, v => shortClose = v) })
            {
                if (text is null or "NONE")
                {
                    continue;
                }

                long units = open;
                if (text != "ALL" && (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out units) || units <= 0))
                {
                    return Error(400, "Invalid value specified for 'longUnits' or 'shortUnits'");
                }

                if (open == 0 || units > open)
                {
                    return Error(400, "The Position requested to be closed out does not exist or is smaller than the units given", "CLOSEOUT_POSITION_DOESNT_EXIST");
                }

                assign(units);
            }

            if (longClose is null && shortClose is null)
            {
                return Error(400, "The Position requested to be closed out does not exist", "CLOSEOUT_POSITION_DOESNT_EXIST");
            }

            Begin();
            OandaOrder? longOrder = null, shortOrder = null;
            if (longClose is long l)
            {
                var extra = new JsonObject { ["longPositionCloseout"] = new JsonObject { ["instrument"] = instrument, ["units"] = longUnits == "ALL" ? "ALL" : OandaOrder.Text(l) } };
                longOrder = Create(OandaOrderRequest.Close(instrument, -l), "POSITION_CLOSEOUT", null, extra: extra, fillReason: "MARKET_ORDER_POSITION_CLOSEOUT");
            }

            if (shortClose is long s)
            {
                var extra = new JsonObject { ["shortPositionCloseout"] = new JsonObject { ["instrument"] = instrument, ["units"] = shortUnits == "ALL" ? "ALL" : OandaOrder.Text(s) } };
                shortOrder = Create(OandaOrderRequest.Close(instrument, s), "POSITION_CLOSEOUT", null, extra: extra, fillReason: "MARKET_ORDER_POSITION_CLOSEOUT");
            }

            return Respond(200, w =>
            {
                foreach (var (prefix, order) in new[] { ("long", longOrder), ("short", shortOrder) })
                {
                    if (order is null)
                    {
                        continue;
                    }

                    WriteById(w, prefix + "OrderCreateTransaction", order.Id);
                    if (order.FillingTransactionId is long f)
                    {
                        WriteById(w, prefix + "OrderFillTransaction", f);
                    }

                    if (order.CancellingTransactionId is long c)
                    {
                        WriteById(w, prefix + "OrderCancelTransaction", c);
                    }
                }

                Related(w);
            });
        }
    }

    // ---- account and transactions ---------------------------------------------------------------------------------

    public OandaResult Account(bool full)
    {
        lock (_gate)
        {
            var account = Summary();
            if (full)
            {
                var trades = new JsonArray();
                foreach (var t in _trades.Values.Where(t => t.Open))
                {
                    trades.Add((JsonNode)TradeJson(t));
                }

                var orders = new JsonArray();
                foreach (var o in _orders.Values.Where(o => o.State == "PENDING").OrderBy(o => o.Id))
                {
                    orders.Add((JsonNode)o.ToJson(Px(o.Instrument)));
                }

                var positions = new JsonArray();
                foreach (var i in _positionPl.Keys.Concat(_trades.Values.Select(t => t.Instrument)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
                {
                    positions.Add((JsonNode)PositionJson(i));
                }

                account["trades"] = trades;
                account["orders"] = orders;
                account["positions"] = positions;
            }

            return Respond(200, w =>
            {
                w.WritePropertyName("account");
                account.WriteTo(w);
            });
        }
    }

    /// <summary><c>GET …/transactions</c>: page URLs (idrange, absolute, at <paramref name="baseUrl"/>) of the transactions between two times.</summary>
    public OandaResult TransactionPages(string baseUrl, string? fromText, string? toText, string? pageSizeText, string? typeText)
    {
        lock (_gate)
        {
            long from = long.MinValue, to = long.MaxValue;
            if ((fromText is not null && !WireText.TryParseTime(fromText, out from) && !WireText.TryParseUnix(fromText, out from))
                || (toText is not null && !WireText.TryParseTime(toText, out to) && !WireText.TryParseUnix(toText, out to)))
            {
                return Error(400, "Invalid value specified for 'from' or 'to'");
            }

            if (!TryCount(pageSizeText, 100, 1000, out int pageSize))
            {
                return Error(400, "Invalid value specified for 'pageSize'. Must be between 1 and 1000");
            }

            var types = Types(typeText);
            var ids = _transactions.Where(t => Matches(t, types) && TimeOf(t) is long n && n >= from && n <= to).Select(t => t.Id).ToList();
            return Respond(200, w =>
            {
                w.WriteString("from", fromText is null ? _createdTime : WireText.Time9(from));
                w.WriteString("to", toText is null ? Now() : WireText.Time9(to));
                w.WriteNumber("pageSize", pageSize);
                if (types is not null)
                {
                    w.WriteStartArray("type");
                    foreach (var t in types)
                    {
                        w.WriteStringValue(t);
                    }

                    w.WriteEndArray();
                }

                w.WriteNumber("count", ids.Count);
                w.WriteStartArray("pages");
                for (int i = 0; i < ids.Count; i += pageSize)
                {
                    long first = ids[i], last = ids[Math.Min(ids.Count, i + pageSize) - 1];
                    var url = $"{baseUrl}/v3/accounts/{AccountId}/transactions/idrange?from={first}&to={last}";
                    w.WriteStringValue(types is null ? url : url + "&type=" + string.Join(',', types));
                }

                w.WriteEndArray();
            });
        }
    }

    /// <summary><c>GET …/transactions/idrange?from=&amp;to=</c> (inclusive) and <c>…/sinceid?id=</c> (exclusive).</summary>
    public OandaResult TransactionRange(string? fromText, string? toText, string? typeText, bool since)
    {
        lock (_gate)
        {
            if (!TryId(fromText, out long? from) || from is null || (!since && (!TryId(toText, out long? to) || to is null || to < from)))
            {
                return Error(400, since ? "Invalid value specified for 'id'" : "Invalid value specified for 'from' or 'to'");
            }

            long upper = since ? long.MaxValue : long.Parse(toText!, CultureInfo.InvariantCulture);
            long lower = since ? from.Value + 1 : from.Value;
            var types = Types(typeText);
            return Respond(200, w =>
            {
                w.WriteStartArray("transactions");
                foreach (var t in _transactions)
                {
                    if (t.Id >= lower && t.Id <= upper && Matches(t, types))
                    {
                        w.WriteRawValue(t.Json, skipInputValidation: true);
                    }
                }

                w.WriteEndArray();
            });
        }
    }

    public OandaResult GetTransaction(string idText)
    {
        lock (_gate)
        {
            if (!TryId(idText, out long? id) || id is null || id < 1 || id > _lastId)
            {
                return Error(404, "The transaction ID specified does not exist", "NO_SUCH_TRANSACTION");
            }

            return Respond(200, w => WriteById(w, "transaction", id.Value));
        }
    }

    /// <summary><c>GET …/changes?sinceTransactionID=N</c>: what changed after N, and the price-dependent state now.</summary>
    public OandaResult Changes(string? sinceText)
    {
        lock (_gate)
        {
            if (!TryId(sinceText, out long? since) || since is null || since > _lastId)
            {
                return Error(400, "Invalid value specified for 'sinceTransactionID'");
            }

            var created = new SortedSet<long>();
            var cancelled = new SortedSet<long>();
            var filled = new SortedSet<long>();
            var opened = new SortedSet<long>();
            var reduced = new SortedSet<long>();
            var closed = new SortedSet<long>();
            var instruments = new SortedSet<string>(StringComparer.Ordinal);
            var after = _transactions.Where(t => t.Id > since).ToList();
            foreach (var t in after)
            {
                var n = t.Node;
                if (_orders.ContainsKey(t.Id))
                {
                    created.Add(t.Id);
                }

                if (t.Type == "ORDER_CANCEL")
                {
                    cancelled.Add(long.Parse((string)n["orderID"]!, CultureInfo.InvariantCulture));
                }

                if (t.Type == "ORDER_FILL")
                {
                    filled.Add(long.Parse((string)n["orderID"]!, CultureInfo.InvariantCulture));
                    instruments.Add((string)n["instrument"]!);
                    if (n["tradeOpened"] is JsonObject o)
                    {
                        opened.Add(long.Parse((string)o["tradeID"]!, CultureInfo.InvariantCulture));
                    }

                    if (n["tradeReduced"] is JsonObject r)
                    {
                        reduced.Add(long.Parse((string)r["tradeID"]!, CultureInfo.InvariantCulture));
                    }

                    if (n["tradesClosed"] is JsonArray c)
                    {
                        foreach (var x in c)
                        {
                            closed.Add(long.Parse((string)x!["tradeID"]!, CultureInfo.InvariantCulture));
                        }
                    }
                }
            }

            var summary = Summary();
            return Respond(200, w =>
            {
                w.WriteStartObject("changes");
                WriteOrders(w, "ordersCreated", created);
                WriteOrders(w, "ordersCancelled", cancelled);
                WriteOrders(w, "ordersFilled", filled);
                WriteOrders(w, "ordersTriggered", []);
                WriteTrades(w, "tradesOpened", opened);
                WriteTrades(w, "tradesReduced", reduced);
                WriteTrades(w, "tradesClosed", closed);
                w.WriteStartArray("positions");
                foreach (var i in instruments)
                {
                    PositionJson(i).WriteTo(w);
                }

                w.WriteEndArray();
                w.WriteStartArray("transactions");
                foreach (var t in after)
                {
                    w.WriteRawValue(t.Json, skipInputValidation: true);
                }

                w.WriteEndArray();
                w.WriteEndObject();
                w.WriteStartObject("state");
                foreach (var name in StateFields)
                {
                    w.WriteString(name, (string)summary[name]!);
                }

                w.WriteStartArray("orders");
                w.WriteEndArray();
                w.WriteStartArray("trades");
                foreach (var t in _trades.Values.Where(t => t.Open))
                {
                    w.WriteStartObject();
                    w.WriteString("id", OandaOrder.Text(t.Id));
                    w.WriteString("unrealizedPL", Fmt(UnrealizedPL(t)));
                    w.WriteString("marginUsed", Fmt(MarginUsed(t)));
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteStartArray("positions");
                w.WriteEndArray();
                w.WriteEndObject();
            });

            void WriteOrders(Utf8JsonWriter w, string name, IEnumerable<long> ids)
            {
                w.WriteStartArray(name);
                foreach (var id in ids)
                {
                    if (_orders.TryGetValue(id, out var o))
                    {
                        o.ToJson(Px(o.Instrument)).WriteTo(w);
                    }
                }

                w.WriteEndArray();
            }

            void WriteTrades(Utf8JsonWriter w, string name, IEnumerable<long> ids)
            {
                w.WriteStartArray(name);
                foreach (var id in ids)
                {
                    if (_trades.TryGetValue(id, out var t))
                    {
                        TradeJson(t).WriteTo(w);
                    }
                }

                w.WriteEndArray();
            }
        }
    }

    /// <summary>Net units of the open trades in <paramref name="instrument"/> and its pending orders that are not a trade's dependents.</summary>
    public (Quantity Position, int OpenOrders) Holdings(string instrument)
    {
        lock (_gate)
        {
            long units = _trades.Values.Where(t => t.Open && t.Instrument == instrument).Sum(t => t.CurrentUnits);
            int open = _orders.Values.Count(o => o.State == "PENDING" && o.Instrument == instrument && o.Units != 0);
            return (Quantity.From(units), open);
        }
    }

    /// <summary>Runs <paramref name="action"/> under the account's lock (stream sessions read the last id and subscribe atomically).</summary>
    public T Locked<T>(Func<T> action)
    {
        lock (_gate)
        {
            return action();
        }
    }

    /// <summary>Price decimals of an instrument only scripted prices move: 3 for JPY crosses, 5 otherwise (OANDA's display precision).</summary>
    public static int ScriptedDecimals(string instrument) => instrument.EndsWith("JPY", StringComparison.Ordinal) ? 3 : 5;

    private static long Pow10(int k)
    {
        long v = 1;
        for (int i = 0; i < k; i++)
        {
            v *= 10;
        }

        return v;
    }
}
