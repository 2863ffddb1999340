using Keel.Tests.Support;

namespace Keel.Tests.Sandbox;

/// <summary><c>keel sandbox</c> argument errors: one clear line and exit code 2 (the running server is covered by the other sandbox tests).</summary>
public class SandboxCommandTests
{
    [Theory]
    [InlineData("--speed", "fast", "--speed 'fast' is not a positive number or 'max'")]
    [InlineData("--data", "AAPL=missing.csv", "data file missing.csv does not exist")]
    [InlineData("--data", "just-a-file.csv", "is not SYMBOL=FILE")]
    [InlineData("--half-spread", "-1", "--half-spread '-1' is not a non-negative decimal number")]
    public void BadArguments_FailWithOneLine_AndExitCode2(string option, string value, string message)
    {
        using var tmp = new TempDir();
        var result = CliRunner.Run(tmp.Path, null, "sandbox", "--alpaca-port", "0", "--oanda-port", "0", option, value);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
        Assert.Single(result.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public void BadData_NamesTheFile_AndExitsWith1()
    {
        using var tmp = new TempDir();
        var path = tmp.Write("bad.csv", "datetime,open,high,low,close,volume\n2024-01-02 14:30:00,1,1,1,1,1\n2024-01-02 14:31:00,abc,1,1,1,1\n");
        var result = CliRunner.Run(tmp.Path, null, "sandbox", "--alpaca-port", "0", "--oanda-port", "0", "--data", $"X={path}");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("bad.csv", result.Stderr, StringComparison.Ordinal);
    }
}
