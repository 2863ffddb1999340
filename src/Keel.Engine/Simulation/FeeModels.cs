using Keel.Domain;
using Keel.Domain.Orders;

namespace Keel.Engine.Simulation;

/// <summary>Computes the commission of one fill.</summary>
public interface ICommissionModel
{
    /// <param name="firstFillOfOrder">True for the order's first fill (per-order fees are charged once).</param>
    Money Compute(OrderSide side, Quantity quantity, Price price, bool firstFillOfOrder);
}

public sealed class NoCommission : ICommissionModel
{
    public static NoCommission Instance { get; } = new();

    public Money Compute(OrderSide side, Quantity quantity, Price price, bool firstFillOfOrder) => Money.Zero;
}

/// <summary>A fraction of traded value per side (0.001 = 0.1 %).</summary>
public sealed class PercentCommission : ICommissionModel
{
    public PercentCommission(decimal rate)
    {
        if (rate < 0m || rate >= 1m)
        {
            throw new ArgumentOutOfRangeException(nameof(rate), $"commission rate was {rate}; it must be at least 0 and below 1");
        }

        Rate = rate;
        _rateNanos = (long)(rate * 1_000_000_000m);
        if (_rateNanos != rate * 1_000_000_000m)
        {
            throw new ArgumentOutOfRangeException(nameof(rate), $"commission rate was {rate}; it may have at most 9 decimals");
        }
    }

    private readonly long _rateNanos;

    public decimal Rate { get; }

    public Money Compute(OrderSide side, Quantity quantity, Price price, bool firstFillOfOrder) => (price * quantity).MultiplyByRate(_rateNanos);
}

/// <summary>A fee per share or unit, with an optional minimum per fill.</summary>
public sealed class PerShareCommission : ICommissionModel
{
    public PerShareCommission(Money perShare, Money minimum)
    {
        if (perShare.IsNegative || minimum.IsNegative)
        {
            throw new ArgumentOutOfRangeException(nameof(perShare), $"per-share commission {perShare} and minimum {minimum} must not be negative");
        }

        PerShare = perShare;
        Minimum = minimum;
    }

    public Money PerShare { get; }

    public Money Minimum { get; }

    public Money Compute(OrderSide side, Quantity quantity, Price price, bool firstFillOfOrder)
    {
        // PerShare (1e-18) × quantity (1e-9): scale back by 1e9, rounding half to even.
        var fee = PerShare.Scale(quantity.Raw, Quantity.Scale);
        return Money.Max(fee, Minimum);
    }
}

/// <summary>A flat fee per order, charged on its first fill.</summary>
public sealed class PerOrderCommission : ICommissionModel
{
    public PerOrderCommission(Money amount)
    {
        if (amount.IsNegative)
        {
            throw new ArgumentOutOfRangeException(nameof(amount), $"per-order commission was {amount}; it must not be negative");
        }

        Amount = amount;
    }

    public Money Amount { get; }

    public Money Compute(OrderSide side, Quantity quantity, Price price, bool firstFillOfOrder) => firstFillOfOrder ? Amount : Money.Zero;
}

/// <summary>The sum of several models (for example a percentage plus a per-order fee).</summary>
public sealed class CompositeCommission(IReadOnlyList<ICommissionModel> models) : ICommissionModel
{
    public IReadOnlyList<ICommissionModel> Models { get; } = models;

    public Money Compute(OrderSide side, Quantity quantity, Price price, bool firstFillOfOrder)
    {
        var total = Money.Zero;
        foreach (var m in Models)
        {
            total += m.Compute(side, quantity, price, firstFillOfOrder);
        }

        return total;
    }
}

/// <summary>Moves a market or stop fill price against the trader.</summary>
public interface ISlippageModel
{
    Price Apply(OrderSide side, Price price, Instrument instrument);
}

public sealed class NoSlippage : ISlippageModel
{
    public static NoSlippage Instance { get; } = new();

    public Price Apply(OrderSide side, Price price, Instrument instrument) => price;
}

/// <summary>A fraction of the price (0.0005 = 5 bps), rounded to the tick against the trader.</summary>
public sealed class PercentSlippage : ISlippageModel
{
    public PercentSlippage(decimal fraction)
    {
        if (fraction < 0m || fraction >= 1m)
        {
            throw new ArgumentOutOfRangeException(nameof(fraction), $"slippage was {fraction}; it must be at least 0 and below 1");
        }

        Fraction = fraction;
        _rateNanos = (long)decimal.Round(fraction * 1_000_000_000m, 0, MidpointRounding.ToEven);
    }

    private readonly long _rateNanos;

    public decimal Fraction { get; }

    public Price Apply(OrderSide side, Price price, Instrument instrument)
    {
        long delta = FixedPoint.MultiplyDivide(price.Raw, _rateNanos, 1_000_000_000L);
        return side == OrderSide.Buy
            ? Price.FromRaw(checked(price.Raw + delta)).CeilingTo(instrument.TickSize)
            : Price.FromRaw(checked(price.Raw - delta)).FloorTo(instrument.TickSize);
    }
}

/// <summary>A fixed number of ticks against the trader.</summary>
public sealed class TickSlippage(int ticks) : ISlippageModel
{
    public int Ticks { get; } = ticks >= 0 ? ticks : throw new ArgumentOutOfRangeException(nameof(ticks), $"slippage ticks was {ticks}; it must not be negative");

    public Price Apply(OrderSide side, Price price, Instrument instrument)
    {
        var delta = Price.FromRaw(checked(instrument.TickSize.Raw * Ticks));
        return side == OrderSide.Buy ? price + delta : price - delta;
    }
}
