using Keel.Domain;
using Keel.Domain.Orders;

namespace Keel.Engine.Risk;

/// <summary>A loss limit: an amount in the account currency, or a percentage of a base (day-start equity, the equity peak).</summary>
public readonly record struct LossLimit(Money? Amount, decimal? Percent)
{
    /// <summary>A limit of a fixed amount.</summary>
    public static LossLimit Of(Money amount) => new(amount, null);

    /// <summary>A limit of <paramref name="percent"/> % of the base.</summary>
    public static LossLimit OfPercent(decimal percent) => new(null, percent);

    /// <summary>Parses <c>2%</c> (a percentage) or <c>5000</c> (an amount); null when the text is neither.</summary>
    public static LossLimit? TryParse(string text)
    {
        text = text.Trim();
        if (text.EndsWith('%'))
        {
            return decimal.TryParse(text.AsSpan(0, text.Length - 1), System.Globalization.NumberStyles.Number, System.Globalization.CultureInfo.InvariantCulture, out decimal p)
                ? OfPercent(p)
                : null;
        }

        return Money.TryParse(text, out var amount) ? Of(amount) : null;
    }

    /// <summary>The limit in money for a base value.</summary>
    public Money Resolve(Money basis) => Amount ?? Money.Abs(basis).MultiplyBy(Percent!.Value / 100m);

    /// <summary>Returns what is wrong with the limit, or null.</summary>
    public string? Validate(string name) => (Amount, Percent) switch
    {
        ({ IsPositive: true }, null) => null,
        (null, > 0m and <= 100m) => null,
        (Money a, null) => $"{name} was {a}; it must be positive",
        (null, decimal p) => $"{name} was {p}%; it must lie above 0 % and at most 100 %",
        _ => $"{name} must be an amount or a percentage",
    };

    /// <summary>The exact text <see cref="TryParse"/> reads back (<c>2%</c>, <c>5000</c>).</summary>
    public string ToText() => Amount is Money a ? a.ToString() : Percent!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) + "%";

    /// <inheritdoc />
    public override string ToString() => Amount is Money a ? a.ToFixed(2) : $"{Percent}%";
}

/// <summary>The risk gate's states: every order, only reducing orders, nothing new (reducing orders still pass).</summary>
public enum RiskMode
{
    Active = 1,
    Reducing = 2,
    Halted = 3,
}

/// <summary>
/// The enhanced risk gate's state, part of the kernel snapshot. <see cref="Day"/> is the UTC day number of the last
/// observation; <see cref="OpenedToday"/> the symbols with an opening order approved that day and
/// <see cref="DayTradeDays"/> the days of the day trades in the last 5 trading days (pattern-day-trader rule);
/// <see cref="HaltedUntilDay"/> is the last day a halt lasts (<see cref="long.MaxValue"/>: for good, 0:
/// not halted); <see cref="OrderTimes"/> are the event times (Unix ns) of the orders approved in the rate window.
/// </summary>
public readonly record struct RiskState(
    RiskMode Mode,
    string? Reason,
    bool Started,
    long Day,
    Money DayStartEquity,
    Money LastEquity,
    Money Peak,
    long HaltedUntilDay,
    string? HaltReason,
    long[]? OrderTimes,
    string[]? OpenedToday = null,
    long[]? DayTradeDays = null);

/// <summary>What the account looks like to the rules at the moment of a decision.</summary>
public readonly record struct RiskAccount(Money Equity, Money GrossExposure, Money SymbolExposure);

/// <summary>The state moved: from, to and why.</summary>
public readonly record struct RiskTransition(RiskMode From, RiskMode To, string Reason);

/// <summary>
/// The enhanced risk rules as pure functions: state and inputs in, decision and new state out. Daily loss (from the
/// equity at the end of the previous UTC day) halts for the rest of the day; drawdown from the equity peak halts for
/// good; a warning level of either puts the run in REDUCING; an order rate limit and exposure limits deny opening orders.
/// Orders that only reduce a position always pass.
/// </summary>
public static class RiskRules
{
    /// <summary>Brings the state up to date with the equity at <paramref name="time"/>; the transition, if the mode changed.</summary>
    public static RiskState Observe(RiskState state, Money equity, Timestamp time, RiskLimits limits, out RiskTransition? transition)
    {
        long day = time.UtcDayNumber;
        var next = state;
        if (!state.Started)
        {
            next = next with { Started = true, Day = day, DayStartEquity = equity, Peak = equity, Mode = RiskMode.Active };
        }
        else if (day != state.Day)
        {
            next = next with { Day = day, DayStartEquity = state.LastEquity, OpenedToday = null };
        }

        if (equity > next.Peak)
        {
            next = next with { Peak = equity };
        }

        next = next with { LastEquity = equity };
        string back = "losses are back below the limits";
        if (next.HaltedUntilDay != 0 && day > next.HaltedUntilDay)
        {
            next = next with { HaltedUntilDay = 0, HaltReason = null };
            back = "a new trading day began";
        }

        var dayLoss = next.DayStartEquity - equity;
        var drawdown = next.Peak - equity;
        string? warning = null;
        if (next.HaltedUntilDay == 0 && limits.MaxDrawdown is LossLimit ddLimit)
        {
            var limit = ddLimit.Resolve(next.Peak);
            if (drawdown >= limit)
            {
                next = next with { HaltedUntilDay = long.MaxValue, HaltReason = $"drawdown {drawdown.ToFixed(2)} from the equity peak {next.Peak.ToFixed(2)} reached the limit of {limit.ToFixed(2)} ({ddLimit})" };
            }
            else if (limits.WarningFraction is decimal w && drawdown >= limit.MultiplyBy(w))
            {
                warning = $"drawdown {drawdown.ToFixed(2)} from the equity peak {next.Peak.ToFixed(2)} reached the warning level of {limit.MultiplyBy(w).ToFixed(2)}";
            }
        }

        if (next.HaltedUntilDay == 0 && limits.MaxDailyLoss is LossLimit dlLimit)
        {
            var limit = dlLimit.Resolve(next.DayStartEquity);
            if (dayLoss >= limit)
            {
                next = next with { HaltedUntilDay = day, HaltReason = $"daily loss {dayLoss.ToFixed(2)} reached the limit of {limit.ToFixed(2)} ({dlLimit}) for the rest of the day" };
            }
            else if (warning is null && limits.WarningFraction is decimal w && dayLoss >= limit.MultiplyBy(w))
            {
                warning = $"daily loss {dayLoss.ToFixed(2)} reached the warning level of {limit.MultiplyBy(w).ToFixed(2)}";
            }
        }

        var previous = state.Started ? state.Mode : RiskMode.Active;
        var (mode, reason) = next.HaltedUntilDay != 0 ? (RiskMode.Halted, next.HaltReason!)
            : warning is not null ? (RiskMode.Reducing, warning)
            : (RiskMode.Active, back);
        transition = mode != previous ? new RiskTransition(previous, mode, reason) : null;
        return next with { Mode = mode, Reason = mode == RiskMode.Active ? null : reason };
    }

    /// <summary>
    /// Approves or denies a new order under the state's mode, the order rate, the exposure limits and the
    /// pattern-day-trader rule; an approved
    /// opening order is counted in the rate window of the new state.
    /// </summary>
    public static RiskDecision Evaluate(
        in OrderRequest order,
        Quantity currentPosition,
        Price referencePrice,
        in RiskAccount account,
        Timestamp time,
        RiskLimits limits,
        RiskState state,
        out RiskState next)
    {
        next = state;
        var signed = order.Side == OrderSide.Buy ? order.Quantity : -order.Quantity;
        bool reducesOnly = !currentPosition.IsZero && currentPosition.Sign != signed.Sign && order.Quantity <= currentPosition.Abs();
        if (reducesOnly)
        {
            // Closing what was opened the same day is a day trade; it is always allowed, and counted.
            if (limits.PatternDayTrader && state.OpenedToday is { } opened && Array.IndexOf(opened, order.Instrument.Symbol) >= 0)
            {
                long day = time.UtcDayNumber;
                next = state with { DayTradeDays = [.. RecentDayTrades(state.DayTradeDays, day), day] };
            }

            return RiskDecision.Approve;
        }

        if (state.Mode is RiskMode.Reducing or RiskMode.Halted)
        {
            return RiskDecision.Deny($"risk state is {state.Mode.ToString().ToUpperInvariant()} ({state.Reason}); only orders that reduce a position are allowed");
        }

        long now = time.UnixNanos;
        long windowStart = now - (limits.OrderRateWindow.Ticks * 100);
        var times = state.OrderTimes ?? [];
        int inWindow = 0;
        foreach (long t in times)
        {
            if (t > windowStart)
            {
                inWindow++;
            }
        }

        if (limits.MaxOrdersPerWindow is int maxOrders && inWindow >= maxOrders)
        {
            return RiskDecision.Deny($"{inWindow} orders in the last {limits.OrderRateWindow.TotalSeconds:0.###} s reached the order rate limit of {maxOrders}");
        }

        var price = order.LimitPrice ?? order.StopPrice ?? referencePrice;
        if (price.Raw > 0 && (limits.MaxSymbolExposure.Count > 0 || limits.MaxTotalExposure is not null))
        {
            var projected = price * (currentPosition + signed).Abs();
            if (limits.MaxSymbolExposure.TryGetValue(order.Instrument.Symbol, out var symbolLimit) && projected > symbolLimit)
            {
                return RiskDecision.Deny($"exposure in {order.Instrument} would reach {projected.ToFixed(2)}, above the limit of {symbolLimit.ToFixed(2)}");
            }

            var total = account.GrossExposure - account.SymbolExposure + projected;
            if (limits.MaxTotalExposure is Money totalLimit && total > totalLimit)
            {
                return RiskDecision.Deny($"total exposure would reach {total.ToFixed(2)}, above the limit of {totalLimit.ToFixed(2)}");
            }
        }

        if (limits.PatternDayTrader && account.Equity < limits.PdtEquityThreshold)
        {
            int dayTrades = RecentDayTrades(state.DayTradeDays, time.UtcDayNumber).Length;
            if (dayTrades >= 3)
            {
                return RiskDecision.Deny($"pattern day trader rule: {dayTrades} day trades in the last 5 trading days with equity {account.Equity.ToFixed(2)} below {limits.PdtEquityThreshold.ToFixed(2)}");
            }
        }

        if (limits.PatternDayTrader && Array.IndexOf(state.OpenedToday ?? [], order.Instrument.Symbol) < 0)
        {
            next = next with { OpenedToday = [.. state.OpenedToday ?? [], order.Instrument.Symbol] };
        }

        if (limits.MaxOrdersPerWindow is not null)
        {
            var kept = new long[inWindow + 1];
            int i = 0;
            foreach (long t in times)
            {
                if (t > windowStart)
                {
                    kept[i++] = t;
                }
            }

            kept[i] = now;
            next = next with { OrderTimes = kept };
        }

        return RiskDecision.Approve;
    }

    /// <summary>The day trades within the 5 trading days (Monday to Friday, UTC) ending on <paramref name="today"/>.</summary>
    private static long[] RecentDayTrades(long[]? days, long today)
    {
        if (days is null || days.Length == 0)
        {
            return [];
        }

        // The first of the 5 weekdays ending today (day 0, 1970-01-01, was a Thursday: weekday = (day + 3) % 7, Monday 0).
        long first = today;
        for (int counted = IsWeekday(today) ? 1 : 0; counted < 5; first--)
        {
            if (IsWeekday(first - 1))
            {
                counted++;
            }
        }

        return [.. days.Where(d => d >= first)];

        static bool IsWeekday(long day) => ((day % 7) + 7 + 3) % 7 < 5;
    }
}
