using Keel.Domain;
using Keel.Domain.Events;
using Keel.Domain.Orders;
using Keel.Engine.Ports;
using Keel.Tests.Sandbox.OandaTrading;
using Keel.Venues.Oanda.Trading;

namespace Keel.Tests.Venues.Oanda;

/// <summary>The sandbox's OANDA side (EUR_USD, half spread 0.0001, heartbeats every 200 ms) and an adapter on it with short, test-sized waits.</summary>
internal sealed class OandaVenueHarness : IAsyncDisposable
{
    private static long _next;

    private OandaVenueHarness(OandaTradingClient client, OandaTradingVenue venue)
    {
        Client = client;
        Venue = venue;
    }

    public OandaTradingClient Client { get; }

    public OandaTradingVenue Venue { get; }

    public RecordingSink Sink { get; } = new();

    public static async Task<OandaVenueHarness> StartAsync(Func<OandaTradingOptions, OandaTradingOptions>? configure = null, bool connect = true, string? price = "1.10000")
    {
        var client = await OandaTradingClient.StartAsync();
        var options = new OandaTradingOptions
        {
            Token = "sandbox-token",
            Account = OandaTradingClient.Account,
            RestUrl = client.Server.OandaRestBase,
            StreamUrl = client.Server.OandaStreamBase,
            RequestTimeout = TimeSpan.FromSeconds(5),
            StreamBackoff = TimeSpan.FromMilliseconds(50),
            StreamBackoffMax = TimeSpan.FromMilliseconds(200),
            HeartbeatTimeout = TimeSpan.FromSeconds(1),
            CatchUpInterval = TimeSpan.FromHours(1),
            QueryRetryDelay = TimeSpan.FromMilliseconds(50),
        };
        var venue = new OandaTradingVenue(configure?.Invoke(options) ?? options);
        var harness = new OandaVenueHarness(client, venue);
        if (price is not null)
        {
            await client.PricesAsync(price);
        }

        if (connect)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await venue.ConnectAsync(harness.Sink, cts.Token);
        }

        return harness;
    }

    public static ClientOrderId NewId(string prefix) => new($"{prefix}-{Interlocked.Increment(ref _next)}");

    public static SubmitOrder Order(ClientOrderId id, OrderSide side, OrderType type, long units, string? limit = null, string? stop = null, TimeInForce tif = TimeInForce.Gtc, ClientOrderId? parent = null) =>
        new(id, new InstrumentId("EUR_USD"), side, type, Quantity.From(units), limit is null ? null : Price.Parse(limit), stop is null ? null : Price.Parse(stop),
            tif, parent is null ? ContingencyType.None : ContingencyType.Oco, parent, [], Timestamp.Epoch);

    public async ValueTask DisposeAsync()
    {
        await Venue.DisposeAsync();
        await Client.DisposeAsync();
    }
}

/// <summary>Collects order events; waits for a condition on them (never a sleep).</summary>
internal sealed class RecordingSink : IOrderEventSink
{
    private readonly Lock _gate = new();
    private readonly List<OrderEvent> _events = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IReadOnlyList<OrderEvent> Events
    {
        get
        {
            lock (_gate)
            {
                return [.. _events];
            }
        }
    }

    public void OnOrderEvent(OrderEvent orderEvent)
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            _events.Add(orderEvent);
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }

    public IReadOnlyList<OrderEvent> For(ClientOrderId id) => [.. Events.Where(e => e.ClientOrderId == id)];

    /// <summary>Waits until <paramref name="done"/> holds for the events so far; fails with what arrived when it does not in time.</summary>
    public async Task<IReadOnlyList<OrderEvent>> WaitAsync(Func<IReadOnlyList<OrderEvent>, bool> done, string what, double seconds = 10)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        while (true)
        {
            Task changed;
            IReadOnlyList<OrderEvent> now;
            lock (_gate)
            {
                now = [.. _events];
                changed = _changed.Task;
            }

            if (done(now))
            {
                return now;
            }

            try
            {
                await changed.WaitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"waited {seconds} s for {what}; events so far: {string.Join("; ", now.Select(e => $"{e.Kind} {e.ClientOrderId}"))}");
            }
        }
    }

    public Task<IReadOnlyList<OrderEvent>> WaitForAsync(ClientOrderId id, params OrderEventKind[] kinds) =>
        WaitAsync(all => kinds.All(k => all.Any(e => e.ClientOrderId == id && e.Kind == k)), $"{string.Join(", ", kinds)} of {id}");
}
