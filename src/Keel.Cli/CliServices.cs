namespace Keel.Cli;

/// <summary>What the command line gives the runtime: live feeds with credentials from its configuration, logging and timings.</summary>
internal static class CliServices
{
    public static RunServices Create(string? configPath, CliLogging logging, PhaseTimer? timings = null, IReadOnlyList<Keel.Engine.Strategies.StrategyDescriptor>? catalog = null) => new()
    {
        Strategies = catalog ?? Keel.Strategies.StrategyCatalog.All,
        KeepEvents = false, // the command line never reads a run's event stream
        Feeds = spec => RecordCommand.Feed(spec.Venue!, CliConfig.Load(configPath), spec.VenueUrl, logging, alpacaQuotes: true),
        Venues = spec => VenueConfig.TradingPort(spec.Venue!, CliConfig.Load(configPath), spec.VenueUrl, spec.Live?.RealMoney ?? false, logging.Factory.CreateLogger("Keel.Venues.Trading")),
        WrapJournal = timings is { Enabled: true } ? timings.Time : null,
        LoggerFactory = logging.Factory,
    };
}
