using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Keel.Server;

/// <summary>
/// A Prometheus histogram of durations in seconds with fixed buckets: one counter per bucket (not cumulative, added up
/// when written), the sum in <see cref="Stopwatch"/> ticks, all updated with <see cref="Interlocked"/> so observing takes
/// no lock and allocates nothing.
/// </summary>
internal sealed class LatencyHistogram
{
    /// <summary>Upper bounds of the buckets in seconds (the <c>+Inf</c> bucket follows): 100 µs to 10 s.</summary>
    public static readonly double[] Bounds = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private static readonly string[] BoundLabels = [.. Bounds.Select(b => b.ToString("R", CultureInfo.InvariantCulture)), "+Inf"];

    private readonly long[] _counts = new long[Bounds.Length + 1];
    private long _sumTicks;

    /// <summary>Records the time since <paramref name="startTimestamp"/> (from <see cref="Stopwatch.GetTimestamp"/>).</summary>
    public void ObserveSince(long startTimestamp) => ObserveTicks(Stopwatch.GetTimestamp() - startTimestamp);

    /// <summary>Records a duration in <see cref="Stopwatch"/> ticks.</summary>
    public void ObserveTicks(long elapsed)
    {
        elapsed = Math.Max(0, elapsed);
        double seconds = elapsed / (double)Stopwatch.Frequency;
        int i = 0;
        while (i < Bounds.Length && seconds > Bounds[i])
        {
            i++;
        }

        Interlocked.Increment(ref _counts[i]);
        Interlocked.Add(ref _sumTicks, elapsed);
    }

    /// <summary>Observations so far.</summary>
    public long Count
    {
        get
        {
            long total = 0;
            for (int i = 0; i < _counts.Length; i++)
            {
                total += Interlocked.Read(ref _counts[i]);
            }

            return total;
        }
    }

    /// <summary>
    /// Writes <c>name_bucket{…,le=…}</c> (cumulative), <c>name_sum</c> and <c>name_count</c>; <c>_count</c> is the
    /// <c>+Inf</c> bucket of the same reading, so the two always agree.
    /// </summary>
    public void Write(StringBuilder text, string name, string labelName, string labelValue)
    {
        long cumulative = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            cumulative += Interlocked.Read(ref _counts[i]);
            text.Append(name).Append("_bucket{").Append(labelName).Append("=\"").Append(labelValue).Append("\",le=\"").Append(BoundLabels[i]).Append("\"} ")
                .Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        double sum = Interlocked.Read(ref _sumTicks) / (double)Stopwatch.Frequency;
        text.Append(name).Append("_sum{").Append(labelName).Append("=\"").Append(labelValue).Append("\"} ").Append(sum.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        text.Append(name).Append("_count{").Append(labelName).Append("=\"").Append(labelValue).Append("\"} ").Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
    }
}
