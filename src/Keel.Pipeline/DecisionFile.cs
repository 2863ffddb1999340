using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Keel.Storage.Pipeline;

namespace Keel.Pipeline;

/// <summary>A decisions file or a decision given on the command line is wrong; the message names the line and the reason.</summary>
public sealed class DecisionFormatException : Exception
{
    public DecisionFormatException(string message)
        : base(message)
    {
    }

    public DecisionFormatException()
    {
    }

    public DecisionFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The column (field) that is wrong, when one is: <c>symbol</c>, <c>action</c>, <c>planned_sl</c>, …</summary>
    public string? Field { get; init; }
}

/// <summary>A decision read from a file, with the day it is made (when the file says) and its line.</summary>
public sealed record DatedDecision(NewDecision Decision, DateOnly? Date, int Line);

/// <summary>
/// Reads and checks decisions. A file is CSV with a header naming its columns (any order, case-insensitive):
/// <c>symbol, action, planned_entry, planned_sl, planned_tp, quantity, trade_style</c> and optionally <c>side</c>
/// (LONG, the default, or SHORT), <c>target_decision_id</c> (for CANCEL and AMEND), <c>approved</c> (or the seed's
/// <c>Approve</c>; true/false/1/0), <c>source</c>, <c>note</c>. Every row is checked before any is used: a bad row is
/// named with its line and reason and nothing is imported.
/// </summary>
public static partial class DecisionFile
{
    private static readonly string[] Known = ["date", "symbol", "action", "side", "planned_entry", "planned_sl", "planned_tp", "quantity", "trade_style", "target_decision_id", "approved", "approve", "source", "note"];

    [GeneratedRegex("^[A-Z0-9][A-Z0-9._/-]{0,31}$")]
    private static partial Regex SymbolPattern();

    /// <summary>
    /// Reads every row of <paramref name="path"/>. <paramref name="knownSymbols"/> (when not null) are the symbols a
    /// decision may name; <paramref name="decisionExists"/> says whether a target decision id exists.
    /// </summary>
    public static IReadOnlyList<NewDecision> Read(string path, IReadOnlySet<string>? knownSymbols, Func<long, bool> decisionExists) =>
        [.. ReadDated(path, knownSymbols, decisionExists).Select(d => d.Decision)];

    /// <summary>
    /// As <see cref="Read"/>, with each decision's optional <c>date</c> column (YYYY-MM-DD: the day it is made, so a
    /// backtest places it at that day's 09:45, not before).
    /// </summary>
    public static IReadOnlyList<DatedDecision> ReadDated(string path, IReadOnlySet<string>? knownSymbols, Func<long, bool> decisionExists)
    {
        ArgumentNullException.ThrowIfNull(path);
        string name = Path.GetFileName(path);
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new DecisionFormatException($"cannot read decisions file {path}: {ex.Message}");
        }

        int headerLine = Array.FindIndex(lines, l => !string.IsNullOrWhiteSpace(l));
        if (headerLine < 0)
        {
            throw new DecisionFormatException($"{name}: the file is empty; it needs a header such as symbol,action,planned_entry,planned_sl,planned_tp,quantity,trade_style");
        }

        var header = Split(lines[headerLine]).Select(h => h.Trim().ToLowerInvariant()).ToArray();
        foreach (var h in header)
        {
            if (!Known.Contains(h))
            {
                throw new DecisionFormatException($"{name}: line {headerLine + 1}: unknown column '{h}'; the columns are {string.Join(", ", Known.Where(k => k != "approve"))}");
            }
        }

        foreach (var required in new[] { "symbol", "action" })
        {
            if (!header.Contains(required))
            {
                throw new DecisionFormatException($"{name}: line {headerLine + 1}: the header has no '{required}' column");
            }
        }

        var decisions = new List<DatedDecision>();
        var errors = new List<(int Line, string Reason)>();
        for (int i = headerLine + 1; i < lines.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i]))
            {
                continue;
            }

            var cells = Split(lines[i]);
            if (cells.Count != header.Length)
            {
                errors.Add((i + 1, $"it has {cells.Count} fields; the header has {header.Length}"));
                continue;
            }

            var row = new Dictionary<string, string>(StringComparer.Ordinal);
            for (int c = 0; c < header.Length; c++)
            {
                row[header[c] == "approve" ? "approved" : header[c]] = cells[c].Trim();
            }

            try
            {
                DateOnly? date = null;
                if (row.TryGetValue("date", out var dateText) && dateText.Length > 0)
                {
                    date = DateOnly.TryParseExact(dateText, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) ? d
                        : throw new DecisionFormatException($"date '{dateText}' is not a date (YYYY-MM-DD)");
                }

                decisions.Add(new DatedDecision(Check(row, knownSymbols, decisionExists), date, i + 1));
            }
            catch (DecisionFormatException ex)
            {
                errors.Add((i + 1, ex.Message));
            }
        }

        if (errors.Count > 0)
        {
            var (line, reason) = errors[0];
            string more = errors.Count == 1 ? string.Empty
                : $"; {errors.Count - 1} more bad row{(errors.Count == 2 ? string.Empty : "s")} (line{(errors.Count == 2 ? string.Empty : "s")} {string.Join(", ", errors.Skip(1).Take(10).Select(e => e.Line))}{(errors.Count > 11 ? ", …" : string.Empty)})";
            throw new DecisionFormatException($"{name}: line {line}: {reason}{more}; nothing was imported");
        }

        if (decisions.Count == 0)
        {
            throw new DecisionFormatException($"{name}: the file has a header but no decisions; nothing was imported");
        }

        return decisions;
    }

    /// <summary>Checks one decision given as column → text (the file's words); throws with the reason.</summary>
    public static NewDecision Check(IReadOnlyDictionary<string, string> row, IReadOnlySet<string>? knownSymbols, Func<long, bool> decisionExists)
    {
        ArgumentNullException.ThrowIfNull(row);
        ArgumentNullException.ThrowIfNull(decisionExists);
        string Get(string key) => row.TryGetValue(key, out var v) ? v : string.Empty;

        string actionText = Get("action");
        if (!PipelineText.TryAction(actionText, out var action))
        {
            throw new DecisionFormatException($"unknown action '{actionText}'; it must be NEW_TRADE, CANCEL or AMEND") { Field = "action" };
        }

        string symbol = Get("symbol").ToUpperInvariant();
        if (!SymbolPattern().IsMatch(symbol))
        {
            throw new DecisionFormatException(symbol.Length == 0 ? "the symbol is empty" : $"'{Get("symbol")}' is not a symbol (letters and digits, then '.', '_', '/' or '-'; at most 32)") { Field = "symbol" };
        }

        if (knownSymbols is not null && !knownSymbols.Contains(symbol))
        {
            throw new DecisionFormatException($"unknown symbol '{symbol}'; the known symbols are {string.Join(", ", knownSymbols.Order(StringComparer.Ordinal))}") { Field = "symbol" };
        }

        var side = TradeSide.Long;
        if (Get("side") is { Length: > 0 } sideText && !PipelineText.TrySide(sideText, out side))
        {
            throw new DecisionFormatException($"side '{sideText}' must be LONG or SHORT") { Field = "side" };
        }

        var style = TradeStyle.Day;
        string styleText = Get("trade_style");
        if (styleText.Length > 0 && !PipelineText.TryStyle(styleText, out style))
        {
            throw new DecisionFormatException($"trade_style '{styleText}' must be SWING or DAY") { Field = "trade_style" };
        }

        bool approved = Get("approved").ToLowerInvariant() switch
        {
            "" or "false" or "0" or "no" => false,
            "true" or "1" or "yes" => true,
            var other => throw new DecisionFormatException($"approved '{other}' must be true or false") { Field = "approved" },
        };

        long? target = null;
        if (Get("target_decision_id") is { Length: > 0 } targetText)
        {
            if (!long.TryParse(targetText, NumberStyles.None, CultureInfo.InvariantCulture, out long t) || t <= 0)
            {
                throw new DecisionFormatException($"target_decision_id '{targetText}' is not a decision id") { Field = "target_decision_id" };
            }

            if (!decisionExists(t))
            {
                throw new DecisionFormatException($"target_decision_id {t}: there is no decision {t}") { Field = "target_decision_id" };
            }

            target = t;
        }

        string? source = Get("source") is { Length: > 0 } s ? s : null;
        string? note = Get("note") is { Length: > 0 } n ? n : null;

        if (action == DecisionAction.Cancel)
        {
            if (target is null)
            {
                throw new DecisionFormatException("a CANCEL needs target_decision_id: the decision whose trade it cancels") { Field = "target_decision_id" };
            }

            return new NewDecision(symbol, action, side, null, null, null, null, style, target, approved, source, note);
        }

        if (action == DecisionAction.Amend && target is null)
        {
            throw new DecisionFormatException("an AMEND needs target_decision_id: the decision whose trade it replaces") { Field = "target_decision_id" };
        }

        if (styleText.Length == 0)
        {
            throw new DecisionFormatException("trade_style is empty; it must be SWING or DAY") { Field = "trade_style" };
        }

        decimal entry = Positive(Get("planned_entry"), "planned_entry");
        decimal sl = Positive(Get("planned_sl"), "planned_sl");
        decimal qty = Number(Get("quantity"), "quantity");
        if (qty <= 0)
        {
            throw new DecisionFormatException($"quantity is {Get("quantity")}; it must be more than zero") { Field = "quantity" };
        }

        decimal? tp = Get("planned_tp") is { Length: > 0 } tpText ? Positive(tpText, "planned_tp") : null;
        bool isLong = side == TradeSide.Long;
        string sideName = isLong ? "a long" : "a short";
        if (isLong ? sl >= entry : sl <= entry)
        {
            throw new DecisionFormatException($"stop-loss {Get("planned_sl")} is {(isLong ? "above" : "below")} or at the entry {Get("planned_entry")} for {sideName}; it must be {(isLong ? "below" : "above")} it") { Field = "planned_sl" };
        }

        if (tp is decimal takeProfit && (isLong ? takeProfit <= entry : takeProfit >= entry))
        {
            throw new DecisionFormatException($"take-profit {Get("planned_tp")} is {(isLong ? "below" : "above")} or at the entry {Get("planned_entry")} for {sideName}; it must be {(isLong ? "above" : "below")} it") { Field = "planned_tp" };
        }

        if (style == TradeStyle.Swing && tp is null)
        {
            throw new DecisionFormatException("a SWING trade needs planned_tp (its take-profit)") { Field = "planned_tp" };
        }

        return new NewDecision(symbol, action, side, entry, sl, tp, qty, style, target, approved, source, note);
    }

    private static decimal Number(string text, string column)
    {
        if (text.Length == 0)
        {
            throw new DecisionFormatException($"{column} is empty") { Field = column };
        }

        if (!decimal.TryParse(text, NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out decimal value))
        {
            throw new DecisionFormatException($"{column} '{text}' is not a number") { Field = column };
        }

        return value;
    }

    private static decimal Positive(string text, string column)
    {
        decimal value = Number(text, column);
        return value > 0 ? value : throw new DecisionFormatException($"{column} is {text}; it must be more than zero") { Field = column };
    }

    /// <summary>Splits one CSV line; a field in double quotes may hold commas and doubled quotes.</summary>
    internal static List<string> Split(string line)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char ch = line[i];
            if (quoted)
            {
                if (ch == '"' && i + 1 < line.Length && line[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (ch == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(ch);
                }
            }
            else if (ch == '"' && field.ToString().Trim().Length == 0)
            {
                field.Clear();
                quoted = true;
            }
            else if (ch == ',')
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else
            {
                field.Append(ch);
            }
        }

        fields.Add(field.ToString());
        return fields;
    }
}
