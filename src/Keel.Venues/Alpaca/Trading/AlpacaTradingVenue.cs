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

namespace Keel.Venues.Alpaca.Trading;

/// <summary>
/// Alpaca's Trading API v2 and <c>trade_updates</c> stream behind <see cref="IVenuePort"/>. Orders carry Keel's client
/// id as <c>client_order_id</c>; a POST, PATCH or DELETE is never re-sent blindly: a timeout, lost answer or 5xx is
/// <see cref="VenueOutcomeKind.Unknown"/> (resolved by looking the order up by its client id), a 429 is waited out
/// and sent again (it placed nothing). Stream events are deduplicated (by execution id, and by order id and cumulative
/// quantity), and after every reconnect, and every <see cref="AlpacaTradingOptions.CatchUpInterval"/>, fills and open
/// orders are read from REST so that nothing the stream lost stays lost.
/// </summary>
public sealed partial class AlpacaTradingVenue : IVenuePort, ILatestQuotes
{
    private const string VenueName = "alpaca";
    private const string DuplicateClientId = "client_order_id must be unique";
    private static readonly MediaTypeHeaderValue JsonType = new("application/json");

    private readonly AlpacaTradingOptions _options;
    private readonly HttpClient _http;
    private readonly HttpMessageHandler? _ownedHandler;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly RestRetry _retry;

    /// <param name="options">Endpoints, credentials, timeouts and back-offs.</param>
    /// <param name="handler">The HTTP handler to send through (a test's, or a shared one); null = a handler of its own.</param>
    /// <param name="time">The clock for waits, back-offs and event times; null = the system clock.</param>
    /// <param name="logger">Where connection changes, unknown outcomes and unreadable replies are logged.</param>
    public AlpacaTradingVenue(AlpacaTradingOptions options, HttpMessageHandler? handler = null, TimeProvider? time = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrEmpty(options.Key) || string.IsNullOrEmpty(options.Secret))
        {
            throw new ArgumentException("the Alpaca key and secret are required (alpaca.key / alpaca.secret)", nameof(options));
        }

        _options = options;
        _time = time ?? TimeProvider.System;
        _log = logger ?? NullLogger.Instance;
        if (handler is null)
        {
            _ownedHandler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        }

        _http = new HttpClient(handler ?? _ownedHandler!, disposeHandler: false) { Timeout = options.RequestTimeout };
        _http.DefaultRequestHeaders.Add("APCA-API-KEY-ID", options.Key);
        _http.DefaultRequestHeaders.Add("APCA-API-SECRET-KEY", options.Secret);
        _retry = new RestRetry(_time, options.QueryRetryDelay, options.MaxRateLimitWait, _log);
    }

    public string Name => VenueName;

    /// <summary>The account of this API key id at this address (the key id identifies it; the secret is never shown).</summary>
    public string Account => $"alpaca account of key id {_options.Key} at {_options.BaseUrl.Authority}";

    /// <summary>What went wrong so far (unreadable replies, duplicates ignored, reconnects, fills caught up).</summary>
    public AlpacaTradingCounters Counters { get; } = new();

    public async Task<VenueOutcome> SubmitAsync(SubmitOrder order, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(order);
        Expect(order, []);
        return await PlaceAsync(order, AlpacaTradingJson.OrderBody(order), [], ct).ConfigureAwait(false);
    }

    /// <summary>
    /// A bracket (an entry whose two children have it as <see cref="SubmitOrder.ParentId"/>: a limit take-profit and a
    /// stop or stop-limit stop-loss), an OTO (an entry with one child) or an OCO pair (two orders linked to each other,
    /// a limit take-profit and a stop-loss) as one <c>POST /v2/orders</c> with <c>order_class</c> bracket, oto or oco.
    /// </summary>
    public async Task<VenueOutcome> SubmitListAsync(SubmitOrderList list, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(list);
        var orders = list.Orders;
        if (orders.Count == 1)
        {
            return await SubmitAsync(orders[0], ct).ConfigureAwait(false);
        }

        var head = orders.FirstOrDefault(o => o.ParentId is null && orders.Any(c => c.ParentId == o.ClientOrderId));
        if (head is not null)
        {
            var children = orders.Where(c => c.ParentId == head.ClientOrderId).ToList();
            var tp = children.FirstOrDefault(c => c.Type == OrderType.Limit);
            var sl = children.FirstOrDefault(c => c.Type is OrderType.Stop or OrderType.StopLimit);
            if (children.Count + 1 != orders.Count || (children.Count == 2 && (tp is null || sl is null)) || children.Count is not (1 or 2) || (tp is null && sl is null))
            {
                return VenueOutcome.Rejected($"a list of {orders.Count} orders with parent {head.ClientOrderId} is neither a bracket (entry, limit take-profit, stop stop-loss) nor an OTO (entry and one limit or stop exit)");
            }

            string orderClass = children.Count == 2 ? "bracket" : "oto";
            Expect(head, children);
            return await PlaceAsync(head, AlpacaTradingJson.OrderBody(head, orderClass, tp, sl), children, ct).ConfigureAwait(false);
        }

        if (orders.Count == 2 && orders.All(o => o.Contingency == ContingencyType.Oco))
        {
            var tp = orders.FirstOrDefault(o => o.Type == OrderType.Limit);
            var sl = orders.FirstOrDefault(o => o.Type is OrderType.Stop or OrderType.StopLimit);
            if (tp is null || sl is null)
            {
                return VenueOutcome.Rejected("an OCO pair at Alpaca is a limit take-profit and a stop (or stop-limit) stop-loss");
            }

            Expect(tp, [sl]);
            return await PlaceAsync(tp, AlpacaTradingJson.OrderBody(tp, "oco", tp, sl), [sl], ct).ConfigureAwait(false);
        }

        return VenueOutcome.Rejected($"a list of {orders.Count} orders that is neither a bracket, an OTO nor an OCO pair; Alpaca takes no other groups");
    }

    public async Task<VenueOutcome> CancelAsync(CancelOrder cancel, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(cancel);
        string what = $"cancel {cancel.ClientOrderId}";
        var venueId = await FindVenueIdAsync(cancel.ClientOrderId, ct).ConfigureAwait(false);
        if (venueId is null)
        {
            return VenueOutcome.Rejected($"{what}: Alpaca has no order with client id {cancel.ClientOrderId}", "40410000");
        }

        var (reply, failure) = await CommandAsync(HttpMethod.Delete, "/v2/orders/" + Uri.EscapeDataString(venueId), null, what, ct).ConfigureAwait(false);
        if (failure is not null)
        {
            return failure;
        }

        return reply.Status is 200 or 204 ? VenueOutcome.Accepted(new VenueOrderId(venueId), reply.RequestId) : Failure(reply, what);
    }

    /// <summary><c>PATCH /v2/orders/{id}</c>: the new order carries the replacement's client id; the answer's venue id is the new order's.</summary>
    public async Task<VenueOutcome> ReplaceAsync(ReplaceOrder replace, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(replace);
        string what = $"replace {replace.ClientOrderId} by {replace.Replacement.ClientOrderId}";
        var venueId = await FindVenueIdAsync(replace.ClientOrderId, ct).ConfigureAwait(false);
        if (venueId is null)
        {
            return VenueOutcome.Rejected($"{what}: Alpaca has no order with client id {replace.ClientOrderId}", "40410000");
        }

        Expect(replace.Replacement, []);
        var (reply, failure) = await CommandAsync(HttpMethod.Patch, "/v2/orders/" + Uri.EscapeDataString(venueId), AlpacaTradingJson.ReplaceBody(replace.Replacement), what, ct).ConfigureAwait(false);
        if (failure is not null)
        {
            return failure;
        }

        if (reply.Status != 200)
        {
            return reply.Status >= 500 ? Unknown(what, $"HTTP {reply.Status}", reply.RequestId) : Failure(reply, what);
        }

        var order = ReadOrAbsent(reply, what, AlpacaTradingJson.Order);
        if (order is null)
        {
            return Unknown(what, "the venue answered 200 but the reply could not be read; look the replacement up by its client id", reply.RequestId);
        }

        Register(order, replace.Replacement.ClientOrderId, []);
        return VenueOutcome.Accepted(new VenueOrderId(order.Id), reply.RequestId);
    }

    public async Task<VenueOrder?> GetOrderAsync(ClientOrderId clientOrderId, CancellationToken ct = default)
    {
        if (AliasedVenueId(clientOrderId) is string legId)
        {
            return await GetOrderByVenueIdAsync(new VenueOrderId(legId), ct).ConfigureAwait(false);
        }

        var order = await QueryAsync("/v2/orders:by_client_order_id?nested=true&client_order_id=" + Uri.EscapeDataString(clientOrderId.Value), $"look up order {clientOrderId}", AlpacaTradingJson.Order, notFoundIsNull: true, ct).ConfigureAwait(false);
        return order is null ? null : ToVenueOrder(order, null);
    }

    public async Task<VenueOrder?> GetOrderByVenueIdAsync(VenueOrderId venueOrderId, CancellationToken ct = default)
    {
        var order = await QueryAsync("/v2/orders/" + Uri.EscapeDataString(venueOrderId.Value) + "?nested=true", $"look up order {venueOrderId}", AlpacaTradingJson.Order, notFoundIsNull: true, ct).ConfigureAwait(false);
        return order is null ? null : ToVenueOrder(order, null);
    }

    /// <summary>Open orders (up to 500, Alpaca's page limit), bracket and OCO legs listed on their own, with their parent's venue id when this adapter placed them.</summary>
    public async Task<IReadOnlyList<VenueOrder>> GetOpenOrdersAsync(CancellationToken ct = default)
    {
        var orders = await OpenOrdersAsync(ct).ConfigureAwait(false);
        var result = new List<VenueOrder>();
        foreach (var o in orders)
        {
            var head = ToVenueOrder(o, null);
            if (head.IsOpen)
            {
                result.Add(head);
            }

            foreach (var leg in o.Legs)
            {
                var l = ToVenueOrder(leg, new VenueOrderId(o.Id));
                if (l.IsOpen)
                {
                    result.Add(l);
                }
            }
        }

        return result;
    }

    /// <summary>FILL activities after the watermark (an activity id), oldest first, page by page (<c>direction=asc</c>, <c>page_token</c>).</summary>
    public async Task<VenueFillPage> GetFillsSinceAsync(VenueWatermark? since, CancellationToken ct = default)
    {
        var (fills, next) = await ReadFillsAsync(since?.Value, ct).ConfigureAwait(false);
        var result = new List<VenueFill>(fills.Count);
        foreach (var (a, coid) in fills)
        {
            result.Add(new VenueFill(new TradeId(a.ExecutionId), coid, new VenueOrderId(a.OrderId), new InstrumentId(a.Symbol), a.Side, a.Qty, a.Price, Money.Zero, a.Time));
        }

        return new VenueFillPage(result, next is null ? since : new VenueWatermark(next));
    }

    public async Task<IReadOnlyList<VenuePosition>> GetPositionsAsync(CancellationToken ct = default) =>
        await QueryAsync("/v2/positions", "read positions", e => List(e, AlpacaTradingJson.Position), notFoundIsNull: false, ct).ConfigureAwait(false) ?? [];

    public async Task<VenueAccount> GetAccountAsync(CancellationToken ct = default) =>
        (await QueryAsync("/v2/account", "read the account", AlpacaTradingJson.Account, notFoundIsNull: false, ct).ConfigureAwait(false))!;

    /// <summary><c>DELETE /v2/orders</c>: asks for every open order to be cancelled; the venue ids whose cancel was taken.</summary>
    public async Task<IReadOnlyList<VenueOrderId>> CancelAllAsync(CancellationToken ct = default)
    {
        const string what = "cancel all orders";
        var (reply, failure) = await CommandAsync(HttpMethod.Delete, "/v2/orders", null, what, ct).ConfigureAwait(false);
        if (failure is not null)
        {
            throw new VenueQueryException(failure);
        }

        if (reply.Status is not (200 or 207))
        {
            throw new VenueQueryException(Failure(reply, what));
        }

        return Read(reply, what, e => List(e, item =>
        {
            string id = AlpacaTradingJson.OptStr(item, "id") ?? throw new AlpacaReplyException("field 'id' was missing or null");
            bool ok = item.TryGetProperty("status", out var s) && s.TryGetInt32(out int status) && status is >= 200 and < 300;
            return (Id: new VenueOrderId(id), Ok: ok);
        })).Where(r => r.Ok).Select(r => r.Id).ToList();
    }

    /// <summary><c>DELETE /v2/positions/{symbol}</c> (all of it, or <paramref name="quantity"/>): the closing market order's venue id when accepted.</summary>
    public async Task<VenueOutcome> ClosePositionAsync(InstrumentId instrument, Quantity? quantity = null, CancellationToken ct = default)
    {
        string what = $"close the {instrument} position";
        string path = "/v2/positions/" + Uri.EscapeDataString(instrument.Symbol) + (quantity is { } q ? "?qty=" + q.ToString() : string.Empty);
        var (reply, failure) = await CommandAsync(HttpMethod.Delete, path, null, what, ct).ConfigureAwait(false);
        if (failure is not null)
        {
            return failure;
        }

        if (reply.Status != 200)
        {
            return Failure(reply, what);
        }

        var order = ReadOrAbsent(reply, what, AlpacaTradingJson.Order);
        return order is null ? Unknown(what, "the venue answered 200 but the reply could not be read", reply.RequestId) : VenueOutcome.Accepted(new VenueOrderId(order.Id), reply.RequestId);
    }

    /// <summary><c>GET /v2/clock</c>.</summary>
    public async Task<AlpacaClock> GetClockAsync(CancellationToken ct = default) =>
        (await QueryAsync("/v2/clock", "read the clock", AlpacaTradingJson.Clock, notFoundIsNull: false, ct).ConfigureAwait(false))!;

    /// <summary><c>GET /v2/calendar?start&amp;end</c>: the trading days between two dates, both included.</summary>
    public async Task<IReadOnlyList<AlpacaCalendarDay>> GetCalendarAsync(DateOnly start, DateOnly end, CancellationToken ct = default) =>
        await QueryAsync(
            $"/v2/calendar?start={start.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}&end={end.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}",
            "read the calendar", e => List(e, AlpacaTradingJson.CalendarDay), notFoundIsNull: false, ct).ConfigureAwait(false) ?? [];

    public async ValueTask DisposeAsync()
    {
        await DisconnectAsync().ConfigureAwait(false);
        _http.Dispose();
        _ownedHandler?.Dispose();
    }

    private async Task<VenueOutcome> PlaceAsync(SubmitOrder head, byte[] body, List<SubmitOrder> exits, CancellationToken ct)
    {
        string what = exits.Count == 0 ? $"submit {head.ClientOrderId}" : $"submit {head.ClientOrderId} with {exits.Count} linked order(s)";
        var (reply, failure) = await CommandAsync(HttpMethod.Post, "/v2/orders", body, what, ct).ConfigureAwait(false);
        if (failure is not null)
        {
            return failure;
        }

        if (reply.Status == 200)
        {
            var order = ReadOrAbsent(reply, what, AlpacaTradingJson.Order);
            if (order is null)
            {
                return Unknown(what, "the venue answered 200 but the reply could not be read; look the order up by its client id", reply.RequestId);
            }

            Register(order, head.ClientOrderId, exits);
            return VenueOutcome.Accepted(new VenueOrderId(order.Id), reply.RequestId);
        }

        if (reply.Status >= 500)
        {
            return Unknown(what, $"HTTP {reply.Status} after the order was sent", reply.RequestId);
        }

        var (message, code) = AlpacaTradingJson.Error(reply.Body);
        if (reply.Status == 422 && message == DuplicateClientId)
        {
            // A duplicate is evidence that an earlier POST of this client id landed: that order is the answer.
            AlpacaOrderDto? existing;
            try
            {
                existing = await QueryAsync("/v2/orders:by_client_order_id?nested=true&client_order_id=" + Uri.EscapeDataString(head.ClientOrderId.Value), $"look up order {head.ClientOrderId}", AlpacaTradingJson.Order, notFoundIsNull: true, ct).ConfigureAwait(false);
            }
            catch (VenueQueryException ex)
            {
                return Unknown(what, $"client_order_id already used, and looking the order up failed: {ex.Message}", reply.RequestId);
            }

            if (existing is null)
            {
                return Unknown(what, "client_order_id already used, but no order with it was found (yet)", reply.RequestId);
            }

            Register(existing, head.ClientOrderId, exits);
            VenueLog.DuplicateClientOrderId(_log, VenueName, head.ClientOrderId.Value, existing.Id);
            return new VenueOutcome(
                VenueOutcomeKind.Accepted, new VenueOrderId(existing.Id),
                $"client_order_id {head.ClientOrderId} was already used: an earlier submission placed order {existing.Id} (now {existing.Status})", code, RequestId: reply.RequestId);
        }

        return Failure(reply, what);
    }

    /// <summary>
    /// Sends a request that changes something, once; a 429 (nothing placed) is waited out and sent again up to
    /// <see cref="AlpacaTradingOptions.RateLimitRetries"/> times. No answer at all is an unknown outcome.
    /// </summary>
    private async Task<(Reply Reply, VenueOutcome? Failure)> CommandAsync(HttpMethod method, string path, byte[]? body, string what, CancellationToken ct)
    {
        for (int attempt = 1; ; attempt++)
        {
            ct.ThrowIfCancellationRequested(); // cancelled before anything left: nothing was sent
            Reply reply;
            try
            {
                reply = await SendAsync(method, path, body, what, ct).ConfigureAwait(false);
            }
            catch (VenueRequestException ex)
            {
                return (default, Unknown(what, ex.Status is { } s ? $"HTTP {(int)s}" : ex.InnerException?.Message ?? ex.Message, null));
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // The caller gave up while the request was on its way: it may have landed.
                return (default, Unknown(what, "cancelled by the caller while the request was in flight; it may have reached the venue", null));
            }

            if (reply.Status != 429)
            {
                return (reply, null);
            }

            var wait = reply.RetryAfter ?? TimeSpan.FromSeconds(1);
            if (attempt > _options.RateLimitRetries || wait > _options.MaxRateLimitWait)
            {
                return (reply, VenueOutcome.RateLimited(wait, $"{what}: rate limited ({AlpacaTradingJson.Error(reply.Body).Message}); nothing was placed", reply.RequestId));
            }

            VenueLog.OrderRateLimited(_log, VenueName, what, (long)wait.TotalMilliseconds, attempt);
            await Task.Delay(wait, _time, ct).ConfigureAwait(false);
        }
    }

    /// <summary>A GET: retried on 429, 5xx and connection failures by <see cref="RestRetry"/>; 404 is null when <paramref name="notFoundIsNull"/>.</summary>
    private async Task<T?> QueryAsync<T>(string path, string what, Func<JsonElement, T> read, bool notFoundIsNull, CancellationToken ct)
        where T : class
    {
        Reply reply;
        try
        {
            reply = await SendAsync(HttpMethod.Get, path, null, what, ct).ConfigureAwait(false);
        }
        catch (VenueRequestException ex)
        {
            throw new VenueQueryException(ex.Status == HttpStatusCode.TooManyRequests
                ? VenueOutcome.RateLimited(_options.MaxRateLimitWait, ex.Message)
                : VenueOutcome.Unknown(ex.Message));
        }

        if (reply.Status == 404 && notFoundIsNull)
        {
            return null;
        }

        if (reply.Status != 200)
        {
            throw new VenueQueryException(Failure(reply, what));
        }

        return Read(reply, what, read);
    }

    private T Read<T>(Reply reply, string what, Func<JsonElement, T> read)
    {
        try
        {
            using var doc = AlpacaTradingJson.Parse(reply.Body);
            return read(doc.RootElement);
        }
        catch (Exception ex) when (ex is AlpacaReplyException or ArgumentException or InvalidOperationException or FormatException or OverflowException or KeyNotFoundException)
        {
            Counters.Unreadable();
            VenueLog.UnreadableReply(_log, VenueName, what, reply.RequestId ?? "none", ex.Message);
            throw new VenueQueryException(VenueOutcome.PermanentError($"{what}: unreadable reply: {ex.Message}", requestId: reply.RequestId));
        }
    }

    private T? ReadOrAbsent<T>(Reply reply, string what, Func<JsonElement, T> read)
        where T : class
    {
        try
        {
            return Read(reply, what, read);
        }
        catch (VenueQueryException)
        {
            return null;
        }
    }

    /// <summary>Market data's REST base when <see cref="AlpacaTradingOptions.DataUrl"/> is not set.</summary>
    public static Uri DefaultDataUrl { get; } = new("https://data.alpaca.markets");

    /// <summary>
    /// The latest quote from market data (<c>GET /v2/stocks/{symbol}/quotes/latest</c>); a side shown as 0 is missing;
    /// null when Alpaca has no quote of the symbol (404, or both sides 0).
    /// </summary>
    public async Task<VenueQuote?> LatestQuoteAsync(string symbol, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(symbol);
        var uri = new Uri(_options.DataUrl ?? DefaultDataUrl, $"/v2/stocks/{Uri.EscapeDataString(symbol)}/quotes/latest");
        string what = $"alpaca: latest quote of {symbol}";
        using var response = await _retry.SendAsync(_http, () => new HttpRequestMessage(HttpMethod.Get, uri), what, ct).ConfigureAwait(false);
        var body = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new VenueQueryException($"{what}: HTTP {(int)response.StatusCode} ({AlpacaTradingJson.Error(body).Message})");
        }

        try
        {
            using var doc = JsonDocument.Parse(body);
            if (!doc.RootElement.TryGetProperty("quote", out var q) || q.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            decimal? bid = QuoteSide(q, "bp"), ask = QuoteSide(q, "ap");
            if (bid is null && ask is null)
            {
                return null;
            }

            var time = q.TryGetProperty("t", out var t) && t.ValueKind == JsonValueKind.String && DateTimeOffset.TryParse(t.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
                ? at
                : _time.GetUtcNow();
            return new VenueQuote(bid, ask, time);
        }
        catch (JsonException ex)
        {
            throw new VenueQueryException($"{what}: the answer is not JSON ({ex.Message})");
        }
    }

    private static decimal? QuoteSide(JsonElement quote, string name) =>
        quote.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetDecimal(out var d) && d > 0 ? d : null;

    private async Task<Reply> SendAsync(HttpMethod method, string path, byte[]? body, string what, CancellationToken ct)
    {
        var uri = new Uri(_options.BaseUrl, path);
        using var response = await _retry.SendAsync(
            _http,
            () =>
            {
                var message = new HttpRequestMessage(method, uri);
                if (body is not null)
                {
                    message.Content = new ByteArrayContent(body) { Headers = { ContentType = JsonType } };
                }

                return message;
            },
            "alpaca: " + what,
            ct).ConfigureAwait(false);
        byte[] bytes;
        try
        {
            bytes = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            throw new VenueRequestException($"alpaca: {what}: the answer was cut off ({ex.Message})", null, ex);
        }

        string? requestId = response.Headers.TryGetValues("X-Request-ID", out var ids) ? ids.FirstOrDefault() : null;
        return new Reply((int)response.StatusCode, bytes, requestId, RestRetry.VenueWait(response, _time.GetUtcNow()));
    }

    private static VenueOutcome Failure(Reply reply, string what)
    {
        var (message, code) = AlpacaTradingJson.Error(reply.Body);
        return reply.Status switch
        {
            401 => VenueOutcome.PermanentError($"{what}: Alpaca refused the credentials ({message})", code, reply.RequestId),
            403 when code == "40310000" && message.Contains("insufficient", StringComparison.OrdinalIgnoreCase) => VenueOutcome.InsufficientFunds(message, code, reply.RequestId),
            429 => VenueOutcome.RateLimited(reply.RetryAfter ?? TimeSpan.FromSeconds(1), message, reply.RequestId),
            >= 500 => VenueOutcome.Unknown($"{what}: HTTP {reply.Status} ({message})", reply.RequestId),
            _ => VenueOutcome.Rejected(message, code, reply.RequestId),
        };
    }

    private VenueOutcome Unknown(string what, string reason, string? requestId)
    {
        VenueLog.OutcomeUnknown(_log, VenueName, what, reason);
        return VenueOutcome.Unknown($"{what}: {reason}", requestId);
    }

    private async Task<string?> FindVenueIdAsync(ClientOrderId clientOrderId, CancellationToken ct)
    {
        if (KnownVenueId(clientOrderId) is string known)
        {
            return known;
        }

        var order = await QueryAsync("/v2/orders:by_client_order_id?client_order_id=" + Uri.EscapeDataString(clientOrderId.Value), $"look up order {clientOrderId}", AlpacaTradingJson.Order, notFoundIsNull: true, ct).ConfigureAwait(false);
        return order?.Id;
    }

    private async Task<IReadOnlyList<AlpacaOrderDto>> OpenOrdersAsync(CancellationToken ct) =>
        await QueryAsync("/v2/orders?status=open&limit=500&direction=asc", "list open orders", e => List(e, AlpacaTradingJson.Order), notFoundIsNull: false, ct).ConfigureAwait(false) ?? [];

    /// <summary>FILL activities after <paramref name="since"/>, with each order's Keel client id (looked up when not known).</summary>
    private async Task<(List<(AlpacaFillActivityDto Activity, ClientOrderId? ClientOrderId)> Fills, string? Next)> ReadFillsAsync(string? since, CancellationToken ct)
    {
        const int PageSize = 100;
        var result = new List<(AlpacaFillActivityDto, ClientOrderId?)>();
        string? token = since;
        while (true)
        {
            string path = $"/v2/account/activities/FILL?direction=asc&page_size={PageSize}" + (token is null ? string.Empty : "&page_token=" + Uri.EscapeDataString(token));
            var page = await QueryAsync(path, "read fill activities", e => List(e, AlpacaTradingJson.Activity), notFoundIsNull: false, ct).ConfigureAwait(false) ?? [];
            foreach (var a in page)
            {
                var coid = KnownClientId(a.OrderId);
                if (coid is null)
                {
                    var order = await QueryAsync("/v2/orders/" + Uri.EscapeDataString(a.OrderId), $"look up order {a.OrderId}", AlpacaTradingJson.Order, notFoundIsNull: true, ct).ConfigureAwait(false);
                    coid = order is null ? null : TryClientId(order.ClientOrderId);
                }

                result.Add((a, coid));
            }

            if (page.Count > 0)
            {
                token = page[^1].Id;
            }

            if (page.Count < PageSize)
            {
                return (result, token);
            }
        }
    }

    private VenueOrder ToVenueOrder(AlpacaOrderDto o, VenueOrderId? parent) => new(
        KnownClientId(o.Id) ?? TryClientId(o.ClientOrderId),
        new VenueOrderId(o.Id),
        new InstrumentId(o.Symbol),
        o.Side,
        o.Type,
        o.Qty,
        o.FilledQty,
        o.AveragePrice,
        o.LimitPrice,
        o.StopPrice,
        o.TimeInForce,
        o.MappedStatus,
        o.CreatedAt,
        o.UpdatedAt,
        o.ReplacedBy is null ? null : new VenueOrderId(o.ReplacedBy),
        parent ?? KnownParent(o.Id));

    private static List<T> List<T>(JsonElement e, Func<JsonElement, T> read)
    {
        if (e.ValueKind != JsonValueKind.Array)
        {
            throw new AlpacaReplyException($"expected a JSON array, got {e.ValueKind.ToString().ToLowerInvariant()}");
        }

        var list = new List<T>(e.GetArrayLength());
        foreach (var item in e.EnumerateArray())
        {
            list.Add(read(item));
        }

        return list;
    }

    /// <summary>Keel's id for an order placed by someone else (the broker's app, an Alpaca-generated leg id), when it fits.</summary>
    private static ClientOrderId? TryClientId(string value) => value.Length is > 0 and <= 48 ? new ClientOrderId(value) : null;

    private static void Expect(SubmitOrder order, IReadOnlyList<SubmitOrder> others)
    {
        foreach (var o in others.Prepend(order))
        {
            if (o.Type is OrderType.Limit or OrderType.StopLimit && o.LimitPrice is null)
            {
                throw new ArgumentException($"order {o.ClientOrderId} is a {o.Type.ToText()} order without a limit price", nameof(order));
            }

            if (o.Type is OrderType.Stop or OrderType.StopLimit && o.StopPrice is null)
            {
                throw new ArgumentException($"order {o.ClientOrderId} is a {o.Type.ToText()} order without a stop price", nameof(order));
            }
        }
    }

    private readonly record struct Reply(int Status, byte[] Body, string? RequestId, TimeSpan? RetryAfter);
}
