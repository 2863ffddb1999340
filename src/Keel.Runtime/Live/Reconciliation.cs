using Keel.Domain;
using Keel.Domain.Orders;
using Keel.Engine.Ports;

namespace Keel.Runtime.Live;

/// <summary>
/// Compares what Keel holds with what the venue says and decides what to do. Pure: no IO, no clock; the same books give
/// the same report. Rules:
/// <list type="bullet">
/// <item>A fill is identified by its execution id: one Keel has applied is ignored, and the venue's list counts each id once.</item>
/// <item>A fill belongs to a Keel order by client id, or by venue order id when the fill carries no client id.</item>
/// <item>Explained differences become actions applied without asking: accept (the venue holds it), apply fill, finish
/// (fills first, then the venue's final status), resend once (sent with an unknown outcome, not at the venue, no fills).</item>
/// <item>Unexplained differences (a foreign or lost order or fill, a late fill of a completed order, a working order the
/// venue lost, fill quantities that do not add up, a position that still differs after every fill in the report) carry
/// an adopt action. With <see cref="ReconcileOptions.Adopt"/> those actions are in the report's actions; without, the
/// report must stop. The venue is authoritative for positions.</item>
/// <item>Activity on instruments the run does not trade belongs to other runs of the account: ignored, and its positions
/// listed for information. Activity with the run's client-id prefix is the run's wherever it is.</item>
/// </list>
/// </summary>
public static class Reconciliation
{
    /// <summary>Compares the two books. Throws <see cref="ArgumentException"/> when the books break their own contract (a caller bug).</summary>
    public static ReconciliationReport Compare(KeelBook keel, VenueBook venue, ReconcileOptions options)
    {
        ArgumentNullException.ThrowIfNull(keel);
        ArgumentNullException.ThrowIfNull(venue);
        ArgumentNullException.ThrowIfNull(options);
        return new Comparison(keel, venue, options.Adopt, options.Moving).Run();
    }

    private sealed class Comparison
    {
        private readonly KeelBook _keel;
        private readonly VenueBook _venue;
        private readonly bool _adopt;
        private readonly HashSet<InstrumentId> _instruments;
        private readonly Dictionary<ClientOrderId, KeelOrder> _working = new();
        private readonly Dictionary<ClientOrderId, KeelOrder> _completed = new();
        private readonly Dictionary<VenueOrderId, KeelOrder> _byVenueId = new();
        private readonly Dictionary<ClientOrderId, VenueOrder?> _view = new();
        private readonly HashSet<ClientOrderId> _unjudged = new();
        private readonly IReadOnlySet<InstrumentId>? _moving;
        private readonly HashSet<VenueOrderId> _matchedOpen = new();
        private readonly HashSet<TradeId> _applied = new();
        private readonly Dictionary<ClientOrderId, List<VenueFill>> _newFills = new();
        private readonly Dictionary<InstrumentId, Quantity> _delta = new();
        private readonly List<ReconcileAction> _actions = new();
        private readonly List<ReconcileDifference> _differences = new();

        public Comparison(KeelBook keel, VenueBook venue, bool adopt, IReadOnlySet<InstrumentId>? moving)
        {
            _keel = keel;
            _venue = venue;
            _adopt = adopt;
            _moving = moving;
            _instruments = new HashSet<InstrumentId>(keel.Instruments);
        }

        public ReconciliationReport Run()
        {
            IndexKeel();
            MatchVenueOrders();
            ClassifyFills();
            foreach (var order in _keel.Orders)
            {
                if (!_unjudged.Contains(order.ClientOrderId))
                {
                    ResolveOrder(order);
                }
            }

            ClassifyOpenOrders();
            ComparePositions();

            var actions = new List<ReconcileAction>(_actions);
            if (_adopt)
            {
                foreach (var d in _differences)
                {
                    if (d.Remedy is { } remedy)
                    {
                        actions.Add(remedy);
                    }
                }
            }

            actions.Sort(CompareActions);
            _differences.Sort(CompareDifferences);
            return new ReconciliationReport(actions, _differences, _adopt, _venue.NextWatermark);
        }

        private void IndexKeel()
        {
            if (string.IsNullOrEmpty(_keel.ClientIdPrefix))
            {
                throw new ArgumentException("the run's client-id prefix was empty; every Keel id starts with it", nameof(_keel));
            }

            foreach (var o in _keel.Orders)
            {
                if (OrderStateMachine.IsTerminal(o.Status))
                {
                    throw new ArgumentException($"order {o.ClientOrderId} is in Keel's not-final orders but its status is '{StatusText(o.Status)}'; final orders belong in Completed", nameof(_keel));
                }

                if (!_working.TryAdd(o.ClientOrderId, o))
                {
                    throw new ArgumentException($"order {o.ClientOrderId} appears twice in Keel's not-final orders", nameof(_keel));
                }
            }

            foreach (var o in _keel.Completed)
            {
                if (!OrderStateMachine.IsTerminal(o.Status))
                {
                    throw new ArgumentException($"order {o.ClientOrderId} is in Keel's completed orders but its status is '{StatusText(o.Status)}', which is not final", nameof(_keel));
                }

                if (_working.ContainsKey(o.ClientOrderId) || !_completed.TryAdd(o.ClientOrderId, o))
                {
                    throw new ArgumentException($"order {o.ClientOrderId} appears twice in Keel's orders", nameof(_keel));
                }
            }

            foreach (var o in _keel.Completed)
            {
                AddApplied(o);
                if (o.VenueOrderId is { } v)
                {
                    _byVenueId[v] = o;
                }
            }

            // Working orders last: a venue id shared with a completed order (a replace keeps it at some venues) is the working one's.
            foreach (var o in _keel.Orders)
            {
                AddApplied(o);
                if (o.VenueOrderId is { } v)
                {
                    _byVenueId[v] = o;
                }
            }

            if (_keel.AdoptedTradeIds is { } adopted)
            {
                _applied.UnionWith(adopted);
            }
        }

        private void AddApplied(KeelOrder o) => _applied.UnionWith(o.AppliedTradeIds);

        private void MatchVenueOrders()
        {
            var openByClient = new Dictionary<ClientOrderId, VenueOrder>();
            var openByVenueId = new Dictionary<VenueOrderId, VenueOrder>();
            foreach (var v in _venue.OpenOrders)
            {
                if (v.ClientOrderId is { } c)
                {
                    openByClient.TryAdd(c, v);
                }

                openByVenueId.TryAdd(v.VenueOrderId, v);
            }

            foreach (var o in _keel.Orders)
            {
                VenueOrder? view;
                if (openByClient.TryGetValue(o.ClientOrderId, out var open)
                    || (o.VenueOrderId is { } vid && openByVenueId.TryGetValue(vid, out open)))
                {
                    view = open;
                    _matchedOpen.Add(open.VenueOrderId);
                }
                else if (_venue.Lookups.TryGetValue(o.ClientOrderId, out var looked))
                {
                    view = looked;
                }
                else if (o.Status == OrderStatus.Pending)
                {
                    view = null;
                }
                else
                {
                    // Placed after the venue was read (a round reads the venue, then compares with the book as it is
                    // now): the venue's answer is not in this book, so the order is not judged this round. Its fills, if
                    // the read caught any, are still matched by client id.
                    _unjudged.Add(o.ClientOrderId);
                    view = null;
                }

                _view[o.ClientOrderId] = view;
                if (view is not null)
                {
                    _byVenueId[view.VenueOrderId] = o;
                }
            }
        }

        private void ClassifyFills()
        {
            var seen = new HashSet<TradeId>();
            foreach (var f in _venue.Fills)
            {
                if (!seen.Add(f.ExecutionId) || _applied.Contains(f.ExecutionId))
                {
                    continue;
                }

                KeelOrder? owner = null;
                if (f.ClientOrderId is { } c && (_working.TryGetValue(c, out owner) || _completed.TryGetValue(c, out owner)))
                {
                    // found by client id
                }
                else if (f.ClientOrderId is null || !_keel.IsOwnId(f.ClientOrderId))
                {
                    _byVenueId.TryGetValue(f.VenueOrderId, out owner);
                }

                if (owner is not null && !OrderStateMachine.IsTerminal(owner.Status))
                {
                    if (!_newFills.TryGetValue(owner.ClientOrderId, out var list))
                    {
                        _newFills[owner.ClientOrderId] = list = new List<VenueFill>();
                    }

                    list.Add(f);
                    Move(f);
                    _actions.Add(new ReconcileAction(ReconcileActionKind.ApplyFill, f.Instrument, owner.ClientOrderId, f.VenueOrderId, f, null, null, null, null, false,
                        OrderText(owner) + "; fill not applied", FillText(f), "applies the fill"));
                    continue;
                }

                DifferenceKind kind;
                string keelHolds;
                if (owner is not null)
                {
                    kind = DifferenceKind.LateFill;
                    keelHolds = OrderText(owner) + "; completed";
                }
                else if (_keel.IsOwnId(f.ClientOrderId))
                {
                    kind = DifferenceKind.LostOrderFill;
                    keelHolds = "no such order";
                }
                else if (_instruments.Contains(f.Instrument))
                {
                    kind = DifferenceKind.ForeignFill;
                    keelHolds = "no such order";
                }
                else
                {
                    continue;
                }

                Move(f);
                var remedy = new ReconcileAction(ReconcileActionKind.AdoptFill, f.Instrument, f.ClientOrderId, f.VenueOrderId, f, null, null, null, null, true,
                    keelHolds, FillText(f), $"applies {f.Side.ToText()} {f.Quantity} @ {f.Price} to the run's position and cash");
                AddDifference(kind, f.Instrument, f.ClientOrderId, f.VenueOrderId, keelHolds, FillText(f), remedy);
            }
        }

        private void ResolveOrder(KeelOrder o)
        {
            var view = _view[o.ClientOrderId];
            var fills = _newFills.TryGetValue(o.ClientOrderId, out var list) ? list : null;
            var accounted = o.FilledQuantity;
            if (fills is not null)
            {
                foreach (var f in fills)
                {
                    accounted += f.Quantity;
                }
            }

            if (view is null)
            {
                if (o.Status == OrderStatus.Pending && fills is null)
                {
                    return; // not sent yet, and the venue agrees
                }

                bool reachedVenue = o.VenueOrderId is not null || fills is not null || o.FilledQuantity.IsPositive || KnowsAccepted(o.Status);
                if (!reachedVenue)
                {
                    _actions.Add(new ReconcileAction(ReconcileActionKind.ResendOnce, o.Instrument, o.ClientOrderId, null, null, null, null, null, null, false,
                        OrderText(o) + "; outcome unknown", "no such order",
                        "never reached the venue: may be re-sent once under the same client id (looked up again before any other send)"));
                    return;
                }

                var close = new ReconcileAction(ReconcileActionKind.CloseMissing, o.Instrument, o.ClientOrderId, o.VenueOrderId, null, OrderStatus.Canceled, null, null, null, true,
                    OrderText(o), "no such order", "closes it as canceled, keeping its fills (nothing more can fill)");
                AddDifference(DifferenceKind.OrderMissingAtVenue, o.Instrument, o.ClientOrderId, o.VenueOrderId, close.KeelHolds, close.VenueSays, close);
                return;
            }

            if (view.Status != OrderStatus.Rejected && (o.VenueOrderId is null || !KnowsAccepted(o.Status)))
            {
                _actions.Add(new ReconcileAction(ReconcileActionKind.Accept, o.Instrument, o.ClientOrderId, view.VenueOrderId, null, null, null, null, null, false,
                    OrderText(o), VenueText(view), $"marks it accepted as venue order {view.VenueOrderId}"));
            }

            bool final = OrderStateMachine.IsTerminal(view.Status);
            if (view.FilledQuantity != accounted)
            {
                var remedy = final
                    ? new ReconcileAction(ReconcileActionKind.Finish, o.Instrument, o.ClientOrderId, view.VenueOrderId, null, view.Status, null, null, null, true,
                        OrderText(o), VenueText(view), $"moves it to {StatusText(view.Status)} with filled {accounted}; the position follows the venue's")
                    : null;
                AddDifference(DifferenceKind.FillsUnaccounted, o.Instrument, o.ClientOrderId, view.VenueOrderId,
                    $"{OrderText(o)}; {accounted} with the fills since the watermark", VenueText(view), remedy,
                    "the order keeps Keel's fills and stays working; the position follows the venue's");
                return;
            }

            if (final)
            {
                _actions.Add(new ReconcileAction(ReconcileActionKind.Finish, o.Instrument, o.ClientOrderId, view.VenueOrderId, null, view.Status, null, null, null, false,
                    OrderText(o), VenueText(view), $"moves it to {StatusText(view.Status)} after its fills"));
            }
        }

        private void ClassifyOpenOrders()
        {
            var done = new HashSet<VenueOrderId>(_matchedOpen);
            foreach (var v in _venue.OpenOrders)
            {
                if (!done.Add(v.VenueOrderId))
                {
                    continue;
                }

                KeelOrder? completed = null;
                if (v.ClientOrderId is { } c)
                {
                    _completed.TryGetValue(c, out completed);
                }

                if (completed is null && _byVenueId.TryGetValue(v.VenueOrderId, out var byVenue) && OrderStateMachine.IsTerminal(byVenue.Status))
                {
                    completed = byVenue;
                }

                DifferenceKind kind;
                string keelHolds;
                string effect;
                if (completed is not null || _keel.IsOwnId(v.ClientOrderId))
                {
                    kind = DifferenceKind.LostOrder;
                    keelHolds = completed is not null ? OrderText(completed) : "no such order";
                    effect = "adopts it back as a working order of the run";
                }
                else if (_instruments.Contains(v.Instrument))
                {
                    kind = DifferenceKind.ForeignOrder;
                    keelHolds = "no such order";
                    effect = "adopts it as an external order of the run (its fills count for the run)";
                }
                else
                {
                    continue;
                }

                var remedy = new ReconcileAction(ReconcileActionKind.AdoptOrder, v.Instrument, v.ClientOrderId, v.VenueOrderId, null, null, v, null, null, true,
                    keelHolds, VenueText(v), effect);
                AddDifference(kind, v.Instrument, v.ClientOrderId, v.VenueOrderId, keelHolds, VenueText(v), remedy);
            }
        }

        private void ComparePositions()
        {
            var venue = new Dictionary<InstrumentId, VenuePosition>();
            foreach (var p in _venue.Positions)
            {
                venue[p.Instrument] = venue.TryGetValue(p.Instrument, out var seen)
                    ? p with { Quantity = seen.Quantity + p.Quantity }
                    : p;
            }

            var compared = new HashSet<InstrumentId>(_instruments);
            compared.UnionWith(_keel.Positions.Keys);
            foreach (var instrument in compared)
            {
                if (_moving?.Contains(instrument) == true)
                {
                    continue;
                }

                var held = _keel.Positions.TryGetValue(instrument, out var q) ? q : Quantity.Zero;
                var projected = held + (_delta.TryGetValue(instrument, out var d) ? d : Quantity.Zero);
                var theirs = venue.TryGetValue(instrument, out var vp) && !vp.Quantity.IsZero ? vp : null;
                var target = theirs?.Quantity ?? Quantity.Zero;
                if (projected == target)
                {
                    continue;
                }

                string keelHolds = projected == held ? $"position {held}" : $"position {held}; {projected} after the fills above";
                string venueSays = theirs is null ? "flat (no position)" : $"position {theirs.Quantity} @ {theirs.AveragePrice}";
                string at = theirs is null ? "at Keel's own cost (no profit or loss booked)" : $"at the venue's average price {theirs.AveragePrice}";
                var remedy = new ReconcileAction(ReconcileActionKind.AdjustPosition, instrument, null, null, null, null, null, target, theirs?.AveragePrice, true,
                    keelHolds, venueSays, $"sets the position {projected} -> {target} {at}");
                AddDifference(DifferenceKind.PositionMismatch, instrument, null, null, keelHolds, venueSays, remedy);
            }

            foreach (var (instrument, p) in venue)
            {
                if (!compared.Contains(instrument) && !p.Quantity.IsZero)
                {
                    _differences.Add(new ReconcileDifference(DifferenceKind.OtherInstrumentPosition, instrument, null, null, "not traded by this run",
                        $"position {p.Quantity} @ {p.AveragePrice}", "ignored (another run's, or by hand)", null));
                }
            }
        }

        private void AddDifference(DifferenceKind kind, InstrumentId instrument, ClientOrderId? cid, VenueOrderId? vid, string keelHolds, string venueSays,
            ReconcileAction? remedy, string? withoutRemedy = null)
        {
            string effect = remedy?.Effect ?? withoutRemedy ?? string.Empty;
            string resolution = _adopt ? "adopted: " + effect : "stop; with --adopt: " + effect;
            _differences.Add(new ReconcileDifference(kind, instrument, cid, vid, keelHolds, venueSays, resolution, remedy));
        }

        private void Move(VenueFill f)
        {
            var signed = f.Side == OrderSide.Buy ? f.Quantity : -f.Quantity;
            _delta[f.Instrument] = (_delta.TryGetValue(f.Instrument, out var d) ? d : Quantity.Zero) + signed;
        }
    }

    // Accepted by the venue as far as Keel knows: the venue answered at least once.
    private static bool KnowsAccepted(OrderStatus status) =>
        status is OrderStatus.Accepted or OrderStatus.PartiallyFilled or OrderStatus.PendingCancel;

    /// <summary>The status in words; tolerates statuses this build has no text for (the lead's <c>Unknown</c> = 12).</summary>
    internal static string StatusText(OrderStatus status) =>
        (int)status == 12 ? "unknown" : Enum.IsDefined(status) ? status.ToText() : "status " + ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string OrderText(KeelOrder o) =>
        $"{StatusText(o.Status)} {o.Side.ToText()} {o.Quantity}, filled {o.FilledQuantity}";

    private static string VenueText(VenueOrder v) =>
        $"{StatusText(v.Status)} {v.Side.ToText()} {v.Quantity}, filled {v.FilledQuantity}";

    private static string FillText(VenueFill f) => $"fill {f.ExecutionId}: {f.Side.ToText()} {f.Quantity} @ {f.Price}";

    private static int CompareActions(ReconcileAction a, ReconcileAction b)
    {
        int c = ((int)a.Kind).CompareTo((int)b.Kind);
        if (c == 0 && a.Fill is { } fa && b.Fill is { } fb)
        {
            c = fa.Time.CompareTo(fb.Time);
            if (c == 0)
            {
                c = string.CompareOrdinal(fa.ExecutionId.Value, fb.ExecutionId.Value);
            }
        }

        if (c == 0)
        {
            c = string.CompareOrdinal(a.ClientOrderId?.Value, b.ClientOrderId?.Value);
        }

        if (c == 0)
        {
            c = string.CompareOrdinal(a.Instrument.Symbol, b.Instrument.Symbol);
        }

        return c != 0 ? c : string.CompareOrdinal(a.VenueOrderId?.Value, b.VenueOrderId?.Value);
    }

    private static int CompareDifferences(ReconcileDifference a, ReconcileDifference b)
    {
        int c = a.IsInformation.CompareTo(b.IsInformation);
        if (c == 0)
        {
            c = ((int)a.Kind).CompareTo((int)b.Kind);
        }

        if (c == 0)
        {
            c = string.CompareOrdinal(a.Instrument.Symbol, b.Instrument.Symbol);
        }

        if (c == 0)
        {
            c = string.CompareOrdinal(a.ClientOrderId?.Value, b.ClientOrderId?.Value);
        }

        if (c == 0)
        {
            c = string.CompareOrdinal(a.VenueOrderId?.Value, b.VenueOrderId?.Value);
        }

        return c != 0 ? c : string.CompareOrdinal(a.VenueSays, b.VenueSays);
    }
}
