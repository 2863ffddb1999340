using System.Runtime.CompilerServices;
using Keel.Domain.Orders;

namespace Keel.Domain.Portfolio;

/// <summary>What strategies, the risk gate and venues may read of an account.</summary>
public interface IPortfolioView
{
    Money InitialCash { get; }

    Money Cash { get; }

    Money Equity { get; }

    Money BuyingPower { get; }

    Money GrossExposure { get; }

    Money TotalCommissions { get; }

    /// <summary>True when any position is not flat.</summary>
    bool HasOpenPositions { get; }

    Quantity PositionQuantity(InstrumentId instrument);

    Position? GetPosition(InstrumentId instrument);

    IReadOnlyList<Position> Positions { get; }
}

/// <summary>
/// A single-currency cash account with positions. Buying power = equity × leverage − gross exposure,
/// so with leverage 1 a long-only account can spend exactly its cash.
/// Invariant: <c>Cash + Σ quantity × last price == Equity</c>, exactly, at all times.
/// </summary>
public sealed class Portfolio : IPortfolioView
{
    private readonly InstrumentMap<Position> _positions = new();
    private Money _equity;
    private bool _equityCurrent;

    public Portfolio(Money initialCash, decimal leverage = 1m)
    {
        if (initialCash.IsNegative)
        {
            throw new ArgumentOutOfRangeException(nameof(initialCash), $"initial cash was {initialCash}; it must not be negative");
        }

        if (leverage < 1m || leverage > 100m)
        {
            throw new ArgumentOutOfRangeException(nameof(leverage), $"leverage was {leverage}; it must be between 1 and 100");
        }

        InitialCash = initialCash;
        Cash = initialCash;
        Leverage = leverage;
    }

    public Money InitialCash { get; }

    public decimal Leverage { get; }

    public Money Cash { get; private set; }

    public Money TotalCommissions { get; private set; }

    public Money RealizedPnl { get; private set; }

    public IReadOnlyList<Position> Positions => _positions.Values;

    /// <summary>
    /// Cash plus the market value of every position. Computed once per change: a slice's several readers (the
    /// performance tracker, the report, the risk gate) share one sum of 128-bit products.
    /// </summary>
    public Money Equity
    {
        get
        {
            if (!_equityCurrent)
            {
                _equity = SumEquity();
                _equityCurrent = true;
            }

            return _equity;
        }
    }

    /// <summary>Σ |quantity × last price| over open positions.</summary>
    public Money GrossExposure
    {
        get
        {
            var gross = Money.Zero;
            foreach (var p in _positions.AsSpan())
            {
                if (!p.Quantity.IsZero)
                {
                    gross += Money.Abs(p.MarketValue);
                }
            }

            return gross;
        }
    }

    public Money BuyingPower
    {
        get
        {
            var bp = (Leverage == 1m ? Equity : Equity.MultiplyBy(Leverage)) - GrossExposure;
            return bp.IsNegative ? Money.Zero : bp;
        }
    }

    public bool HasOpenPositions
    {
        get
        {
            foreach (var p in _positions.AsSpan())
            {
                if (!p.Quantity.IsZero)
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>The number of positions that are not flat.</summary>
    public int OpenPositionCount
    {
        get
        {
            int n = 0;
            foreach (var p in _positions.AsSpan())
            {
                if (!p.Quantity.IsZero)
                {
                    n++;
                }
            }

            return n;
        }
    }

    private Money SumEquity()
    {
        var equity = Cash;
        foreach (var p in _positions.AsSpan())
        {
            if (!p.Quantity.IsZero)
            {
                equity += p.MarketValue;
            }
        }

        return equity;
    }

    public Quantity PositionQuantity(InstrumentId instrument) => GetPosition(instrument)?.Quantity ?? Quantity.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Position? GetPosition(InstrumentId instrument) => _positions.Find(instrument);

    private Position GetOrAdd(InstrumentId instrument) => _positions.GetOrAdd(instrument, static id => new Position(id));

    /// <summary>Sets the mark price of an instrument (every bar or quote).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Mark(InstrumentId instrument, Price price)
    {
        (_positions.Find(instrument) ?? GetOrAdd(instrument)).Mark(price);
        _equityCurrent = false;
    }

    /// <summary>Books a fill: moves cash, updates the position, and marks it at the fill price if it had no mark.</summary>
    public FillEffect ApplyFill(InstrumentId instrument, OrderSide side, Quantity quantity, Price price, Money commission)
    {
        _equityCurrent = false;
        var position = GetOrAdd(instrument);
        var notional = price * quantity;
        Cash = side == OrderSide.Buy ? Cash - notional - commission : Cash + notional - commission;
        TotalCommissions += commission;
        if (position.LastPrice.Raw == 0)
        {
            position.Mark(price);
        }

        var effect = position.Apply(side, quantity, price, commission);
        RealizedPnl += effect.RealizedPnl;
        return effect;
    }

    /// <summary>Restores an account from a snapshot (used by resume).</summary>
    public void Restore(Money cash, Money commissions, Money realized, IEnumerable<(InstrumentId Instrument, Quantity Quantity, Money CostBasis, Money Realized, Money Commissions, Price LastPrice)> positions)
    {
        _equityCurrent = false;
        Cash = cash;
        TotalCommissions = commissions;
        RealizedPnl = realized;
        _positions.Clear();
        foreach (var s in positions)
        {
            var p = new Position(s.Instrument);
            p.Restore(s.Quantity, s.CostBasis, s.Realized, s.Commissions, s.LastPrice);
            _positions.Add(s.Instrument, p);
        }
    }
}
