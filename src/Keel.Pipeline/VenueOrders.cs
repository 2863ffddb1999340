using Keel.Domain;
using Keel.Domain.Orders;
using Keel.Engine.Ports;
using Keel.Storage.Pipeline;

namespace Keel.Pipeline;

/// <summary>Translations between the pipeline's journaled orders and the venue port.</summary>
internal static class VenueOrders
{
    public static PipelineOrderStatus Status(OrderStatus status) => status switch
    {
        OrderStatus.PartiallyFilled => PipelineOrderStatus.PartiallyFilled,
        OrderStatus.Filled => PipelineOrderStatus.Filled,
        OrderStatus.Canceled or OrderStatus.Replaced => PipelineOrderStatus.Cancelled,
        OrderStatus.Rejected or OrderStatus.Denied => PipelineOrderStatus.Rejected,
        OrderStatus.Expired => PipelineOrderStatus.Expired,
        _ => PipelineOrderStatus.Accepted,
    };

    public static OrderUpdate Update(VenueOrder o) => new(
        Status(o.Status),
        o.VenueOrderId.Value,
        o.FilledQuantity.ToDecimal(),
        o.AveragePrice?.ToDecimal(),
        o.FilledQuantity.IsZero ? null : o.UpdatedAt);

    public static SubmitOrder Command(OrderExecution o, string symbol, TimeInForce tif, Timestamp now, ContingencyType contingency = ContingencyType.None, IReadOnlyList<ClientOrderId>? linked = null) => new(
        new ClientOrderId(o.ClientOrderId),
        new InstrumentId(symbol),
        o.Side == "buy" ? OrderSide.Buy : OrderSide.Sell,
        o.StopPrice is null ? OrderType.Limit : OrderType.Stop,
        Quantity.From(o.Quantity),
        o.LimitPrice is decimal l ? Price.From(l) : null,
        o.StopPrice is decimal s ? Price.From(s) : null,
        tif,
        contingency,
        null,
        linked ?? [],
        now);

    /// <summary>What to record after a submit the venue answered (null: unknown or rate limited; look it up next run).</summary>
    public static OrderUpdate? AfterSubmit(VenueOutcome outcome) => outcome.Kind switch
    {
        VenueOutcomeKind.Accepted => new OrderUpdate(PipelineOrderStatus.Accepted, outcome.VenueOrderId?.Value, 0m, null, null),
        VenueOutcomeKind.Rejected or VenueOutcomeKind.InsufficientFunds or VenueOutcomeKind.PermanentError =>
            new OrderUpdate(PipelineOrderStatus.Rejected, null, 0m, null, null, $"{outcome.Reason}{(outcome.VenueCode is null ? string.Empty : $" ({outcome.VenueCode})")}"),
        _ => null,
    };

    public static string ExitSide(TradeSide side) => side == TradeSide.Long ? "sell" : "buy";

    public static string EntrySide(TradeSide side) => side == TradeSide.Long ? "buy" : "sell";

    /// <summary>A venue failure that a later run may get past: logged, and the stage goes on with the next item.</summary>
    public static bool IsTransient(Exception ex) => ex is VenueQueryException or HttpRequestException or TimeoutException or IOException
        || (ex is OperationCanceledException oce && oce.CancellationToken == default);
}
