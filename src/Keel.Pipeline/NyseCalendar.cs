using Keel.Domain;

namespace Keel.Pipeline;

/// <summary>One trading day's regular session, in UTC, and whether it closes early (13:00 ET).</summary>
public sealed record TradingSession(DateOnly Day, Timestamp Open, Timestamp Close, bool EarlyClose);

/// <summary>
/// The New York Stock Exchange's trading days, 2024–2030: weekdays except its holidays (New Year's Day, Martin Luther
/// King Jr. Day, Washington's Birthday, Good Friday, Memorial Day, Juneteenth, Independence Day, Labor Day,
/// Thanksgiving, Christmas; a Saturday holiday is observed on the Friday before, a Sunday one on the Monday after,
/// except New Year's Day on a Saturday, which is not observed) and its special closures (the national day of
/// mourning of 9 January 2025). Regular hours 09:30–16:00 America/New_York; early closes at 13:00 on 3 July (when it
/// is a Monday to Thursday), the day after Thanksgiving, and 24 December (Monday to Thursday). Eastern time is computed
/// from the US rule in force since 2007 (EDT from the second Sunday of March, 02:00, to the first Sunday of November,
/// 02:00), so nothing depends on the machine's time zone database. Years outside 2024–2030 are refused, not guessed.
/// </summary>
public sealed class NyseCalendar
{
    public const int FirstYear = 2024;
    public const int LastYear = 2030;

    private static readonly TimeOnly RegularOpen = new(9, 30);
    private static readonly TimeOnly RegularClose = new(16, 0);
    private static readonly TimeOnly EarlyCloseTime = new(13, 0);

    private readonly Dictionary<DateOnly, string> _holidays = [];
    private readonly HashSet<DateOnly> _earlyCloses = [];

    private NyseCalendar()
    {
        for (int year = FirstYear; year <= LastYear; year++)
        {
            var newYear = new DateOnly(year, 1, 1);
            if (newYear.DayOfWeek != DayOfWeek.Saturday)
            {
                _holidays[Observed(newYear)] = "New Year's Day";
            }

            _holidays[NthWeekday(year, 1, DayOfWeek.Monday, 3)] = "Martin Luther King Jr. Day";
            _holidays[NthWeekday(year, 2, DayOfWeek.Monday, 3)] = "Washington's Birthday";
            _holidays[Easter(year).AddDays(-2)] = "Good Friday";
            _holidays[LastWeekday(year, 5, DayOfWeek.Monday)] = "Memorial Day";
            _holidays[Observed(new DateOnly(year, 6, 19))] = "Juneteenth";
            _holidays[Observed(new DateOnly(year, 7, 4))] = "Independence Day";
            _holidays[NthWeekday(year, 9, DayOfWeek.Monday, 1)] = "Labor Day";
            var thanksgiving = NthWeekday(year, 11, DayOfWeek.Thursday, 4);
            _holidays[thanksgiving] = "Thanksgiving Day";
            _holidays[Observed(new DateOnly(year, 12, 25))] = "Christmas Day";

            var july3 = new DateOnly(year, 7, 3);
            if (july3.DayOfWeek is >= DayOfWeek.Monday and <= DayOfWeek.Thursday)
            {
                _earlyCloses.Add(july3);
            }

            _earlyCloses.Add(thanksgiving.AddDays(1));
            var christmasEve = new DateOnly(year, 12, 24);
            if (christmasEve.DayOfWeek is >= DayOfWeek.Monday and <= DayOfWeek.Thursday)
            {
                _earlyCloses.Add(christmasEve);
            }
        }

        _holidays[new DateOnly(2025, 1, 9)] = "National Day of Mourning for President Carter";
    }

    /// <summary>The calendar (it holds no state that changes).</summary>
    public static NyseCalendar Instance { get; } = new();

    /// <summary>True on a weekday that is not a holiday.</summary>
    public bool IsTradingDay(DateOnly day)
    {
        Check(day);
        return day.DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday) && !_holidays.ContainsKey(day);
    }

    /// <summary>The holiday's name, or null.</summary>
    public string? Holiday(DateOnly day)
    {
        Check(day);
        return _holidays.GetValueOrDefault(day);
    }

    /// <summary>The day's regular session, or null when the exchange is closed.</summary>
    public TradingSession? Session(DateOnly day)
    {
        if (!IsTradingDay(day))
        {
            return null;
        }

        bool early = _earlyCloses.Contains(day);
        return new TradingSession(day, ToUtc(day, RegularOpen), ToUtc(day, early ? EarlyCloseTime : RegularClose), early);
    }

    /// <summary>The first trading day after <paramref name="day"/>.</summary>
    public DateOnly NextTradingDay(DateOnly day)
    {
        var next = day.AddDays(1);
        while (!IsTradingDay(next))
        {
            next = next.AddDays(1);
        }

        return next;
    }

    /// <summary>A wall-clock time in New York on <paramref name="day"/> as a UTC timestamp.</summary>
    public static Timestamp ToUtc(DateOnly day, TimeOnly easternTime)
    {
        var local = day.ToDateTime(easternTime);
        int offsetHours = IsDaylightTime(local) ? 4 : 5;
        var utc = local.AddHours(offsetHours);
        return Timestamp.FromParts(utc.Year, utc.Month, utc.Day, utc.Hour, utc.Minute, utc.Second);
    }

    /// <summary>The New York date and wall-clock time of a UTC timestamp.</summary>
    public static DateTime ToEastern(Timestamp time)
    {
        var utc = DateTimeOffset.FromUnixTimeMilliseconds(time.UnixNanos / 1_000_000).UtcDateTime;
        var (start, end) = DaylightBounds(utc.Year);
        bool daylight = utc >= start && utc < end;
        return DateTime.SpecifyKind(utc.AddHours(daylight ? -4 : -5), DateTimeKind.Unspecified);
    }

    /// <summary>Whether New York wall-clock time <paramref name="local"/> is daylight time (EDT).</summary>
    private static bool IsDaylightTime(DateTime local)
    {
        var (startUtc, endUtc) = DaylightBounds(local.Year);

        // In local time: daylight from 02:00 EST on the start day (07:00 UTC) to 02:00 EDT on the end day (06:00 UTC).
        var startLocal = startUtc.AddHours(-5);
        var endLocal = endUtc.AddHours(-4);
        return local >= startLocal && local < endLocal;
    }

    /// <summary>EDT begins and ends, in UTC: 2nd Sunday of March 07:00 UTC, 1st Sunday of November 06:00 UTC.</summary>
    private static (DateTime Start, DateTime End) DaylightBounds(int year)
    {
        var start = NthWeekday(year, 3, DayOfWeek.Sunday, 2).ToDateTime(new TimeOnly(7, 0), DateTimeKind.Utc);
        var end = NthWeekday(year, 11, DayOfWeek.Sunday, 1).ToDateTime(new TimeOnly(6, 0), DateTimeKind.Utc);
        return (start, end);
    }

    private static void Check(DateOnly day)
    {
        if (day.Year is < FirstYear or > LastYear)
        {
            throw new ArgumentOutOfRangeException(nameof(day), day, $"the NYSE calendar covers {FirstYear}–{LastYear}; {day:yyyy-MM-dd} is outside it");
        }
    }

    private static DateOnly Observed(DateOnly day) => day.DayOfWeek switch
    {
        DayOfWeek.Saturday => day.AddDays(-1),
        DayOfWeek.Sunday => day.AddDays(1),
        _ => day,
    };

    private static DateOnly NthWeekday(int year, int month, DayOfWeek weekday, int n)
    {
        var first = new DateOnly(year, month, 1);
        int shift = ((int)weekday - (int)first.DayOfWeek + 7) % 7;
        return first.AddDays(shift + (7 * (n - 1)));
    }

    private static DateOnly LastWeekday(int year, int month, DayOfWeek weekday)
    {
        var last = new DateOnly(year, month, DateTime.DaysInMonth(year, month));
        int shift = ((int)last.DayOfWeek - (int)weekday + 7) % 7;
        return last.AddDays(-shift);
    }

    /// <summary>Western Easter Sunday (the anonymous Gregorian algorithm).</summary>
    private static DateOnly Easter(int year)
    {
        int a = year % 19, b = year / 100, c = year % 100, d = b / 4, e = b % 4;
        int f = (b + 8) / 25, g = (b - f + 1) / 3, h = ((19 * a) + b - d - g + 15) % 30;
        int i = c / 4, k = c % 4, l = (32 + (2 * e) + (2 * i) - h - k) % 7;
        int m = (a + (11 * h) + (22 * l)) / 451;
        int month = (h + l - (7 * m) + 114) / 31, day = ((h + l - (7 * m) + 114) % 31) + 1;
        return new DateOnly(year, month, day);
    }
}
