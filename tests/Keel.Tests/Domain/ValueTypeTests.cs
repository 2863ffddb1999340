using System.Numerics;
using FsCheck;
using FsCheck.Fluent;
using Keel.Domain;

namespace Keel.Tests.Domain;

public class PriceTests
{
    [Theory]
    [InlineData("101.25", 101_250_000_000L)]
    [InlineData("0.0001", 100_000L)]
    [InlineData("-3.5", -3_500_000_000L)]
    [InlineData(".5", 500_000_000L)]
    [InlineData("7", 7_000_000_000L)]
    [InlineData("1.0000000005", 1_000_000_000L)]
    [InlineData("1.0000000015", 1_000_000_002L)]
    [InlineData("1.00000000051", 1_000_000_001L)]
    public void Parse_DecimalText_GivesExactRaw(string text, long raw) => Assert.Equal(raw, Price.Parse(text).Raw);

    [Theory]
    [InlineData("")]
    [InlineData("-")]
    [InlineData(".")]
    [InlineData("1e5")]
    [InlineData("12a")]
    [InlineData("1,5")]
    [InlineData("99999999999")]
    public void TryParse_Malformed_ReturnsFalse(string text) => Assert.False(Price.TryParse(text, out _));

    [Fact]
    public void ToString_TrimsTrailingZeros() => Assert.Equal("3839.24", Price.Parse("3839.2400").ToString());

    [Fact]
    public void Multiply_PriceByQuantity_IsExactMoney()
    {
        var notional = Price.Parse("100.1234") * Quantity.Parse("3.5");
        Assert.Equal(Money.Parse("350.4319"), notional);
    }

    [Fact]
    public void Rounding_ToTick_FollowsDirection()
    {
        var tick = Price.Parse("0.01");
        Assert.Equal(Price.Parse("100.13"), Price.Parse("100.1234").CeilingTo(tick));
        Assert.Equal(Price.Parse("100.12"), Price.Parse("100.1299").FloorTo(tick));
        Assert.Equal(Price.Parse("100.12"), Price.Parse("100.125").RoundTo(tick));
        Assert.Equal(Price.Parse("100.14"), Price.Parse("100.135").RoundTo(tick));
    }

    [Fact]
    public void Arithmetic_Overflow_Throws() =>
        Assert.Throws<OverflowException>(() => Price.FromRaw(long.MaxValue) + Price.FromRaw(1));

    [Fact]
    public void Property_ParseFormat_RoundTrips() =>
        Prop.ForAll(Gen.Choose(-1_000_000, 1_000_000).Zip(Gen.Choose(0, 999_999_999)).ToArbitrary(), t =>
        {
            var raw = ((long)t.Item1 * Price.Scale) + (t.Item1 < 0 ? -t.Item2 : t.Item2);
            var p = Price.FromRaw(raw);
            return Price.Parse(p.ToString()) == p;
        }).QuickCheckThrowOnFailure();
}

public class MoneyTests
{
    private static BigInteger Raw(Money m) => (BigInteger)m.Raw;

    private static Money FromBig(BigInteger b) => Money.FromRaw((Int128)b);

    private static readonly Gen<BigInteger> Amounts =
        Gen.Choose(-1_000_000_000, 1_000_000_000).Zip(Gen.Choose(0, int.MaxValue)).Zip(Gen.Choose(0, 999_999_999))
            .Select(t => ((BigInteger)t.Item1.Item1 * 1_000_000_000_000_000_000L) + ((BigInteger)t.Item1.Item2 * 1_000_000_000) + t.Item2);

    [Fact]
    public void Property_AddSubtractCompare_MatchBigInteger() =>
        Prop.ForAll(Amounts.Two().ToArbitrary(), t =>
        {
            var (a, b) = t;
            var ma = FromBig(a);
            var mb = FromBig(b);
            return Raw(ma + mb) == a + b && Raw(ma - mb) == a - b && Raw(-ma) == -a
                && Math.Sign(ma.CompareTo(mb)) == a.CompareTo(b) && (ma == mb) == (a == b);
        }).QuickCheckThrowOnFailure();

    [Fact]
    public void Property_Product_IsExact() =>
        Prop.ForAll(Gen.Choose(int.MinValue, int.MaxValue).Two().Zip(Gen.Choose(1, 4_000)).ToArbitrary(), t =>
        {
            long a = (long)t.Item1.Item1 * t.Item2;
            long b = t.Item1.Item2;
            return Raw(Money.Product(a, b)) == (BigInteger)a * b;
        }).QuickCheckThrowOnFailure();

    [Fact]
    public void Property_Scale_RoundsHalfToEven() =>
        Prop.ForAll(Amounts.Zip(Gen.Choose(-1_000_000, 1_000_000)).Zip(Gen.Choose(1, 2_000_000)).ToArbitrary(), t =>
        {
            var ((a, n), d) = t;
            var expected = DivideHalfEven(a * n, d);
            return Raw(FromBig(a).Scale(n, d)) == expected;
        }).QuickCheckThrowOnFailure();

    [Fact]
    public void Property_DivideToPrice_RoundsHalfToEven() =>
        Prop.ForAll(Amounts.Zip(Gen.Choose(1, int.MaxValue)).ToArbitrary(), t =>
        {
            var (a, q) = t;
            var expected = DivideHalfEven(a, q);
            if (BigInteger.Abs(expected) > long.MaxValue)
            {
                return true;
            }

            return FromBig(a).DivideToPrice(Quantity.FromRaw(q)).Raw == (long)expected;
        }).QuickCheckThrowOnFailure();

    [Fact]
    public void Property_FormatParse_RoundTripsExactly() =>
        Prop.ForAll(Amounts.ToArbitrary(), a =>
        {
            var m = FromBig(a);
            var text = m.ToString();
            return Money.Parse(text) == m && decimal.Parse(text, System.Globalization.CultureInfo.InvariantCulture) == ExactDecimal(a);
        }).QuickCheckThrowOnFailure();

    /// <summary>Either side of 2^82 raw (about 4.8 million units), where formatting changes from one division method to another.</summary>
    [Fact]
    public void Format_IsExactEitherSideOfTheFastPath()
    {
        var edge = BigInteger.One << 82;
        foreach (var raw in new[] { edge - 1, edge, edge + 1, edge - 1_000_000_000_000_000_000, edge + 999_999_999_999_999_999 })
        {
            foreach (var signed in new[] { raw, -raw })
            {
                var text = FromBig(signed).ToString();
                Assert.Equal(ExactDecimal(signed), decimal.Parse(text, System.Globalization.CultureInfo.InvariantCulture));
                Assert.Equal(FromBig(signed), Money.Parse(text));
            }
        }
    }

    [Theory]
    [InlineData("0.1001234", "0.1001234")]
    [InlineData("-12.50", "-12.5")]
    [InlineData("100000", "100000")]
    [InlineData("0.000000000000000001", "0.000000000000000001")]
    [InlineData("-0", "0")]
    public void ToString_IsExactAndTrimmed(string input, string expected) => Assert.Equal(expected, Money.Parse(input).ToString());

    [Theory]
    [InlineData("2.345", 2, "2.34")]
    [InlineData("2.355", 2, "2.36")]
    [InlineData("-2.345", 2, "-2.34")]
    [InlineData("0.004", 2, "0.00")]
    [InlineData("1234.5", 0, "1234")]
    public void ToFixed_RoundsHalfToEven(string input, int decimals, string expected) =>
        Assert.Equal(expected, Money.Parse(input).ToFixed(decimals));

    [Fact]
    public void Property_TryFormatFixed_WritesWhatToFixedReturns() =>
        Prop.ForAll(Amounts.Zip(Gen.Choose(0, 20)).ToArbitrary(), t =>
        {
            var (a, decimals) = t;
            var m = FromBig(a);
            Span<char> buffer = stackalloc char[64];
            return m.TryFormatFixed(buffer, decimals, out int n)
                ? buffer[..n].ToString() == m.ToFixed(decimals)
                : BigInteger.Abs(a) >= BigInteger.Pow(10, 18) * ulong.MaxValue; // only amounts beyond 64 bits of whole units are left to ToFixed
        }).QuickCheckThrowOnFailure();

    [Theory]
    [InlineData("2.345", 2, "2.34")]
    [InlineData("-2.355", 2, "-2.36")]
    [InlineData("-0.004", 2, "0.00")]
    [InlineData("1234.5", 0, "1234")]
    [InlineData("-7", 3, "-7.000")]
    public void TryFormatFixed_RoundsHalfToEven_WithoutAString(string input, int decimals, string expected)
    {
        var buffer = new char[32];
        Assert.True(Money.Parse(input).TryFormatFixed(buffer, decimals, out int n));
        Assert.Equal(expected, new string(buffer, 0, n));
        Assert.False(Money.Parse(input).TryFormatFixed(buffer.AsSpan(0, expected.Length - 1), decimals, out _));
    }

    [Fact]
    public void MultiplyByRate_CommissionOfTenthPercent_IsExact() =>
        Assert.Equal(Money.Parse("3.83924"), Money.Parse("3839.24").MultiplyByRate(1_000_000));

    [Fact]
    public void Overflow_Throws() =>
        Assert.Throws<OverflowException>(() => Money.FromRaw(Int128.MaxValue) + Money.FromRaw(1));

    [Fact]
    public void Huge_Values_FormatExactly()
    {
        var m = Money.FromRaw(Int128.MaxValue);
        Assert.Equal("170141183460469231731.687303715884105727", m.ToString());
    }

    private static decimal ExactDecimal(BigInteger raw) => (decimal)raw / 1_000_000_000_000_000_000m;

    private static BigInteger DivideHalfEven(BigInteger n, BigInteger d)
    {
        var q = BigInteger.DivRem(n, d, out var r);
        if (r.IsZero)
        {
            return q;
        }

        var twice = BigInteger.Abs(r) * 2;
        int cmp = twice.CompareTo(BigInteger.Abs(d));
        bool positive = n.Sign * d.Sign > 0;
        if (cmp > 0 || (cmp == 0 && !q.IsEven))
        {
            q += positive ? 1 : -1;
        }

        return q;
    }
}

public class TimestampTests
{
    [Theory]
    [InlineData("2006-01-02", "2006-01-02T00:00:00Z")]
    [InlineData("2006-01-02 09:05:00", "2006-01-02T09:05:00Z")]
    [InlineData("2015-09-23T20:57:42.146", "2015-09-23T20:57:42.146Z")]
    [InlineData("2022-04-19T13:45:04.981350886-04:00", "2022-04-19T17:45:04.981350886Z")]
    [InlineData("2024-02-29T23:59:59Z", "2024-02-29T23:59:59Z")]
    [InlineData("1969-12-31T23:59:59Z", "1969-12-31T23:59:59Z")]
    public void ParseFormat_Iso8601(string input, string expected) => Assert.Equal(expected, Timestamp.Parse(input).ToString());

    [Theory]
    [InlineData("2023-02-29")]
    [InlineData("2006-13-01")]
    [InlineData("2006-01-02 24:00:00")]
    [InlineData("2006/01/02")]
    [InlineData("2006-01-02T")]
    public void TryParse_Invalid_ReturnsFalse(string text) => Assert.False(Timestamp.TryParse(text, out _));

    [Fact]
    public void Property_CivilDays_RoundTripAndMatchDateTime() =>
        Prop.ForAll(Gen.Choose(-100_000, 100_000).ToArbitrary(), days =>
        {
            var (y, m, d) = Timestamp.CivilFromDays(days);
            var dt = DateTime.UnixEpoch.AddDays(days);
            return Timestamp.DaysFromCivil(y, m, d) == days && dt.Year == y && dt.Month == m && dt.Day == d;
        }).QuickCheckThrowOnFailure();

    [Fact]
    public void DayNumber_BeforeEpoch_FloorsTowardsMinusInfinity()
    {
        Assert.Equal(-1, Timestamp.Parse("1969-12-31T12:00:00Z").UtcDayNumber);
        Assert.Equal(0, Timestamp.Parse("1970-01-01T00:00:00Z").UtcDayNumber);
    }
}

public class QuantityTests
{
    [Fact]
    public void Abs_And_Sign()
    {
        var q = Quantity.Parse("-2.5");
        Assert.True(q.IsNegative);
        Assert.Equal(Quantity.Parse("2.5"), q.Abs());
        Assert.Equal(-1, q.Sign);
    }

    [Fact]
    public void TruncateTo_Lot() => Assert.Equal(Quantity.Parse("1.25"), Quantity.Parse("1.2599").TruncateTo(Quantity.Parse("0.05")));
}
