using System.Globalization;
using System.Text;
using Keel.Domain;
using Keel.Engine.Strategies;

namespace Keel.Strategies;

/// <summary>One rung of a ladder: where it buys, where it sells, how many shares it holds and what it has made.</summary>
public sealed class LadderLevel(int index, Price buy, Price sell, Quantity shares, Quantity held, Money profit)
{
    public int Index { get; } = index;

    public Price Buy { get; } = buy;

    public Price Sell { get; } = sell;

    /// <summary>Shares this level buys when it is empty.</summary>
    public Quantity Shares { get; } = shares;

    public Quantity Held { get; set; } = held;

    /// <summary>Realized profit of this level: (sell fill price − buy price) × shares sold, summed.</summary>
    public Money Profit { get; set; } = profit;

    public Quantity Room => Shares - Held;

    public LadderLevel Copy() => new(Index, Buy, Sell, Shares, Held, Profit);
}

/// <summary>
/// The ladder CSV (SCALE_T): one row per level, header <c>level,buy_price,sell_price,shares,held,profit</c> in any
/// column order. Levels are listed by increasing index, and buy prices fall strictly as the index rises (level 0 is
/// the top rung). Each level must sell above where it buys; shares are positive and held is between 0 and shares.
/// Writes go to a temporary file that replaces the original in one rename, so the file is never half-written.
/// </summary>
public static class LadderFile
{
    public static readonly string[] Columns = ["level", "buy_price", "sell_price", "shares", "held", "profit"];

    public static List<LadderLevel> Read(string path)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StrategyConfigurationException($"ladder file {path} cannot be read: {ex.Message}");
        }

        if (lines.Length == 0 || string.IsNullOrWhiteSpace(lines[0]))
        {
            throw new StrategyConfigurationException($"{path}: line 1: the file is empty; it needs the header {string.Join(',', Columns)}");
        }

        var header = lines[0].Split(',').Select(h => h.Trim().ToLowerInvariant()).ToArray();
        var at = new int[Columns.Length];
        for (int c = 0; c < Columns.Length; c++)
        {
            at[c] = Array.IndexOf(header, Columns[c]);
            if (at[c] < 0)
            {
                throw new StrategyConfigurationException($"{path}: line 1: the header has no {Columns[c]} column (it needs {string.Join(',', Columns)})");
            }
        }

        var levels = new List<LadderLevel>();
        for (int i = 1; i < lines.Length; i++)
        {
            int line = i + 1;
            if (string.IsNullOrWhiteSpace(lines[i]))
            {
                continue;
            }

            var f = lines[i].Split(',');
            if (f.Length != header.Length)
            {
                throw new StrategyConfigurationException($"{path}: line {line}: {f.Length} fields, but the header has {header.Length}");
            }

            string Field(int c) => f[at[c]].Trim();
            StrategyConfigurationException Bad(int c, string what) => new($"{path}: line {line}, field {Columns[c]}: {what}");

            if (!int.TryParse(Field(0), NumberStyles.Integer, CultureInfo.InvariantCulture, out int index) || index < 0)
            {
                throw Bad(0, $"'{Field(0)}' is not a level index (a whole number, 0 or more)");
            }

            Price Px(int c) => Price.TryParse(Field(c), out var p) && p.IsPositive ? p : throw Bad(c, $"'{Field(c)}' is not a positive price");
            Quantity Qty(int c, bool positive)
            {
                if (!Quantity.TryParse(Field(c), out var q))
                {
                    throw Bad(c, $"'{Field(c)}' is not a number of shares");
                }

                if (q.IsNegative || (positive && q.IsZero))
                {
                    throw Bad(c, $"{Field(c)} shares; it must be {(positive ? "positive" : "zero or more")}");
                }

                return q;
            }

            var buy = Px(1);
            var sell = Px(2);
            var shares = Qty(3, positive: true);
            var held = Qty(4, positive: false);
            if (!Money.TryParse(Field(5), out var profit))
            {
                throw Bad(5, $"'{Field(5)}' is not an amount");
            }

            if (sell <= buy)
            {
                throw Bad(2, $"{sell} is not above buy_price {buy}; a level must sell above where it buys");
            }

            if (held > shares)
            {
                throw Bad(4, $"{held} is more than the level's {shares} shares");
            }

            if (levels.Count > 0)
            {
                var previous = levels[^1];
                if (index == previous.Index || buy == previous.Buy)
                {
                    throw Bad(index == previous.Index ? 0 : 1, $"level {index} at buy price {buy} overlaps level {previous.Index} at {previous.Buy}; every level needs its own index and buy price");
                }

                if (index < previous.Index)
                {
                    throw Bad(0, $"level {index} comes after level {previous.Index}; list levels by increasing index");
                }

                if (buy > previous.Buy)
                {
                    throw Bad(1, $"level {index} buys at {buy}, above level {previous.Index} at {previous.Buy}; buy prices must fall as the index rises (level 0 is the top rung)");
                }
            }

            levels.Add(new LadderLevel(index, buy, sell, shares, held, profit));
        }

        if (levels.Count == 0)
        {
            throw new StrategyConfigurationException($"{path}: the file has a header but no levels");
        }

        return levels;
    }

    public static string Format(IReadOnlyList<LadderLevel> levels)
    {
        var sb = new StringBuilder();
        sb.Append(string.Join(',', Columns)).Append('\n');
        foreach (var l in levels)
        {
            sb.Append(l.Index.ToString(CultureInfo.InvariantCulture)).Append(',').Append(l.Buy).Append(',').Append(l.Sell).Append(',')
                .Append(l.Shares).Append(',').Append(l.Held).Append(',').Append(l.Profit).Append('\n');
        }

        return sb.ToString();
    }

    /// <summary>Writes atomically: a temporary file beside the target, flushed to disk, then renamed over it.</summary>
    public static void Write(string path, IReadOnlyList<LadderLevel> levels)
    {
        var full = Path.GetFullPath(path);
        var temp = Path.Combine(Path.GetDirectoryName(full) ?? ".", $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                stream.Write(Encoding.UTF8.GetBytes(Format(levels)));
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }
}
