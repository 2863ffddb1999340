using Keel.Domain;
using Keel.Engine.Ports;
using Keel.Engine.Simulation;

namespace Keel.Tests.Venues.Contract;

/// <summary>The venue contract on the simulated exchange behind the port: the reference every adapter is held to.</summary>
public sealed class SimulatedVenueContractTests : VenueContract
{
    private static readonly InstrumentId Aapl = new("AAPL");
    private long _clock = Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 3, 2, 14, 30, 0, TimeSpan.Zero)).UnixNanos;

    protected override InstrumentId Instrument => Aapl;

    protected override decimal Mid => 100m;

    protected override decimal Step => 1m;

    protected override decimal Size => 10m;

    protected override decimal HalfSpread => 0.01m;

    protected override decimal UnacceptablePrice => 99.001m;

    protected override Task<IVenuePort> StartVenueAsync()
    {
        var instrument = new Instrument(Aapl, AssetClass.Equity, Price.From(0.01m), Quantity.From(1), "USD");
        return Task.FromResult<IVenuePort>(new SimulatedVenue([instrument], Money.From(100_000)));
    }

    protected override Task SetPriceAsync(decimal mid, decimal? size = null)
    {
        var shown = size is { } s ? Quantity.From(s) : default;
        _clock += 1_000_000_000;
        ((SimulatedVenue)Venue).OnTick(Tick.Quote(Aapl, Timestamp.FromUnixNanos(_clock), Price.From(mid - HalfSpread), Price.From(mid + HalfSpread), shown, shown));
        return Task.CompletedTask;
    }
}
