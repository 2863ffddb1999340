using System.Diagnostics;
using Keel.Tests.Support;

namespace Keel.Tests.Cli;

/// <summary>
/// A strategy written outside Keel's tree: Keel's packages packed into a local feed, a project made from the
/// <c>keel-strategy</c> template, restored offline (the local feed and the machine's package cache only), built, and
/// run with Keel's own commands and options.
/// </summary>
public sealed class TemplateProjectTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(5);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void AProjectFromTheTemplate_BuildsOffline_AndBacktestsItsOwnStrategyThroughKeelsCommandLine()
    {
        var root = TestPaths.RepoRoot;
        var feed = _dir.File("feed");
        var hive = _dir.File("hive");
        var project = _dir.File("MyBot");

        // The packages, from the build the test suite runs on.
        Run(root, "dotnet", "pack", Path.Combine(root, "Keel.slnx"), "-c", "Release", "--no-build", "-o", feed, "--nologo", "-v", "quiet", "-nodeReuse:false");
        Assert.True(File.Exists(Path.Combine(feed, "Keel.Cli.0.1.0.nupkg")), string.Join(", ", Directory.GetFiles(feed).Select(Path.GetFileName)));

        // The template, installed into a private hive (the user's own templates are left alone).
        Run(_dir.Path, "dotnet", "new", "install", Path.Combine(root, "templates", "keel-strategy"), "--debug:custom-hive", hive);
        Run(_dir.Path, "dotnet", "new", "keel-strategy", "-n", "MyBot", "-o", project, "--feed", feed, "--debug:custom-hive", hive);
        Assert.Contains(feed, File.ReadAllText(Path.Combine(project, "nuget.config")), StringComparison.Ordinal);

        // Offline: Keel from the local feed, its dependencies from the machine's package cache, into a fresh cache so
        // no Keel package from an earlier run can stand in for these.
        var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var env = new Dictionary<string, string> { ["NUGET_PACKAGES"] = _dir.File("packages") };
        Run(project, "dotnet", env, "restore", "--source", feed, "--source", cache, "-nodeReuse:false");
        Run(project, "dotnet", env, "build", "-c", "Release", "--no-restore", "--nologo", "-v", "quiet", "-nodeReuse:false", "-p:UseSharedCompilation=false");
        var dll = Path.Combine(project, "bin", "Release", "net10.0", "MyBot.dll");

        var list = Run(project, "dotnet", env, dll, "strategies");
        Assert.Contains("buy-the-dip", list, StringComparison.Ordinal);
        Assert.Contains("sma-cross", list, StringComparison.Ordinal);

        var data = Path.Combine(root, "samples", "data", "orcl-1995-2014.txt");
        var output = Run(project, "dotnet", env, dll, "backtest", "--data", data, "--strategy", "buy-the-dip", "--param", "drop=0.05", "--stake", "100", "--db", "none", "--out", "results");
        Assert.Contains("Keel backtest · buy-the-dip (drop=0.05)", output, StringComparison.Ordinal);
        var orders = File.ReadAllLines(Path.Combine(project, "results", "orders.csv"));
        Assert.True(orders.Length > 10, $"buy-the-dip placed {orders.Length - 1} orders");
        Assert.Contains(orders, l => l.Contains(",dip,", StringComparison.Ordinal));

        // Its errors are Keel's: an unknown parameter of the user's strategy is named.
        var bad = Run(project, "dotnet", env, expectFailure: true, dll, "backtest", "--data", data, "--strategy", "buy-the-dip", "--param", "dorp=0.05", "--db", "none");
        Assert.Contains("dorp", bad, StringComparison.Ordinal);
    }

    private static string Run(string cwd, string file, params string[] args) => Run(cwd, file, null, false, args);

    private static string Run(string cwd, string file, Dictionary<string, string>? env, params string[] args) => Run(cwd, file, env, false, args);

    private static string Run(string cwd, string file, Dictionary<string, string>? env, bool expectFailure, params string[] args)
    {
        var info = new ProcessStartInfo(file)
        {
            WorkingDirectory = cwd,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        foreach (var (k, v) in env ?? [])
        {
            info.Environment[k] = v;
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Patience))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{file} {string.Join(' ', args)} did not finish within {Patience}");
        }

        var text = stdout.Result + stderr.Result;
        Assert.True(expectFailure ? process.ExitCode != 0 : process.ExitCode == 0, $"{file} {string.Join(' ', args)} exited {process.ExitCode}:\n{text}");
        return text;
    }
}
