using System.Globalization;
using System.Net;
using System.Text;
using Keel.Engine.Analytics;

namespace Keel.Runtime.Optimization;

/// <summary>
/// report.html of a sweep: one self-contained page (no scripts, nothing fetched) with the sweep's settings, a heat map
/// of the ranking metric over the first two parameters that vary, the best combinations and, with a held-out period,
/// how they did on it. Nothing on it depends on the core count or the time it ran, so it is the same file every time.
/// </summary>
public static class SweepReport
{
    private const string Css = """
        :root{--fg:#1b1f24;--muted:#5b6470;--grid:#e4e7eb;--card:#f6f8fa;--pos:#1a7f37;--neg:#cf222e}
        @media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#8d96a0;--grid:#30363d;--card:#161b22;--pos:#3fb950;--neg:#f85149}body{background:#0d1117}}
        body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:var(--fg);max-width:1100px;margin:24px auto;padding:0 16px}
        h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}.sub{color:var(--muted);margin:0}
        table{border-collapse:collapse}.kv th{text-align:left;color:var(--muted);font-weight:500;padding:3px 16px 3px 0}.kv td{padding:3px 0}
        .grid th,.grid td{padding:4px 6px;border-bottom:1px solid var(--grid);text-align:right;white-space:nowrap}.grid th{color:var(--muted);font-weight:500}
        table.grid{font-size:12px;display:block;overflow-x:auto}
        .heat td{width:44px;height:26px;text-align:center;font-size:11px;color:#111;border:1px solid rgba(0,0,0,.06)}.heat th{font-size:11px;color:var(--muted);font-weight:500;padding:2px 6px}
        .heat td.na{background:var(--card);color:var(--muted)}.axis{color:var(--muted);font-size:12px}
        .best{outline:2px solid var(--fg);outline-offset:-2px}
        footer{color:var(--muted);font-size:12px;margin:32px 0}
        """;

    public static void Write(Stream stream, SweepOutcome outcome, RunSpec spec, int top)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(outcome);
        ArgumentNullException.ThrowIfNull(spec);
        var sb = new StringBuilder(64 * 1024);
        var title = $"Keel optimize: {outcome.StrategyName}";
        sb.Append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n");
        sb.Append("<title>").Append(E(title)).Append("</title>\n<style>\n").Append(Css).Append("</style></head><body>\n");
        sb.Append("<h1>").Append(E(title)).Append("</h1>\n");
        var best = outcome.Ranked[0];
        sb.Append("<p class=\"sub\">").Append(outcome.Ranked.Count.ToString("N0", CultureInfo.InvariantCulture)).Append(" combinations ranked by ")
            .Append(E(outcome.Metric.Name)).Append(outcome.Metric.HigherIsBetter ? " (higher is better)" : " (lower is better)")
            .Append("; best: ").Append(E(Pairs(outcome, best))).Append("</p>\n");

        sb.Append("<h2>Sweep</h2><table class=\"kv\" id=\"settings\">");
        Row(sb, "Strategy", outcome.StrategyName);
        Row(sb, "Parameters", string.Join("  ", outcome.Grid.Axes.Select(a => a.Source)));
        Row(sb, "Data", string.Join(", ", spec.DataFiles.Select(Path.GetFileName)));
        Row(sb, "Bars swept", outcome.Bars.ToString("N0", CultureInfo.InvariantCulture) + (best.Metrics.Start is { } s && best.Metrics.End is { } e ? $" ({s.ToString()[..10]} → {e.ToString()[..10]})" : string.Empty));
        if (outcome.Holdout is not null)
        {
            Row(sb, "Bars held out", outcome.HoldoutBars.ToString("N0", CultureInfo.InvariantCulture));
        }

        Row(sb, "Cash, stake", $"{spec.Cash.ToDecimal().ToString("#,0.##", CultureInfo.InvariantCulture)}, {spec.Stake}");
        Row(sb, "Commission, slippage", $"{spec.Commission.ToString(CultureInfo.InvariantCulture)}, {spec.Slippage.ToString(CultureInfo.InvariantCulture)}");
        sb.Append("</table>\n");

        var varying = outcome.Grid.Axes.Select((a, i) => (Axis: a, Index: i)).Where(x => x.Axis.Values.Count > 1).ToList();
        if (varying.Count >= 2)
        {
            HeatMap(sb, outcome, varying[0].Index, varying[1].Index, varying.Count > 2);
        }

        sb.Append("<h2>Best combinations</h2>\n");
        Table(sb, "top", outcome, outcome.Ranked.Take(Math.Max(top, 20)).Select((r, i) => (i + 1, r, r.Metrics)));
        if (outcome.Holdout is { } holdout)
        {
            sb.Append("<h2>On the held-out period</h2><p class=\"sub\">Each of the top ").Append(holdout.Count)
                .Append(" combinations run afresh (same cash, indicators warming up again) on the bars after the training period.</p>\n");
            Table(sb, "holdout", outcome, holdout.Select(h => (h.Rank, h.Train, h.Test)));
        }

        if (outcome.WalkForward is { } folds && outcome.WalkForwardSummary is { } summary)
        {
            WalkForwardTable(sb, outcome, folds, summary);
        }

        sb.Append("<footer>Written by Keel. Every combination ran the same backtest as <code>keel backtest</code> with its parameters.</footer>\n</body></html>\n");
        var bytes = Encoding.UTF8.GetBytes(sb.ToString());
        stream.Write(bytes);
    }

    /// <summary>
    /// The ranking metric over two parameters; with more parameters varying, each cell shows the best combination of the
    /// others. Colour runs from the worst cell (red) to the best (green).
    /// </summary>
    private static void HeatMap(StringBuilder sb, SweepOutcome outcome, int x, int y, bool more)
    {
        var xs = outcome.Grid.Axes[x];
        var ys = outcome.Grid.Axes[y];
        var cells = new Dictionary<(string, string), (double? Value, bool Best)>();
        bool first = true;
        foreach (var r in outcome.Ranked)
        {
            // Ranked best first: the first result seen for a cell is that cell's best.
            var key = (r.Values[x], r.Values[y]);
            if (!cells.ContainsKey(key))
            {
                cells[key] = (outcome.Metric.Of(r.Metrics, r.Periods), first);
            }

            first = false;
        }

        var defined = cells.Values.Where(c => c.Value is not null).Select(c => c.Value!.Value).ToList();
        double lo = defined.Count > 0 ? defined.Min() : 0, hi = defined.Count > 0 ? defined.Max() : 0;
        sb.Append("<h2>").Append(E(outcome.Metric.Name)).Append(" by ").Append(E(xs.Name)).Append(" and ").Append(E(ys.Name)).Append("</h2>\n");
        if (more)
        {
            sb.Append("<p class=\"sub\">Each cell is the best combination of the other parameters.</p>\n");
        }

        sb.Append("<table class=\"heat\" id=\"heatmap\" data-x=\"").Append(E(xs.Name)).Append("\" data-y=\"").Append(E(ys.Name)).Append("\"><tr><th class=\"axis\">")
            .Append(E(ys.Name)).Append(" \\ ").Append(E(xs.Name)).Append("</th>");
        foreach (var xv in xs.Values)
        {
            sb.Append("<th>").Append(E(xv)).Append("</th>");
        }

        sb.Append("</tr>\n");
        foreach (var yv in ys.Values)
        {
            sb.Append("<tr><th>").Append(E(yv)).Append("</th>");
            foreach (var xv in xs.Values)
            {
                if (!cells.TryGetValue((xv, yv), out var cell))
                {
                    sb.Append("<td class=\"na\" title=\"not run\"></td>");
                    continue;
                }

                if (cell.Value is not double v)
                {
                    sb.Append("<td class=\"na\" title=\"undefined\">n/a</td>");
                    continue;
                }

                double t = hi > lo ? (v - lo) / (hi - lo) : 1;
                if (!outcome.Metric.HigherIsBetter)
                {
                    t = 1 - t;
                }

                sb.Append("<td").Append(cell.Best ? " class=\"best\"" : string.Empty).Append(" style=\"background:").Append(Colour(t)).Append("\" title=\"")
                    .Append(E($"{xs.Name}={xv} {ys.Name}={yv}: {outcome.Metric.Name} {v.ToString("R", CultureInfo.InvariantCulture)}")).Append("\" data-value=\"")
                    .Append(v.ToString("R", CultureInfo.InvariantCulture)).Append("\">").Append(Short(v)).Append("</td>");
            }

            sb.Append("</tr>\n");
        }

        sb.Append("</table>\n");
    }

    /// <summary>Red (0) through pale yellow (0.5) to green (1), as an opaque hex colour.</summary>
    private static string Colour(double t)
    {
        t = Math.Clamp(t, 0, 1);
        (double r, double g, double b) lowC = (215, 48, 39), mid = (255, 255, 191), highC = (26, 152, 80);
        var (a, z, u) = t < 0.5 ? (lowC, mid, t * 2) : (mid, highC, (t - 0.5) * 2);
        int R = (int)Math.Round(a.r + ((z.r - a.r) * u)), G = (int)Math.Round(a.g + ((z.g - a.g) * u)), B = (int)Math.Round(a.b + ((z.b - a.b) * u));
        return $"#{R:x2}{G:x2}{B:x2}";
    }

    private static string Short(double v) => Math.Abs(v) >= 1000 ? v.ToString("0", CultureInfo.InvariantCulture) : v.ToString("0.00", CultureInfo.InvariantCulture);

    private static void Table(StringBuilder sb, string id, SweepOutcome outcome, IEnumerable<(int Rank, SweepResult Train, BacktestMetrics Shown)> rows)
    {
        sb.Append("<table class=\"grid\" id=\"").Append(id).Append("\"><tr><th>#</th>");
        foreach (var a in outcome.Grid.Axes.Where(a => a.Values.Count > 1))
        {
            sb.Append("<th>").Append(E(a.Name)).Append("</th>");
        }

        if (id == "holdout")
        {
            sb.Append("<th>train ").Append(E(outcome.Metric.Name)).Append("</th>");
        }

        foreach (var h in new[] { "net profit", "return", "CAGR", "Sharpe", "Sortino", "max DD", "profit factor", "win rate", "trades" })
        {
            sb.Append("<th>").Append(h).Append("</th>");
        }

        sb.Append("</tr>\n");
        foreach (var (rank, train, m) in rows)
        {
            sb.Append("<tr><td>").Append(rank).Append("</td>");
            for (int i = 0; i < outcome.Grid.Axes.Count; i++)
            {
                if (outcome.Grid.Axes[i].Values.Count > 1)
                {
                    sb.Append("<td>").Append(E(train.Values[i])).Append("</td>");
                }
            }

            if (id == "holdout")
            {
                sb.Append("<td>").Append(Num(outcome.Metric.Of(train.Metrics, train.Periods))).Append("</td>");
            }

            var net = m.NetProfit.ToDecimal();
            sb.Append("<td class=\"").Append(net < 0 ? "neg" : "pos").Append("\">").Append(net.ToString("#,0.00", CultureInfo.InvariantCulture)).Append("</td>")
                .Append("<td>").Append(Pct(m.TotalReturn)).Append("</td><td>").Append(Pct(m.Cagr)).Append("</td><td>").Append(Num(m.Sharpe)).Append("</td><td>")
                .Append(Num(m.Sortino)).Append("</td><td>").Append(Pct(m.MaxDrawdown)).Append("</td><td>").Append(Num(m.ProfitFactor)).Append("</td><td>")
                .Append(Pct(m.WinRate)).Append("</td><td>").Append(m.Trades.ToString("N0", CultureInfo.InvariantCulture)).Append("</td></tr>\n");
        }

        sb.Append("</table>\n");
    }

    /// <summary>One row per walk-forward fold: its windows, the combination chosen on training, and its test metrics.</summary>
    private static void WalkForwardTable(StringBuilder sb, SweepOutcome outcome, IReadOnlyList<WalkForwardFold> folds, WalkForwardSummary summary)
    {
        sb.Append("<h2>Walk-forward</h2><p class=\"sub\">").Append(folds.Count).Append(outcome.Anchored ? " anchored" : " rolling")
            .Append(" folds: on each training window the best combination by ").Append(E(outcome.Metric.Name))
            .Append(", run afresh (same cash, indicators warming up again) on the next segment. Out of sample: net profit ")
            .Append(summary.TestNetProfit.ToDecimal().ToString("#,0.00", CultureInfo.InvariantCulture)).Append(", walk-forward efficiency ")
            .Append(Num(summary.Efficiency)).Append(" (mean test return per bar ÷ mean training return per bar).</p>\n");
        sb.Append("<table class=\"grid\" id=\"walkforward\"><tr><th>fold</th><th>train</th><th>test</th>");
        var varying = outcome.Grid.Axes.Select((a, i) => (Axis: a, Index: i)).Where(x => x.Axis.Values.Count > 1).ToList();
        foreach (var v in varying)
        {
            sb.Append("<th>").Append(E(v.Axis.Name)).Append("</th>");
        }

        sb.Append("<th>train ").Append(E(outcome.Metric.Name)).Append("</th><th>test ").Append(E(outcome.Metric.Name))
            .Append("</th><th>net profit</th><th>return</th><th>Sharpe</th><th>max DD</th><th>trades</th></tr>\n");
        foreach (var f in folds)
        {
            var m = f.TestMetrics;
            var net = m.NetProfit.ToDecimal();
            sb.Append("<tr><td>").Append(f.Fold).Append("</td><td>").Append(E($"{f.Train.First} → {f.Train.Last}")).Append("</td><td>")
                .Append(E($"{f.Test.First} → {f.Test.Last}")).Append("</td>");
            foreach (var v in varying)
            {
                sb.Append("<td>").Append(E(f.Best.Values[v.Index])).Append("</td>");
            }

            sb.Append("<td>").Append(Num(outcome.Metric.Of(f.Best.Metrics, f.Best.Periods))).Append("</td><td>").Append(Num(outcome.Metric.Of(m, f.TestPeriods)))
                .Append("</td><td class=\"").Append(net < 0 ? "neg" : "pos").Append("\">").Append(net.ToString("#,0.00", CultureInfo.InvariantCulture)).Append("</td><td>")
                .Append(Pct(m.TotalReturn)).Append("</td><td>").Append(Num(m.Sharpe)).Append("</td><td>").Append(Pct(m.MaxDrawdown)).Append("</td><td>")
                .Append(m.Trades.ToString("N0", CultureInfo.InvariantCulture)).Append("</td></tr>\n");
        }

        sb.Append("</table>\n");
    }

    private static string Pairs(SweepOutcome outcome, SweepResult r) =>
        string.Join(", ", outcome.Grid.Axes.Select((a, i) => $"{a.Name}={r.Values[i]}"));

    private static void Row(StringBuilder sb, string name, string value) => sb.Append("<tr><th>").Append(E(name)).Append("</th><td>").Append(E(value)).Append("</td></tr>");

    private static string Pct(double? v) => v is double d && double.IsFinite(d) ? (d * 100).ToString("0.00", CultureInfo.InvariantCulture) + " %" : "n/a";

    private static string Num(double? v) => v is double d && double.IsFinite(d) ? d.ToString("0.000", CultureInfo.InvariantCulture) : "n/a";

    private static string E(string s) => WebUtility.HtmlEncode(s);
}
