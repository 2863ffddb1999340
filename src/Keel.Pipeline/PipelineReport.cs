using System.Globalization;
using System.Net;
using System.Text;
using Keel.Domain;
using Keel.Storage.Pipeline;

namespace Keel.Pipeline;

/// <summary>
/// The pipeline backtest's report.html: one self-contained page (no script, nothing loaded from elsewhere) with the
/// figures of metrics.json, the P&amp;L over time (realized from the closed trades plus unrealized from the position
/// monitor's valuations, drawn as an SVG), every trade of the journal and every order the stages placed.
/// </summary>
public static class PipelineReport
{
    private const int MaxPoints = 2000;
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>One point of the P&amp;L curve: realized so far plus the open trades' latest unrealized P&amp;L.</summary>
    public readonly record struct PnlPoint(Timestamp Time, decimal Realized, decimal Unrealized)
    {
        public decimal Total => Realized + Unrealized;
    }

    /// <summary>
    /// The P&amp;L curve: at each valuation and each exit, the realized P&amp;L of the trades closed by then plus the
    /// latest valuation of each trade still open. At most <see cref="MaxPoints"/> points (evenly thinned, the last kept).
    /// </summary>
    public static IReadOnlyList<PnlPoint> Curve(IReadOnlyList<TradeJournalEntry> trades, IReadOnlyList<PositionValuation> valuations)
    {
        ArgumentNullException.ThrowIfNull(trades);
        ArgumentNullException.ThrowIfNull(valuations);

        // Events in time order; at the same instant valuations first, then exits (a trade valued and closed at the
        // same firing counts once, as realized).
        var events = new List<(Timestamp Time, int Order, long Trade, decimal Amount)>(valuations.Count + trades.Count);
        foreach (var v in valuations)
        {
            events.Add((v.Position.LastUpdated, 0, v.Position.TradeId, v.Position.UnrealizedPnl));
        }

        foreach (var t in trades)
        {
            if (t.Status == TradeStatus.Closed && t.ExitTime is Timestamp exit)
            {
                events.Add((exit, 1, t.Id, t.ActualPnl ?? 0m));
            }
        }

        events.Sort((a, b) => a.Time != b.Time ? a.Time.CompareTo(b.Time) : a.Order != b.Order ? a.Order.CompareTo(b.Order) : a.Trade.CompareTo(b.Trade));
        var open = new Dictionary<long, decimal>();
        decimal realized = 0m, unrealized = 0m;
        var points = new List<PnlPoint>();
        for (int i = 0; i < events.Count; i++)
        {
            var (time, order, trade, amount) = events[i];
            if (order == 0)
            {
                unrealized += amount - open.GetValueOrDefault(trade);
                open[trade] = amount;
            }
            else
            {
                if (open.Remove(trade, out decimal last))
                {
                    unrealized -= last;
                }

                realized += amount;
            }

            if (i + 1 == events.Count || events[i + 1].Time != time)
            {
                points.Add(new PnlPoint(time, realized, unrealized));
            }
        }

        if (points.Count <= MaxPoints)
        {
            return points;
        }

        var thinned = new List<PnlPoint>(MaxPoints);
        for (int k = 0; k < MaxPoints - 1; k++)
        {
            thinned.Add(points[(int)((long)k * (points.Count - 1) / (MaxPoints - 1))]);
        }

        thinned.Add(points[^1]);
        return thinned;
    }

    /// <summary>Writes the page.</summary>
    public static void Write(string path, PipelineBacktestSpec spec, PipelineBacktestResult result, DateOnly first, DateOnly last,
        IReadOnlyList<TradeJournalEntry> trades, IReadOnlyList<OrderExecution> orders, IReadOnlyList<PositionValuation> valuations)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(result);
        var closed = trades.Where(t => t.Status == TradeStatus.Closed).ToList();
        int wins = closed.Count(t => t.ActualPnl > 0);
        var sb = new StringBuilder(16_384);
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Append("<title>Keel pipeline backtest</title><style>")
            .Append("body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1200px;padding:0 1rem;color:#1d2330}")
            .Append("h1{font-size:1.5rem;margin:0}h2{font-size:1.1rem;margin:2rem 0 .5rem}.sub{color:#5b6475;margin:.25rem 0}")
            .Append(".cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:.75rem;margin:1.25rem 0}")
            .Append(".card{border:1px solid #d9dee8;border-radius:8px;padding:.6rem .8rem}.card b{display:block;font-size:1.2rem}")
            .Append(".pos{color:#137333}.neg{color:#b3261e}table{border-collapse:collapse;width:100%;font-size:12.5px}")
            .Append("th,td{border-bottom:1px solid #e4e7ee;padding:.3rem .45rem;text-align:right;white-space:nowrap}")
            .Append("th{background:#f5f7fb;position:sticky;top:0}td.l,th.l{text-align:left}.scroll{overflow:auto;max-height:32rem}")
            .Append("svg{width:100%;height:auto;border:1px solid #e4e7ee;border-radius:8px}</style></head><body>\n");

        sb.Append("<header><h1>Pipeline backtest</h1><p class=\"sub\">Decisions ").Append(E(Path.GetFileName(spec.DecisionsFile)))
            .Append(" on ").Append(E(string.Join(", ", spec.Data.Select(d => Path.GetFileName(d)))))
            .Append(", ").Append(first.ToString("yyyy-MM-dd", Inv)).Append(" to ").Append(last.ToString("yyyy-MM-dd", Inv))
            .Append(", against the simulated exchange on the NYSE schedule (executor 09:45 ET, order monitor every 5 minutes, position monitor every 10).</p></header>\n");

        sb.Append("<section class=\"cards\">");
        Card(sb, "Decisions", result.Decisions.ToString(Inv));
        Card(sb, "Trades", result.Trades.ToString(Inv));
        Card(sb, "Closed", result.Closed.ToString(Inv));
        Card(sb, "Cancelled", result.Cancelled.ToString(Inv));
        Card(sb, "Open", result.Open.ToString(Inv));
        Card(sb, "Realized P&L", PipelineText.Money(result.RealizedPnl), Sign(result.RealizedPnl));
        Card(sb, "Unrealized P&L", PipelineText.Money(result.UnrealizedPnl), Sign(result.UnrealizedPnl));
        Card(sb, "Win rate", closed.Count == 0 ? "–" : (100m * wins / closed.Count).ToString("0.0", Inv) + " %");
        Card(sb, "Valuations", result.Valuations.ToString(Inv));
        sb.Append("</section>\n");

        sb.Append("<section><h2>P&amp;L over time</h2><p class=\"sub\">Realized (closed trades) plus unrealized (each open trade at its latest valuation), in the account's currency.</p>");
        Chart(sb, Curve(trades, valuations));
        sb.Append("</section>\n");

        sb.Append("<section><h2>Trade journal</h2><div class=\"scroll\"><table><thead><tr>");
        foreach (var h in (string[])["trade", "decision", "symbol", "side", "style", "status", "planned entry", "stop-loss", "take-profit", "qty", "entry", "exit", "P&L", "exit reason", "entry time", "exit time"])
        {
            sb.Append("<th").Append(h is "symbol" or "side" or "style" or "status" or "exit reason" ? " class=\"l\"" : string.Empty).Append('>').Append(E(h)).Append("</th>");
        }

        sb.Append("</tr></thead><tbody>\n");
        foreach (var t in trades)
        {
            sb.Append("<tr><td>").Append(t.Id.ToString(Inv)).Append("</td><td>").Append(t.DecisionId.ToString(Inv))
                .Append("</td><td class=\"l\">").Append(E(t.Symbol)).Append("</td><td class=\"l\">").Append(PipelineText.Of(t.Side))
                .Append("</td><td class=\"l\">").Append(PipelineText.Of(t.TradeStyle)).Append("</td><td class=\"l\">").Append(PipelineText.Of(t.Status))
                .Append("</td><td>").Append(M(t.PlannedEntry)).Append("</td><td>").Append(M(t.PlannedStopLoss)).Append("</td><td>").Append(M(t.PlannedTakeProfit))
                .Append("</td><td>").Append(PipelineText.Decimal(t.ActualQuantity ?? t.Quantity)).Append("</td><td>").Append(M(t.ActualEntry))
                .Append("</td><td>").Append(M(t.ExitPrice)).Append("</td><td class=\"").Append(Sign(t.ActualPnl ?? 0m)).Append("\">").Append(M(t.ActualPnl))
                .Append("</td><td class=\"l\">").Append(t.ExitReason is { } r ? PipelineText.Of(r) : string.Empty)
                .Append("</td><td>").Append(T(t.EntryTime)).Append("</td><td>").Append(T(t.ExitTime)).Append("</td></tr>\n");
        }

        sb.Append("</tbody></table></div></section>\n");

        sb.Append("<section><h2>Orders</h2><div class=\"scroll\"><table><thead><tr>");
        foreach (var h in (string[])["order", "trade", "type", "side", "qty", "limit", "stop", "client order id", "status", "filled", "avg price", "filled at", "submitted at"])
        {
            sb.Append("<th").Append(h is "type" or "side" or "client order id" or "status" ? " class=\"l\"" : string.Empty).Append('>').Append(E(h)).Append("</th>");
        }

        sb.Append("</tr></thead><tbody>\n");
        foreach (var o in orders)
        {
            sb.Append("<tr><td>").Append(o.Id.ToString(Inv)).Append("</td><td>").Append(o.TradeId.ToString(Inv))
                .Append("</td><td class=\"l\">").Append(PipelineText.Of(o.OrderType)).Append("</td><td class=\"l\">").Append(E(o.Side))
                .Append("</td><td>").Append(PipelineText.Decimal(o.Quantity)).Append("</td><td>").Append(M(o.LimitPrice)).Append("</td><td>").Append(M(o.StopPrice))
                .Append("</td><td class=\"l\">").Append(E(o.ClientOrderId)).Append("</td><td class=\"l\">").Append(PipelineText.Of(o.Status))
                .Append("</td><td>").Append(o.FilledQuantity is decimal fq ? PipelineText.Decimal(fq) : string.Empty).Append("</td><td>").Append(M(o.FilledAveragePrice))
                .Append("</td><td>").Append(T(o.FilledAt)).Append("</td><td>").Append(T(o.SubmittedAt)).Append("</td></tr>\n");
        }

        sb.Append("</tbody></table></div></section>\n<p class=\"sub\">Written by keel pipeline backtest; the same figures are in metrics.json, trade_journal.csv, order_executions.csv and positions.csv.</p></body></html>\n");
        File.WriteAllText(path, sb.ToString());
    }

    private static void Chart(StringBuilder sb, IReadOnlyList<PnlPoint> points)
    {
        if (points.Count == 0)
        {
            sb.Append("<p class=\"sub\">No trade was valued or closed.</p>");
            return;
        }

        const double W = 1000, H = 280, Pad = 44;
        long t0 = points[0].Time.UnixNanos, t1 = points[^1].Time.UnixNanos;
        decimal lo = Math.Min(0m, points.Min(p => Math.Min(p.Total, p.Realized)));
        decimal hi = Math.Max(0m, points.Max(p => Math.Max(p.Total, p.Realized)));
        if (hi == lo)
        {
            hi = lo + 1m;
        }

        // Coordinates are for drawing only; every figure shown as text is the exact decimal.
        double X(Timestamp t) => t1 == t0 ? W / 2 : Pad + ((W - (2 * Pad)) * (t.UnixNanos - t0) / (double)(t1 - t0));
        double Y(decimal v) => Pad / 2 + ((H - Pad) * (double)((hi - v) / (hi - lo)));
        string P(double v) => v.ToString("0.#", Inv);

        sb.Append("<svg viewBox=\"0 0 ").Append(P(W)).Append(' ').Append(P(H)).Append("\" role=\"img\" aria-label=\"P&amp;L over time\">");
        sb.Append("<line x1=\"").Append(P(Pad)).Append("\" x2=\"").Append(P(W - Pad)).Append("\" y1=\"").Append(P(Y(0m))).Append("\" y2=\"").Append(P(Y(0m)))
            .Append("\" stroke=\"#9aa3b5\" stroke-dasharray=\"4 4\"/>");
        Polyline(sb, points, p => p.Realized, "#8b5cf6", X, Y, P);
        Polyline(sb, points, p => p.Total, "#2563eb", X, Y, P);
        sb.Append("<text x=\"4\" y=\"").Append(P(Y(hi) + 4)).Append("\" font-size=\"11\" fill=\"#5b6475\">").Append(PipelineText.Money(hi)).Append("</text>");
        sb.Append("<text x=\"4\" y=\"").Append(P(Y(lo))).Append("\" font-size=\"11\" fill=\"#5b6475\">").Append(PipelineText.Money(lo)).Append("</text>");
        sb.Append("<text x=\"").Append(P(Pad)).Append("\" y=\"").Append(P(H - 4)).Append("\" font-size=\"11\" fill=\"#5b6475\">").Append(E(points[0].Time.ToString())).Append("</text>");
        sb.Append("<text x=\"").Append(P(W - Pad)).Append("\" y=\"").Append(P(H - 4)).Append("\" font-size=\"11\" fill=\"#5b6475\" text-anchor=\"end\">").Append(E(points[^1].Time.ToString())).Append("</text>");
        sb.Append("<text x=\"").Append(P(W - Pad)).Append("\" y=\"14\" font-size=\"12\" text-anchor=\"end\"><tspan fill=\"#2563eb\">■ total ")
            .Append(PipelineText.Money(points[^1].Total)).Append("</tspan>  <tspan fill=\"#8b5cf6\">■ realized ").Append(PipelineText.Money(points[^1].Realized)).Append("</tspan></text>");
        sb.Append("</svg>");
    }

    private static void Polyline(StringBuilder sb, IReadOnlyList<PnlPoint> points, Func<PnlPoint, decimal> value, string color, Func<Timestamp, double> x, Func<decimal, double> y, Func<double, string> p)
    {
        sb.Append("<polyline fill=\"none\" stroke=\"").Append(color).Append("\" stroke-width=\"1.6\" points=\"");
        foreach (var point in points)
        {
            sb.Append(p(x(point.Time))).Append(',').Append(p(y(value(point)))).Append(' ');
        }

        sb.Append("\"/>");
    }

    private static void Card(StringBuilder sb, string label, string value, string? cls = null) =>
        sb.Append("<div class=\"card\">").Append(E(label)).Append("<b").Append(cls is null ? string.Empty : $" class=\"{cls}\"").Append('>').Append(E(value)).Append("</b></div>");

    private static string Sign(decimal v) => v > 0 ? "pos" : v < 0 ? "neg" : string.Empty;

    private static string M(decimal? v) => v is decimal d ? PipelineText.Money(d) : string.Empty;

    private static string T(Timestamp? t) => t is Timestamp ts ? E(ts.ToString()) : string.Empty;

    private static string E(string s) => WebUtility.HtmlEncode(s);
}
