using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;

namespace Keel.Tests.Support;

/// <summary>
/// Node.js and the indicator oracle (<c>tools/indicator-oracle</c>, its packages installed by <c>test.sh</c> with
/// <c>npm ci</c>). Without them the oracle tests are skipped when run by hand and FAIL under CI=true, like the
/// PostgreSQL tests.
/// </summary>
public static class Node
{
    private static readonly Lazy<string?> Executable = new(() =>
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, "node");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    });

    private static readonly ConcurrentDictionary<string, Lazy<OracleResult>> Cache = new(StringComparer.Ordinal);

    public static string OracleDirectory => Path.Combine(TestPaths.RepoRoot, "tools", "indicator-oracle");

    private static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>What is missing for the oracle to run, or null when everything is there.</summary>
    public static string? Missing
    {
        get
        {
            if (Executable.Value is null)
            {
                return "node is not on PATH (install Node.js 20 or later)";
            }

            foreach (var package in new[] { "technicalindicators", "trading-signals" })
            {
                if (!Directory.Exists(Path.Combine(OracleDirectory, "node_modules", package)))
                {
                    return $"the oracle's packages are not installed ({package} is missing); run: npm ci --prefix tools/indicator-oracle --no-audit --no-fund (test.sh does)";
                }
            }

            return null;
        }
    }

    /// <summary>
    /// Why a test of a Node tool under <c>tools/</c> (an official venue client) is skipped, or null when it runs: under
    /// CI it always runs (and fails if node or the package is missing); by hand it is skipped without node or without
    /// <paramref name="package"/> installed in the tool's folder.
    /// </summary>
    public static string? ToolSkipReason(string tool, string package, string what)
    {
        if (InCi)
        {
            return null;
        }

        if (Missing is string missing && missing.StartsWith("node is not", StringComparison.Ordinal))
        {
            return missing;
        }

        return Directory.Exists(Path.Combine(TestPaths.RepoRoot, "tools", tool, "node_modules", package))
            ? null
            : $"{what} is not installed; run: npm ci --prefix tools/{tool} --no-audit --no-fund (test.sh does)";
    }

    /// <summary>Why oracle tests are skipped, or null when they run (node and the packages are there, or this is CI).</summary>
    public static string? SkipReason => Missing is string missing && !InCi ? missing : null;

    /// <summary>
    /// Runs the oracle on <paramref name="dataFile"/> for <paramref name="specs"/> (each with every parameter written
    /// out), once per file and spec list.
    /// </summary>
    public static OracleResult Oracle(string dataFile, IReadOnlyList<string> specs)
    {
        var key = dataFile + "\n" + string.Join("\n", specs);
        return Cache.GetOrAdd(key, _ => new Lazy<OracleResult>(() => RunOracle(dataFile, specs))).Value;
    }

    private static OracleResult RunOracle(string dataFile, IReadOnlyList<string> specs)
    {
        if (Missing is string missing)
        {
            throw new InvalidOperationException($"the indicator oracle cannot run: {missing}. Under CI=true the oracle tests must run.");
        }

        var psi = new ProcessStartInfo(Executable.Value!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = OracleDirectory,
        };
        psi.ArgumentList.Add(Path.Combine(OracleDirectory, "oracle.mjs"));
        psi.ArgumentList.Add(dataFile);
        foreach (var s in specs)
        {
            psi.ArgumentList.Add(s);
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"the indicator oracle did not finish on {dataFile}");
        }

        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"the indicator oracle failed on {dataFile} (exit {p.ExitCode}): {stderr.Result}");
        }

        using var doc = JsonDocument.Parse(stdout.Result);
        var root = doc.RootElement;
        var series = new List<OracleSeries>();
        foreach (var s in root.GetProperty("series").EnumerateArray())
        {
            var values = s.GetProperty("values").EnumerateArray()
                .Select(v => v.ValueKind == JsonValueKind.Number ? v.GetDouble() : double.NaN).ToArray();
            series.Add(new OracleSeries(
                s.GetProperty("spec").GetString()!, s.GetProperty("line").GetString()!, s.GetProperty("source").GetString()!,
                s.GetProperty("kind").GetString()!, s.GetProperty("skip").GetInt32(), s.GetProperty("firstAgrees").GetBoolean(),
                s.GetProperty("note").GetString()!, s.GetProperty("decimals").GetInt32(), values));
        }

        return new OracleResult(root.GetProperty("bars").GetInt32(), root.GetProperty("decimals").GetInt32(), series);
    }
}

public sealed record OracleResult(int Bars, int Decimals, IReadOnlyList<OracleSeries> Series);

/// <summary>One reference line: NaN where the library gives no value. <see cref="Decimals"/>: what a "rounded" line is rounded to.</summary>
public sealed record OracleSeries(string Spec, string Line, string Source, string Kind, int Skip, bool FirstAgrees, string Note, int Decimals, double[] Values);

/// <summary>A [Fact] that needs Node.js and the oracle's packages: skipped by hand without them, run (and failing) under CI.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class NodeFactAttribute : FactAttribute
{
    public NodeFactAttribute()
    {
        if (Node.SkipReason is string reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>The [Theory] form of <see cref="NodeFactAttribute"/>.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class NodeTheoryAttribute : TheoryAttribute
{
    public NodeTheoryAttribute()
    {
        if (Node.SkipReason is string reason)
        {
            Skip = reason;
        }
    }
}
