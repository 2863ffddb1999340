using Keel.Domain;
using Keel.Domain.Orders;
using Keel.Engine.Ports;

namespace Keel.Runtime.Live;

/// <summary>One order as Keel holds it, for reconciliation.</summary>
/// <param name="ClientOrderId">Keel's id of the order (<c>prefix + n</c>; an adopted external order keeps the id Keel gave it).</param>
/// <param name="Quantity">The order's quantity, positive.</param>
/// <param name="FilledQuantity">What Keel has applied so far, positive.</param>
/// <param name="Status">Keel's status; <see cref="OrderStateMachine.IsTerminal"/> decides whether the order is final.</param>
/// <param name="VenueOrderId">The venue's id, when the venue ever told Keel.</param>
/// <param name="AppliedTradeIds">The execution ids of the fills Keel has applied to this order.</param>
public sealed record KeelOrder(
    ClientOrderId ClientOrderId,
    InstrumentId Instrument,
    OrderSide Side,
    Quantity Quantity,
    Quantity FilledQuantity,
    OrderStatus Status,
    VenueOrderId? VenueOrderId,
    IReadOnlyCollection<TradeId> AppliedTradeIds);

/// <summary>What Keel holds for one run: its orders, the fills it applied and its positions.</summary>
/// <param name="ClientIdPrefix">The run's client-id prefix: Keel's ids are this prefix followed by decimal digits.</param>
/// <param name="Instruments">The instruments the run trades; venue activity elsewhere belongs to other runs of the account.</param>
/// <param name="Orders">The run's orders that are not final.</param>
/// <param name="Completed">The run's recently completed orders, so a late fill of one is recognised as the run's.</param>
/// <param name="Positions">Signed quantity per instrument (negative = short); a missing instrument is flat.</param>
/// <param name="AdoptedTradeIds">Execution ids of fills adopted earlier that belong to no Keel order, so they are not adopted twice.</param>
public sealed record KeelBook(
    string ClientIdPrefix,
    IReadOnlyCollection<InstrumentId> Instruments,
    IReadOnlyList<KeelOrder> Orders,
    IReadOnlyList<KeelOrder> Completed,
    IReadOnlyDictionary<InstrumentId, Quantity> Positions,
    IReadOnlyCollection<TradeId>? AdoptedTradeIds = null)
{
    /// <summary>True when <paramref name="id"/> is one of this run's ids: the prefix followed by one or more digits.</summary>
    public bool IsOwnId(ClientOrderId? id)
    {
        if (id is not { } cid || !cid.Value.StartsWith(ClientIdPrefix, StringComparison.Ordinal) || cid.Value.Length == ClientIdPrefix.Length)
        {
            return false;
        }

        foreach (char c in cid.Value.AsSpan(ClientIdPrefix.Length))
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>What the venue says, as an async collector read it through <see cref="IVenuePort"/>.</summary>
/// <param name="OpenOrders">The venue's open orders (all of the account's, not only the run's).</param>
/// <param name="Fills">Fills after the last watermark, as <see cref="IVenuePort.GetFillsSinceAsync"/> returned them.</param>
/// <param name="NextWatermark">The watermark to store once the report's actions are applied.</param>
/// <param name="Positions">The account's positions.</param>
/// <param name="Lookups">
/// For each of Keel's not-final orders that is not among <paramref name="OpenOrders"/> (matched by client id or venue id):
/// the venue's answer to a lookup (by client id, or by venue id when Keel has one); null = the venue has no such order.
/// A <see cref="OrderStatus.Pending"/> order (never sent) may be left out. An order left out otherwise is taken as placed
/// after the venue was read and is not judged (no action, no difference). A lookup that failed is not an answer: the
/// collector retries or gives up; it never passes null for it.
/// </param>
public sealed record VenueBook(
    IReadOnlyList<VenueOrder> OpenOrders,
    IReadOnlyList<VenueFill> Fills,
    VenueWatermark? NextWatermark,
    IReadOnlyList<VenuePosition> Positions,
    IReadOnlyDictionary<ClientOrderId, VenueOrder?> Lookups);

/// <summary>How <see cref="Reconciliation.Compare"/> treats differences it cannot explain.</summary>
/// <param name="Adopt">
/// True (<c>--adopt</c>): unexplained differences become adopt actions (the venue's state wins). False: the report says
/// the start must stop.
/// </param>
/// <param name="Moving">
/// Instruments whose position in Keel changed while the venue was being read (a fill arrived meanwhile): the venue's
/// answer may be from before or after that fill, so their positions are not compared this round (orders and fills are).
/// </param>
public sealed record ReconcileOptions(bool Adopt = false, IReadOnlySet<InstrumentId>? Moving = null)
{
    /// <summary>Stop on any unexplained difference.</summary>
    public static ReconcileOptions Default { get; } = new();
}
