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

/// <summary>The OANDA tests' view of <see cref="EventRecorder"/>: waits on a condition over all events so far.</summary>
internal sealed class RecordingSink : EventRecorder
{
    public IReadOnlyList<OrderEvent> Events => All;

    /// <summary>Waits until <paramref name="done"/> holds for the events so far; fails with what arrived when it does not in time.</summary>
    public async Task<IReadOnlyList<OrderEvent>> WaitAsync(Func<IReadOnlyList<OrderEvent>, bool> done, string what, double seconds = 10)
    {
        await WaitUntilAsync(() => done(All), TimeSpan.FromSeconds(seconds), what);
        return All;
    }

    public Task<IReadOnlyList<OrderEvent>> WaitForAsync(ClientOrderId id, params OrderEventKind[] kinds) =>
        WaitAsync(all => kinds.All(k => all.Any(e => e.ClientOrderId == id && e.Kind == k)), $"{string.Join(", ", kinds)} of {id}");
}
