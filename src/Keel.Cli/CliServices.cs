
namespace Keel.Cli;

/// <summary>What the command line gives the runtime: live feeds with credentials from its configuration, and timings.</summary>
internal static class CliServices
{
    public static RunServices Create(string? configPath, PhaseTimer? timings = null, IReadOnlyList<Keel.Engine.Strategies.StrategyDescriptor>? catalog = null) => new()
    {
        Strategies = catalog ?? Keel.Strategies.StrategyCatalog.All,
        Feeds = spec => RecordCommand.Feed(spec.Venue!, CliConfig.Load(configPath), spec.VenueUrl, alpacaQuotes: true),
        WrapJournal = timings is { Enabled: true } ? timings.Time : null,
    };
}
