using System.CommandLine;
using Keel.Cli;
using Keel.Domain;
using Keel.Engine.Risk;
using Keel.Runtime;

namespace Keel.Tests.Risk;

/// <summary>The enhanced risk options on the command line and in the stored run spec (what a resume reads back).</summary>
public class RiskRunSpecTests
{
    private static RunSpec Resolve(bool paper, params string[] args)
    {
        var options = new RunOptions(paper);
        var command = new RootCommand();
        foreach (var o in options.All)
        {
            command.Options.Add(o);
        }

        return options.Resolve(command.Parse(args));
    }

    [Fact]
    public void Options_ParseIntoTheSpec_AndTheSpecRoundTripsThroughRunJson()
    {
        var spec = Resolve(true, "--replay", "a.csv", "--strategy", "sma-cross", "--max-daily-loss", "2%", "--max-drawdown", "5000", "--risk-warning", "0.8",
            "--max-orders-per-minute", "10", "--max-exposure", "AAPL=50000", "--max-exposure", "MSFT=25000.5", "--max-total-exposure", "100000", "--pdt");
        Assert.Equal(LossLimit.OfPercent(2m), spec.MaxDailyLoss);
        Assert.Equal(LossLimit.Of(Money.From(5_000)), spec.MaxDrawdown);
        Assert.Equal(0.8m, spec.RiskWarning);
        Assert.Equal(10, spec.MaxOrdersPerMinute);
        Assert.Equal(Money.Parse("25000.5"), spec.MaxExposure!["MSFT"]);
        Assert.Equal(Money.From(100_000), spec.MaxTotalExposure);

        var read = RunSpecJson.Read(RunSpecJson.Write(spec), "r1", null);
        Assert.Equal(spec.MaxDailyLoss, read.MaxDailyLoss);
        Assert.Equal(spec.MaxDrawdown, read.MaxDrawdown);
        Assert.Equal(spec.RiskWarning, read.RiskWarning);
        Assert.Equal(spec.MaxOrdersPerMinute, read.MaxOrdersPerMinute);
        Assert.Equal(spec.MaxExposure.OrderBy(x => x.Key), read.MaxExposure!.OrderBy(x => x.Key));
        Assert.Equal(spec.MaxTotalExposure, read.MaxTotalExposure);
        Assert.True(read.PatternDayTrader);
    }

    [Fact]
    public void WithoutTheOptions_TheSpecHasNoRiskKeys_AndReadsBackWithTheRulesOff()
    {
        var spec = Resolve(false, "--data", "a.csv", "--strategy", "sma-cross");
        string json = RunSpecJson.Write(spec);
        foreach (var key in new[] { "maxDailyLoss", "maxDrawdown", "riskWarning", "maxOrdersPerMinute", "maxExposure", "maxTotalExposure", "pdt" })
        {
            Assert.DoesNotContain($"\"{key}\"", json, StringComparison.Ordinal);
        }

        var read = RunSpecJson.Read(json, "r1", null);
        Assert.Null(read.MaxDailyLoss);
        Assert.Null(read.MaxExposure);
        Assert.False(read.PatternDayTrader);
    }
}
