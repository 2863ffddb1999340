using Keel.Domain;
using Keel.Domain.Events;
using Keel.Domain.Orders;

namespace Keel.Venues.Oanda.Trading;

/// <summary>
/// Turns OANDA transactions, applied once each and in id order, into Keel order events. Only orders that carry a Keel
/// client id (<c>clientExtensions.id</c>) produce events; the rest (closes made in OANDA's app, trade and position
/// close-outs) are the account's business and show up in positions and fills.
/// </summary>
/// <remarks>
/// A MARKET order is created and resolved in one batch: its "accepted" waits for the fill (then accepted + filled) or
/// the cancel (then rejected, with OANDA's reason, as INSUFFICIENT_MARGIN), so a market order never looks accepted and
/// then cancelled. A replace arrives as ORDER_CANCEL (CLIENT_REQUEST_REPLACED) then the replacement's create (reason
/// REPLACEMENT): that is "replaced" on the old client id and "accepted" on the new. An entry whose take-profit and
/// stop-loss carry client ids and which is cancelled before it fills takes those exits with it ("canceled").
/// </remarks>
internal sealed class OandaEventMapper
{
    private readonly Dictionary<string, ClientOrderId> _clientIds = new(StringComparer.Ordinal);
    private readonly HashSet<string> _pendingMarket = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IReadOnlyList<string>> _exits = new(StringComparer.Ordinal);

    /// <summary>Fills of orders without a Keel client id (not reported as events).</summary>
    public long UntrackedFills { get; private set; }

    public void Map(OandaTransaction tx, Timestamp now, List<OrderEvent> events)
    {
        switch (tx.Kind)
        {
            case OandaTransactionKind.OrderCreate:
                if (tx.ClientOrderId is not { } cidText)
                {
                    return;
                }

                var cid = new ClientOrderId(cidText);
                _clientIds[tx.OrderId!] = cid;
                if (tx.OnFillClientIds.Count > 0)
                {
                    _exits[tx.OrderId!] = tx.OnFillClientIds;
                }

                if (tx.Reason == "REPLACEMENT" && tx.ReplacesOrderId is { } old && _clientIds.TryGetValue(old, out var oldCid))
                {
                    events.Add(new OrderReplaced(oldCid, cid, tx.Time, now));
                }

                if (tx.Type == "MARKET_ORDER")
                {
                    _pendingMarket.Add(tx.OrderId!);
                }
                else
                {
                    events.Add(new OrderAccepted(cid, new VenueOrderId(tx.OrderId!), tx.Time, now));
                }

                return;

            case OandaTransactionKind.OrderFill:
                var filled = ClientId(tx);
                if (filled is not { } f)
                {
                    UntrackedFills++;
                    return;
                }

                if (_pendingMarket.Remove(tx.OrderId!))
                {
                    events.Add(new OrderAccepted(f, new VenueOrderId(tx.OrderId!), tx.Time, now));
                }

                _exits.Remove(tx.OrderId!);
                var units = tx.Units!.Value;
                events.Add(new OrderFilled(
                    f, new VenueOrderId(tx.OrderId!), new TradeId(OandaWire.Id(tx.Id)), new InstrumentId(tx.Instrument!),
                    units.IsNegative ? OrderSide.Sell : OrderSide.Buy, units.Abs(), tx.Price!.Value, Money.Abs(tx.Commission), tx.Time, now));
                return;

            case OandaTransactionKind.OrderCancel:
                if (tx.Reason == "CLIENT_REQUEST_REPLACED" || ClientId(tx) is not { } cancelled)
                {
                    return;
                }

                string reason = tx.Reason ?? "cancelled";
                if (_pendingMarket.Remove(tx.OrderId!))
                {
                    events.Add(new OrderRejected(cancelled, reason, tx.Time, now));
                }
                else
                {
                    events.Add(new OrderCanceled(cancelled, reason, tx.Time, now));
                }

                if (_exits.Remove(tx.OrderId!, out var exits))
                {
                    foreach (var exit in exits)
                    {
                        events.Add(new OrderCanceled(new ClientOrderId(exit), $"entry {cancelled} was cancelled ({reason}) before it filled", tx.Time, now));
                    }
                }

                return;

            case OandaTransactionKind.OrderReject:
                if (tx.ClientOrderId is { } rejected)
                {
                    events.Add(new OrderRejected(new ClientOrderId(rejected), tx.RejectReason!, tx.Time, now));
                }

                return;

            case OandaTransactionKind.OrderCancelReject:
                if (ClientId(tx) is { } refused)
                {
                    events.Add(new OrderCancelRejected(refused, tx.RejectReason ?? "cancel rejected", tx.Time, now));
                }

                return;

            default:
                return;
        }
    }

    private ClientOrderId? ClientId(OandaTransaction tx) =>
        tx.ClientOrderId is { } c ? new ClientOrderId(c) : tx.OrderId is { } o && _clientIds.TryGetValue(o, out var known) ? known : null;
}
