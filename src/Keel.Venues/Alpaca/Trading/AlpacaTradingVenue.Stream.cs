using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using Keel.Domain;
using Keel.Domain.Events;
using Keel.Domain.Orders;
using Keel.Engine.Ports;

namespace Keel.Venues.Alpaca.Trading;

// The trade_updates stream, the orders the adapter follows, deduplication and the REST catch-up.
public sealed partial class AlpacaTradingVenue
{
    private const int MaxMessage = 1 << 20;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, Tracked> _orders = new(StringComparer.Ordinal);
    private readonly Dictionary<ClientOrderId, string> _venueIds = [];
    private readonly HashSet<ClientOrderId> _aliases = [];
    private readonly HashSet<string> _executions = new(StringComparer.Ordinal);
    private readonly HashSet<(string OrderId, long CumQty)> _fillKeys = [];
    private readonly SemaphoreSlim _catchUpGate = new(1, 1);
    private IOrderEventSink? _sink;
    private string? _watermark;
    private bool _watermarkKnown;
    private CancellationTokenSource? _running;
    private Task _stream = Task.CompletedTask;
    private Task _poll = Task.CompletedTask;

    /// <summary>The activity id the fill history has been read up to (persist it to resume with <see cref="AlpacaTradingOptions.StartWatermark"/>).</summary>
    public VenueWatermark? Watermark
    {
        get
        {
            lock (_gate)
            {
                return _watermark is null ? null : new VenueWatermark(_watermark);
            }
        }
    }

    /// <summary>True while the trade_updates stream is connected and listening.</summary>
    public bool IsStreaming { get; private set; }

    /// <summary>
    /// Connects and listens to <c>trade_updates</c> (throws <see cref="VenueQueryException"/> when the first connection
    /// fails), catches up from REST before it returns, then keeps the stream up (reconnecting with back-off, catching up after each
    /// reconnect) and polls REST every <see cref="AlpacaTradingOptions.CatchUpInterval"/> until disconnected.
    /// </summary>
    public async Task ConnectAsync(IOrderEventSink sink, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(sink);
        if (_running is not null)
        {
            throw new InvalidOperationException("the Alpaca venue is already connected; disconnect it first");
        }

        _sink = sink;
        if (!_watermarkKnown)
        {
            string? start = _options.StartWatermark ?? await NewestActivityIdAsync(ct).ConfigureAwait(false);
            lock (_gate)
            {
                _watermark = start;
                _watermarkKnown = true;
            }
        }

        ClientWebSocket socket;
        try
        {
            socket = await OpenStreamAsync(ct).ConfigureAwait(false);
        }
        catch (StreamRefusedException)
        {
            VenueLog.TradeStreamUnauthorized(_log, VenueName);
            throw new VenueQueryException(VenueOutcome.PermanentError("alpaca: trade_updates refused the credentials"));
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or TimeoutException or AlpacaReplyException)
        {
            throw new VenueQueryException(VenueOutcome.Unknown($"alpaca: could not open trade_updates at {VenueLog.Safe(_options.ResolvedStreamUrl)}: {ex.Message}"));
        }

        _running = new CancellationTokenSource();
        _stream = RunStreamAsync(socket, _running.Token);
        _poll = _options.CatchUpInterval > TimeSpan.Zero ? PollAsync(_running.Token) : Task.CompletedTask;

        // What happened before the stream listened (since the watermark) is delivered before this returns.
        await CatchUpLoggedAsync(ct).ConfigureAwait(false);
    }

    public async Task DisconnectAsync(CancellationToken ct = default)
    {
        var running = _running;
        if (running is null)
        {
            return;
        }

        await running.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_stream, _poll).WaitAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
        }

        running.Dispose();
        _running = null;
        IsStreaming = false;
    }

    /// <summary>Reads fills since the watermark and open orders from REST and delivers what the stream has not (used by the poll and after reconnects).</summary>
    public async Task CatchUpAsync(CancellationToken ct = default)
    {
        await _catchUpGate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            string? since;
            lock (_gate)
            {
                since = _watermark;
            }

            var (fills, next) = await ReadFillsAsync(since, ct).ConfigureAwait(false);
            var open = await OpenOrdersAsync(ct).ConfigureAwait(false);
            int newFills = 0, events = 0;
            var openIds = new HashSet<string>(StringComparer.Ordinal);
            List<Tracked> stale;
            lock (_gate)
            {
                foreach (var (a, coid) in fills)
                {
                    if (coid is { } id && ApplyFill(Track(a.OrderId, id, a.Symbol, a.Side), a.ExecutionId, a.OrderId, a.CumQty, a.Qty, a.Price, a.Time))
                    {
                        // Counted as it is delivered: whoever sees the fill sees the count.
                        Counters.CaughtUp(1);
                        newFills++;
                    }
                }

                _watermark = next ?? since;
                foreach (var o in open.SelectMany(o => o.Legs.Prepend(o)))
                {
                    openIds.Add(o.Id);
                    if ((KnownClientId(o.Id) ?? TryClientId(o.ClientOrderId)) is { } coid
                        && o.MappedStatus is OrderStatus.Accepted or OrderStatus.PartiallyFilled or OrderStatus.PendingCancel
                        && EnsureAccepted(Track(o.Id, coid, o.Symbol, o.Side), o.UpdatedAt))
                    {
                        events++;
                    }
                }

                stale = [.. _orders.Values.Where(t => !t.Terminal && !openIds.Contains(t.VenueId))];
            }

            foreach (var t in stale)
            {
                var order = await QueryAsync("/v2/orders/" + Uri.EscapeDataString(t.VenueId), $"look up order {t.VenueId}", AlpacaTradingJson.Order, notFoundIsNull: true, ct).ConfigureAwait(false);
                if (order is null)
                {
                    continue;
                }

                var replacedBy = order.ReplacedBy is null ? null : await ClientIdOfAsync(order.ReplacedBy, ct).ConfigureAwait(false);
                lock (_gate)
                {
                    events += ApplyStatus(t, order, replacedBy) ? 1 : 0;
                }
            }

            if (newFills + events > 0)
            {
                VenueLog.CaughtUp(_log, VenueName, newFills, events);
            }
        }
        finally
        {
            _catchUpGate.Release();
        }
    }

    /// <summary>Registers an order the venue accepted, and the Keel ids of its legs (Alpaca names legs itself).</summary>
    private void Register(AlpacaOrderDto order, ClientOrderId clientOrderId, IReadOnlyList<SubmitOrder> exits)
    {
        lock (_gate)
        {
            Track(order.Id, clientOrderId, order.Symbol, order.Side);
            _venueIds[clientOrderId] = order.Id;
            foreach (var leg in order.Legs)
            {
                var exit = exits.FirstOrDefault(e => leg.Type == OrderType.Limit ? e.Type == OrderType.Limit : e.Type is OrderType.Stop or OrderType.StopLimit);
                if (exit is null)
                {
                    continue;
                }

                var t = Track(leg.Id, exit.ClientOrderId, leg.Symbol, leg.Side);
                bool streamedFirst = t.ClientOrderId != exit.ClientOrderId;
                t.ClientOrderId = exit.ClientOrderId;
                if (streamedFirst && t.Accepted && !t.Terminal)
                {
                    // The stream announced the leg under Alpaca's own id before this answer named it: Keel's order
                    // hears of its acceptance now, before any fill that follows.
                    Emit(new OrderAccepted(exit.ClientOrderId, new VenueOrderId(leg.Id), Now(), Now()));
                }

                t.ParentVenueId = order.Id;
                _venueIds[exit.ClientOrderId] = leg.Id;
                if (exit.ClientOrderId.Value != leg.ClientOrderId)
                {
                    _aliases.Add(exit.ClientOrderId);
                }
            }
        }
    }

    private string? KnownVenueId(ClientOrderId clientOrderId)
    {
        lock (_gate)
        {
            return _venueIds.GetValueOrDefault(clientOrderId);
        }
    }

    private string? AliasedVenueId(ClientOrderId clientOrderId)
    {
        lock (_gate)
        {
            return _aliases.Contains(clientOrderId) ? _venueIds.GetValueOrDefault(clientOrderId) : null;
        }
    }

    private ClientOrderId? KnownClientId(string venueOrderId)
    {
        lock (_gate)
        {
            return _orders.TryGetValue(venueOrderId, out var t) ? t.ClientOrderId : null;
        }
    }

    private VenueOrderId? KnownParent(string venueOrderId)
    {
        lock (_gate)
        {
            return _orders.TryGetValue(venueOrderId, out var t) && t.ParentVenueId is { } parent ? new VenueOrderId(parent) : null;
        }
    }

    private async Task<ClientOrderId?> ClientIdOfAsync(string venueOrderId, CancellationToken ct)
    {
        if (KnownClientId(venueOrderId) is { } known)
        {
            return known;
        }

        var order = await QueryAsync("/v2/orders/" + Uri.EscapeDataString(venueOrderId), $"look up order {venueOrderId}", AlpacaTradingJson.Order, notFoundIsNull: true, ct).ConfigureAwait(false);
        return order is null ? null : TryClientId(order.ClientOrderId);
    }

    private async Task<string?> NewestActivityIdAsync(CancellationToken ct)
    {
        var newest = await QueryAsync("/v2/account/activities/FILL?direction=desc&page_size=1", "read fill activities", e => List(e, AlpacaTradingJson.Activity), notFoundIsNull: false, ct).ConfigureAwait(false);
        return newest is { Count: > 0 } ? newest[0].Id : null;
    }

    private Tracked Track(string venueId, ClientOrderId clientOrderId, string symbol, OrderSide side)
    {
        if (!_orders.TryGetValue(venueId, out var t))
        {
            t = new Tracked(venueId, clientOrderId, new InstrumentId(symbol), side);
            _orders[venueId] = t;
            _venueIds.TryAdd(clientOrderId, venueId);
        }

        return t;
    }

    private void Emit(OrderEvent e) => _sink?.OnOrderEvent(e);

    private Timestamp Now() => Timestamp.FromDateTimeOffset(_time.GetUtcNow());

    /// <summary>Delivers <c>OrderAccepted</c> once per order; false when it was delivered before (or the order is finished).</summary>
    private bool EnsureAccepted(Tracked t, Timestamp time)
    {
        if (t.Accepted || t.Terminal)
        {
            return false;
        }

        t.Accepted = true;
        Emit(new OrderAccepted(t.ClientOrderId, new VenueOrderId(t.VenueId), time, Now()));
        return true;
    }

    /// <summary>Delivers one fill unless its execution id or its (order, cumulative quantity) was delivered before.</summary>
    private bool ApplyFill(Tracked t, string? executionId, string orderId, Quantity cumQty, Quantity qty, Price price, Timestamp time)
    {
        bool newExecution = executionId is null || _executions.Add(executionId);
        bool newKey = _fillKeys.Add((orderId, cumQty.Raw));
        if (!newExecution || !newKey)
        {
            Counters.Duplicate();
            VenueLog.DuplicateEvent(_log, VenueName, OrderEventKind.Filled, orderId);
            return false;
        }

        EnsureAccepted(t, time);
        Emit(new OrderFilled(t.ClientOrderId, new VenueOrderId(t.VenueId), new TradeId(executionId ?? $"{orderId}:{cumQty}"), t.Instrument, t.Side, qty, price, Money.Zero, time, Now()));
        return true;
    }

    /// <summary>Delivers the terminal event of an order REST shows finished; false when there is nothing new.</summary>
    private bool ApplyStatus(Tracked t, AlpacaOrderDto o, ClientOrderId? replacedBy)
    {
        var now = Now();
        switch (o.MappedStatus)
        {
            case OrderStatus.Canceled:
                return Finish(t, new OrderCanceled(t.ClientOrderId, null, o.UpdatedAt, now));
            case OrderStatus.Expired:
                return Finish(t, new OrderExpired(t.ClientOrderId, o.UpdatedAt, now));
            case OrderStatus.Rejected:
                return Finish(t, new OrderRejected(t.ClientOrderId, "rejected by Alpaca", o.UpdatedAt, now), accept: false);
            case OrderStatus.Replaced when replacedBy is { } by:
                return Finish(t, new OrderReplaced(t.ClientOrderId, by, o.UpdatedAt, now));
            case OrderStatus.Filled:
                bool accepted = EnsureAccepted(t, o.UpdatedAt);
                t.Terminal = true;
                return accepted;
            default:
                return false;
        }
    }

    private bool Finish(Tracked t, OrderEvent e, bool accept = true)
    {
        if (t.Terminal)
        {
            Counters.Duplicate();
            VenueLog.DuplicateEvent(_log, VenueName, e.Kind, t.VenueId);
            return false;
        }

        if (accept)
        {
            EnsureAccepted(t, e.TsEvent);
        }

        t.Terminal = true;
        Emit(e);
        return true;
    }

    private void ApplyUpdate(AlpacaTradeUpdateDto u, ClientOrderId clientOrderId, ClientOrderId? replacedBy)
    {
        lock (_gate)
        {
            var t = Track(u.Order.Id, clientOrderId, u.Order.Symbol, u.Order.Side);
            var now = Now();
            switch (u.Event)
            {
                case "new" or "accepted":
                    if (!EnsureAccepted(t, u.Time))
                    {
                        Counters.Duplicate();
                        VenueLog.DuplicateEvent(_log, VenueName, OrderEventKind.Accepted, t.VenueId);
                    }

                    break;
                case "fill" or "partial_fill":
                    if (u.Qty is not { } qty || (u.Price ?? u.Order.AveragePrice) is not { } price)
                    {
                        Counters.Skipped();
                        VenueLog.TradeUpdateSkipped(_log, VenueName, $"{u.Event} for order {u.Order.Id} without qty or price");
                        break;
                    }

                    ApplyFill(t, u.ExecutionId, u.Order.Id, u.Order.FilledQty, qty, price, u.Time);
                    if (u.Order.MappedStatus == OrderStatus.Filled)
                    {
                        t.Terminal = true;
                    }

                    break;
                case "canceled":
                    Finish(t, new OrderCanceled(t.ClientOrderId, null, u.Time, now));
                    break;
                case "expired":
                    Finish(t, new OrderExpired(t.ClientOrderId, u.Time, now));
                    break;
                case "rejected":
                    Finish(t, new OrderRejected(t.ClientOrderId, "rejected by Alpaca", u.Time, now), accept: false);
                    break;
                case "replaced" when replacedBy is { } by:
                    Finish(t, new OrderReplaced(t.ClientOrderId, by, u.Time, now));
                    break;
                case "pending_cancel":
                    if (!t.Terminal && !t.PendingCancel)
                    {
                        EnsureAccepted(t, u.Time);
                        t.PendingCancel = true;
                        Emit(new OrderPendingCancel(t.ClientOrderId, u.Time, now));
                    }

                    break;
                case "order_cancel_rejected":
                    Emit(new OrderCancelRejected(t.ClientOrderId, "Alpaca refused the cancel", u.Time, now));
                    break;
                case "replaced" or "pending_new" or "pending_replace" or "done_for_day" or "calculated" or "stopped" or "suspended" or "order_replace_rejected" or "held":
                    // Nothing for Keel's order state (a replaced order whose replacement is unknown is settled by the catch-up).
                    break;
                default:
                    Counters.Skipped();
                    VenueLog.TradeUpdateSkipped(_log, VenueName, $"unknown event '{u.Event}' for order {u.Order.Id}");
                    break;
            }
        }
    }

    private async Task<ClientWebSocket> OpenStreamAsync(CancellationToken ct)
    {
        var socket = new ClientWebSocket();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.RequestTimeout);
        try
        {
            await socket.ConnectAsync(_options.ResolvedStreamUrl, timeout.Token).ConfigureAwait(false);
            await socket.SendAsync(AlpacaTradingJson.StreamAuth(_options.Key, _options.Secret), WebSocketMessageType.Text, true, timeout.Token).ConfigureAwait(false);
            await ExpectAsync(socket, "authorization", data =>
                AlpacaTradingJson.OptStr(data, "status") == "authorized" ? true : throw new StreamRefusedException(), timeout.Token).ConfigureAwait(false);
            await socket.SendAsync(AlpacaTradingJson.StreamListen(), WebSocketMessageType.Text, true, timeout.Token).ConfigureAwait(false);
            await ExpectAsync(socket, "listening", _ => true, timeout.Token).ConfigureAwait(false);
            IsStreaming = true;
            VenueLog.TradeStreamListening(_log, VenueName);
            return socket;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            socket.Dispose();
            throw new TimeoutException($"no answer from trade_updates within {_options.RequestTimeout.TotalMilliseconds:0} ms");
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static async Task ExpectAsync(ClientWebSocket socket, string stream, Func<JsonElement, bool> check, CancellationToken ct)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        while (true)
        {
            if (!await ReceiveAsync(socket, buffer, ct).ConfigureAwait(false))
            {
                throw new WebSocketException("trade_updates closed during the handshake");
            }

            using var doc = AlpacaTradingJson.Parse(buffer.WrittenMemory);
            if (AlpacaTradingJson.OptStr(doc.RootElement, "stream") == stream)
            {
                check(doc.RootElement.TryGetProperty("data", out var data) ? data : default);
                return;
            }
        }
    }

    /// <summary>One whole message into <paramref name="buffer"/>; false when the venue closed the connection.</summary>
    private static async Task<bool> ReceiveAsync(ClientWebSocket socket, ArrayBufferWriter<byte> buffer, CancellationToken ct)
    {
        buffer.ResetWrittenCount();
        ValueWebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(buffer.GetMemory(4096), ct).ConfigureAwait(false);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return false;
            }

            buffer.Advance(result.Count);
            if (buffer.WrittenCount > MaxMessage)
            {
                throw new WebSocketException($"a trade_updates message was longer than {MaxMessage} bytes");
            }
        }
        while (!result.EndOfMessage);
        return true;
    }

    private async Task RunStreamAsync(ClientWebSocket socket, CancellationToken ct)
    {
        int attempt = 0;
        var catchUp = Task.CompletedTask; // ConnectAsync catches up after the first connection itself
        while (true)
        {
            string reason;
            try
            {
                var buffer = new ArrayBufferWriter<byte>(4096);
                while (await ReceiveAsync(socket, buffer, ct).ConfigureAwait(false))
                {
                    await HandleMessageAsync(buffer.WrittenMemory, ct).ConfigureAwait(false);
                }

                reason = "the venue closed the stream";
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                await CloseQuietlyAsync(socket).ConfigureAwait(false);
                await catchUp.ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A broken connection, or anything else (a sink that threw): reconnect and catch up rather than stop listening.
                reason = ex.Message;
            }
            finally
            {
                IsStreaming = false;
                socket.Dispose();
            }

            await catchUp.ConfigureAwait(false);
            while (true)
            {
                attempt++;
                var delay = Backoff(attempt);
                VenueLog.TradeStreamReconnecting(_log, VenueName, reason, (long)delay.TotalMilliseconds, attempt);
                try
                {
                    await Task.Delay(delay, _time, ct).ConfigureAwait(false);
                    socket = await OpenStreamAsync(ct).ConfigureAwait(false);
                    Counters.Reconnected();
                    catchUp = CatchUpLoggedAsync(ct);
                    attempt = 0;
                    break;
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    return;
                }
                catch (StreamRefusedException)
                {
                    VenueLog.TradeStreamUnauthorized(_log, VenueName);
                    return;
                }
                catch (Exception ex) when (ex is WebSocketException or IOException or TimeoutException or AlpacaReplyException)
                {
                    reason = ex.Message;
                }
            }
        }
    }

    private TimeSpan Backoff(int attempt)
    {
        double ms = _options.ReconnectDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 20));
        return TimeSpan.FromMilliseconds(Math.Min(ms, _options.ReconnectMaxDelay.TotalMilliseconds));
    }

    private async Task PollAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(_options.CatchUpInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                await CatchUpLoggedAsync(ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private async Task CatchUpLoggedAsync(CancellationToken ct)
    {
        try
        {
            await CatchUpAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (VenueQueryException ex)
        {
            VenueLog.CatchUpFailed(_log, VenueName, ex.Message);
        }
    }

    private async Task HandleMessageAsync(ReadOnlyMemory<byte> message, CancellationToken ct)
    {
        if (message.Length == 1 && message.Span[0] == 0x01)
        {
            return; // heartbeat
        }

        try
        {
            using var doc = AlpacaTradingJson.Parse(message);
            var root = doc.RootElement;
            string? stream = AlpacaTradingJson.OptStr(root, "stream");
            if (stream == "error")
            {
                VenueLog.TradeUpdateSkipped(_log, VenueName, "the venue reported an error: " + AlpacaJsonPreview(root));
                return;
            }

            if (stream != "trade_updates" || !root.TryGetProperty("data", out var data))
            {
                return;
            }

            var update = AlpacaTradingJson.TradeUpdate(data);
            var clientOrderId = KnownClientId(update.Order.Id) ?? TryClientId(update.Order.ClientOrderId);
            if (clientOrderId is not { } coid)
            {
                VenueLog.TradeUpdateSkipped(_log, VenueName, $"{update.Event} for order {update.Order.Id}, whose client id Keel cannot hold");
                return;
            }

            ClientOrderId? replacedBy = null;
            if (update.Event == "replaced" && update.Order.ReplacedBy is { } newId)
            {
                try
                {
                    replacedBy = await ClientIdOfAsync(newId, ct).ConfigureAwait(false);
                }
                catch (VenueQueryException ex)
                {
                    VenueLog.TradeUpdateSkipped(_log, VenueName, $"replaced for order {update.Order.Id}: the replacement could not be looked up ({ex.Message})");
                }
            }

            ApplyUpdate(update, coid, replacedBy);
        }
        catch (Exception ex) when (ex is AlpacaReplyException or JsonException or ArgumentException or InvalidOperationException or FormatException or OverflowException)
        {
            Counters.Skipped();
            Counters.Unreadable();
            VenueLog.TradeUpdateSkipped(_log, VenueName, ex.Message + ": " + AlpacaTradingJson.Preview(message.Span));
        }
    }

    private static string AlpacaJsonPreview(JsonElement root) => root.TryGetProperty("data", out var d) ? AlpacaTradingJson.OptStr(d, "error_message") ?? d.GetRawText() : root.GetRawText();

    private static async Task CloseQuietlyAsync(ClientWebSocket socket)
    {
        if (socket.State != WebSocketState.Open)
        {
            return;
        }

        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, string.Empty, cts.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
        }
    }

    /// <summary>An order the adapter follows, with what has been delivered for it.</summary>
    private sealed class Tracked(string venueId, ClientOrderId clientOrderId, InstrumentId instrument, OrderSide side)
    {
        public string VenueId { get; } = venueId;

        public ClientOrderId ClientOrderId { get; set; } = clientOrderId;

        public InstrumentId Instrument { get; } = instrument;

        public OrderSide Side { get; } = side;

        public string? ParentVenueId { get; set; }

        public bool Accepted { get; set; }

        public bool PendingCancel { get; set; }

        public bool Terminal { get; set; }
    }

    /// <summary>trade_updates answered the credentials with anything but <c>authorized</c>.</summary>
    private sealed class StreamRefusedException : Exception
    {
        public StreamRefusedException()
            : base("trade_updates refused the credentials")
        {
        }

        public StreamRefusedException(string message)
            : base(message)
        {
        }

        public StreamRefusedException(string message, Exception innerException)
            : base(message, innerException)
        {
        }
    }
}
