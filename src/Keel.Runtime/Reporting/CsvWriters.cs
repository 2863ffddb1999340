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
    private readonly SortedSet<long> _open = [];
    private readonly SortedDictionary<long, Order> _done = [];
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
        foreach (var o in _done.Values)
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
            _open.Add(order.Number);
            _openOrders[order.Number] = order;
        }

        foreach (var o in snapshot.Done)
        {
            var order = Order.Restore(o);
            _done[order.Number] = order;
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
            _open.Remove(order.Number);
            _openOrders.Remove(order.Number);
            _done[order.Number] = order;
            FlushReady();
        }
        else if (_open.Add(order.Number))
        {
            _openOrders[order.Number] = order;
        }
    }

    /// <summary>Writes everything left, open orders included, in creation order.</summary>
    public void Finish()
    {
        foreach (var (n, o) in _openOrders)
        {
            _done[n] = o;
        }

        _open.Clear();
        _openOrders.Clear();
        FlushReady();
    }

    private void FlushReady()
    {
        long limit = _open.Count == 0 ? long.MaxValue : _open.Min;
        while (_done.Count > 0)
        {
            var first = _done.First();
            if (first.Key >= limit)
            {
                break;
            }

            Write(first.Value);
            _writtenThrough = first.Key;
            _done.Remove(first.Key);
        }
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
    public void OnEquity(Timestamp time, Money equity, Money cash, double drawdown) => _blocks.Add(new Row(time, equity, cash, drawdown));

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

    private readonly record struct Row(Timestamp Time, Money Equity, Money Cash, double Drawdown);
}
