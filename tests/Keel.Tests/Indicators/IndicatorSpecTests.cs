using Keel.Indicators;

namespace Keel.Tests.Indicators;

public class IndicatorSpecTests
{
    [Theory]
    [InlineData("sma:30", new double[] { 30 })]
    [InlineData("sma", new double[] { 20 })]
    [InlineData("sma:", new double[] { 20 })]
    [InlineData(" sma : 30 ", new double[] { 30 })]
    [InlineData("macd", new double[] { 12, 26, 9 })]
    [InlineData("macd:5", new double[] { 5, 26, 9 })]
    [InlineData("macd:12,26,9", new double[] { 12, 26, 9 })]
    [InlineData("bbands:,2.5", new double[] { 20, 2.5 })]
    [InlineData("bbands:20,2", new double[] { 20, 2 })]
    [InlineData("stochastic:14,3,3", new double[] { 14, 3, 3 })]
    [InlineData("stochastic:14,1", new double[] { 14, 1, 3 })]
    [InlineData("kama", new double[] { 10, 2, 30 })]
    [InlineData("ultimate", new double[] { 7, 14, 28 })]
    [InlineData("psar:0.01", new double[] { 0.01, 0.2 })]
    [InlineData("aroon", new double[] { 25 })]
    [InlineData("true_range", new double[0])]
    [InlineData("true_range:", new double[0])]
    [InlineData("sma:30.0", new double[] { 30 })]
    [InlineData("sma:1e2", new double[] { 100 })]
    public void Parse_ValidSpec_FillsDefaultsInOrder(string text, double[] expected)
    {
        var spec = IndicatorSpec.Parse(text);
        Assert.Equal(expected, spec.Parameters);
        Assert.Equal(text.Trim(), spec.Text);
    }

    [Theory]
    [InlineData("", "indicator spec '': it is empty; write name[:p1,p2,…], e.g. sma:30 or macd:12,26,9")]
    [InlineData(":30", "indicator spec ':30': it has no indicator name; known indicators: sma ema wma")]
    [InlineData("foo:3", "indicator spec 'foo:3': unknown indicator 'foo'; known indicators: sma ema wma dema tema rsi macd bbands atr true_range stochastic adx cci williams_r momentum roc trix ultimate kama aroon stddev donchian psar highest lowest")]
    [InlineData("SMA:30", "indicator spec 'SMA:30': unknown indicator 'SMA' (did you mean 'sma'?)")]
    [InlineData("williamsr:14", "indicator spec 'williamsr:14': unknown indicator 'williamsr' (did you mean 'williams_r'?)")]
    [InlineData("sma:30,2", "indicator spec 'sma:30,2': sma takes at most 1 parameter (period), but 2 were given")]
    [InlineData("macd:1,2,3,4", "indicator spec 'macd:1,2,3,4': macd takes at most 3 parameters (fast, slow, signal), but 4 were given")]
    [InlineData("true_range:3", "indicator spec 'true_range:3': true_range takes no parameters, but 1 was given")]
    [InlineData("sma:abc", "indicator spec 'sma:abc': parameter 1 (period) was 'abc'; it must be a whole number")]
    [InlineData("sma:2.5", "indicator spec 'sma:2.5': parameter 1 (period) was 2.5; it must be a whole number")]
    [InlineData("sma:0", "indicator spec 'sma:0': parameter 1 (period) was 0; it must be between 1 and 100000")]
    [InlineData("sma:-3", "indicator spec 'sma:-3': parameter 1 (period) was -3; it must be between 1 and 100000")]
    [InlineData("sma:1000001", "indicator spec 'sma:1000001': parameter 1 (period) was 1000001; it must be between 1 and 100000")]
    [InlineData("rsi:NaN", "indicator spec 'rsi:NaN': parameter 1 (period) was 'NaN'; it must be a whole number")]
    [InlineData("bbands:20,x", "indicator spec 'bbands:20,x': parameter 2 (multiplier) was 'x'; it must be a number")]
    [InlineData("bbands:20,0", "indicator spec 'bbands:20,0': parameter 2 (multiplier) was 0; it must be between 0.001 and 100")]
    [InlineData("macd:26,12,9", "indicator spec 'macd:26,12,9': MACD slow period was 12; it must be greater than the fast period 26")]
    [InlineData("macd:12,12", "indicator spec 'macd:12,12': MACD slow period was 12; it must be greater than the fast period 12")]
    [InlineData("ultimate:7,7,28", "indicator spec 'ultimate:7,7,28': ultimate oscillator medium period was 7; it must be greater than the short period 7")]
    [InlineData("ultimate:7,14,10", "indicator spec 'ultimate:7,14,10': ultimate oscillator long period was 10; it must be greater than the medium period 14")]
    [InlineData("kama:10,30,2", "indicator spec 'kama:10,30,2': KAMA slow period was 2; it must be greater than the fast period 30")]
    [InlineData("psar:0.3,0.2", "indicator spec 'psar:0.3,0.2': PSAR maximum was 0.2; it must be at least the step 0.3 and at most 1")]
    [InlineData("psar:0,0.2", "indicator spec 'psar:0,0.2': parameter 1 (step) was 0; it must be between 0.0001 and 1")]
    public void Parse_BadSpec_ThrowsNamingTheSpecAndTheProblem(string text, string expected)
    {
        var ex = Assert.Throws<IndicatorSpecException>(() => IndicatorSpec.Parse(text));
        Assert.StartsWith(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Catalog_HasExactlyTheDocumentedNames()
    {
        Assert.Equal(
            ["sma", "ema", "wma", "dema", "tema", "rsi", "macd", "bbands", "atr", "true_range", "stochastic", "adx", "cci", "williams_r",
                "momentum", "roc", "trix", "ultimate", "kama", "aroon", "stddev", "donchian", "psar", "highest", "lowest"],
            IndicatorCatalog.All.Select(d => d.Name));
    }

    [Theory]
    [InlineData("sma:30", new[] { "sma:30" })]
    [InlineData("macd:12,26,9", new[] { "macd:12,26,9.macd", "macd:12,26,9.signal", "macd:12,26,9.histogram" })]
    [InlineData("bbands", new[] { "bbands.middle", "bbands.upper", "bbands.lower" })]
    [InlineData("stochastic:14,3,3", new[] { "stochastic:14,3,3.k", "stochastic:14,3,3.d" })]
    [InlineData("adx", new[] { "adx.adx", "adx.plus_di", "adx.minus_di" })]
    [InlineData("aroon:25", new[] { "aroon:25.up", "aroon:25.down" })]
    [InlineData("donchian", new[] { "donchian.upper", "donchian.middle", "donchian.lower" })]
    public void Columns_OneLineIsTheSpec_SeveralAreSpecDotLine(string text, string[] columns) =>
        Assert.Equal(columns, IndicatorSpec.Parse(text).Columns);

    [Fact]
    public void EveryDefinition_DefaultSpecParses_AndDescribeMentionsEveryParameterAndDefault()
    {
        string help = IndicatorCatalog.Describe();
        foreach (var d in IndicatorCatalog.All)
        {
            var spec = IndicatorSpec.Parse(d.DefaultSpec);
            Assert.Equal(d.Parameters.Select(p => p.Default), spec.Parameters);
            Assert.Contains($"  {d.Name}", help);
            foreach (var p in d.Parameters)
            {
                Assert.Contains($"{p.Name} {p.DefaultText} ({p.Description})", help);
            }
        }
    }

    [Fact]
    public void Create_ReturnsTheTypedIndicator()
    {
        Assert.IsType<Macd>(IndicatorSpec.Parse("macd:3,5,2").Create().Indicator);
        var psar = Assert.IsType<ParabolicSar>(IndicatorSpec.Parse("psar:0.01,0.1").Create().Indicator);
        Assert.Equal(0.01, psar.Step);
        Assert.Equal(0.1, psar.Max);
    }
}
