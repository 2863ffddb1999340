using Keel.Domain;
using Keel.Domain.Portfolio;

namespace Keel.Engine.Persistence;

/// <summary>The state of a <see cref="Portfolio"/> (the domain type stays free of serialization).</summary>
public sealed record PortfolioSnapshot(Money Cash, Money Commissions, Money Realized, IReadOnlyList<PositionSnapshot> Positions)
{
    public static PortfolioSnapshot Of(Portfolio portfolio)
    {
        var positions = new List<PositionSnapshot>(portfolio.Positions.Count);
        foreach (var p in portfolio.Positions)
        {
            positions.Add(new PositionSnapshot(p.Instrument, p.Quantity, p.CostBasis, p.RealizedPnl, p.Commissions, p.LastPrice));
        }

        return new PortfolioSnapshot(portfolio.Cash, portfolio.TotalCommissions, portfolio.RealizedPnl, positions);
    }

    public void RestoreInto(Portfolio portfolio)
    {
        var positions = new List<(InstrumentId, Quantity, Money, Money, Money, Price)>(Positions.Count);
        foreach (var p in Positions)
        {
            positions.Add((p.Instrument, p.Quantity, p.CostBasis, p.Realized, p.Commissions, p.LastPrice));
        }

        portfolio.Restore(Cash, Commissions, Realized, positions);
    }
}

/// <summary>One position of a <see cref="PortfolioSnapshot"/>.</summary>
public sealed record PositionSnapshot(InstrumentId Instrument, Quantity Quantity, Money CostBasis, Money Realized, Money Commissions, Price LastPrice);
