using System.Globalization;
using System.Text.Json;
using Keel.Domain;

namespace Keel.Engine.Analytics;

/// <summary>A period's return: a calendar month (<c>2014-03</c>) or year (<c>2014</c>).</summary>
public readonly record struct PeriodReturn(string Period, double Return);

/// <summary>
/// An underwater stretch of the daily equity: from its peak to its trough and back above the peak (recovery null while
/// it has not recovered). Depth is the fall from the peak as a fraction; length is calendar days from peak to recovery
/// (or to the last day).
/// </summary>
public readonly record struct DrawdownPeriod(long PeakDay, long TroughDay, long? RecoveryDay, double Depth, long Days);

/// <summary>
/// What a report and metrics.json say beyond the run's own metrics, from its daily series (<see cref="ReportSeries"/>):
/// period returns, the worst drawdowns, and the comparison with a benchmark (buy-and-hold of the traded instrument by
/// default).
/// </summary>
/// <remarks>
/// Definitions (docs/metrics.md):
/// <list type="bullet">
/// <item>A month's (year's) return is its last day's closing equity over the previous month's (year's) last, minus 1;
/// the first against the initial cash.</item>
/// <item>The benchmark is bought with all the initial cash at the first day's close, in fractions, without costs, and
/// held: its equity is cash × close / first close.</item>
/// <item>Beta = cov(r, b) / var(b), correlation = cov(r, b) / (σr σb), over the daily returns r of the run and b of the
/// benchmark on the same days (sample statistics); alpha = (mean r − beta × mean b) × 252, Jensen's alpha with a zero
/// risk-free rate, annualised.</item>
/// </list>
/// </remarks>
public sealed record PeriodAnalytics
{
    public required IReadOnlyList<PeriodReturn> Monthly { get; init; }

    public required IReadOnlyList<PeriodReturn> Yearly { get; init; }

    /// <summary>The five deepest drawdowns, deepest first.</summary>
    public required IReadOnlyList<DrawdownPeriod> Drawdowns { get; init; }

    /// <summary>What the benchmark is, e.g. "buy and hold ORCL".</summary>
    public required string Benchmark { get; init; }

    public required double? BenchmarkReturn { get; init; }

    public required double? BenchmarkCagr { get; init; }

    public required double? BenchmarkMaxDrawdown { get; init; }

    public required double? Alpha { get; init; }

    public required double? Beta { get; init; }

    public required double? Correlation { get; init; }

    /// <summary>The benchmark's equity on each day of the run (NaN before it has a price).</summary>
    public required IReadOnlyList<double> BenchmarkEquity { get; init; }

    /// <summary>Days a year of daily returns, for alpha.</summary>
    public const int TradingDays = 252;

    /// <summary>
    /// Computes the analytics of <paramref name="days"/> with the benchmark's closing prices on the same days
    /// (<paramref name="benchmarkCloses"/>; by default each day's close of the traded instrument).
    /// </summary>
    public static PeriodAnalytics Compute(IReadOnlyList<DayPoint> days, Money initialCash, string benchmark, IReadOnlyList<Price>? benchmarkCloses = null)
    {
        ArgumentNullException.ThrowIfNull(days);
        var closes = benchmarkCloses ?? [.. days.Select(d => d.Close)];
        if (closes.Count != days.Count)
        {
            throw new ArgumentException($"{closes.Count} benchmark prices for {days.Count} days", nameof(benchmarkCloses));
        }

        double cash = initialCash.ToDouble();
        var equity = days.Select(d => d.Equity.ToDouble()).ToArray();

        // The benchmark: bought at its first known close.
        int first = -1;
        for (int i = 0; i < closes.Count; i++)
        {
            if (closes[i].IsPositive)
            {
                first = i;
                break;
            }
        }

        var bench = new double[days.Count];
        double firstClose = first >= 0 ? closes[first].ToDouble() : double.NaN;
        double last = double.NaN;
        for (int i = 0; i < bench.Length; i++)
        {
            if (first >= 0 && i >= first && closes[i].IsPositive)
            {
                last = cash * closes[i].ToDouble() / firstClose;
            }

            bench[i] = i >= first && first >= 0 ? last : double.NaN;
        }

        double? benchReturn = null, benchCagr = null, benchDd = null;
        if (first >= 0 && days.Count > 0)
        {
            benchReturn = (bench[^1] / cash) - 1;
            double years = (days[^1].Day - days[first].Day) / 365.25;
            double growth = bench[^1] / cash;
            benchCagr = years >= 1.0 / 365.25 && growth > 0 ? Math.Pow(growth, 1 / years) - 1 : null;
            benchDd = MaxDrawdown(bench.AsSpan(first));
        }

        // Daily returns of both on the days both have a previous day.
        var r = new List<double>();
        var b = new List<double>();
        for (int i = 1; i < days.Count; i++)
        {
            if (i - 1 >= first && first >= 0 && equity[i - 1] > 0 && bench[i - 1] > 0)
            {
                r.Add((equity[i] / equity[i - 1]) - 1);
                b.Add((bench[i] / bench[i - 1]) - 1);
            }
        }

        double? alpha = null, beta = null, correlation = null;
        if (r.Count >= 2)
        {
            double mr = r.Average(), mb = b.Average();
            double cov = 0, vr = 0, vb = 0;
            for (int i = 0; i < r.Count; i++)
            {
                cov += (r[i] - mr) * (b[i] - mb);
                vr += (r[i] - mr) * (r[i] - mr);
                vb += (b[i] - mb) * (b[i] - mb);
            }

            if (vb > 0)
            {
                beta = cov / vb;
                alpha = (mr - (beta.Value * mb)) * TradingDays;
                correlation = vr > 0 ? cov / Math.Sqrt(vr * vb) : null;
            }
        }

        return new PeriodAnalytics
        {
            Monthly = Periods(days, equity, cash, monthly: true),
            Yearly = Periods(days, equity, cash, monthly: false),
            Drawdowns = Underwater(days, equity, 5),
            Benchmark = benchmark,
            BenchmarkReturn = benchReturn,
            BenchmarkCagr = benchCagr,
            BenchmarkMaxDrawdown = benchDd,
            Alpha = alpha,
            Beta = beta,
            Correlation = correlation,
            BenchmarkEquity = bench,
        };
    }

    /// <summary>The calendar date of a UTC day number.</summary>
    public static DateOnly Date(long day) => DateOnly.FromDayNumber((int)(day + DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber));

    private static List<PeriodReturn> Periods(IReadOnlyList<DayPoint> days, double[] equity, double cash, bool monthly)
    {
        var result = new List<PeriodReturn>();
        double previous = cash;
        for (int i = 0; i < days.Count; i++)
        {
            var date = Date(days[i].Day);
            bool lastOfPeriod = i == days.Count - 1 || (monthly ? Date(days[i + 1].Day).Month != date.Month || Date(days[i + 1].Day).Year != date.Year : Date(days[i + 1].Day).Year != date.Year);
            if (lastOfPeriod)
            {
                var name = monthly ? date.ToString("yyyy-MM", CultureInfo.InvariantCulture) : date.ToString("yyyy", CultureInfo.InvariantCulture);
                result.Add(new PeriodReturn(name, previous > 0 ? (equity[i] / previous) - 1 : double.NaN));
                previous = equity[i];
            }
        }

        return result;
    }

    private static List<DrawdownPeriod> Underwater(IReadOnlyList<DayPoint> days, double[] equity, int top)
    {
        var periods = new List<DrawdownPeriod>();
        int peak = -1, trough = -1;
        for (int i = 0; i < equity.Length; i++)
        {
            if (peak < 0 || equity[i] >= equity[peak])
            {
                if (trough >= 0)
                {
                    periods.Add(new DrawdownPeriod(days[peak].Day, days[trough].Day, days[i].Day, 1 - (equity[trough] / equity[peak]), days[i].Day - days[peak].Day));
                    trough = -1;
                }

                peak = i;
            }
            else if (trough < 0 || equity[i] < equity[trough])
            {
                trough = i;
            }
        }

        if (trough >= 0)
        {
            periods.Add(new DrawdownPeriod(days[peak].Day, days[trough].Day, null, 1 - (equity[trough] / equity[peak]), days[^1].Day - days[peak].Day));
        }

        return [.. periods.OrderByDescending(p => p.Depth).ThenBy(p => p.PeakDay).Take(top)];
    }

    private static double MaxDrawdown(ReadOnlySpan<double> series)
    {
        double peak = double.NegativeInfinity, worst = 0;
        foreach (var v in series)
        {
            if (double.IsNaN(v))
            {
                continue;
            }

            peak = Math.Max(peak, v);
            if (peak > 0)
            {
                worst = Math.Max(worst, 1 - (v / peak));
            }
        }

        return worst;
    }

    /// <summary>Writes the analytics as metrics.json properties (snake_case, after the run's own metrics).</summary>
    public void WriteJson(Utf8JsonWriter w)
    {
        ArgumentNullException.ThrowIfNull(w);
        w.WriteStartObject("benchmark");
        w.WriteString("source", Benchmark);
        N(w, "total_return", BenchmarkReturn);
        N(w, "cagr", BenchmarkCagr);
        N(w, "max_drawdown", BenchmarkMaxDrawdown);
        w.WriteEndObject();
        N(w, "alpha", Alpha);
        N(w, "beta", Beta);
        N(w, "correlation", Correlation);
        w.WriteStartObject("monthly_returns");
        foreach (var p in Monthly)
        {
            N(w, p.Period, p.Return);
        }

        w.WriteEndObject();
        w.WriteStartObject("yearly_returns");
        foreach (var p in Yearly)
        {
            N(w, p.Period, p.Return);
        }

        w.WriteEndObject();
        w.WriteStartArray("drawdown_periods");
        foreach (var d in Drawdowns)
        {
            w.WriteStartObject();
            w.WriteString("peak", Date(d.PeakDay).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            w.WriteString("trough", Date(d.TroughDay).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            if (d.RecoveryDay is long rec)
            {
                w.WriteString("recovery", Date(rec).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            }
            else
            {
                w.WriteNull("recovery");
            }

            w.WriteNumber("depth", d.Depth);
            w.WriteNumber("days", d.Days);
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    private static void N(Utf8JsonWriter w, string name, double? value)
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
}
