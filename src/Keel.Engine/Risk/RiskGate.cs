using Keel.Domain;
using Keel.Domain.Orders;

namespace Keel.Engine.Risk;

/// <summary>Limits for opening orders. Null means no limit. Orders that only reduce a position are always allowed.</summary>
public sealed record RiskLimits(Quantity? MaxPositionQuantity = null, Money? MaxOrderNotional = null, int? MaxOpenOrders = null)
{
    // Declared before None: static initializers run in order, and None's default reads it.
    private static readonly IReadOnlyDictionary<string, Money> EmptyExposure = new Dictionary<string, Money>();

    public static RiskLimits None { get; } = new();

    /// <summary>Largest loss since the start of the trading day (UTC day) before the run halts for the rest of the day; null: no limit.</summary>
    public LossLimit? MaxDailyLoss { get; init; }

    /// <summary>Largest fall of equity from its peak before the run halts; null: no limit.</summary>
    public LossLimit? MaxDrawdown { get; init; }

    /// <summary>
    /// Fraction (0 to 1, exclusive) of the daily loss or drawdown limit at which the run goes to REDUCING (only orders
    /// that reduce a position); null: no warning level.
    /// </summary>
    public decimal? WarningFraction { get; init; }

    /// <summary>Most orders approved in any <see cref="OrderRateWindow"/> of event time; null: no limit.</summary>
    public int? MaxOrdersPerWindow { get; init; }

    /// <summary>The rolling window of <see cref="MaxOrdersPerWindow"/>, in event time (one minute by default).</summary>
    public TimeSpan OrderRateWindow { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Largest absolute notional per symbol (position plus the order, at the reference price); empty: no limit.</summary>
    public IReadOnlyDictionary<string, Money> MaxSymbolExposure { get; init; } = EmptyExposure;

    /// <summary>Largest gross notional over all positions, with the order; null: no limit.</summary>
    public Money? MaxTotalExposure { get; init; }

    /// <summary>
    /// The local pattern-day-trader rule (off by default; FINRA retired PDT in 2026): with equity below
    /// <see cref="PdtEquityThreshold"/> and 3 day trades in the last 5 trading days, opening orders are denied.
    /// </summary>
    public bool PatternDayTrader { get; init; }

    /// <summary>The equity below which <see cref="PatternDayTrader"/> applies (25,000).</summary>
    public Money PdtEquityThreshold { get; init; } = Money.From(25_000);

    /// <summary>True when a rule with state (daily loss, drawdown, order rate) or an exposure limit is on.</summary>
    public bool HasStateRules =>
        MaxDailyLoss is not null || MaxDrawdown is not null || MaxOrdersPerWindow is not null || MaxTotalExposure is not null || MaxSymbolExposure.Count > 0 || PatternDayTrader;


    /// <summary>Returns what is wrong with the limits, or null.</summary>
    public string? Validate()
    {
        if (MaxPositionQuantity is { IsPositive: false } q)
        {
            return $"max position was {q}; it must be positive";
        }

        if (MaxOrderNotional is { IsPositive: false } n)
        {
            return $"max order notional was {n}; it must be positive";
        }

        if (MaxOpenOrders is < 1)
        {
            return $"max open orders was {MaxOpenOrders}; it must be at least 1";
        }

        if (MaxDailyLoss?.Validate("max daily loss") is string dl)
        {
            return dl;
        }

        if (MaxDrawdown?.Validate("max drawdown") is string dd)
        {
            return dd;
        }

        if (WarningFraction is { } w && (w <= 0m || w >= 1m))
        {
            return $"the risk warning level was {w}; it must lie between 0 and 1";
        }

        if (MaxOrdersPerWindow is < 1)
        {
            return $"max orders per window was {MaxOrdersPerWindow}; it must be at least 1";
        }

        if (OrderRateWindow <= TimeSpan.Zero)
        {
            return $"the order rate window was {OrderRateWindow}; it must be positive";
        }

        if (MaxTotalExposure is { IsPositive: false } te)
        {
            return $"max total exposure was {te}; it must be positive";
        }

        foreach (var (symbol, limit) in MaxSymbolExposure)
        {
            if (!limit.IsPositive)
            {
                return $"max exposure of {symbol} was {limit}; it must be positive";
            }
        }

        return null;
    }
}

/// <summary>The gate's answer. <see cref="Reason"/> is null when approved.</summary>
public readonly record struct RiskDecision(bool Approved, string? Reason)
{
    public static RiskDecision Approve => new(true, null);

    public static RiskDecision Deny(string reason) => new(false, reason);
}

/// <summary>What the gate needs to know about working orders in the order's instrument.</summary>
public readonly record struct WorkingExposure(Quantity WorkingBuyQuantity, Quantity WorkingSellQuantity, int OpenOrderCount);

/// <summary>The basic risk gate: a pure function of the order, the account and the limits.</summary>
public static class RiskGate
{
    /// <summary>
    /// Approves or denies a new order. <paramref name="referencePrice"/> values a market order (the last price);
    /// limit and stop orders are valued at their own price.
    /// </summary>
    public static RiskDecision Evaluate(
        in OrderRequest order,
        Quantity currentPosition,
        in WorkingExposure working,
        Price referencePrice,
        RiskLimits limits)
    {
        var signed = order.Side == OrderSide.Buy ? order.Quantity : -order.Quantity;
        bool reducesOnly = !currentPosition.IsZero && currentPosition.Sign != signed.Sign && order.Quantity <= currentPosition.Abs();
        if (reducesOnly)
        {
            return RiskDecision.Approve;
        }

        if (limits.MaxOpenOrders is int maxOpen && working.OpenOrderCount >= maxOpen)
        {
            return RiskDecision.Deny($"open orders {working.OpenOrderCount} would exceed the limit of {maxOpen}");
        }

        if (limits.MaxPositionQuantity is Quantity maxPos)
        {
            // Worst case: this order and every working order on the same side fill.
            var sameSideWorking = order.Side == OrderSide.Buy ? working.WorkingBuyQuantity : -working.WorkingSellQuantity;
            var projected = (currentPosition + signed + sameSideWorking).Abs();
            if (projected > maxPos)
            {
                return RiskDecision.Deny($"position would reach {projected}, above the limit of {maxPos}");
            }
        }

        if (limits.MaxOrderNotional is Money maxNotional)
        {
            var price = order.LimitPrice ?? order.StopPrice ?? referencePrice;
            if (price.Raw > 0)
            {
                var notional = price * order.Quantity;
                if (notional > maxNotional)
                {
                    return RiskDecision.Deny($"order notional {notional.ToFixed(2)} is above the limit of {maxNotional.ToFixed(2)}");
                }
            }
        }

        return RiskDecision.Approve;
    }
}
