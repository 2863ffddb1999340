using System.Globalization;
using System.Text;
using Keel.Domain;
using Keel.Domain.Orders;
using Keel.Engine.Ports;

namespace Keel.Runtime.Live;

/// <summary>What Keel does to its own state to agree with the venue. Listed in the order the kernel applies them.</summary>
public enum ReconcileActionKind
{
    /// <summary>The venue holds the order: Keel marks it accepted and records <see cref="ReconcileAction.VenueOrderId"/>.</summary>
    Accept = 1,

    /// <summary>A fill of a Keel order that Keel has not applied: apply <see cref="ReconcileAction.Fill"/> (once, by its execution id).</summary>
    ApplyFill = 2,

    /// <summary>The venue has the order in a final state: Keel moves it to <see cref="ReconcileAction.Status"/> after its fills.</summary>
    Finish = 3,

    /// <summary>
    /// An order sent with an unknown outcome that the venue does not have: it never reached the venue. The lead may
    /// re-send it once, under the same client id; if that outcome is unknown again it is looked up again, never re-sent blindly.
    /// </summary>
    ResendOnce = 4,

    /// <summary>Adopt: a working Keel order the venue does not have is closed as canceled (nothing more can fill).</summary>
    CloseMissing = 5,

    /// <summary>Adopt: the venue's open order <see cref="ReconcileAction.Order"/> becomes an (external) order of the run.</summary>
    AdoptOrder = 6,

    /// <summary>Adopt: a fill that is not of a Keel working order is applied to the run's position and cash.</summary>
    AdoptFill = 7,

    /// <summary>Adopt: the run's position becomes the venue's <see cref="ReconcileAction.Quantity"/> at <see cref="ReconcileAction.Price"/>.</summary>
    AdjustPosition = 8,
}

/// <summary>What a difference is. Every kind but <see cref="OtherInstrumentPosition"/> stops a start without adopt.</summary>
public enum DifferenceKind
{
    /// <summary>A fill on one of the run's instruments by an order that is not Keel's (by hand, or another program).</summary>
    ForeignFill = 1,

    /// <summary>A fill with the run's client-id prefix for an order Keel does not hold: a lost order of this run filled.</summary>
    LostOrderFill = 2,

    /// <summary>A fill Keel has not applied of an order Keel has already completed.</summary>
    LateFill = 3,

    /// <summary>An open venue order on one of the run's instruments that is not Keel's.</summary>
    ForeignOrder = 4,

    /// <summary>An open venue order with the run's client-id prefix that Keel does not hold as working: a lost order.</summary>
    LostOrder = 5,

    /// <summary>A Keel order the venue accepted once (or that has fills) that the venue no longer has.</summary>
    OrderMissingAtVenue = 6,

    /// <summary>The venue's filled quantity of a Keel order differs from Keel's plus the fills in the venue's history.</summary>
    FillsUnaccounted = 7,

    /// <summary>After every fill the report applies or adopts, Keel's position still differs from the venue's.</summary>
    PositionMismatch = 8,

    /// <summary>Information only: a venue position on an instrument the run does not trade (another run's, or by hand).</summary>
    OtherInstrumentPosition = 9,
}

/// <summary>One thing Keel does (or, for an unadopted difference, would do), with what each side says, for people.</summary>
/// <param name="Kind">What to do; the fields it uses are named in <see cref="ReconcileActionKind"/>.</param>
/// <param name="Fill">For <see cref="ReconcileActionKind.ApplyFill"/> and <see cref="ReconcileActionKind.AdoptFill"/>.</param>
/// <param name="Status">For <see cref="ReconcileActionKind.Finish"/> (the venue's final status) and <see cref="ReconcileActionKind.CloseMissing"/>.</param>
/// <param name="Order">For <see cref="ReconcileActionKind.AdoptOrder"/>: the venue's order.</param>
/// <param name="Quantity">For <see cref="ReconcileActionKind.AdjustPosition"/>: the signed position to hold.</param>
/// <param name="Price">For <see cref="ReconcileActionKind.AdjustPosition"/>: the venue's average price; null when the venue is flat (close at Keel's own cost, booking no profit or loss).</param>
/// <param name="Adopted">True when it resolves an unexplained difference (journal it as an adoption; it may not follow the order state machine).</param>
/// <param name="KeelHolds">What Keel holds, for people.</param>
/// <param name="VenueSays">What the venue says, for people.</param>
/// <param name="Effect">What the action changes, for people.</param>
public sealed record ReconcileAction(
    ReconcileActionKind Kind,
    InstrumentId Instrument,
    ClientOrderId? ClientOrderId,
    VenueOrderId? VenueOrderId,
    VenueFill? Fill,
    OrderStatus? Status,
    VenueOrder? Order,
    Quantity? Quantity,
    Price? Price,
    bool Adopted,
    string KeelHolds,
    string VenueSays,
    string Effect);

/// <summary>A difference Keel cannot explain, with the action that adopts the venue's state.</summary>
/// <param name="Remedy">The adopt action (in the report's actions only when adopting); null for information and when the position adjustment covers it.</param>
/// <param name="Resolution">What Keel does (adopting) or would do (stopping), for people.</param>
public sealed record ReconcileDifference(
    DifferenceKind Kind,
    InstrumentId Instrument,
    ClientOrderId? ClientOrderId,
    VenueOrderId? VenueOrderId,
    string KeelHolds,
    string VenueSays,
    string Resolution,
    ReconcileAction? Remedy)
{
    /// <summary>Listed for people; changes nothing and stops nothing.</summary>
    public bool IsInformation => Kind == DifferenceKind.OtherInstrumentPosition;
}

/// <summary>The outcome of <see cref="Reconciliation.Compare"/>: what Keel applies, what it cannot explain, whether to stop.</summary>
/// <param name="Actions">What the kernel applies, in order (explained ones; adopt ones too when adopting).</param>
/// <param name="Differences">What Keel cannot explain, plus information rows, sorted.</param>
/// <param name="Adopt">Whether unexplained differences were adopted.</param>
/// <param name="NextWatermark">The venue's watermark, to store once the actions are applied (not when stopping).</param>
public sealed record ReconciliationReport(
    IReadOnlyList<ReconcileAction> Actions,
    IReadOnlyList<ReconcileDifference> Differences,
    bool Adopt,
    VenueWatermark? NextWatermark)
{
    /// <summary>Differences that are not information.</summary>
    public int UnexplainedCount
    {
        get
        {
            int n = 0;
            foreach (var d in Differences)
            {
                n += d.IsInformation ? 0 : 1;
            }

            return n;
        }
    }

    /// <summary>Keel and the venue agree: nothing to apply and nothing unexplained (information rows aside).</summary>
    public bool IsClean => Actions.Count == 0 && UnexplainedCount == 0;

    /// <summary>
    /// An unexplained difference and no adopt: the lead applies nothing, keeps the old watermark and stops the start with
    /// <see cref="Render"/>. The next reconciliation finds the same explained actions again.
    /// </summary>
    public bool MustStop => !Adopt && UnexplainedCount > 0;

    /// <summary>One line for logs: <c>reconciliation: clean</c>, or counts and whether the start must stop.</summary>
    public string Summary()
    {
        if (IsClean)
        {
            int info = Differences.Count;
            return info == 0 ? "reconciliation: clean" : string.Create(CultureInfo.InvariantCulture, $"reconciliation: clean ({info} for information)");
        }

        int unexplained = UnexplainedCount;
        int information = Differences.Count - unexplained;
        var sb = new StringBuilder("reconciliation: ");
        sb.Append(CultureInfo.InvariantCulture, $"{Actions.Count} action{Plural(Actions.Count)}, {unexplained} unexplained difference{Plural(unexplained)}");
        if (information > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $", {information} for information");
        }

        if (MustStop)
        {
            sb.Append("; MUST STOP: Keel cannot explain the differences (resolve them by hand, or start with --adopt to adopt the venue's state)");
        }
        else if (unexplained > 0)
        {
            sb.Append("; the venue's state is adopted");
        }

        return sb.ToString();
    }

    /// <summary>The report as plain-text tables for a terminal: the summary, the actions, then the differences. Deterministic.</summary>
    public string Render()
    {
        var sb = new StringBuilder();
        sb.Append(Summary()).Append('\n');
        if (Actions.Count > 0)
        {
            sb.Append('\n').Append(MustStop ? "Actions Keel would apply (none applied: the start stops)" : "Actions").Append('\n');
            var rows = new List<string[]> { ActionHeader };
            for (int i = 0; i < Actions.Count; i++)
            {
                var a = Actions[i];
                rows.Add([(i + 1).ToString(CultureInfo.InvariantCulture), ActionText(a), a.Instrument.Symbol, OrderText(a.ClientOrderId, a.VenueOrderId), a.KeelHolds, a.VenueSays, a.Effect]);
            }

            Table(sb, rows);
        }

        if (Differences.Count > 0)
        {
            sb.Append('\n').Append("Differences").Append('\n');
            var rows = new List<string[]> { DifferenceHeader };
            for (int i = 0; i < Differences.Count; i++)
            {
                var d = Differences[i];
                rows.Add([(i + 1).ToString(CultureInfo.InvariantCulture), KindText(d.Kind), d.Instrument.Symbol, OrderText(d.ClientOrderId, d.VenueOrderId), d.KeelHolds, d.VenueSays, d.Resolution]);
            }

            Table(sb, rows);
        }

        return sb.ToString();
    }

    private static readonly string[] ActionHeader = ["#", "action", "instrument", "order", "keel holds", "venue says", "keel does"];
    private static readonly string[] DifferenceHeader = ["#", "difference", "instrument", "order", "keel holds", "venue says", "resolution"];

    private static string Plural(int n) => n == 1 ? string.Empty : "s";

    private static string OrderText(ClientOrderId? cid, VenueOrderId? vid) => (cid, vid) switch
    {
        ({ } c, { } v) => c.Value + " / " + v.Value,
        ({ } c, null) => c.Value,
        (null, { } v) => "venue " + v.Value,
        _ => "-",
    };

    private static string ActionText(ReconcileAction a)
    {
        string text = a.Kind switch
        {
            ReconcileActionKind.Accept => "accept",
            ReconcileActionKind.ApplyFill => "apply fill",
            ReconcileActionKind.Finish => "finish",
            ReconcileActionKind.ResendOnce => "resend once",
            ReconcileActionKind.CloseMissing => "close missing",
            ReconcileActionKind.AdoptOrder => "adopt order",
            ReconcileActionKind.AdoptFill => "adopt fill",
            ReconcileActionKind.AdjustPosition => "adjust position",
            _ => a.Kind.ToString(),
        };
        return a.Adopted ? text + " (adopted)" : text;
    }

    /// <summary>The difference kind as words for people.</summary>
    public static string KindText(DifferenceKind kind) => kind switch
    {
        DifferenceKind.ForeignFill => "foreign fill",
        DifferenceKind.LostOrderFill => "fill of a lost order",
        DifferenceKind.LateFill => "late fill",
        DifferenceKind.ForeignOrder => "foreign order",
        DifferenceKind.LostOrder => "lost order",
        DifferenceKind.OrderMissingAtVenue => "order missing at venue",
        DifferenceKind.FillsUnaccounted => "fills unaccounted",
        DifferenceKind.PositionMismatch => "position differs",
        DifferenceKind.OtherInstrumentPosition => "other instrument (info)",
        _ => kind.ToString(),
    };

    private static void Table(StringBuilder sb, List<string[]> rows)
    {
        int columns = rows[0].Length;
        var widths = new int[columns];
        foreach (var row in rows)
        {
            for (int c = 0; c < columns; c++)
            {
                widths[c] = Math.Max(widths[c], row[c].Length);
            }
        }

        foreach (var row in rows)
        {
            var line = new StringBuilder("  ");
            for (int c = 0; c < columns; c++)
            {
                line.Append(row[c]);
                if (c < columns - 1)
                {
                    line.Append(' ', widths[c] - row[c].Length + 2);
                }
            }

            sb.Append(line.ToString().TrimEnd()).Append('\n');
        }
    }
}
