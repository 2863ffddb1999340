using Keel.Domain;
using Keel.Engine.Risk;
using Keel.Tests.Support;

namespace Keel.Tests.Risk;

/// <summary>Position sizing against hand-computed quantities: lots, buying power, stops, and what it refuses.</summary>
public class PositionSizingTests
{
    private static readonly Instrument Stock = Instrument.Equity("ACME");
    private static readonly Instrument RoundLots = new(new InstrumentId("ACME"), AssetClass.Equity, Price.From(0.01m), Quantity.From(100), "USD");
    private static readonly Instrument Coin = new(new InstrumentId("BTC_USD"), AssetClass.Crypto, Price.From(0.01m), Quantity.From(0.00000001m), "USD");

    private static PositionSizing P(string text) => PositionSizing.Parse(text, out var error) ?? throw new InvalidOperationException(error);

    private static Quantity Size(string mode, Instrument i, decimal price, decimal? stop, decimal equity, decimal buyingPower, out string? problem) =>
        P(mode).Size(i, Price.From(price), stop is decimal s ? Price.From(s) : null, Money.From(equity), Money.From(buyingPower), out problem);

    [Theory]
    // equity:95% of 100,000 at 33.33 = 2,850.285… shares → 2,850; in lots of 100 → 2,800.
    [InlineData("equity:95%", 33.33, null, 100_000, 100_000, "2850", "2800")]
    // cash:10000 at 33.33 = 300.03 → 300 (lots of 100: 300).
    [InlineData("cash:10000", 33.33, null, 100_000, 100_000, "300", "300")]
    // risk:1% of 100,000 = 1,000 at risk; 2.00 per share between 50 and the stop 48 → 500 shares.
    [InlineData("risk:1%", 50, 48.0, 100_000, 100_000, "500", "500")]
    // A short's stop above the entry: 1,000 / |50 − 52.5| = 400.
    [InlineData("risk:1%", 50, 52.5, 100_000, 100_000, "400", "400")]
    // Buying power caps it: 20,000 buys 400 at 50, fewer than the 500 the risk allows.
    [InlineData("risk:1%", 50, 48.0, 100_000, 20_000, "400", "400")]
    // equity:150% with 2× leverage's buying power of 200,000: 150,000 / 40 = 3,750; lots of 100 → 3,700.
    [InlineData("equity:150%", 40, null, 100_000, 200_000, "3750", "3700")]
    // equity:150% without leverage: capped at 100,000 / 40 = 2,500.
    [InlineData("equity:150%", 40, null, 100_000, 100_000, "2500", "2500")]
    public void Quantities_MatchTheHandComputedOnes(string mode, double price, double? stop, double equity, double buyingPower, string single, string lots)
    {
        Assert.Equal(Quantity.Parse(single), Size(mode, Stock, (decimal)price, (decimal?)stop, (decimal)equity, (decimal)buyingPower, out var p1));
        Assert.Null(p1);
        Assert.Equal(Quantity.Parse(lots), Size(mode, RoundLots, (decimal)price, (decimal?)stop, (decimal)equity, (decimal)buyingPower, out var p2));
        Assert.Null(p2);
    }

    [Fact]
    public void FractionalLots_RoundDownToTheLot()
    {
        // cash:100 at 30,000.00 = 0.003333333… BTC → 0.00333333 in lots of 0.00000001.
        Assert.Equal(Quantity.From(0.00333333m), Size("cash:100", Coin, 30_000m, null, 100_000m, 100_000m, out var problem));
        Assert.Null(problem);
    }

    [Fact]
    public void BelowOneLot_NoStop_OrNoRoom_IsZeroWithTheReason()
    {
        Assert.Equal(Quantity.Zero, Size("cash:1000", RoundLots, 33.33m, null, 100_000m, 100_000m, out var lot));
        Assert.Equal("cash:1000: 30.0030003 ACME at 33.33 is less than one lot (100)", lot);
        Assert.Equal(Quantity.Zero, Size("equity:95%", Stock, 50m, null, 100_000m, 10m, out var bp));
        Assert.Equal("equity:95%: buying power 10 buys less than one lot (1) of ACME at 50", bp);
        Assert.Equal(Quantity.Zero, Size("risk:1%", Stock, 50m, null, 100_000m, 100_000m, out var nostop));
        Assert.StartsWith("risk:1% needs the order's stop distance", nostop, StringComparison.Ordinal);
        Assert.Equal(Quantity.Zero, Size("risk:1%", Stock, 50m, 50m, 100_000m, 100_000m, out var flat));
        Assert.Equal("risk:1% cannot size an order whose stop 50 is at its price", flat);
    }

    [Theory]
    [InlineData("equity:95", "equity sizing takes a percentage")]
    [InlineData("equity:0%", "equity sizing takes a percentage")]
    [InlineData("risk:150%", "at most 100")]
    [InlineData("cash:-5", "cash sizing takes a positive amount")]
    [InlineData("kelly", "sizing must be stake, equity:P%, cash:AMOUNT or risk:P%")]
    public void BadModes_AreRefusedWithWhatIsExpected(string text, string message)
    {
        Assert.Null(PositionSizing.Parse(text, out var error));
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Modes_RoundTripThroughTheirText()
    {
        foreach (var text in new[] { "stake", "equity:95%", "equity:99.5%", "cash:10000", "risk:1%", "risk:0.25%" })
        {
            Assert.Equal(text, P(text).ToString());
        }
    }

    [Fact]
    public void Backtest_SizesEachOpeningSignalFromCashAndTheSignalBarsClose()
    {
        using var tmp = new TempDir();
        var data = TestPaths.Data("orcl-2014.txt");
        var r = CliRunner.Run(tmp.Path, null, "backtest", "--data", data, "--strategy", "sma-cross", "--param", "fast=5", "--param", "slow=12", "--size", "cash:10000", "--db", "none", "-q", "--out", "out");
        Assert.True(r.ExitCode == 0, r.ToString());
        var closes = File.ReadAllLines(data).Skip(1).Select(l => l.Split(','))
            .ToDictionary(f => f[0][..10], f => decimal.Parse(f[4], System.Globalization.CultureInfo.InvariantCulture));
        var orders = File.ReadAllLines(tmp.File("out/orders.csv"));
        var header = orders[0].Split(',');
        int side = Array.IndexOf(header, "side"), qty = Array.IndexOf(header, "quantity"), created = Array.IndexOf(header, "created_time");
        var buys = orders.Skip(1).Select(l => l.Split(',')).Where(f => f[side] == "buy").ToList();
        Assert.True(buys.Count >= 3, "too few buys to check");
        foreach (var f in buys)
        {
            var close = closes[f[created][..10]];
            Assert.Equal(decimal.Floor(10_000m / close), decimal.Parse(f[qty], System.Globalization.CultureInfo.InvariantCulture));
        }

        using var metrics = System.Text.Json.JsonDocument.Parse(File.ReadAllText(tmp.File("out/metrics.json")));
        Assert.Equal("cash:10000", metrics.RootElement.GetProperty("run").GetProperty("size").GetString());

        var bad = CliRunner.Run(tmp.Path, null, "backtest", "--data", data, "--strategy", "sma-cross", "--size", "equity:95", "--db", "none", "-q");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--size was 'equity:95'; equity sizing takes a percentage of equity above 0, e.g. equity:95%", bad.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Backtest_SizesABracketEntryByTheRiskToItsStop()
    {
        using var tmp = new TempDir();
        var data = TestPaths.Data("orcl-2014.txt");
        var r = CliRunner.Run(tmp.Path, null, "backtest", "--data", data, "--strategy", "slob", "--param", "min_quality=0", "--param", "consol_range=4", "--param", "lookback=10",
            "--param", "consol_min=2", "--param", "rr=1", "--size", "risk:1%", "--cash", "100000", "--db", "none", "-q", "--out", "out");
        Assert.True(r.ExitCode == 0, r.ToString());
        var closes = File.ReadAllLines(data).Skip(1).Select(l => l.Split(','))
            .ToDictionary(f => f[0][..10], f => decimal.Parse(f[4], System.Globalization.CultureInfo.InvariantCulture));
        var rows = File.ReadAllLines(tmp.File("out/orders.csv")).Skip(1).Select(l => l.Split(',')).ToList();

        // The first bracket: entry (market), then its stop-loss leg. Flat and untouched, equity is the 100,000 of cash,
        // so 1 % is 1,000 at risk over the distance from the signal bar's close to the stop.
        var entry = rows[0];
        var stopLeg = rows[1];
        Assert.Equal(("market", "stop"), (entry[4], stopLeg[4]));
        var distance = Math.Abs(closes[entry[10][..10]] - decimal.Parse(stopLeg[7], System.Globalization.CultureInfo.InvariantCulture));
        var expected = decimal.Floor(1_000m / distance);
        Assert.Equal(expected, decimal.Parse(entry[5], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(entry[5], stopLeg[5]);
        Assert.Equal(entry[5], rows[2][5]);
        Assert.True(expected > 100, $"a risk-sized entry of {expected} shares does not show sizing at work");
    }
}
