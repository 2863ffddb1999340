using System.Globalization;
using System.Net;
using System.Text;
using Keel.Domain;
using Keel.Engine.Analytics;

namespace Keel.Runtime.Reporting;

/// <summary>What the report shows.</summary>
public sealed record ReportModel(
    string Title,
    IReadOnlyList<(string Name, string Value)> Run,
    BacktestMetrics Metrics,
    EquityCurve Curve,
    IReadOnlyList<TradeRow> Trades,
    long TotalTrades);

/// <summary>A trade as the report shows it: one row of trades.csv, as text.</summary>
public sealed record TradeRow(
    string Id,
    string Instrument,
    string Direction,
    string EntryTime,
    string EntryPrice,
    string ExitTime,
    string ExitPrice,
    string Quantity,
    string NetPnl,
    double Return,
    string BarsHeld,
    bool IsOpen)
{
    /// <summary>Reads up to <paramref name="max"/> rows of a trades.csv written by <see cref="TradesCsvWriter"/>.</summary>
    public static List<TradeRow> ReadCsv(string path, int max)
    {
        var rows = new List<TradeRow>();
        using var reader = new StreamReader(path, Encoding.UTF8);
        var header = reader.ReadLine();
        if (header is null)
        {
            return rows;
        }

        var columns = header.Split(',');
        int Col(string name) => Array.IndexOf(columns, name) is var i and >= 0 ? i : throw new InvalidDataException($"{path} has no {name} column");
        int id = Col("trade_id"), inst = Col("instrument"), dir = Col("direction"), et = Col("entry_time"), ep = Col("entry_price"),
            xt = Col("exit_time"), xp = Col("exit_price"), qty = Col("quantity"), net = Col("net_pnl"), ret = Col("return"), bars = Col("bars_held"), status = Col("status");
        while (rows.Count < max && reader.ReadLine() is string line)
        {
            var f = line.Split(',');
            if (f.Length != columns.Length)
            {
                throw new InvalidDataException($"{path} line {rows.Count + 2} has {f.Length} fields, expected {columns.Length}");
            }

            rows.Add(new TradeRow(
                f[id], f[inst], f[dir], f[et], f[ep], f[xt], f[xp], f[qty], f[net],
                double.Parse(f[ret], NumberStyles.Float, CultureInfo.InvariantCulture), f[bars], f[status] == "open"));
        }

        return rows;
    }
}

/// <summary>
/// A self-contained HTML report: inline CSS and SVG charts, no script or network needed to view it.
/// Deterministic: the same run gives the same bytes.
/// </summary>
public static class HtmlReport
{
    private const int Width = 960;

    public static void Write(Stream stream, ReportModel model)
    {
        var sb = new StringBuilder(64 * 1024);
        var m = model.Metrics;
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n");
        sb.Append("<title>").Append(E(model.Title)).Append("</title>\n<style>\n").Append(Css).Append("</style></head><body>\n");
        sb.Append("<header><h1>").Append(E(model.Title)).Append("</h1><p class=\"sub\">");
        sb.Append(E(string.Join(" · ", model.Run.Select(r => $"{r.Name}: {r.Value}")))).Append("</p></header>\n");

        sb.Append("<section class=\"cards\">");
        Card(sb, "Final equity", m.FinalEquity.ToDecimal().ToString("#,0.00", CultureInfo.InvariantCulture), m.NetProfit.IsNegative ? "neg" : "pos");
        Card(sb, "Total return", Pct(m.TotalReturn), m.TotalReturn < 0 ? "neg" : "pos");
        Card(sb, "CAGR", Pct(m.Cagr), null);
        Card(sb, "Max drawdown", Pct(-m.MaxDrawdown), "neg");
        Card(sb, "Sharpe", Num(m.Sharpe), null);
        Card(sb, "Sortino", Num(m.Sortino), null);
        Card(sb, "Trades", m.Trades.ToString(CultureInfo.InvariantCulture), null);
        Card(sb, "Win rate", Pct(m.WinRate), null);
        Card(sb, "Profit factor", Num(m.ProfitFactor), null);
        Card(sb, "Exposure", Pct(m.Exposure), null);
        sb.Append("</section>\n");

        var points = model.Curve.Points.ToArray();
        sb.Append("<section><h2>Equity</h2>");
        EquityChart(sb, points);
        sb.Append("</section>\n<section><h2>Drawdown</h2>");
        DrawdownChart(sb, points);
        sb.Append("</section>\n");

        sb.Append("<section class=\"two\"><div><h2>Performance</h2><table class=\"kv\">");
        Row(sb, "Initial cash", Fmt(m.InitialCash));
        Row(sb, "Final equity", Fmt(m.FinalEquity));
        Row(sb, "Net profit", Fmt(m.NetProfit));
        Row(sb, "Total return", Pct(m.TotalReturn));
        Row(sb, "CAGR", Pct(m.Cagr));
        Row(sb, "Max drawdown", $"{Pct(m.MaxDrawdown)} ({Fmt(m.MaxDrawdownValue)})");
        Row(sb, "Longest drawdown", $"{m.MaxDrawdownDurationBars} bars, {m.MaxDrawdownDurationDays.ToString("0.#", CultureInfo.InvariantCulture)} days");
        Row(sb, "Sharpe", $"{Num(m.Sharpe)} ({m.ReturnPeriod}, ×√{m.PeriodsPerYear})");
        Row(sb, "Sortino", $"{Num(m.Sortino)} ({m.ReturnPeriod}, ×√{m.PeriodsPerYear})");
        Row(sb, "Exposure", Pct(m.Exposure));
        Row(sb, "Commission", Fmt(m.TotalCommission));
        Row(sb, "Bars", m.Bars.ToString("N0", CultureInfo.InvariantCulture));
        Row(sb, "Period", $"{m.Start} → {m.End}");
        sb.Append("</table></div><div><h2>Trades and orders</h2><table class=\"kv\">");
        Row(sb, "Closed trades", m.Trades.ToString(CultureInfo.InvariantCulture));
        Row(sb, "Open trades", m.OpenTrades.ToString(CultureInfo.InvariantCulture));
        Row(sb, "Wins / losses / even", $"{m.Wins} / {m.Losses} / {m.Breakeven}");
        Row(sb, "Win rate", Pct(m.WinRate));
        Row(sb, "Profit factor", Num(m.ProfitFactor));
        Row(sb, "Average win", Fmt(m.AverageWin));
        Row(sb, "Average loss", Fmt(m.AverageLoss));
        Row(sb, "Largest win / loss", $"{Fmt(m.LargestWin)} / {Fmt(m.LargestLoss)}");
        Row(sb, "Average trade", Fmt(m.AverageTrade));
        Row(sb, "Orders", $"{m.Orders} ({m.OrdersFilled} filled, {m.OrdersCanceled} cancelled, {m.OrdersRejected} rejected, {m.OrdersDenied} denied, {m.OrdersExpired} expired)");
        Row(sb, "Fills", m.Fills.ToString(CultureInfo.InvariantCulture));
        Row(sb, "Errors", m.Errors.ToString(CultureInfo.InvariantCulture));
        sb.Append("</table></div></section>\n");

        sb.Append("<section><h2>Trades</h2>");
        if (model.Trades.Count == 0)
        {
            sb.Append("<p>No trades.</p>");
        }
        else
        {
            if (model.TotalTrades > model.Trades.Count)
            {
                sb.Append("<p class=\"sub\">Showing ").Append(model.Trades.Count).Append(" of ").Append(model.TotalTrades).Append(" trades; trades.csv has them all.</p>");
            }

            sb.Append("<table class=\"grid\"><thead><tr><th>#</th><th>Instrument</th><th>Side</th><th>Entry</th><th>Entry price</th><th>Exit</th><th>Exit price</th><th>Qty</th><th>Net P&amp;L</th><th>Return</th><th>Bars</th></tr></thead><tbody>");
            foreach (var t in model.Trades)
            {
                var cls = t.NetPnl.StartsWith('-') ? "neg" : "pos";
                var netPnl = Money.TryParse(t.NetPnl, out var pnl) ? pnl.ToFixed(2) : t.NetPnl;
                sb.Append("<tr><td>").Append(E(t.Id)).Append("</td><td>").Append(E(t.Instrument)).Append("</td><td>")
                    .Append(E(t.Direction)).Append("</td><td>").Append(E(t.EntryTime))
                    .Append("</td><td>").Append(E(t.EntryPrice)).Append("</td><td>").Append(t.IsOpen && t.ExitTime.Length == 0 ? "open" : E(t.ExitTime))
                    .Append("</td><td>").Append(E(t.ExitPrice)).Append("</td><td>").Append(E(t.Quantity))
                    .Append("</td><td class=\"").Append(cls).Append("\">").Append(E(netPnl)).Append("</td><td class=\"").Append(cls).Append("\">")
                    .Append(Pct(t.Return)).Append("</td><td>").Append(E(t.BarsHeld)).Append("</td></tr>\n");
            }

            sb.Append("</tbody></table>");
        }

        sb.Append("</section>\n<footer>Generated by Keel. Money is exact; percentages are rounded for display.</footer>\n</body></html>\n");
        var bytes = Encoding.UTF8.GetBytes(sb.ToString());
        stream.Write(bytes);
    }

    private static void EquityChart(StringBuilder sb, EquityCurve.Point[] pts)
    {
        const int h = 300, padL = 80, padR = 16, padT = 12, padB = 28;
        if (pts.Length == 0)
        {
            sb.Append("<p>No data.</p>");
            return;
        }

        double lo = pts.Min(p => p.Low), hi = pts.Max(p => p.High);
        if (hi - lo < 1e-9)
        {
            hi = lo + 1;
        }

        double X(int i) => padL + ((Width - padL - padR) * (pts.Length == 1 ? 0.5 : (double)i / (pts.Length - 1)));
        double Y(double v) => padT + ((h - padT - padB) * (hi - v) / (hi - lo));
        sb.Append("<svg viewBox=\"0 0 ").Append(Width).Append(' ').Append(h).Append("\" role=\"img\" aria-label=\"equity curve\">");
        Grid(sb, lo, hi, h, padL, padR, padT, padB, v => v.ToString("N0", CultureInfo.InvariantCulture));
        var band = new StringBuilder();
        for (int i = 0; i < pts.Length; i++)
        {
            band.Append(i == 0 ? 'M' : 'L').Append(F(X(i))).Append(',').Append(F(Y(pts[i].High)));
        }

        for (int i = pts.Length - 1; i >= 0; i--)
        {
            band.Append('L').Append(F(X(i))).Append(',').Append(F(Y(pts[i].Low)));
        }

        sb.Append("<path class=\"band\" d=\"").Append(band).Append("Z\"/>");
        sb.Append("<polyline class=\"line\" points=\"");
        for (int i = 0; i < pts.Length; i++)
        {
            sb.Append(F(X(i))).Append(',').Append(F(Y(pts[i].Equity))).Append(' ');
        }

        sb.Append("\"/>");
        TimeAxis(sb, pts, h, padL, padR);
        sb.Append("</svg>");
    }

    private static void DrawdownChart(StringBuilder sb, EquityCurve.Point[] pts)
    {
        const int h = 170, padL = 80, padR = 16, padT = 8, padB = 28;
        if (pts.Length == 0)
        {
            sb.Append("<p>No data.</p>");
            return;
        }

        double worst = Math.Max(pts.Max(p => p.Drawdown), 1e-6);
        double X(int i) => padL + ((Width - padL - padR) * (pts.Length == 1 ? 0.5 : (double)i / (pts.Length - 1)));
        double Y(double dd) => padT + ((h - padT - padB) * dd / worst);
        sb.Append("<svg viewBox=\"0 0 ").Append(Width).Append(' ').Append(h).Append("\" role=\"img\" aria-label=\"drawdown\">");
        Grid(sb, -worst, 0, h, padL, padR, padT, padB, v => (v * 100).ToString("0.#", CultureInfo.InvariantCulture) + "%");
        sb.Append("<path class=\"dd\" d=\"M").Append(F(X(0))).Append(',').Append(F(Y(0)));
        for (int i = 0; i < pts.Length; i++)
        {
            sb.Append('L').Append(F(X(i))).Append(',').Append(F(Y(pts[i].Drawdown)));
        }

        sb.Append('L').Append(F(X(pts.Length - 1))).Append(',').Append(F(Y(0))).Append("Z\"/>");
        TimeAxis(sb, pts, h, padL, padR);
        sb.Append("</svg>");
    }

    private static void Grid(StringBuilder sb, double lo, double hi, int h, int padL, int padR, int padT, int padB, Func<double, string> label)
    {
        for (int k = 0; k <= 4; k++)
        {
            double v = lo + ((hi - lo) * k / 4);
            double y = padT + ((h - padT - padB) * (hi - v) / (hi - lo));
            sb.Append("<line class=\"grid\" x1=\"").Append(padL).Append("\" x2=\"").Append(Width - padR).Append("\" y1=\"").Append(F(y)).Append("\" y2=\"").Append(F(y)).Append("\"/>");
            sb.Append("<text class=\"ax\" x=\"").Append(padL - 6).Append("\" y=\"").Append(F(y + 4)).Append("\" text-anchor=\"end\">").Append(E(label(v))).Append("</text>");
        }
    }

    private static void TimeAxis(StringBuilder sb, EquityCurve.Point[] pts, int h, int padL, int padR)
    {
        int ticks = Math.Min(5, pts.Length);
        for (int k = 0; k < ticks; k++)
        {
            int i = ticks == 1 ? 0 : (int)Math.Round((double)k * (pts.Length - 1) / (ticks - 1));
            double x = padL + ((Width - padL - padR) * (pts.Length == 1 ? 0.5 : (double)i / (pts.Length - 1)));
            string anchor = k == 0 ? "start" : k == ticks - 1 ? "end" : "middle";
            sb.Append("<text class=\"ax\" x=\"").Append(F(x)).Append("\" y=\"").Append(h - 8).Append("\" text-anchor=\"").Append(anchor).Append("\">")
                .Append(pts[i].Time.ToString()[..10]).Append("</text>");
        }
    }

    private static void Card(StringBuilder sb, string label, string value, string? cls) =>
        sb.Append("<div class=\"card\"><div class=\"label\">").Append(E(label)).Append("</div><div class=\"value ").Append(cls ?? string.Empty).Append("\">").Append(E(value)).Append("</div></div>");

    private static void Row(StringBuilder sb, string name, string value) =>
        sb.Append("<tr><th>").Append(E(name)).Append("</th><td>").Append(E(value)).Append("</td></tr>");

    private static string E(string s) => WebUtility.HtmlEncode(s);

    private static string F(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);

    private static string Fmt(Money m) => m.ToFixed(2);

    private static string Fmt(Money? m) => m is Money v ? v.ToFixed(2) : "–";

    private static string Pct(double? v) => v is double d && double.IsFinite(d) ? (d * 100).ToString("0.00", CultureInfo.InvariantCulture) + "%" : "–";

    private static string Num(double? v) => v is double d && double.IsFinite(d) ? d.ToString("0.000", CultureInfo.InvariantCulture) : "–";

    private const string Css = """
        :root{--fg:#1b1f24;--muted:#5b6470;--line:#1f6feb;--band:rgba(31,111,235,.12);--dd:rgba(207,34,46,.35);--grid:#e4e7eb;--pos:#1a7f37;--neg:#cf222e;--card:#f6f8fa}
        @media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#8d96a0;--line:#4493f8;--band:rgba(68,147,248,.15);--grid:#30363d;--card:#161b22;--pos:#3fb950;--neg:#f85149}body{background:#0d1117}}
        body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:var(--fg);max-width:1000px;margin:24px auto;padding:0 16px}
        h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}.sub{color:var(--muted);margin:0}
        .cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:8px;margin-top:16px}
        .card{background:var(--card);border-radius:8px;padding:10px 12px}.label{color:var(--muted);font-size:12px}.value{font-size:18px;font-weight:600}
        .pos{color:var(--pos)}.neg{color:var(--neg)}
        svg{width:100%;height:auto;display:block}.line{fill:none;stroke:var(--line);stroke-width:1.5}.band{fill:var(--band)}.dd{fill:var(--dd)}
        .grid{stroke:var(--grid);stroke-width:1}.ax{fill:var(--muted);font-size:11px}
        .two{display:grid;grid-template-columns:1fr 1fr;gap:24px}@media (max-width:720px){.two{grid-template-columns:1fr}}
        table{border-collapse:collapse;width:100%}.kv th{text-align:left;color:var(--muted);font-weight:500;padding:3px 8px 3px 0}.kv td{text-align:right;padding:3px 0}
        .grid th,.grid td{padding:4px 6px;border-bottom:1px solid var(--grid);text-align:right;white-space:nowrap}.grid th{color:var(--muted);font-weight:500}
        table.grid{font-size:12px;display:block;overflow-x:auto}
        footer{color:var(--muted);font-size:12px;margin:32px 0}
        """;
}
