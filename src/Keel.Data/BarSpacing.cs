using System.Globalization;
using Keel.Domain;
using Keel.Engine.Data;

namespace Keel.Data;

/// <summary>
/// How far apart a file's bars are, from the gaps between its first bars: the smallest gap and the most common one
/// (the typical spacing). Either tells a file's timeframe through the gaps it has that a timeframe does not explain:
/// a night, a weekend or a holiday makes a gap longer, never shorter; a missing bar of a thinly traded instrument
/// is rare enough not to be the most common gap, and a session that opens off the hour (09:30) has a short gap once a
/// day but the usual one the rest of it.
/// </summary>
public readonly record struct BarSpacing(long SmallestNanos, long TypicalNanos, int Gaps)
{
    private const long Day = 86_400;

    /// <summary>Measures the gaps among the first <paramref name="maxBars"/> bars of <paramref name="reader"/>.</summary>
    public static BarSpacing Measure(IBarReader reader, int maxBars = 1000)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var counts = new Dictionary<long, int>();
        long smallest = long.MaxValue;
        int gaps = 0;
        Timestamp? previous = null;
        for (int i = 0; i < maxBars && reader.TryRead(out var bar); i++)
        {
            if (previous is Timestamp p && bar.Time.UnixNanos > p.UnixNanos)
            {
                long gap = bar.Time.UnixNanos - p.UnixNanos;
                smallest = Math.Min(smallest, gap);
                counts[gap] = counts.GetValueOrDefault(gap) + 1;
                gaps++;
            }

            previous = bar.Time;
        }

        long typical = 0;
        int most = 0;
        foreach (var (gap, count) in counts)
        {
            if (count > most || (count == most && gap < typical))
            {
                (typical, most) = (gap, count);
            }
        }

        return new BarSpacing(gaps == 0 ? 0 : smallest, typical, gaps);
    }

    /// <summary>
    /// Whether bars this far apart are candles of <paramref name="timeframe"/> (as <see cref="NominalSeconds"/> reads
    /// it): the smallest or the typical gap is the timeframe (for weeks 5–8 days, for months 28–31). True when there
    /// are no gaps to judge by, or the timeframe is not one this reads.
    /// </summary>
    public bool Fits(string timeframe)
    {
        if (Gaps == 0 || NominalSeconds(timeframe) is not (long lo, long hi))
        {
            return true;
        }

        bool Within(long nanos) => nanos >= lo * Timestamp.NanosPerSecond && nanos <= hi * Timestamp.NanosPerSecond;
        return Within(SmallestNanos) || Within(TypicalNanos);
    }

    /// <summary>
    /// The gaps between bars a timeframe allows, in seconds: exactly its length for seconds to days, 5–8 days for
    /// weeks, 28–31 days for months. Reads Keel's short form (5m, 1h, 1d, 1w, 1mo) and OANDA's (S5, M1, H4, D, W, M);
    /// null for anything else.
    /// </summary>
    public static (long Low, long High)? NominalSeconds(string timeframe)
    {
        ArgumentNullException.ThrowIfNull(timeframe);
        var t = timeframe.Trim();
        switch (t)
        {
            case "D":
                return (Day, Day);
            case "W":
                return (5 * Day, 8 * Day);
            case "M":
                return (28 * Day, 31 * Day);
        }

        int split = 0;
        while (split < t.Length && char.IsAsciiLetter(t[split]))
        {
            split++;
        }

        string unit;
        string number;
        if (split > 0)
        {
            // OANDA: a unit letter, then a count (S5, M15, H4).
            (unit, number) = (t[..split] switch { "S" => "s", "M" => "m", "H" => "h", _ => string.Empty }, t[split..]);
        }
        else
        {
            while (split < t.Length && char.IsAsciiDigit(t[split]))
            {
                split++;
            }

            (unit, number) = (t[split..], t[..split]);
        }

        if (!long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out long n) || n <= 0 || n > 100_000)
        {
            return null;
        }

        return unit switch
        {
            "s" => (n, n),
            "m" => (n * 60, n * 60),
            "h" => (n * 3_600, n * 3_600),
            "d" => (n * Day, n * Day),
            "w" => ((n * 7 * Day) - (2 * Day), (n * 7 * Day) + Day),
            "mo" => (n * 28 * Day, n * 31 * Day),
            _ => null,
        };
    }

    /// <summary>The timeframe a gap is, in Keel's short form: 5m, 1h, 1d, 1w, 1mo (or 90s, 36h when it is no round unit).</summary>
    public static string Name(long nanos)
    {
        long s = nanos / Timestamp.NanosPerSecond;
        return s switch
        {
            >= 28 * Day and <= 31 * Day => "1mo",
            _ when s % (7 * Day) == 0 && s > 0 => $"{s / (7 * Day)}w",
            _ when s % Day == 0 && s > 0 => $"{s / Day}d",
            _ when s % 3_600 == 0 && s > 0 => $"{s / 3_600}h",
            _ when s % 60 == 0 && s > 0 => $"{s / 60}m",
            _ => $"{s}s",
        };
    }

    /// <summary>A gap in words: 5 minutes, 1 day, 2 weeks, 1 month.</summary>
    public static string Words(long nanos)
    {
        var name = Name(nanos);
        int split = name.IndexOfAny(['s', 'm', 'h', 'd', 'w']);
        string count = name[..split];
        string unit = name[split..] switch { "s" => "second", "m" => "minute", "h" => "hour", "d" => "day", "w" => "week", _ => "month" };
        return $"{count} {unit}{(count == "1" ? string.Empty : "s")}";
    }
}
