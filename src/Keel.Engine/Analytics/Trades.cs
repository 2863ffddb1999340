using System.Text.Json;
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
public sealed class TradeTracker : IEventHandler<FillBooked>, IEventHandler<SliceClosed>, ISnapshotable
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
            if (_open.TryGetValue(fill.Instrument, out var trade))
            {
                trade.ClosedQuantity += effect.ClosedQuantity;
                trade.ExitValue += fill.LastPx * effect.ClosedQuantity;
                trade.Gross += effect.RealizedPnl;
                trade.Commission += closePart;
                bool flat = effect.ClosedQuantity == effect.PreviousQuantity.Abs();
                if (flat)
                {
                    _open.Remove(fill.Instrument);
                    var closed = trade.ToTrade(fill.TsEvent, _slices, isOpen: false);
                    Statistics.Add(closed);
                    _onClosed?.Invoke(closed);
                }
            }
        }

        if (effect.OpenedQuantity.IsPositive)
        {
            if (!_open.TryGetValue(fill.Instrument, out var trade))
            {
                trade = new OpenTrade(++_nextId, fill.Instrument, fill.Side == OrderSide.Buy ? PositionSide.Long : PositionSide.Short, fill.TsEvent, _slices);
                _open.Add(fill.Instrument, trade);
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

    public void Save(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteNumber("nextId", _nextId);
        w.WriteNumber("slices", _slices);
        w.WritePropertyName("stats");
        Statistics.Save(w);
        w.WriteStartArray("open");
        foreach (var t in _open.Values.OrderBy(t => t.Id))
        {
            w.WriteStartObject();
            w.WriteNumber("id", t.Id);
            w.WriteString("i", t.Instrument.Symbol);
            w.WriteNumber("direction", (int)t.Direction);
            w.Write("entryTime", t.EntryTime);
            w.WriteNumber("entrySlice", t.EntrySlice);
            w.Write("opened", t.OpenedQuantity);
            w.Write("closed", t.ClosedQuantity);
            w.Write("entryValue", t.EntryValue);
            w.Write("exitValue", t.ExitValue);
            w.Write("gross", t.Gross);
            w.Write("commission", t.Commission);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    public void Load(JsonElement e)
    {
        _nextId = e.GetLong("nextId");
        _slices = e.GetLong("slices");
        Statistics.Load(e.Get("stats"));
        _open.Clear();
        foreach (var x in e.Get("open").EnumerateArray())
        {
            var t = new OpenTrade(x.GetLong("id"), new InstrumentId(x.GetText("i")), (PositionSide)x.GetInt("direction"), x.GetTime("entryTime"), x.GetLong("entrySlice"))
            {
                OpenedQuantity = x.GetQuantity("opened"),
                ClosedQuantity = x.GetQuantity("closed"),
                EntryValue = x.GetMoney("entryValue"),
                ExitValue = x.GetMoney("exitValue"),
                Gross = x.GetMoney("gross"),
                Commission = x.GetMoney("commission"),
            };
            _open.Add(t.Instrument, t);
        }
    }

    private sealed class OpenTrade(long id, InstrumentId instrument, PositionSide direction, Timestamp entryTime, long entrySlice)
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

        public Trade ToTrade(Timestamp? exitTime, long slices, bool isOpen, Money extraGross = default, Price? mark = null)
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
public sealed class TradeStatistics : ISnapshotable
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

    public void Save(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteNumber("count", Count);
        w.WriteNumber("wins", Wins);
        w.WriteNumber("losses", Losses);
        w.WriteNumber("breakeven", Breakeven);
        w.Write("grossProfit", GrossProfit);
        w.Write("grossLoss", GrossLoss);
        w.Write("largestWin", LargestWin);
        w.Write("largestLoss", LargestLoss);
        w.Write("net", NetTotal);
        w.WriteNumber("bars", BarsHeldTotal);
        w.WriteEndObject();
    }

    public void Load(JsonElement e)
    {
        Count = e.GetLong("count");
        Wins = e.GetLong("wins");
        Losses = e.GetLong("losses");
        Breakeven = e.GetLong("breakeven");
        GrossProfit = e.GetMoney("grossProfit");
        GrossLoss = e.GetMoney("grossLoss");
        LargestWin = e.GetMoney("largestWin");
        LargestLoss = e.GetMoney("largestLoss");
        NetTotal = e.GetMoney("net");
        BarsHeldTotal = e.GetLong("bars");
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
