using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Keel.Domain;
using Keel.Domain.Orders;
using Keel.Engine.Data;
using Keel.Engine.Kernel;
using Keel.Engine.Persistence;
using Keel.Runtime;
using Keel.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace Keel.Server;

/// <summary>
/// <c>/api/runs</c>: create (backtest, paper, live), list, status and progress, pause / resume / stop, events since a
/// sequence (paged), equity (downsampled), metrics checkpoints, orders (list, submit, cancel), fills, trades, positions.
/// </summary>
internal static class RunsApi
{
    public const int MaxPage = 5000;
    private static readonly string[] Modes = ["backtest", "paper", "live"];

    /// <summary>Options a request may not set: the server's own store and configuration, and writing files on the server.</summary>
    private static readonly string[] Refused = ["db", "config", "out", "quiet"];

    public static void Map(RouteGroupBuilder read, RouteGroupBuilder trade, ServerRuns runs, ILogger log)
    {
        read.MapGet("/runs", (string? status, string? strategy, string? limit) => List(runs, status, strategy, limit))
            .WithName("ListRuns").WithSummary("Recorded runs, newest first (filter by status and strategy; limit 1–1000, default 100).")
            .Produces<RunList>();
        trade.MapPost("/runs", (HttpContext context, CancellationToken _) => CreateAsync(context, runs, log))
            .WithName("CreateRun").WithSummary("Starts a run: {\"mode\": \"backtest|paper|live\", \"options\": {…}} with the options of 'keel backtest|paper|live' named without dashes (data, strategy, param, cash, …).")
            .Accepts<CreateRunBody>("application/json").Produces<RunView>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status400BadRequest);
        read.MapGet("/runs/{id}", (string id) => Get(runs, id))
            .WithName("GetRun").WithSummary("A run's status and progress.").Produces<RunView>().ProducesProblem(StatusCodes.Status404NotFound);
        trade.MapPost("/runs/{id}/pause", (string id, HttpContext context) => CommandAsync(context, runs, id, "pause", log))
            .WithName("PauseRun").WithSummary("Pauses a running run: the strategy takes no more data until resumed.").Produces<RunView>(StatusCodes.Status202Accepted).ProducesProblem(StatusCodes.Status409Conflict);
        trade.MapPost("/runs/{id}/resume", (string id, HttpContext context) => CommandAsync(context, runs, id, "resume", log))
            .WithName("ResumeRun").WithSummary("Resumes a paused run.").Produces<RunView>(StatusCodes.Status202Accepted).ProducesProblem(StatusCodes.Status409Conflict);
        trade.MapPost("/runs/{id}/stop", (string id, HttpContext context) => CommandAsync(context, runs, id, "stop", log))
            .WithName("StopRun").WithSummary("Stops a run: it snapshots and can be resumed later ('keel resume').").Produces<RunView>(StatusCodes.Status202Accepted).ProducesProblem(StatusCodes.Status409Conflict);
        trade.MapPost("/runs/{id}/continue", (string id, HttpContext context) => ContinueAsync(context, runs, id, log))
            .WithName("ContinueRun").WithSummary("Continues a recorded run that stopped, crashed or failed, from its newest intact snapshot (as 'keel resume').").Produces<RunView>(StatusCodes.Status202Accepted).ProducesProblem(StatusCodes.Status409Conflict);
        read.MapGet("/runs/{id}/events", (string id, string? after, string? limit) => Events(runs, id, after, limit))
            .WithName("RunEvents").WithSummary("Journaled events after a sequence, oldest first, a page at a time (limit 1–5000, default 500).").Produces<EventPage>();
        read.MapGet("/runs/{id}/equity", (string id, string? points) => Equity(runs, id, points))
            .WithName("RunEquity").WithSummary("The equity curve, downsampled to at most 'points' points (2–10000, default 500).").Produces<IReadOnlyList<EquityPoint>>();
        read.MapGet("/runs/{id}/candles", (string id) => runs.FindRecord(id) is not { } record ? NoRun(id)
                : TypedResults.Json((IReadOnlyList<CandleView>)[.. (runs.Find(record.Id)?.Candles() ?? []).Select(b => new CandleView(b.Time.UnixNanos / 1_000_000_000, (double)b.Open.ToDecimal(), (double)b.High.ToDecimal(), (double)b.Low.ToDecimal(), (double)b.Close.ToDecimal()))], ServerJson.Default.IReadOnlyListCandleView))
            .WithName("RunCandles").WithSummary("Candles of the run's first instrument as this server saw them go by (sampled ten times a second; empty for a run it did not run).").Produces<IReadOnlyList<CandleView>>();
        read.MapGet("/runs/{id}/checkpoints", (string id) => Read(runs, id, (store, run) => TypedResults.Json(
                (IReadOnlyList<CheckpointView>)[.. store.ReadCheckpoints(run.Id).Select(c => new CheckpointView(c.Sequence, c.Processed, c.TotalReturn, c.Pnl.ToString(), c.WinRate, c.MaxDrawdown, c.Sharpe, c.ProfitFactor, c.CreatedAt.ToString()))],
                ServerJson.Default.IReadOnlyListCheckpointView)))
            .WithName("RunCheckpoints").WithSummary("Metrics checkpoints (return, P&L, win rate, drawdown, Sharpe, profit factor) taken with each snapshot.").Produces<IReadOnlyList<CheckpointView>>();
        read.MapGet("/runs/{id}/orders", (string id, CancellationToken ct) => OrdersAsync(runs, id, ct))
            .WithName("RunOrders").WithSummary("The run's orders with their latest status, as journaled.").Produces<IReadOnlyList<OrderView>>();
        trade.MapPost("/runs/{id}/orders", (string id, HttpContext context) => SubmitAsync(context, runs, id, log))
            .WithName("SubmitOrder").WithSummary("An order from outside the strategy, through the run's risk gate and journal.")
            .Accepts<OrderRequestBody>("application/json").Produces<OrderResultView>().ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status409Conflict);
        trade.MapDelete("/runs/{id}/orders/{orderId}", (string id, string orderId, HttpContext context) => CancelAsync(context, runs, id, orderId, log))
            .WithName("CancelOrder").WithSummary("Cancels a working order of the run.").Produces<OrderResultView>().ProducesProblem(StatusCodes.Status409Conflict);
        read.MapGet("/runs/{id}/fills", (string id, string? after, string? limit) => Paged(runs, id, after, limit, (store, run, a, l) => TypedResults.Json(
                (IReadOnlyList<FillView>)[.. store.ReadFills(run.Id, a, l).Select(f => new FillView(f.TradeId, f.Sequence, f.ClientOrderId, f.Instrument, f.Side, f.Quantity, f.Price, f.Commission, f.RealizedPnl, f.PositionAfter, f.Time.ToString()))],
                ServerJson.Default.IReadOnlyListFillView)))
            .WithName("RunFills").WithSummary("Fills after a journal sequence, oldest first (limit 1–5000, default 500).").Produces<IReadOnlyList<FillView>>();
        read.MapGet("/runs/{id}/trades", (string id, string? after, string? limit) => Paged(runs, id, after, limit, (store, run, a, l) => TypedResults.Json(
                (IReadOnlyList<TradeView>)[.. store.ReadTrades(run.Id, a, l).Select(t => new TradeView(t.TradeId, t.Instrument, t.Direction, t.EntryTime.ToString(), t.EntryPrice, t.ExitTime?.ToString(), t.ExitPrice, t.Quantity, t.GrossPnl, t.Commission, t.NetPnl, t.Return, t.BarsHeld))],
                ServerJson.Default.IReadOnlyListTradeView)))
            .WithName("RunTrades").WithSummary("Round trips after a trade id, oldest first (limit 1–5000, default 500).").Produces<IReadOnlyList<TradeView>>();
        read.MapGet("/runs/{id}/positions", (string id) => Read(runs, id, (store, run) => TypedResults.Json(
                (IReadOnlyList<PositionView>)[.. store.ReadPositions(run.Id).Select(p => new PositionView(p.Instrument, p.Quantity, p.CostBasis, p.RealizedPnl, p.Commissions, p.LastPrice, p.UpdatedAt.ToString()))],
                ServerJson.Default.IReadOnlyListPositionView)))
            .WithName("RunPositions").WithSummary("The run's positions, one per instrument it traded.").Produces<IReadOnlyList<PositionView>>();
    }

    public static RunView View(RunRecord r, ActiveRun? active)
    {
        JsonElement? metrics = null;
        if (r.Metrics is { Length: > 0 } m)
        {
            try
            {
                using var doc = JsonDocument.Parse(m);
                metrics = doc.RootElement.Clone();
            }
            catch (JsonException)
            {
                // A damaged metrics column is left out rather than failing the listing.
            }
        }

        bool live = active is not null && !active.Handle.Completion.IsCompleted;
        var status = live ? active!.Handle.Status : r.Status;
        return new RunView(r.Id, r.Kind, StatusName(status), r.Strategy, r.Parameters, r.Data, live ? active!.Handle.Progress : r.Progress,
            r.CreatedAt.ToString(), r.UpdatedAt.ToString(), r.StartedAt?.ToString(), r.FinishedAt?.ToString(), r.Error,
            live ? Math.Max(r.LastSequence, active!.Handle.LastSequence) : r.LastSequence, live, metrics);
    }

    public static string StatusName(RunStatus status) => status.ToString().ToLowerInvariant();

    private static IResult List(ServerRuns runs, string? status, string? strategy, string? limitText)
    {
        RunStatus? filter = null;
        if (status is not null)
        {
            if (!Enum.TryParse<RunStatus>(status, ignoreCase: true, out var s) || !Enum.IsDefined(s) || int.TryParse(status, CultureInfo.InvariantCulture, out _))
            {
                return Problems.BadRequest($"status was '{status}'; it must be one of {string.Join(", ", Enum.GetValues<RunStatus>().Select(StatusName))}");
            }

            filter = s;
        }

        if (ParseLimit(limitText, "limit", 100, 1000) is not (int limit, null) || limit == 0)
        {
            return Problems.BadRequest(ParseLimit(limitText, "limit", 100, 1000).Error!);
        }

        using var store = runs.OpenStore();
        var f = new RunFilter(filter, strategy);
        var list = store.ListRuns(limit, f).Select(r => View(r, runs.Find(r.Id))).ToList();
        return TypedResults.Json(new RunList(list, store.CountRuns(f)), ServerJson.Default.RunList);
    }

    private static IResult Get(ServerRuns runs, string id) =>
        runs.FindRecord(id) is { } record ? TypedResults.Json(View(record, runs.Find(record.Id)), ServerJson.Default.RunView) : NoRun(id);

    private static IResult NoRun(string id) => Problems.NotFound($"no run '{id}' in this server's store");

    private static IResult Read(ServerRuns runs, string id, Func<KeelStore, RunRecord, IResult> read)
    {
        using var store = runs.OpenStore();
        return store.FindRun(id) is { } run ? read(store, run) : NoRun(id);
    }

    private static IResult Paged(ServerRuns runs, string id, string? afterText, string? limitText, Func<KeelStore, RunRecord, long, int, IResult> read)
    {
        if (ParseAfter(afterText) is { Error: { } afterError })
        {
            return Problems.BadRequest(afterError);
        }

        if (ParseLimit(limitText, "limit", 500, MaxPage) is { Error: { } limitError })
        {
            return Problems.BadRequest(limitError);
        }

        return Read(runs, id, (store, run) => read(store, run, ParseAfter(afterText).Value, ParseLimit(limitText, "limit", 500, MaxPage).Value));
    }

    internal static (long Value, string? Error) ParseAfter(string? text) =>
        text is null ? (0, null)
        : long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long v) ? (v, null)
        : (0, $"after was '{text}'; it must be a sequence number (a whole number, 0 or more)");

    internal static (int Value, string? Error) ParseLimit(string? text, string name, int fallback, int max) =>
        text is null ? (fallback, null)
        : int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v >= 1 && v <= max ? (v, null)
        : (0, $"{name} was '{text}'; it must be a whole number from 1 to {max}");

    private static IResult Events(ServerRuns runs, string id, string? afterText, string? limitText)
    {
        var (after, afterError) = ParseAfter(afterText);
        var (limit, limitError) = ParseLimit(limitText, "limit", 500, MaxPage);
        if ((afterError ?? limitError) is { } error)
        {
            return Problems.BadRequest(error);
        }

        using var store = runs.OpenStore();
        if (store.FindRun(id) is not { } run)
        {
            return NoRun(id);
        }

        var events = store.ReadEvents(run.Id, after, limit);
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartArray("events");
            foreach (var e in events)
            {
                EventJson.Write(w, null, e.Sequence, e.Type, e.Time, e.Payload);
            }

            w.WriteEndArray();
            if (events.Count == limit)
            {
                w.WriteNumber("next", events[^1].Sequence);
            }

            w.WriteEndObject();
        }

        return TypedResults.Bytes(buffer.WrittenMemory.ToArray(), "application/json");
    }

    private static IResult Equity(ServerRuns runs, string id, string? pointsText)
    {
        var (points, error) = ParseLimit(pointsText, "points", 500, 10_000);
        if (error is not null || points < 2)
        {
            return Problems.BadRequest(error ?? $"points was '{pointsText}'; it must be a whole number from 2 to 10000");
        }

        using var store = runs.OpenStore();
        if (store.FindRun(id) is not { } run)
        {
            return NoRun(id);
        }

        var curve = new List<EquityPoint>();
        var active = runs.Find(run.Id);
        Money cash = active?.Cash ?? CashOf(run);
        double peak = double.MinValue;
        if (active is not null)
        {
            foreach (var s in active.Samples())
            {
                double eq = (double)s.Equity.ToDecimal();
                peak = Math.Max(peak, eq);
                curve.Add(new EquityPoint(s.Time.ToString(), s.Sequence, s.Equity.ToString(), cash.ToDecimal() == 0 ? 0 : (eq / (double)cash.ToDecimal()) - 1, peak > 0 ? (peak - eq) / peak : 0));
            }
        }

        long last = curve.Count > 0 ? curve[^1].Sequence : 0;
        foreach (var c in store.ReadCheckpoints(run.Id))
        {
            if (c.Sequence > last)
            {
                var eq = cash.ToDecimal() * (1 + (decimal)c.TotalReturn);
                curve.Add(new EquityPoint(c.CreatedAt.ToString(), c.Sequence, Money.From(eq).ToString(), c.TotalReturn, c.MaxDrawdown));
            }
        }

        return TypedResults.Json((IReadOnlyList<EquityPoint>)Downsample(curve, points), ServerJson.Default.IReadOnlyListEquityPoint);
    }

    /// <summary>Every k-th point, always keeping the first and the last.</summary>
    internal static List<T> Downsample<T>(List<T> points, int max)
    {
        if (points.Count <= max)
        {
            return points;
        }

        var result = new List<T>(max);
        double step = (points.Count - 1) / (double)(max - 1);
        for (int i = 0; i < max; i++)
        {
            result.Add(points[(int)Math.Round(i * step)]);
        }

        return result;
    }

    private static Money CashOf(RunRecord run)
    {
        try
        {
            return RunSpecJson.Read(run.Spec, run.Id, null).Cash;
        }
        catch (UsageException)
        {
            return Money.Zero;
        }
    }

    private static async Task<IResult> CreateAsync(HttpContext context, ServerRuns runs, ILogger log)
    {
        var (body, error) = await Body.ReadAsync(context).ConfigureAwait(false);
        if (error is not null)
        {
            return error;
        }

        using (body)
        {
            var root = body!.RootElement;
            if (!root.TryGetProperty("mode", out var modeElement) || modeElement.ValueKind != JsonValueKind.String || !Modes.Contains(modeElement.GetString()))
            {
                return Problems.BadRequest($"mode is {(root.TryGetProperty("mode", out var m) ? $"'{Body.Describe(m)}'" : "missing")}; it must be one of {string.Join(", ", Modes)}");
            }

            var options = new List<KeyValuePair<string, string>>();
            if (root.TryGetProperty("options", out var o))
            {
                if (o.ValueKind != JsonValueKind.Object)
                {
                    return Problems.BadRequest($"options must be an object of option names and values, e.g. {{\"data\": \"prices.csv\", \"strategy\": \"sma-cross\"}}; it was {o.ValueKind.ToString().ToLowerInvariant()}");
                }

                foreach (var p in o.EnumerateObject())
                {
                    var name = p.Name.TrimStart('-');
                    if (Refused.Contains(name, StringComparer.OrdinalIgnoreCase))
                    {
                        return Problems.BadRequest($"options.{p.Name} cannot be set through the API: the server records runs in its own store, with its own configuration, and writes no files");
                    }

                    if (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
                    {
                        return Problems.BadRequest($"options.{p.Name} is not an option name (letters, digits and dashes, as the command line's without the leading dashes)");
                    }

                    var values = p.Value.ValueKind == JsonValueKind.Array ? p.Value.EnumerateArray().ToList() : [p.Value];
                    foreach (var v in values)
                    {
                        switch (v.ValueKind)
                        {
                            case JsonValueKind.String:
                                options.Add(new(name, v.GetString()!));
                                break;
                            case JsonValueKind.Number:
                                options.Add(new(name, v.GetRawText()));
                                break;
                            case JsonValueKind.True:
                                options.Add(new(name, "true"));
                                break;
                            case JsonValueKind.False:
                                break;
                            default:
                                return Problems.BadRequest($"options.{p.Name} was {v.ValueKind.ToString().ToLowerInvariant()}; give a string, a number, true/false or an array of strings");
                        }
                    }
                }
            }

            ActiveRun run;
            try
            {
                var spec = runs.ResolveRun(modeElement.GetString()!, options);
                run = runs.Start(spec);
            }
            catch (Exception ex) when (ex is UsageException or DataFormatException or ArgumentException or FileNotFoundException or DirectoryNotFoundException)
            {
                return Problems.BadRequest(ex.Message);
            }

            ServerLog.Command(log, run.Id, "create", Caller(context));
            var record = runs.FindRecord(run.Id);
            var view = record is null ? null : View(record, run);
            return TypedResults.Created($"/api/runs/{run.Id}", view);
        }
    }

    private static string Caller(HttpContext context) => context.Items[typeof(ApiToken)] is ApiToken t ? t.Name : "?";

    private static async Task<IResult> CommandAsync(HttpContext context, ServerRuns runs, string id, string command, ILogger log)
    {
        if (runs.FindRecord(id) is not { } record)
        {
            return NoRun(id);
        }

        if (runs.Find(record.Id) is not { } active || active.Handle.Completion.IsCompleted)
        {
            return Problems.Conflict($"run {record.Id} is {StatusName(record.Status)} and not running in this server; only a run it is running can be paused, resumed or stopped");
        }

        var status = active.Handle.Status;
        if (command == "pause" && status != RunStatus.Running)
        {
            return Problems.Conflict($"run {record.Id} is {StatusName(status)}; only a running run can be paused");
        }

        if (command == "resume" && status != RunStatus.Paused)
        {
            return Problems.Conflict($"run {record.Id} is {StatusName(status)}; only a paused run can be resumed");
        }

        try
        {
            switch (command)
            {
                case "pause":
                    await active.Handle.PauseAsync(context.RequestAborted).ConfigureAwait(false);
                    break;
                case "resume":
                    await active.Handle.ResumeAsync(context.RequestAborted).ConfigureAwait(false);
                    break;
                default:
                    active.Handle.Stop();
                    break;
            }
        }
        catch (InvalidOperationException ex)
        {
            return Problems.Conflict(ex.Message);
        }

        ServerLog.Command(log, record.Id, command, Caller(context));
        return TypedResults.Json(View(runs.FindRecord(record.Id) ?? record, active), ServerJson.Default.RunView, statusCode: StatusCodes.Status202Accepted);
    }

    private static Task<IResult> ContinueAsync(HttpContext context, ServerRuns runs, string id, ILogger log)
    {
        if (runs.FindRecord(id) is not { } record)
        {
            return Task.FromResult(NoRun(id));
        }

        if (runs.Find(record.Id) is { } active && !active.Handle.Completion.IsCompleted)
        {
            return Task.FromResult(Problems.Conflict($"run {record.Id} is already running in this server"));
        }

        if (record.Status is RunStatus.Completed or RunStatus.Halted)
        {
            return Task.FromResult(Problems.Conflict($"run {record.Id} is {StatusName(record.Status)}; only a stopped, failed or crashed run can be continued"));
        }

        ActiveRun run;
        try
        {
            run = runs.Resume(record);
        }
        catch (Exception ex) when (ex is UsageException or DataFormatException or ArgumentException or IOException)
        {
            return Task.FromResult(Problems.Conflict(ex.Message));
        }

        ServerLog.Command(log, run.Id, "continue", Caller(context));
        return Task.FromResult<IResult>(TypedResults.Json(View(runs.FindRecord(run.Id) ?? record, run), ServerJson.Default.RunView, statusCode: StatusCodes.Status202Accepted));
    }

    /// <summary>The journaled orders; for a run going, overlaid with the kernel's own (no wait for the journal's next batch).</summary>
    private static async Task<IResult> OrdersAsync(ServerRuns runs, string id, CancellationToken ct)
    {
        RunRecord? run;
        List<OrderView> orders;
        using (var store = runs.OpenStore())
        {
            run = store.FindRun(id);
            if (run is null)
            {
                return NoRun(id);
            }

            orders = [.. store.ReadOrders(run.Id).Select(o => new OrderView(o.Id, o.Number, o.Instrument, o.Side, o.Type, o.Quantity, o.LimitPrice, o.StopPrice, o.TimeInForce, o.Status))];
        }

        if (runs.Find(run.Id) is { } active && !active.Handle.Completion.IsCompleted)
        {
            try
            {
                var current = await active.Handle.QueryAsync(k => k.Orders.Open.Concat(k.Orders.Recent)
                    .Select(o => new OrderView(o.Id.ToString(), o.Number, o.Instrument.ToString(), o.Side.ToText(), o.Type.ToText(), o.Quantity.ToString(), o.LimitPrice?.ToString(), o.StopPrice?.ToString(), o.TimeInForce.ToText(), o.Status.ToText()))
                    .ToList(), ct).ConfigureAwait(false);
                var byId = orders.ToDictionary(o => o.Id, StringComparer.Ordinal);
                foreach (var o in current)
                {
                    byId[o.Id] = o;
                }

                orders = [.. byId.Values.OrderBy(o => o.Number).ThenBy(o => o.Id, StringComparer.Ordinal)];
            }
            catch (InvalidOperationException)
            {
                // The run ended meanwhile: the journal has it all.
            }
        }

        return TypedResults.Json((IReadOnlyList<OrderView>)orders, ServerJson.Default.IReadOnlyListOrderView);
    }

    private static async Task<IResult> SubmitAsync(HttpContext context, ServerRuns runs, string id, ILogger log)
    {
        if (runs.FindRecord(id) is not { } record)
        {
            return NoRun(id);
        }

        OrderRequestBody? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync(context.Request.Body, ServerJson.Default.OrderRequestBody, context.RequestAborted).ConfigureAwait(false);
        }
        catch (JsonException ex)
        {
            return Problems.BadRequest($"the body is not an order: {Body.JsonError(ex)}");
        }
        catch (InvalidOperationException)
        {
            return Problems.BadRequest("the body is not an order: it has a string that is not valid Unicode (an unpaired surrogate)");
        }

        if (body is null)
        {
            return Problems.BadRequest("the body is empty; send an order, e.g. {\"instrument\": \"AAPL\", \"side\": \"buy\", \"type\": \"market\", \"quantity\": \"10\"}");
        }

        var (request, problem) = Orders.Parse(body);
        if (problem is not null)
        {
            return Problems.BadRequest(problem);
        }

        if (runs.Find(record.Id) is not { } active || active.Handle.Completion.IsCompleted)
        {
            return Problems.Conflict($"run {record.Id} is {StatusName(record.Status)} and not running in this server; it takes no orders");
        }

        ExternalOrderResult result;
        try
        {
            result = await active.Handle.SubmitOrderAsync(request, context.RequestAborted).ConfigureAwait(false);
        }
        catch (InvalidOperationException ex)
        {
            return Problems.Conflict(ex.Message);
        }

        ServerLog.Command(log, record.Id, $"submit order {result.Id}", Caller(context));
        return TypedResults.Json(Orders.View(result), ServerJson.Default.OrderResultView);
    }

    private static async Task<IResult> CancelAsync(HttpContext context, ServerRuns runs, string id, string orderId, ILogger log)
    {
        if (runs.FindRecord(id) is not { } record)
        {
            return NoRun(id);
        }

        if (runs.Find(record.Id) is not { } active || active.Handle.Completion.IsCompleted)
        {
            return Problems.Conflict($"run {record.Id} is {StatusName(record.Status)} and not running in this server; its orders cannot be cancelled here");
        }

        ExternalOrderResult result;
        try
        {
            result = await active.Handle.CancelOrderAsync(new ClientOrderId(orderId), context.RequestAborted).ConfigureAwait(false);
        }
        catch (InvalidOperationException ex)
        {
            return Problems.Conflict(ex.Message);
        }

        if (result.Status == OrderStatus.Denied && result.Reason is { } reason && reason.Contains("not known", StringComparison.Ordinal))
        {
            return Problems.NotFound(reason);
        }

        ServerLog.Command(log, record.Id, $"cancel order {orderId}", Caller(context));
        return TypedResults.Json(Orders.View(result), ServerJson.Default.OrderResultView);
    }
}
