using System.Globalization;
using Keel.Sandbox.Wire;
using Microsoft.AspNetCore.Http;

namespace Keel.Sandbox.Trading.Alpaca;

/// <summary>
/// <c>/v2/clock</c> and <c>/v2/calendar</c>: NYSE regular sessions (weekdays 09:30–16:00 New York time; holidays are
/// not modelled). The sandbox's market trades whenever it has prices, so the clock always says <c>is_open: true</c>.
/// </summary>
internal static class AlpacaCalendar
{
    private static readonly TimeZoneInfo NewYork = FindNewYork();

    public static ApiResult Clock(DateTimeOffset now)
    {
        var local = TimeZoneInfo.ConvertTime(now, NewYork);
        var nextOpen = NextSession(local, new TimeSpan(9, 30, 0));
        var nextClose = NextSession(local, new TimeSpan(16, 0, 0));
        return ApiResult.Ok(AlpacaWire.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("timestamp", local.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffffzzz", CultureInfo.InvariantCulture));
            w.WriteBoolean("is_open", true);
            w.WriteString("next_open", nextOpen.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture));
            w.WriteString("next_close", nextClose.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture));
            w.WriteEndObject();
        }));
    }

    /// <summary><c>start</c>/<c>end</c> as dates or full ISO timestamps (the 4.x SDK sends the latter); default: today to 30 days on.</summary>
    public static ApiResult Calendar(IQueryCollection query, DateTimeOffset now)
    {
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(now, NewYork).DateTime);
        if (!TryDate(query["start"].ToString(), today, out var start) || !TryDate(query["end"].ToString(), today.AddDays(30), out var end))
        {
            return ApiResult.Invalid("invalid start or end: expected YYYY-MM-DD or an RFC 3339 timestamp");
        }

        if (end.DayNumber - start.DayNumber > 366 * 20)
        {
            return ApiResult.Invalid("the calendar range is limited to 20 years in the sandbox");
        }

        return ApiResult.Ok(AlpacaWire.Write(w =>
        {
            w.WriteStartArray();
            for (var d = start; d <= end; d = d.AddDays(1))
            {
                if (!IsTradingDay(d))
                {
                    continue;
                }

                var settle = d.AddDays(1);
                while (!IsTradingDay(settle))
                {
                    settle = settle.AddDays(1);
                }

                w.WriteStartObject();
                w.WriteString("date", d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                w.WriteString("open", "09:30");
                w.WriteString("close", "16:00");
                w.WriteString("session_open", "0400");
                w.WriteString("session_close", "2000");
                w.WriteString("settlement_date", settle.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }));
    }

    private static bool IsTradingDay(DateOnly d) => d.DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday);

    private static bool TryDate(string text, DateOnly fallback, out DateOnly date)
    {
        date = fallback;
        if (text.Length == 0)
        {
            return true;
        }

        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out date))
        {
            return true;
        }

        if (WireText.TryParseTime(text, out long nanos))
        {
            var utc = DateTimeOffset.FromUnixTimeMilliseconds(nanos / 1_000_000);
            date = DateOnly.FromDateTime(utc.UtcDateTime);
            return true;
        }

        return false;
    }

    /// <summary>The next weekday moment at <paramref name="timeOfDay"/> New York time strictly after <paramref name="local"/>.</summary>
    private static DateTimeOffset NextSession(DateTimeOffset local, TimeSpan timeOfDay)
    {
        var day = local.Date;
        for (int i = 0; i < 10; i++, day = day.AddDays(1))
        {
            var candidate = day + timeOfDay;
            var offset = NewYork.GetUtcOffset(candidate);
            var at = new DateTimeOffset(candidate, offset);
            if (at > local && IsTradingDay(DateOnly.FromDateTime(candidate)))
            {
                return at;
            }
        }

        return local;
    }

    private static TimeZoneInfo FindNewYork()
    {
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById("America/New_York");
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            return TimeZoneInfo.CreateCustomTimeZone("Sandbox/New_York", TimeSpan.FromHours(-5), "New York (fixed -05:00)", "EST");
        }
    }
}
