using Keel.Engine.Persistence;
using Keel.Engine.Ports;
using Keel.Engine.Risk;
using Keel.Runtime;
using Keel.Storage;
using Microsoft.AspNetCore.Http;

namespace Keel.Server;

/// <summary>
/// <c>/health</c>: the store (reachable: 200; not: 503, status <c>down</c>), and each run this server is running with its
/// venue (risk mode, circuit breaker) and its feed (a live feed's state; <c>historical</c> for a file). A run whose feed
/// is not subscribed, whose circuit breaker is open or whose risk gate halted makes the server <c>degraded</c>: still 200,
/// with the details, so a load balancer keeps it while a person looks.
/// </summary>
internal static class Health
{
    /// <summary>How long a run's kernel may take to answer (a busy backtest answers between batches).</summary>
    private static readonly TimeSpan KernelPatience = TimeSpan.FromSeconds(1);

    public static async Task<IResult> CheckAsync(ServerRuns runs, CancellationToken ct)
    {
        string? problem = null;
        string backend = "unknown";
        try
        {
            using var store = runs.OpenStore();
            backend = store.Backend;
            store.CountRuns();
        }
        catch (StorageException ex)
        {
            problem = ex.IsTransient ? "the store did not answer in time" : "the store cannot be read";
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException or System.Data.Common.DbException)
        {
            problem = "the store cannot be opened";
        }

        var views = new List<RunHealthView>();
        foreach (var run in runs.Active.OrderBy(r => r.Id, StringComparer.Ordinal))
        {
            RiskMode? mode = null;
            bool? breaker = null;
            try
            {
                using var patience = CancellationTokenSource.CreateLinkedTokenSource(ct);
                patience.CancelAfter(KernelPatience);
                (mode, breaker) = await run.Handle.QueryAsync(k => ((RiskMode?)(k.RiskState.Mode == 0 ? RiskMode.Active : k.RiskState.Mode), (bool?)k.CircuitBreaker.IsOpen), patience.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                // The kernel did not answer in time: its venue state is unknown.
            }
            catch (InvalidOperationException)
            {
                continue; // It ended meanwhile.
            }

            views.Add(Describe(run.Id, run.Handle.Spec, run.Handle.Status, run.Handle.FeedHealth, mode, breaker));
        }

        string status = problem is not null ? "down" : views.Any(v => v.Degraded) ? "degraded" : "ok";
        var view = new HealthView(status, backend, problem, views.Count, typeof(KeelServer).Assembly.GetName().Version?.ToString() ?? "0", views);
        return TypedResults.Json(view, ServerJson.Default.HealthView, statusCode: problem is null ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
    }

    /// <summary>One run's venue and feed, and whether they make the server degraded.</summary>
    internal static RunHealthView Describe(string id, RunSpec spec, RunStatus status, FeedHealthSnapshot? feed, RiskMode? mode, bool? breaker)
    {
        bool live = spec.DataFiles.Any(d => d.StartsWith("live:", StringComparison.Ordinal));
        string feedState = feed is { } f ? Name(f.State) : live ? "starting" : "historical";
        string venueState = mode is null ? "unknown" : breaker == true ? "circuit_open" : mode == RiskMode.Halted ? "halted" : mode == RiskMode.Reducing ? "reducing" : "ok";
        var reasons = new List<string>();
        if (feed is { State: not FeedState.Subscribed } bad)
        {
            reasons.Add($"feed {bad.Venue} is {Name(bad.State)}{(bad.LastError is { } e ? $" ({e})" : string.Empty)}");
        }

        if (breaker == true)
        {
            reasons.Add("the circuit breaker is open: no new orders");
        }

        if (mode == RiskMode.Halted)
        {
            reasons.Add("the risk gate halted trading");
        }

        return new RunHealthView(id, spec.Kind, RunsApi.StatusName(status), spec.Venue ?? "simulated", venueState, mode?.ToString().ToLowerInvariant(), breaker,
            feed?.Venue ?? (live ? spec.Venue : null), feedState, feed?.LastMessageAt?.ToString(), feed?.Reconnects, reasons.Count > 0, reasons.Count > 0 ? string.Join("; ", reasons) : null);
    }

    private static string Name(FeedState state) => state switch
    {
        FeedState.CircuitOpen => "circuit_open",
        _ => state.ToString().ToLowerInvariant(),
    };
}
