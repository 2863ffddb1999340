namespace Keel.Cli;

/// <summary>"Did you mean" for a mistyped command, option or configuration key: the closest known name, if it is close.</summary>
internal static class Suggestions
{
    /// <summary>
    /// The candidate nearest to <paramref name="input"/> (case-insensitive, leading dashes ignored), counting a swap of
    /// two neighbouring letters as one edit; null when none is within a third of the word's length (at least one edit).
    /// </summary>
    public static string? Closest(string input, IEnumerable<string> candidates)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(candidates);
        var word = Bare(input);
        if (word.Length == 0)
        {
            return null;
        }

        int limit = Math.Max(1, Math.Min(3, word.Length / 3));
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            int d = Distance(word, Bare(candidate));
            if (d <= limit && d < bestDistance)
            {
                best = candidate;
                bestDistance = d;
            }
        }

        return best;
    }

    /// <summary>" (did you mean 'x'?)"-style tail, or empty.</summary>
    public static string DidYouMean(string input, IEnumerable<string> candidates) =>
        Closest(input, candidates) is string s ? $"; did you mean '{s}'?" : string.Empty;

    private static string Bare(string s) => s.TrimStart('-').ToLowerInvariant();

    /// <summary>Optimal string alignment distance: insertions, deletions, substitutions and adjacent transpositions.</summary>
    internal static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (int j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }
}
