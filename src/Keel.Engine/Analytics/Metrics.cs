using System.Text.Json;
using Keel.Domain;
using Keel.Domain.Events;
using Keel.Domain.Orders;
using Keel.Domain.Portfolio;
using Keel.Engine.Kernel;
using Keel.Engine.Persistence;

namespace Keel.Engine.Analytics;

/// <summary>The state of an <see cref="OrderCounter"/>.</summary>
public sealed record OrderCountsSnapshot(long Created, long Filled, long Canceled, long Rejected, long Denied, long Expired, long Replaced, long Fills);

/// <summary>Counts orders by how they ended.</summary>
public sealed class OrderCounter : IEventHandler<OrderUpdate>, ISnapshotable<OrderCountsSnapshot>
{
    public long Created { get; private set; }

    public long Filled { get; private set; }

    public long Canceled { get; private set; }

    public long Rejected { get; private set; }

    public long Denied { get; private set; }

    public long Expired { get; private set; }

    public long Replaced { get; private set; }

    public long Fills { get; private set; }

    public OrderCountsSnapshot Capture() => new(Created, Filled, Canceled, Rejected, Denied, Expired, Replaced, Fills);

    public void Restore(OrderCountsSnapshot snapshot)
    {
        Created = snapshot.Created;
        Filled = snapshot.Filled;
        Canceled = snapshot.Canceled;
        Rejected = snapshot.Rejected;
        Denied = snapshot.Denied;
        Expired = snapshot.Expired;
        Replaced = snapshot.Replaced;
        Fills = snapshot.Fills;
    }

    public void Handle(in OrderUpdate evt, long sequence)
    {
        switch (evt.Event)
        {
            case OrderSubmitted:
                Created++;
                break;
            case OrderDenied:
                Created++;
                Denied++;
                break;
            case OrderFilled:
                Fills++;
                if (evt.Order.Status == OrderStatus.Filled)
                {
                    Filled++;
                }

                break;
            case OrderCanceled:
                Canceled++;
                break;
            case OrderRejected:
                Rejected++;
                break;
            case OrderExpired:
                Expired++;
                break;
            case OrderReplaced:
                Replaced++;
                break;
        }
    }
}

/// <summary>
/// The statistics of a run. Fractions are fractions (0.12 = 12 %). Money is exact. Ratios that are undefined
/// (no losing trade for the profit factor, fewer than two return periods for Sharpe) are null.
/// </summary>
public sealed record BacktestMetrics
{
    public required Money InitialCash { get; init; }

    public required Money FinalEquity { get; init; }

    public required Money FinalCash { get; init; }

    public Money NetProfit => FinalEquity - InitialCash;

    public required double TotalReturn { get; init; }

    public required double? Cagr { get; init; }

    public required long Orders { get; init; }

    public required long OrdersFilled { get; init; }

    public required long OrdersCanceled { get; init; }

    public required long OrdersRejected { get; init; }

    public required long OrdersDenied { get; init; }

    public required long OrdersExpired { get; init; }

    public required long Fills { get; init; }

    public required long Trades { get; init; }

    public required long OpenTrades { get; init; }

    public required long Wins { get; init; }

    public required long Losses { get; init; }

    public required long Breakeven { get; init; }

    public required double? WinRate { get; init; }

    public required double? ProfitFactor { get; init; }

    public required Money GrossProfit { get; init; }

    public required Money GrossLoss { get; init; }

    public required Money? AverageWin { get; init; }

    public required Money? AverageLoss { get; init; }

    public required Money LargestWin { get; init; }

    public required Money LargestLoss { get; init; }

    public required Money? AverageTrade { get; init; }

    public required double? AverageBarsHeld { get; init; }

    public required Money TotalCommission { get; init; }

    public required double MaxDrawdown { get; init; }

    public required Money MaxDrawdownValue { get; init; }

    public required long MaxDrawdownDurationBars { get; init; }

    public required double MaxDrawdownDurationDays { get; init; }

    public required double? Sharpe { get; init; }

    public required double? Sortino { get; init; }

    public required string ReturnPeriod { get; init; }

    public required int PeriodsPerYear { get; init; }

    public required long ReturnPeriods { get; init; }

    public required double Exposure { get; init; }

    public required long Bars { get; init; }

    public required Timestamp? Start { get; init; }

    public required Timestamp? End { get; init; }

    public required long Errors { get; init; }

    public static BacktestMetrics Compute(PerformanceTracker perf, TradeTracker trades, OrderCounter orders, IPortfolioView portfolio, long errors)
    {
        var s = trades.Statistics;
        var (period, periodsPerYear, returns) = perf.ReturnBasis();
        var initial = perf.InitialEquity;
        var final = portfolio.Equity;
        double totalReturn = initial.IsPositive ? Money.Ratio(final - initial, initial) : 0;
        double? cagr = null;
        if (perf.FirstTime is Timestamp first && perf.LastTime is Timestamp last && initial.IsPositive)
        {
            double years = (last.UnixNanos - first.UnixNanos) / (365.25 * Timestamp.NanosPerDay);
            double growth = Money.Ratio(final, initial);
            if (years >= 1.0 / 365.25 && growth > 0)
            {
                cagr = Math.Pow(growth, 1 / years) - 1;
            }
        }

        return new BacktestMetrics
        {
            InitialCash = initial,
            FinalEquity = final,
            FinalCash = portfolio.Cash,
            TotalReturn = totalReturn,
            Cagr = cagr,
            Orders = orders.Created,
            OrdersFilled = orders.Filled,
            OrdersCanceled = orders.Canceled,
            OrdersRejected = orders.Rejected,
            OrdersDenied = orders.Denied,
            OrdersExpired = orders.Expired,
            Fills = orders.Fills,
            Trades = s.Count,
            OpenTrades = trades.OpenCount,
            Wins = s.Wins,
            Losses = s.Losses,
            Breakeven = s.Breakeven,
            WinRate = s.Count > 0 ? (double)s.Wins / s.Count : null,
            ProfitFactor = s.GrossLoss.IsNegative ? Money.Ratio(s.GrossProfit, -s.GrossLoss) : null,
            GrossProfit = s.GrossProfit,
            GrossLoss = s.GrossLoss,
            AverageWin = s.Wins > 0 ? Average(s.GrossProfit, s.Wins) : null,
            AverageLoss = s.Losses > 0 ? Average(s.GrossLoss, s.Losses) : null,
            LargestWin = s.LargestWin,
            LargestLoss = s.LargestLoss,
            AverageTrade = s.Count > 0 ? Average(s.NetTotal, s.Count) : null,
            AverageBarsHeld = s.Count > 0 ? (double)s.BarsHeldTotal / s.Count : null,
            TotalCommission = portfolio.TotalCommissions,
            MaxDrawdown = perf.MaxDrawdown,
            MaxDrawdownValue = perf.MaxDrawdownValue,
            MaxDrawdownDurationBars = perf.MaxDrawdownDurationSlices,
            MaxDrawdownDurationDays = perf.MaxDrawdownDuration.TotalDays,
            Sharpe = returns.Sharpe(periodsPerYear),
            Sortino = returns.Sortino(periodsPerYear),
            ReturnPeriod = period,
            PeriodsPerYear = periodsPerYear,
            ReturnPeriods = returns.Count,
            Exposure = perf.Slices > 0 ? (double)perf.SlicesInMarket / perf.Slices : 0,
            Bars = perf.Slices,
            Start = perf.FirstTime,
            End = perf.LastTime,
            Errors = errors,
        };
    }

    private static Money Average(Money total, long count) => total.Scale(1, count);

    /// <summary>Writes metrics.json: snake_case keys in a fixed order, exact money, shortest round-trip doubles.</summary>
    public void WriteJson(Stream stream, IReadOnlyDictionary<string, object?>? run = null, PeriodAnalytics? periods = null)
    {
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        if (run is not null)
        {
            w.WritePropertyName("run");
            w.WriteStartObject();
            foreach (var (key, value) in run)
            {
                WriteValue(w, key, value);
            }

            w.WriteEndObject();
        }

        W(w, "initial_cash", InitialCash);
        W(w, "final_equity", FinalEquity);
        W(w, "final_cash", FinalCash);
        W(w, "net_profit", NetProfit);
        W(w, "total_return", TotalReturn);
        W(w, "cagr", Cagr);
        w.WriteNumber("orders", Orders);
        w.WriteNumber("orders_filled", OrdersFilled);
        w.WriteNumber("orders_canceled", OrdersCanceled);
        w.WriteNumber("orders_rejected", OrdersRejected);
        w.WriteNumber("orders_denied", OrdersDenied);
        w.WriteNumber("orders_expired", OrdersExpired);
        w.WriteNumber("fills", Fills);
        w.WriteNumber("trades", Trades);
        w.WriteNumber("open_trades", OpenTrades);
        w.WriteNumber("wins", Wins);
        w.WriteNumber("losses", Losses);
        w.WriteNumber("breakeven", Breakeven);
        W(w, "win_rate", WinRate);
        W(w, "profit_factor", ProfitFactor);
        W(w, "gross_profit", GrossProfit);
        W(w, "gross_loss", GrossLoss);
        W(w, "average_win", AverageWin);
        W(w, "average_loss", AverageLoss);
        W(w, "largest_win", LargestWin);
        W(w, "largest_loss", LargestLoss);
        W(w, "average_trade", AverageTrade);
        W(w, "average_bars_held", AverageBarsHeld);
        W(w, "total_commission", TotalCommission);
        W(w, "max_drawdown", MaxDrawdown);
        W(w, "max_drawdown_value", MaxDrawdownValue);
        w.WriteNumber("max_drawdown_duration_bars", MaxDrawdownDurationBars);
        W(w, "max_drawdown_duration_days", MaxDrawdownDurationDays);
        W(w, "sharpe", Sharpe);
        W(w, "sortino", Sortino);
        w.WriteString("return_period", ReturnPeriod);
        w.WriteNumber("periods_per_year", PeriodsPerYear);
        w.WriteNumber("return_periods", ReturnPeriods);
        W(w, "exposure", Exposure);
        w.WriteNumber("bars", Bars);
        w.WriteString("start", Start?.ToString());
        w.WriteString("end", End?.ToString());
        w.WriteNumber("errors", Errors);
        periods?.WriteJson(w);
        w.WriteEndObject();
    }

    // Exact decimal text, trailing zeros trimmed (a JSON number, never rounded through a double).
    private static void W(Utf8JsonWriter w, string name, Money value)
    {
        w.WritePropertyName(name);
        w.WriteRawValue(value.ToString(), skipInputValidation: true);
    }

    private static void W(Utf8JsonWriter w, string name, Money? value)
    {
        if (value is Money m)
        {
            W(w, name, m);
        }
        else
        {
            w.WriteNull(name);
        }
    }

    private static void W(Utf8JsonWriter w, string name, double? value)
    {
        if (value is double d && double.IsFinite(d))
        {
            w.WriteNumber(name, d);
        }
        else
        {
            w.WriteNull(name);
        }
    }

    private static void WriteValue(Utf8JsonWriter w, string key, object? value)
    {
        switch (value)
        {
            case null:
                w.WriteNull(key);
                break;
            case string s:
                w.WriteString(key, s);
                break;
            case long l:
                w.WriteNumber(key, l);
                break;
            case int i:
                w.WriteNumber(key, i);
                break;
            case decimal m:
                w.WriteNumber(key, m);
                break;
            case double d:
                W(w, key, d);
                break;
            case bool b:
                w.WriteBoolean(key, b);
                break;
            case IEnumerable<KeyValuePair<string, string>> map:
                w.WriteStartObject(key);
                foreach (var (k, v) in map)
                {
                    w.WriteString(k, v);
                }

                w.WriteEndObject();
                break;
            case IEnumerable<string> list:
                w.WriteStartArray(key);
                foreach (var item in list)
                {
                    w.WriteStringValue(item);
                }

                w.WriteEndArray();
                break;
            default:
                w.WriteString(key, value.ToString());
                break;
        }
    }
}
