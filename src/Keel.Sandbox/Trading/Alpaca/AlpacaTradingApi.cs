using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Keel.Domain;
using Keel.Domain.Orders;
using Keel.Sandbox.Streaming;
using Keel.Sandbox.Wire;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace Keel.Sandbox.Trading.Alpaca;

/// <summary>
/// Alpaca's Trading API v2 on the sandbox's Alpaca port, backed by one <see cref="AlpacaAccount"/> that fills on
/// the sandbox's own prices, the <c>trade_updates</c> stream at <c>/stream</c>, and the trading controls under
/// <c>/_sandbox/alpaca/</c> (scripted prices, a position closed by hand, account reset, fault switches).
/// </summary>
internal sealed class AlpacaTradingApi
{
    private const int RateLimit = 200;
    private const string BodyKey = "keel.alpaca.body";
    private readonly SandboxOptions _options;
    private readonly SandboxFaults _faults;
    private readonly VenueFeed _feed;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly long _halfSpread;
    private readonly Lock _rateGate = new();
    private long _window;
    private int _used;

    public AlpacaTradingApi(SandboxOptions options, SandboxFaults faults, VenueFeed feed, long halfSpread, TimeProvider time, ILogger log)
    {
        _options = options;
        _faults = faults;
        _feed = feed;
        _time = time;
        _log = log;
        _halfSpread = halfSpread;
        Stream = new AlpacaTradeStream(options, faults);
        Account = new AlpacaAccount(options.AlpacaCash, halfSpread, time, feed.Symbols.Contains, Stream.Publish);
    }

    public AlpacaAccount Account { get; }

    public AlpacaTradeStream Stream { get; }

    /// <summary>A tick of the Alpaca market feed (replayed or generated): the account matches on it.</summary>
    public void OnFeedTick(string symbol, long price) => Account.OnPrice(symbol, price);

    /// <summary>Registers the trading routes, the stream and the controls.</summary>
    public void Map(IEndpointRouteBuilder app, CancellationToken stopping)
    {
        app.MapPost("/v2/orders", ctx => RunAsync(ctx, PostOrderAsync, orderPost: true, stopping));
        app.MapGet("/v2/orders", ctx => RunAsync(ctx, c => ValueTask.FromResult(ListOrders(c)), orderPost: false, stopping));
        app.MapDelete("/v2/orders", ctx => RunAsync(ctx, _ => ValueTask.FromResult(Account.CancelAll()), orderPost: false, stopping));
        app.MapGet("/v2/orders:by_client_order_id", ctx => RunAsync(ctx, c => ValueTask.FromResult(Account.GetByClientId(c.Request.Query["client_order_id"].ToString())), orderPost: false, stopping));
        app.MapGet("/v2/orders/{id}", ctx => RunAsync(ctx, c => ValueTask.FromResult(Account.Get(Route(c, "id"), Flag(c, "nested"))), orderPost: false, stopping));
        app.MapPatch("/v2/orders/{id}", ctx => RunAsync(ctx, ReplaceAsync, orderPost: false, stopping));
        app.MapDelete("/v2/orders/{id}", ctx => RunAsync(ctx, c => ValueTask.FromResult(Account.Cancel(Route(c, "id"))), orderPost: false, stopping));
        app.MapGet("/v2/positions", ctx => RunAsync(ctx, _ => ValueTask.FromResult(Account.Positions()), orderPost: false, stopping));
        app.MapDelete("/v2/positions", ctx => RunAsync(ctx, c => ValueTask.FromResult(CloseAll(c)), orderPost: false, stopping));
        app.MapGet("/v2/positions/{symbol}", ctx => RunAsync(ctx, c => ValueTask.FromResult(Account.Position(Route(c, "symbol"))), orderPost: false, stopping));
        app.MapDelete("/v2/positions/{symbol}", ctx => RunAsync(ctx, c => ValueTask.FromResult(ClosePosition(c)), orderPost: false, stopping));
        app.MapGet("/v2/account", ctx => RunAsync(ctx, _ => ValueTask.FromResult(Account.Account()), orderPost: false, stopping));
        app.MapGet("/v2/clock", ctx => RunAsync(ctx, _ => ValueTask.FromResult(AlpacaCalendar.Clock(_time.GetUtcNow())), orderPost: false, stopping));
        app.MapGet("/v2/calendar", ctx => RunAsync(ctx, c => ValueTask.FromResult(AlpacaCalendar.Calendar(c.Request.Query, _time.GetUtcNow())), orderPost: false, stopping));
        app.MapGet("/v2/account/activities", ctx => RunAsync(ctx, c => ValueTask.FromResult(Activities(c, c.Request.Query["activity_types"].ToString())), orderPost: false, stopping));
        app.MapGet("/v2/account/activities/{type}", ctx => RunAsync(ctx, c => ValueTask.FromResult(Activities(c, Route(c, "type"))), orderPost: false, stopping));
        app.MapGet("/v2/stocks/{symbol}/quotes/latest", ctx => RunAsync(ctx, c => ValueTask.FromResult(LatestQuote(Route(c, "symbol"))), orderPost: false, stopping));
        app.Map("/stream", ctx => Stream.HandleAsync(ctx, stopping));

        app.MapPost("/_sandbox/alpaca/prices", ctx => ControlAsync(ctx, ScriptPrices));
        app.MapPost("/_sandbox/alpaca/close_position", ctx => ControlAsync(ctx, root => Account.CloseByHand(String(root, "symbol") ?? string.Empty)));
        app.MapPost("/_sandbox/alpaca/reset", ctx => ControlAsync(ctx, ResetAccount));
        app.MapGet("/_sandbox/alpaca/faults", ctx => WriteAsync(ctx, ApiResult.Ok(FaultState())));
        app.MapPost("/_sandbox/alpaca/faults", ctx => ControlAsync(ctx, SetFaults));
    }

    internal static async Task WriteAsync(HttpContext context, ApiResult result)
    {
        context.Response.StatusCode = result.Status;
        if (result.Body is { } body)
        {
            context.Response.ContentType = "application/json; charset=utf-8";
            context.Response.ContentLength = body.Length;
            await context.Response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
        }
    }

    /// <summary>Every trading request: rate-limit headers (and the 429 switch), key check, the stall switch, then the handler; nothing a client sends can crash it.</summary>
    private async Task RunAsync(HttpContext context, Func<HttpContext, ValueTask<ApiResult>> handler, bool orderPost, CancellationToken stopping)
    {
        var f = _faults.AlpacaTrading;
        bool limited = f.TryTakeRateLimit();
        long reset = RateHeaders(context.Response, limited);
        context.Response.Headers["X-Request-ID"] = Guid.NewGuid().ToString("N");
        if (limited)
        {
            _feed.Stats.Limited();
            long wait = f.RetryAfterS > 0 ? f.RetryAfterS : Math.Max(1, reset - _time.GetUtcNow().ToUnixTimeSeconds());
            context.Response.Headers.RetryAfter = wait.ToString(CultureInfo.InvariantCulture);
            SandboxLog.TradingFault(_log, "rate_limit_next", context.Request.Path.Value ?? string.Empty);
            await WriteAsync(context, ApiResult.Error(429, 42910000, "too many requests")).ConfigureAwait(false);
            return;
        }

        var headers = context.Request.Headers;
        if (_faults.RejectAuth || !Same(headers["APCA-API-KEY-ID"].ToString(), _options.AlpacaKey) || !Same(headers["APCA-API-SECRET-KEY"].ToString(), _options.AlpacaSecret))
        {
            await WriteAsync(context, new ApiResult(401, "{\"message\":\"unauthorized\"}"u8.ToArray())).ConfigureAwait(false);
            return;
        }

        // The whole request is read first, so a stalled request is still processed after its client gave up.
        context.Items[BodyKey] = await ReadBodyAsync(context).ConfigureAwait(false);
        if (f.StallMs is > 0 and int stall)
        {
            // The request is processed after the stall even if the client gave up waiting, as a slow venue would.
            SandboxLog.TradingFault(_log, "stall_ms", context.Request.Path.Value ?? string.Empty);
            await Task.Delay(TimeSpan.FromMilliseconds(stall), _time, stopping).ConfigureAwait(false);
        }

        if (orderPost && f.TryTakeServerError())
        {
            SandboxLog.TradingFault(_log, "server_error_next", context.Request.Path.Value ?? string.Empty);
            await WriteAsync(context, ApiResult.Error(500, 50010000, "internal server error")).ConfigureAwait(false);
            return;
        }

        ApiResult result;
        try
        {
            result = await handler(context).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or OverflowException or InvalidOperationException)
        {
            SandboxLog.TradingRequestFailed(_log, context.Request.Method, context.Request.Path.Value ?? string.Empty, ex);
            result = ApiResult.Error(422, 40010001, ex.Message);
        }

        if (orderPost && result.Status == 200 && f.TryTakeLoseResponse())
        {
            // The order exists; the client never hears so.
            SandboxLog.TradingFault(_log, "lose_response_next", context.Request.Path.Value ?? string.Empty);
            context.Abort();
            return;
        }

        try
        {
            await WriteAsync(context, result).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client left (it timed out on a stall); the request took effect all the same.
        }
    }

    private async ValueTask<ApiResult> PostOrderAsync(HttpContext context)
    {
        using var document = await ReadJsonAsync(context).ConfigureAwait(false);
        if (document is null)
        {
            return ApiResult.Error(400, 40010000, "request body format is invalid");
        }

        var (ticket, error) = AlpacaRequests.ParseOrder(document.RootElement);
        if (ticket is null)
        {
            return error!;
        }

        _feed.StartIfWanted([ticket.Symbol]);
        return Account.Submit(ticket);
    }

    private async ValueTask<ApiResult> ReplaceAsync(HttpContext context)
    {
        using var document = await ReadJsonAsync(context).ConfigureAwait(false);
        if (document is null)
        {
            return ApiResult.Error(400, 40010000, "request body format is invalid");
        }

        var (ticket, error) = AlpacaRequests.ParseReplace(document.RootElement);
        return ticket is null ? error! : Account.Replace(Route(context, "id"), ticket);
    }

    private ApiResult ListOrders(HttpContext context)
    {
        var q = context.Request.Query;
        string status = q.ContainsKey("status") ? q["status"].ToString() : "open";
        if (status is not ("open" or "closed" or "all"))
        {
            return ApiResult.Invalid($"invalid status: '{status}' (open, closed or all)");
        }

        int limit = 50;
        if (q.ContainsKey("limit") && (!int.TryParse(q["limit"], NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > 500))
        {
            return ApiResult.Invalid($"invalid limit: '{q["limit"]}' (1 to 500)");
        }

        long after = long.MinValue, until = long.MaxValue;
        if (q.ContainsKey("after") && !WireText.TryParseTime(q["after"], out after))
        {
            return ApiResult.Invalid($"invalid after: '{q["after"]}'");
        }

        if (q.ContainsKey("until") && !WireText.TryParseTime(q["until"], out until))
        {
            return ApiResult.Invalid($"invalid until: '{q["until"]}'");
        }

        if (!TryDirection(context, out bool ascending))
        {
            return ApiResult.Invalid($"invalid direction: '{q["direction"]}' (asc or desc)");
        }

        HashSet<string>? symbols = null;
        if (q.ContainsKey("symbols"))
        {
            symbols = new(q["symbols"].ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), StringComparer.Ordinal);
        }

        OrderSide? side = q["side"].ToString() switch
        {
            "buy" => OrderSide.Buy,
            "sell" => OrderSide.Sell,
            _ => null,
        };
        return Account.List(status, after, until, ascending, limit, Flag(context, "nested"), symbols, side);
    }

    private ApiResult ClosePosition(HttpContext context)
    {
        var q = context.Request.Query;
        Quantity? qty = null;
        decimal? percentage = null;
        if (q.ContainsKey("qty") && q.ContainsKey("percentage"))
        {
            return ApiResult.Invalid("qty and percentage are mutually exclusive");
        }

        if (q.ContainsKey("qty"))
        {
            if (!Quantity.TryParse(q["qty"].ToString(), out var parsed) || !parsed.IsPositive)
            {
                return ApiResult.Invalid($"invalid qty: '{q["qty"]}'");
            }

            qty = parsed;
        }

        if (q.ContainsKey("percentage"))
        {
            if (!decimal.TryParse(q["percentage"], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal pct) || pct <= 0 || pct > 100)
            {
                return ApiResult.Invalid($"invalid percentage: '{q["percentage"]}' (above 0, at most 100)");
            }

            percentage = pct;
        }

        return Account.ClosePosition(Route(context, "symbol"), qty, percentage);
    }

    /// <summary>DELETE /v2/positions: 207 with one entry per position (its closing order as body); open orders cancelled first with cancel_orders=true.</summary>
    private ApiResult CloseAll(HttpContext context)
    {
        if (Flag(context, "cancel_orders"))
        {
            Account.CancelAll();
        }

        using var positions = JsonDocument.Parse(Account.Positions().Body!);
        var results = new List<(string Symbol, ApiResult Result)>();
        foreach (var p in positions.RootElement.EnumerateArray())
        {
            string symbol = p.GetProperty("symbol").GetString()!;
            results.Add((symbol, Account.ClosePosition(symbol, null, null)));
        }

        return new ApiResult(207, AlpacaWire.Write(w =>
        {
            w.WriteStartArray();
            foreach (var (symbol, result) in results)
            {
                w.WriteStartObject();
                w.WriteString("symbol", symbol);
                w.WriteNumber("status", result.Status);
                w.WritePropertyName("body");
                w.WriteRawValue(result.Body!, skipInputValidation: true);
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }));
    }

    /// <summary>
    /// FILL activities, paged: <c>page_size</c> 1–100 (default 100), <c>direction</c> (default desc),
    /// <c>page_token</c> = the id of the last item received, <c>after</c>/<c>until</c>/<c>date</c> on the transaction time.
    /// Other activity types exist on Alpaca; this account has none of them, so they list empty.
    /// </summary>
    private ApiResult Activities(HttpContext context, string types)
    {
        var q = context.Request.Query;
        var wanted = types.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        bool fills = wanted.Length == 0 || wanted.Contains("FILL", StringComparer.Ordinal);
        int size = 100;
        if (q.ContainsKey("page_size") && (!int.TryParse(q["page_size"], NumberStyles.None, CultureInfo.InvariantCulture, out size) || size < 1 || size > 100))
        {
            return ApiResult.Invalid($"invalid page_size: '{q["page_size"]}' (1 to 100)");
        }

        if (!TryDirection(context, out bool ascending))
        {
            return ApiResult.Invalid($"invalid direction: '{q["direction"]}' (asc or desc)");
        }

        long after = long.MinValue, until = long.MaxValue;
        if (q.ContainsKey("after") && !WireText.TryParseTime(q["after"], out after))
        {
            return ApiResult.Invalid($"invalid after: '{q["after"]}'");
        }

        if (q.ContainsKey("until") && !WireText.TryParseTime(q["until"], out until))
        {
            return ApiResult.Invalid($"invalid until: '{q["until"]}'");
        }

        if (q.ContainsKey("date"))
        {
            if (!WireText.TryParseTime(q["date"], out long day))
            {
                return ApiResult.Invalid($"invalid date: '{q["date"]}'");
            }

            after = Math.Max(after, day - 1);
            until = Math.Min(until, day + Timestamp.NanosPerDay);
        }

        var all = fills ? Account.Fills() : [];
        var list = all.Where(a => a.Time > after && a.Time < until).ToList();
        if (!ascending)
        {
            list.Reverse();
        }

        int start = 0;
        if (q["page_token"].ToString() is { Length: > 0 } token)
        {
            int at = list.FindIndex(a => a.Id == token);
            if (at < 0)
            {
                return ApiResult.Invalid($"invalid page_token: '{token}'");
            }

            start = at + 1;
        }

        var page = list.Skip(start).Take(size).ToList();
        return ApiResult.Ok(AlpacaWire.Write(w =>
        {
            w.WriteStartArray();
            foreach (var a in page)
            {
                w.WriteStartObject();
                w.WriteString("id", a.Id);
                w.WriteString("activity_type", "FILL");
                w.WriteString("transaction_time", WireText.Time9(a.Time));
                w.WriteString("type", a.Partial ? "partial_fill" : "fill");
                w.WriteString("price", a.Price.ToString());
                w.WriteString("qty", a.Qty.ToString());
                w.WriteString("side", a.Side.ToText());
                w.WriteString("symbol", a.Symbol);
                w.WriteString("leaves_qty", a.LeavesQty.ToString());
                w.WriteString("order_id", a.OrderId);
                w.WriteString("cum_qty", a.CumQty.ToString());
                w.WriteString("order_status", a.OrderStatus);
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }));
    }

    private async Task ControlAsync(HttpContext context, Func<JsonElement, ApiResult> handler)
    {
        using var document = await ReadJsonAsync(context).ConfigureAwait(false);
        if (document is null || document.RootElement.ValueKind != JsonValueKind.Object)
        {
            await WriteAsync(context, ApiResult.Error(400, 40010000, "the body must be a JSON object")).ConfigureAwait(false);
            return;
        }

        SandboxLog.FaultsChanged(_log, context.Request.Path.Value + " " + document.RootElement.GetRawText());
        await WriteAsync(context, handler(document.RootElement)).ConfigureAwait(false);
    }

    /// <summary>
    /// <c>{"symbol":"AAPL","prices":["100","99.5"],"size":"3"}</c>: each price in turn is the symbol's next price, matched
    /// at once. With <c>size</c>, each price shows only that many shares on each side, so a larger order fills in parts.
    /// </summary>
    /// <summary>
    /// Market data's latest quote (<c>{"symbol":…,"quote":{"t","bp","bs","ap","as",…}}</c>): the account's last price
    /// ± the half spread; a symbol without a price has zeros on both sides, as Alpaca shows a missing side.
    /// </summary>
    private ApiResult LatestQuote(string symbol)
    {
        long? last = Account.LastPrice(symbol);
        long half = _halfSpread;
        long bid = last is long l ? Math.Max(0, l - half) : 0;
        long ask = last is long a ? a + half : 0;
        return ApiResult.Ok(AlpacaWire.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("symbol", symbol);
            w.WritePropertyName("quote");
            w.WriteStartObject();
            w.WriteString("t", WireText.Time9(_time.GetUtcNow().ToUnixTimeMilliseconds() * 1_000_000));
            w.WriteString("ax", "V");
            w.WriteNumber("ap", Price.FromRaw(ask).ToDecimal());
            w.WriteNumber("as", last is null ? 0 : 1);
            w.WriteString("bx", "V");
            w.WriteNumber("bp", Price.FromRaw(bid).ToDecimal());
            w.WriteNumber("bs", last is null ? 0 : 1);
            w.WriteStartArray("c");
            w.WriteStringValue("R");
            w.WriteEndArray();
            w.WriteString("z", "C");
            w.WriteEndObject();
            w.WriteEndObject();
        }));
    }

    private ApiResult ScriptPrices(JsonElement root)
    {
        string? symbol = String(root, "symbol");
        if (string.IsNullOrWhiteSpace(symbol) || !root.TryGetProperty("prices", out var prices) || prices.ValueKind != JsonValueKind.Array)
        {
            return ApiResult.Invalid("expected {\"symbol\":\"AAPL\",\"prices\":[\"100.00\", …]}");
        }

        var parsed = new List<long>();
        foreach (var p in prices.EnumerateArray())
        {
            string text = p.ValueKind == JsonValueKind.String ? p.GetString()! : p.GetRawText();
            if (!Price.TryParse(text, out var price) || !price.IsPositive)
            {
                return ApiResult.Invalid($"price {text} is not a positive decimal");
            }

            parsed.Add(price.Raw);
        }

        long size = 0;
        if (root.TryGetProperty("size", out var sizeElement))
        {
            string text = sizeElement.ValueKind == JsonValueKind.String ? sizeElement.GetString()! : sizeElement.GetRawText();
            if (!Quantity.TryParse(text, out var shown) || !shown.IsPositive)
            {
                return ApiResult.Invalid($"size {text} is not a positive quantity");
            }

            size = shown.Raw;
        }

        foreach (long p in parsed)
        {
            Account.OnPrice(symbol, p, size);
        }

        return ApiResult.Ok(AlpacaWire.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("symbol", symbol);
            AlpacaOrder.Text(w, "last", Account.LastPrice(symbol) is long last ? Price.FromRaw(last).ToString() : null);
            w.WriteEndObject();
        }));
    }

    private ApiResult ResetAccount(JsonElement root)
    {
        decimal cash = _options.AlpacaCash;
        if (root.TryGetProperty("cash", out var c))
        {
            string text = c.ValueKind == JsonValueKind.String ? c.GetString()! : c.GetRawText();
            if (!decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out cash))
            {
                return ApiResult.Invalid($"cash {text} is not a non-negative decimal");
            }
        }

        Account.Reset(cash);
        return Account.Account();
    }

    private ApiResult SetFaults(JsonElement root)
    {
        var f = _faults.AlpacaTrading;
        foreach (var p in root.EnumerateObject())
        {
            bool isCount = p.Name is "rate_limit_next" or "server_error_next" or "lose_response_next" or "duplicate_events_next" or "drop_fill_events_next" or "stall_ms"
                or "out_of_order_next" or "retry_after_s";
            bool isFlag = p.Name is "silent_stream" or "reset" or "drop_stream";
            bool ok = p.Name switch
            {
                "chaos" => p.Value.TryGetDouble(out double chance) && chance is >= 0 and <= 1,
                "chaos_seed" => p.Value.TryGetInt32(out _),
                _ => isCount ? p.Value.TryGetInt32(out int n) && n >= 0 : isFlag && p.Value.ValueKind is JsonValueKind.True or JsonValueKind.False,
            };
            if (!ok)
            {
                return ApiResult.Invalid($"'{p.Name}' was {p.Value.GetRawText()}; expected rate_limit_next, server_error_next, lose_response_next, duplicate_events_next, drop_fill_events_next, out_of_order_next, retry_after_s, stall_ms (a count ≥ 0), silent_stream, drop_stream, reset (true/false), chaos (a probability 0–1) or chaos_seed (an integer)");
            }
        }

        if (root.TryGetProperty("reset", out var reset) && reset.GetBoolean())
        {
            f.Reset();
        }

        foreach (var p in root.EnumerateObject())
        {
            switch (p.Name)
            {
                case "rate_limit_next":
                    f.RateLimitNext = p.Value.GetInt32();
                    break;
                case "server_error_next":
                    f.ServerErrorNext = p.Value.GetInt32();
                    break;
                case "lose_response_next":
                    f.LoseResponseNext = p.Value.GetInt32();
                    break;
                case "duplicate_events_next":
                    f.DuplicateEventsNext = p.Value.GetInt32();
                    break;
                case "drop_fill_events_next":
                    f.DropFillEventsNext = p.Value.GetInt32();
                    break;
                case "chaos":
                    f.Chaos = p.Value.GetDouble();
                    break;
                case "chaos_seed":
                    f.ChaosSeed = p.Value.GetInt32();
                    break;
                case "stall_ms":
                    f.StallMs = p.Value.GetInt32();
                    break;
                case "silent_stream":
                    f.SilentStream = p.Value.GetBoolean();
                    break;
                case "out_of_order_next":
                    f.OutOfOrderNext = p.Value.GetInt32();
                    break;
                case "retry_after_s":
                    f.RetryAfterS = p.Value.GetInt32();
                    break;
                case "drop_stream" when p.Value.GetBoolean():
                    Stream.Drop();
                    break;
                default:
                    break;
            }
        }

        return ApiResult.Ok(FaultState());
    }

    private byte[] FaultState() => AlpacaWire.Write(w =>
    {
        var f = _faults.AlpacaTrading;
        w.WriteStartObject();
        w.WriteNumber("rate_limit_next", f.RateLimitNext);
        w.WriteNumber("server_error_next", f.ServerErrorNext);
        w.WriteNumber("lose_response_next", f.LoseResponseNext);
        w.WriteNumber("duplicate_events_next", f.DuplicateEventsNext);
        w.WriteNumber("drop_fill_events_next", f.DropFillEventsNext);
        w.WriteNumber("stall_ms", f.StallMs);
        w.WriteNumber("chaos", f.Chaos);
        w.WriteBoolean("silent_stream", f.SilentStream);
        w.WriteNumber("out_of_order_next", f.OutOfOrderNext);
        w.WriteNumber("retry_after_s", f.RetryAfterS);
        w.WriteNumber("trade_stream_listeners", Stream.Listening);
        w.WriteEndObject();
    });

    private long RateHeaders(HttpResponse response, bool limited)
    {
        long now = _time.GetUtcNow().ToUnixTimeSeconds();
        int remaining;
        long reset;
        lock (_rateGate)
        {
            long window = now / 60;
            if (window != _window)
            {
                _window = window;
                _used = 0;
            }

            _used++;
            remaining = limited ? 0 : Math.Max(0, RateLimit - _used);
            reset = (window + 1) * 60;
        }

        response.Headers["X-Ratelimit-Limit"] = RateLimit.ToString(CultureInfo.InvariantCulture);
        response.Headers["X-Ratelimit-Remaining"] = remaining.ToString(CultureInfo.InvariantCulture);
        response.Headers["X-Ratelimit-Reset"] = reset.ToString(CultureInfo.InvariantCulture);
        return reset;
    }

    private static async Task<byte[]> ReadBodyAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        try
        {
            await context.Request.Body.CopyToAsync(buffer, context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or BadHttpRequestException)
        {
        }

        return buffer.ToArray();
    }

    private static async Task<JsonDocument?> ReadJsonAsync(HttpContext context)
    {
        var body = context.Items.TryGetValue(BodyKey, out var read) && read is byte[] bytes ? bytes : await ReadBodyAsync(context).ConfigureAwait(false);
        try
        {
            return JsonDocument.Parse(body);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static bool TryDirection(HttpContext context, out bool ascending)
    {
        string d = context.Request.Query["direction"].ToString();
        ascending = d == "asc";
        return d is "" or "asc" or "desc";
    }

    private static string Route(HttpContext context, string name) => context.Request.RouteValues[name] as string ?? string.Empty;

    private static bool Flag(HttpContext context, string name) => string.Equals(context.Request.Query[name].ToString(), "true", StringComparison.OrdinalIgnoreCase);

    private static string? String(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static bool Same(string a, string b) => CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));
}
