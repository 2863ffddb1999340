using System.Diagnostics;
using System.Globalization;

namespace Keel.Benchmarks;

/// <summary>
/// <c>kernel [--passes N] [--bars N] [--quiet] [--analytics]</c>: the <see cref="KernelBenchmarks"/> loop run in a plain
/// process, so that it can be profiled (perf, dotnet-counters) and compared quickly between two builds. Prints each
/// pass's time and the bytes it allocated, then the median; <c>--alloc</c> adds the runtime's sampled allocations by
/// type (one sample per ~100 KB allocated).
/// </summary>
internal static class KernelPasses
{
    public static int Run(string[] args)
    {
        int passes = 15;
        int bars = 1_000_000;
        bool quiet = false;
        bool analytics = false;
        AllocationSampler? alloc = null;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--passes":
                    passes = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--bars":
                    bars = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--quiet":
                    quiet = true;
                    break;
                case "--analytics":
                    analytics = true;
                    break;
                case "--alloc":
                    alloc = new AllocationSampler();
                    break;
                default:
                    Console.Error.WriteLine($"kernel: unknown option {args[i]}");
                    return 2;
            }
        }

        var loop = new KernelBenchmarks { Bars = bars, WithAnalytics = analytics };
        var quietLoop = new PerBarBenchmarks { Bars = bars };
        loop.Setup();
        quietLoop.Setup();
        var times = new List<double>(passes);
        for (int p = 0; p < passes; p++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            var sw = Stopwatch.StartNew();
            if (quiet)
            {
                quietLoop.QuietKernelLoop();
            }
            else
            {
                loop.SmaCrossKernelLoop();
            }

            sw.Stop();
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            times.Add(sw.Elapsed.TotalMilliseconds);
            Console.WriteLine(FormattableString.Invariant($"pass {p + 1}: {sw.Elapsed.TotalMilliseconds:F1} ms, {bars / sw.Elapsed.TotalSeconds / 1e6:F1} M bars/s, {allocated:N0} bytes"));
        }

        alloc?.Print();
        times.Sort();
        double median = times[times.Count / 2];
        Console.WriteLine(FormattableString.Invariant($"median {median:F1} ms = {bars / median / 1e3:F1} M bars/s over {passes} passes ({(quiet ? "quiet" : "sma-cross")}{(analytics ? ", analytics" : string.Empty)})"));
        return 0;
    }
}

/// <summary>The runtime's GC AllocationTick events (one per ~100 KB allocated), summed by type.</summary>
internal sealed class AllocationSampler : System.Diagnostics.Tracing.EventListener
{
    private readonly Dictionary<string, long> _bytes = [];

    public void Print()
    {
        lock (_bytes)
        {
            foreach (var (type, bytes) in _bytes.OrderByDescending(x => x.Value).Take(25))
            {
                Console.WriteLine(FormattableString.Invariant($"{bytes,14:N0}  {type}"));
            }
        }
    }

    protected override void OnEventSourceCreated(System.Diagnostics.Tracing.EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, System.Diagnostics.Tracing.EventLevel.Verbose, (System.Diagnostics.Tracing.EventKeywords)0x1);
        }
    }

    protected override void OnEventWritten(System.Diagnostics.Tracing.EventWrittenEventArgs eventData)
    {
        if (eventData.EventName is not { } name || !name.StartsWith("GCAllocationTick", StringComparison.Ordinal) || eventData.PayloadNames is null)
        {
            return;
        }

        int t = eventData.PayloadNames.IndexOf("TypeName");
        int a = eventData.PayloadNames.IndexOf("AllocationAmount64");
        if (t < 0 || a < 0)
        {
            return;
        }

        string type = eventData.Payload![t] as string ?? "?";
        long amount = Convert.ToInt64(eventData.Payload[a], CultureInfo.InvariantCulture);
        lock (_bytes)
        {
            _bytes[type] = _bytes.GetValueOrDefault(type) + amount;
        }
    }
}
