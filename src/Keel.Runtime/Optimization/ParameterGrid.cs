using System.Globalization;
using Keel.Engine.Strategies;

namespace Keel.Runtime.Optimization;

/// <summary>One parameter of a sweep and the values it takes, in the order they were given.</summary>
public sealed record SweepAxis(string Name, IReadOnlyList<string> Values)
{
    /// <summary>The <c>--param</c> text this axis came from, for messages.</summary>
    public required string Source { get; init; }
}

/// <summary>
/// The combinations of a parameter sweep: every parameter given, each with one or more values. Combination
/// <c>i</c> is a mixed-radix number over the axes, the first axis slowest (as nested loops in the order given), so a
/// combination's number never depends on how many cores run the sweep or in which order they finish.
/// </summary>
/// <remarks>
/// A parameter takes <c>name=START:END:STEP</c> (inclusive; <c>START:END</c> steps by 1), <c>name=A,B,C</c>, or one
/// value. Ranges are exact decimals: <c>0.1:0.3:0.1</c> is 0.1, 0.2, 0.3, never 0.30000000000000004.
/// </remarks>
public sealed class ParameterGrid
{
    private readonly long[] _strides;

    private ParameterGrid(IReadOnlyList<SweepAxis> axes)
    {
        Axes = axes;
        _strides = new long[axes.Count];
        long count = 1;
        for (int i = axes.Count - 1; i >= 0; i--)
        {
            _strides[i] = count;
            count = count > long.MaxValue / axes[i].Values.Count ? long.MaxValue : count * axes[i].Values.Count;
        }

        Count = count;
    }

    /// <summary>Every parameter of the sweep, fixed ones (one value) included, in the order given.</summary>
    public IReadOnlyList<SweepAxis> Axes { get; }

    /// <summary>The parameters that take more than one value.</summary>
    public IReadOnlyList<SweepAxis> Varying => [.. Axes.Where(a => a.Values.Count > 1)];

    /// <summary>How many combinations the grid holds (<see cref="long.MaxValue"/> when that overflows).</summary>
    public long Count { get; }

    /// <summary>The values of combination <paramref name="index"/>, one per axis.</summary>
    public string[] Values(long index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        var values = new string[Axes.Count];
        for (int i = 0; i < Axes.Count; i++)
        {
            values[i] = Axes[i].Values[(int)(index / _strides[i] % Axes[i].Values.Count)];
        }

        return values;
    }

    /// <summary>Combination <paramref name="index"/> as <c>name=value</c> pairs, as a backtest's <c>--param</c> takes them.</summary>
    public string[] Pairs(long index)
    {
        var values = Values(index);
        var pairs = new string[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            pairs[i] = $"{Axes[i].Name}={values[i]}";
        }

        return pairs;
    }

    /// <summary>
    /// Reads <c>--param</c> expressions against a strategy's parameters. A name the strategy does not take, an empty or
    /// inverted range, a step of zero or a malformed number is a <see cref="UsageException"/> naming the option and value.
    /// </summary>
    public static ParameterGrid Parse(IEnumerable<string> expressions, StrategyDescriptor strategy)
    {
        ArgumentNullException.ThrowIfNull(expressions);
        ArgumentNullException.ThrowIfNull(strategy);
        var axes = new List<SweepAxis>();
        foreach (var text in expressions)
        {
            int eq = text.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || eq == text.Length - 1)
            {
                throw new UsageException($"--param {text}: it must look like name=START:END:STEP, name=A,B,C or name=VALUE (for example fast=5:50:5)");
            }

            var name = text[..eq].Trim();
            var body = text[(eq + 1)..].Trim();
            var baseName = name.Split('.')[0];
            if (!strategy.Parameters.Any(p => string.Equals(p.Name, baseName, StringComparison.OrdinalIgnoreCase)))
            {
                var known = string.Join(", ", strategy.Parameters.Select(p => p.Name));
                throw new UsageException($"--param {text}: strategy {strategy.Name} has no parameter '{name}'; it takes: {(known.Length == 0 ? "no parameters" : known)}");
            }

            if (axes.Any(a => string.Equals(a.Name, name, StringComparison.OrdinalIgnoreCase)))
            {
                throw new UsageException($"--param {text}: parameter '{name}' is given twice");
            }

            axes.Add(new SweepAxis(name, ValuesOf(text, body)) { Source = text });
        }

        return new ParameterGrid(axes);
    }

    private static List<string> ValuesOf(string text, string body)
    {
        var parts = body.Split(':');
        if (parts.Length is 2 or 3 && parts.All(p => decimal.TryParse(p, NumberStyles.Number, CultureInfo.InvariantCulture, out _)))
        {
            var start = decimal.Parse(parts[0], NumberStyles.Number, CultureInfo.InvariantCulture);
            var end = decimal.Parse(parts[1], NumberStyles.Number, CultureInfo.InvariantCulture);
            var step = parts.Length == 3 ? decimal.Parse(parts[2], NumberStyles.Number, CultureInfo.InvariantCulture) : 1m;
            if (step == 0)
            {
                throw new UsageException($"--param {text}: the step is zero; give a positive step, e.g. {parts[0]}:{parts[1]}:1");
            }

            if (step < 0)
            {
                throw new UsageException($"--param {text}: the step {parts[2]} is negative; ranges go up: START:END:STEP with START ≤ END and STEP > 0");
            }

            if (start > end)
            {
                throw new UsageException($"--param {text}: the range is inverted ({parts[0]} is above {parts[1]}); give START:END with START ≤ END");
            }

            var count = decimal.Floor((end - start) / step) + 1;
            if (count > 1_000_000)
            {
                throw new UsageException($"--param {text}: the range has {count:0} values; at most 1,000,000 per parameter");
            }

            var values = new List<string>((int)count);
            for (decimal v = start; v <= end; v += step)
            {
                values.Add(Format(v));
            }

            return values;
        }

        if (parts.Length > 1 && parts.Length <= 3 && body.Contains(':', StringComparison.Ordinal) && parts.Any(p => p.Length == 0))
        {
            throw new UsageException($"--param {text}: the range is empty; give START:END:STEP, e.g. 5:50:5");
        }

        var items = body.Split(',', StringSplitOptions.TrimEntries);
        if (items.Any(i => i.Length == 0))
        {
            throw new UsageException($"--param {text}: the list has an empty value; give name=A,B,C");
        }

        if (items.Distinct(StringComparer.Ordinal).Count() != items.Length)
        {
            throw new UsageException($"--param {text}: a value is listed twice; each combination would run twice");
        }

        return [.. items];
    }

    /// <summary>A decimal as the shortest text that reads back the same: 5, 0.1, 2.5 (never 5.0 or 0.10).</summary>
    private static string Format(decimal v)
    {
        var s = v.ToString(CultureInfo.InvariantCulture);
        return s.Contains('.', StringComparison.Ordinal) ? s.TrimEnd('0').TrimEnd('.') : s;
    }

    /// <summary>
    /// <paramref name="count"/> distinct combinations drawn uniformly with a seeded generator (Floyd's algorithm over
    /// SplitMix64), in ascending order: the same seed gives the same sample on every machine. All of them when the grid
    /// is no larger.
    /// </summary>
    public long[] Sample(long count, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        if (count >= Count)
        {
            return All();
        }

        var chosen = new HashSet<long>();
        var rng = new SplitMix64(seed);
        for (long j = Count - count; j < Count; j++)
        {
            long t = (long)(rng.Next() % (ulong)(j + 1));
            if (!chosen.Add(t))
            {
                chosen.Add(j);
            }
        }

        var result = chosen.ToArray();
        Array.Sort(result);
        return result;
    }

    /// <summary>Every combination, in order.</summary>
    public long[] All()
    {
        if (Count > int.MaxValue)
        {
            throw new UsageException($"the grid has {Count:N0} combinations; too many to run (use --random N)");
        }

        var all = new long[Count];
        for (long i = 0; i < all.Length; i++)
        {
            all[i] = i;
        }

        return all;
    }

    private sealed class SplitMix64(ulong seed)
    {
        private ulong _s = seed;

        public ulong Next()
        {
            unchecked
            {
                _s += 0x9E3779B97F4A7C15UL;
                ulong z = _s;
                z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
                z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
                return z ^ (z >> 31);
            }
        }
    }
}
