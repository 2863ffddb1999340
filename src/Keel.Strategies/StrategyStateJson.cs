using System.Text.Json;
using System.Text.Json.Serialization;
using Keel.Engine.Persistence;

namespace Keel.Strategies;

/// <summary>
/// The serializer of this assembly's strategy states: source-generated (no reflection, trim and AOT safe), with the
/// same names, number handling and exact-value converters as the session snapshot's context. It lives here, not in
/// the engine, because the state records are the strategies' own; the session snapshot nests the value it produces.
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
[JsonSerializable(typeof(SmaCrossSnapshot))]
[JsonSerializable(typeof(LadderSnapshot))]
[JsonSerializable(typeof(FloorSnapshot))]
[JsonSerializable(typeof(SlobSnapshot))]
internal sealed partial class StrategyStateJsonContext : JsonSerializerContext
{
    /// <summary>Reads a strategy state value, turning a value that does not fit into a <see cref="SnapshotException"/>.</summary>
    public static T Read<T>(JsonElement state, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
        where T : class
    {
        try
        {
            return state.Deserialize(type) ?? throw new SnapshotException($"the snapshot's strategy state is null; a {typeof(T).Name} was expected");
        }
        catch (JsonException ex)
        {
            throw new SnapshotException($"the snapshot's strategy state cannot be read: {ex.Message}", ex);
        }
    }
}
