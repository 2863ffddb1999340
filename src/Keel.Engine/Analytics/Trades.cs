using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Keel.Domain;
using Keel.Domain.Orders;
using Keel.Domain.Portfolio;
using Keel.Engine.Kernel;
using Keel.Engine.Persistence;

namespace Keel.Engine.Analytics;

/// <summary>
/// A round trip: from a flat position to a position and back to flat (a flip closes one trade and opens the next).
/// Gross P&amp;L is realized P&amp;L; net subtracts the commissions of every fill in the trade (a flipping fill's commission
/// is split by quantity).
/// </summary>
public sealed record Trade(
    long Id,
    InstrumentId Instrument,
    PositionSide Direction,
    Timestamp EntryTime,
    Price EntryPrice,
    Quantity Quantity,
    Timestamp? ExitTime,
    Price? ExitPrice,
    Money GrossPnl,
    Money Commission,
    long BarsHeld,
    bool IsOpen)
{
    public Money NetPnl => GrossPnl - Commission;

    /// <summary>Net P&amp;L divided by the entry value.</summary>
    public double Return { get; init; }
}

/// <summary>Builds <see cref="Trade"/>s from booked fills. One open trade per instrument at most.</summary>
public sealed class TradeTracker : IEventHandler<FillBooked>, IEventHandler<SliceClosed>, ISnapshotable<TradeTrackerSnapshot>
{
    private readonly Dictionary<InstrumentId, OpenTrade> _open = [];
    private readonly Action<Trade>? _onClosed;
    private long _nextId;
    private long _slices;

    public TradeTracker(Action<Trade>? onClosed = null) => _onClosed = onClosed;

    public TradeStatistics Statistics { get; } = new();

    public int OpenCount => _open.Count;

    public void Handle(in SliceClosed evt, long sequence) => _slices++;

    public void Handle(in FillBooked evt, long sequence)
    {
        var fill = evt.Fill;
        var effect = evt.Effect;
        var commission = fill.Commission;
        var closePart = Money.Zero;
        if (effect.ClosedQuantity.IsPositive)
        {
            closePart = effect.OpenedQuantity.IsPositive
                ? commission.Scale(effect.ClosedQuantity.Raw, fill.LastQty.Raw)
                : commission;
            ref var trade = ref CollectionsMarshal.GetValueRefOrNullRef(_open, fill.Instrument);
            if (!Unsafe.IsNullRef(ref trade))
            {
                trade.ClosedQuantity += effect.ClosedQuantity;
                trade.ExitValue += fill.LastPx * effect.ClosedQuantity;
                trade.Gross += effect.RealizedPnl;
                trade.Commission += closePart;
                bool flat = effect.ClosedQuantity == effect.PreviousQuantity.Abs();
                if (flat)
                {
                    var closed = trade.ToTrade(fill.TsEvent, _slices, isOpen: false);
                    _open.Remove(fill.Instrument);
                    Statistics.Add(closed);
                    _onClosed?.Invoke(closed);
                }
            }
        }

        if (effect.OpenedQuantity.IsPositive)
        {
            ref var trade = ref CollectionsMarshal.GetValueRefOrAddDefault(_open, fill.Instrument, out bool exists);
            if (!exists)
            {
                trade = new OpenTrade(++_nextId, fill.Instrument, fill.Side == OrderSide.Buy ? PositionSide.Long : PositionSide.Short, fill.TsEvent, _slices);
            }

            trade.OpenedQuantity += effect.OpenedQuantity;
            trade.EntryValue += fill.LastPx * effect.OpenedQuantity;
            trade.Commission += commission - closePart;
        }
    }

    /// <summary>Trades still open, valued at their last price (for the end-of-run report).</summary>
    public IEnumerable<Trade> OpenTrades(IPortfolioView portfolio)
    {
        foreach (var t in _open.Values.OrderBy(t => t.Id))
        {
            var position = portfolio.GetPosition(t.Instrument);
            var unrealized = position?.UnrealizedPnl ?? Money.Zero;
            yield return t.ToTrade(null, _slices, isOpen: true, extraGross: unrealized, mark: position?.LastPrice);
        }
    }

    public TradeTrackerSnapshot Capture()
    {
        var open = new List<OpenTradeSnapshot>(_open.Count);
        foreach (var t in _open.Values.OrderBy(t => t.Id))
        {
            open.Add(new OpenTradeSnapshot(t.Id, t.Instrument, t.Direction, t.EntryTime, t.EntrySlice, t.OpenedQuantity, t.ClosedQuantity, t.EntryValue, t.ExitValue, t.Gross, t.Commission));
        }

        return new TradeTrackerSnapshot(_nextId, _slices, Statistics.Capture(), open);
    }

    public void Restore(TradeTrackerSnapshot snapshot)
    {
        _nextId = snapshot.NextId;
        _slices = snapshot.Slices;
        Statistics.Restore(snapshot.Statistics);
        _open.Clear();
        foreach (var x in snapshot.Open)
        {
            var t = new OpenTrade(x.Id, x.Instrument, x.Direction, x.EntryTime, x.EntrySlice)
            {
                OpenedQuantity = x.Opened,
                ClosedQuantity = x.Closed,
                EntryValue = x.EntryValue,
                ExitValue = x.ExitValue,
                Gross = x.Gross,
                Commission = x.Commission,
            };
            _open.Add(t.Instrument, t);
        }
    }

    // A value in the dictionary of open trades, changed in place: no object per trade.
    private struct OpenTrade(long id, InstrumentId instrument, PositionSide direction, Timestamp entryTime, long entrySlice)
    {
        public PositionSide Direction { get; } = direction;

        public Timestamp EntryTime { get; } = entryTime;

        public long EntrySlice { get; } = entrySlice;

        public long Id { get; } = id;

        public InstrumentId Instrument { get; } = instrument;

        public Quantity OpenedQuantity { get; set; }

        public Quantity ClosedQuantity { get; set; }

        public Money EntryValue { get; set; }

        public Money ExitValue { get; set; }

        public Money Gross { get; set; }

        public Money Commission { get; set; }

        public readonly Trade ToTrade(Timestamp? exitTime, long slices, bool isOpen, Money extraGross = default, Price? mark = null)
        {
            var entryPrice = EntryValue.DivideToPrice(OpenedQuantity);
            Price? exitPrice = ClosedQuantity.IsPositive ? ExitValue.DivideToPrice(ClosedQuantity) : mark;
            var gross = Gross + extraGross;
            var net = gross - Commission;
            return new Trade(Id, Instrument, Direction, EntryTime, entryPrice, OpenedQuantity, exitTime, exitPrice, gross, Commission, slices - EntrySlice, isOpen)
            {
                Return = EntryValue.IsZero ? 0 : Money.Ratio(net, EntryValue),
            };
        }
    }
}

/// <summary>Running statistics over closed trades (net of commissions).</summary>
public sealed class TradeStatistics : ISnapshotable<TradeStatisticsSnapshot>
{
    public long Count { get; private set; }

    public long Wins { get; private set; }

    public long Losses { get; private set; }

    public long Breakeven { get; private set; }

    public Money GrossProfit { get; private set; }

    public Money GrossLoss { get; private set; }

    public Money LargestWin { get; private set; }

    public Money LargestLoss { get; private set; }

    public Money NetTotal { get; private set; }

    public long BarsHeldTotal { get; private set; }

    public TradeStatisticsSnapshot Capture() => new(Count, Wins, Losses, Breakeven, GrossProfit, GrossLoss, LargestWin, LargestLoss, NetTotal, BarsHeldTotal);

    public void Restore(TradeStatisticsSnapshot snapshot)
    {
        Count = snapshot.Count;
        Wins = snapshot.Wins;
        Losses = snapshot.Losses;
        Breakeven = snapshot.Breakeven;
        GrossProfit = snapshot.GrossProfit;
        GrossLoss = snapshot.GrossLoss;
        LargestWin = snapshot.LargestWin;
        LargestLoss = snapshot.LargestLoss;
        NetTotal = snapshot.NetTotal;
        BarsHeldTotal = snapshot.BarsHeldTotal;
    }

    public void Add(Trade trade)
    {
        var net = trade.NetPnl;
        Count++;
        NetTotal += net;
        BarsHeldTotal += trade.BarsHeld;
        if (net.IsPositive)
        {
            Wins++;
            GrossProfit += net;
            LargestWin = Money.Max(LargestWin, net);
        }
        else if (net.IsNegative)
        {
            Losses++;
            GrossLoss += net;
            LargestLoss = Money.Min(LargestLoss, net);
        }
        else
        {
            Breakeven++;
        }
    }
}

/// <summary>The state of a <see cref="TradeTracker"/>: its counters, statistics and open trades (by id).</summary>
public sealed record TradeTrackerSnapshot(long NextId, long Slices, TradeStatisticsSnapshot Statistics, IReadOnlyList<OpenTradeSnapshot> Open);

/// <summary>A trade still open in a <see cref="TradeTrackerSnapshot"/>.</summary>
public sealed record OpenTradeSnapshot(
    long Id,
    InstrumentId Instrument,
    PositionSide Direction,
    Timestamp EntryTime,
    long EntrySlice,
    Quantity Opened,
    Quantity Closed,
    Money EntryValue,
    Money ExitValue,
    Money Gross,
    Money Commission);

/// <summary>The state of a <see cref="TradeStatistics"/>.</summary>
public sealed record TradeStatisticsSnapshot(
    long Count,
    long Wins,
    long Losses,
    long Breakeven,
    Money GrossProfit,
    Money GrossLoss,
    Money LargestWin,
    Money LargestLoss,
    Money NetTotal,
    long BarsHeldTotal);
