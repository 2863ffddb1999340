using System.Runtime.CompilerServices;

namespace Keel.Domain;

/// <summary>A UTC instant: nanoseconds since 1970-01-01T00:00:00Z (range 1677–2262).</summary>
public readonly struct Timestamp : IEquatable<Timestamp>, IComparable<Timestamp>
{
    public const long NanosPerSecond = 1_000_000_000;
    public const long NanosPerMinute = 60 * NanosPerSecond;
    public const long NanosPerHour = 60 * NanosPerMinute;
    public const long NanosPerDay = 24 * NanosPerHour;

    private Timestamp(long nanos) => UnixNanos = nanos;

    public long UnixNanos { get; }

    public static Timestamp Epoch => default;

    public static Timestamp MinValue => new(long.MinValue);

    public static Timestamp MaxValue => new(long.MaxValue);

    public static Timestamp FromUnixNanos(long nanos) => new(nanos);

    public static Timestamp FromUnixSeconds(long seconds) => new(checked(seconds * NanosPerSecond));

    public static Timestamp FromDateTimeOffset(DateTimeOffset value) =>
        new(checked((value.UtcTicks - DateTime.UnixEpoch.Ticks) * 100));

    /// <summary>Builds a timestamp from calendar fields (UTC). Fields are validated.</summary>
    public static Timestamp FromParts(int year, int month, int day, int hour = 0, int minute = 0, int second = 0, long nanos = 0)
    {
        if (!TryFromParts(year, month, day, hour, minute, second, nanos, out var ts))
        {
            throw new ArgumentOutOfRangeException(nameof(year), $"{year:D4}-{month:D2}-{day:D2} {hour:D2}:{minute:D2}:{second:D2} is not a valid UTC time");
        }

        return ts;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryFromParts(int year, int month, int day, int hour, int minute, int second, long nanos, out Timestamp result)
    {
        result = default;
        if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month) || hour < 0 || hour > 23 || minute < 0 || minute > 59
            || second < 0 || second > 59 || nanos < 0 || nanos >= NanosPerSecond || year < 1678 || year > 2261)
        {
            return false;
        }

        long days = DaysFromCivil(year, month, day);
        result = new Timestamp((days * NanosPerDay) + (hour * NanosPerHour) + (minute * NanosPerMinute) + (second * NanosPerSecond) + nanos);
        return true;
    }

    public static int DaysInMonth(int year, int month) => month switch
    {
        2 => (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28,
        4 or 6 or 9 or 11 => 30,
        _ => 31,
    };

    /// <summary>Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long DaysFromCivil(int year, int month, int day)
    {
        long y = month <= 2 ? year - 1 : year;
        long era = (y >= 0 ? y : y - 399) / 400;
        long yoe = y - (era * 400);
        long doy = ((153 * (month > 2 ? month - 3 : month + 9)) + 2) / 5 + day - 1;
        long doe = (yoe * 365) + (yoe / 4) - (yoe / 100) + doy;
        return (era * 146097) + doe - 719468;
    }

    /// <summary>The calendar date of a day number (inverse of <see cref="DaysFromCivil"/>).</summary>
    public static (int Year, int Month, int Day) CivilFromDays(long days)
    {
        days += 719468;
        long era = (days >= 0 ? days : days - 146096) / 146097;
        long doe = days - (era * 146097);
        long yoe = (doe - (doe / 1460) + (doe / 36524) - (doe / 146096)) / 365;
        long y = yoe + (era * 400);
        long doy = doe - ((365 * yoe) + (yoe / 4) - (yoe / 100));
        long mp = ((5 * doy) + 2) / 153;
        long d = doy - (((153 * mp) + 2) / 5) + 1;
        long m = mp < 10 ? mp + 3 : mp - 9;
        return ((int)(y + (m <= 2 ? 1 : 0)), (int)m, (int)d);
    }

    /// <summary>Whole days since the epoch (the UTC calendar day this instant falls on).</summary>
    public long UtcDayNumber => UnixNanos >= 0 ? UnixNanos / NanosPerDay : ((UnixNanos + 1) / NanosPerDay) - 1;

    public DateTimeOffset ToDateTimeOffset() => new(DateTime.UnixEpoch.Ticks + (UnixNanos / 100), TimeSpan.Zero);

    public Timestamp Add(TimeSpan span) => new(checked(UnixNanos + (span.Ticks * 100)));

    public Timestamp AddNanos(long nanos) => new(checked(UnixNanos + nanos));

    public TimeSpan Subtract(Timestamp earlier) => TimeSpan.FromTicks((UnixNanos - earlier.UnixNanos) / 100);

    /// <summary>Formats as ISO 8601 UTC, <c>2006-01-02T09:05:00Z</c>, with fractional seconds only when present.</summary>
    public int FormatUtf8(Span<byte> d)
    {
        long day = UtcDayNumber;
        var (y, m, dd) = CivilFromDays(day);
        Write4(d, 0, y);
        d[4] = (byte)'-';
        Write2(d, 5, m);
        d[7] = (byte)'-';
        Write2(d, 8, dd);
        return 10 + FormatTimeOfDay(d);
    }

    /// <summary>
    /// Writes <c>THH:MM:SS[.f]Z</c> at <c>d[10..]</c>, assuming <c>d[0..10]</c> already holds this instant's date
    /// (writers that emit many times of one day cache the date).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int FormatTimeOfDay(Span<byte> d)
    {
        // Digits only (a non-negative time of day): unchecked, without the build's overflow tests on each byte.
        unchecked
        {
            long nanosOfDay = UnixNanos - (UtcDayNumber * NanosPerDay);
            int sec = (int)(nanosOfDay / NanosPerSecond);
            long frac = nanosOfDay - (sec * NanosPerSecond);
            int hours = sec / 3600;
            int rest = sec - (hours * 3600);
            int minutes = rest / 60;
            int seconds = rest - (minutes * 60);

            // "HH:MM:SS" as one little-endian word: three digit pairs from the table and the two colons.
            ReadOnlySpan<byte> pairs = FixedPoint.DigitPairs;
            ulong clock = System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(pairs[(hours * 2)..])
                | ((ulong)':' << 16)
                | ((ulong)System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(pairs[(minutes * 2)..]) << 24)
                | ((ulong)':' << 40)
                | ((ulong)System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(pairs[(seconds * 2)..]) << 48);
            d[10] = (byte)'T';
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(d.Slice(11, 8), clock);
            int pos = 19;
            if (frac != 0)
            {
                d[pos++] = (byte)'.';
                int digits = 9;
                while (frac % 10 == 0)
                {
                    frac /= 10;
                    digits--;
                }

                for (int k = digits - 1; k >= 0; k--)
                {
                    d[pos + k] = (byte)('0' + (int)(frac % 10));
                    frac /= 10;
                }

                pos += digits;
            }

            d[pos++] = (byte)'Z';
            return pos - 10;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Write2(Span<byte> d, int at, int v)
    {
        unchecked
        {
            int tens = v / 10;
            d[at + 1] = (byte)('0' + (v - (tens * 10)));
            d[at] = (byte)('0' + tens);
        }
    }

    private static void Write4(Span<byte> d, int at, int v)
    {
        d[at] = (byte)('0' + (v / 1000));
        d[at + 1] = (byte)('0' + (v / 100 % 10));
        d[at + 2] = (byte)('0' + (v / 10 % 10));
        d[at + 3] = (byte)('0' + (v % 10));
    }

    public override string ToString()
    {
        Span<byte> buffer = stackalloc byte[40];
        int n = FormatUtf8(buffer);
        return System.Text.Encoding.ASCII.GetString(buffer[..n]);
    }

    /// <summary>Parses <c>YYYY-MM-DD</c>, <c>YYYY-MM-DD HH:MM[:SS[.f…]]</c> or the same with <c>T</c> and an optional <c>Z</c> or <c>±HH:MM</c> offset.</summary>
    public static Timestamp Parse(string text) =>
        TryParse(text, out var ts) ? ts : throw new FormatException($"time '{text}' is not YYYY-MM-DD[THH:MM[:SS[.fff]]][Z]");

    public static bool TryParse(ReadOnlySpan<char> text, out Timestamp result)
    {
        Span<byte> buffer = stackalloc byte[40];
        result = default;
        if (text.Length > buffer.Length)
        {
            return false;
        }

        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] > 127)
            {
                return false;
            }

            buffer[i] = (byte)text[i];
        }

        return TryParseIso(buffer[..text.Length], out result);
    }

    /// <summary>Fast ASCII parser for the formats of <see cref="Parse"/>.</summary>
    public static bool TryParseIso(ReadOnlySpan<byte> s, out Timestamp result)
    {
        result = default;
        if (s.Length < 10 || s[4] != '-' || s[7] != '-')
        {
            return false;
        }

        if (!Digits(s, 0, 4, out int year) || !Digits(s, 5, 2, out int month) || !Digits(s, 8, 2, out int day))
        {
            return false;
        }

        int hour = 0, minute = 0, second = 0;
        long nanos = 0;
        int pos = 10;
        if (s.Length > 10)
        {
            if (s[10] != ' ' && s[10] != 'T')
            {
                return false;
            }

            if (s.Length < 16 || s[13] != ':' || !Digits(s, 11, 2, out hour) || !Digits(s, 14, 2, out minute))
            {
                return false;
            }

            pos = 16;
            if (pos < s.Length && s[pos] == ':')
            {
                if (s.Length < 19 || !Digits(s, 17, 2, out second))
                {
                    return false;
                }

                pos = 19;
                if (pos < s.Length && s[pos] == '.')
                {
                    pos++;
                    int digits = 0;
                    while (pos < s.Length && unchecked((uint)(s[pos] - '0')) <= 9)
                    {
                        if (digits < 9)
                        {
                            nanos = (nanos * 10) + (s[pos] - '0');
                            digits++;
                        }

                        pos++;
                    }

                    if (digits == 0)
                    {
                        return false;
                    }

                    nanos *= FixedPoint.Pow10[9 - digits];
                }
            }

            long offsetNanos = 0;
            if (pos < s.Length && s[pos] == 'Z')
            {
                pos++;
            }
            else if (pos + 6 == s.Length && (s[pos] == '+' || s[pos] == '-') && s[pos + 3] == ':'
                && Digits(s, pos + 1, 2, out int oh) && Digits(s, pos + 4, 2, out int om) && oh <= 23 && om <= 59)
            {
                // An offset: local time minus the offset is UTC.
                offsetNanos = ((oh * NanosPerHour) + (om * NanosPerMinute)) * (s[pos] == '+' ? 1 : -1);
                pos += 6;
            }

            if (pos != s.Length || !TryFromParts(year, month, day, hour, minute, second, nanos, out result))
            {
                return false;
            }

            result = new Timestamp(result.UnixNanos - offsetNanos);
            return true;
        }

        return pos == s.Length && TryFromParts(year, month, day, hour, minute, second, nanos, out result);
    }

    /// <summary>Parses <paramref name="count"/> ASCII digits starting at <paramref name="start"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Digits(ReadOnlySpan<byte> s, int start, int count, out int value)
    {
        value = 0;
        for (int i = start; i < start + count; i++)
        {
            uint d = unchecked((uint)(s[i] - '0'));
            if (d > 9)
            {
                return false;
            }

            value = (value * 10) + (int)d;
        }

        return true;
    }

    public bool Equals(Timestamp other) => UnixNanos == other.UnixNanos;

    public override bool Equals(object? obj) => obj is Timestamp other && Equals(other);

    public override int GetHashCode() => UnixNanos.GetHashCode();

    public int CompareTo(Timestamp other) => UnixNanos.CompareTo(other.UnixNanos);

    public static bool operator ==(Timestamp a, Timestamp b) => a.UnixNanos == b.UnixNanos;

    public static bool operator !=(Timestamp a, Timestamp b) => a.UnixNanos != b.UnixNanos;

    public static bool operator <(Timestamp a, Timestamp b) => a.UnixNanos < b.UnixNanos;

    public static bool operator >(Timestamp a, Timestamp b) => a.UnixNanos > b.UnixNanos;

    public static bool operator <=(Timestamp a, Timestamp b) => a.UnixNanos <= b.UnixNanos;

    public static bool operator >=(Timestamp a, Timestamp b) => a.UnixNanos >= b.UnixNanos;
}
