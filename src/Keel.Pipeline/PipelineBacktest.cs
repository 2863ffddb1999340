using System.Globalization;
using System.Text;
using System.Text.Json;
using Keel.Data;
using Keel.Domain;
using Keel.Domain.Events;
using Keel.Engine.Clock;
using Keel.Engine.Ports;
using Keel.Engine.Simulation;
using Keel.Storage;
using Keel.Storage.Pipeline;
using Microsoft.Extensions.Logging;

namespace Keel.Pipeline;

/// <summary>What a pipeline backtest was asked to do.</summary>
/// <param name="Data">Bar files, each <c>FILE</c> (the symbol is the file name's stem, upper-cased, up to the first '-', '_' or '.') or <c>SYMBOL=FILE</c>.</param>
public sealed record PipelineBacktestSpec(string DecisionsFile, IReadOnlyList<string> Data, string OutDir, decimal Cash = 100_000m);

/// <summary>What a pipeline backtest produced.</summary>
public sealed record PipelineBacktestResult(int Decisions, int Trades, int Closed, int Cancelled, int Open, decimal RealizedPnl, decimal UnrealizedPnl, int Valuations, string Database);

/// <summary>
/// The decision pipeline over historical bars (seed 004, issue 13): the same three stages on the same NYSE schedule,
/// over simulated days, against the simulated exchange. Every decision in the file counts as approved (the question is
/// what the decisions would have done); one with a <c>date</c> is placed at that day's 09:45, one without at the first
/// day's. A bar is known once it has ended (its time plus the file's bar spacing): at each firing the exchange matches
/// working orders along every bar that ended by then, and the position monitor prices from the last close (bid = ask =
/// close). Writes trade_journal.csv, order_executions.csv, positions.csv (every valuation) with the seed's column
/// names, metrics.json, report.html (<see cref="PipelineReport"/>), and pipeline.db (the store the stages used; <c>keel decisions show ID --db DIR/pipeline.db</c>).
/// </summary>
public static class PipelineBacktest
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static async Task<PipelineBacktestResult> RunAsync(PipelineBacktestSpec spec, ILogger? logger = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var series = spec.Data.Select(Load).ToList();
        var symbols = series.Select(s => s.Symbol).ToHashSet(StringComparer.Ordinal);
        var dated = DecisionFile.ReadDated(spec.DecisionsFile, symbols, _ => false);
        var bars = series.SelectMany(s => s.Bars.Select(b => (Available: b.Time.AddNanos(s.SpanNanos), Bar: b))).OrderBy(b => b.Available).ThenBy(b => b.Bar.Instrument.Symbol, StringComparer.Ordinal).ToList();
        if (bars.Count == 0)
        {
            throw new DecisionFormatException("the data files have no bars");
        }

        var first = DateOnly.FromDateTime(NyseCalendar.ToEastern(bars[0].Bar.Time));
        var last = DateOnly.FromDateTime(NyseCalendar.ToEastern(bars[^1].Available));
        if (first.Year < NyseCalendar.FirstYear || last.Year > NyseCalendar.LastYear)
        {
            throw new DecisionFormatException($"the bars run from {first:yyyy-MM-dd} to {last:yyyy-MM-dd}; the pipeline's NYSE calendar covers {NyseCalendar.FirstYear}–{NyseCalendar.LastYear}");
        }

        Directory.CreateDirectory(spec.OutDir);
        string dbPath = Path.Combine(spec.OutDir, "pipeline.db");
        foreach (var f in new[] { dbPath, dbPath + "-wal", dbPath + "-shm" })
        {
            File.Delete(f);
        }

        using var store = KeelStore.Open(dbPath);
        var p = store.Pipeline;
        var clock = new SimulatedClock();
        var quotes = new SettableQuotes();
        var sim = new SimulatedVenue(symbols.Select(s => Instrument.Equity(s)), Money.From(spec.Cash));
        await sim.ConnectAsync(new IgnoreEvents(), ct).ConfigureAwait(false);
        var executor = new DecisionExecutor(p, sim, clock, logger: logger);
        var orders = new OrderMonitor(p, sim, clock, logger: logger);
        var positions = new PositionMonitor(p, sim, quotes, clock, logger);
        var driver = new PipelineDriver(executor, orders, positions, clock);

        // Decisions enter the store on their day (before its first firing), approved.
        var pending = new Queue<DatedDecision>(dated.OrderBy(d => d.Date ?? DateOnly.MinValue).ThenBy(d => d.Line));
        int fed = 0;
        var valuations = new List<PositionValuation>();
        Task Advance(Timestamp until, CancellationToken token)
        {
            var today = DateOnly.FromDateTime(NyseCalendar.ToEastern(until));
            var due = new List<NewDecision>();
            while (pending.Count > 0 && (pending.Peek().Date ?? DateOnly.MinValue) <= today)
            {
                due.Add(pending.Dequeue().Decision with { Approved = true });
            }

            if (due.Count > 0)
            {
                p.AddDecisions(due, until);
            }

            while (fed < bars.Count && bars[fed].Available <= until)
            {
                var (available, bar) = bars[fed++];
                sim.OnBar(in bar);
                decimal close = bar.Close.ToDecimal();
                quotes.Set(bar.Instrument.Symbol, new PipelineQuote(close, close, available));
            }

            return Task.CompletedTask;
        }

        await driver.RunAsync(first, last, Advance, (f, _) =>
        {
            if (f.Stage == PipelineStage.PositionMonitor)
            {
                valuations.AddRange(positions.LastValuations);
            }
        }, ct).ConfigureAwait(false);

        var trades = p.Trades();
        var allOrders = p.Orders();
        WriteTrades(Path.Combine(spec.OutDir, "trade_journal.csv"), trades);
        WriteOrders(Path.Combine(spec.OutDir, "order_executions.csv"), allOrders);
        WritePositions(Path.Combine(spec.OutDir, "positions.csv"), valuations);
        var open = p.Positions();
        var result = new PipelineBacktestResult(
            dated.Count,
            trades.Count,
            trades.Count(t => t.Status == TradeStatus.Closed),
            trades.Count(t => t.Status == TradeStatus.Cancelled),
            open.Count,
            trades.Sum(t => t.ActualPnl ?? 0m),
            open.Sum(o => o.UnrealizedPnl),
            valuations.Count,
            dbPath);
        WriteMetrics(Path.Combine(spec.OutDir, "metrics.json"), spec, result, trades, first, last);
        PipelineReport.Write(Path.Combine(spec.OutDir, "report.html"), spec, result, first, last, trades, allOrders, valuations);
        return result;
    }

    private sealed record Series(string Symbol, List<Bar> Bars, long SpanNanos);

    private static Series Load(string item)
    {
        int eq = item.IndexOf('=', StringComparison.Ordinal);
        string path = eq > 0 ? item[(eq + 1)..] : item;
        string symbol = eq > 0 ? item[..eq].Trim().ToUpperInvariant() : Path.GetFileNameWithoutExtension(path).Split('-', '_', '.')[0].ToUpperInvariant();
        if (!File.Exists(path))
        {
            throw new DecisionFormatException($"data file {path} does not exist");
        }

        var bars = new List<Bar>();
        using (var reader = CsvBarReader.Open(path, new InstrumentId(symbol)))
        {
            while (reader.TryRead(out var bar))
            {
                bars.Add(bar);
            }
        }

        long span = long.MaxValue;
        for (int i = 1; i < bars.Count; i++)
        {
            long gap = bars[i].Time.UnixNanos - bars[i - 1].Time.UnixNanos;
            if (gap > 0 && gap < span)
            {
                span = gap;
            }
        }

        return new Series(symbol, bars, span == long.MaxValue ? 60 * Timestamp.NanosPerSecond : span);
    }

    private static string D(decimal? v) => v is decimal d ? PipelineText.Decimal(d) : string.Empty;

    private static string M(decimal? v) => v is decimal d ? PipelineText.Money(d) : string.Empty;

    private static string T(Timestamp? t) => t?.ToString() ?? string.Empty;

    private static void WriteCsv(string path, string header, IEnumerable<string> rows)
    {
        var text = new StringBuilder(header).Append('\n');
        foreach (var row in rows)
        {
            text.Append(row).Append('\n');
        }

        File.WriteAllText(path, text.ToString());
    }

    private static void WriteTrades(string path, IReadOnlyList<TradeJournalEntry> trades) => WriteCsv(
        path,
        "trade_id,decision_id,symbol,side,trade_style,status,planned_entry,planned_sl,planned_tp,quantity,actual_entry,actual_qty,exit_price,actual_pnl,exit_reason,entry_time,exit_time",
        trades.Select(t => string.Join(',', t.Id.ToString(Inv), t.DecisionId.ToString(Inv), t.Symbol, PipelineText.Of(t.Side), PipelineText.Of(t.TradeStyle), PipelineText.Of(t.Status),
            M(t.PlannedEntry), M(t.PlannedStopLoss), M(t.PlannedTakeProfit), D(t.Quantity), M(t.ActualEntry), D(t.ActualQuantity), M(t.ExitPrice), M(t.ActualPnl),
            t.ExitReason is { } r ? PipelineText.Of(r) : string.Empty, T(t.EntryTime), T(t.ExitTime))));

    private static void WriteOrders(string path, IReadOnlyList<OrderExecution> orders) => WriteCsv(
        path,
        "order_id,trade_id,order_type,side,quantity,limit_price,stop_price,client_order_id,venue_order_id,order_status,filled_qty,filled_avg_price,filled_at,submitted_at",
        orders.Select(o => string.Join(',', o.Id.ToString(Inv), o.TradeId.ToString(Inv), PipelineText.Of(o.OrderType), o.Side, D(o.Quantity), M(o.LimitPrice), M(o.StopPrice),
            o.ClientOrderId, o.VenueOrderId ?? string.Empty, PipelineText.Of(o.Status), D(o.FilledQuantity), M(o.FilledAveragePrice), T(o.FilledAt), T(o.SubmittedAt))));

    private static void WritePositions(string path, IReadOnlyList<PositionValuation> valuations) => WriteCsv(
        path,
        "last_updated,trade_id,symbol,qty,avg_entry_price,cost_basis,current_price,market_value,unrealized_pnl",
        valuations.Select(v => string.Join(',', T(v.Position.LastUpdated), v.Position.TradeId.ToString(Inv), v.Position.Symbol, D(v.Position.Quantity), M(v.Position.AverageEntryPrice),
            M(v.Position.CostBasis), M(v.Position.CurrentPrice), M(v.Position.MarketValue), M(v.Position.UnrealizedPnl))));

    private static void WriteMetrics(string path, PipelineBacktestSpec spec, PipelineBacktestResult r, IReadOnlyList<TradeJournalEntry> trades, DateOnly first, DateOnly last)
    {
        var closed = trades.Where(t => t.Status == TradeStatus.Closed).ToList();
        int wins = closed.Count(t => t.ActualPnl > 0);
        using var stream = File.Create(path);
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteStartObject("run");
        json.WriteString("mode", "pipeline-backtest");
        json.WriteString("decisions_file", spec.DecisionsFile);
        json.WriteStartArray("data");
        foreach (var d in spec.Data)
        {
            json.WriteStringValue(d);
        }

        json.WriteEndArray();
        json.WriteString("from", first.ToString("yyyy-MM-dd", Inv));
        json.WriteString("to", last.ToString("yyyy-MM-dd", Inv));
        json.WriteString("cash", PipelineText.Decimal(spec.Cash));
        json.WriteEndObject();
        json.WriteNumber("decisions", r.Decisions);
        json.WriteNumber("trades", r.Trades);
        json.WriteNumber("closed", r.Closed);
        json.WriteNumber("cancelled", r.Cancelled);
        json.WriteNumber("open", r.Open);
        json.WriteNumber("wins", wins);
        json.WriteNumber("losses", closed.Count(t => t.ActualPnl < 0));
        if (closed.Count > 0)
        {
            json.WriteNumber("win_rate", (double)wins / closed.Count);
        }
        else
        {
            json.WriteNull("win_rate");
        }

        json.WriteString("realized_pnl", PipelineText.Money(r.RealizedPnl));
        json.WriteString("unrealized_pnl", PipelineText.Money(r.UnrealizedPnl));
        json.WriteStartObject("exit_reasons");
        foreach (var reason in new[] { ExitReason.StoppedOut, ExitReason.ProfitTaken, ExitReason.ManualExit })
        {
            json.WriteNumber(PipelineText.Of(reason), closed.Count(t => t.ExitReason == reason));
        }

        json.WriteEndObject();
        json.WriteNumber("valuations", r.Valuations);
        json.WriteEndObject();
    }

    private sealed class IgnoreEvents : IOrderEventSink
    {
        public void OnOrderEvent(OrderEvent orderEvent)
        {
        }
    }
}
