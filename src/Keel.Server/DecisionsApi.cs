using System.Globalization;
using System.Text.Json;
using Keel.Domain;
using Keel.Pipeline;
using Keel.Storage.Pipeline;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace Keel.Server;

/// <summary>
/// The decision pipeline over the API: <c>/api/decisions</c> (list, show, create, approve) checked exactly as
/// <c>keel decisions add|import</c> checks them (<see cref="DecisionFile.Check"/>), and the trade journal
/// (<c>/api/journal/trades</c>, <c>/orders</c>, <c>/positions</c>).
/// </summary>
internal static class DecisionsApi
{
    /// <summary>The fields a decision may have: the decisions file's columns (snake_case), or the same in camelCase.</summary>
    private static readonly string[] Columns = ["symbol", "action", "side", "planned_entry", "planned_sl", "planned_tp", "quantity", "trade_style", "target_decision_id", "approved", "source", "note"];

    public static void Map(RouteGroupBuilder read, RouteGroupBuilder trade, ServerRuns runs, IReadOnlySet<string>? symbols, TimeProvider time, ILogger log)
    {
        read.MapGet("/decisions", (string? pending) => List(runs, pending))
            .WithName("ListDecisions").WithSummary("Decisions, oldest first; pending=true: only those not executed yet.")
            .Produces<IReadOnlyList<DecisionView>>().ProducesProblem(StatusCodes.Status400BadRequest);
        trade.MapPost("/decisions", (HttpContext context, CancellationToken _) => CreateAsync(context, runs, symbols, time, log))
            .WithName("CreateDecision").WithSummary("Adds a decision, checked as 'keel decisions add' checks it: {\"symbol\": \"AAPL\", \"action\": \"NEW_TRADE\", \"side\": \"LONG\", \"planned_entry\": \"100\", \"planned_sl\": \"95\", \"planned_tp\": \"110\", \"quantity\": \"10\", \"trade_style\": \"SWING\"} (fields as the decisions file's columns, or camelCase). A wrong field is a 400 naming it.")
            .Accepts<DecisionBody>("application/json").Produces<DecisionView>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status400BadRequest);
        read.MapGet("/decisions/{id}", (string id) => Show(runs, id))
            .WithName("GetDecision").WithSummary("A decision with its trade, the trade's orders and its open position.")
            .Produces<DecisionDetail>().ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        trade.MapPost("/decisions/{id}/approve", (string id, HttpContext context) => Approve(context, runs, id, log))
            .WithName("ApproveDecision").WithSummary("Approves a decision, so the executor places it at its next run (approving twice is harmless).")
            .Produces<DecisionView>().ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        read.MapGet("/journal/trades", () => Journal(runs, store => TypedResults.Json(
                (IReadOnlyList<JournalTradeView>)[.. store.Pipeline.Trades().Select(TradeView)], ServerJson.Default.IReadOnlyListJournalTradeView)))
            .WithName("JournalTrades").WithSummary("The trade journal: every trade of the pipeline, its plan, what happened and its P&L.").Produces<IReadOnlyList<JournalTradeView>>();
        read.MapGet("/journal/orders", (string? trade) => JournalOrders(runs, trade))
            .WithName("JournalOrders").WithSummary("The pipeline's order executions (trade=ID: only that trade's).").Produces<IReadOnlyList<OrderExecutionView>>().ProducesProblem(StatusCodes.Status400BadRequest);
        read.MapGet("/journal/positions", () => Journal(runs, store => TypedResults.Json(
                (IReadOnlyList<TrackedPositionView>)[.. store.Pipeline.Positions().Select(PositionView)], ServerJson.Default.IReadOnlyListTrackedPositionView)))
            .WithName("JournalPositions").WithSummary("The pipeline's open positions as tracked (valued at the last price seen).").Produces<IReadOnlyList<TrackedPositionView>>();
    }

    private static IResult Journal(ServerRuns runs, Func<Keel.Storage.KeelStore, IResult> read)
    {
        using var store = runs.OpenStore();
        return read(store);
    }

    private static IResult List(ServerRuns runs, string? pending)
    {
        bool only;
        switch (pending?.ToLowerInvariant())
        {
            case null or "false" or "0":
                only = false;
                break;
            case "true" or "1":
                only = true;
                break;
            default:
                return Problems.BadRequest($"pending was '{pending}'; it must be true or false");
        }

        using var store = runs.OpenStore();
        return TypedResults.Json((IReadOnlyList<DecisionView>)[.. store.Pipeline.ListDecisions(only).Select(View)], ServerJson.Default.IReadOnlyListDecisionView);
    }

    private static (long Id, IResult? Error) ParseId(string text) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long id) && id > 0 ? (id, null)
        : (0, Problems.BadRequest($"id was '{Clip(text)}'; a decision id is a whole number, 1 or more"));

    private static string Clip(string text) => text.Length <= 40 ? text : text[..40] + "…";

    private static IResult Show(ServerRuns runs, string idText)
    {
        var (id, error) = ParseId(idText);
        if (error is not null)
        {
            return error;
        }

        using var store = runs.OpenStore();
        var p = store.Pipeline;
        if (p.FindDecision(id) is not { } d)
        {
            return NoDecision(id);
        }

        JournalTradeView? trade = null;
        IReadOnlyList<OrderExecutionView> orders = [];
        TrackedPositionView? position = null;
        if (p.TradeOfDecision(id) is { } t)
        {
            trade = TradeView(t);
            orders = [.. p.OrdersOfTrade(t.Id).Select(OrderView)];
            position = p.FindPosition(t.Id) is { } pos ? PositionView(pos) : null;
        }

        return TypedResults.Json(new DecisionDetail(View(d), trade, orders, position), ServerJson.Default.DecisionDetail);
    }

    private static IResult NoDecision(long id) => Problems.NotFound($"no decision {id} in this server's store");

    private static IResult Approve(HttpContext context, ServerRuns runs, string idText, ILogger log)
    {
        var (id, error) = ParseId(idText);
        if (error is not null)
        {
            return error;
        }

        using var store = runs.OpenStore();
        if (!store.Pipeline.Approve(id) || store.Pipeline.FindDecision(id) is not { } d)
        {
            return NoDecision(id);
        }

        ServerLog.DecisionCommand(log, id, "approved", Caller(context));
        return TypedResults.Json(View(d), ServerJson.Default.DecisionView);
    }

    private static string Caller(HttpContext context) => context.Items[typeof(ApiToken)] is ApiToken t ? t.Name : "?";

    private static async Task<IResult> CreateAsync(HttpContext context, ServerRuns runs, IReadOnlySet<string>? symbols, TimeProvider time, ILogger log)
    {
        var (body, error) = await Body.ReadAsync(context).ConfigureAwait(false);
        if (error is not null)
        {
            return error;
        }

        using (body)
        {
            var row = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var p in body!.RootElement.EnumerateObject())
            {
                var column = Column(p.Name);
                if (column is null)
                {
                    return Problems.BadRequest($"{Clip(p.Name)} is not a field of a decision; the fields are {string.Join(", ", Columns)}", Clip(p.Name));
                }

                if (row.ContainsKey(column))
                {
                    return Problems.BadRequest($"{column} is given twice", column);
                }

                switch (p.Value.ValueKind)
                {
                    case JsonValueKind.String:
                        row[column] = p.Value.GetString()!.Trim();
                        break;
                    case JsonValueKind.Number:
                        row[column] = p.Value.GetRawText();
                        break;
                    case JsonValueKind.True or JsonValueKind.False:
                        row[column] = p.Value.ValueKind == JsonValueKind.True ? "true" : "false";
                        break;
                    case JsonValueKind.Null:
                        break;
                    default:
                        return Problems.BadRequest($"{column} was {p.Value.ValueKind.ToString().ToLowerInvariant()}; give a string, a number or true/false", column);
                }
            }

            row.TryAdd("action", "NEW_TRADE");
            row.TryAdd("source", "api:" + Caller(context));
            using var store = runs.OpenStore();
            NewDecision decision;
            try
            {
                decision = DecisionFile.Check(row, symbols, id => store.Pipeline.FindDecision(id) is not null);
            }
            catch (DecisionFormatException ex)
            {
                return Problems.BadRequest($"the decision is not valid: {ex.Message}", ex.Field);
            }

            long id = store.Pipeline.AddDecisions([decision], Timestamp.FromDateTimeOffset(time.GetUtcNow()))[0];
            ServerLog.DecisionCommand(log, id, decision.Approved ? "added (approved)" : "added", Caller(context));
            var view = View(store.Pipeline.FindDecision(id)!);
            return TypedResults.Created($"/api/decisions/{id}", view);
        }
    }

    /// <summary>The decisions file's column a field names (snake_case or camelCase, any case), or null.</summary>
    private static string? Column(string name)
    {
        var snake = new System.Text.StringBuilder(name.Length + 4);
        foreach (char c in name)
        {
            if (char.IsAsciiLetterUpper(c) && snake.Length > 0 && snake[^1] != '_')
            {
                snake.Append('_');
            }

            snake.Append(char.ToLowerInvariant(c));
        }

        var s = snake.ToString();
        return s == "approve" ? "approved" : Columns.FirstOrDefault(c => c == s);
    }

    private static string? Dec(decimal? value) => value is decimal d ? PipelineText.Decimal(d) : null;

    internal static DecisionView View(Decision d) => new(
        d.Id, d.Symbol, PipelineText.Of(d.Action), PipelineText.Of(d.Side), PipelineText.Of(d.TradeStyle), Dec(d.PlannedEntry), Dec(d.PlannedStopLoss), Dec(d.PlannedTakeProfit),
        Dec(d.Quantity), d.TargetDecisionId, d.Approved, d.Executed, d.Outcome, d.Source, d.Note, d.CreatedAt.ToString(), d.ExecutedAt?.ToString());

    private static JournalTradeView TradeView(TradeJournalEntry t) => new(
        t.Id, t.DecisionId, t.Symbol, PipelineText.Of(t.Side), PipelineText.Of(t.TradeStyle), PipelineText.Of(t.Status), Dec(t.PlannedEntry)!, Dec(t.PlannedStopLoss)!, Dec(t.PlannedTakeProfit),
        Dec(t.Quantity)!, Dec(t.ActualEntry), Dec(t.ActualQuantity), Dec(t.ExitPrice), Dec(t.ActualPnl), t.ExitReason is { } r ? PipelineText.Of(r) : null,
        t.EntryTime?.ToString(), t.ExitTime?.ToString(), t.CreatedAt.ToString(), t.UpdatedAt.ToString());

    private static OrderExecutionView OrderView(OrderExecution o) => new(
        o.Id, o.TradeId, PipelineText.Of(o.OrderType), o.Side, Dec(o.Quantity)!, Dec(o.LimitPrice), Dec(o.StopPrice), o.ClientOrderId, o.VenueOrderId, PipelineText.Of(o.Status),
        Dec(o.FilledQuantity)!, Dec(o.FilledAveragePrice), o.FilledAt?.ToString(), o.SubmittedAt?.ToString(), o.UpdatedAt.ToString(), o.Error);

    private static TrackedPositionView PositionView(PositionTracking p) => new(
        p.TradeId, p.Symbol, Dec(p.Quantity)!, Dec(p.AverageEntryPrice)!, Dec(p.CostBasis)!, Dec(p.CurrentPrice)!, Dec(p.MarketValue)!, Dec(p.UnrealizedPnl)!, p.LastUpdated.ToString(),
        p.StopLossOrderId, p.TakeProfitOrderId);

    private static IResult JournalOrders(ServerRuns runs, string? tradeText)
    {
        long? trade = null;
        if (tradeText is not null)
        {
            if (!long.TryParse(tradeText, NumberStyles.None, CultureInfo.InvariantCulture, out long t) || t <= 0)
            {
                return Problems.BadRequest($"trade was '{Clip(tradeText)}'; a trade id is a whole number, 1 or more", "trade");
            }

            trade = t;
        }

        using var store = runs.OpenStore();
        var orders = trade is long id ? store.Pipeline.OrdersOfTrade(id) : store.Pipeline.Orders();
        return TypedResults.Json((IReadOnlyList<OrderExecutionView>)[.. orders.Select(OrderView)], ServerJson.Default.IReadOnlyListOrderExecutionView);
    }
}
