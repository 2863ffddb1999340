namespace Keel.Server;

/// <summary>Counters of the server itself for <c>/metrics</c>: WebSocket clients, and TradingView alerts by outcome.</summary>
internal sealed class ServerStats
{
    private long _clients;
    private long _dropped;
    private long _alertsAccepted;
    private long _alertsDuplicate;
    private long _alertsRefused;

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
