using Keel.Domain;
using Keel.Domain.Events;
using Keel.Domain.Orders;
using Keel.Engine.Kernel;
using Keel.Engine.Ports;

namespace Keel.Runtime.Live;

/// <summary>A start stopped because the venue differs from the run in ways Keel cannot explain; the message is the report.</summary>
public sealed class ReconciliationException : Exception
{
    public ReconciliationException(ReconciliationReport report)
        : base($"{report.Summary()}{Environment.NewLine}{report.Render()}")
    {
        Report = report;
    }

    public ReconciliationException()
        : this("reconciliation stopped the run")
    {
    }

    public ReconciliationException(string message)
        : base(message)
    {
        Report = new ReconciliationReport([], [], false, null);
    }

    public ReconciliationException(string message, Exception innerException)
        : base(message, innerException)
    {
        Report = new ReconciliationReport([], [], false, null);
    }

    public ReconciliationReport Report { get; }
}

/// <summary>
/// Brings a live run and its venue into agreement: reads Keel's book on the kernel thread, the venue's (open orders,
/// fills since the watermark, positions, a lookup of every working order the venue does not list) off it, compares
/// them (<see cref="Reconciliation.Compare"/>) against Keel's book as it is by then, and applies the actions on the
/// kernel thread as order events — so they are journaled like everything else and a fill is never booked twice.
/// </summary>
public sealed class LiveReconciler
{
    private readonly LiveExecutionClient _client;
    private int _rounds;

    internal LiveReconciler(LiveExecutionClient client)
    {
        _client = client;
    }

    /// <summary>Where the next round asks the venue for fills from (kernel thread; kept in snapshots).</summary>
    public VenueWatermark? Watermark { get; internal set; }

    /// <summary>The newest report (null before the first round).</summary>
    public ReconciliationReport? Last { get; private set; }

    /// <summary>Rounds completed.</summary>
    public int Rounds => Volatile.Read(ref _rounds);

    /// <summary>Raised after each round with its report (on the kernel thread).</summary>
    public event Action<ReconciliationReport>? Reconciled;

    /// <summary>The first round, on the kernel thread before it trades: a difference Keel cannot explain stops the start unless adopting.</summary>
    internal void ReconcileAtStart(TradingKernel kernel, CancellationToken ct)
    {
        // Nothing runs on the kernel meanwhile: the book read before the queries is still the kernel's.
        var book = Capture(kernel);
        var venue = ReadVenueAsync(book, ct).GetAwaiter().GetResult();
        var report = Reconciliation.Compare(book, venue, new ReconcileOptions(_client.Options.Adopt));
        if (report.MustStop)
        {
            throw new ReconciliationException(report);
        }

        Apply(kernel, report);
        kernel.Annotate(NoticeLevel.Info, "reconciled", $"at start with {_client.Name}: {report.Summary()}");
    }

    /// <summary>
    /// A round while the run trades. The venue is read over several requests while the market and the run go on, so one
    /// round can catch an order after its fill but before the fill is listed; a difference Keel cannot explain is
    /// therefore confirmed by a second, fresh round before the run halts on it (a real one is still there).
    /// </summary>
    internal async Task ReconcileAsync(CancellationToken ct)
    {
        if (await RoundAsync(confirming: false, ct).ConfigureAwait(false))
        {
            return;
        }

        LiveLog.Unconfirmed(_client.Log, _client.RunId, _client.Name);
        await Task.Delay(ConfirmDelay, _client.Time, ct).ConfigureAwait(false);
        await RoundAsync(confirming: true, ct).ConfigureAwait(false);
    }

    /// <summary>How long the confirming round waits for events in flight to arrive.</summary>
    internal static TimeSpan ConfirmDelay { get; } = TimeSpan.FromMilliseconds(250);

    /// <summary>One round; false when it found a difference it cannot explain and did not halt (not <paramref name="confirming"/>).</summary>
    private async Task<bool> RoundAsync(bool confirming, CancellationToken ct)
    {
        var book = await _client.OnKernel(Capture).WaitAsync(ct).ConfigureAwait(false);
        var venue = await ReadVenueAsync(book, ct).ConfigureAwait(false);
        return await _client.OnKernel(k =>
        {
            // Compared with the book as it is now: events that arrived meanwhile are not undone or done twice. A position
            // that moved meanwhile cannot be compared with an answer read at some point in between.
            var now = Capture(k);
            var report = Reconciliation.Compare(now, venue, new ReconcileOptions(_client.Options.Adopt, Moving(book, now)));
            if (report.MustStop)
            {
                if (!confirming)
                {
                    return false;
                }

                // While trading, a difference nobody can explain is critical: the run halts new orders and says why.
                var summary = report.Summary() + ": " + string.Join("; ", report.Differences.Where(d => !d.IsInformation)
                    .Select(d => $"{d.Kind} {d.Instrument} {d.ClientOrderId?.Value ?? d.VenueOrderId?.Value}: Keel holds {d.KeelHolds}, the venue says {d.VenueSays}"));
                LiveLog.Unexplained(_client.Log, _client.RunId, _client.Name, summary);
                _client.Adjust(k, KernelAdjustment.Halting($"reconciliation with {_client.Name}: {summary}"));
                Finish(report);
                return true;
            }

            Apply(k, report);
            if (!report.IsClean)
            {
                k.Annotate(NoticeLevel.Warning, "reconciled", $"with {_client.Name}: {report.Summary()}");
            }

            return true;
        }).WaitAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Instruments whose position differs between two captures of Keel's book; null when none does.</summary>
    private static HashSet<InstrumentId>? Moving(KeelBook before, KeelBook after)
    {
        HashSet<InstrumentId>? moving = null;
        foreach (var instrument in before.Positions.Keys.Union(after.Positions.Keys))
        {
            if (before.Positions.GetValueOrDefault(instrument) != after.Positions.GetValueOrDefault(instrument))
            {
                (moving ??= []).Add(instrument);
            }
        }

        return moving;
    }

    /// <summary>Keel's side, read on the kernel thread.</summary>
    internal KeelBook Capture(TradingKernel kernel)
    {
        var open = new List<KeelOrder>();
        foreach (var o in kernel.OpenOrders)
        {
            if (o.Status != OrderStatus.Pending)
            {
                open.Add(Describe(o));
            }
        }

        var completed = kernel.Orders.Recent.Select(Describe).ToList();
        var positions = new Dictionary<InstrumentId, Quantity>();
        foreach (var instrument in kernel.Instruments)
        {
            var q = kernel.Position(instrument);
            if (!q.IsZero)
            {
                positions[instrument] = q;
            }
        }

        var adopted = kernel.OpenOrders.Concat(kernel.Orders.Recent).Where(o => o.Tag == "adopted").SelectMany(o => o.Fills).Select(f => f.TradeId).ToList();
        return new KeelBook(kernel.Orders.IdPrefix, kernel.Instruments, open, completed, positions, adopted);
    }

    private static KeelOrder Describe(Order o) =>
        new(o.Id, o.Instrument, o.Side, o.Quantity, o.FilledQuantity, o.Status, o.VenueOrderId, o.Fills.Select(f => f.TradeId).ToList());

    /// <summary>The venue's side, read off the kernel thread. A query that fails fails the round (nothing is assumed).</summary>
    private async Task<VenueBook> ReadVenueAsync(KeelBook book, CancellationToken ct)
    {
        var port = _client.Port;
        var open = await port.GetOpenOrdersAsync(ct).ConfigureAwait(false);
        var fills = await port.GetFillsSinceAsync(Watermark, ct).ConfigureAwait(false);
        var positions = await port.GetPositionsAsync(ct).ConfigureAwait(false);
        var listed = new HashSet<ClientOrderId>(open.Where(o => o.ClientOrderId is not null).Select(o => o.ClientOrderId!.Value));
        var listedVenue = new HashSet<VenueOrderId>(open.Select(o => o.VenueOrderId));
        var lookups = new Dictionary<ClientOrderId, VenueOrder?>();
        foreach (var o in book.Orders)
        {
            if (listed.Contains(o.ClientOrderId) || (o.VenueOrderId is { } v && listedVenue.Contains(v)))
            {
                continue;
            }

            lookups[o.ClientOrderId] = o.VenueOrderId is { } venueId
                ? await port.GetOrderByVenueIdAsync(venueId, ct).ConfigureAwait(false)
                : await port.GetOrderAsync(o.ClientOrderId, ct).ConfigureAwait(false);
        }

        return new VenueBook(open, fills.Fills, fills.Next, positions, lookups);
    }

    /// <summary>Applies a report's actions on the kernel thread, as order events and adoptions, then keeps its watermark.</summary>
    private void Apply(TradingKernel kernel, ReconciliationReport report)
    {
        var now = Timestamp.FromDateTimeOffset(_client.Time.GetUtcNow());
        foreach (var a in report.Actions)
        {
            switch (a.Kind)
            {
                case ReconcileActionKind.Accept when a.ClientOrderId is { } id && a.VenueOrderId is { } venueId:
                    _client.Apply(kernel, new OrderAccepted(id, venueId, now, now));
                    break;
                case ReconcileActionKind.ApplyFill when a.Fill is { } f && a.ClientOrderId is { } id:
                    _client.Apply(kernel, new OrderFilled(id, f.VenueOrderId, f.ExecutionId, f.Instrument, f.Side, f.Quantity, f.Price, f.Commission, f.Time, now));
                    break;
                case ReconcileActionKind.Finish when a.ClientOrderId is { } id && a.Status is { } status:
                    if (FinalEvent(id, status, a.VenueSays, now) is { } final && kernel.GetOrder(id) is { IsComplete: false })
                    {
                        _client.Apply(kernel, final);
                    }

                    break;
                case ReconcileActionKind.ResendOnce when a.ClientOrderId is { } id:
                    if (kernel.GetOrder(id) is { IsComplete: false } order)
                    {
                        _client.TryResend(order);
                    }

                    break;
                case ReconcileActionKind.CloseMissing when a.ClientOrderId is { } id:
                    if (kernel.GetOrder(id) is { IsComplete: false })
                    {
                        _client.Apply(kernel, new OrderCanceled(id, $"adopted: {a.VenueSays}", now, now));
                    }

                    break;
                case ReconcileActionKind.AdoptFill when a.Fill is { } f:
                    _client.Adjust(kernel, KernelAdjustment.Adoption(f.Instrument, f.Side, f.Quantity, f.Price, f.Commission, f.ExecutionId, f.VenueOrderId, f.Time, a.Effect));
                    break;
                case ReconcileActionKind.AdjustPosition when a.Quantity is { } target:
                    var held = kernel.Position(a.Instrument);
                    var delta = target - held;
                    if (!delta.IsZero)
                    {
                        var price = a.Price ?? kernel.Portfolio.GetPosition(a.Instrument)?.AverageEntryPrice ?? Price.Zero;
                        var side = delta.IsPositive ? OrderSide.Buy : OrderSide.Sell;
                        // The kernel's sequence makes the id unique and the same again when the session is replayed.
                        _client.Adjust(kernel, KernelAdjustment.Adoption(a.Instrument, side, delta.Abs(), price, Money.Zero, new TradeId($"adjust-{_client.RunId}-{kernel.Sequence}"), new VenueOrderId(string.Empty), now, a.Effect));
                    }

                    break;
                case ReconcileActionKind.AdoptOrder:
                    // A foreign working order is listed, not tracked: its fills are adopted when they come (docs/live.md).
                    break;
            }
        }

        if (report.NextWatermark is { } next)
        {
            Watermark = next;
        }

        Finish(report);
    }

    private void Finish(ReconciliationReport report)
    {
        Last = report;
        Interlocked.Increment(ref _rounds);
        if (!report.IsClean && _client.Log.IsEnabled(Microsoft.Extensions.Logging.LogLevel.Information))
        {
            var summary = report.Summary();
            LiveLog.Reconciled(_client.Log, _client.RunId, _client.Name, summary);
        }

        Reconciled?.Invoke(report);
    }

    private static OrderEvent? FinalEvent(ClientOrderId id, OrderStatus status, string venueSays, Timestamp now) => status switch
    {
        OrderStatus.Canceled => new OrderCanceled(id, venueSays, now, now),
        OrderStatus.Expired => new OrderExpired(id, now, now),
        OrderStatus.Rejected => new OrderRejected(id, venueSays, now, now),
        _ => null,
    };
}
