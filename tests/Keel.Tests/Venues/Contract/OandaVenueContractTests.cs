using System.Globalization;
using Keel.Domain;
using Keel.Engine.Ports;
using Keel.Tests.Sandbox.OandaTrading;
using Keel.Venues.Oanda.Trading;

namespace Keel.Tests.Venues.Contract;

/// <summary>
/// The venue contract on the OANDA adapter over the sandbox's OANDA v20 side (EUR_USD, half spread 0.0001). OANDA fills
/// an order whole (no partial fills here) and has no stand-alone OCO pair: exits ride on the entry (take-profit and
/// stop-loss on fill), which the bracket tests cover.
/// </summary>
public sealed class OandaVenueContractTests : VenueContract, IAsyncDisposable
{
    private OandaTradingClient? _sandbox;

    protected override InstrumentId Instrument { get; } = new("EUR_USD");

    protected override decimal Mid => 1.10000m;

    protected override decimal Step => 0.00100m;

    protected override decimal Size => 1_000m;

    protected override decimal HalfSpread => 0.0001m;

    protected override decimal UnacceptablePrice => 1.099991m;

    protected override bool PartialFills => false;

    protected override bool Oco => false;

    protected override async Task<IVenuePort> StartVenueAsync()
    {
        _sandbox = await OandaTradingClient.StartAsync();
        return new OandaTradingVenue(new OandaTradingOptions
        {
            Token = "sandbox-token",
            Account = OandaTradingClient.Account,
            RestUrl = _sandbox.Server.OandaRestBase,
            StreamUrl = _sandbox.Server.OandaStreamBase,
            RequestTimeout = TimeSpan.FromSeconds(5),
            StreamBackoff = TimeSpan.FromMilliseconds(50),
            StreamBackoffMax = TimeSpan.FromMilliseconds(200),
            HeartbeatTimeout = TimeSpan.FromSeconds(2),
            CatchUpInterval = TimeSpan.FromSeconds(30),
            QueryRetryDelay = TimeSpan.FromMilliseconds(50),
        });
    }

    protected override async Task SetPriceAsync(decimal mid, decimal? size = null)
    {
        var reply = await _sandbox!.PricesAsync(mid.ToString(CultureInfo.InvariantCulture));
        Assert.True(reply.Status == System.Net.HttpStatusCode.OK, $"scripting a price answered {reply.Status}");
    }

    protected override async Task StopVenueAsync() => await ((IAsyncDisposable)this).DisposeAsync();

    async ValueTask IAsyncDisposable.DisposeAsync()
    {
        if (_sandbox is { } sandbox)
        {
            _sandbox = null;
            await sandbox.DisposeAsync();
        }
    }
}
