using System.Diagnostics;
using System.Globalization;
using Keel.Data;
using Keel.Domain;

namespace Keel.Benchmarks;

/// <summary>
/// <c>parse FILE [--passes N]</c>: <see cref="CsvBarReader"/> over a bar file, start to end, N times in one process
/// (the file stays in the page cache after the first). Prints each pass's time and rows per second, then the median,
/// so two builds of the reader can be compared quickly.
/// </summary>
internal static class ParsePasses
{
    public static int Run(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.WriteLine("parse: usage: parse FILE [--passes N]");
            return 2;
        }

        string path = args[0];
        int passes = 15;
        for (int i = 1; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--passes":
                    passes = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                default:
                    Console.Error.WriteLine($"parse: unknown option {args[i]}");
                    return 2;
            }
        }

        var instrument = new InstrumentId("BENCH");
        var times = new List<double>(passes);
        for (int p = 0; p < passes; p++)
        {
            var sw = Stopwatch.StartNew();
            long rows = 0, checksum = 0;
            using (var reader = new CsvBarReader(File.OpenRead(path), path, instrument))
            {
                while (reader.TryRead(out var bar))
                {
                    rows++;
                    checksum += bar.Close.Raw;
                }
            }

            sw.Stop();
            times.Add(sw.Elapsed.TotalMilliseconds);
            Console.WriteLine(FormattableString.Invariant($"pass {p + 1}: {sw.Elapsed.TotalMilliseconds:F1} ms, {rows / sw.Elapsed.TotalSeconds / 1e6:F2} M rows/s (checksum {checksum})"));
        }

        times.Sort();
        Console.WriteLine(FormattableString.Invariant($"median {times[times.Count / 2]:F1} ms over {passes} passes"));
        return 0;
    }
}
