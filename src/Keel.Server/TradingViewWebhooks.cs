using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Keel.Domain;
using Keel.Domain.Orders;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace Keel.Server;

/// <summary>
/// <c>POST /webhooks/tradingview/{name}</c>: TradingView alerts become orders of a run, through its risk gate and journal.
/// </summary>
/// <remarks>
/// TradingView posts the alert message as the body (JSON when it is valid JSON, else text/plain) and can send no header,
/// so the shared secret is in the body and compared in constant time. An optional allow-list holds its source addresses.
/// The alert's <c>time</c> (<c>{{timenow}}</c>) must be within the hook's window of the server's clock. Each alert has a
/// key derived from what it says (hook, ticker, action, contracts, order id, interval, bar time, time); the order carries
/// it as its tag (<c>tv:KEY</c>), so the same alert twice places one order, in this process (a set of the keys seen) and
/// across a restart (the run's own orders, restored from its snapshot and journal, are checked for the tag). A valid
/// alert is queued and answered at once (202); the order is placed behind the answer.
/// </remarks>
internal sealed class TradingViewWebhooks : IAsyncDisposable
{
    public const int MaxBody = 16 * 1024;
    private const string TagPrefix = "tv:";
    private readonly Dictionary<string, Hook> _hooks;
    private readonly ServerRuns _runs;
    private readonly ServerStats _stats;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _closing = new();

    public TradingViewWebhooks(IReadOnlyList<TradingViewHook> hooks, ServerRuns runs, ServerStats stats, TimeProvider time, ILogger log)
    {
        _runs = runs;
        _stats = stats;
        _time = time;
        _log = log;
        _hooks = hooks.ToDictionary(h => h.Name, h => new Hook(h), StringComparer.Ordinal);
        foreach (var hook in _hooks.Values)
        {
            hook.Worker = Task.Run(() => WorkAsync(hook, _closing.Token));
        }
    }

    /// <summary>Orders placed from alerts so far, by hook (for tests and metrics).</summary>
    public long Placed(string hook) => _hooks.TryGetValue(hook, out var h) ? Interlocked.Read(ref h.Placed) : 0;

    public void Map(IEndpointRouteBuilder app) =>
        app.MapPost("/webhooks/tradingview/{name}", (string name, HttpContext context) => ReceiveAsync(context, name))
            .WithName("TradingViewWebhook")
            .WithSummary("A TradingView alert (JSON or text): secret, action (buy/sell), ticker, contracts, time ({{timenow}}); optional type, price, id, interval, bartime. 202 queued, 200 duplicate.")
            .Produces<WebhookAnswer>(StatusCodes.Status202Accepted).Produces<WebhookAnswer>().ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status422UnprocessableEntity);

    private async Task<IResult> ReceiveAsync(HttpContext context, string name)
    {
        long received = Stopwatch.GetTimestamp();
        var remote = KeelServer.Remote(context);
        var shownRemote = remote?.ToString() ?? "unknown";
        if (!_hooks.TryGetValue(name, out var hook))
        {
            return Problems.NotFound($"no TradingView webhook '{name}' is configured (server.webhooks.{name})");
        }

        IResult Refuse(int status, string title, string reason)
        {
            _stats.AlertRefused();
            ServerLog.WebhookRefused(_log, name, shownRemote, reason);
            return Problems.Of(status, title, reason);
        }

        if (hook.Allowed.Count > 0 && (remote is null || !hook.Allowed.Contains(remote)))
        {
            return Refuse(StatusCodes.Status403Forbidden, "Forbidden", $"alerts for '{name}' are taken only from its allowed addresses; {shownRemote} is not one");
        }

        if (context.Request.ContentLength > MaxBody)
        {
            return Refuse(StatusCodes.Status413PayloadTooLarge, "Payload too large", $"an alert has at most {MaxBody} bytes");
        }

        string text;
        using (var reader = new StreamReader(context.Request.Body, Encoding.UTF8))
        {
            var buffer = new char[MaxBody + 1];
            int total = 0, n;
            while (total <= MaxBody && (n = await reader.ReadAsync(buffer.AsMemory(total, buffer.Length - total), context.RequestAborted).ConfigureAwait(false)) > 0)
            {
                total += n;
            }

            if (total > MaxBody)
            {
                return Refuse(StatusCodes.Status413PayloadTooLarge, "Payload too large", $"an alert has at most {MaxBody} bytes");
            }

            text = new string(buffer, 0, total);
        }

        var fields = Alert.Fields(text);
        var secret = fields.GetValueOrDefault("secret") ?? fields.GetValueOrDefault("passphrase");
        if (secret is null || !hook.SecretMatches(secret))
        {
            return Refuse(StatusCodes.Status401Unauthorized, "Unauthorized", secret is null ? "the alert has no secret: put \"secret\": \"…\" in the alert message" : "the alert's secret is not this webhook's");
        }

        var (alert, problem) = Alert.Parse(fields);
        if (problem is not null)
        {
            return Refuse(StatusCodes.Status400BadRequest, "Bad request", problem);
        }

        var now = Timestamp.FromDateTimeOffset(_time.GetUtcNow());
        var age = TimeSpan.FromTicks((now.UnixNanos - alert!.Time.UnixNanos) / 100);
        if (age.Duration() > hook.Options.Window)
        {
            return Refuse(StatusCodes.Status422UnprocessableEntity, "Stale alert", $"the alert's time {alert.Time} is {Math.Abs(age.TotalSeconds):F0} s from the server's clock; alerts are taken within {hook.Options.Window.TotalSeconds:F0} s (a replay, or a clock that is off)");
        }

        if (Target(hook) is not { } target)
        {
            return Refuse(StatusCodes.Status409Conflict, "Conflict", hook.Options.Run == OnlyRun
                ? "the webhook trades in the one run this server is running, and it is running none or several"
                : $"run {hook.Options.Run} of webhook '{name}' is not running in this server");
        }

        var key = alert.Key(name);
        hook.Prune(now, hook.Options.Window);
        if (!hook.Seen.TryAdd(key, now))
        {
            _stats.AlertDuplicate();
            return TypedResults.Json(new WebhookAnswer("duplicate", key), ServerJson.Default.WebhookAnswer, statusCode: StatusCodes.Status200OK);
        }

        Interlocked.Increment(ref hook.Queued);
        if (!hook.Queue.Writer.TryWrite((alert, key, target)))
        {
            Interlocked.Decrement(ref hook.Queued);
            hook.Seen.TryRemove(key, out _);
            return Refuse(StatusCodes.Status503ServiceUnavailable, "Busy", "too many alerts are waiting; try again");
        }

        _stats.AlertAccepted();
        _stats.WebhookAccept.ObserveSince(received);
        return TypedResults.Json(new WebhookAnswer("accepted", key), ServerJson.Default.WebhookAnswer, statusCode: StatusCodes.Status202Accepted);
    }

    /// <summary>Places the hook's alerts as orders, one after another, behind the answers.</summary>
    private async Task WorkAsync(Hook hook, CancellationToken ct)
    {
        try
        {
            await foreach (var (alert, key, target) in hook.Queue.Reader.ReadAllAsync(ct).ConfigureAwait(false))
            {
                await PlaceAsync(hook, alert, key, target, ct).ConfigureAwait(false);
                hook.Processed();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>The run the hook trades in, if this server is running it: its configured id (or prefix), or "active" for the only run going.</summary>
    private ActiveRun? Target(Hook hook)
    {
        if (hook.Options.Run == OnlyRun)
        {
            var active = _runs.Active.Take(2).ToList();
            return active.Count == 1 ? active[0] : null;
        }

        var record = _runs.FindRecord(hook.Options.Run);
        return record is not null && _runs.Find(record.Id) is { } run && !run.Handle.Completion.IsCompleted ? run : null;
    }

    /// <summary>A hook's run "active": the one run the server is running, whichever it is.</summary>
    public const string OnlyRun = "active";

    private async Task PlaceAsync(Hook hook, Alert alert, string key, ActiveRun run, CancellationToken ct)
    {
        var name = hook.Options.Name;

        var tag = TagPrefix + key;
        try
        {
            // The journal's memory of the alert: an order with its tag survives a restart in the run's snapshot and journal.
            bool placed = await run.Handle.QueryAsync(k => k.Orders.Open.Any(o => o.Tag == tag) || k.Orders.Recent.Any(o => o.Tag == tag), ct).ConfigureAwait(false);
            if (placed)
            {
                _stats.AlertDuplicate();
                ServerLog.WebhookOrder(_log, name, key, "-", "duplicate", "an order for this alert is already in the run");
                return;
            }

            var request = new OrderRequest(new InstrumentId(alert.Ticker), alert.Side, alert.Price is null ? OrderType.Market : OrderType.Limit, alert.Quantity, alert.Price, null, TimeInForce.Gtc, tag);
            var result = await run.Handle.SubmitOrderAsync(request, ct).ConfigureAwait(false);
            Interlocked.Increment(ref hook.Placed);
            ServerLog.WebhookOrder(_log, name, key, result.Id == default ? "-" : result.Id.ToString(), result.Status.ToText(), result.Reason);
        }
        catch (InvalidOperationException ex)
        {
            ServerLog.WebhookOrder(_log, name, key, "-", "dropped", ex.Message);
        }
    }

    /// <summary>Waits until every alert queued so far has been placed (tests).</summary>
    public async Task DrainedAsync(string name, CancellationToken ct)
    {
        var hook = _hooks[name];
        while (Interlocked.Read(ref hook.Queued) != Interlocked.Read(ref hook.Done))
        {
            await Task.Delay(10, ct).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _closing.CancelAsync().ConfigureAwait(false);
        foreach (var hook in _hooks.Values)
        {
            hook.Queue.Writer.TryComplete();
            if (hook.Worker is { } worker)
            {
                await worker.ConfigureAwait(false);
            }
        }

        _closing.Dispose();
    }

    private sealed class Hook
    {
        private readonly byte[] _secretHash;

        public Hook(TradingViewHook options)
        {
            Options = options;
            _secretHash = SHA256.HashData(Encoding.UTF8.GetBytes(options.Secret));
            Allowed = [.. options.AllowFrom.Select(IPAddress.Parse)];
        }

        public TradingViewHook Options { get; }

        public HashSet<IPAddress> Allowed { get; }

        public ConcurrentDictionary<string, Timestamp> Seen { get; } = new(StringComparer.Ordinal);

        public Channel<(Alert, string, ActiveRun)> Queue { get; } = Channel.CreateBounded<(Alert, string, ActiveRun)>(new BoundedChannelOptions(10_000) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

        public Task? Worker { get; set; }

#pragma warning disable SA1401, CA1051 // counters updated with Interlocked
        public long Placed;
        public long Queued;
        public long Done;
#pragma warning restore SA1401, CA1051

        private long _lastPrune;

        /// <summary>Constant time in the secret's content and length: both sides are hashed first.</summary>
        public bool SecretMatches(string presented)
        {
            Span<byte> hash = stackalloc byte[32];
            SHA256.HashData(Encoding.UTF8.GetBytes(presented), hash);
            return CryptographicOperations.FixedTimeEquals(hash, _secretHash);
        }

        public void Processed() => Interlocked.Increment(ref Done);

        /// <summary>Keys older than twice the window can go: an alert that old is refused as stale before its key is looked at.</summary>
        public void Prune(Timestamp now, TimeSpan window)
        {
            long last = Interlocked.Read(ref _lastPrune);
            if (now.UnixNanos - last < window.Ticks * 100 || Interlocked.CompareExchange(ref _lastPrune, now.UnixNanos, last) != last)
            {
                return;
            }

            long cutoff = now.UnixNanos - (2 * window.Ticks * 100);
            foreach (var (key, seen) in Seen)
            {
                if (seen.UnixNanos < cutoff)
                {
                    Seen.TryRemove(key, out _);
                }
            }
        }
    }
}

/// <summary>A TradingView alert, read from a JSON message or from <c>key=value</c> text.</summary>
internal sealed partial record Alert(string Ticker, OrderSide Side, Quantity Quantity, Price? Price, Timestamp Time, string? OrderId, string? Interval, string? BarTime)
{
    /// <summary>The alert's fields by lower-case name: a JSON object's properties, else <c>key=value</c> (or <c>key: value</c>) pairs.</summary>
    public static Dictionary<string, string> Fields(string text)
    {
        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var trimmed = text.Trim();
        if (trimmed.StartsWith('{'))
        {
            // TradingView renders an empty placeholder as nothing: "contracts": , — read it as null.
            var repaired = EmptyValue().Replace(trimmed, ":null$1");
            try
            {
                using var doc = JsonDocument.Parse(repaired);
                if (doc.RootElement.ValueKind == JsonValueKind.Object && Body.IsValidText(doc.RootElement, 0))
                {
                    foreach (var p in doc.RootElement.EnumerateObject())
                    {
                        var v = p.Value.ValueKind switch
                        {
                            JsonValueKind.String => p.Value.GetString(),
                            JsonValueKind.Number => p.Value.GetRawText(),
                            JsonValueKind.True => "true",
                            JsonValueKind.False => "false",
                            _ => null,
                        };
                        if (v is not null)
                        {
                            fields[p.Name.Trim()] = v.Trim();
                        }
                    }

                    return fields;
                }
            }
            catch (JsonException)
            {
                // Not JSON after all: read it as text.
            }
        }

        foreach (var part in trimmed.Split(['\n', '\r', ',', ';', ' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
        {
            int at = part.IndexOfAny(['=', ':']);
            if (at > 0 && at < part.Length - 1)
            {
                fields[part[..at].Trim().Trim('"')] = part[(at + 1)..].Trim().Trim('"');
            }
        }

        return fields;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@":\s*([,}])")]
    private static partial System.Text.RegularExpressions.Regex EmptyValue();

    /// <summary>The alert the fields describe, or a sentence naming the field that is wrong (secrets are never echoed).</summary>
    public static (Alert? Alert, string? Problem) Parse(Dictionary<string, string> f)
    {
        var ticker = f.GetValueOrDefault("ticker") ?? f.GetValueOrDefault("symbol");
        if (string.IsNullOrWhiteSpace(ticker) || ticker.Length > 32)
        {
            return (null, "ticker is missing: add \"ticker\": \"{{ticker}}\"");
        }

        // {{strategy.order.action}} renders buy or sell; {{strategy.market_position}} long, short or flat.
        OrderSide? side = (f.GetValueOrDefault("action") ?? f.GetValueOrDefault("side"))?.ToLowerInvariant() switch
        {
            "buy" or "long" => OrderSide.Buy,
            "sell" or "short" => OrderSide.Sell,
            _ => null,
        };
        if (side is null)
        {
            return (null, $"action was {Shown(f.GetValueOrDefault("action") ?? f.GetValueOrDefault("side"))}; it must be buy or sell (\"action\": \"{{{{strategy.order.action}}}}\")");
        }

        var qtyText = f.GetValueOrDefault("contracts") ?? f.GetValueOrDefault("quantity") ?? f.GetValueOrDefault("qty");
        if (qtyText is null || !Quantity.TryParse(qtyText, out var quantity) || quantity.Raw <= 0)
        {
            return (null, $"contracts was {Shown(qtyText)}; it must be a positive number (\"contracts\": \"{{{{strategy.order.contracts}}}}\")");
        }

        Price? price = null;
        if ((f.GetValueOrDefault("type") ?? "market").Equals("limit", StringComparison.OrdinalIgnoreCase))
        {
            var priceText = f.GetValueOrDefault("price") ?? f.GetValueOrDefault("limit");
            if (priceText is null || !Keel.Domain.Price.TryParse(priceText, out var p) || p.Raw <= 0)
            {
                return (null, $"price was {Shown(priceText)}; a limit alert needs a positive price (\"price\": \"{{{{strategy.order.price}}}}\")");
            }

            price = p;
        }

        var timeText = f.GetValueOrDefault("time") ?? f.GetValueOrDefault("timenow");
        if (timeText is null || !TryTime(timeText, out var time))
        {
            return (null, $"time was {Shown(timeText)}; it must be the alert's time, e.g. \"time\": \"{{{{timenow}}}}\" (2026-12-07T09:56:00Z or Unix seconds)");
        }

        return (new Alert(ticker.Trim(), side.Value, quantity, price, time, f.GetValueOrDefault("id"), f.GetValueOrDefault("interval"), f.GetValueOrDefault("bartime")), null);
    }

    private static bool TryTime(string text, out Timestamp time)
    {
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long n))
        {
            // Unix seconds, or milliseconds ({{time}} is in milliseconds in some templates).
            time = n > 100_000_000_000 ? Timestamp.FromUnixNanos(n * 1_000_000) : Timestamp.FromUnixSeconds(n);
            return n > 0 && n < 100_000_000_000_000;
        }

        return Timestamp.TryParse(text, out time);
    }

    /// <summary>The same alert gives the same key; any field that differs (a new {{timenow}}, another order id) gives another.</summary>
    public string Key(string hook)
    {
        var canonical = string.Join('\n', hook, Ticker, Side.ToText(), Quantity.ToString(), Price?.ToString() ?? string.Empty, Time.UnixNanos.ToString(CultureInfo.InvariantCulture), OrderId ?? string.Empty, Interval ?? string.Empty, BarTime ?? string.Empty);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))[..24];
    }

    private static string Shown(string? value) => value is null ? "missing" : $"'{(value.Length > 40 ? value[..40] + "…" : value)}'";
}
