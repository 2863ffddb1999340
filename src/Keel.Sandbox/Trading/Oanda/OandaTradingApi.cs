using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Keel.Domain;
using Keel.Sandbox.Market;
using Keel.Sandbox.Rest;
using Keel.Sandbox.Streaming;
using Keel.Sandbox.Wire;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace Keel.Sandbox.Trading.Oanda;

/// <summary>
/// The OANDA v20 trading endpoints (orders, trades, positions, account, transactions and their stream) of the
/// simulated account, and the <c>/_sandbox/oanda/…</c> controls: scripted prices, closes "by hand", reset, faults.
/// Every answer has a JSON Content-Type (the official JS client crashes without one) and a RequestID.
/// </summary>
internal sealed class OandaTradingApi
{
    private const string Unauthorized = "Insufficient authorization to perform request.";
    private readonly SandboxOptions _options;
    private readonly SandboxFaults _sharedFaults;
    private readonly VenueFeed _feed;
    private readonly Func<string, int> _decimals;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private long _requestId = 200_000_000;
    private long _lastInjected;

    public OandaTradingApi(SandboxOptions options, SandboxFaults sharedFaults, VenueFeed feed, OandaAccount account, Func<string, int> decimals, TimeProvider time, ILogger log)
    {
        _options = options;
        _sharedFaults = sharedFaults;
        _feed = feed;
        _decimals = decimals;
        _time = time;
        _log = log;
        Account = account;
        Stream = new OandaTransactionStream(account, Faults, options.HeartbeatInterval, time);
    }

    public OandaAccount Account { get; }

    public OandaTradingFaults Faults { get; } = new();

    public OandaTransactionStream Stream { get; }

    public void Map(IEndpointRouteBuilder app, CancellationToken stopping)
    {
        const string A = "/v3/accounts/{accountId}";
        app.MapPost(A + "/orders", ctx => HandleAsync(ctx, body => Account.CreateOrder(body), order: true));
        app.MapGet(A + "/orders", ctx => HandleAsync(ctx, _ => Account.ListOrders(Q(ctx, "state"), Q(ctx, "instrument"), Q(ctx, "count"), Q(ctx, "beforeID"), Q(ctx, "ids"))));
        app.MapGet(A + "/pendingOrders", ctx => HandleAsync(ctx, _ => Account.ListOrders("PENDING", null, null, null, null)));
        app.MapGet(A + "/orders/{spec}", ctx => HandleAsync(ctx, _ => Account.GetOrder(R(ctx, "spec"))));
        app.MapPut(A + "/orders/{spec}", ctx => HandleAsync(ctx, body => Account.ReplaceOrder(R(ctx, "spec"), body), order: true));
        app.MapPut(A + "/orders/{spec}/cancel", ctx => HandleAsync(ctx, _ => Account.CancelOrder(R(ctx, "spec"))));
        app.MapGet(A + "/trades", ctx => HandleAsync(ctx, _ => Account.ListTrades(Q(ctx, "state"), Q(ctx, "instrument"), Q(ctx, "count"), Q(ctx, "beforeID"), Q(ctx, "ids"))));
        app.MapGet(A + "/openTrades", ctx => HandleAsync(ctx, _ => Account.ListTrades("OPEN", null, null, null, null)));
        app.MapGet(A + "/trades/{spec}", ctx => HandleAsync(ctx, _ => Account.GetTrade(R(ctx, "spec"))));
        app.MapPut(A + "/trades/{spec}/close", ctx => HandleAsync(ctx, body => Account.CloseTrade(R(ctx, "spec"), Field(body, "units"))));
        app.MapGet(A + "/positions", ctx => HandleAsync(ctx, _ => Account.ListPositions(openOnly: false)));
        app.MapGet(A + "/openPositions", ctx => HandleAsync(ctx, _ => Account.ListPositions(openOnly: true)));
        app.MapGet(A + "/positions/{instrument}", ctx => HandleAsync(ctx, _ => Account.GetPosition(R(ctx, "instrument"))));
        app.MapPut(A + "/positions/{instrument}/close", ctx => HandleAsync(ctx, body => Account.ClosePosition(R(ctx, "instrument"), Field(body, "longUnits"), Field(body, "shortUnits"))));
        app.MapGet(A, ctx => HandleAsync(ctx, _ => Account.Account(full: true)));
        app.MapGet(A + "/summary", ctx => HandleAsync(ctx, _ => Account.Account(full: false)));
        app.MapGet(A + "/changes", ctx => HandleAsync(ctx, _ => Account.Changes(Q(ctx, "sinceTransactionID"))));
        app.MapGet(A + "/transactions", ctx => HandleAsync(ctx, _ => Account.TransactionPages($"http://{ctx.Request.Host}", Q(ctx, "from"), Q(ctx, "to"), Q(ctx, "pageSize"), Q(ctx, "type"))));
        app.MapGet(A + "/transactions/idrange", ctx => HandleAsync(ctx, _ => Account.TransactionRange(Q(ctx, "from"), Q(ctx, "to"), Q(ctx, "type"), since: false)));
        app.MapGet(A + "/transactions/sinceid", ctx => HandleAsync(ctx, _ => Account.TransactionRange(Q(ctx, "id"), null, Q(ctx, "type"), since: true)));
        app.MapGet(A + "/transactions/stream", ctx => StreamAsync(ctx, stopping));
        app.MapGet(A + "/transactions/{id}", ctx => HandleAsync(ctx, _ => Account.GetTransaction(R(ctx, "id"))));
        app.MapGet("/v3/accounts", ctx => HandleAsync(ctx, _ => new OandaResult(200, AlpacaWire.Write(w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("accounts");
            w.WriteStartObject();
            w.WriteString("id", _options.OandaAccount);
            w.WriteStartArray("tags");
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        })), checkAccount: false));

        app.MapPost("/_sandbox/oanda/prices", PricesAsync);
        app.MapPost("/_sandbox/oanda/close", CloseByHandAsync);
        app.MapPost("/_sandbox/oanda/reset", async ctx =>
        {
            SandboxLog.FaultsChanged(_log, "oanda account reset");
            Account.Reset();
            await WriteAsync(ctx, new OandaResult(200, Json("lastTransactionID", OandaOrder.Text(Account.LastTransactionId)))).ConfigureAwait(false);
        });
        app.MapGet("/_sandbox/oanda/faults", ctx => WriteAsync(ctx, new OandaResult(200, FaultState())));
        app.MapPost("/_sandbox/oanda/faults", FaultsAsync);
    }

    private static string? Q(HttpContext ctx, string name) => ctx.Request.Query.TryGetValue(name, out var v) ? v.ToString() : null;

    private static string R(HttpContext ctx, string name) => (string?)ctx.Request.RouteValues[name] ?? "";

    private static string? Field(JsonElement body, string name) =>
        body.ValueKind == JsonValueKind.Object && body.TryGetProperty(name, out var v) ? (v.ValueKind == JsonValueKind.String ? v.GetString() : v.GetRawText()) : null;

    private async Task HandleAsync(HttpContext ctx, Func<JsonElement, OandaResult> operation, bool order = false, bool checkAccount = true)
    {
        try
        {
            if (await AdmitAsync(ctx, checkAccount).ConfigureAwait(false) is { } refused)
            {
                await WriteAsync(ctx, refused).ConfigureAwait(false);
                return;
            }

            if (order && string.Equals(ctx.Request.Method, "POST", StringComparison.Ordinal) && Faults.TakeOrderError())
            {
                await WriteAsync(ctx, new OandaResult(503, Json("errorMessage", "Service Unavailable: the sandbox was told to fail this order request"))).ConfigureAwait(false);
                return;
            }

            JsonElement body = default;
            JsonDocument? document = null;
            if (ctx.Request.Method is "POST" or "PUT")
            {
                using var buffer = new MemoryStream();
                await ctx.Request.Body.CopyToAsync(buffer, ctx.RequestAborted).ConfigureAwait(false);
                if (buffer.Length > 0)
                {
                    try
                    {
                        document = JsonDocument.Parse(buffer.ToArray());
                        body = document.RootElement;
                    }
                    catch (JsonException ex)
                    {
                        await WriteAsync(ctx, new OandaResult(400, Json("errorMessage", $"Invalid JSON in the request body: {ex.Message}"))).ConfigureAwait(false);
                        return;
                    }
                }
            }

            OandaResult result;
            using (document)
            {
                result = operation(body);
            }

            if (order && string.Equals(ctx.Request.Method, "POST", StringComparison.Ordinal) && Faults.TakeLoseOrderResponse())
            {
                // The order took effect; the client never hears about it.
                ctx.Abort();
                return;
            }

            if (Faults.TakeSlow())
            {
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(Faults.SlowMilliseconds), _time, ctx.RequestAborted).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }

            await WriteAsync(ctx, result).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException && !ctx.Response.HasStarted)
        {
            await WriteAsync(ctx, new OandaResult(500, Json("errorMessage", $"the sandbox failed to handle the request: {ex.Message}"))).ConfigureAwait(false);
        }
    }

    /// <summary>RequestID, 429 switches (the shared one and this venue's), the Bearer token and the account id; null when admitted.</summary>
    private async Task<OandaResult?> AdmitAsync(HttpContext ctx, bool checkAccount)
    {
        await Task.CompletedTask.ConfigureAwait(false);
        ctx.Response.Headers["RequestID"] = Interlocked.Increment(ref _requestId).ToString(CultureInfo.InvariantCulture);
        if (Faults.TakeRateLimit() || _sharedFaults.TryTakeRateLimit())
        {
            ctx.Response.Headers.RetryAfter = Faults.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            return new OandaResult(429, Json("errorMessage", "Requests per second exceeded"));
        }

        var authorization = ctx.Request.Headers.Authorization.ToString();
        bool tokenOk = authorization.StartsWith("Bearer ", StringComparison.Ordinal)
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(authorization["Bearer ".Length..].Trim()), Encoding.UTF8.GetBytes(_options.OandaToken));
        if (_sharedFaults.RejectAuth || !tokenOk)
        {
            return new OandaResult(401, Json("errorMessage", Unauthorized));
        }

        if (checkAccount)
        {
            var account = R(ctx, "accountId");
            if (!string.Equals(account, _options.OandaAccount, StringComparison.Ordinal))
            {
                bool wellFormed = account.Split('-') is { Length: 4 } parts && parts.All(p => p.Length > 0 && p.All(char.IsAsciiDigit));
                return wellFormed
                    ? new OandaResult(403, Json("errorMessage", "The provided request was forbidden."))
                    : new OandaResult(400, Json("errorMessage", "Invalid value specified for 'accountID'"));
            }
        }

        return null;
    }

    private async Task StreamAsync(HttpContext ctx, CancellationToken stopping)
    {
        ctx.Response.Headers["RequestID"] = Interlocked.Increment(ref _requestId).ToString(CultureInfo.InvariantCulture);
        var authorization = ctx.Request.Headers.Authorization.ToString();
        bool tokenOk = authorization.StartsWith("Bearer ", StringComparison.Ordinal)
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(authorization["Bearer ".Length..].Trim()), Encoding.UTF8.GetBytes(_options.OandaToken));
        if (_sharedFaults.RejectAuth || !tokenOk)
        {
            await WriteAsync(ctx, new OandaResult(401, Json("errorMessage", Unauthorized))).ConfigureAwait(false);
            return;
        }

        if (!string.Equals(R(ctx, "accountId"), _options.OandaAccount, StringComparison.Ordinal))
        {
            await WriteAsync(ctx, new OandaResult(403, Json("errorMessage", "The provided request was forbidden."))).ConfigureAwait(false);
            return;
        }

        await Stream.RunAsync(ctx, stopping).ConfigureAwait(false);
    }

    /// <summary><c>POST /_sandbox/oanda/prices {"instrument":"EUR_USD","prices":["1.10000",…]}</c>: publishes each mid price as a tick, in order; the account matches on each.</summary>
    private async Task PricesAsync(HttpContext ctx)
    {
        using var document = await ParseAsync(ctx).ConfigureAwait(false);
        if (document is null)
        {
            return;
        }

        var root = document.RootElement;
        if (Field(root, "instrument") is not { } instrument || !_feed.Symbols.Contains(instrument)
            || !root.TryGetProperty("prices", out var prices) || prices.ValueKind != JsonValueKind.Array)
        {
            await WriteAsync(ctx, new OandaResult(400, Json("errorMessage", $"expected {{\"instrument\":<one of {string.Join(", ", _feed.Symbols.Order(StringComparer.Ordinal))}>,\"prices\":[\"1.10000\",…]}}"))).ConfigureAwait(false);
            return;
        }

        int decimals = _decimals(instrument);
        var raws = new List<long>();
        foreach (var p in prices.EnumerateArray())
        {
            string? text = p.ValueKind == JsonValueKind.String ? p.GetString() : p.ValueKind == JsonValueKind.Number ? p.GetRawText() : null;
            if (text is null || !FixedPoint.TryParse(text.AsSpan(), 9, out long raw) || raw <= 0 || raw % Pow10(9 - decimals) != 0)
            {
                await WriteAsync(ctx, new OandaResult(400, Json("errorMessage", $"price {p.GetRawText()} is not a positive price with at most {decimals} decimals"))).ConfigureAwait(false);
                return;
            }

            raws.Add(raw);
        }

        foreach (var raw in raws)
        {
            // Strictly increasing tick times, even for prices sent within one clock tick.
            long wall = Timestamp.FromDateTimeOffset(_time.GetUtcNow()).UnixNanos;
            long last, now;
            do
            {
                last = Interlocked.Read(ref _lastInjected);
                now = Math.Max(last + 1, wall);
            }
            while (Interlocked.CompareExchange(ref _lastInjected, now, last) != last);
            await _feed.InjectAsync(MarketEvent.FromTick(instrument, now, raw, Quantity.Scale, decimals), ctx.RequestAborted).ConfigureAwait(false);
        }

        await WriteAsync(ctx, new OandaResult(200, Json("lastTransactionID", OandaOrder.Text(Account.LastTransactionId)))).ConfigureAwait(false);
    }

    /// <summary><c>POST /_sandbox/oanda/close {"tradeID":"6"}</c> or <c>{"instrument":"EUR_USD"}</c>: a close as the user would make it in OANDA's own app.</summary>
    private async Task CloseByHandAsync(HttpContext ctx)
    {
        using var document = await ParseAsync(ctx).ConfigureAwait(false);
        if (document is null)
        {
            return;
        }

        var root = document.RootElement;
        OandaResult result;
        if (Field(root, "tradeID") is { } trade)
        {
            result = Account.CloseTrade(trade, Field(root, "units"));
        }
        else if (Field(root, "instrument") is { } instrument)
        {
            result = Account.ClosePosition(instrument, null, null);
        }
        else
        {
            result = new OandaResult(400, Json("errorMessage", "expected {\"tradeID\":\"…\"} (optionally with \"units\") or {\"instrument\":\"…\"}"));
        }

        SandboxLog.FaultsChanged(_log, "oanda close by hand: " + root.GetRawText());
        await WriteAsync(ctx, result).ConfigureAwait(false);
    }

    /// <summary>
    /// <c>POST /_sandbox/oanda/faults</c> with any of reset, rate_limit_next, retry_after_s, order_error_next,
    /// slow_next, slow_ms, lose_order_response_next, stream_duplicate_next, stream_out_of_order_next,
    /// stream_silence ("off", "heartbeats", "nothing"), drop_streams.
    /// </summary>
    private async Task FaultsAsync(HttpContext ctx)
    {
        using var document = await ParseAsync(ctx).ConfigureAwait(false);
        if (document is null)
        {
            return;
        }

        var root = document.RootElement;
        foreach (var p in root.EnumerateObject())
        {
            bool ok = p.Name switch
            {
                "reset" or "drop_streams" => p.Value.ValueKind is JsonValueKind.True or JsonValueKind.False,
                "stream_silence" => p.Value.GetString() is "off" or "heartbeats" or "nothing",
                "rate_limit_next" or "retry_after_s" or "order_error_next" or "slow_next" or "slow_ms" or "lose_order_response_next"
                    or "stream_duplicate_next" or "stream_out_of_order_next" => p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetInt32(out int n) && n >= 0,
                _ => false,
            };
            if (!ok)
            {
                await WriteAsync(ctx, new OandaResult(400, Json("errorMessage",
                    $"'{p.Name}' was {p.Value.GetRawText()}; expected reset, drop_streams (true/false), stream_silence (\"off\", \"heartbeats\", \"nothing\") or a count ≥ 0 for rate_limit_next, retry_after_s, order_error_next, slow_next, slow_ms, lose_order_response_next, stream_duplicate_next, stream_out_of_order_next"))).ConfigureAwait(false);
                return;
            }
        }

        SandboxLog.FaultsChanged(_log, "oanda " + root.GetRawText());
        if (root.TryGetProperty("reset", out var reset) && reset.GetBoolean())
        {
            Faults.Reset();
        }

        foreach (var p in root.EnumerateObject())
        {
            switch (p.Name)
            {
                case "rate_limit_next":
                    Faults.RateLimitNext = p.Value.GetInt32();
                    break;
                case "retry_after_s":
                    Faults.RetryAfterSeconds = p.Value.GetInt32();
                    break;
                case "order_error_next":
                    Faults.OrderErrorNext = p.Value.GetInt32();
                    break;
                case "slow_next":
                    Faults.SlowNext = p.Value.GetInt32();
                    break;
                case "slow_ms":
                    Faults.SlowMilliseconds = p.Value.GetInt32();
                    break;
                case "lose_order_response_next":
                    Faults.LoseOrderResponseNext = p.Value.GetInt32();
                    break;
                case "stream_duplicate_next":
                    Faults.DuplicateNext = p.Value.GetInt32();
                    break;
                case "stream_out_of_order_next":
                    Faults.OutOfOrderNext = p.Value.GetInt32();
                    break;
                case "stream_silence":
                    Faults.Silence = p.Value.GetString() switch { "heartbeats" => OandaStreamSilence.Heartbeats, "nothing" => OandaStreamSilence.Nothing, _ => OandaStreamSilence.Off };
                    break;
                case "drop_streams" when p.Value.GetBoolean():
                    Stream.Drop();
                    break;
            }
        }

        await WriteAsync(ctx, new OandaResult(200, FaultState())).ConfigureAwait(false);
    }

    private byte[] FaultState() => AlpacaWire.Write(w =>
    {
        w.WriteStartObject();
        w.WriteNumber("rate_limit_next", Faults.RateLimitNext);
        w.WriteNumber("retry_after_s", Faults.RetryAfterSeconds);
        w.WriteNumber("order_error_next", Faults.OrderErrorNext);
        w.WriteNumber("slow_next", Faults.SlowNext);
        w.WriteNumber("slow_ms", Faults.SlowMilliseconds);
        w.WriteNumber("lose_order_response_next", Faults.LoseOrderResponseNext);
        w.WriteNumber("stream_duplicate_next", Faults.DuplicateNext);
        w.WriteNumber("stream_out_of_order_next", Faults.OutOfOrderNext);
        w.WriteString("stream_silence", Faults.Silence.ToString().ToLowerInvariant());
        w.WriteNumber("stream_clients", Stream.Clients);
        w.WriteEndObject();
    });

    private static async Task<JsonDocument?> ParseAsync(HttpContext ctx)
    {
        try
        {
            var document = await JsonDocument.ParseAsync(ctx.Request.Body, default, ctx.RequestAborted).ConfigureAwait(false);
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                return document;
            }

            document.Dispose();
            await WriteAsync(ctx, new OandaResult(400, Json("errorMessage", "the body must be a JSON object"))).ConfigureAwait(false);
        }
        catch (JsonException ex)
        {
            await WriteAsync(ctx, new OandaResult(400, Json("errorMessage", $"the body is not JSON: {ex.Message}"))).ConfigureAwait(false);
        }

        return null;
    }

    private static Task WriteAsync(HttpContext ctx, OandaResult result) => AlpacaRest.JsonAsync(ctx, result.Status, result.Body);

    private static byte[] Json(string name, string value) => AlpacaWire.Write(w =>
    {
        w.WriteStartObject();
        w.WriteString(name, value);
        w.WriteEndObject();
    });

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
