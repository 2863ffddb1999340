using Keel.Domain;

namespace Keel.Runtime.Alerts;

/// <summary>What an alert is about; a user chooses which kinds are sent (<c>alerts.events</c>).</summary>
public enum AlertKind
{
    /// <summary>An order filled (in whole or in part).</summary>
    Fill = 1,

    /// <summary>The venue rejected an order, or the risk gate denied one.</summary>
    Rejection = 2,

    /// <summary>The risk state changed (ACTIVE, REDUCING, HALTED).</summary>
    Risk = 3,

    /// <summary>The circuit breaker opened after consecutive errors: new orders are denied.</summary>
    CircuitBreaker = 4,

    /// <summary>A live market data feed lost its connection, went stale or gave up.</summary>
    FeedDown = 5,

    /// <summary>The run stopped trading (halted by a rule or an error).</summary>
    Halted = 6,
}

/// <summary>One alert: what happened in which run, as a title and a line of text for a person.</summary>
public sealed record Alert(AlertKind Kind, string RunId, string Title, string Text, Timestamp Time);

/// <summary>The names of <see cref="AlertKind"/> in configuration and payloads.</summary>
public static class AlertKinds
{
    private static readonly (string Name, AlertKind Kind)[] Names =
    [
        ("fill", AlertKind.Fill),
        ("rejection", AlertKind.Rejection),
        ("risk", AlertKind.Risk),
        ("circuit_breaker", AlertKind.CircuitBreaker),
        ("feed_down", AlertKind.FeedDown),
        ("halted", AlertKind.Halted),
    ];

    /// <summary>What is sent when the configuration does not say: everything but fills (a busy strategy fills often).</summary>
    public static IReadOnlySet<AlertKind> Default { get; } = new HashSet<AlertKind> { AlertKind.Rejection, AlertKind.Risk, AlertKind.CircuitBreaker, AlertKind.FeedDown, AlertKind.Halted };

    /// <summary>Every name, for help and error messages.</summary>
    public static string All => string.Join(", ", Names.Select(n => n.Name));

    public static string Name(AlertKind kind) => Names.First(n => n.Kind == kind).Name;

    /// <summary>
    /// Parses a comma-separated list (<c>fill,rejection</c>; <c>all</c> for every kind; <c>none</c> for none); null with
    /// <paramref name="problem"/> naming the first unknown entry.
    /// </summary>
    public static IReadOnlySet<AlertKind>? Parse(string text, out string? problem)
    {
        problem = null;
        var set = new HashSet<AlertKind>();
        foreach (var raw in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (raw.Equals("all", StringComparison.OrdinalIgnoreCase))
            {
                set.UnionWith(Names.Select(n => n.Kind));
                continue;
            }

            if (raw.Equals("none", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var match = Names.Where(n => n.Name.Equals(raw.Replace('-', '_'), StringComparison.OrdinalIgnoreCase)).Select(n => (AlertKind?)n.Kind).FirstOrDefault();
            if (match is not AlertKind kind)
            {
                problem = $"'{raw}' is not an alert event (the events are {All}, or all or none)";
                return null;
            }

            set.Add(kind);
        }

        return set;
    }
}
