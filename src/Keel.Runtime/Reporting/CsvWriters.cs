using System.Runtime.CompilerServices;
using Keel.Domain;
using Keel.Domain.Orders;
using Keel.Domain.Portfolio;
using Keel.Engine.Analytics;
using Keel.Engine.Kernel;
using Keel.Engine.Persistence;

namespace Keel.Runtime.Reporting;

/// <summary>The state of an <see cref="OrdersCsvWriter"/>: open orders by id, completed ones not yet written, and how far rows are written.</summary>
public sealed record OrdersCsvSnapshot(IReadOnlyList<ClientOrderId> Open, IReadOnlyList<OrderState> Done, long WrittenThrough);

/// <summary>
/// orders.csv: one row per order in creation order, with its final (or, at the end of the run, current) state.
/// Completed orders are written as soon as no earlier order is still open, so memory stays flat.
/// </summary>
public sealed class OrdersCsvWriter : IEventHandler<OrderUpdate>, IDisposable
{
    public static readonly string[] Columns =
    [
        "number", "client_order_id", "instrument", "side", "type", "quantity", "limit_price", "stop_price", "time_in_force",
        "status", "created_time", "last_update_time", "filled_quantity", "avg_fill_price", "commission", "contingency",
        "parent_id", "venue_order_id", "tag", "reason",
    ];

    private readonly CsvOut _csv;

    // Open order numbers and completed orders not yet written, each kept sorted by number in a plain list: orders are
    // numbered as they are created and mostly complete in that order, so both stay short and an insert is usually an
    // append. (Sorted trees here allocated two nodes and an enumerator per order.)
    private readonly List<long> _open = [];
    private readonly List<Order> _done = [];
    private readonly Dictionary<long, Order> _openOrders = [];

    // Rows go out in number order, so everything up to here is written; later updates of those orders are ignored
    // (an order can report twice after it completed, e.g. pending-cancel and canceled published together).
    private long _writtenThrough;

    /// <param name="append">True when continuing a file that already has its header (resume).</param>
    public OrdersCsvWriter(Stream stream, bool append = false)
    {
        _csv = new CsvOut(stream);
        if (!append)
        {
            _csv.Header(Columns);
        }
    }

    public void Flush() => _csv.FlushToStream();

    /// <summary>Completed orders waiting for earlier ones, and the ids of open orders.</summary>
    public OrdersCsvSnapshot Capture()
    {
        var open = new List<ClientOrderId>(_open.Count);
        foreach (var n in _open)
        {
            open.Add(_openOrders[n].Id);
        }

        var done = new List<OrderState>(_done.Count);
        foreach (var o in _done)
        {
            done.Add(o.Capture());
        }

        return new OrdersCsvSnapshot(open, done, _writtenThrough);
    }

    /// <summary>Restores from a snapshot; open orders are the kernel's restored objects, found by id.</summary>
    public void Restore(OrdersCsvSnapshot snapshot, Func<ClientOrderId, Order?> find)
    {
        _open.Clear();
        _openOrders.Clear();
        _done.Clear();
        foreach (var id in snapshot.Open)
        {
            var order = find(id) ?? throw new SnapshotException($"order {id} of orders.csv is not in the snapshot's order book");
            AddOpen(order.Number);
            _openOrders[order.Number] = order;
        }

        foreach (var o in snapshot.Done)
        {
            SetDone(Order.Restore(o));
        }

        _writtenThrough = snapshot.WrittenThrough;
    }

    public long Rows => _csv.Rows - 1;

    public void Handle(in OrderUpdate evt, long sequence)
    {
        var order = evt.Order;
        if (order.Number <= _writtenThrough)
        {
            return;
        }

        if (order.IsComplete)
        {
            if (_openOrders.Remove(order.Number))
            {
                int i = _open.BinarySearch(order.Number);
                _open.RemoveAt(i);
            }

            if (_done.Count == 0 && (_open.Count == 0 || order.Number < _open[0]))
            {
                // Nothing written is waiting and no earlier order is open: the common case goes straight out.
                Write(order);
                _writtenThrough = order.Number;
                return;
            }

            SetDone(order);
            FlushReady();
        }
        else if (AddOpen(order.Number))
        {
            _openOrders[order.Number] = order;
        }
    }

    private bool AddOpen(long number)
    {
        if (_open.Count == 0 || number > _open[^1])
        {
            _open.Add(number);
            return true;
        }

        int i = _open.BinarySearch(number);
        if (i >= 0)
        {
            return false;
        }

        _open.Insert(~i, number);
        return true;
    }

    /// <summary>Adds a completed order in number order; a later state of the same order replaces the earlier one.</summary>
    private void SetDone(Order order)
    {
        long n = order.Number;
        if (_done.Count == 0 || n > _done[^1].Number)
        {
            _done.Add(order);
            return;
        }

        int lo = 0, hi = _done.Count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            long m = _done[mid].Number;
            if (m == n)
            {
                _done[mid] = order;
                return;
            }

            if (m < n)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        _done.Insert(lo, order);
    }

    /// <summary>Writes everything left, open orders included, in creation order.</summary>
    public void Finish()
    {
        foreach (var (_, o) in _openOrders)
        {
            SetDone(o);
        }

        _open.Clear();
        _openOrders.Clear();
        FlushReady();
    }

    private void FlushReady()
    {
        long limit = _open.Count == 0 ? long.MaxValue : _open[0];
        int written = 0;
        while (written < _done.Count && _done[written].Number < limit)
        {
            Write(_done[written]);
            _writtenThrough = _done[written].Number;
            written++;
        }

        _done.RemoveRange(0, written);
    }

    private void Write(Order o)
    {
        _csv.Long(o.Number).Text(o.Id.Value).Text(o.Instrument.Symbol).Text(o.Side.ToText()).Text(o.Type.ToText())
            .Quantity(o.Quantity).Price(o.LimitPrice).Price(o.StopPrice).Text(o.TimeInForce.ToText()).Text(o.Status.ToText())
            .Time(o.CreatedAt).Time(o.LastEventAt).Quantity(o.FilledQuantity).Price(o.AverageFillPrice).Money(o.Commission)
            .Text(o.Contingency.ToText()).Text(o.ParentId?.Value).Text(o.VenueOrderId?.Value).Text(o.Tag).Text(o.Reason).EndRow();
    }

    public void Dispose() => _csv.Dispose();
}

/// <summary>fills.csv: one row per execution, in the order they happened.</summary>
public sealed class FillsCsvWriter : IEventHandler<FillBooked>, IDisposable
{
    public static readonly string[] Columns =
        ["time", "client_order_id", "trade_id", "instrument", "side", "quantity", "price", "commission", "realized_pnl", "position_after"];

    private readonly CsvOut _csv;

    public FillsCsvWriter(Stream stream, bool append = false)
    {
        _csv = new CsvOut(stream);
        if (!append)
        {
            _csv.Header(Columns);
        }
    }

    public void Flush() => _csv.FlushToStream();

    public void Handle(in FillBooked evt, long sequence)
    {
        var f = evt.Fill;
        _csv.Time(f.TsEvent).Text(f.ClientOrderId.Value).Text(f.TradeId.Value).Text(f.Instrument.Symbol).Text(f.Side.ToText())
            .Quantity(f.LastQty).Price(f.LastPx).Money(f.Commission).Money(evt.Effect.RealizedPnl).Quantity(evt.Position.Quantity).EndRow();
    }

    public void Dispose() => _csv.Dispose();
}

/// <summary>trades.csv: closed round trips as they close, then trades still open at the end (status <c>open</c>).</summary>
public sealed class TradesCsvWriter : IDisposable
{
    public static readonly string[] Columns =
    [
        "trade_id", "instrument", "direction", "entry_time", "entry_price", "exit_time", "exit_price", "quantity",
        "gross_pnl", "commission", "net_pnl", "return", "bars_held", "status",
    ];

    private readonly CsvOut _csv;

    public TradesCsvWriter(Stream stream, bool append = false)
    {
        _csv = new CsvOut(stream);
        if (!append)
        {
            _csv.Header(Columns);
        }
    }

    public void Flush() => _csv.FlushToStream();

    public void Write(Trade t)
    {
        _csv.Long(t.Id).Text(t.Instrument.Symbol).Text(t.Direction == PositionSide.Long ? "long" : "short")
            .Time(t.EntryTime).Price(t.EntryPrice);
        if (t.ExitTime is Timestamp exit)
        {
            _csv.Time(exit);
        }
        else
        {
            _csv.Empty();
        }

        _csv.Price(t.ExitPrice).Quantity(t.Quantity).Money(t.GrossPnl).Money(t.Commission).Money(t.NetPnl)
            .Fixed(t.Return, 10).Long(t.BarsHeld).Text(t.IsOpen ? "open" : "closed").EndRow();
    }

    public void Dispose() => _csv.Dispose();
}

/// <summary>equity.csv: one row per time slice, formatted and written on its own thread.</summary>
public sealed class EquityCsvWriter : IEquitySink, IDisposable
{
    public static readonly string[] Columns = ["time", "equity", "cash", "positions_value", "drawdown"];

    private readonly CsvOut _csv;
    private readonly BlockWriter<Row> _blocks;
    private readonly MoneyTextCache _equityText = new();
    private readonly MoneyTextCache _cashText = new();

    public EquityCsvWriter(Stream stream, bool append = false)
    {
        _csv = new CsvOut(stream);
        if (!append)
        {
            _csv.Header(Columns);
        }

        _blocks = new BlockWriter<Row>(WriteBlock, "keel-equity-writer");
    }

    /// <summary>Writes every row handed so far to the stream (waits for the writer thread).</summary>
    public void Flush()
    {
        _blocks.Flush();
        _csv.FlushToStream();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void OnEquity(Timestamp time, Money equity, Money cash, double drawdown)
    {
        // Stored straight into the block, field by field (a row built on the stack and copied whole made the copy wait
        // for the stores it had just made: about a third of this call's samples).
        ref var row = ref _blocks.Next();
        row.Time = time;
        row.Equity = equity;
        row.Cash = cash;
        row.Drawdown = drawdown;
        _blocks.Added();
    }

    /// <summary>Waits until every row is written; rethrows a write error.</summary>
    public void Complete() => _blocks.Complete();

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void WriteBlock(Row[] rows, int count)
    {
        var csv = _csv;
        for (int i = 0; i < count; i++)
        {
            ref readonly var r = ref rows[i];
            csv.Time(r.Time).Money(r.Equity, _equityText).Money(r.Cash, _cashText);
            var positions = r.Equity - r.Cash;
            if (positions.IsZero)
            {
                csv.Field("0"u8);
            }
            else
            {
                csv.Money(positions);
            }

            if (r.Drawdown == 0)
            {
                csv.Field("0"u8);
            }
            else
            {
                csv.Fixed(r.Drawdown, 10);
            }

            csv.EndRow();
        }
    }

    /// <summary>Stops the writer thread; rows not yet completed are dropped (the run failed or was abandoned).</summary>
    public void Dispose()
    {
        _blocks.Dispose();
        _csv.Dispose();
    }

    private struct Row
    {
        public Timestamp Time;
        public Money Equity;
        public Money Cash;
        public double Drawdown;
    }
}
