using System.Globalization;
using Keel.Domain;

namespace Keel.Engine.Data.Live;

/// <summary>
/// A candle interval of whole seconds, aligned to multiples of itself since the Unix epoch (UTC): minutes start at
/// :00, hours on the hour, days at 00:00 UTC. Written as OANDA does (S5, S10, S15, S30, M1, M2, M4, M5, M10, M15, M30,
/// H1, H2, H3, H4, H6, H8, H12, D1) or in Keel's short form (5s, 1m, 5m, 1h, 1d).
/// </summary>
public readonly record struct Timeframe
{
    private Timeframe(long seconds, string name)
    {
        Seconds = seconds;
        Name = name;
    }

    public long Seconds { get; }

    /// <summary>Keel's short form (1m, 5m, 1h, 1d), as stored with candles.</summary>
    public string Name { get; }

    public long Nanos => Seconds * Timestamp.NanosPerSecond;

    public static Timeframe M1 { get; } = FromSeconds(60);

    public static Timeframe FromSeconds(long seconds)
    {
        if (seconds <= 0 || seconds > 86_400 || 86_400 % seconds != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(seconds), $"a timeframe of {seconds} s does not divide a day");
        }

        string name = seconds % 86_400 == 0 ? $"{seconds / 86_400}d"
            : seconds % 3_600 == 0 ? $"{seconds / 3_600}h"
            : seconds % 60 == 0 ? $"{seconds / 60}m"
            : $"{seconds}s";
        return new Timeframe(seconds, name);
    }

    public static bool TryParse(string? text, out Timeframe timeframe)
    {
        timeframe = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        text = text.Trim();
        long unit;
        string number;
        if (char.IsAsciiLetter(text[0]))
        {
            // OANDA style: S5, M1, H4, D (= D1).
            unit = char.ToUpperInvariant(text[0]) switch { 'S' => 1, 'M' => 60, 'H' => 3_600, 'D' => 86_400, _ => 0 };
            number = text.Length == 1 && unit == 86_400 ? "1" : text[1..];
        }
        else
        {
            int split = 0;
            while (split < text.Length && char.IsAsciiDigit(text[split]))
            {
                split++;
            }

            unit = text[split..].ToLowerInvariant() switch { "s" => 1, "m" or "min" => 60, "h" => 3_600, "d" => 86_400, _ => 0 };
            number = text[..split];
        }

        if (unit == 0 || !long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out long n) || n <= 0 || n > 86_400)
        {
            return false;
        }

        long seconds = n * unit;
        if (seconds > 86_400 || 86_400 % seconds != 0)
        {
            return false;
        }

        timeframe = FromSeconds(seconds);
        return true;
    }

    public static Timeframe Parse(string text) =>
        TryParse(text, out var tf) ? tf : throw new FormatException($"timeframe '{text}' is not one of S5…S30, M1…M30, H1…H12, D1 (or 5s, 1m, 5m, 1h, 1d); it must divide a day");

    /// <summary>Start of the interval that contains <paramref name="time"/>.</summary>
    public Timestamp Floor(Timestamp time)
    {
        long n = Nanos, t = time.UnixNanos;
        long r = t % n;
        return Timestamp.FromUnixNanos(r >= 0 ? t - r : t - r - n);
    }

    public override string ToString() => Name;
}
