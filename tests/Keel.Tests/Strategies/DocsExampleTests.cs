using System.Text.RegularExpressions;
using Keel.Domain;
using Keel.Tests.Support;

namespace Keel.Tests.Strategies;

/// <summary>The worked example in docs/strategies.md is the template's BuyTheDip.cs (templates/keel-strategy), compiled here and run.</summary>
public sealed partial class DocsExampleTests
{
    [GeneratedRegex("```csharp\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();

    [Fact]
    public void TheWorkedExample_IsTheCompiledFile_Verbatim()
    {
        var doc = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "docs", "strategies.md"));
        var block = CSharpBlock().Matches(doc).Select(m => m.Groups[1].Value).Single(b => b.Contains("public sealed class BuyTheDip(decimal drop", StringComparison.Ordinal));
        var file = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "templates", "keel-strategy", "BuyTheDip.cs"));
        Assert.Equal(block, file);
    }

    [Fact]
    public void TheWorkedExample_TradesBracketsOnRealData_AndNotesEachDip()
    {
        var orcl = Instrument.Equity("ORCL");
        var bars = StrategyRuns.Bars(Path.Combine(TestPaths.RepoRoot, "samples", "data", "orcl-1995-2014.txt"), orcl);
        var run = StrategyRuns.Run(KeelStrategy.BuyTheDip.Descriptor, ["drop=0.05"], bars, orcl, stake: 10);
        var brackets = run.Decisions.Count(d => d.What.StartsWith("bracket ", StringComparison.Ordinal));
        Assert.True(brackets > 5, $"only {brackets} brackets");
        Assert.Equal(brackets, run.Decisions.Count(d => d.What.StartsWith("note dip ", StringComparison.Ordinal)));
        Assert.Equal(brackets * 3, run.Session.Metrics.Orders);
    }
}
