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
    IReadOnlyList<TradeRow> Trades)
{
    /// <summary>The daily series and chart candles of the run; null draws no price chart.</summary>
    public ReportSeries? Series { get; init; }

    /// <summary>Period returns, drawdowns and the benchmark comparison; null when the run has no days.</summary>
    public PeriodAnalytics? Periods { get; init; }

    /// <summary>Indicator specs the strategy declares for its chart (<c>sma:30</c>), drawn over the candles.</summary>
    public IReadOnlyList<string> Indicators { get; init; } = [];
}

/// <summary>
/// A trade as the report shows it: one row of trades.csv, its fields as slices of the file's bytes (UTF-8, as they go
/// into the report's JSON; one array for the whole file instead of a dozen strings per row: on a run with tens of
/// thousands of trades the report otherwise spent more time collecting garbage than writing), with the times parsed once.
/// </summary>
public sealed class TradeRow
{
    public TradeRow(
        ReadOnlyMemory<byte> id, string instrument, string direction, ReadOnlyMemory<byte> entryTime, ReadOnlyMemory<byte> entryPrice,
        ReadOnlyMemory<byte> exitTime, ReadOnlyMemory<byte> exitPrice, ReadOnlyMemory<byte> quantity, ReadOnlyMemory<byte> netPnl,
        double @return, ReadOnlyMemory<byte> barsHeld, bool isOpen)
    {
        Id = id;
        Instrument = instrument;
        Direction = direction;
        EntryTime = entryTime;
        EntryPrice = entryPrice;
        ExitTime = exitTime;
        ExitPrice = exitPrice;
        Quantity = quantity;
        NetPnl = netPnl;
        Return = @return;
        BarsHeld = barsHeld;
        IsOpen = isOpen;
        Entry = Timestamp.TryParseIso(entryTime.Span, out var entry) ? entry : null;
        Exit = Timestamp.TryParseIso(exitTime.Span, out var exit) ? exit : null;
    }

    public ReadOnlyMemory<byte> Id { get; }

    public string Instrument { get; }

    /// <summary>long or short.</summary>
    public string Direction { get; }

    public ReadOnlyMemory<byte> EntryTime { get; }

    public ReadOnlyMemory<byte> EntryPrice { get; }

    public ReadOnlyMemory<byte> ExitTime { get; }

    public ReadOnlyMemory<byte> ExitPrice { get; }

    public ReadOnlyMemory<byte> Quantity { get; }

    public ReadOnlyMemory<byte> NetPnl { get; }

    public double Return { get; }

    public ReadOnlyMemory<byte> BarsHeld { get; }

    public bool IsOpen { get; }

    /// <summary><see cref="EntryTime"/> parsed; null when it is not a time.</summary>
    public Timestamp? Entry { get; }

    /// <summary><see cref="ExitTime"/> parsed; null when it is empty or not a time.</summary>
    public Timestamp? Exit { get; }

    /// <summary>Bodies (after the header) of at least this many bytes are read and parsed in two halves at once.</summary>
    internal const int SplitAt = 256 * 1024;

    /// <summary>
    /// Reads up to <paramref name="max"/> rows of a trades.csv written by <see cref="TradesCsvWriter"/>. A long file
    /// (every row wanted) is read and parsed in two halves, on this thread and another: this runs after a backtest's
    /// last bar, on its critical path, while the other core is idle.
    /// </summary>
    public static List<TradeRow> ReadCsv(string path, int max)
    {
        byte[] bytes = ReadAll(path);
        var text = bytes.AsMemory(bytes.AsSpan().StartsWith("\uFEFF"u8) ? 3 : 0);
        int pos = 0;
        if (!NextLine(text, ref pos, out var headerLine))
        {
            return [];
        }

        var columns = Encoding.UTF8.GetString(headerLine.Span).Split(',');
        var layout = new Layout(path, columns);
        var all = text.Span;
        int mid = max == int.MaxValue && all.Length - pos >= SplitAt ? all[(pos + ((all.Length - pos) / 2))..].IndexOf((byte)'\n') : -1;
        if (mid < 0)
        {
            var rows = new List<TradeRow>();
            var bad = layout.Parse(text[pos..], max, rows);
            return bad is null ? rows : throw layout.Error(bad.Value, 0);
        }

        mid += pos + ((all.Length - pos) / 2) + 1;
        var secondRows = new List<TradeRow>();
        var second = Task.Run(() => layout.Parse(text[mid..], int.MaxValue, secondRows));
        var firstRows = new List<TradeRow>();
        var firstBad = layout.Parse(text[pos..mid], int.MaxValue, firstRows);
        var secondBad = second.GetAwaiter().GetResult();
        if (firstBad is not null)
        {
            throw layout.Error(firstBad.Value, 0);
        }

        if (secondBad is not null)
        {
            throw layout.Error(secondBad.Value, firstRows.Count);
        }

        firstRows.AddRange(secondRows);
        return firstRows;
    }

    /// <summary>The whole file; a long one in two reads at once (each pays for its half's fresh pages).</summary>
    private static byte[] ReadAll(string path)
    {
        using var handle = File.OpenHandle(path);
        long length = RandomAccess.GetLength(handle);
        if (length > Array.MaxLength)
        {
            throw new InvalidDataException($"{path} is longer than 2 GB");
        }

        var bytes = GC.AllocateUninitializedArray<byte>((int)length);
        int half = bytes.Length >= SplitAt ? bytes.Length / 2 : bytes.Length;
        var second = half < bytes.Length ? Task.Run(() => ReadExactly(handle, bytes.AsMemory(half), half)) : Task.CompletedTask;
        ReadExactly(handle, bytes.AsMemory(0, half), 0);
        second.GetAwaiter().GetResult();
        return bytes;
    }

    private static void ReadExactly(Microsoft.Win32.SafeHandles.SafeFileHandle handle, Memory<byte> into, long offset)
    {
        while (into.Length > 0)
        {
            int n = RandomAccess.Read(handle, into.Span, offset);
            if (n == 0)
            {
                throw new IOException("the file got shorter while it was read");
            }

            into = into[n..];
            offset += n;
        }
    }

    /// <summary>Where trades.csv keeps each field, from its header.</summary>
    private sealed class Layout
    {
        private readonly string _path;
        private readonly int _columns;
        private readonly int _id, _inst, _dir, _et, _ep, _xt, _xp, _qty, _net, _ret, _bars, _status;

        public Layout(string path, string[] columns)
        {
            _path = path;
            _columns = columns.Length;
            int Col(string name) => Array.IndexOf(columns, name) is var i and >= 0 ? i : throw new InvalidDataException($"{path} has no {name} column");
            (_id, _inst, _dir, _et, _ep) = (Col("trade_id"), Col("instrument"), Col("direction"), Col("entry_time"), Col("entry_price"));
            (_xt, _xp, _qty, _net, _ret, _bars, _status) = (Col("exit_time"), Col("exit_price"), Col("quantity"), Col("net_pnl"), Col("return"), Col("bars_held"), Col("status"));
        }

        /// <summary>Adds the rows of <paramref name="text"/> (whole lines) to <paramref name="rows"/>; a bad line stops it and is returned (its index in <paramref name="text"/> and its field count).</summary>
        public (int Line, int Fields)? Parse(ReadOnlyMemory<byte> text, int max, List<TradeRow> rows)
        {
            var f = new ReadOnlyMemory<byte>[_columns];
            string lastInstrument = string.Empty;
            byte[] lastInstrumentUtf8 = [];
            int pos = 0;
            while (rows.Count < max && NextLine(text, ref pos, out var line))
            {
                int n = 0;
                int from = 0;
                var span = line.Span;
                while (true)
                {
                    int comma = span[from..].IndexOf((byte)',');
                    int to = comma < 0 ? span.Length : from + comma;
                    if (n == f.Length)
                    {
                        n++;
                        break;
                    }

                    f[n++] = line[from..to];
                    if (comma < 0)
                    {
                        break;
                    }

                    from = to + 1;
                }

                if (n != _columns)
                {
                    return (rows.Count, n > f.Length ? span.Count((byte)',') + 1 : n);
                }

                var instrument = f[_inst].Span;
                if (!instrument.SequenceEqual(lastInstrumentUtf8))
                {
                    lastInstrumentUtf8 = instrument.ToArray();
                    lastInstrument = Encoding.UTF8.GetString(instrument);
                }

                var direction = f[_dir].Span;
                rows.Add(new TradeRow(
                    f[_id], lastInstrument, direction.SequenceEqual("long"u8) ? "long" : direction.SequenceEqual("short"u8) ? "short" : Encoding.UTF8.GetString(direction),
                    f[_et], f[_ep], f[_xt], f[_xp], f[_qty], f[_net],
                    double.Parse(f[_ret].Span, NumberStyles.Float, CultureInfo.InvariantCulture), f[_bars], f[_status].Span.SequenceEqual("open"u8)));
            }

            return null;
        }

        /// <summary>The error for a bad line: <paramref name="before"/> rows precede the part it was found in.</summary>
        public InvalidDataException Error((int Line, int Fields) bad, int before) =>
            new($"{_path} line {before + bad.Line + 2} has {bad.Fields} fields, expected {_columns}");
    }

    /// <summary>The next line of <paramref name="text"/> from <paramref name="pos"/>, without its line break (\n or \r\n).</summary>
    private static bool NextLine(ReadOnlyMemory<byte> text, ref int pos, out ReadOnlyMemory<byte> line)
    {
        var all = text.Span;
        if (pos >= all.Length)
        {
            line = default;
            return false;
        }

        int nl = all[pos..].IndexOfAny((byte)'\r', (byte)'\n');
        int end = nl < 0 ? all.Length : pos + nl;
        line = text[pos..end];
        pos = end < all.Length && all[end] == '\r' && end + 1 < all.Length && all[end + 1] == '\n' ? end + 2 : end + 1;
        return true;
    }
}

/// <summary>
/// A self-contained HTML report: inline CSS, the charting library (lightweight-charts, inlined at build time from
/// Assets/) and the run's data as one JSON island; nothing is fetched, so it opens offline. Candlesticks with every
/// trade's entry and exit, equity against the benchmark (log scale on request), drawdown, rolling Sharpe, exposure,
/// monthly and yearly returns, the worst drawdowns, and every trade in a table that sorts, filters and pages.
/// Deterministic: the same run gives the same bytes.
/// </summary>
public static class HtmlReport
{
    /// <summary>Trading days in the rolling Sharpe window (six months).</summary>
    public const int RollingWindow = 126;

    private static readonly Lazy<byte[]> ChartLibrary = new(() =>
    {
        using var s = typeof(HtmlReport).Assembly.GetManifestResourceStream("Keel.Runtime.Reporting.lightweight-charts.js")
            ?? throw new InvalidOperationException("the report's charting library is missing from Keel.Runtime (Reporting/Assets)");
        using var copy = new MemoryStream();
        s.CopyTo(copy);
        return copy.ToArray();
    });

    public static void Write(Stream stream, ReportModel model)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(model);

        // The trades table's data (with each trade's excursions, the report's largest part on a run with many trades)
        // is written on another core while this one writes the page and the charts' data.
        var candleTimes = CandleTimes(model.Series);
        var trades = Task.Run(() => TradesJson(model, candleTimes));
        var sb = new StringBuilder(256 * 1024);
        var m = model.Metrics;
        var p = model.Periods;
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n");
        sb.Append("<title>").Append(E(model.Title)).Append("</title>\n<style>\n").Append(Css).Append("</style></head><body>\n");
        sb.Append("<header><h1>").Append(E(model.Title)).Append("</h1><p class=\"sub\">");
        sb.Append(E(string.Join(" · ", model.Run.Select(r => $"{r.Name}: {r.Value}")))).Append("</p></header>\n");

        sb.Append("<section class=\"cards\">");
        Card(sb, "Final equity", Money2(m.FinalEquity), m.NetProfit.IsNegative ? "neg" : "pos");
        Card(sb, "Total return", Pct(m.TotalReturn), Sign(m.TotalReturn));
        Card(sb, "CAGR", Pct(m.Cagr), Sign(m.Cagr));
        Card(sb, "Max drawdown", Pct(-m.MaxDrawdown), m.MaxDrawdown > 0 ? "neg" : null);
        Card(sb, "Sharpe", Num(m.Sharpe), null);
        Card(sb, "Sortino", Num(m.Sortino), null);
        if (p is not null)
        {
            Card(sb, "Benchmark return", Pct(p.BenchmarkReturn), Sign(p.BenchmarkReturn));
            Card(sb, "Alpha / beta", $"{Pct(p.Alpha)} / {Num(p.Beta)}", null);
        }

        Card(sb, "Trades", m.Trades.ToString("N0", CultureInfo.InvariantCulture), null);
        Card(sb, "Win rate", Pct(m.WinRate), null);
        Card(sb, "Profit factor", Num(m.ProfitFactor), null);
        Card(sb, "Exposure", Pct(m.Exposure), null);
        sb.Append("</section>\n");

        var series = model.Series;
        bool candles = series is not null && series.Candles.Length > 0;
        if (candles)
        {
            sb.Append("<section><h2>").Append(E(series!.Instrument.Symbol)).Append(" with every trade</h2><p class=\"sub\">")
                .Append(series.BarsPerCandle == 1 ? "One candle per bar" : $"Each candle is {series.BarsPerCandle:N0} bars")
                .Append("; ▲ entry, ▼ exit. Drag to pan, scroll to zoom.</p><div id=\"price-chart\" class=\"chart tall\"></div></section>\n");
        }

        sb.Append("<section><h2>Equity").Append(p is null ? string.Empty : " and benchmark").Append("</h2>");
        if (p is not null)
        {
            sb.Append("<p class=\"sub\">Benchmark: ").Append(E(p.Benchmark)).Append(" with the same initial cash. <label><input type=\"checkbox\" id=\"log-scale\"> log scale</label></p>");
        }

        sb.Append("<div id=\"equity-chart\" class=\"chart\"></div><h2>Drawdown</h2><div id=\"drawdown-chart\" class=\"chart short\"></div></section>\n");
        if (series is not null && series.DayCount > RollingWindow)
        {
            sb.Append("<section class=\"two\"><div><h2>Rolling Sharpe (").Append(RollingWindow).Append(" days)</h2><div id=\"sharpe-chart\" class=\"chart short\"></div></div>")
                .Append("<div><h2>Exposure (share of each day in the market)</h2><div id=\"exposure-chart\" class=\"chart short\"></div></div></section>\n");
        }

        if (p is not null && p.Monthly.Count > 0)
        {
            MonthlyTable(sb, p);
            DrawdownTable(sb, p);
        }

        sb.Append("<section class=\"two\"><div><h2>Performance</h2><table class=\"kv\">");
        Row(sb, "Initial cash", Money2(m.InitialCash));
        Row(sb, "Final equity", Money2(m.FinalEquity));
        Row(sb, "Net profit", Money2(m.NetProfit));
        Row(sb, "Total return", Pct(m.TotalReturn));
        Row(sb, "CAGR", Pct(m.Cagr));
        Row(sb, "Max drawdown", $"{Pct(m.MaxDrawdown)} ({Money2(m.MaxDrawdownValue)})");
        Row(sb, "Longest drawdown", $"{m.MaxDrawdownDurationBars:N0} bars, {m.MaxDrawdownDurationDays.ToString("#,0.#", CultureInfo.InvariantCulture)} days");
        Row(sb, "Sharpe", $"{Num(m.Sharpe)} ({m.ReturnPeriod}, ×√{m.PeriodsPerYear})");
        Row(sb, "Sortino", $"{Num(m.Sortino)} ({m.ReturnPeriod}, ×√{m.PeriodsPerYear})");
        Row(sb, "Exposure", Pct(m.Exposure));
        Row(sb, "Commission", Money2(m.TotalCommission));
        Row(sb, "Bars", m.Bars.ToString("N0", CultureInfo.InvariantCulture));
        Row(sb, "Period", $"{Human(m.Start)} → {Human(m.End)}");
        if (p is not null)
        {
            Row(sb, "Benchmark", p.Benchmark);
            Row(sb, "Benchmark return / CAGR", $"{Pct(p.BenchmarkReturn)} / {Pct(p.BenchmarkCagr)}");
            Row(sb, "Benchmark max drawdown", Pct(p.BenchmarkMaxDrawdown));
            Row(sb, "Alpha (annualised) / beta", $"{Pct(p.Alpha)} / {Num(p.Beta)}");
            Row(sb, "Correlation", Num(p.Correlation));
        }

        sb.Append("</table></div><div><h2>Trades and orders</h2><table class=\"kv\">");
        Row(sb, "Closed trades", m.Trades.ToString("N0", CultureInfo.InvariantCulture));
        Row(sb, "Open trades", m.OpenTrades.ToString("N0", CultureInfo.InvariantCulture));
        Row(sb, "Wins / losses / even", $"{m.Wins:N0} / {m.Losses:N0} / {m.Breakeven:N0}");
        Row(sb, "Win rate", Pct(m.WinRate));
        Row(sb, "Profit factor", Num(m.ProfitFactor));
        Row(sb, "Average win", Money2(m.AverageWin));
        Row(sb, "Average loss", Money2(m.AverageLoss));
        Row(sb, "Largest win / loss", $"{Money2(m.LargestWin)} / {Money2(m.LargestLoss)}");
        Row(sb, "Average trade", Money2(m.AverageTrade));
        Row(sb, "Average bars held", m.AverageBarsHeld is double held ? held.ToString("#,0.0", CultureInfo.InvariantCulture) : "–");
        Row(sb, "Orders", $"{m.Orders:N0} ({m.OrdersFilled:N0} filled, {m.OrdersCanceled:N0} cancelled, {m.OrdersRejected:N0} rejected, {m.OrdersDenied:N0} denied, {m.OrdersExpired:N0} expired)");
        Row(sb, "Fills", m.Fills.ToString("N0", CultureInfo.InvariantCulture));
        Row(sb, "Errors", m.Errors.ToString("N0", CultureInfo.InvariantCulture));
        sb.Append("</table>");
        HoldingTimes(sb, model.Trades);
        sb.Append("</div></section>\n");

        sb.Append("<section><h2>Trades</h2>");
        if (model.Trades.Count == 0)
        {
            sb.Append("<p>No trades.</p>");
        }
        else
        {
            sb.Append("<p class=\"sub\">All ").Append(model.Trades.Count.ToString("N0", CultureInfo.InvariantCulture))
                .Append(" trades. Click a column to sort; type to filter.</p><input id=\"trade-filter\" type=\"search\" placeholder=\"filter trades (side, date, instrument…)\">")
                .Append("<table class=\"grid\" id=\"trades\"><thead><tr>");
            foreach (var (key, label, numeric) in TradeColumns)
            {
                sb.Append("<th data-key=\"").Append(key).Append('"').Append(numeric ? " class=\"num\"" : string.Empty).Append('>').Append(E(label)).Append("</th>");
            }

            sb.Append("</tr></thead><tbody></tbody></table><div id=\"trade-pager\" class=\"pager\"></div>");
        }

        sb.Append("</section>\n<footer>Generated by Keel. Money is exact; percentages are rounded for display. Charts by TradingView Lightweight Charts™ (Apache-2.0).</footer>\n");
        sb.Append("<script>");
        stream.Write(Encoding.UTF8.GetBytes(sb.ToString()));

        // The library and the data (megabytes on a long run) go straight to the file, never through a string.
        stream.Write(ChartLibrary.Value);
        stream.Write("</script>\n<script type=\"application/json\" id=\"keel-data\">"u8);
        WriteData(stream, model, candleTimes, trades);
        stream.Write(Encoding.UTF8.GetBytes("</script>\n<script>" + App + "</script>\n</body></html>\n"));
    }

    private static readonly (string Key, string Label, bool Numeric)[] TradeColumns =
    [
        ("id", "#", true), ("instrument", "Instrument", false), ("side", "Side", false), ("entry", "Entry", false), ("entry_price", "Entry price", true),
        ("exit", "Exit", false), ("exit_price", "Exit price", true), ("quantity", "Qty", true), ("net_pnl", "Net P&L", true), ("return", "Return", true), ("bars", "Bars", true),
        ("mae", "MAE", true), ("mfe", "MFE", true),
    ];

    private static readonly string[] MonthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

    private static void MonthlyTable(StringBuilder sb, PeriodAnalytics p)
    {
        var monthly = p.Monthly.ToDictionary(x => x.Period, x => x.Return);
        double scale = Math.Max(1e-9, p.Monthly.Max(x => double.IsFinite(x.Return) ? Math.Abs(x.Return) : 0));
        sb.Append("<section><h2>Monthly and yearly returns</h2><table class=\"grid heat\" id=\"monthly-returns\"><thead><tr><th>Year</th>");
        foreach (var name in MonthNames)
        {
            sb.Append("<th>").Append(name).Append("</th>");
        }

        sb.Append("<th>Year</th></tr></thead><tbody>");
        foreach (var year in p.Yearly)
        {
            sb.Append("<tr><th>").Append(year.Period).Append("</th>");
            for (int month = 1; month <= 12; month++)
            {
                var key = $"{year.Period}-{month:00}";
                if (monthly.TryGetValue(key, out var r))
                {
                    sb.Append("<td data-period=\"").Append(key).Append("\" data-return=\"").Append(r.ToString("R", CultureInfo.InvariantCulture)).Append("\" style=\"background:")
                        .Append(Heat(r, scale)).Append("\">").Append(Pct(r)).Append("</td>");
                }
                else
                {
                    sb.Append("<td></td>");
                }
            }

            sb.Append("<td class=\"year\" data-period=\"").Append(year.Period).Append("\" data-return=\"").Append(year.Return.ToString("R", CultureInfo.InvariantCulture)).Append("\">")
                .Append(Pct(year.Return)).Append("</td></tr>");
        }

        sb.Append("</tbody></table></section>\n");
    }

    private static void DrawdownTable(StringBuilder sb, PeriodAnalytics p)
    {
        sb.Append("<section><h2>Worst drawdowns</h2><table class=\"grid\" id=\"drawdowns\"><thead><tr><th>#</th><th>Peak</th><th>Trough</th><th>Recovered</th><th>Depth</th><th>Days</th></tr></thead><tbody>");
        int i = 0;
        foreach (var d in p.Drawdowns)
        {
            sb.Append("<tr><td>").Append(++i).Append("</td><td>").Append(Day(d.PeakDay)).Append("</td><td>").Append(Day(d.TroughDay)).Append("</td><td>")
                .Append(d.RecoveryDay is long r ? Day(r) : "not yet").Append("</td><td class=\"neg\">").Append(Pct(-d.Depth)).Append("</td><td>")
                .Append(d.Days.ToString("N0", CultureInfo.InvariantCulture)).Append("</td></tr>");
        }

        sb.Append("</tbody></table></section>\n");
    }

    /// <summary>How long trades were held, in bars, as a small bar chart of a few ranges.</summary>
    private static void HoldingTimes(StringBuilder sb, IReadOnlyList<TradeRow> trades)
    {
        var held = trades.Where(t => !t.IsOpen).Select(t => long.TryParse(t.BarsHeld.Span, NumberStyles.Integer, CultureInfo.InvariantCulture, out var b) ? b : -1).Where(b => b >= 0).ToList();
        if (held.Count == 0)
        {
            return;
        }

        long[] edges = [1, 2, 5, 10, 20, 50, 100, 250, 1000];
        var counts = new int[edges.Length + 1];
        foreach (var b in held)
        {
            int k = 0;
            while (k < edges.Length && b >= edges[k])
            {
                k++;
            }

            counts[k]++;
        }

        int max = counts.Max();
        sb.Append("<h2>Holding time</h2><table class=\"kv bars\" id=\"holding\">");
        for (int k = 0; k < counts.Length; k++)
        {
            if (counts[k] == 0)
            {
                continue;
            }

            var label = k == 0 ? $"< {edges[0]} bar" : k == edges.Length ? $"≥ {edges[^1]:N0} bars" : $"{edges[k - 1]:N0}–{edges[k] - 1:N0} bars";
            sb.Append("<tr><th>").Append(E(label)).Append("</th><td><span class=\"bar\" style=\"width:").Append((100.0 * counts[k] / max).ToString("0.#", CultureInfo.InvariantCulture))
                .Append("%\"></span>").Append(counts[k].ToString("N0", CultureInfo.InvariantCulture)).Append("</td></tr>");
        }

        sb.Append("</table>");
    }

    private static string Heat(double r, double scale)
    {
        if (!double.IsFinite(r))
        {
            return "transparent";
        }

        double a = Math.Min(1, Math.Abs(r) / scale) * 0.55;
        return r >= 0 ? $"rgba(26,127,55,{a.ToString("0.###", CultureInfo.InvariantCulture)})" : $"rgba(207,34,46,{a.ToString("0.###", CultureInfo.InvariantCulture)})";
    }

    private static bool IsSortedByTime(List<(long Time, int Seq, bool Entry, bool Long)> markers)
    {
        for (int i = 1; i < markers.Count; i++)
        {
            if (markers[i].Time < markers[i - 1].Time)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Names and values written once per marker, encoded once.</summary>
    private static class Json
    {
        public static readonly System.Text.Json.JsonEncodedText Time = System.Text.Json.JsonEncodedText.Encode("time");
        public static readonly System.Text.Json.JsonEncodedText Open = System.Text.Json.JsonEncodedText.Encode("open");
        public static readonly System.Text.Json.JsonEncodedText High = System.Text.Json.JsonEncodedText.Encode("high");
        public static readonly System.Text.Json.JsonEncodedText Low = System.Text.Json.JsonEncodedText.Encode("low");
        public static readonly System.Text.Json.JsonEncodedText Close = System.Text.Json.JsonEncodedText.Encode("close");
        public static readonly System.Text.Json.JsonEncodedText Volume = System.Text.Json.JsonEncodedText.Encode("volume");
        public static readonly System.Text.Json.JsonEncodedText Position = System.Text.Json.JsonEncodedText.Encode("position");
        public static readonly System.Text.Json.JsonEncodedText Shape = System.Text.Json.JsonEncodedText.Encode("shape");
        public static readonly System.Text.Json.JsonEncodedText Color = System.Text.Json.JsonEncodedText.Encode("color");
        public static readonly System.Text.Json.JsonEncodedText BelowBar = System.Text.Json.JsonEncodedText.Encode("belowBar");
        public static readonly System.Text.Json.JsonEncodedText AboveBar = System.Text.Json.JsonEncodedText.Encode("aboveBar");
        public static readonly System.Text.Json.JsonEncodedText ArrowUp = System.Text.Json.JsonEncodedText.Encode("arrowUp");
        public static readonly System.Text.Json.JsonEncodedText ArrowDown = System.Text.Json.JsonEncodedText.Encode("arrowDown");
        public static readonly System.Text.Json.JsonEncodedText EntryColor = System.Text.Json.JsonEncodedText.Encode("#1f6feb");
        public static readonly System.Text.Json.JsonEncodedText ExitColor = System.Text.Json.JsonEncodedText.Encode("#8250df");
    }

    /// <summary>The chart and table data as one JSON document (times in UTC seconds, as the charting library takes them).</summary>
    private static void WriteData(Stream stream, ReportModel model, List<long> candleTimes, Task<System.Buffers.ArrayBufferWriter<byte>> trades)
    {
        using (var w = new System.Text.Json.Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            var series = model.Series;
            if (series is not null && series.Candles.Length > 0)
            {
                w.WriteStartArray("candles");
                foreach (var c in series.Candles)
                {
                    long t = Seconds(c.Time);
                    w.WriteStartObject();
                    w.WriteNumber(Json.Time, t);
                    ExactNumber.Write(w, Json.Open, c.Open.Raw);
                    ExactNumber.Write(w, Json.High, c.High.Raw);
                    ExactNumber.Write(w, Json.Low, c.Low.Raw);
                    ExactNumber.Write(w, Json.Close, c.Close.Raw);
                    ExactNumber.Write(w, Json.Volume, c.Volume.Raw);
                    w.WriteEndObject();
                    Spill(w);
                }

                w.WriteEndArray();
                WriteIndicators(w, model.Indicators, series);
                w.WriteStartArray("markers");
                var markers = new List<(long Time, int Seq, bool Entry, bool Long)>(model.Trades.Count * 2);
                foreach (var t in model.Trades.Where(t => t.Instrument == series.Instrument.Symbol))
                {
                    bool isLong = t.Direction == "long";
                    if (t.Entry is Timestamp entry && Snap(candleTimes, Seconds(entry)) is long et)
                    {
                        markers.Add((et, markers.Count, true, isLong));
                    }

                    if (!t.IsOpen && t.Exit is Timestamp exit && Snap(candleTimes, Seconds(exit)) is long xt)
                    {
                        markers.Add((xt, markers.Count, false, isLong));
                    }
                }

                // Stable by time: entries and exits on one candle keep the trades' order (the sequence breaks ties). One
                // position at a time gives them in order already.
                if (!IsSortedByTime(markers))
                {
                    markers.Sort(static (a, b) => a.Time != b.Time ? a.Time.CompareTo(b.Time) : a.Seq.CompareTo(b.Seq));
                }
                foreach (var mk in markers)
                {
                    bool up = mk.Entry == mk.Long;
                    w.WriteStartObject();
                    w.WriteNumber(Json.Time, mk.Time);
                    w.WriteString(Json.Position, up ? Json.BelowBar : Json.AboveBar);
                    w.WriteString(Json.Shape, up ? Json.ArrowUp : Json.ArrowDown);
                    w.WriteString(Json.Color, mk.Entry ? Json.EntryColor : Json.ExitColor);
                    w.WriteEndObject();
                    Spill(w);
                }

                w.WriteEndArray();
            }

            var days = series?.Days ?? [];
            var bench = model.Periods?.BenchmarkEquity;
            if (days.Count >= 2)
            {
                double peak = double.NegativeInfinity;
                w.WriteStartArray("equity");
                foreach (var d in days)
                {
                    w.WriteStartObject();
                    w.WriteNumber("time", d.Day * 86_400);
                    w.WriteNumber("value", d.Equity.ToDouble());
                    w.WriteEndObject();
                    Spill(w);
                }

                w.WriteEndArray();
                w.WriteStartArray("drawdown");
                foreach (var d in days)
                {
                    double v = d.Equity.ToDouble();
                    peak = Math.Max(peak, v);
                    w.WriteStartObject();
                    w.WriteNumber("time", d.Day * 86_400);
                    w.WriteNumber("value", peak > 0 ? Math.Round(-100 * (1 - (v / peak)), 4) : 0);
                    w.WriteEndObject();
                    Spill(w);
                }

                w.WriteEndArray();
                if (bench is not null)
                {
                    w.WriteStartArray("benchmark");
                    for (int i = 0; i < days.Count; i++)
                    {
                        if (double.IsFinite(bench[i]))
                        {
                            w.WriteStartObject();
                            w.WriteNumber("time", days[i].Day * 86_400);
                            w.WriteNumber("value", Math.Round(bench[i], 6));
                            w.WriteEndObject();
                            Spill(w);
                        }
                    }

                    w.WriteEndArray();
                }

                w.WriteStartArray("exposure");
                foreach (var d in days)
                {
                    w.WriteStartObject();
                    w.WriteNumber("time", d.Day * 86_400);
                    w.WriteNumber("value", Math.Round(100.0 * d.InMarket / Math.Max(1, d.Slices), 2));
                    w.WriteEndObject();
                    Spill(w);
                }

                w.WriteEndArray();
                w.WriteStartArray("rolling_sharpe");
                foreach (var (day, value) in RollingSharpe(days, RollingWindow))
                {
                    w.WriteStartObject();
                    w.WriteNumber("time", day * 86_400);
                    w.WriteNumber("value", Math.Round(value, 4));
                    w.WriteEndObject();
                    Spill(w);
                }

                w.WriteEndArray();
            }
            else
            {
                // Less than two days (a short tick run): the bucketed equity curve instead.
                w.WriteStartArray("equity");
                long lastTime = long.MinValue;
                foreach (var pt in model.Curve.Points)
                {
                    long t = Seconds(pt.Time);
                    if (t > lastTime)
                    {
                        w.WriteStartObject();
                        w.WriteNumber("time", t);
                        w.WriteNumber("value", pt.Equity);
                        w.WriteEndObject();
                        Spill(w);
                        lastTime = t;
                    }
                }

                w.WriteEndArray();
            }

            // The trades (megabytes on a long run, built on another core) go straight to the file after the writer's
            // own bytes, instead of through its buffer; they are the document's last member.
            w.WritePropertyName("trades");
            w.Flush();
            stream.Write(trades.GetAwaiter().GetResult().WrittenSpan);
            stream.WriteByte((byte)'}');
        }

    }

    /// <summary>The start times of the chart's candles in UTC seconds (empty without a price chart).</summary>
    private static List<long> CandleTimes(ReportSeries? series)
    {
        var times = new List<long>(series?.Candles.Length ?? 0);
        if (series is not null)
        {
            foreach (var c in series.Candles)
            {
                times.Add(Seconds(c.Time));
            }
        }

        return times;
    }

    /// <summary>The trades table's data: one array per trade, in the file's order.</summary>
    private static System.Buffers.ArrayBufferWriter<byte> TradesJson(ReportModel model, List<long> candleTimes)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(Math.Max(256, model.Trades.Count * 160));
        var series = model.Series is { Candles.Length: > 0 } s ? s : null;
        using (var w = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            w.WriteStartArray();
            Span<char> human = stackalloc char[64];
            Span<byte> time = stackalloc byte[64];
            foreach (var t in model.Trades)
            {
                w.WriteStartArray();
                w.WriteNumberValue(long.TryParse(t.Id.Span, NumberStyles.Integer, CultureInfo.InvariantCulture, out var id) ? id : 0);
                w.WriteStringValue(t.Instrument);
                w.WriteStringValue(t.Direction);
                w.WriteStringValue(HumanTime(t.EntryTime.Span, time));
                w.WriteStringValue(t.EntryPrice.Span);
                if (t.IsOpen && t.ExitTime.Length == 0)
                {
                    w.WriteStringValue("open"u8);
                }
                else
                {
                    w.WriteStringValue(HumanTime(t.ExitTime.Span, time));
                }

                w.WriteStringValue(t.ExitPrice.Span);
                w.WriteStringValue(t.Quantity.Span);
                var netPnl = t.NetPnl.Span;
                if (netPnl.Length <= human.Length && Encoding.UTF8.GetChars(netPnl, human) is var chars && Money.TryParse(human[..chars], out var pnl))
                {
                    if (pnl.TryFormatFixed(human, 2, out int n))
                    {
                        w.WriteStringValue(human[..n]);
                    }
                    else
                    {
                        w.WriteStringValue(pnl.ToFixed(2));
                    }
                }
                else
                {
                    w.WriteStringValue(t.NetPnl.Span);
                }

                Rounded8.Write(w, t.Return);
                w.WriteStringValue(t.BarsHeld.Span);
                var (mae, mfe) = series is not null && t.Instrument == series.Instrument.Symbol ? Excursions(t, series.Candles, candleTimes) : (null, null);
                if (mae is double a && mfe is double f)
                {
                    Rounded8.Write(w, a);
                    Rounded8.Write(w, f);
                }
                else
                {
                    w.WriteNullValue();
                    w.WriteNullValue();
                }

                w.WriteEndArray();
            }

            w.WriteEndArray();
        }

        return buffer;
    }

    /// <summary>Hands what the JSON writer holds to the file once it is 64 KB, so the data never sits in memory whole.</summary>
    private static void Spill(System.Text.Json.Utf8JsonWriter w)
    {
        if (w.BytesPending > 1 << 16)
        {
            w.Flush();
        }
    }

    /// <summary>
    /// The strategy's chart indicators over the candles, one line each (every line of a multi-line indicator). Only when
    /// each candle is one bar: over merged candles the values would not be the strategy's.
    /// </summary>
    private static void WriteIndicators(System.Text.Json.Utf8JsonWriter w, IReadOnlyList<string> specs, ReportSeries series)
    {
        if (specs.Count == 0 || series.BarsPerCandle != 1)
        {
            return;
        }

        w.WriteStartArray("indicators");
        foreach (var text in specs)
        {
            var spec = Keel.Indicators.IndicatorSpec.Parse(text);
            var indicator = spec.Create();
            var columns = spec.Columns;
            var lines = new List<(long Time, double Value)>[indicator.LineCount];
            for (int l = 0; l < lines.Length; l++)
            {
                lines[l] = [];
            }

            foreach (var c in series.Candles)
            {
                indicator.Update(new Bar(series.Instrument, c.Time, c.Open, c.High, c.Low, c.Close, c.Volume));
                for (int l = 0; l < lines.Length; l++)
                {
                    double v = indicator.Value(l);
                    if (double.IsFinite(v))
                    {
                        lines[l].Add((Seconds(c.Time), v));
                    }
                }
            }

            for (int l = 0; l < lines.Length; l++)
            {
                w.WriteStartObject();
                w.WriteString("name", columns[l]);
                w.WriteStartArray("data");
                foreach (var (time, value) in lines[l])
                {
                    w.WriteStartObject();
                    w.WriteNumber("time", time);
                    w.WriteNumber("value", Math.Round(value, 6));
                    w.WriteEndObject();
                    Spill(w);
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }
        }

        w.WriteEndArray();
    }

    /// <summary>
    /// A trade's maximum adverse and favourable excursions, as fractions of its entry price, from the highs and lows of
    /// the chart's candles from its entry to its exit (bar resolution: the entry and exit candles count whole).
    /// </summary>
    public static (double? Mae, double? Mfe) Excursions(TradeRow trade, ReadOnlySpan<ChartCandle> candles, IReadOnlyList<long> times)
    {
        ArgumentNullException.ThrowIfNull(trade);
        ArgumentNullException.ThrowIfNull(times);
        if (trade.Entry is not Timestamp entry || !Price.TryParse(trade.EntryPrice.Span, out var price) || price.Raw <= 0 || times.Count == 0)
        {
            return (null, null);
        }

        long from = Seconds(entry);
        long to = !trade.IsOpen && trade.Exit is Timestamp exit ? Seconds(exit) : times[^1];
        int i = LastAtOrBefore(times, from);
        if (i < 0)
        {
            i = 0;
        }

        // The extremes on the prices' exact integers; only they become decimals.
        long highRaw = long.MinValue, lowRaw = long.MaxValue;
        for (; i < candles.Length && times[i] <= to; i++)
        {
            highRaw = Math.Max(highRaw, candles[i].High.Raw);
            lowRaw = Math.Min(lowRaw, candles[i].Low.Raw);
        }

        if (highRaw == long.MinValue)
        {
            return (null, null);
        }

        // (extreme − entry) / entry on the raw integers: one correctly rounded division when the difference and the
        // entry are exact as doubles (prices from 0 to about 4.5 million); decimals otherwise.
        double up, down;
        const long Exact = 1L << 52;
        if (price.Raw < Exact && highRaw is >= 0 and < Exact && lowRaw is >= 0 and < Exact)
        {
            up = (double)(highRaw - price.Raw) / price.Raw;
            down = (double)(lowRaw - price.Raw) / price.Raw;
        }
        else
        {
            decimal entryPrice = price.ToDecimal(), high = Price.FromRaw(highRaw).ToDecimal(), low = Price.FromRaw(lowRaw).ToDecimal();
            up = (double)((high - entryPrice) / entryPrice);
            down = (double)((low - entryPrice) / entryPrice);
        }

        return trade.Direction == "short" ? (-up, -down) : (down, up);
    }

    private static int LastAtOrBefore(IReadOnlyList<long> times, long t)
    {
        int lo = 0, hi = times.Count - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (times[mid] <= t)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return found;
    }

    /// <summary>Sharpe ratio of each trailing window of daily returns (sample deviation, ×√252).</summary>
    public static List<(long Day, double Value)> RollingSharpe(IReadOnlyList<DayPoint> days, int window)
    {
        ArgumentNullException.ThrowIfNull(days);
        var result = new List<(long, double)>();
        var returns = new double[Math.Max(0, days.Count - 1)];
        for (int i = 1; i < days.Count; i++)
        {
            double prev = days[i - 1].Equity.ToDouble();
            returns[i - 1] = prev > 0 ? (days[i].Equity.ToDouble() / prev) - 1 : 0;
        }

        for (int end = window; end <= returns.Length; end++)
        {
            double mean = 0;
            for (int k = end - window; k < end; k++)
            {
                mean += returns[k];
            }

            mean /= window;
            double ss = 0;
            for (int k = end - window; k < end; k++)
            {
                ss += (returns[k] - mean) * (returns[k] - mean);
            }

            double sd = Math.Sqrt(ss / (window - 1));
            if (sd > 0)
            {
                result.Add((days[end].Day, mean / sd * Math.Sqrt(PeriodAnalytics.TradingDays)));
            }
        }

        return result;
    }

    /// <summary>The time of the candle holding <paramref name="t"/> (the last one starting at or before it).</summary>
    private static long? Snap(List<long> times, long t)
    {
        int i = times.BinarySearch(t);
        if (i >= 0)
        {
            return times[i];
        }

        i = ~i - 1;
        return i >= 0 ? times[i] : null;
    }

    private static long Seconds(Timestamp t) => Math.DivRem(t.UnixNanos, 1_000_000_000L).Quotient - (t.UnixNanos < 0 && t.UnixNanos % 1_000_000_000L != 0 ? 1 : 0);

    private static string Day(long day) => PeriodAnalytics.Date(day).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string Human(Timestamp? t) => t is Timestamp v ? HumanTime(v.ToString()) : "–";

    /// <summary>As <see cref="HumanTime(string)"/>, on UTF-8 into <paramref name="buffer"/> (64 bytes) without a string.</summary>
    private static ReadOnlySpan<byte> HumanTime(ReadOnlySpan<byte> iso, Span<byte> buffer)
    {
        if (iso.Length < 19 || iso[10] != 'T')
        {
            return iso;
        }

        var time = iso[11..19];
        iso[..10].CopyTo(buffer);
        if (time.SequenceEqual("00:00:00"u8))
        {
            return buffer[..10];
        }

        buffer[10] = (byte)' ';
        int length = time.EndsWith(":00"u8) ? 5 : 8;
        time[..length].CopyTo(buffer[11..]);
        return buffer[..(11 + length)];
    }

    /// <summary>2014-01-02 for a midnight time, 2014-01-02 09:31 otherwise (seconds when they are not zero).</summary>
    private static string HumanTime(string iso)
    {
        if (iso.Length < 19 || iso[10] != 'T')
        {
            return iso;
        }

        var date = iso[..10];
        var time = iso[11..19];
        return time == "00:00:00" ? date : time.EndsWith(":00", StringComparison.Ordinal) ? $"{date} {time[..5]}" : $"{date} {time}";
    }

    private static string? Sign(double? v) => v is double d && double.IsFinite(d) && Math.Round(d * 100, 2) != 0 ? (d < 0 ? "neg" : "pos") : null;

    private static string Money2(Money m) => m.ToDecimal().ToString("#,0.00", CultureInfo.InvariantCulture);

    private static string Money2(Money? m) => m is Money v ? Money2(v) : "–";

    private static void Card(StringBuilder sb, string label, string value, string? cls) =>
        sb.Append("<div class=\"card\"><div class=\"label\">").Append(E(label)).Append("</div><div class=\"value ").Append(cls ?? string.Empty).Append("\">").Append(E(value)).Append("</div></div>");

    private static void Row(StringBuilder sb, string name, string value) =>
        sb.Append("<tr><th>").Append(E(name)).Append("</th><td>").Append(E(value)).Append("</td></tr>");

    private static string E(string s) => WebUtility.HtmlEncode(s);

    /// <summary>A percentage with two decimals and thousands separators; never "-0.00%".</summary>
    private static string Pct(double? v)
    {
        if (v is not double d || !double.IsFinite(d))
        {
            return "–";
        }

        var rounded = Math.Round(d * 100, 2, MidpointRounding.AwayFromZero);
        return (rounded == 0 ? 0 : rounded).ToString("#,0.00", CultureInfo.InvariantCulture) + "%";
    }

    private static string Num(double? v)
    {
        if (v is not double d || !double.IsFinite(d))
        {
            return "–";
        }

        var rounded = Math.Round(d, 3, MidpointRounding.AwayFromZero);
        return (rounded == 0 ? 0 : rounded).ToString("#,0.000", CultureInfo.InvariantCulture);
    }

    private const string Css = """
        :root{--fg:#1b1f24;--muted:#5b6470;--line:#1f6feb;--grid:#e4e7eb;--pos:#1a7f37;--neg:#cf222e;--card:#f6f8fa}
        @media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#8d96a0;--line:#4493f8;--grid:#30363d;--card:#161b22;--pos:#3fb950;--neg:#f85149}body{background:#0d1117}}
        body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:var(--fg);max-width:1000px;margin:24px auto;padding:0 16px}
        h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}.sub{color:var(--muted);margin:0}
        .cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:8px;margin-top:16px}
        .card{background:var(--card);border-radius:8px;padding:10px 12px}.label{color:var(--muted);font-size:12px}.value{font-size:18px;font-weight:600}
        .pos{color:var(--pos)}.neg{color:var(--neg)}
        .two{display:grid;grid-template-columns:1fr 1fr;gap:24px}@media (max-width:720px){.two{grid-template-columns:1fr}}
        table{border-collapse:collapse;width:100%}.kv th{text-align:left;color:var(--muted);font-weight:500;padding:3px 8px 3px 0}.kv td{text-align:right;padding:3px 0}
        .grid th,.grid td{padding:4px 6px;border-bottom:1px solid var(--grid);text-align:right;white-space:nowrap}.grid th{color:var(--muted);font-weight:500}
        table.grid{font-size:12px;display:block;overflow-x:auto}
        footer{color:var(--muted);font-size:12px;margin:32px 0}
        .chart{height:320px;position:relative}.chart.tall{height:440px}.chart.short{height:180px}
        .heat td{text-align:center;min-width:52px}.heat td.year{font-weight:600}
        .num{text-align:right}th[data-key]{cursor:pointer;user-select:none}th.asc::after{content:" ▲"}th.desc::after{content:" ▼"}
        #trade-filter{margin:0 0 8px;padding:4px 8px;width:260px;font:inherit}
        .pager{margin:8px 0;color:var(--muted)}.pager button{font:inherit;margin:0 4px}
        .bars td{text-align:left}.bars .bar{display:inline-block;height:10px;background:var(--line);margin-right:6px;vertical-align:middle}
        """;

    /// <summary>
    /// Draws the charts and runs the trade table. It exposes what it drew as <c>window.keelReport</c> (the series and
    /// their markers), which the browser tests read.
    /// </summary>
    private const string App = """
        (function () {
          "use strict";
          var data = JSON.parse(document.getElementById("keel-data").textContent);
          var LC = window.LightweightCharts;
          var dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
          var fg = dark ? "#e6edf3" : "#1b1f24", grid = dark ? "#30363d" : "#e4e7eb";
          var report = { ready: false };
          window.keelReport = report;
          var pct = function (v) { return (Math.abs(v) < 0.005 ? 0 : v).toFixed(2) + "%"; };
          function chart(id, extra) {
            var el = document.getElementById(id);
            if (!el) { return null; }
            var c = LC.createChart(el, Object.assign({
              autoSize: true,
              layout: { background: { color: "transparent" }, textColor: fg, attributionLogo: false },
              grid: { vertLines: { color: grid }, horzLines: { color: grid } },
              timeScale: { borderColor: grid }, rightPriceScale: { borderColor: grid },
              localization: { dateFormat: "yyyy-MM-dd" }
            }, extra || {}));
            return c;
          }
          if (data.candles) {
            var pc = chart("price-chart", { timeScale: { borderColor: grid, timeVisible: true } });
            var candles = pc.addSeries(LC.CandlestickSeries, { upColor: "#1a7f37", downColor: "#cf222e", borderVisible: false, wickUpColor: "#1a7f37", wickDownColor: "#cf222e" });
            candles.setData(data.candles.map(function (c) { return { time: c.time, open: c.open, high: c.high, low: c.low, close: c.close }; }));
            var volume = pc.addSeries(LC.HistogramSeries, { priceScaleId: "", priceFormat: { type: "volume" }, color: "rgba(91,100,112,.35)" });
            volume.priceScale().applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
            volume.setData(data.candles.map(function (c) { return { time: c.time, value: c.volume }; }));
            report.markers = LC.createSeriesMarkers(candles, data.markers);
            var palette = ["#1f6feb", "#9a6700", "#8250df", "#bf3989", "#1a7f37"];
            report.indicators = (data.indicators || []).map(function (ind, i) {
              var line = pc.addSeries(LC.LineSeries, { color: palette[i % palette.length], lineWidth: 1, title: ind.name, priceLineVisible: false, lastValueVisible: false });
              line.setData(ind.data);
              return line;
            });
            report.price = candles;
            report.volume = volume;
            pc.timeScale().fitContent();
            report.priceChart = pc;
          }
          var ec = chart("equity-chart");
          if (ec) {
            report.equity = ec.addSeries(LC.LineSeries, { color: "#1f6feb", lineWidth: 2, title: "strategy" });
            report.equity.setData(data.equity);
            if (data.benchmark) {
              report.benchmark = ec.addSeries(LC.LineSeries, { color: "#9a6700", lineWidth: 1, title: "benchmark" });
              report.benchmark.setData(data.benchmark);
            }
            ec.timeScale().fitContent();
            var log = document.getElementById("log-scale");
            if (log) {
              log.addEventListener("change", function () {
                ec.priceScale("right").applyOptions({ mode: log.checked ? LC.PriceScaleMode.Logarithmic : LC.PriceScaleMode.Normal });
              });
            }
            report.equityChart = ec;
          }
          var dc = chart("drawdown-chart");
          if (dc && data.drawdown) {
            report.drawdown = dc.addSeries(LC.AreaSeries, { lineColor: "#cf222e", topColor: "rgba(207,34,46,.1)", bottomColor: "rgba(207,34,46,.4)", invertFilledArea: true, priceFormat: { type: "custom", formatter: pct } });
            report.drawdown.setData(data.drawdown);
            dc.timeScale().fitContent();
          }
          var sc = chart("sharpe-chart");
          if (sc && data.rolling_sharpe) {
            report.rollingSharpe = sc.addSeries(LC.LineSeries, { color: "#8250df", lineWidth: 1 });
            report.rollingSharpe.setData(data.rolling_sharpe);
            sc.timeScale().fitContent();
          }
          var xc = chart("exposure-chart");
          if (xc && data.exposure) {
            report.exposure = xc.addSeries(LC.HistogramSeries, { color: "rgba(31,111,235,.5)", priceFormat: { type: "custom", formatter: pct } });
            report.exposure.setData(data.exposure);
            xc.timeScale().fitContent();
          }

          // Every trade: sort by a column (click again to reverse), filter by any text, 50 to a page.
          var table = document.getElementById("trades");
          if (table) {
            var keys = Array.prototype.map.call(table.querySelectorAll("th"), function (th) { return th.getAttribute("data-key"); });
            var numeric = Array.prototype.map.call(table.querySelectorAll("th"), function (th) { return th.classList.contains("num"); });
            var rows = data.trades, shown = rows, page = 0, size = 50, sortCol = -1, asc = true;
            var body = table.tBodies[0], pager = document.getElementById("trade-pager"), filter = document.getElementById("trade-filter");
            var cell = function (row, i) {
              var v = row[i];
              if (keys[i] === "return" || keys[i] === "mae" || keys[i] === "mfe") { return v === null ? "–" : pct(v * 100); }
              return v;
            };
            var value = function (row, i) {
              var v = row[i];
              if (v === null) { return -Infinity; }
              if (!numeric[i]) { return String(v); }
              var n = typeof v === "number" ? v : parseFloat(String(v).replace(/,/g, ""));
              return isNaN(n) ? -Infinity : n;
            };
            function render() {
              var html = [];
              var end = Math.min(shown.length, (page + 1) * size);
              for (var r = page * size; r < end; r++) {
                var row = shown[r];
                var cls = String(row[8]).charAt(0) === "-" ? "neg" : "pos";
                html.push("<tr>" + row.map(function (_, i) {
                  var text = String(cell(row, i)).replace(/&/g, "&amp;").replace(/</g, "&lt;");
                  return "<td" + (i === 8 || i === 9 ? " class=\"" + cls + "\"" : "") + ">" + text + "</td>";
                }).join("") + "</tr>");
              }
              body.innerHTML = html.join("");
              var pages = Math.max(1, Math.ceil(shown.length / size));
              pager.innerHTML = "<button id=\"trade-prev\"" + (page === 0 ? " disabled" : "") + ">‹ previous</button> " +
                "page " + (page + 1) + " of " + pages + " · " + shown.length.toLocaleString("en-US") + " trades " +
                "<button id=\"trade-next\"" + (page >= pages - 1 ? " disabled" : "") + ">next ›</button>";
              document.getElementById("trade-prev").onclick = function () { page--; render(); };
              document.getElementById("trade-next").onclick = function () { page++; render(); };
            }
            Array.prototype.forEach.call(table.querySelectorAll("th"), function (th, i) {
              th.addEventListener("click", function () {
                asc = sortCol === i ? !asc : !numeric[i] || keys[i] === "id";
                sortCol = i;
                Array.prototype.forEach.call(table.querySelectorAll("th"), function (h) { h.classList.remove("asc", "desc"); });
                th.classList.add(asc ? "asc" : "desc");
                shown = shown.slice().sort(function (a, b) {
                  var x = value(a, i), y = value(b, i);
                  var c = x < y ? -1 : x > y ? 1 : a[0] - b[0];
                  return asc ? c : -c;
                });
                page = 0;
                render();
              });
            });
            filter.addEventListener("input", function () {
              var q = filter.value.trim().toLowerCase();
              shown = q === "" ? rows : rows.filter(function (row) { return row.some(function (v) { return String(v).toLowerCase().indexOf(q) >= 0; }); });
              sortCol = -1;
              page = 0;
              render();
            });
            render();
            report.trades = rows.length;
          }
          report.ready = true;
        })();
        """;
}
