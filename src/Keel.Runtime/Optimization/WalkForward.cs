using System.Globalization;
using System.Text;
using Keel.Domain;
using Keel.Engine.Analytics;

namespace Keel.Runtime.Optimization;

/// <summary>
/// One walk-forward fold: the bars it trained on, the combination that ranked first there, and how that combination did
/// when run afresh on the bars right after.
/// </summary>
public sealed record WalkForwardFold(int Fold, WalkForwardWindow Train, WalkForwardWindow Test, SweepResult Best, BacktestMetrics TestMetrics)
{
    public PeriodAnalytics? TestPeriods { get; init; }
}

/// <summary>A run of consecutive bars: the indexes <c>[Start, End)</c> in the sweep's bars and the times of the first and last.</summary>
public readonly record struct WalkForwardWindow(int Start, int End, Timestamp First, Timestamp Last)
{
    public int Bars => End - Start;
}

/// <summary>The out-of-sample totals of a walk-forward run.</summary>
public sealed record WalkForwardSummary(Money TestNetProfit, double? Efficiency);

/// <summary>
/// Walk-forward windows: the bars split into N+1 consecutive segments of (nearly) equal bar counts; fold k trains on
/// segment k (rolling) or segments 1..k (anchored) and tests on segment k+1.
/// </summary>
public static class WalkForward
{
    /// <summary>The fewest bars a segment may have.</summary>
    public const int MinSegmentBars = 2;

    /// <summary>The most folds <c>--walk-forward</c> takes.</summary>
    public const int MaxFolds = 1000;

    /// <summary>
    /// The N+2 segment boundaries (indexes into <paramref name="bars"/>, the first 0, the last its length). Boundary k is
    /// ⌊k·L/(N+1)⌋, moved forward past bars that share the time of the bar before, so that bars of one time (several
    /// instruments) never fall on both sides of a boundary. Throws a usage error when a segment has fewer than
    /// <see cref="MinSegmentBars"/> bars.
    /// </summary>
    public static int[] Segments(ReadOnlySpan<Bar> bars, int folds)
    {
        if (folds is < 2 or > MaxFolds)
        {
            throw new UsageException($"--walk-forward was {folds}; it must be between 2 and {MaxFolds}");
        }

        int segments = folds + 1;
        var bounds = new int[segments + 1];
        for (int k = 1; k < segments; k++)
        {
            int b = (int)((long)k * bars.Length / segments);
            while (b > 0 && b < bars.Length && bars[b].Time == bars[b - 1].Time)
            {
                b++;
            }

            bounds[k] = Math.Max(b, bounds[k - 1]);
        }

        bounds[segments] = bars.Length;
        for (int k = 0; k < segments; k++)
        {
            int size = bounds[k + 1] - bounds[k];
            if (size < MinSegmentBars)
            {
                throw new UsageException(
                    $"--walk-forward {folds}: {bars.Length:N0} bars split into {segments:N0} segments leave segment {k + 1} with {size} bar{(size == 1 ? string.Empty : "s")}; each needs at least {MinSegmentBars}, so give fewer folds");
            }
        }

        return bounds;
    }

    /// <summary>The training and test windows of every fold, in fold order.</summary>
    public static (WalkForwardWindow Train, WalkForwardWindow Test)[] Windows(ReadOnlySpan<Bar> bars, int folds, bool anchored)
    {
        var b = Segments(bars, folds);
        var windows = new (WalkForwardWindow, WalkForwardWindow)[folds];
        for (int k = 1; k <= folds; k++)
        {
            int trainStart = anchored ? 0 : b[k - 1];
            windows[k - 1] = (Window(bars, trainStart, b[k]), Window(bars, b[k], b[k + 1]));
        }

        return windows;
    }

    private static WalkForwardWindow Window(ReadOnlySpan<Bar> bars, int start, int end) => new(start, end, bars[start].Time, bars[end - 1].Time);

    /// <summary>
    /// The sum of the test periods' net profit, and the walk-forward efficiency: the mean over folds of the test
    /// return per bar (total return ÷ bars) divided by the mean over folds of the training return per bar. Null when
    /// that training mean is zero or a return is undefined.
    /// </summary>
    public static WalkForwardSummary Summarise(IReadOnlyList<WalkForwardFold> folds)
    {
        ArgumentNullException.ThrowIfNull(folds);
        var net = Money.Zero;
        double train = 0, test = 0;
        foreach (var f in folds)
        {
            net += f.TestMetrics.NetProfit;
            train += f.Best.Metrics.TotalReturn / f.Train.Bars;
            test += f.TestMetrics.TotalReturn / f.Test.Bars;
        }

        double? efficiency = folds.Count > 0 && train != 0 && double.IsFinite(train) && double.IsFinite(test) ? test / train : null;
        return new WalkForwardSummary(net, efficiency);
    }

    /// <summary>
    /// walkforward.csv: one row per fold. The fold and its windows (first and last bar time, bar count), the chosen
    /// combination and its parameters, its training metric and return, then its metrics on the test window as in
    /// holdout.csv (and <c>test_&lt;rank&gt;</c> when the ranking metric is not among them).
    /// </summary>
    public static void Write(Stream stream, SweepOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        var metric = outcome.Metric;
        bool trainReturn = metric.Name != "total_return";
        bool testRank = !SweepService.MetricColumns.Contains(metric.Name);
        using var w = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16) { NewLine = "\n" };
        var header = new List<string> { "fold", "train_start", "train_end", "train_bars", "test_start", "test_end", "test_bars", "combination" };
        header.AddRange(outcome.Grid.Axes.Select(a => SweepService.Csv(a.Name)));
        header.Add("train_" + metric.Name);
        if (trainReturn)
        {
            header.Add("train_total_return");
        }

        header.AddRange(SweepService.MetricColumns.Select(c => "test_" + c));
        if (testRank)
        {
            header.Add("test_" + metric.Name);
        }

        w.WriteLine(string.Join(",", header));
        foreach (var f in outcome.WalkForward ?? [])
        {
            var row = new List<string>
            {
                f.Fold.ToString(CultureInfo.InvariantCulture),
                f.Train.First.ToString(), f.Train.Last.ToString(), f.Train.Bars.ToString(CultureInfo.InvariantCulture),
                f.Test.First.ToString(), f.Test.Last.ToString(), f.Test.Bars.ToString(CultureInfo.InvariantCulture),
                f.Best.Combination.ToString(CultureInfo.InvariantCulture),
            };
            row.AddRange(f.Best.Values.Select(SweepService.Csv));
            row.Add(SweepService.Number(metric.Of(f.Best.Metrics, f.Best.Periods)));
            if (trainReturn)
            {
                row.Add(SweepService.Number(f.Best.Metrics.TotalReturn));
            }

            row.AddRange(SweepService.MetricValues(f.TestMetrics, f.TestPeriods));
            if (testRank)
            {
                row.Add(SweepService.Number(metric.Of(f.TestMetrics, f.TestPeriods)));
            }

            w.WriteLine(string.Join(",", row));
        }
    }
}
