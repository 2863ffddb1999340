using Keel.Domain;
using Keel.Pipeline;

namespace Keel.Tests.Pipeline;

public sealed class NyseCalendarTests
{
    private static readonly NyseCalendar Nyse = NyseCalendar.Instance;

    [Theory]
    [InlineData("2024-03-29", "Good Friday")]
    [InlineData("2024-07-04", "Independence Day")]
    [InlineData("2025-01-09", "National Day of Mourning for President Carter")]
    [InlineData("2026-07-03", "Independence Day")]      // 4 July is a Saturday
    [InlineData("2027-06-18", "Juneteenth")]            // 19 June is a Saturday
    [InlineData("2027-12-24", "Christmas Day")]         // 25 December is a Saturday
    [InlineData("2028-01-17", "Martin Luther King Jr. Day")]
    [InlineData("2030-04-19", "Good Friday")]
    [InlineData("2029-11-22", "Thanksgiving Day")]
    public void A_Holiday_IsNotATradingDay(string day, string name)
    {
        var d = DateOnly.Parse(day, System.Globalization.CultureInfo.InvariantCulture);
        Assert.False(Nyse.IsTradingDay(d));
        Assert.Equal(name, Nyse.Holiday(d));
        Assert.Null(Nyse.Session(d));
        Assert.Empty(PipelineSchedule.Firings(d));
    }

    [Fact]
    public void New_YearsDayOnASaturday_IsNotObserved_OnTheFridayBefore()
    {
        Assert.True(Nyse.IsTradingDay(new DateOnly(2027, 12, 31)));
        Assert.False(Nyse.IsTradingDay(new DateOnly(2029, 1, 1)));
        Assert.True(Nyse.IsTradingDay(new DateOnly(2024, 1, 2)));
        Assert.False(Nyse.IsTradingDay(new DateOnly(2024, 1, 6)));
    }

    [Fact]
    public void Every_YearHasTenRegularHolidays_OnWeekdays()
    {
        for (int year = NyseCalendar.FirstYear; year <= NyseCalendar.LastYear; year++)
        {
            var holidays = Enumerable.Range(0, 366).Select(i => new DateOnly(year, 1, 1).AddDays(i)).Where(d => d.Year == year && Nyse.Holiday(d) is not null).ToList();
            int expected = (year == 2025 ? 11 : 10) - (year == 2028 ? 1 : 0);
            Assert.True(expected == holidays.Count, $"{year}: {string.Join(", ", holidays)}");
            Assert.All(holidays, d => Assert.True(d.DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday)));
        }
    }

    [Theory]
    [InlineData("2024-07-03")]
    [InlineData("2024-11-29")]
    [InlineData("2024-12-24")]
    [InlineData("2025-07-03")]
    [InlineData("2026-11-27")]
    [InlineData("2030-12-24")]
    public void An_EarlyClose_EndsAt1300NewYork(string day)
    {
        var d = DateOnly.Parse(day, System.Globalization.CultureInfo.InvariantCulture);
        var session = Nyse.Session(d)!;
        Assert.True(session.EarlyClose);
        Assert.Equal(new TimeOnly(13, 0), TimeOnly.FromDateTime(NyseCalendar.ToEastern(session.Close)));
        Assert.Equal(new TimeOnly(9, 30), TimeOnly.FromDateTime(NyseCalendar.ToEastern(session.Open)));
        var firings = PipelineSchedule.Firings(d);
        var lastRegular = firings.Where(f => f.Stage == PipelineStage.OrderMonitor).Select(f => NyseCalendar.ToEastern(f.Time)).OrderBy(t => t).ToList();
        Assert.Equal(new TimeOnly(13, 0), TimeOnly.FromDateTime(lastRegular[^2]));
        Assert.Equal(new TimeOnly(18, 0), TimeOnly.FromDateTime(lastRegular[^1]));
    }

    [Fact]
    public void The_SpringDstChange_MovesTheOpenFrom1430To1330Utc()
    {
        // 2024: EDT from Sunday 10 March.
        Assert.Equal(Timestamp.FromParts(2024, 3, 8, 14, 30), Nyse.Session(new DateOnly(2024, 3, 8))!.Open);
        Assert.Equal(Timestamp.FromParts(2024, 3, 11, 13, 30), Nyse.Session(new DateOnly(2024, 3, 11))!.Open);
        Assert.Equal(Timestamp.FromParts(2024, 3, 11, 20, 0), Nyse.Session(new DateOnly(2024, 3, 11))!.Close);

        // The executor's 09:45 on either side.
        Assert.Equal(Timestamp.FromParts(2030, 3, 8, 14, 45), Executor(new DateOnly(2030, 3, 8)));
        Assert.Equal(Timestamp.FromParts(2030, 3, 11, 13, 45), Executor(new DateOnly(2030, 3, 11)));
    }

    [Fact]
    public void The_AutumnDstChange_MovesTheOpenFrom1330To1430Utc()
    {
        // 2024: EST from Sunday 3 November.
        Assert.Equal(Timestamp.FromParts(2024, 11, 1, 13, 30), Nyse.Session(new DateOnly(2024, 11, 1))!.Open);
        Assert.Equal(Timestamp.FromParts(2024, 11, 4, 14, 30), Nyse.Session(new DateOnly(2024, 11, 4))!.Open);
        Assert.Equal(Timestamp.FromParts(2024, 11, 4, 21, 0), Nyse.Session(new DateOnly(2024, 11, 4))!.Close);
        Assert.Equal(new DateTime(2024, 11, 3, 1, 30, 0), NyseCalendar.ToEastern(Timestamp.FromParts(2024, 11, 3, 5, 30)));
        Assert.Equal(new DateTime(2024, 11, 3, 1, 30, 0), NyseCalendar.ToEastern(Timestamp.FromParts(2024, 11, 3, 6, 30)));
    }

    [Fact]
    public void Eastern_Time_AgreesWithTheTimeZoneDatabase_WhenTheMachineHasIt()
    {
        TimeZoneInfo zone;
        try
        {
            zone = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");
        }
        catch (TimeZoneNotFoundException)
        {
            return;
        }

        for (var day = new DateOnly(2024, 1, 1); day.Year <= 2030; day = day.AddDays(1))
        {
            foreach (var t in new[] { new TimeOnly(9, 30), new TimeOnly(16, 0) })
            {
                var expected = TimeZoneInfo.ConvertTimeToUtc(day.ToDateTime(t), zone);
                var ours = NyseCalendar.ToUtc(day, t);
                Assert.True(Timestamp.FromDateTimeOffset(new DateTimeOffset(expected, TimeSpan.Zero)) == ours, $"{day} {t}");
                Assert.Equal(day.ToDateTime(t), NyseCalendar.ToEastern(ours));
            }
        }
    }

    [Fact]
    public void A_Regular_DayHasOneExecutorRun_79OrderMonitorRuns_And41PositionMonitorRuns()
    {
        var firings = PipelineSchedule.Firings(new DateOnly(2024, 1, 16));
        Assert.Single(firings, f => f.Stage == PipelineStage.Executor);
        Assert.Equal(79 + 1, firings.Count(f => f.Stage == PipelineStage.OrderMonitor));
        Assert.Equal(40 + 1, firings.Count(f => f.Stage == PipelineStage.PositionMonitor));
        Assert.Equal(firings.OrderBy(f => f.Time).Select(f => f.Time), firings.Select(f => f.Time));
        Assert.Equal(new DateOnly(2024, 1, 16), NyseCalendar.Instance.NextTradingDay(new DateOnly(2024, 1, 12)));
    }

    [Fact]
    public void A_Year_OutsideTheCalendar_IsRefused_WithTheRangeNamed()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Nyse.IsTradingDay(new DateOnly(2031, 1, 2)));
        Assert.Contains("2024–2030", ex.Message, StringComparison.Ordinal);
    }

    private static Timestamp Executor(DateOnly day) => PipelineSchedule.Firings(day).Single(f => f.Stage == PipelineStage.Executor).Time;
}
