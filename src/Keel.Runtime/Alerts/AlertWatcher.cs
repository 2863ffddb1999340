using System.Globalization;
using Keel.Domain;
using Keel.Domain.Events;
using Keel.Domain.Orders;
using Keel.Engine.Kernel;
using Keel.Engine.Ports;

namespace Keel.Runtime.Alerts;

/// <summary>
/// Turns one run's events into alerts: subscribed to the kernel's bus (fills, rejections and denials, risk state
/// changes, the circuit breaker, a halt) and told of its feeds' health by the host. It runs on the kernel's thread and
/// only builds an alert of a kind the dispatcher wants; posting never blocks.
/// </summary>
public sealed class AlertWatcher(AlertDispatcher dispatcher, string runId) : IEventHandler<OrderUpdate>, IEventHandler<KernelNotice>
{
    private readonly Dictionary<string, FeedWatch> _feeds = new(StringComparer.Ordinal);
    private readonly object _feedGate = new();

    public void Handle(in OrderUpdate evt, long sequence)
    {
        switch (evt.Event)
        {
            case OrderFilled f when dispatcher.Wants(AlertKind.Fill):
                Post(AlertKind.Fill, "fill", string.Create(CultureInfo.InvariantCulture, $"{f.Side.ToText()} {f.LastQty} {f.Instrument} at {f.LastPx} (order {f.ClientOrderId}; {evt.Order.FilledQuantity} of {evt.Order.Quantity} filled)"), f.TsEvent);
                break;
            case OrderRejected r when dispatcher.Wants(AlertKind.Rejection):
                Post(AlertKind.Rejection, "order rejected", $"{Describe(evt.Order)} rejected by the venue: {r.Reason}", r.TsEvent);
                break;
            case OrderDenied d when dispatcher.Wants(AlertKind.Rejection):
                Post(AlertKind.Rejection, "order denied", $"{Describe(evt.Order)} denied by the risk gate: {d.Reason}", d.TsEvent);
                break;
        }
    }

    public void Handle(in KernelNotice evt, long sequence)
    {
        var kind = evt.Code switch
        {
            "risk_state" => AlertKind.Risk,
            "circuit_breaker_open" => AlertKind.CircuitBreaker,
            "halted" => AlertKind.Halted,
            _ => (AlertKind?)null,
        };
        if (kind is AlertKind k && dispatcher.Wants(k))
        {
            Post(k, k switch { AlertKind.Risk => "risk state", AlertKind.CircuitBreaker => "circuit breaker open", _ => "run halted" }, evt.Message, evt.Time);
        }
    }

    /// <summary>
    /// A feed's state changed (from the feed's thread). Once a feed has been subscribed, any state but subscribed is down
    /// (reconnecting, authenticating again, stale, given up): one alert when it goes down, one when it is back.
    /// </summary>
    public void Feed(FeedHealthSnapshot health, Timestamp now)
    {
        string? what = null;
        lock (_feedGate)
        {
            _feeds.TryGetValue(health.Venue, out var watch);
            if (health.State == FeedState.Subscribed)
            {
                what = watch.Down ? "feed back" : null;
                watch = new FeedWatch(Up: true, Down: false);
            }
            else if (watch.Up && !watch.Down && health.State != FeedState.Stopped)
            {
                what = "feed down";
                watch = watch with { Down = true };
            }

            _feeds[health.Venue] = watch;
        }

        if (what is null || !dispatcher.Wants(AlertKind.FeedDown))
        {
            return;
        }

        var state = health.State.ToString().ToLowerInvariant();
        var text = what == "feed down"
            ? $"the {health.Venue} feed is {state}{(health.LastError is { Length: > 0 } e ? $": {e}" : string.Empty)} ({health.Reconnects} reconnects so far)"
            : $"the {health.Venue} feed is back ({state}, {health.Reconnects} reconnects so far)";
        Post(AlertKind.FeedDown, what, text, now);
    }

    /// <summary>The run failed with an error (from the run's thread, after it ended).</summary>
    public void Failed(string reason, Timestamp now) => Post(AlertKind.Halted, "run failed", reason, now);

    private static string Describe(Order o) => string.Create(CultureInfo.InvariantCulture, $"{o.Side.ToText()} {o.Quantity} {o.Instrument} ({o.Id})");

    private void Post(AlertKind kind, string what, string text, Timestamp time) =>
        dispatcher.Post(new Alert(kind, runId, $"Keel · run {runId} · {what}", text, time));

    /// <summary>Whether a feed has been subscribed, and whether it is down now (an alert said so).</summary>
    private readonly record struct FeedWatch(bool Up, bool Down);
}
