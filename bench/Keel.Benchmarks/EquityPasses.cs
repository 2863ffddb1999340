using System.Diagnostics;
using System.Globalization;
using Keel.Domain;
using Keel.Runtime.Reporting;

namespace Keel.Benchmarks;

/// <summary>
/// <c>equity [--rows N] [--passes N]</c>: the equity curve's CSV writer (time, equity, cash, positions value, drawdown)
/// over N minute rows shaped like a 1M-bar sma-cross run's (a position open half the time, cash changing at each
/// trade), written to <see cref="Stream.Null"/>. Times the hand-over and the formatting thread together, so two builds of
/// the number and time writers can be compared quickly.
/// </summary>
internal static class EquityPasses
{
    public static int Run(string[] args)
    {
        int rows = 1_000_000, passes = 15;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--rows":
                    rows = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--passes":
                    passes = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                default:
                    Console.Error.WriteLine($"equity: unknown option {args[i]}");
                    return 2;
            }
        }

        // The values, made once: prices of 4 decimals on a random walk, one share held in alternate stretches of 50 rows.
        var random = new Random(42);
        var times = new Timestamp[rows];
        var equity = new Money[rows];
        var cash = new Money[rows];
        var drawdown = new double[rows];
        var start = Timestamp.Parse("2020-01-01");
        long price = 1_000_000, cashRaw = 1_000_000_000;
        double peak = 0;
        for (int i = 0; i < rows; i++)
        {
            price = Math.Max(10_000, price + random.Next(-900, 901));
            bool holding = i / 50 % 2 == 1;
            if (i % 50 == 0)
            {
                cashRaw += holding ? -price - 1000 : price - 1000;
            }

            times[i] = start.AddNanos(i * Timestamp.NanosPerMinute);
            cash[i] = Money.Parse((cashRaw / 1e4).ToString("F4", CultureInfo.InvariantCulture) + "1548");
            equity[i] = holding ? cash[i] + Money.Parse((price / 1e4).ToString("F4", CultureInfo.InvariantCulture)) : cash[i];
            double e = equity[i].ToDouble();
            peak = Math.Max(peak, e);
            drawdown[i] = (peak - e) / peak;
        }

        var elapsed = new List<double>(passes);
        for (int p = 0; p < passes; p++)
        {
            var sw = Stopwatch.StartNew();
            using (var writer = new EquityCsvWriter(Stream.Null))
            {
                for (int i = 0; i < rows; i++)
                {
                    writer.OnEquity(times[i], equity[i], cash[i], drawdown[i]);
                }

                writer.Complete();
            }

            sw.Stop();
            elapsed.Add(sw.Elapsed.TotalMilliseconds);
            Console.WriteLine(FormattableString.Invariant($"pass {p + 1}: {sw.Elapsed.TotalMilliseconds:F1} ms, {rows / sw.Elapsed.TotalSeconds / 1e6:F2} M rows/s"));
        }

        elapsed.Sort();
        Console.WriteLine(FormattableString.Invariant($"median {elapsed[elapsed.Count / 2]:F1} ms over {passes} passes"));
        return 0;
    }
}
