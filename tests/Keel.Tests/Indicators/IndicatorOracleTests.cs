using System.Collections.Concurrent;
using System.Globalization;
using Keel.Data;
using Keel.Domain;
using Keel.Indicators;
using Keel.Tests.Support;
using Xunit.Abstractions;

namespace Keel.Tests.Indicators;

/// <summary>
/// Every line of every indicator, and the crossover of two moving averages, on real daily and intraday prices, against
/// two independent JavaScript libraries (tools/indicator-oracle: technicalindicators 3.1.0 and trading-signals 8.3.0).
/// Where a library follows the same definition the lines must agree on every bar after Keel's warm-up; where it seeds
/// differently they must agree once the seed has decayed; where it rounds, to within half its last decimal.
/// docs/indicators.md says which library checks what, and why.
/// </summary>
public class IndicatorOracleTests(ITestOutputHelper output)
{
    /// <summary>Relative tolerance: |keel − reference| ≤ 1e-9 · max(|keel|, |reference|, mean |reference| of the line).</summary>
    public const double Tolerance = 1e-9;

    /// <summary>
    /// Every spec with every parameter written out (the oracle takes no defaults); defaults and variants. <c>cross:F,S</c>
    /// is not an indicator spec: it is <see cref="CrossOver"/> fed the exact sign of SMA(F) − SMA(S) of the closes,
    /// as the sma-cross strategy feeds it (F = 1 is the close itself, so cross:1,2 crosses on every turn and ties often).
    /// </summary>
    public static readonly string[] Specs =
    [
        "sma:30", "sma:5", "ema:20", "ema:9", "wma:20", "dema:20", "tema:20", "rsi:14", "rsi:2", "macd:12,26,9", "macd:5,35,5",
        "bbands:20,2", "bbands:10,1.5", "atr:14", "atr:5", "true_range", "stochastic:14,3,3", "stochastic:5,1,3", "adx:14", "adx:7",
        "cci:20", "cci:5", "williams_r:14", "momentum:10", "roc:10", "trix:15", "ultimate:7,14,28", "kama:10,2,30", "kama:20,2,30",
        "aroon:25", "aroon:14", "stddev:20", "donchian:20", "psar:0.02,0.2", "psar:0.01,0.1", "highest:20", "lowest:20",
        "trix:9", "stddev:5", "donchian:5", "cross:5,20", "cross:10,30", "cross:1,2",
    ];

    /// <summary>Real data: three long daily series from ../shared, and the daily and 5-minute files checked in under Data/.</summary>
    public static readonly string[] Files =
    [
        "shared:orcl-1995-2014.txt", "shared:nvda-1999-2014.txt", "shared:yhoo-1996-2014.txt", "local:2006-day-001.txt", "local:2006-min-005.txt",
    ];

    private static readonly ConcurrentDictionary<string, Bar[]> BarsByFile = new(StringComparer.Ordinal);
    private static readonly Lock ReportLock = new();

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var file in Files)
        {
            foreach (var spec in Specs)
            {
                data.Add(file, spec);
            }
        }

        return data;
    }

    [NodeTheory]
    [MemberData(nameof(Cases))]
    public void Indicator_OnRealData_MatchesIndependentLibraries(string file, string spec)
    {
        string path = Resolve(file);
        var bars = BarsByFile.GetOrAdd(path, ReadBars);
        var oracle = Node.Oracle(path, Specs);
        Assert.Equal(bars.Length, oracle.Bars);
        var keel = spec.StartsWith("cross:", StringComparison.Ordinal) ? RunCross(bars, spec) : RunKeel(bars, spec);
        var references = oracle.Series.Where(s => s.Spec == spec).ToList();
        Assert.NotEmpty(references);
        Assert.Equal(keel.Lines.Keys.Order(), references.Select(s => s.Line).Distinct().Order());

        var problems = new List<string>();
        foreach (var reference in references)
        {
            problems.AddRange(Compare(file, bars, keel, reference));
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
        if (keel.Lines.TryGetValue("cross", out var crosses))
        {
            // Not a vacuous comparison: real prices cross both ways.
            Assert.Contains(1.0, crosses);
            Assert.Contains(-1.0, crosses);
        }
    }

    private IEnumerable<string> Compare(string file, Bar[] bars, KeelRun keel, OracleSeries reference)
    {
        var mine = keel.Lines[reference.Line];
        var theirs = reference.Values;
        string what = $"{file} {reference.Spec}.{reference.Line} vs {reference.Source}";
        int keelFirst = FirstValue(mine);
        int theirFirst = FirstValue(theirs);
        if (reference.FirstAgrees && keelFirst != theirFirst)
        {
            yield return $"{what}: Keel's first value is on bar {keelFirst}, the reference's on bar {theirFirst}";
        }

        int start = reference.Kind switch
        {
            "exact" or "rounded" => 0,
            "seeded" => reference.Skip,
            "psar" => PsarSync(bars, theirs, keel.PsarLong!),
            _ => throw new InvalidOperationException($"unknown comparison kind {reference.Kind}"),
        };
        start = Math.Max(start, Math.Max(keelFirst, 0));
        int eligible = bars.Length - start;
        if (eligible <= 0 || keelFirst < 0)
        {
            Report(file, reference, 0, 0, 0, 0, $"not compared: {bars.Length} bars end before bar {start}");
            yield break;
        }

        // A rounded reference is exact to half a unit of its last decimal (and a value at a rounding boundary may land
        // on either side of it), so that much absolute difference is allowed on top of the relative tolerance.
        double allowance = reference.Kind == "rounded" ? 0.5 * Math.Pow(10, -reference.Decimals) : 0;
        var pairs = new List<(int Bar, double Mine, double Theirs)>();
        int skipped = 0;
        for (int i = start; i < bars.Length; i++)
        {
            if (double.IsNaN(theirs[i]))
            {
                skipped += double.IsNaN(mine[i]) ? 0 : 1;
                continue;
            }

            if (double.IsNaN(mine[i]))
            {
                yield return $"{what}: bar {i} ({bars[i].Time}): Keel has no value, the reference has {theirs[i].ToString("R", CultureInfo.InvariantCulture)}";
                continue;
            }

            pairs.Add((i, mine[i], theirs[i]));
        }

        if (pairs.Count < 0.9 * eligible)
        {
            yield return $"{what}: the reference has values on only {pairs.Count} of the {eligible} bars from bar {start} on";
        }

        double scale = pairs.Count == 0 ? 0 : pairs.Average(p => Math.Abs(p.Theirs));
        double maxRelative = 0;
        double maxAbsolute = 0;
        int failures = 0;
        foreach (var (i, a, b) in pairs)
        {
            double absolute = Math.Abs(a - b);
            double relative = absolute <= allowance ? 0 : (absolute - allowance) / Math.Max(Math.Max(Math.Abs(a), Math.Abs(b)), scale);
            maxRelative = Math.Max(maxRelative, relative);
            maxAbsolute = Math.Max(maxAbsolute, absolute);
            if (relative > Tolerance && ++failures <= 5)
            {
                yield return $"{what}: bar {i} ({bars[i].Time}): Keel {a.ToString("R", CultureInfo.InvariantCulture)}, reference {b.ToString("R", CultureInfo.InvariantCulture)} (relative difference {relative:E2})";
            }
        }

        if (failures > 5)
        {
            yield return $"{what}: … {failures} bars differ in all";
        }

        output.WriteLine($"{what} [{reference.Kind}]: {pairs.Count} bars compared from bar {start}, {skipped} without a reference value; max relative difference {maxRelative:E2}, max absolute {maxAbsolute:E2}");
        Report(file, reference, start, pairs.Count, maxRelative, maxAbsolute, string.Empty);
    }

    /// <summary>
    /// technicalindicators' PSAR starts its first trade differently; once both reverse on the same bar into the same
    /// trade a second time, they follow the same trade from the same extreme and must agree from that bar on.
    /// </summary>
    private static int PsarSync(Bar[] bars, double[] theirs, bool[] keelLong)
    {
        bool? theirPrevious = null;
        bool? mine = null;
        int common = 0;
        for (int i = 1; i < bars.Length; i++)
        {
            if (double.IsNaN(theirs[i]))
            {
                continue;
            }

            // A long trade's SAR is at or below the low, a short one's at or above the high.
            bool theirLong = theirs[i] < bars[i].High.ToDouble() || (!(theirs[i] > bars[i].Low.ToDouble()) && (theirPrevious ?? true));
            bool bothReversed = theirPrevious is bool tp && tp != theirLong && mine is bool mp && mp != keelLong[i] && theirLong == keelLong[i];
            if (bothReversed && ++common == 2)
            {
                return i;
            }

            theirPrevious = theirLong;
            mine = keelLong[i];
        }

        return bars.Length;
    }

    private static int FirstValue(double[] values) => Array.FindIndex(values, v => !double.IsNaN(v));

    private sealed record KeelRun(Dictionary<string, double[]> Lines, bool[]? PsarLong);

    private static KeelRun RunKeel(Bar[] bars, string spec)
    {
        var instance = IndicatorSpec.Parse(spec).Create();
        var names = instance.Spec.Definition.Lines;
        var lines = names.Select(_ => new double[bars.Length]).ToArray();
        var psar = instance.Indicator as ParabolicSar;
        var psarLong = psar is null ? null : new bool[bars.Length];
        for (int i = 0; i < bars.Length; i++)
        {
            instance.Update(bars[i]);
            for (int l = 0; l < lines.Length; l++)
            {
                lines[l][i] = instance.Value(l);
            }

            psarLong?[i] = psar!.IsLong;
        }

        return new KeelRun(names.Select((n, l) => (n, l)).ToDictionary(x => x.n, x => lines[x.l], StringComparer.Ordinal), psarLong);
    }

    /// <summary>The crossover as the sma-cross strategy computes it: exact SMA comparison, from bar <c>slow</c> on.</summary>
    private static KeelRun RunCross(Bar[] bars, string spec)
    {
        var periods = spec["cross:".Length..].Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray();
        var fast = new PriceSma(periods[0]);
        var slow = new PriceSma(periods[1]);
        var cross = new CrossOver();
        var values = new double[bars.Length];
        for (int i = 0; i < bars.Length; i++)
        {
            fast.Update(bars[i].Close);
            slow.Update(bars[i].Close);
            values[i] = slow.IsReady ? cross.UpdateSign(PriceSma.Compare(fast, slow)) : double.NaN;
        }

        return new KeelRun(new Dictionary<string, double[]>(StringComparer.Ordinal) { ["cross"] = values }, null);
    }

    private static string Resolve(string file)
    {
        var (where, name) = (file[..file.IndexOf(':', StringComparison.Ordinal)], file[(file.IndexOf(':', StringComparison.Ordinal) + 1)..]);
        string path = where == "shared"
            ? Path.GetFullPath(Path.Combine(TestPaths.RepoRoot, "..", "shared", "data", "backtrader", name))
            : TestPaths.Data(name);
        Assert.True(File.Exists(path), $"{path} is missing: ../shared must sit beside the repository (CI clones it there)");
        return path;
    }

    private static Bar[] ReadBars(string path)
    {
        using var reader = CsvBarReader.Open(path, new InstrumentId("X"));
        var bars = new List<Bar>();
        while (reader.TryRead(out var bar))
        {
            bars.Add(bar);
        }

        return [.. bars];
    }

    /// <summary>With KEEL_ORACLE_REPORT=FILE, appends one tab-separated line per comparison (for docs/indicators.md).</summary>
    private static void Report(string file, OracleSeries s, int from, int compared, double maxRelative, double maxAbsolute, string note)
    {
        if (Environment.GetEnvironmentVariable("KEEL_ORACLE_REPORT") is not { Length: > 0 } target)
        {
            return;
        }

        var line = string.Join('\t', file, s.Spec, s.Line, s.Source, s.Kind, from.ToString(CultureInfo.InvariantCulture), compared.ToString(CultureInfo.InvariantCulture),
            maxRelative.ToString("E2", CultureInfo.InvariantCulture), maxAbsolute.ToString("E2", CultureInfo.InvariantCulture), note);
        lock (ReportLock)
        {
            File.AppendAllText(target, line + "\n");
        }
    }
}
