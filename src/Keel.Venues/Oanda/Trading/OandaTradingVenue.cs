using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Keel.Domain;
using Keel.Domain.Orders;
using Keel.Engine.Ports;
using Keel.Venues.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Keel.Venues.Oanda.Trading;

/// <summary>An open trade (OANDA's unit of a position: one fill's units, closed first in, first out). <see cref="Units"/> is signed.</summary>
public sealed record OandaOpenTrade(string Id, InstrumentId Instrument, Quantity Units, Price Price, Timestamp OpenTime, string? ClientTradeId);

/// <summary>What changed after a transaction id (<c>GET …/changes</c>), and the account's price-dependent state now.</summary>
public sealed record OandaAccountChanges(
    IReadOnlyList<string> OrdersCreated,
    IReadOnlyList<string> OrdersFilled,
    IReadOnlyList<string> OrdersCancelled,
    IReadOnlyList<string> TradesOpened,
    IReadOnlyList<string> TradesClosed,
    IReadOnlyList<OandaTransaction> Transactions,
    Money Nav,
    Money MarginAvailable,
    VenueWatermark Last);

/// <summary>Counts of what the adapter met on the wire (read from any thread).</summary>
public sealed class OandaTradingStats
{
    private long _malformed;
    private long _unknownTypes;
    private long _duplicates;
    private long _reconnects;
    private long _catchUps;
    private long _caughtUp;
    private long _stale;
    private long _unknownOutcomes;
    private long _rateLimited;

    /// <summary>Replies and stream lines that could not be read (each logged with its RequestID).</summary>
    public long Malformed => Interlocked.Read(ref _malformed);

    public long UnknownTransactionTypes => Interlocked.Read(ref _unknownTypes);

    /// <summary>Transactions seen again (stream repeats, stream and REST overlap) and ignored.</summary>
    public long Duplicates => Interlocked.Read(ref _duplicates);

    public long Reconnects => Interlocked.Read(ref _reconnects);

    public long CatchUps => Interlocked.Read(ref _catchUps);

    /// <summary>Transactions applied from REST because the stream had not delivered them.</summary>
    public long CaughtUpTransactions => Interlocked.Read(ref _caughtUp);

    /// <summary>Streams replaced because nothing, not even a heartbeat, came in time.</summary>
    public long StaleStreams => Interlocked.Read(ref _stale);

    public long UnknownOutcomes => Interlocked.Read(ref _unknownOutcomes);

    /// <summary>429 answers met by order requests.</summary>
    public long RateLimited => Interlocked.Read(ref _rateLimited);

    internal void CountMalformed() => Interlocked.Increment(ref _malformed);

    internal void CountUnknownType() => Interlocked.Increment(ref _unknownTypes);

    internal void CountDuplicate() => Interlocked.Increment(ref _duplicates);

    internal void CountReconnect() => Interlocked.Increment(ref _reconnects);

    internal void CountCatchUp(int applied)
    {
        Interlocked.Increment(ref _catchUps);
        Interlocked.Add(ref _caughtUp, applied);
    }

    internal void CountStale() => Interlocked.Increment(ref _stale);

    internal void CountUnknownOutcome() => Interlocked.Increment(ref _unknownOutcomes);

    internal void CountRateLimited() => Interlocked.Increment(ref _rateLimited);
}

/// <summary>
/// OANDA v20 as an <see cref="IVenuePort"/>: orders (market, limit, stop, stop with price bound, market-if-touched;
/// take-profit, stop-loss and trailing stop on fill), replace, cancel, trades, positions, the account, transactions,
/// and the transactions stream mapped to order events.
/// </summary>
/// <remarks>
/// <para>Keel's client id travels as <c>clientExtensions.id</c>. OANDA keeps it unique only among pending orders, so a
/// market order has no idempotency at the venue: an order request is sent once, never again by this adapter, and an
/// answer that never came (timeout, reset, lost response, 5xx) is <see cref="VenueOutcomeKind.Unknown"/>, resolved
/// by <see cref="GetOrderAsync"/> / <see cref="FindByClientIdAsync"/> (a transaction scan from the last transaction id
/// seen before the send). Only a 429 is sent again: OANDA refuses it before doing anything.</para>
/// <para>Outcomes: 201 with <c>orderCreateTransaction</c> is accepted (with the order id), unless the same reply
/// cancels the order at once (a FOK market order: <c>INSUFFICIENT_MARGIN</c> is insufficient funds, any other reason
/// rejected); 400/404 with a reject transaction or <c>errorMessage</c> is rejected (<c>INSUFFICIENT_MARGIN</c> as
/// insufficient funds); 401/403 a permanent error. A reply that cannot be read after an order request is unknown (the
/// order may exist); after a query it is a <see cref="VenueQueryException"/>; both are logged with OANDA's RequestID and counted.</para>
/// <para>What OANDA cannot express: an OCO between standalone orders, an exit for less than the whole entry (on-fill
/// exits close the trade they open), a stop-limit exit, a trailing stop from <see cref="SubmitOrder"/> (use
/// <see cref="OandaOrderExtras"/>). Those lists are rejected before anything is sent.</para>
/// </remarks>
public sealed partial class OandaTradingVenue : IVenuePort, ILatestQuotes
{
    private readonly OandaTradingOptions _options;
    private readonly HttpClient _rest;
    private readonly HttpClient _streamHttp;
    private readonly RestRetry _retry;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly ConcurrentDictionary<ClientOrderId, long> _sentAfter = new();
    private long _lastSeenTransaction;

    /// <param name="handler">The HTTP handler to send through (a test's, or null for a pooled <see cref="SocketsHttpHandler"/>); not disposed by the venue.</param>
    public OandaTradingVenue(OandaTradingOptions options, HttpMessageHandler? handler = null, TimeProvider? time = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _time = time ?? TimeProvider.System;
        _log = logger ?? NullLogger.Instance;
        _ownedHandler = handler is null ? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), AutomaticDecompression = DecompressionMethods.All } : null;
        var h = handler ?? _ownedHandler!;
        _rest = new HttpClient(h, disposeHandler: false) { Timeout = options.RequestTimeout };
        _streamHttp = new HttpClient(h, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };
        _retry = new RestRetry(_time, options.QueryRetryDelay, options.RateLimitMaxWait, _log);
    }

    private readonly HttpMessageHandler? _ownedHandler;

    public string Name => "oanda";

    public string Account => $"oanda account {_options.Account} at {_options.RestUrl.Authority}";

    public OandaTradingStats Stats { get; } = new();

    // ---- orders ---------------------------------------------------------------------------------------------------

    public Task<VenueOutcome> SubmitAsync(SubmitOrder order, CancellationToken ct = default) => SubmitAsync(order, null, ct);

    /// <summary>Submits one order with OANDA's extras (market-if-touched, price bound, exits on fill).</summary>
    public Task<VenueOutcome> SubmitAsync(SubmitOrder order, OandaOrderExtras? extras, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(order);
        if (order.Type == OrderType.Market && extras?.MarketIfTouched == true)
        {
            return Task.FromResult(VenueOutcome.Rejected("a market-if-touched order needs a price: send it as a limit or stop order with MarketIfTouched"));
        }

        _sentAfter[order.ClientOrderId] = Interlocked.Read(ref _lastSeenTransaction);
        var body = OandaWire.OrderBody(order, extras);
        return OrderRequestAsync(HttpMethod.Post, "/orders", body, $"submit {order.ClientOrderId}", order.ClientOrderId, r => Created(r, replace: false), ct);
    }

    /// <summary>
    /// A bracket (an entry whose linked orders are a take-profit limit and/or a stop-loss stop for the same quantity on
    /// the other side) becomes one order with <c>takeProfitOnFill</c>/<c>stopLossOnFill</c>, each exit carrying its own
    /// client id; a single order is submitted as it is. Anything else is rejected without sending (see the class remarks).
    /// </summary>
    public Task<VenueOutcome> SubmitListAsync(SubmitOrderList list, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(list);
        var (extras, entry, problem) = Bracket(list.Orders);
        return problem is not null ? Task.FromResult(VenueOutcome.Rejected(problem, "NOT_EXPRESSIBLE")) : SubmitAsync(entry!, extras, ct);
    }

    internal static (OandaOrderExtras? Extras, SubmitOrder? Entry, string? Problem) Bracket(IReadOnlyList<SubmitOrder> orders)
    {
        var entries = orders.Where(o => o.ParentId is null).ToList();
        if (entries.Count != 1)
        {
            return (null, null, $"OANDA takes one entry with its exits on fill; this list has {entries.Count} orders without a parent (an OCO between standalone orders cannot be expressed)");
        }

        var entry = entries[0];
        var extras = new OandaOrderExtras();
        foreach (var exit in orders.Where(o => o.ParentId is not null))
        {
            if (exit.ParentId != entry.ClientOrderId)
            {
                return (null, null, $"exit {exit.ClientOrderId} belongs to {exit.ParentId}, not to the entry {entry.ClientOrderId}");
            }

            if (exit.Side == entry.Side || exit.Quantity != entry.Quantity || exit.Instrument != entry.Instrument)
            {
                return (null, null, $"exit {exit.ClientOrderId} must close the whole entry ({entry.Quantity} {entry.Instrument} the other way); OANDA's exits on fill close the trade they open");
            }

            switch (exit.Type)
            {
                case OrderType.Limit when extras.TakeProfit is null && exit.LimitPrice is { } tp:
                    extras = extras with { TakeProfit = tp, TakeProfitClientId = exit.ClientOrderId, ExitTimeInForce = exit.TimeInForce };
                    break;
                case OrderType.Stop when extras.StopLoss is null && exit.StopPrice is { } sl:
                    extras = extras with { StopLoss = sl, StopLossClientId = exit.ClientOrderId, ExitTimeInForce = exit.TimeInForce };
                    break;
                default:
                    return (null, null, $"exit {exit.ClientOrderId} ({exit.Type}) cannot be expressed: OANDA takes one take-profit limit and one stop-loss stop per entry");
            }
        }

        return (extras, entry, null);
    }

    public Task<VenueOutcome> CancelAsync(CancelOrder cancel, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(cancel);
        return OrderRequestAsync(HttpMethod.Put, $"/orders/{ClientSpec(cancel.ClientOrderId)}/cancel", null, $"cancel {cancel.ClientOrderId}", null, r =>
        {
            if (r.Status == HttpStatusCode.OK)
            {
                return Read(r, "cancel", root => root.TryGetProperty("orderCancelTransaction", out var tx)
                    ? VenueOutcome.Accepted(OandaTransaction.Str(tx, "orderID") is { } id ? new VenueOrderId(id) : null, r.RequestId)
                    : throw new OandaProtocolException("the cancel reply has no orderCancelTransaction", r.RequestId));
            }

            return Refused(r);
        }, ct);
    }

    public Task<VenueOutcome> ReplaceAsync(ReplaceOrder replace, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(replace);
        _sentAfter[replace.Replacement.ClientOrderId] = Interlocked.Read(ref _lastSeenTransaction);
        var body = OandaWire.OrderBody(replace.Replacement, null);
        return OrderRequestAsync(HttpMethod.Put, $"/orders/{ClientSpec(replace.ClientOrderId)}", body, $"replace {replace.ClientOrderId}", replace.Replacement.ClientOrderId, r => Created(r, replace: true), ct);
    }

    /// <summary>Closes a trade (all of it, or <paramref name="units"/>) with a market order OANDA creates; accepted with that order's id.</summary>
    public Task<VenueOutcome> CloseTradeAsync(string tradeId, Quantity? units = null, CancellationToken ct = default)
    {
        var body = OandaWire.Json(w => w.WriteString("units", units is { } u ? u.Abs().ToString() : "ALL"));
        return OrderRequestAsync(HttpMethod.Put, $"/trades/{Uri.EscapeDataString(tradeId)}/close", body, $"close trade {tradeId}", null, r => r.Status == HttpStatusCode.OK ? Filled(r, "") : Refused(r), ct);
    }

    /// <summary>Closes the whole position in <paramref name="instrument"/> (long and short units, whichever are open).</summary>
    public async Task<VenueOutcome> ClosePositionAsync(InstrumentId instrument, CancellationToken ct = default)
    {
        var reply = await QueryAsync($"/positions/{Uri.EscapeDataString(instrument.Symbol)}", "position", ct).ConfigureAwait(false);
        if (reply.Status != HttpStatusCode.OK)
        {
            return Refused(reply);
        }

        var (longUnits, shortUnits) = Parse(reply, "position", root =>
        {
            var p = root.GetProperty("position");
            return (OandaWire.Qty(p.GetProperty("long"), "units", reply.RequestId), OandaWire.Qty(p.GetProperty("short"), "units", reply.RequestId));
        });
        if (longUnits.IsZero && shortUnits.IsZero)
        {
            return VenueOutcome.Rejected($"there is no open position in {instrument}", "CLOSEOUT_POSITION_DOESNT_EXIST", reply.RequestId);
        }

        var body = OandaWire.Json(w =>
        {
            if (!longUnits.IsZero)
            {
                w.WriteString("longUnits", "ALL");
            }

            if (!shortUnits.IsZero)
            {
                w.WriteString("shortUnits", "ALL");
            }
        });
        return await OrderRequestAsync(HttpMethod.Put, $"/positions/{Uri.EscapeDataString(instrument.Symbol)}/close", body, $"close position {instrument}", null,
            r => r.Status == HttpStatusCode.OK ? Filled(r, longUnits.IsZero ? "short" : "long") : Refused(r), ct).ConfigureAwait(false);
    }

    // ---- queries --------------------------------------------------------------------------------------------------

    /// <summary>
    /// The order with this client id: OANDA's <c>@id</c> specifier while it is pending (and wherever OANDA still finds
    /// it), else a transaction scan (<see cref="FindByClientIdAsync"/>), since a filled market order is never pending.
    /// </summary>
    public async Task<VenueOrder?> GetOrderAsync(ClientOrderId clientOrderId, CancellationToken ct = default)
    {
        var order = await GetOrderBySpecAsync(ClientSpec(clientOrderId), ct).ConfigureAwait(false);
        return order ?? await FindByClientIdAsync(clientOrderId, null, ct).ConfigureAwait(false);
    }

    public Task<VenueOrder?> GetOrderByVenueIdAsync(VenueOrderId venueOrderId, CancellationToken ct = default) =>
        GetOrderBySpecAsync(Uri.EscapeDataString(venueOrderId.Value), ct);

    /// <summary>
    /// Scans transactions for an order created with this client id (from <paramref name="since"/>, else from the last
    /// transaction id seen before it was sent, else the last <see cref="OandaTradingOptions.ClientIdScanDepth"/>) and
    /// rebuilds it from its create, fill and cancel transactions; null when no order carries it.
    /// </summary>
    public async Task<VenueOrder?> FindByClientIdAsync(ClientOrderId clientOrderId, VenueWatermark? since = null, CancellationToken ct = default)
    {
        long from;
        if (since is { } w && OandaTransaction.TryId(w.Value, out long given))
        {
            from = given;
        }
        else if (_sentAfter.TryGetValue(clientOrderId, out long before) && before > 0)
        {
            from = before;
        }
        else
        {
            from = Math.Max(0, await LastTransactionIdAsync(ct).ConfigureAwait(false) - _options.ClientIdScanDepth);
        }

        var (transactions, _) = await GetTransactionsSinceAsync(new VenueWatermark(OandaWire.Id(from)), ct).ConfigureAwait(false);
        var create = transactions.LastOrDefault(t => t.Kind == OandaTransactionKind.OrderCreate && t.ClientOrderId == clientOrderId.Value);
        if (create is null)
        {
            return null;
        }

        var fill = transactions.FirstOrDefault(t => t.Kind == OandaTransactionKind.OrderFill && t.OrderId == create.OrderId);
        var cancel = transactions.FirstOrDefault(t => t.Kind == OandaTransactionKind.OrderCancel && t.OrderId == create.OrderId);
        var units = create.Units ?? fill?.Units ?? Quantity.Zero;
        var type = create.Type switch
        {
            "MARKET_ORDER" => OrderType.Market,
            "LIMIT_ORDER" or "TAKE_PROFIT_ORDER" => OrderType.Limit,
            _ => OrderType.Stop,
        };
        var status = fill is not null ? OrderStatus.Filled
            : cancel is not null ? (cancel.ReplacedByOrderId is not null ? OrderStatus.Replaced : OrderStatus.Canceled)
            : OrderStatus.Accepted;
        return new VenueOrder(
            clientOrderId, new VenueOrderId(create.OrderId!), new InstrumentId(create.Instrument ?? fill?.Instrument ?? ""), units.IsNegative ? OrderSide.Sell : OrderSide.Buy,
            type, units.Abs(), fill?.Units?.Abs() ?? Quantity.Zero, fill?.Price, type == OrderType.Limit ? create.Price : null, type == OrderType.Stop ? create.Price : null,
            type == OrderType.Market ? TimeInForce.Fok : TimeInForce.Gtc, status, create.Time, fill?.Time ?? cancel?.Time ?? create.Time,
            cancel?.ReplacedByOrderId is { } rb ? new VenueOrderId(rb) : null);
    }

    public async Task<IReadOnlyList<VenueOrder>> GetOpenOrdersAsync(CancellationToken ct = default)
    {
        var reply = await QueryAsync("/pendingOrders", "pending orders", ct).ConfigureAwait(false);
        Expect(reply, "pending orders");
        var raw = Parse(reply, "pending orders", root => root.GetProperty("orders").EnumerateArray().Select(o => o.Clone()).ToList());
        var trades = raw.Any(o => o.TryGetProperty("tradeID", out _)) ? await GetOpenTradesAsync(ct).ConfigureAwait(false) : [];
        return Parse(reply, "pending orders", _ => raw.Select(o => OandaWire.Order(o, TradeLookup(trades), null, reply.RequestId)).ToList());
    }

    /// <summary>Fills (ORDER_FILL transactions) after <paramref name="since"/>, oldest first; the next watermark is the last transaction id OANDA reported.</summary>
    public async Task<VenueFillPage> GetFillsSinceAsync(VenueWatermark? since, CancellationToken ct = default)
    {
        var (transactions, last) = await GetTransactionsSinceAsync(since ?? new VenueWatermark("0"), ct).ConfigureAwait(false);
        var clientIds = new Dictionary<string, string>(StringComparer.Ordinal);
        var fills = new List<VenueFill>();
        foreach (var t in transactions)
        {
            if (t.Kind == OandaTransactionKind.OrderCreate && t.ClientOrderId is { } cid)
            {
                clientIds[t.OrderId!] = cid;
            }
            else if (t.Kind == OandaTransactionKind.OrderFill)
            {
                string? client = t.ClientOrderId ?? clientIds.GetValueOrDefault(t.OrderId!);
                fills.Add(new VenueFill(
                    new TradeId(OandaWire.Id(t.Id)), client is null ? null : new ClientOrderId(client), new VenueOrderId(t.OrderId!), new InstrumentId(t.Instrument!),
                    t.Units!.Value.IsNegative ? OrderSide.Sell : OrderSide.Buy, t.Units.Value.Abs(), t.Price!.Value, Money.Abs(t.Commission), t.Time));
            }
        }

        return new VenueFillPage(fills, last);
    }

    /// <summary>Every transaction after <paramref name="since"/> (<c>…/transactions/sinceid</c>), oldest first, and the last id OANDA reported. Unreadable ones are logged, counted and left out.</summary>
    public async Task<(IReadOnlyList<OandaTransaction> Transactions, VenueWatermark Last)> GetTransactionsSinceAsync(VenueWatermark since, CancellationToken ct = default)
    {
        var reply = await QueryAsync($"/transactions/sinceid?id={Uri.EscapeDataString(since.Value)}", "transactions", ct).ConfigureAwait(false);
        Expect(reply, "transactions");
        return Parse(reply, "transactions", root =>
        {
            var list = new List<OandaTransaction>();
            long last = OandaTransaction.TryId(OandaTransaction.Str(root, "lastTransactionID"), out long l) ? l : 0;
            foreach (var e in root.GetProperty("transactions").EnumerateArray())
            {
                if (Transaction(e, "transactions", reply.RequestId) is { } tx)
                {
                    list.Add(tx);
                    last = Math.Max(last, tx.Id);
                }
            }

            Seen(last);
            return ((IReadOnlyList<OandaTransaction>)list, new VenueWatermark(OandaWire.Id(last)));
        });
    }

    /// <summary><c>GET …/changes?sinceTransactionID=</c>: OANDA's own reconciliation poll.</summary>
    public async Task<OandaAccountChanges> GetChangesAsync(VenueWatermark since, CancellationToken ct = default)
    {
        var reply = await QueryAsync($"/changes?sinceTransactionID={Uri.EscapeDataString(since.Value)}", "changes", ct).ConfigureAwait(false);
        Expect(reply, "changes");
        return Parse(reply, "changes", root =>
        {
            var changes = root.GetProperty("changes");
            var state = root.GetProperty("state");
            List<string> Ids(string name) => [.. changes.GetProperty(name).EnumerateArray().Select(o => OandaWire.Need(o, "id", reply.RequestId))];
            var transactions = changes.TryGetProperty("transactions", out var txs)
                ? txs.EnumerateArray().Select(e => Transaction(e, "changes", reply.RequestId)).OfType<OandaTransaction>().ToList()
                : [];
            string last = OandaWire.Need(root, "lastTransactionID", reply.RequestId);
            Seen(long.Parse(last, CultureInfo.InvariantCulture));
            return new OandaAccountChanges(
                Ids("ordersCreated"), Ids("ordersFilled"), Ids("ordersCancelled"), Ids("tradesOpened"), Ids("tradesClosed"), transactions,
                OandaWire.Amount(state, "NAV", reply.RequestId), OandaWire.Amount(state, "marginAvailable", reply.RequestId), new VenueWatermark(last));
        });
    }

    /// <summary>Open positions, net: long units plus short units (OANDA's short units are negative); the average price of the side that is open (of the larger on a hedging account).</summary>
    public async Task<IReadOnlyList<VenuePosition>> GetPositionsAsync(CancellationToken ct = default)
    {
        var reply = await QueryAsync("/openPositions", "positions", ct).ConfigureAwait(false);
        Expect(reply, "positions");
        return Parse(reply, "positions", root =>
        {
            var list = new List<VenuePosition>();
            foreach (var p in root.GetProperty("positions").EnumerateArray())
            {
                var longSide = p.GetProperty("long");
                var shortSide = p.GetProperty("short");
                var longUnits = OandaWire.Qty(longSide, "units", reply.RequestId);
                var shortUnits = OandaWire.Qty(shortSide, "units", reply.RequestId);
                var net = longUnits + shortUnits;
                if (net.IsZero && longUnits.IsZero)
                {
                    continue;
                }

                var side = longUnits >= shortUnits.Abs() ? longSide : shortSide;
                var average = OandaWire.Px(OandaWire.Need(side, "averagePrice", reply.RequestId), "averagePrice", reply.RequestId);
                list.Add(new VenuePosition(new InstrumentId(OandaWire.Need(p, "instrument", reply.RequestId)), net, average));
            }

            return (IReadOnlyList<VenuePosition>)list;
        });
    }

    /// <summary>Balance as cash, margin available as buying power, NAV as equity, in the account's currency.</summary>
    public async Task<VenueAccount> GetAccountAsync(CancellationToken ct = default)
    {
        var reply = await QueryAsync("/summary", "account", ct).ConfigureAwait(false);
        Expect(reply, "account");
        return Parse(reply, "account", root =>
        {
            var a = root.GetProperty("account");
            if (OandaTransaction.TryId(OandaTransaction.Str(a, "lastTransactionID"), out long last))
            {
                Seen(last);
            }

            return new VenueAccount(
                OandaWire.Need(a, "currency", reply.RequestId), OandaWire.Amount(a, "balance", reply.RequestId),
                OandaWire.Amount(a, "marginAvailable", reply.RequestId), OandaWire.Amount(a, "NAV", reply.RequestId));
        });
    }

    public async Task<IReadOnlyList<OandaOpenTrade>> GetOpenTradesAsync(CancellationToken ct = default)
    {
        var reply = await QueryAsync("/openTrades", "trades", ct).ConfigureAwait(false);
        Expect(reply, "trades");
        return Parse(reply, "trades", root => (IReadOnlyList<OandaOpenTrade>)root.GetProperty("trades").EnumerateArray().Select(t => new OandaOpenTrade(
            OandaWire.Need(t, "id", reply.RequestId), new InstrumentId(OandaWire.Need(t, "instrument", reply.RequestId)), OandaWire.Qty(t, "currentUnits", reply.RequestId),
            OandaWire.Px(OandaWire.Need(t, "price", reply.RequestId), "price", reply.RequestId), OandaWire.Time(t, "openTime", reply.RequestId),
            t.TryGetProperty("clientExtensions", out var ext) ? OandaTransaction.Str(ext, "id") : null)).ToList());
    }

    /// <summary>The account's last transaction id now (<c>…/summary</c>).</summary>
    public async Task<long> LastTransactionIdAsync(CancellationToken ct = default)
    {
        var reply = await QueryAsync("/summary", "account", ct).ConfigureAwait(false);
        Expect(reply, "account");
        long last = Parse(reply, "account", root => long.Parse(OandaWire.Need(root, "lastTransactionID", reply.RequestId), NumberStyles.None, CultureInfo.InvariantCulture));
        Seen(last);
        return last;
    }

    private async Task<VenueOrder?> GetOrderBySpecAsync(string spec, CancellationToken ct)
    {
        var reply = await QueryAsync($"/orders/{spec}", "order", ct).ConfigureAwait(false);
        if (reply.Status == HttpStatusCode.NotFound)
        {
            return null;
        }

        Expect(reply, "order");
        var o = Parse(reply, "order", root => root.GetProperty("order").Clone());
        OandaTransaction? fill = null;
        if (OandaTransaction.Str(o, "fillingTransactionID") is { } fillId)
        {
            var tx = await QueryAsync($"/transactions/{Uri.EscapeDataString(fillId)}", "transaction", ct).ConfigureAwait(false);
            Expect(tx, "transaction");
            fill = Parse(tx, "transaction", root => Transaction(root.GetProperty("transaction"), "transaction", tx.RequestId));
        }

        var trades = OandaTransaction.Str(o, "tradeID") is not null ? await TradesAsync(OandaTransaction.Str(o, "tradeID")!, ct).ConfigureAwait(false) : [];
        return Parse(reply, "order", _ => OandaWire.Order(o, TradeLookup(trades), fill, reply.RequestId));
    }

    private async Task<IReadOnlyList<OandaOpenTrade>> TradesAsync(string tradeId, CancellationToken ct)
    {
        var reply = await QueryAsync($"/trades/{Uri.EscapeDataString(tradeId)}", "trade", ct).ConfigureAwait(false);
        Expect(reply, "trade");
        return Parse(reply, "trade", root =>
        {
            var t = root.GetProperty("trade");
            return (IReadOnlyList<OandaOpenTrade>)[new OandaOpenTrade(
                OandaWire.Need(t, "id", reply.RequestId), new InstrumentId(OandaWire.Need(t, "instrument", reply.RequestId)), OandaWire.Qty(t, "initialUnits", reply.RequestId),
                OandaWire.Px(OandaWire.Need(t, "price", reply.RequestId), "price", reply.RequestId), OandaWire.Time(t, "openTime", reply.RequestId), null)];
        });
    }

    private static Func<string, (string, Quantity)?> TradeLookup(IReadOnlyList<OandaOpenTrade> trades) =>
        id => trades.FirstOrDefault(t => t.Id == id) is { } t ? (t.Instrument.Symbol, t.Units) : null;

    private static string ClientSpec(ClientOrderId id) => "@" + Uri.EscapeDataString(id.Value);

    /// <summary>
    /// The latest price (<c>GET /v3/accounts/{id}/pricing?instruments=…</c>): the best bid and ask; null when OANDA
    /// lists no price for the instrument.
    /// </summary>
    public async Task<VenueQuote?> LatestQuoteAsync(string symbol, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(symbol);
        string what = $"oanda: latest price of {symbol}";
        using var response = await _retry.SendAsync(_rest, () => Request(HttpMethod.Get, "/pricing?instruments=" + Uri.EscapeDataString(symbol), null), what, ct).ConfigureAwait(false);
        var body = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new VenueQueryException($"{what}: HTTP {(int)response.StatusCode}");
        }

        try
        {
            using var doc = JsonDocument.Parse(body);
            if (!doc.RootElement.TryGetProperty("prices", out var prices) || prices.ValueKind != JsonValueKind.Array)
            {
                return null;
            }

            foreach (var p in prices.EnumerateArray())
            {
                if (p.TryGetProperty("instrument", out var i) && i.GetString() != symbol)
                {
                    continue;
                }

                decimal? bid = BestPrice(p, "bids"), ask = BestPrice(p, "asks");
                if (bid is null && ask is null)
                {
                    return null;
                }

                var time = p.TryGetProperty("time", out var t) && t.ValueKind == JsonValueKind.String && DateTimeOffset.TryParse(t.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
                    ? at
                    : _time.GetUtcNow();
                return new VenueQuote(bid, ask, time);
            }

            return null;
        }
        catch (JsonException ex)
        {
            throw new VenueQueryException($"{what}: the answer is not JSON ({ex.Message})");
        }
    }

    private static decimal? BestPrice(JsonElement price, string side)
    {
        if (!price.TryGetProperty(side, out var levels) || levels.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        foreach (var level in levels.EnumerateArray())
        {
            if (level.TryGetProperty("price", out var v) && decimal.TryParse(v.ValueKind == JsonValueKind.String ? v.GetString() : v.GetRawText(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d > 0)
            {
                return d;
            }
        }

        return null;
    }

    // ---- the wire -------------------------------------------------------------------------------------------------

    private sealed record Reply(HttpStatusCode Status, byte[] Body, string? RequestId, TimeSpan? RetryAfter);

    private HttpRequestMessage Request(HttpMethod method, string path, byte[]? body)
    {
        var request = new HttpRequestMessage(method, new Uri(_options.RestUrl, $"/v3/accounts/{Uri.EscapeDataString(_options.Account)}{path}"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _options.Token);
        request.Headers.Add("Accept-Datetime-Format", "RFC3339");
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        return request;
    }

    private async Task<Reply> ReadAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var body = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
        string? requestId = response.Headers.TryGetValues("RequestID", out var ids) ? ids.FirstOrDefault() : null;
        var reply = new Reply(response.StatusCode, body, requestId, RestRetry.VenueWait(response, _time.GetUtcNow()));
        if (response.IsSuccessStatusCode || (int)response.StatusCode is 400 or 404)
        {
            LastTransactionFrom(body);
        }

        return reply;
    }

    /// <summary>
    /// Sends a request that places, changes or cancels an order: once, or again only after a 429 (OANDA refused it
    /// before doing anything) and the Retry-After wait. No answer, a 5xx or an unreadable success is Unknown.
    /// </summary>
    private async Task<VenueOutcome> OrderRequestAsync(HttpMethod method, string path, byte[]? body, string what, ClientOrderId? clientId, Func<Reply, VenueOutcome> interpret, CancellationToken ct)
    {
        for (int attempt = 1; ; attempt++)
        {
            ct.ThrowIfCancellationRequested(); // cancelled before anything left: nothing was sent
            Reply reply;
            try
            {
                using var request = Request(method, path, body);
                using var response = await _rest.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct).ConfigureAwait(false);
                reply = await ReadAsync(response, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException)
            {
                // A timeout, a broken connection, or the caller giving up while the request was in flight: it may have landed.
                string why = ct.IsCancellationRequested ? "cancelled by the caller while the request was in flight; it may have reached the venue"
                    : ex is OperationCanceledException ? $"no answer within {_options.RequestTimeout.TotalSeconds:0.###} s"
                    : $"the connection failed before an answer: {ex.Message}";
                return Unknown(what, why, null, clientId);
            }

            if (reply.Status == HttpStatusCode.TooManyRequests)
            {
                Stats.CountRateLimited();
                var wait = reply.RetryAfter ?? _options.QueryRetryDelay;
                if (attempt >= _options.RateLimitAttempts || wait > _options.RateLimitMaxWait)
                {
                    return VenueOutcome.RateLimited(wait, $"{what}: rate limited ({OandaWire.Error(reply.Body).Message})", reply.RequestId);
                }

                VenueLog.OandaRateLimited(_log, what, attempt, (long)wait.TotalMilliseconds);
                await Task.Delay(wait, _time, ct).ConfigureAwait(false);
                continue;
            }

            if (reply.Status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                var (message, code, _) = OandaWire.Error(reply.Body);
                VenueLog.OandaPermanentError(_log, what, $"HTTP {(int)reply.Status}: {message}", reply.RequestId);
                return VenueOutcome.PermanentError($"HTTP {(int)reply.Status}: {message}", code, reply.RequestId);
            }

            if ((int)reply.Status >= 500)
            {
                return Unknown(what, $"HTTP {(int)reply.Status}: {OandaWire.Error(reply.Body).Message}", reply.RequestId, clientId);
            }

            try
            {
                return interpret(reply);
            }
            catch (Exception ex) when (ex is OandaProtocolException or JsonException or KeyNotFoundException or InvalidOperationException)
            {
                Stats.CountMalformed();
                VenueLog.OandaMalformed(_log, what, reply.RequestId, ex.Message);
                return (int)reply.Status is >= 200 and < 300
                    ? Unknown(what, $"HTTP {(int)reply.Status} with a reply that cannot be read: {ex.Message}", reply.RequestId, clientId)
                    : VenueOutcome.Rejected($"HTTP {(int)reply.Status} with a reply that cannot be read: {ex.Message}", null, reply.RequestId);
            }
        }
    }

    private VenueOutcome Unknown(string what, string why, string? requestId, ClientOrderId? clientId)
    {
        Stats.CountUnknownOutcome();
        VenueLog.OandaOutcomeUnknown(_log, what, why, requestId, clientId?.Value);
        return VenueOutcome.Unknown($"{what}: {why}; the order may exist: look it up by its client id before sending it again", requestId);
    }

    /// <summary>A create or replace: 201 is accepted unless the same reply cancels the new order at once.</summary>
    private static VenueOutcome Created(Reply r, bool replace)
    {
        if (r.Status != HttpStatusCode.Created)
        {
            return r.Status is HttpStatusCode.OK ? throw new OandaProtocolException($"an order request answered HTTP 200 instead of 201", r.RequestId) : Refused(r);
        }

        return Read(r, "order", root =>
        {
            if (!root.TryGetProperty("orderCreateTransaction", out var create) || OandaTransaction.Str(create, "id") is not { } id)
            {
                throw new OandaProtocolException("the 201 reply has no orderCreateTransaction with an id", r.RequestId);
            }

            if (root.TryGetProperty(replace ? "replacingOrderCancelTransaction" : "orderCancelTransaction", out var cancel))
            {
                string reason = OandaTransaction.Str(cancel, "reason") ?? "cancelled";
                string text = $"OANDA cancelled order {id} at once: {reason}";
                return reason == "INSUFFICIENT_MARGIN" ? VenueOutcome.InsufficientFunds(text, reason, r.RequestId) : VenueOutcome.Rejected(text, reason, r.RequestId);
            }

            return VenueOutcome.Accepted(new VenueOrderId(id), r.RequestId);
        });
    }

    /// <summary>A trade or position close: accepted with the id of the closing market order OANDA created, unless it was cancelled.</summary>
    private static VenueOutcome Filled(Reply r, string prefix) => Read(r, "close", root =>
    {
        string Key(string name) => prefix.Length == 0 ? name : prefix + char.ToUpperInvariant(name[0]) + name[1..];
        if (root.TryGetProperty(Key("orderCancelTransaction"), out var cancel))
        {
            string reason = OandaTransaction.Str(cancel, "reason") ?? "cancelled";
            return VenueOutcome.Rejected($"OANDA cancelled the closing order: {reason}", reason, r.RequestId);
        }

        return root.TryGetProperty(Key("orderCreateTransaction"), out var create) && OandaTransaction.Str(create, "id") is { } id
            ? VenueOutcome.Accepted(new VenueOrderId(id), r.RequestId)
            : throw new OandaProtocolException("the close reply has no orderCreateTransaction", r.RequestId);
    });

    /// <summary>400/404/405… with a reject transaction or an errorMessage: nothing was placed.</summary>
    private static VenueOutcome Refused(Reply r)
    {
        var (message, code, reject) = OandaWire.Error(r.Body);
        return (reject ?? code) == "INSUFFICIENT_MARGIN"
            ? VenueOutcome.InsufficientFunds(message, "INSUFFICIENT_MARGIN", r.RequestId)
            : VenueOutcome.Rejected(message, reject ?? code ?? $"HTTP {(int)r.Status}", r.RequestId);
    }

    private static T Read<T>(Reply r, string what, Func<JsonElement, T> read)
    {
        using var doc = JsonDocument.Parse(r.Body);
        return doc.RootElement.ValueKind == JsonValueKind.Object ? read(doc.RootElement) : throw new OandaProtocolException($"the {what} reply is not a JSON object", r.RequestId);
    }

    /// <summary>A GET, retried on 429, 5xx and timeouts (RestRetry); a failure that remains is a <see cref="VenueQueryException"/>.</summary>
    private async Task<Reply> QueryAsync(string path, string what, CancellationToken ct)
    {
        HttpResponseMessage response;
        try
        {
            response = await _retry.SendAsync(_rest, () => Request(HttpMethod.Get, path, null), "oanda: " + what, ct).ConfigureAwait(false);
        }
        catch (VenueRequestException ex)
        {
            throw new VenueQueryException(ex.Status == HttpStatusCode.TooManyRequests
                ? VenueOutcome.RateLimited(_options.RateLimitMaxWait, ex.Message)
                : VenueOutcome.Unknown(ex.Message));
        }

        using (response)
        {
            var reply = await ReadAsync(response, ct).ConfigureAwait(false);
            if (reply.Status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                var (message, code, _) = OandaWire.Error(reply.Body);
                VenueLog.OandaPermanentError(_log, what, $"HTTP {(int)reply.Status}: {message}", reply.RequestId);
                throw new VenueQueryException(VenueOutcome.PermanentError($"oanda {what}: HTTP {(int)reply.Status}: {message}", code, reply.RequestId));
            }

            return reply;
        }
    }

    private static void Expect(Reply reply, string what)
    {
        if (reply.Status != HttpStatusCode.OK)
        {
            var (message, code, _) = OandaWire.Error(reply.Body);
            throw new VenueQueryException(VenueOutcome.PermanentError($"oanda {what}: HTTP {(int)reply.Status}: {message}", code, reply.RequestId));
        }
    }

    private T Parse<T>(Reply reply, string what, Func<JsonElement, T> read)
    {
        try
        {
            return Read(reply, what, read);
        }
        catch (Exception ex) when (ex is OandaProtocolException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            Stats.CountMalformed();
            VenueLog.OandaMalformed(_log, what, reply.RequestId, ex.Message);
            throw new VenueQueryException(VenueOutcome.PermanentError($"oanda {what}: the reply cannot be read: {ex.Message}", null, reply.RequestId));
        }
    }

    /// <summary>A transaction from a REST reply; an unreadable one is logged, counted and left out.</summary>
    private OandaTransaction? Transaction(JsonElement e, string what, string? requestId)
    {
        if (OandaTransaction.TryParse(e, out var tx, out var problem, out bool unknownType))
        {
            return tx;
        }

        if (unknownType)
        {
            Stats.CountUnknownType();
        }
        else
        {
            Stats.CountMalformed();
        }

        VenueLog.OandaMalformed(_log, what, requestId, problem ?? "unreadable transaction");
        return null;
    }

    private void LastTransactionFrom(byte[] body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (OandaTransaction.TryId(OandaTransaction.Str(doc.RootElement, "lastTransactionID"), out long last))
            {
                Seen(last);
            }
        }
        catch (JsonException)
        {
            // Unreadable bodies are reported by whoever reads them.
        }
    }

    private void Seen(long id)
    {
        long current;
        do
        {
            current = Interlocked.Read(ref _lastSeenTransaction);
            if (id <= current)
            {
                return;
            }
        }
        while (Interlocked.CompareExchange(ref _lastSeenTransaction, id, current) != current);
    }
}
