using Keel.Domain;
using Keel.Domain.Orders;
using Keel.Engine.Orders;
using Keel.Engine.Strategies;

namespace Keel.Engine.Kernel;

internal enum IntentKind
{
    Signal = 1,
    Submit = 2,
    Bracket = 3,
    Oco = 4,
    Cancel = 5,
    Replace = 6,
    Note = 7,
}

internal readonly record struct Intent(
    IntentKind Kind,
    InstrumentId Instrument,
    SignalAction Action,
    Quantity Quantity,
    OrderRequest Request,
    OrderRequest Second,
    ClientOrderId Id,
    ClientOrderId Id2,
    ClientOrderId Id3,
    Price? Price1,
    Price? Price2,
    Price? Price3,
    string? Tag,
    string? Message = null,
    bool Warning = false);

/// <summary>The reusable buffer behind <see cref="IIntents"/>; the kernel drains it after each strategy call.</summary>
internal sealed class IntentBuffer(OrderManager orders) : IIntents
{
    private readonly List<Intent> _items = new(16);

    public int Count => _items.Count;

    public Intent this[int index] => _items[index];

    public void Clear() => _items.Clear();

    public void Signal(InstrumentId instrument, SignalAction action, Quantity quantity = default, string? tag = null) =>
        _items.Add(new Intent(IntentKind.Signal, instrument, action, quantity, default, default, default, default, default, null, null, null, tag));

    public ClientOrderId Submit(in OrderRequest request)
    {
        var id = orders.NextId();
        _items.Add(new Intent(IntentKind.Submit, request.Instrument, default, default, request, default, id, default, default, null, null, null, request.Tag));
        return id;
    }

    public BracketOrderIds SubmitBracket(in OrderRequest entry, Price stopLoss, Price takeProfit, Price? stopLossLimit = null)
    {
        var ids = new BracketOrderIds(orders.NextId(), orders.NextId(), orders.NextId());
        _items.Add(new Intent(IntentKind.Bracket, entry.Instrument, default, default, entry, default, ids.Entry, ids.StopLoss, ids.TakeProfit, stopLoss, takeProfit, stopLossLimit, entry.Tag));
        return ids;
    }

    public (ClientOrderId First, ClientOrderId Second) SubmitOco(in OrderRequest first, in OrderRequest second)
    {
        var a = orders.NextId();
        var b = orders.NextId();
        _items.Add(new Intent(IntentKind.Oco, first.Instrument, default, default, first, second, a, b, default, null, null, null, first.Tag));
        return (a, b);
    }

    public void Cancel(ClientOrderId id) =>
        _items.Add(new Intent(IntentKind.Cancel, default, default, default, default, default, id, default, default, null, null, null, null));

    public void Note(string code, string message, bool warning = false) =>
        _items.Add(new Intent(IntentKind.Note, default, default, default, default, default, default, default, default, null, null, null, code, message, warning));

    public ClientOrderId Replace(ClientOrderId id, Quantity? quantity = null, Price? limitPrice = null, Price? stopPrice = null)
    {
        var newId = orders.NextId();
        _items.Add(new Intent(IntentKind.Replace, default, default, quantity ?? default, default, default, id, newId, default, limitPrice, stopPrice, null, null));
        return newId;
    }
}
