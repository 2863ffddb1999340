using System.Text.Json;
using System.Text.Json.Serialization;
using Keel.Domain;
using Keel.Domain.Orders;
using Keel.Engine.Persistence;
using Keel.Engine.Strategies;

namespace KeelStrategy;

/// <summary>After a close more than `drop` below the previous close, buy with a stop and a target.</summary>
public sealed class BuyTheDip(decimal drop, decimal reward, Quantity stake) : IStrategy<BuyTheDip.State>
{
    public static readonly IReadOnlyList<ParameterSpec> Parameters =
    [
        new("drop", "decimal", "0.03", "0.001..0.5", "fall from the previous close that triggers a buy"),
        new("reward", "decimal", "2", "0.1..10", "target distance as a multiple of the stop distance"),
    ];

    public static StrategyDescriptor Descriptor { get; } = new("buy-the-dip", "Buy sharp one-day drops with a bracket.", Parameters, ctx =>
    {
        var p = ctx.Parameters;
        var strategy = new BuyTheDip(p.GetDecimal("drop", 0.03m, 0.001m, 0.5m), p.GetDecimal("reward", 2m, 0.1m, 10m), ctx.Stake);
        p.EnsureAllUsed(Parameters);                                   // unknown parameters are errors
        return new StrategyHost<State>("buy-the-dip", strategy, codec: new Codec());
    });

    public State CreateState() => new();

    public State OnBar(State state, in Bar bar, IMarketView market, IIntents intents)
    {
        if (state.PreviousClose is Price previous && market.Position(bar.Instrument).IsZero
            && market.OpenOrderCount(bar.Instrument) == 0
            && bar.Close.ToDecimal() < previous.ToDecimal() * (1 - drop))
        {
            var tick = market.GetInstrument(bar.Instrument).TickSize;
            var risk = bar.High.ToDecimal() - bar.Low.ToDecimal();
            var stop = Price.From(bar.Low.ToDecimal()).FloorTo(tick);
            var target = Price.From(bar.Close.ToDecimal() + (reward * risk)).FloorTo(tick);
            intents.SubmitBracket(OrderRequest.Market(bar.Instrument, OrderSide.Buy, stake, "dip"), stop, target);
            intents.Note("dip", $"{bar.Instrument} fell {1 - (bar.Close.ToDecimal() / previous.ToDecimal()):P1} on {bar.Time}");
        }

        state.PreviousClose = bar.Close;                               // the state is ours to update
        return state;
    }

    public sealed class State
    {
        public Price? PreviousClose { get; set; }
    }

    /// <summary>What a snapshot keeps of the state: an immutable record, serialized by a source-generated context.</summary>
    public sealed record Snapshot(Price? PreviousClose);

    public sealed class Codec : IStateCodec<State>
    {
        public JsonElement Write(State state) => JsonSerializer.SerializeToElement(new Snapshot(state.PreviousClose), BuyTheDipJson.Default.Snapshot);

        public State Read(JsonElement state) => new() { PreviousClose = state.Deserialize(BuyTheDipJson.Default.Snapshot)!.PreviousClose };
    }
}

/// <summary>The strategy's own serializer: no reflection (trim and AOT safe); prices as exact raw integers.</summary>
[JsonSourceGenerationOptions(Converters = [typeof(PriceJsonConverter)])]
[JsonSerializable(typeof(BuyTheDip.Snapshot))]
internal sealed partial class BuyTheDipJson : JsonSerializerContext;
