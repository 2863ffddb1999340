namespace Keel.Server;

/// <summary>
/// Counters of the server itself for <c>/metrics</c>: WebSocket clients, TradingView alerts by outcome, and latency
/// histograms (HTTP requests by route group, TradingView webhook accept).
/// </summary>
internal sealed class ServerStats
{
    private long _clients;
    private long _dropped;
    private long _alertsAccepted;
    private long _alertsDuplicate;
    private long _alertsRefused;

    /// <summary>Handling time of <c>/api</c> requests (WebSocket streams excluded).</summary>
    public LatencyHistogram ApiRequests { get; } = new();

    /// <summary>Handling time of <c>/webhooks</c> requests, whatever their answer.</summary>
    public LatencyHistogram WebhookRequests { get; } = new();

    /// <summary>From a TradingView alert's arrival at its handler to its 202 (accepted and queued).</summary>
    public LatencyHistogram WebhookAccept { get; } = new();

    public long Clients => Interlocked.Read(ref _clients);

    public long Dropped => Interlocked.Read(ref _dropped);

    public long AlertsAccepted => Interlocked.Read(ref _alertsAccepted);

    public long AlertsDuplicate => Interlocked.Read(ref _alertsDuplicate);

    public long AlertsRefused => Interlocked.Read(ref _alertsRefused);

    public void ClientConnected() => Interlocked.Increment(ref _clients);

    public void ClientDisconnected() => Interlocked.Decrement(ref _clients);

    public void ClientDropped() => Interlocked.Increment(ref _dropped);

    public void AlertAccepted() => Interlocked.Increment(ref _alertsAccepted);

    public void AlertDuplicate() => Interlocked.Increment(ref _alertsDuplicate);

    public void AlertRefused() => Interlocked.Increment(ref _alertsRefused);
}
