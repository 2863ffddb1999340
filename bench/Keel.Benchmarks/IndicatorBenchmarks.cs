using BenchmarkDotNet.Attributes;
using Keel.Domain;
using Keel.Indicators;

namespace Keel.Benchmarks;

/// <summary>
/// Each indicator (default parameters, built from its spec as <c>keel indicators</c> builds it) updated on 1,000,000
/// preloaded bars, every line read after every bar. One operation = one bar, so Mean is ns/bar and Allocated is
/// bytes/bar (the indicator itself is built inside the measured call; its few hundred bytes round to 0 per bar).
/// </summary>
[MemoryDiagnoser]
public class IndicatorBenchmarks
{
    private const int Bars = 1_000_000;
    private Bar[] _bars = [];

    public static IEnumerable<string> Specs => IndicatorCatalog.All.Select(d => d.DefaultSpec);

    [ParamsSource(nameof(Specs))]
    public string Spec { get; set; } = "sma:20";

    [GlobalSetup]
    public void Setup() => _bars = SyntheticBars.Generate(Bars, new InstrumentId("BENCH"));

    [Benchmark(OperationsPerInvoke = Bars)]
    public double Update()
    {
        var indicator = IndicatorSpec.Parse(Spec).Create();
        var bars = _bars;
        double sum = 0;
        for (int i = 0; i < bars.Length; i++)
        {
            indicator.Update(in bars[i]);
            for (int line = 0; line < indicator.LineCount; line++)
            {
                sum += indicator.Value(line);
            }
        }

        return sum;
    }
}

/// <summary>Every indicator in the catalog (default parameters) updated on each bar: what one bar costs a strategy or the CLI that wants them all.</summary>
[MemoryDiagnoser]
public class AllIndicatorsBenchmark
{
    private const int Bars = 1_000_000;
    private Bar[] _bars = [];

    [GlobalSetup]
    public void Setup() => _bars = SyntheticBars.Generate(Bars, new InstrumentId("BENCH"));

    [Benchmark(OperationsPerInvoke = Bars)]
    public double UpdateAll()
    {
        var indicators = IndicatorCatalog.All.Select(d => IndicatorSpec.Parse(d.DefaultSpec).Create()).ToArray();
        var bars = _bars;
        double sum = 0;
        for (int i = 0; i < bars.Length; i++)
        {
            foreach (var indicator in indicators)
            {
                indicator.Update(in bars[i]);
                for (int line = 0; line < indicator.LineCount; line++)
                {
                    sum += indicator.Value(line);
                }
            }
        }

        return sum;
    }
}
