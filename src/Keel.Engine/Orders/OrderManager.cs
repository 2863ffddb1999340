using Keel.Domain;
using Keel.Domain.Orders;
using Keel.Engine.Persistence;
using Keel.Engine.Risk;

namespace Keel.Engine.Orders;

/// <summary>
/// Owns the kernel's orders: assigns deterministic client ids (<c>prefix + n</c>), keeps open orders, and keeps a
/// bounded cache of completed ones so memory stays flat on long runs.
/// </summary>
public sealed class OrderManager : ISnapshotable<OrderBookSnapshot>
{
    private readonly Dictionary<ClientOrderId, Order> _open = [];
    private readonly List<Order> _openList = [];
    // Recently completed orders, in a ring indexed by order number (ids are prefix + number), so remembering and
    // forgetting them costs no hashing. Orders whose ids do not follow the pattern (adopted ones) use the dictionary.
    private readonly Order?[] _recent;
    private readonly Dictionary<ClientOrderId, Order> _completedOther = [];

    // The order created last: most events are about it (submitted, accepted, filled), and they carry the very id
    // object it was created with, so it is found without hashing the id.
    private Order? _last;

    public OrderManager(string idPrefix, int completedCapacity = 1024)
    {
        if (string.IsNullOrEmpty(idPrefix) || idPrefix.Length > 24)
        {
            throw new ArgumentException($"client order id prefix '{idPrefix}' must have 1 to 24 characters", nameof(idPrefix));
        }

        IdPrefix = idPrefix;
        _recent = new Order?[Math.Max(1, completedCapacity)];
    }

    public string IdPrefix { get; }

    /// <summary>How many ids were handed out (the next id is this + 1).</summary>
    public long Counter { get; private set; }

    public IReadOnlyList<Order> Open => _openList;

    public ClientOrderId NextId() => ClientOrderId.Create(IdPrefix, ++Counter);

    /// <summary>Resume: continue numbering after <paramref name="counter"/>.</summary>
    public void RestoreCounter(long counter) => Counter = counter;

    public Order Create(ClientOrderId id, in OrderRequest request, Timestamp now, ContingencyType contingency = ContingencyType.None, ClientOrderId? parentId = null)
    {
        long number = ParseNumber(id);
        var order = new Order(id, request, now, contingency, parentId, number);
        _open.Add(id, order);
        _openList.Add(order);
        _last = order;
        return order;
    }

    /// <summary>Adopts an order rebuilt elsewhere (resume, reconciliation).</summary>
    public void Adopt(Order order)
    {
        if (order.IsComplete)
        {
            RememberCompleted(order);
        }
        else
        {
            _open.Add(order.Id, order);
            _openList.Add(order);
        }
    }

    public Order? Find(ClientOrderId id)
    {
        if (_last is { } last && ReferenceEquals(last.Id.Value, id.Value))
        {
            return last;
        }

        if (_open.TryGetValue(id, out var o))
        {
            return o;
        }

        long number = ParseNumber(id);
        if (number > 0)
        {
            var recent = _recent[number % _recent.Length];
            return recent is not null && recent.Id == id ? recent : null;
        }

        return _completedOther.TryGetValue(id, out var c) ? c : null;
    }

    /// <summary>Call after an event was applied; moves a completed order out of the open set.</summary>
    public void Updated(Order order)
    {
        if (order.IsComplete && _open.Remove(order.Id))
        {
            _openList.Remove(order);
            RememberCompleted(order);
        }
    }

    public int OpenCount(InstrumentId instrument)
    {
        int n = 0;
        foreach (var o in _openList)
        {
            if (o.Instrument == instrument && o.Status != OrderStatus.Pending)
            {
                n++;
            }
        }

        return n;
    }

    /// <summary>Working quantities and the number of open orders in one instrument (for the risk gate).</summary>
    public WorkingExposure Exposure(InstrumentId instrument)
    {
        var buys = Quantity.Zero;
        var sells = Quantity.Zero;
        int count = 0;
        foreach (var o in _openList)
        {
            if (o.Status == OrderStatus.Pending)
            {
                continue;
            }

            count++;
            if (o.Instrument != instrument || o.ParentId is not null)
            {
                continue;
            }

            if (o.Side == OrderSide.Buy)
            {
                buys += o.LeavesQuantity;
            }
            else
            {
                sells += o.LeavesQuantity;
            }
        }

        return new WorkingExposure(buys, sells, count);
    }

    /// <summary>Leaves quantity of working orders on one side in one instrument (to avoid closing a position twice).</summary>
    public Quantity WorkingQuantity(InstrumentId instrument, OrderSide side)
    {
        var q = Quantity.Zero;
        foreach (var o in _openList)
        {
            if (o.Instrument == instrument && o.Side == side && o.ParentId is null && o.Status != OrderStatus.Pending)
            {
                q += o.LeavesQuantity;
            }
        }

        return q;
    }

    private void RememberCompleted(Order order)
    {
        if (order.Number > 0)
        {
            _recent[order.Number % _recent.Length] = order;
        }
        else if (_completedOther.Count < _recent.Length)
        {
            _completedOther[order.Id] = order;
        }
    }

    /// <summary>The recently completed orders still remembered (a late fill or a reconciliation finds them here).</summary>
    public IEnumerable<Order> Recent
    {
        get
        {
            foreach (var o in _recent)
            {
                if (o is not null)
                {
                    yield return o;
                }
            }

            foreach (var o in _completedOther.Values)
            {
                yield return o;
            }
        }
    }

    public OrderBookSnapshot Capture()
    {
        var open = new List<OrderState>(_openList.Count);
        foreach (var o in _openList)
        {
            open.Add(o.Capture());
        }

        var recent = new List<OrderState>();
        foreach (var o in _recent)
        {
            if (o is not null)
            {
                recent.Add(o.Capture());
            }
        }

        foreach (var o in _completedOther.Values)
        {
            recent.Add(o.Capture());
        }

        return new OrderBookSnapshot(Counter, open, recent);
    }

    public void Restore(OrderBookSnapshot snapshot)
    {
        _open.Clear();
        _openList.Clear();
        Array.Clear(_recent);
        _completedOther.Clear();
        _last = null;
        Counter = snapshot.Counter;
        foreach (var o in snapshot.Open)
        {
            Adopt(Order.Restore(o));
        }

        foreach (var o in snapshot.Recent)
        {
            Adopt(Order.Restore(o));
        }
    }

    /// <summary>The number in an id of this manager's form (prefix + digits), or 0.</summary>
    private long ParseNumber(ClientOrderId id)
    {
        var text = id.Value.AsSpan();
        if (!text.StartsWith(IdPrefix, StringComparison.Ordinal) || text.Length == IdPrefix.Length || text.Length - IdPrefix.Length > 18)
        {
            return 0;
        }

        long n = 0;
        foreach (char c in text[IdPrefix.Length..])
        {
            if (c is < '0' or > '9')
            {
                return 0;
            }

            n = (n * 10) + (c - '0');
        }

        return n;
    }
}

/// <summary>The state of an <see cref="OrderManager"/>: its id counter, open orders and the recently completed ones it keeps.</summary>
public sealed record OrderBookSnapshot(long Counter, IReadOnlyList<OrderState> Open, IReadOnlyList<OrderState> Recent);
