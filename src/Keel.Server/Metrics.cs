using System.Globalization;
using System.Text;
using Keel.Engine.Persistence;
using Keel.Engine.Ports;
using Keel.Engine.Risk;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Keel.Server;

/// <summary>
/// <c>/metrics</c> in the Prometheus text format (0.0.4), written by hand: a few dozen series need no library, and this
/// stays trimmable and AOT-safe. Read scope. The series:
/// <list type="bullet">
/// <item><c>keel_runs{status}</c>, <c>keel_server_runs_active</c>: recorded runs by status; runs this server is running.</item>
/// <item>Per running run, labelled <c>run</c>, <c>strategy</c>, <c>mode</c> (backtest, paper, live) and <c>venue</c>:
/// <c>keel_run_orders_total</c>, <c>keel_run_fills_total</c>, <c>keel_run_progress_percent</c>,
/// <c>keel_run_journal_lag_events</c> (events the kernel has made that the store does not hold yet),
/// <c>keel_run_risk_mode{state}</c> (1 for the mode it is in), <c>keel_run_circuit_breaker_open</c>,
/// <c>keel_run_errors_total</c>.</item>
/// <item>Feed and venue health, as <c>/health</c> reports it (<see cref="Health.Describe"/>): <c>keel_run_feed_up</c>
/// (1 when a live feed is subscribed or the data is historical), <c>keel_run_feed_state{state}</c>; for a live feed also
/// <c>keel_run_feed_messages_total</c>, <c>keel_run_feed_reconnects_total</c>,
/// <c>keel_run_feed_last_message_timestamp_seconds</c>; <c>keel_run_venue_up</c> (1 when the venue takes new orders:
/// risk gate active, circuit breaker closed), <c>keel_run_venue_state{state}</c>.</item>
/// <item><c>keel_websocket_clients</c>, <c>keel_websocket_clients_dropped_total</c>;
/// <c>keel_tradingview_alerts_total{outcome}</c>.</item>
/// <item>Latency histograms (fixed buckets, 100 µs to 10 s; <c>_bucket{le}</c>, <c>_sum</c>, <c>_count</c>):
/// <c>keel_http_request_duration_seconds{group}</c> (group <c>api</c>, WebSocket streams excluded, or
/// <c>webhooks</c>), <c>keel_tradingview_accept_duration_seconds{hook="all"}</c> (an alert's arrival at its handler
/// to its 202).</item>
/// </list>
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

            var rows = new List<(ActiveRun Run, Keel.Storage.RunCounts Counts, long Stored, RiskMode Mode, bool Breaker, long Errors, RunHealthView Health, FeedHealthSnapshot? Feed)>();
            foreach (var run in running)
            {
                var record = store.FindRun(run.Id);
                try
                {
                    var (mode, open, errors) = await run.Handle.QueryAsync(k => (k.RiskState.Mode, k.CircuitBreaker.IsOpen, k.ErrorCount), ct).ConfigureAwait(false);
                    var riskMode = mode == 0 ? RiskMode.Active : mode;
                    var feed = run.Handle.FeedHealth;
                    rows.Add((run, store.Counts(run.Id), record?.LastSequence ?? 0, riskMode, open, errors,
                        Health.Describe(run.Id, run.Handle.Spec, run.Handle.Status, feed, riskMode, open), feed));
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
                    Line(text, "keel_run_risk_mode", mode == r.Mode ? 1 : 0, [.. Labels(r.Run), ("state", mode.ToString().ToLowerInvariant())]);
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

            WriteHealth(text, [.. rows.Select(r => (Labels(r.Run), r.Health, r.Feed))]);
        }

        Header(text, "keel_websocket_clients", "gauge", "WebSocket clients connected.");
        Line(text, "keel_websocket_clients", stats.Clients);
        Header(text, "keel_websocket_clients_dropped_total", "counter", "WebSocket clients disconnected for falling too far behind.");
        Line(text, "keel_websocket_clients_dropped_total", stats.Dropped);
        Header(text, "keel_tradingview_alerts_total", "counter", "TradingView alerts by outcome.");
        Line(text, "keel_tradingview_alerts_total", stats.AlertsAccepted, ("outcome", "accepted"));
        Line(text, "keel_tradingview_alerts_total", stats.AlertsDuplicate, ("outcome", "duplicate"));
        Line(text, "keel_tradingview_alerts_total", stats.AlertsRefused, ("outcome", "refused"));
        Header(text, "keel_http_request_duration_seconds", "histogram", "Time to handle an HTTP request, by route group (api without WebSocket streams; webhooks).");
        stats.ApiRequests.Write(text, "keel_http_request_duration_seconds", "group", "api");
        stats.WebhookRequests.Write(text, "keel_http_request_duration_seconds", "group", "webhooks");
        Header(text, "keel_tradingview_accept_duration_seconds", "histogram", "From a TradingView alert's arrival at its handler to its 202 (accepted and queued).");
        stats.WebhookAccept.Write(text, "keel_tradingview_accept_duration_seconds", "hook", "all");
        return TypedResults.Text(text.ToString(), "text/plain; version=0.0.4; charset=utf-8");
    }

    /// <summary>Feed states as <c>/health</c> names them, for <c>keel_run_feed_state</c>.</summary>
    private static readonly string[] FeedStates = ["historical", "starting", "disconnected", "connecting", "authenticating", "subscribed", "reconnecting", "stale", "circuit_open"];

    /// <summary>Venue states as <c>/health</c> names them, for <c>keel_run_venue_state</c>.</summary>
    private static readonly string[] VenueStates = ["ok", "reducing", "halted", "circuit_open", "unknown"];

    /// <summary>The feed and venue series of the running runs, from what <c>/health</c> reports of each.</summary>
    internal static void WriteHealth(StringBuilder text, IReadOnlyList<((string, string)[] Labels, RunHealthView Health, FeedHealthSnapshot? Feed)> rows)
    {
        Header(text, "keel_run_feed_up", "gauge", "1 when the run's data is flowing: a live feed subscribed, or historical data; 0 otherwise.");
        foreach (var r in rows)
        {
            Line(text, "keel_run_feed_up", r.Health.FeedState is "subscribed" or "historical" ? 1 : 0, r.Labels);
        }

        Header(text, "keel_run_feed_state", "gauge", "The run's feed state: 1 for the state it is in (historical for a file).");
        foreach (var r in rows)
        {
            foreach (var state in FeedStates)
            {
                Line(text, "keel_run_feed_state", state == r.Health.FeedState ? 1 : 0, [.. r.Labels, ("state", state)]);
            }
        }

        Header(text, "keel_run_feed_messages_total", "counter", "Messages a run's live feed has received.");
        foreach (var r in rows)
        {
            if (r.Feed is { } f)
            {
                Line(text, "keel_run_feed_messages_total", f.Messages, r.Labels);
            }
        }

        Header(text, "keel_run_feed_reconnects_total", "counter", "Times a run's live feed has reconnected.");
        foreach (var r in rows)
        {
            if (r.Feed is { } f)
            {
                Line(text, "keel_run_feed_reconnects_total", f.Reconnects, r.Labels);
            }
        }

        Header(text, "keel_run_feed_last_message_timestamp_seconds", "gauge", "Unix time of the last message a run's live feed received.");
        foreach (var r in rows)
        {
            if (r.Feed is { LastMessageAt: { } at })
            {
                Line(text, "keel_run_feed_last_message_timestamp_seconds", at.UnixNanos / 1e9, r.Labels);
            }
        }

        Header(text, "keel_run_venue_up", "gauge", "1 when the run's venue takes new orders (risk gate active, circuit breaker closed); 0 otherwise.");
        foreach (var r in rows)
        {
            Line(text, "keel_run_venue_up", r.Health.VenueState == "ok" ? 1 : 0, r.Labels);
        }

        Header(text, "keel_run_venue_state", "gauge", "The run's venue state: 1 for the state it is in (ok, reducing, halted, circuit_open, unknown).");
        foreach (var r in rows)
        {
            foreach (var state in VenueStates)
            {
                Line(text, "keel_run_venue_state", state == r.Health.VenueState ? 1 : 0, [.. r.Labels, ("state", state)]);
            }
        }
    }

    internal static (string, string)[] Labels(ActiveRun run) =>
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
