using System.CommandLine;
using System.Globalization;
using Keel.Domain;
using Keel.Pipeline;
using Keel.Storage.Pipeline;

namespace Keel.Cli;

/// <summary><c>keel decisions add|import|list|show|approve</c>: the decision pipeline's input (docs/pipeline.md).</summary>
internal static class DecisionsCommand
{
    public static Command Create(CliLogging logging)
    {
        var command = new Command("decisions", "Trading decisions for the pipeline: add or import them, list, show and approve them (docs/pipeline.md).");
        command.Subcommands.Add(Add(logging));
        command.Subcommands.Add(Import(logging));
        command.Subcommands.Add(List(logging));
        command.Subcommands.Add(Show(logging));
        command.Subcommands.Add(Approve(logging));
        return command;
    }

    private static Option<string> SymbolsOption() => new("--symbols")
    {
        Description = "the symbols decisions may name, comma-separated (a decision on any other is refused) [default: any well-formed symbol]",
        HelpName = "SYM[,SYM…]",
    };

    private static HashSet<string>? Symbols(string? text) => text is null ? null
        : [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => s.ToUpperInvariant())];

    private static Timestamp Now() => Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow);

    private static Command Add(CliLogging logging)
    {
        var db = CliConfig.DbOption();
        var config = CliConfig.ConfigOption();
        var symbol = new Option<string>("--symbol") { Description = "the symbol, e.g. AAPL", HelpName = "SYMBOL", Required = true };
        var action = new Option<string>("--action") { Description = "NEW_TRADE, CANCEL or AMEND [default: NEW_TRADE]", HelpName = "ACTION" };
        var side = new Option<string>("--side") { Description = "LONG or SHORT [default: LONG]", HelpName = "SIDE" };
        var entry = new Option<string>("--entry") { Description = "planned entry (the limit price)", HelpName = "PRICE" };
        var sl = new Option<string>("--sl") { Description = "planned stop-loss", HelpName = "PRICE" };
        var tp = new Option<string>("--tp") { Description = "planned take-profit (required for SWING)", HelpName = "PRICE" };
        var qty = new Option<string>("--qty") { Description = "quantity", HelpName = "N" };
        var style = new Option<string>("--style") { Description = "SWING (stop-loss and take-profit) or DAY (stop-loss only)", HelpName = "STYLE" };
        var target = new Option<string>("--target") { Description = "for CANCEL and AMEND: the decision whose trade is cancelled", HelpName = "ID" };
        var approve = new Option<bool>("--approve") { Description = "approve it at once" };
        var source = new Option<string>("--source") { Description = "where the decision comes from", HelpName = "TEXT" };
        var note = new Option<string>("--note") { Description = "a note", HelpName = "TEXT" };
        var symbols = SymbolsOption();
        var command = new Command("add", "Add one decision (unapproved unless --approve).")
        {
            symbol, action, side, entry, sl, tp, qty, style, target, approve, source, note, symbols, db, config,
        };
        command.SetAction((parse, ct) => Task.FromResult(logging.Guard(
            () =>
            {
                using var store = CliConfig.OpenStore(parse, db, config);
                var row = new Dictionary<string, string>(StringComparer.Ordinal)
                {
                    ["symbol"] = parse.GetValue(symbol) ?? string.Empty,
                    ["action"] = parse.GetValue(action) ?? "NEW_TRADE",
                    ["side"] = parse.GetValue(side) ?? string.Empty,
                    ["planned_entry"] = parse.GetValue(entry) ?? string.Empty,
                    ["planned_sl"] = parse.GetValue(sl) ?? string.Empty,
                    ["planned_tp"] = parse.GetValue(tp) ?? string.Empty,
                    ["quantity"] = parse.GetValue(qty) ?? string.Empty,
                    ["trade_style"] = parse.GetValue(style) ?? string.Empty,
                    ["target_decision_id"] = parse.GetValue(target) ?? string.Empty,
                    ["approved"] = parse.GetValue(approve) ? "true" : "false",
                    ["source"] = parse.GetValue(source) ?? "cli",
                    ["note"] = parse.GetValue(note) ?? string.Empty,
                };
                NewDecision decision;
                try
                {
                    decision = DecisionFile.Check(row, Symbols(parse.GetValue(symbols)), id => store.Pipeline.FindDecision(id) is not null);
                }
                catch (DecisionFormatException ex)
                {
                    throw new UsageException($"the decision is not valid: {ex.Message}");
                }

                long id = store.Pipeline.AddDecisions([decision], Now())[0];
                Console.WriteLine($"decision {id}: {Describe(decision)}{(decision.Approved ? " (approved)" : $"; approve it with: keel decisions approve {id}")}");
                return 0;
            },
            ct)));
        return command;
    }

    private static Command Import(CliLogging logging)
    {
        var db = CliConfig.DbOption();
        var config = CliConfig.ConfigOption();
        var symbols = SymbolsOption();
        var file = new Argument<string>("FILE") { Description = "CSV with a header: symbol,action,planned_entry,planned_sl,planned_tp,quantity,trade_style[,side,target_decision_id,approved,source,note]" };
        var command = new Command("import", "Import decisions from a CSV file: every row is checked first, and a bad row imports nothing (one transaction).") { file, symbols, db, config };
        command.SetAction((parse, ct) => Task.FromResult(logging.Guard(
            () =>
            {
                var path = parse.GetValue(file)!;
                if (!File.Exists(path))
                {
                    throw new UsageException($"decisions file {path} does not exist");
                }

                using var store = CliConfig.OpenStore(parse, db, config);
                IReadOnlyList<NewDecision> decisions;
                try
                {
                    decisions = DecisionFile.Read(path, Symbols(parse.GetValue(symbols)), id => store.Pipeline.FindDecision(id) is not null);
                }
                catch (DecisionFormatException ex)
                {
                    throw new UsageException(ex.Message);
                }

                var ids = store.Pipeline.AddDecisions(decisions, Now());
                int approved = decisions.Count(d => d.Approved);
                Console.WriteLine($"imported {ids.Count} decision{(ids.Count == 1 ? string.Empty : "s")} (ids {ids[0]}–{ids[^1]}, {approved} approved) into {store.Describe}");
                return 0;
            },
            ct)));
        return command;
    }

    private static Command List(CliLogging logging)
    {
        var db = CliConfig.DbOption();
        var config = CliConfig.ConfigOption();
        var pending = new Option<bool>("--pending") { Description = "only decisions not executed yet" };
        var command = new Command("list", "List decisions: id, symbol, action, terms, approved, executed and what became of them.") { pending, db, config };
        command.SetAction((parse, ct) => Task.FromResult(logging.Guard(
            () =>
            {
                using var store = CliConfig.OpenStore(parse, db, config);
                var decisions = store.Pipeline.ListDecisions(parse.GetValue(pending));
                if (decisions.Count == 0)
                {
                    Console.WriteLine($"no decisions in {store.Describe}; add some with keel decisions add or keel decisions import FILE.csv");
                    return 0;
                }

                var rows = decisions.Select(d => (IReadOnlyList<string>)
                [
                    d.Id.ToString(CultureInfo.InvariantCulture), d.Symbol, PipelineText.Of(d.Action), PipelineText.Of(d.Side), PipelineText.Of(d.TradeStyle),
                    Dec(d.PlannedEntry), Dec(d.PlannedStopLoss), Dec(d.PlannedTakeProfit), Dec(d.Quantity),
                    d.Approved ? "yes" : "no", d.Executed ? "yes" : "no", d.Outcome ?? string.Empty,
                ]).ToList();
                Console.Write(Table.Grid(["id", "symbol", "action", "side", "style", ">entry", ">stop-loss", ">take-profit", ">qty", "approved", "executed", "outcome"], rows));
                return 0;
            },
            ct)));
        return command;
    }

    private static Command Show(CliLogging logging)
    {
        var db = CliConfig.DbOption();
        var config = CliConfig.ConfigOption();
        var idArg = new Argument<long>("ID") { Description = "the decision's id" };
        var command = new Command("show", "One decision with its trade, orders and position.") { idArg, db, config };
        command.SetAction((parse, ct) => Task.FromResult(logging.Guard(
            () =>
            {
                using var store = CliConfig.OpenStore(parse, db, config);
                long id = parse.GetValue(idArg);
                var p = store.Pipeline;
                var d = p.FindDecision(id) ?? throw new UsageException($"there is no decision {id} in {store.Describe}");
                var rows = new List<(string, string)>
                {
                    ("symbol", d.Symbol), ("action", PipelineText.Of(d.Action)), ("side", PipelineText.Of(d.Side)), ("trade style", PipelineText.Of(d.TradeStyle)),
                    ("planned entry", Dec(d.PlannedEntry)), ("planned stop-loss", Dec(d.PlannedStopLoss)), ("planned take-profit", Dec(d.PlannedTakeProfit)),
                    ("quantity", Dec(d.Quantity)), ("target decision", d.TargetDecisionId?.ToString(CultureInfo.InvariantCulture) ?? string.Empty),
                    ("approved", d.Approved ? "yes" : "no"), ("executed", d.Executed ? $"yes, {d.ExecutedAt}" : "no"), ("outcome", d.Outcome ?? string.Empty),
                    ("source", d.Source ?? string.Empty), ("note", d.Note ?? string.Empty), ("created (UTC)", d.CreatedAt.ToString()),
                };
                if (p.TradeOfDecision(id) is { } t)
                {
                    rows.Add(("trade", $"{t.Id}: {PipelineText.Of(t.Status)}"));
                    rows.Add(("  actual entry", t.ActualEntry is decimal e ? $"{Dec(e)} × {Dec(t.ActualQuantity)}" : string.Empty));
                    rows.Add(("  exit", t.ExitPrice is decimal x ? $"{Dec(x)} ({(t.ExitReason is { } r ? PipelineText.Of(r) : string.Empty)}) at {t.ExitTime}" : string.Empty));
                    rows.Add(("  P&L", Dec(t.ActualPnl)));
                    foreach (var o in p.OrdersOfTrade(t.Id))
                    {
                        string price = o.StopPrice is decimal sp ? $"stop {Dec(sp)}" : $"limit {Dec(o.LimitPrice)}";
                        rows.Add(($"  {PipelineText.Of(o.OrderType).ToLowerInvariant()} order", $"{o.Side} {Dec(o.Quantity)} {price}: {PipelineText.Of(o.Status)}, filled {Dec(o.FilledQuantity)}{(o.FilledAveragePrice is decimal f ? $" at {Dec(f)}" : string.Empty)} ({o.ClientOrderId}{(o.VenueOrderId is null ? string.Empty : $", venue {o.VenueOrderId}")}){(o.Error is null ? string.Empty : $"; {o.Error}")}"));
                    }

                    if (p.FindPosition(t.Id) is { } pos)
                    {
                        rows.Add(("  position", $"{Dec(pos.Quantity)} at {Dec(pos.AverageEntryPrice)}, now {Dec(pos.CurrentPrice)}: value {Dec(pos.MarketValue)}, unrealized P&L {Dec(pos.UnrealizedPnl)} ({pos.LastUpdated})"));
                    }
                }

                Console.Write(Table.Render($"decision {id}", rows));
                return 0;
            },
            ct)));
        return command;
    }

    private static Command Approve(CliLogging logging)
    {
        var db = CliConfig.DbOption();
        var config = CliConfig.ConfigOption();
        var ids = new Argument<long[]>("ID") { Description = "the decisions to approve", Arity = ArgumentArity.OneOrMore };
        var command = new Command("approve", "Approve decisions, so the executor places them at its next run.") { ids, db, config };
        command.SetAction((parse, ct) => Task.FromResult(logging.Guard(
            () =>
            {
                using var store = CliConfig.OpenStore(parse, db, config);
                var wanted = parse.GetValue(ids)!;
                var missing = wanted.Where(i => store.Pipeline.FindDecision(i) is null).ToList();
                if (missing.Count > 0)
                {
                    throw new UsageException($"there is no decision {string.Join(", ", missing)} in {store.Describe}; nothing was approved");
                }

                foreach (var i in wanted)
                {
                    store.Pipeline.Approve(i);
                }

                Console.WriteLine($"approved decision{(wanted.Length == 1 ? string.Empty : "s")} {string.Join(", ", wanted)}");
                return 0;
            },
            ct)));
        return command;
    }

    private static string Describe(NewDecision d) => d.Action == DecisionAction.Cancel
        ? $"CANCEL the trade of decision {d.TargetDecisionId} ({d.Symbol})"
        : $"{PipelineText.Of(d.Action)} {PipelineText.Of(d.Side)} {Dec(d.Quantity)} {d.Symbol} at {Dec(d.PlannedEntry)}, stop-loss {Dec(d.PlannedStopLoss)}{(d.PlannedTakeProfit is decimal tp ? $", take-profit {Dec(tp)}" : string.Empty)} ({PipelineText.Of(d.TradeStyle)})";

    private static string Dec(decimal? value) => value is decimal d ? PipelineText.Decimal(d) : string.Empty;
}
