using System.Text.Json;
using System.Text.Json.Serialization;
using Keel.Engine.Analytics;
using Keel.Engine.Kernel;
using Keel.Engine.Persistence;
using Keel.Engine.Simulation;
using Keel.Runtime.Reporting;

namespace Keel.Runtime.Sessions;

/// <summary>
/// Everything a session snapshot holds: one record of records, written and read by <see cref="SnapshotJsonContext"/>.
/// <paramref name="Exchange"/> is null for a venue that keeps no state here (a live broker); <paramref name="Strategy"/>
/// is the strategy's state as its own codec wrote it; <paramref name="OrdersCsv"/> is null when orders.csv is not written;
/// <paramref name="Venue"/> is a live venue client's own state (its fill watermark), absent for the simulated exchange;
/// <paramref name="Inputs"/> is the sequence of the last journaled input the snapshot includes (live runs only).
/// </summary>
public sealed record SessionSnapshot(
    int Format,
    long DataEvents,
    KernelSnapshot Kernel,
    PortfolioSnapshot Portfolio,
    ExchangeSnapshot? Exchange,
    string StrategyName,
    JsonElement Strategy,
    PerformanceSnapshot Performance,
    TradeTrackerSnapshot Trades,
    OrderCountsSnapshot OrderCounts,
    OrdersCsvSnapshot? OrdersCsv,
    OutputLengths Outputs,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Venue = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Inputs = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ReportSeriesSnapshot? Report = null);

/// <summary>Lengths of the output files when the snapshot was taken (null: the output is not written); a resume truncates them to these.</summary>
public sealed record OutputLengths(long? Orders, long? Fills, long? Trades, long? Equity);

/// <summary>
/// The one serializer of session snapshots: source-generated (no reflection, trim and AOT safe), camel-case names, exact
/// values through their converters. Doubles are written shortest-round-trip, so they restore bit for bit; NaN and
/// infinities are allowed as named literals because running statistics can hold them.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    IgnoreReadOnlyProperties = true,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true,
    Converters =
    [
        typeof(PriceJsonConverter), typeof(QuantityJsonConverter), typeof(MoneyJsonConverter), typeof(TimestampJsonConverter),
        typeof(InstrumentIdJsonConverter), typeof(ClientOrderIdJsonConverter), typeof(VenueOrderIdJsonConverter), typeof(TradeIdJsonConverter),
    ])]
[JsonSerializable(typeof(SessionSnapshot))]
internal sealed partial class SnapshotJsonContext : JsonSerializerContext;
