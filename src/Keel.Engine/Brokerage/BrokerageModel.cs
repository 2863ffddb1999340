using Keel.Domain;
using Keel.Engine.Ports;

namespace Keel.Engine.Brokerage;

/// <summary>
/// Why a venue would refuse an order: its own code (Alpaca <c>42210000</c>, OANDA <c>PRICE_PRECISION_EXCEEDED</c>)
/// and its message, word for word, so a backtest journals what the venue would have answered.
/// </summary>
/// <param name="Code">The venue's error code or reject reason.</param>
/// <param name="Message">The venue's message.</param>
public sealed record BrokerageRejection(string Code, string Message);

/// <summary>What a brokerage model may look at besides the order: the instrument, the last price the kernel saw and the time.</summary>
/// <param name="Instrument">The order's instrument (tick size, lot size, asset class).</param>
/// <param name="ReferencePrice">The last price of the instrument (zero before the first); a venue's "current market".</param>
/// <param name="Time">When the order is sent (event time).</param>
public readonly record struct BrokerageContext(Instrument Instrument, Price ReferencePrice, Timestamp Time);

/// <summary>
/// Validates orders as one venue would, before they are sent, in every mode; a pure function of the command and the
/// context (no IO, no clock). Returns null when the venue would take the order, so the accept path allocates nothing.
/// </summary>
public interface IBrokerageModel
{
    /// <summary>The model's name as the command line and the run spec spell it (none, alpaca, oanda).</summary>
    string Name { get; }

    /// <summary>One order (also a replacement's terms).</summary>
    BrokerageRejection? Validate(SubmitOrder order, in BrokerageContext context);

    /// <summary>A contingent group (bracket, OTO or OCO), which the venue takes or refuses as one request.</summary>
    BrokerageRejection? ValidateList(SubmitOrderList list, in BrokerageContext context);
}

/// <summary>Accepts everything: what Keel did before brokerage models, and the default.</summary>
public sealed class AcceptAllBrokerageModel : IBrokerageModel
{
    private AcceptAllBrokerageModel()
    {
    }

    /// <summary>The one instance.</summary>
    public static AcceptAllBrokerageModel Instance { get; } = new();

    /// <inheritdoc/>
    public string Name => "none";

    /// <inheritdoc/>
    public BrokerageRejection? Validate(SubmitOrder order, in BrokerageContext context) => null;

    /// <inheritdoc/>
    public BrokerageRejection? ValidateList(SubmitOrderList list, in BrokerageContext context) => null;
}

/// <summary>The models a run can choose by name.</summary>
public static class BrokerageModels
{
    /// <summary>The names, for help texts and messages.</summary>
    public static IReadOnlyList<string> Names { get; } = ["none", "alpaca", "oanda"];

    /// <summary>The model called <paramref name="name"/> (case-insensitive), or null for an unknown name.</summary>
    public static IBrokerageModel? Create(string name) => name.ToLowerInvariant() switch
    {
        "none" => AcceptAllBrokerageModel.Instance,
        "alpaca" => new AlpacaBrokerageModel(),
        "oanda" => new OandaBrokerageModel(),
        _ => null,
    };
}
