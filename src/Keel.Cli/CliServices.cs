namespace Keel.Cli;

/// <summary>What the command line gives the runtime: live feeds with credentials from its configuration, logging and timings.</summary>
internal static class CliServices
{
    /// <summary>
    /// <c>KEEL_CRASH_DRILL=before-send:N|after-send:N</c>: the process kills itself (SIGKILL, nothing flushed) at that
    /// point of its Nth request to the venue. For crash tests and for trying recovery by hand (docs/live.md).
    /// </summary>
    private static Action<string, long>? CrashDrill(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var parts = text.Split(':');
        if (parts.Length != 2 || parts[0] is not ("before-send" or "after-send") || !long.TryParse(parts[1], System.Globalization.CultureInfo.InvariantCulture, out long at) || at < 1)
        {
            throw new UsageException($"KEEL_CRASH_DRILL was '{text}'; it must be before-send:N or after-send:N (N ≥ 1)");
        }

        return (point, n) =>
        {
            if (point == parts[0] && n == at)
            {
                System.Diagnostics.Process.GetCurrentProcess().Kill();
            }
        };
    }

    /// <param name="alerts">Send the alerts the configuration asks for (runs only; the caller disposes <see cref="RunServices.Alerts"/>).</param>
    /// <param name="keepEvents">Keep each run's events for subscribers (a server); the command line reads none.</param>
    public static RunServices Create(string? configPath, CliLogging logging, PhaseTimer? timings = null, IReadOnlyList<Keel.Engine.Strategies.StrategyDescriptor>? catalog = null, bool alerts = false, bool keepEvents = false) => new()
    {
        Alerts = alerts ? AlertConfig.Create(CliConfig.Load(configPath), logging.Factory) : null,
        Strategies = catalog ?? Keel.Strategies.StrategyCatalog.All,
        KeepEvents = keepEvents, // the command line never reads a run's event stream; the server does
        Feeds = spec => RecordCommand.Feed(spec.Venue!, CliConfig.Load(configPath), spec.VenueUrl, logging, alpacaQuotes: true),
        Venues = spec => VenueConfig.TradingPort(spec.Venue!, CliConfig.Load(configPath), spec.VenueUrl, spec.Live?.RealMoney ?? false, logging.Factory.CreateLogger("Keel.Venues.Trading")),
        CrashDrill = CrashDrill(Environment.GetEnvironmentVariable("KEEL_CRASH_DRILL")),
        WrapJournal = timings is { Enabled: true } ? timings.Time : null,
        LoggerFactory = logging.Factory,
    };
}
