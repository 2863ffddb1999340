using Keel.Cli;

namespace Keel.Tests.Cli;

public sealed class SuggestionsTests
{
    private static readonly string[] Commands = ["backtest", "paper", "resume", "runs", "data", "strategies", "record", "sandbox", "indicators"];

    [Theory]
    [InlineData("backtset", "backtest")]
    [InlineData("bactest", "backtest")]
    [InlineData("Paper", "paper")]
    [InlineData("recrod", "record")]
    [InlineData("stratgies", "strategies")]
    public void Closest_ATypo_GivesTheCommand(string typo, string expected) =>
        Assert.Equal(expected, Suggestions.Closest(typo, Commands));

    [Theory]
    [InlineData("--cahs", "--cash")]
    [InlineData("--comission", "--commission")]
    [InlineData("-cash", "--cash")]
    public void Closest_IgnoresLeadingDashes(string typo, string expected) =>
        Assert.Equal(expected, Suggestions.Closest(typo, ["--cash", "--commission", "--stake", "--config"]));

    [Theory]
    [InlineData("zzzzzz")]
    [InlineData("x")]
    [InlineData("")]
    public void Closest_NothingNear_GivesNull(string input) => Assert.Null(Suggestions.Closest(input, Commands));

    [Theory]
    [InlineData("cahs", "cash", 1)]
    [InlineData("cash", "cash", 0)]
    [InlineData("kitten", "sitting", 3)]
    [InlineData("", "abc", 3)]
    public void Distance_CountsASwapAsOneEdit(string a, string b, int expected) => Assert.Equal(expected, Suggestions.Distance(a, b));
}
