using System.Globalization;
using Keel.Domain;

namespace Keel.Engine.Risk;

/// <summary>How a sized order's quantity is chosen. Stored values: never renumber.</summary>
public enum SizingMode
{
    /// <summary>The strategy's own quantity (the run's <c>--stake</c>): nothing is resized. (The default value of <see cref="PositionSizing"/>, 0, means the same.)</summary>
    Stake = 1,

    /// <summary>A fraction of equity, in the instrument's value at the reference price (<c>equity:95%</c>).</summary>
    EquityPercent = 2,

    /// <summary>A fixed amount of cash per order (<c>cash:10000</c>).</summary>
    Cash = 3,

    /// <summary>A fraction of equity at risk between the entry and the strategy's stop (<c>risk:1%</c>).</summary>
    Risk = 4,
}

/// <summary>
/// Position sizing for opening orders: the quantity of a strategy's opening signals and bracket entries, from the account
/// and the price, in whole lots and within buying power. Exact decimal arithmetic; rounds down, never up.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><c>equity:P%</c>: quantity = equity × P / price.</item>
/// <item><c>cash:A</c>: quantity = A / price.</item>
/// <item><c>risk:P%</c>: quantity = equity × P / |price − stop|; only orders with a stop (bracket entries) can be sized so.</item>
/// </list>
/// Then the quantity is capped at buying power / price and rounded down to whole lots. The price is the order's limit
/// price, else the instrument's reference price (the last close or trade) when the strategy decided. An order that comes
/// out at zero lots is not placed; the kernel says why.
/// </remarks>
public readonly record struct PositionSizing(SizingMode Mode, decimal Value)
{
    /// <summary>No sizing: the strategy's quantity.</summary>
    public static PositionSizing Stake => default;

    public bool IsStake => Mode is SizingMode.Stake or 0;

    /// <summary>Parses <c>stake</c>, <c>equity:95%</c>, <c>cash:10000</c> or <c>risk:1%</c>; null with <paramref name="error"/> set when it is not one.</summary>
    public static PositionSizing? Parse(string text, out string? error)
    {
        error = null;
        var t = text.Trim().ToLowerInvariant();
        if (t is "stake" or "fixed")
        {
            return Stake;
        }

        int colon = t.IndexOf(':', StringComparison.Ordinal);
        var kind = colon < 0 ? t : t[..colon];
        var arg = colon < 0 ? string.Empty : t[(colon + 1)..];
        switch (kind)
        {
            case "equity":
            case "risk":
                {
                    if (!arg.EndsWith('%') || !decimal.TryParse(arg[..^1], NumberStyles.Number, CultureInfo.InvariantCulture, out var pct) || pct <= 0 || pct > (kind == "risk" ? 100 : 10_000))
                    {
                        error = kind == "equity"
                            ? "equity sizing takes a percentage of equity above 0, e.g. equity:95%"
                            : "risk sizing takes the percentage of equity to risk per trade, above 0 and at most 100, e.g. risk:1%";
                        return null;
                    }

                    return new PositionSizing(kind == "equity" ? SizingMode.EquityPercent : SizingMode.Risk, pct / 100m);
                }

            case "cash":
                if (!decimal.TryParse(arg, NumberStyles.Number, CultureInfo.InvariantCulture, out var cash) || cash <= 0)
                {
                    error = "cash sizing takes a positive amount per order, e.g. cash:10000";
                    return null;
                }

                return new PositionSizing(SizingMode.Cash, cash);
            default:
                error = "sizing must be stake, equity:P%, cash:AMOUNT or risk:P%";
                return null;
        }
    }

    /// <summary>
    /// The quantity of an opening order on <paramref name="instrument"/> at <paramref name="price"/>; zero with
    /// <paramref name="problem"/> set when it cannot be sized or comes out below one lot.
    /// </summary>
    public Quantity Size(Instrument instrument, Price price, Price? stop, Money equity, Money buyingPower, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(instrument);
        problem = null;
        var px = price.ToDecimal();
        if (px <= 0)
        {
            problem = $"no price for {instrument.Id} to size the order at";
            return Quantity.Zero;
        }

        var eq = equity.ToDecimal();
        decimal units;
        switch (Mode)
        {
            case SizingMode.EquityPercent:
                units = eq * Value / px;
                break;
            case SizingMode.Cash:
                units = Value / px;
                break;
            case SizingMode.Risk:
                if (stop is not Price s)
                {
                    problem = $"{this} needs the order's stop distance, and this order has no stop (only bracket entries can be sized by risk)";
                    return Quantity.Zero;
                }

                var perUnit = Math.Abs(px - s.ToDecimal());
                if (perUnit == 0)
                {
                    problem = $"{this} cannot size an order whose stop {s} is at its price";
                    return Quantity.Zero;
                }

                units = eq * Value / perUnit;
                break;
            default:
                problem = "no sizing";
                return Quantity.Zero;
        }

        var byBuyingPower = buyingPower.ToDecimal() / px;
        bool capped = units > byBuyingPower;
        if (capped)
        {
            units = byBuyingPower;
        }

        var lot = instrument.LotSize.ToDecimal();
        var lots = decimal.Floor(units / lot);
        if (lots <= 0)
        {
            problem = capped
                ? $"{this}: buying power {buyingPower} buys less than one lot ({instrument.LotSize}) of {instrument.Id} at {price}"
                : $"{this}: {units.ToString("0.########", CultureInfo.InvariantCulture)} {instrument.Id} at {price} is less than one lot ({instrument.LotSize})";
            return Quantity.Zero;
        }

        return Quantity.From(lots * lot);
    }

    public override string ToString() => Mode switch
    {
        SizingMode.EquityPercent => $"equity:{Pct(Value)}%",
        SizingMode.Cash => $"cash:{Value.ToString(CultureInfo.InvariantCulture)}",
        SizingMode.Risk => $"risk:{Pct(Value)}%",
        _ => "stake",
    };

    private static string Pct(decimal fraction)
    {
        var s = (fraction * 100m).ToString(CultureInfo.InvariantCulture);
        return s.Contains('.', StringComparison.Ordinal) ? s.TrimEnd('0').TrimEnd('.') : s;
    }
}
