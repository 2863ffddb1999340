using System.Globalization;
using System.Text;
using Keel.Engine.Persistence;
using Keel.Engine.Risk;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Keel.Server;

/// <summary>
/// <c>/metrics</c> in the Prometheus text format (0.0.4), written by hand: a few dozen series need no library, and this
/// stays trimmable and AOT-safe. Runs by status; per running run its orders, fills, progress, journal lag (events the
/// kernel has made that the store does not hold yet), risk mode and circuit breaker; WebSocket clients; TradingView
/// alerts by outcome. Read scope.
/// </summary>
internal static class Metrics
{
    public static void Map(RouteGroupBuilder read, ServerRuns runs, ServerStats stats) =>
        read.MapGet("/metrics", (CancellationToken ct) => WriteAsync(runs, stats, ct))
            .WithName("Metrics").WithSummary("Prometheus metrics (text format 0.0.4); needs a read token (bearer_token in the scrape config).");

    private static async Task<IResult> WriteAsync(ServerRuns runs, ServerStats stats, CancellationToken ct)
    {
        var text = new StringBuilder(4096);
        var running = runs.Active.ToList();
        using (var store = runs.OpenStore())
        {
            Header(text, "keel_runs", "gauge", "Recorded runs in the store, by status.");
            foreach (var status in Enum.GetValues<RunStatus>())
            {
                Line(text, "keel_runs", store.CountRuns(new Keel.Storage.RunFilter(status)), ("status", RunsApi.StatusName(status)));
            }

            Header(text, "keel_server_runs_active", "gauge", "Runs this server is running.");
            Line(text, "keel_server_runs_active", running.Count);

            var rows = new List<(ActiveRun Run, Keel.Storage.RunCounts Counts, long Stored, RiskMode Mode, bool Breaker, long Errors)>();
            foreach (var run in running)
            {
                var record = store.FindRun(run.Id);
                try
                {
                    var (mode, open, errors) = await run.Handle.QueryAsync(k => (k.RiskState.Mode, k.CircuitBreaker.IsOpen, k.ErrorCount), ct).ConfigureAwait(false);
                    rows.Add((run, store.Counts(run.Id), record?.LastSequence ?? 0, mode == 0 ? RiskMode.Active : mode, open, errors));
                }
                catch (InvalidOperationException)
                {
                    // It ended between the listing and the query.
                }
            }

            Header(text, "keel_run_orders_total", "counter", "Orders a running run has journaled.");
            foreach (var r in rows)
            {
                Line(text, "keel_run_orders_total", r.Counts.Orders, Labels(r.Run));
            }

            Header(text, "keel_run_fills_total", "counter", "Fills a running run has journaled.");
            foreach (var r in rows)
            {
                Line(text, "keel_run_fills_total", r.Counts.Fills, Labels(r.Run));
            }

            Header(text, "keel_run_progress_percent", "gauge", "How far through its data a running run is (0 for a live feed).");
            foreach (var r in rows)
            {
                Line(text, "keel_run_progress_percent", r.Run.Handle.Progress, Labels(r.Run));
            }

            Header(text, "keel_run_journal_lag_events", "gauge", "Events the kernel has made that the store does not hold yet.");
            foreach (var r in rows)
            {
                Line(text, "keel_run_journal_lag_events", Math.Max(0, r.Run.Handle.LastSequence - r.Stored), Labels(r.Run));
            }

            Header(text, "keel_run_risk_mode", "gauge", "The risk gate's mode: 1 for the mode it is in (active, reducing, halted).");
            foreach (var r in rows)
            {
                foreach (var mode in Enum.GetValues<RiskMode>())
                {
                    Line(text, "keel_run_risk_mode", mode == r.Mode ? 1 : 0, [.. Labels(r.Run), ("mode", mode.ToString().ToLowerInvariant())]);
                }
            }

            Header(text, "keel_run_circuit_breaker_open", "gauge", "1 when the run's circuit breaker is open (no new orders).");
            foreach (var r in rows)
            {
                Line(text, "keel_run_circuit_breaker_open", r.Breaker ? 1 : 0, Labels(r.Run));
            }

            Header(text, "keel_run_errors_total", "counter", "Errors the run's kernel has recorded.");
            foreach (var r in rows)
            {
                Line(text, "keel_run_errors_total", r.Errors, Labels(r.Run));
            }
        }

        Header(text, "keel_websocket_clients", "gauge", "WebSocket clients connected.");
        Line(text, "keel_websocket_clients", stats.Clients);
        Header(text, "keel_websocket_clients_dropped_total", "counter", "WebSocket clients disconnected for falling too far behind.");
        Line(text, "keel_websocket_clients_dropped_total", stats.Dropped);
        Header(text, "keel_tradingview_alerts_total", "counter", "TradingView alerts by outcome.");
        Line(text, "keel_tradingview_alerts_total", stats.AlertsAccepted, ("outcome", "accepted"));
        Line(text, "keel_tradingview_alerts_total", stats.AlertsDuplicate, ("outcome", "duplicate"));
        Line(text, "keel_tradingview_alerts_total", stats.AlertsRefused, ("outcome", "refused"));
        return TypedResults.Text(text.ToString(), "text/plain; version=0.0.4; charset=utf-8");
    }

    private static (string, string)[] Labels(ActiveRun run) =>
        [("run", run.Id), ("strategy", run.Handle.Spec.Strategy), ("mode", run.Handle.Spec.Kind), ("venue", run.Handle.Spec.Venue ?? "simulated")];

    private static void Header(StringBuilder text, string name, string type, string help) =>
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n').Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    private static void Line(StringBuilder text, string name, double value, params (string Name, string Value)[] labels)
    {
        text.Append(name);
        if (labels.Length > 0)
        {
            text.Append('{');
            for (int i = 0; i < labels.Length; i++)
            {
                if (i > 0)
                {
                    text.Append(',');
                }

                text.Append(labels[i].Name).Append("=\"").Append(Escape(labels[i].Value)).Append('"');
            }

            text.Append('}');
        }

        text.Append(' ').Append(value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
    }

    private static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
