using System.Globalization;
using Keel.Domain;
using Keel.Engine.Ports;
using Keel.Sandbox;
using Keel.Tests.Sandbox;
using Keel.Venues.Alpaca.Trading;

namespace Keel.Tests.Venues.Contract;

/// <summary>
/// The venue contract on the Alpaca adapter over the sandbox's Alpaca Trading API v2 (AAPL, half spread 0.01,
/// 100,000 of cash). Partial fills come from prices that show fewer shares than an order wants.
/// </summary>
public sealed class AlpacaVenueContractTests : VenueContract, IAsyncDisposable
{
    private SandboxServer? _server;
    private HttpClient? _control;

    protected override InstrumentId Instrument { get; } = new("AAPL");

    protected override decimal Mid => 100m;

    protected override decimal Step => 1m;

    protected override decimal Size => 10m;

    protected override decimal HalfSpread => 0.01m;

    protected override decimal UnacceptablePrice => 99.001m;

    protected override async Task<IVenuePort> StartVenueAsync()
    {
        var options = SandboxTesting.Options();
        options.HalfSpread = HalfSpread;
        options.AlpacaCash = 100_000m;
        _server = await SandboxServer.StartAsync(options);
        _control = SandboxTesting.Alpaca(_server);
        return new AlpacaTradingVenue(new AlpacaTradingOptions
        {
            Key = "sandbox-key",
            Secret = "sandbox-secret",
            BaseUrl = _server.AlpacaRestBase,
            StreamUrl = new Uri(_server.AlpacaStreamBase, "/stream"),
            RequestTimeout = TimeSpan.FromSeconds(5),
            QueryRetryDelay = TimeSpan.FromMilliseconds(50),
            ReconnectDelay = TimeSpan.FromMilliseconds(50),
            ReconnectMaxDelay = TimeSpan.FromMilliseconds(500),
            CatchUpInterval = TimeSpan.FromSeconds(30),
        });
    }

    protected override async Task SetPriceAsync(decimal mid, decimal? size = null)
    {
        string body = $"{{\"symbol\":\"AAPL\",\"prices\":[\"{mid.ToString(CultureInfo.InvariantCulture)}\"]"
            + (size is { } s ? $",\"size\":\"{s.ToString(CultureInfo.InvariantCulture)}\"" : string.Empty) + "}";
        var (status, json) = await Trading.PostAsync(_control!, "/_sandbox/alpaca/prices", body);
        Assert.True(status == 200, $"scripting a price answered {status}: {json}");
    }

    protected override async Task StopVenueAsync() => await ((IAsyncDisposable)this).DisposeAsync();

    async ValueTask IAsyncDisposable.DisposeAsync()
    {
        _control?.Dispose();
        _control = null;
        if (_server is { } server)
        {
            _server = null;
            await server.DisposeAsync();
        }
    }
}
