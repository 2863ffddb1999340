using Keel.Domain.Orders;

namespace Keel.Domain.Portfolio;

public enum PositionSide
{
    Flat = 1,
    Long = 2,
    Short = 3,
}

/// <summary>The effect of one fill on a position.</summary>
public readonly record struct FillEffect(Quantity ClosedQuantity, Money RealizedPnl, Quantity OpenedQuantity, Quantity PreviousQuantity);

/// <summary>
/// A net position in one instrument. <see cref="CostBasis"/> is the signed exact cost of the open quantity
/// (Σ price × signed quantity of the opening fills, less what closing fills took away proportionally).
/// </summary>
public sealed class Position
{
    public Position(InstrumentId instrument) => Instrument = instrument;

    public InstrumentId Instrument { get; }

    /// <summary>Signed: positive long, negative short.</summary>
    public Quantity Quantity { get; private set; }

    public Money CostBasis { get; private set; }

    /// <summary>Realized profit and loss from closing fills, before commissions.</summary>
    public Money RealizedPnl { get; private set; }

    /// <summary>All commissions paid on this instrument.</summary>
    public Money Commissions { get; private set; }

    /// <summary>The latest mark price.</summary>
    public Price LastPrice { get; private set; }

    public PositionSide Side => Quantity.Raw switch
    {
        > 0 => PositionSide.Long,
        < 0 => PositionSide.Short,
        _ => PositionSide.Flat,
    };

    public bool IsFlat => Quantity.IsZero;

    /// <summary>Average entry price (cost basis / quantity, rounded half to even); null when flat.</summary>
    public Price? AverageEntryPrice => Quantity.IsZero
        ? null
        : CostBasis.DivideToPrice(Quantity);

    public Money MarketValue => LastPrice * Quantity;

    public Money UnrealizedPnl => MarketValue - CostBasis;

    internal void Mark(Price price) => LastPrice = price;

    internal void Restore(Quantity quantity, Money costBasis, Money realized, Money commissions, Price lastPrice)
    {
        Quantity = quantity;
        CostBasis = costBasis;
        RealizedPnl = realized;
        Commissions = commissions;
        LastPrice = lastPrice;
    }

    internal FillEffect Apply(OrderSide side, Quantity quantity, Price price, Money commission)
    {
        if (!quantity.IsPositive)
        {
            throw new ArgumentOutOfRangeException(nameof(quantity), $"fill quantity was {quantity}; it must be positive");
        }

        Commissions += commission;
        var previous = Quantity;
        var signed = side == OrderSide.Buy ? quantity : -quantity;
        if (Quantity.IsZero || Quantity.Sign == signed.Sign)
        {
            CostBasis += price * signed;
            Quantity += signed;
            return new FillEffect(Quantity.Zero, Money.Zero, quantity, previous);
        }

        var held = Quantity.Abs();
        var closing = Quantity.Min(quantity, held);
        var removed = closing == held ? CostBasis : CostBasis.Scale(closing.Raw, held.Raw);
        var exitValue = price * closing;
        var realized = Quantity.IsPositive ? exitValue - removed : -removed - exitValue;
        CostBasis -= removed;
        RealizedPnl += realized;
        Quantity += side == OrderSide.Buy ? closing : -closing;
        var opening = quantity - closing;
        if (opening.IsPositive)
        {
            var openSigned = side == OrderSide.Buy ? opening : -opening;
            CostBasis += price * openSigned;
            Quantity += openSigned;
        }

        return new FillEffect(closing, realized, opening, previous);
    }
}
