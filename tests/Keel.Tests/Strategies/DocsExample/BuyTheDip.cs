using System.Text.Json;
using Keel.Domain;
using Keel.Domain.Orders;
using Keel.Engine.Strategies;

namespace Keel.Strategies;

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

    public sealed class Codec : IStateCodec<State>
    {
        public void Write(Utf8JsonWriter writer, State state) => writer.WriteStringValue(state.PreviousClose?.ToString());

        public State Read(JsonElement state) =>
            new() { PreviousClose = state.ValueKind == JsonValueKind.String ? Price.Parse(state.GetString()!) : null };
    }
}
