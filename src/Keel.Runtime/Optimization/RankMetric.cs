using Keel.Engine.Analytics;

namespace Keel.Runtime.Optimization;

/// <summary>
/// A metric a sweep ranks its combinations by, named as in metrics.json. A combination whose metric is undefined (a
/// Sharpe ratio with no returns, a profit factor with no losing trade) ranks after every defined one; ties keep the
/// combinations' order, so a ranking never depends on the core count.
/// </summary>
public sealed class RankMetric
{
    private static readonly RankMetric[] Known =
    [
        new("sharpe", m => m.Sharpe, higherIsBetter: true),
        new("alpha", (_, p) => p?.Alpha, higherIsBetter: true),
        new("excess_return", (m, p) => p?.BenchmarkReturn is double b ? m.TotalReturn - b : null, higherIsBetter: true),
        new("sortino", m => m.Sortino, higherIsBetter: true),
        new("net_profit", m => (double)m.NetProfit.ToDecimal(), higherIsBetter: true),
        new("total_return", m => m.TotalReturn, higherIsBetter: true),
        new("cagr", m => m.Cagr, higherIsBetter: true),
        new("final_equity", m => (double)m.FinalEquity.ToDecimal(), higherIsBetter: true),
        new("profit_factor", m => m.ProfitFactor, higherIsBetter: true),
        new("win_rate", m => m.WinRate, higherIsBetter: true),
        new("average_trade", m => m.AverageTrade is { } a ? (double)a.ToDecimal() : null, higherIsBetter: true),
        new("max_drawdown", m => m.MaxDrawdown, higherIsBetter: false),
        new("trades", m => m.Trades, higherIsBetter: true),
        new("exposure", m => m.Exposure, higherIsBetter: true),
        new("total_commission", m => (double)m.TotalCommission.ToDecimal(), higherIsBetter: false),
    ];

    private readonly Func<BacktestMetrics, PeriodAnalytics?, double?> _value;

    private RankMetric(string name, Func<BacktestMetrics, double?> value, bool higherIsBetter)
        : this(name, (m, _) => value(m), higherIsBetter)
    {
    }

    private RankMetric(string name, Func<BacktestMetrics, PeriodAnalytics?, double?> value, bool higherIsBetter)
    {
        Name = name;
        _value = value;
        HigherIsBetter = higherIsBetter;
    }

    /// <summary>The metrics.json key.</summary>
    public string Name { get; }

    /// <summary>False for costs and risks (max_drawdown, total_commission): lower ranks first.</summary>
    public bool HigherIsBetter { get; }

    /// <summary>The names <c>--rank</c> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Known.Select(k => k.Name)];

    public static RankMetric Parse(string name) =>
        Known.FirstOrDefault(k => string.Equals(k.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new UsageException($"--rank {name}: not a metric Keel ranks by; use one of {string.Join(", ", Names)}");

    /// <summary>The metric of one combination; null when undefined (or not a finite number).</summary>
    public double? Of(BacktestMetrics metrics, PeriodAnalytics? periods = null)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        return _value(metrics, periods) is double d && double.IsFinite(d) ? d : null;
    }

    /// <summary>Orders <paramref name="count"/> results best first; <paramref name="metrics"/> gives each one's metrics.</summary>
    public int[] Rank(int count, Func<int, BacktestMetrics> metrics, Func<int, PeriodAnalytics?>? periods = null)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        var keys = new double?[count];
        for (int i = 0; i < count; i++)
        {
            keys[i] = Of(metrics(i), periods?.Invoke(i));
        }

        var order = Enumerable.Range(0, count).ToArray();
        Array.Sort(order, (a, b) =>
        {
            var (x, y) = (keys[a], keys[b]);
            int c = (x, y) switch
            {
                (null, null) => 0,
                (null, _) => 1,
                (_, null) => -1,
                _ => HigherIsBetter ? y!.Value.CompareTo(x!.Value) : x!.Value.CompareTo(y!.Value),
            };
            return c != 0 ? c : a.CompareTo(b);
        });
        return order;
    }
}
