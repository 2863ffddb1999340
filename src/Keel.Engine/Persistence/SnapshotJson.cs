using System.Text.Json;
using System.Text.Json.Serialization;
using Keel.Domain;

namespace Keel.Engine.Persistence;

/// <summary>A component whose complete state can be captured as an immutable record and restored from one.</summary>
public interface ISnapshotable<TSnapshot>
    where TSnapshot : class
{
    /// <summary>The component's state now (between events), as a record that shares nothing mutable with it.</summary>
    TSnapshot Capture();

    /// <summary>Replaces the component's state with <paramref name="snapshot"/>.</summary>
    void Restore(TSnapshot snapshot);
}

/// <summary>A snapshot that cannot be used: bad JSON, a missing field, or state that does not fit this run.</summary>
public sealed class SnapshotException : Exception
{
    public SnapshotException(string message)
        : base(message)
    {
    }

    public SnapshotException()
    {
    }

    public SnapshotException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

// Converters for the exact values of snapshot records. Prices, quantities and times are whole numbers of raw units
// (fixed-point longs, Unix nanoseconds), which JSON holds exactly; money is 128-bit, beyond what JSON numbers carry
// safely, so it is its exact decimal text. Ids are their text.

/// <summary>A <see cref="Price"/> as its raw units (10⁻⁹), a JSON integer.</summary>
public sealed class PriceJsonConverter : JsonConverter<Price>
{
    public override Price Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => Price.FromRaw(reader.GetInt64());

    public override void Write(Utf8JsonWriter writer, Price value, JsonSerializerOptions options) => writer.WriteNumberValue(value.Raw);
}

/// <summary>A <see cref="Quantity"/> as its raw units (10⁻⁹), a JSON integer.</summary>
public sealed class QuantityJsonConverter : JsonConverter<Quantity>
{
    public override Quantity Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => Quantity.FromRaw(reader.GetInt64());

    public override void Write(Utf8JsonWriter writer, Quantity value, JsonSerializerOptions options) => writer.WriteNumberValue(value.Raw);
}

/// <summary>A <see cref="Money"/> as its exact decimal text (all 18 decimals that are not trailing zeros).</summary>
public sealed class MoneyJsonConverter : JsonConverter<Money>
{
    public override Money Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        Money.Parse(reader.GetString() ?? throw new JsonException("a money value was null"));

    public override void Write(Utf8JsonWriter writer, Money value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
}

/// <summary>A <see cref="Timestamp"/> as Unix nanoseconds, a JSON integer.</summary>
public sealed class TimestampJsonConverter : JsonConverter<Timestamp>
{
    public override Timestamp Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => Timestamp.FromUnixNanos(reader.GetInt64());

    public override void Write(Utf8JsonWriter writer, Timestamp value, JsonSerializerOptions options) => writer.WriteNumberValue(value.UnixNanos);
}

/// <summary>An <see cref="InstrumentId"/> as its symbol.</summary>
public sealed class InstrumentIdJsonConverter : JsonConverter<InstrumentId>
{
    public override InstrumentId Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => new(reader.GetString()!);

    public override void Write(Utf8JsonWriter writer, InstrumentId value, JsonSerializerOptions options) => writer.WriteStringValue(value.Symbol);
}

/// <summary>A <see cref="ClientOrderId"/> as its text.</summary>
public sealed class ClientOrderIdJsonConverter : JsonConverter<ClientOrderId>
{
    public override ClientOrderId Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => new(reader.GetString()!);

    public override void Write(Utf8JsonWriter writer, ClientOrderId value, JsonSerializerOptions options) => writer.WriteStringValue(value.Value);
}

/// <summary>A <see cref="VenueOrderId"/> as its text.</summary>
public sealed class VenueOrderIdJsonConverter : JsonConverter<VenueOrderId>
{
    public override VenueOrderId Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => new(reader.GetString()!);

    public override void Write(Utf8JsonWriter writer, VenueOrderId value, JsonSerializerOptions options) => writer.WriteStringValue(value.Value);
}

/// <summary>A <see cref="TradeId"/> as its text.</summary>
public sealed class TradeIdJsonConverter : JsonConverter<TradeId>
{
    public override TradeId Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => new(reader.GetString()!);

    public override void Write(Utf8JsonWriter writer, TradeId value, JsonSerializerOptions options) => writer.WriteStringValue(value.Value);
}
