using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Keel.Tests.Support;

namespace Keel.Tests.Cli;

/// <summary>
/// The ./keel launcher's build (Native AOT where a C toolchain can link it, issue 12) runs every kind of command: the
/// README quickstart, a paper replay and the sandbox. The rest of the suite runs the JIT build (keel.dll); the native
/// binary must give the same files byte for byte.
/// </summary>
public sealed partial class NativeBinaryTests
{
    private static readonly string[] Outputs = ["metrics.json", "orders.csv", "fills.csv", "trades.csv", "equity.csv"];

    private static string[] Quickstart(string outDir, string db) =>
        ["backtest", "--data", Path.Combine(TestPaths.RepoRoot, "samples", "data", "orcl-1995-2014.txt"), "--strategy", "sma-cross", "--param", "fast=10", "--param", "slow=30",
            "--size", "equity:90%", "--commission", "0.001", "--cash", "100000", "--out", outDir, "--db", db];

    [Fact]
    public void TheLauncher_BuildsNativelyWhereItCan_AndItsQuickstartEqualsTheJitBuild()
    {
        using var tmp = new TempDir();
        var native = CliRunner.RunLauncher(tmp.Path, Quickstart("native", tmp.File("native.db")));
        Assert.True(native.ExitCode == 0, native.ToString());
        var jit = CliRunner.Run(tmp.Path, null, Quickstart("jit", tmp.File("jit.db")));
        Assert.True(jit.ExitCode == 0, jit.ToString());
        foreach (var f in Outputs)
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(tmp.Path, "jit", f)), File.ReadAllBytes(Path.Combine(tmp.Path, "native", f)));
        }

        // With a linker on the machine (clang or gcc: this image has both), the launcher's binary is the native one.
        var built = new FileInfo(Path.Combine(TestPaths.RepoRoot, "artifacts", "keel", "keel")).ResolveLinkTarget(returnFinalTarget: true);
        if (OnPath("clang") || OnPath("gcc"))
        {
            Assert.NotNull(built);
            var folder = Path.GetDirectoryName(built!.FullName)!;
            Assert.Equal("native", Path.GetFileName(folder));
            Assert.False(File.Exists(Path.Combine(folder, "keel.dll")), "a native build has no keel.dll beside it");
        }
    }

    [Fact]
    public void PaperReplay_ThroughTheLauncher_GivesTheBacktestsOrders()
    {
        using var tmp = new TempDir();
        var data = TestPaths.Data("2006-min-005.txt");
        string[] common = ["--strategy", "sma-cross", "--param", "fast=10", "--param", "slow=30", "--stake", "1", "--commission", "0.001", "--cash", "100000", "--db", "none"];
        var bt = CliRunner.RunLauncher(tmp.Path, ["backtest", "--data", data, .. common, "--out", "bt"]);
        var paper = CliRunner.RunLauncher(tmp.Path, ["paper", "--replay", data, "--speed", "max", .. common, "--out", "paper"]);
        Assert.True(bt.ExitCode == 0 && paper.ExitCode == 0, bt + "\n" + paper);
        Assert.Equal(File.ReadAllBytes(Path.Combine(tmp.Path, "bt", "orders.csv")), File.ReadAllBytes(Path.Combine(tmp.Path, "paper", "orders.csv")));
        Assert.Contains("Keel paper", paper.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sandbox_ThroughTheLauncher_AnswersAlpacasApi_AndStopsOnSigterm()
    {
        using var tmp = new TempDir();
        using var child = CliRunner.SpawnLauncher(tmp.Path, "sandbox", "--alpaca-port", "0", "--oanda-port", "0", "--data", $"ORCL={Path.Combine(TestPaths.RepoRoot, "samples", "data", "orcl-1995-2014.txt")}");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Match rest;
        while (!(rest = AlpacaRest().Match(child.Stdout)).Success)
        {
            Assert.False(child.Process.HasExited, $"the sandbox exited: {child.Stdout}\n{child.Stderr}");
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(5), $"the sandbox did not start: {child.Stdout}\n{child.Stderr}");
            await Task.Delay(50);
        }

        using var http = new HttpClient { BaseAddress = new Uri(rest.Groups[1].Value) };
        http.DefaultRequestHeaders.Add("APCA-API-KEY-ID", Key().Match(child.Stdout).Groups[1].Value);
        http.DefaultRequestHeaders.Add("APCA-API-SECRET-KEY", Secret().Match(child.Stdout).Groups[1].Value);
        http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        var account = await http.GetAsync(new Uri("/v2/account", UriKind.Relative));
        Assert.True(account.IsSuccessStatusCode, $"{(int)account.StatusCode} {await account.Content.ReadAsStringAsync()}");
        Assert.Contains("\"buying_power\"", await account.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        Assert.Equal(0, Signals.Send(child.Process.Id, Signals.Terminate));
        var result = await child.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("sandbox stopped", result.Stdout, StringComparison.Ordinal);
    }

    private static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':').Any(d => d.Length > 0 && File.Exists(Path.Combine(d, program)));

    [GeneratedRegex(@"REST\s+(http://[^/\s]+)/v2/stocks")]
    private static partial Regex AlpacaRest();

    [GeneratedRegex(@"KEEL__ALPACA__KEY=(\S+)")]
    private static partial Regex Key();

    [GeneratedRegex(@"KEEL__ALPACA__SECRET=(\S+)")]
    private static partial Regex Secret();
}
