using System.Diagnostics;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Keel.Tests.Support;

namespace Keel.Tests.Cli;

/// <summary>The deployment files (Dockerfile, deploy/compose.yaml, deploy/keel.service) stay in step with the code.</summary>
public sealed partial class DeploymentTests
{
    private static string Repo(params string[] parts) => Path.Combine([TestPaths.RepoRoot, .. parts]);

    [Fact]
    public void TheSystemdUnit_PassesSystemdAnalyzeVerify_WithoutAWarning()
    {
        const string analyze = "/usr/bin/systemd-analyze";
        if (!File.Exists(analyze))
        {
            return; // not a systemd machine; the unit is checked where it can be
        }

        using var tmp = new TempDir();
        var unit = File.ReadAllText(Repo("deploy", "keel.service"));
        Assert.Contains("ExecStart=/opt/keel/keel serve", unit, StringComparison.Ordinal);

        // verify also checks that ExecStart's program exists: point it at one that does.
        var copy = Path.Combine(tmp.Path, "keel.service");
        File.WriteAllText(copy, unit.Replace("ExecStart=/opt/keel/keel", "ExecStart=/bin/sh", StringComparison.Ordinal));
        var psi = new ProcessStartInfo(analyze, ["verify", copy]) { RedirectStandardError = true, RedirectStandardOutput = true };
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEnd();
        var stdout = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(60_000));
        Assert.True(p.ExitCode == 0 && stderr.Trim().Length == 0, $"systemd-analyze verify: exit {p.ExitCode}\n{stdout}\n{stderr}");
    }

    [Fact]
    public void TheDockerfile_RestoresEveryProjectTheCliNeeds_PublishesNativeAot_AndRunsAsNonRoot()
    {
        var dockerfile = File.ReadAllText(Repo("Dockerfile"));

        // Every project keel is built from is copied before the restore (a new project would otherwise break the image).
        var needed = new SortedSet<string>(StringComparer.Ordinal);
        void Walk(string csproj)
        {
            var rel = Path.GetRelativePath(TestPaths.RepoRoot, csproj).Replace('\\', '/');
            if (!needed.Add(rel))
            {
                return;
            }

            foreach (var reference in XDocument.Load(csproj).Descendants("ProjectReference"))
            {
                Walk(Path.GetFullPath(Path.Combine(Path.GetDirectoryName(csproj)!, reference.Attribute("Include")!.Value.Replace('\\', '/'))));
            }
        }

        Walk(Repo("src", "Keel.Cli", "Keel.Cli.csproj"));
        var copied = CopyLine().Matches(dockerfile).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        Assert.Empty(needed.Except(copied));
        Assert.All(copied, c => Assert.True(File.Exists(Repo(c)), $"the Dockerfile copies {c}, which does not exist"));

        Assert.Matches(@"dotnet publish src/Keel\.Cli/Keel\.Cli\.csproj [^\n]*-p:PublishAot=true", dockerfile);
        var final = dockerfile[dockerfile.LastIndexOf("FROM ", StringComparison.Ordinal)..];
        Assert.StartsWith("FROM mcr.microsoft.com/dotnet/runtime-deps:10.0", final, StringComparison.Ordinal);
        Assert.Matches(@"\nUSER [1-9][0-9]*\n", final);
        Assert.Contains("ENTRYPOINT [\"/app/keel\"]", final, StringComparison.Ordinal);
    }

    [Fact]
    public void TheComposeFile_PointsKeelAtItsOwnPostgres_AndPublishesOnLoopbackOnly()
    {
        var compose = File.ReadAllText(Repo("deploy", "compose.yaml"));
        string Value(string key) => Regex.Match(compose, $@"\n\s+{key}: (.+)\n").Groups[1].Value.Trim();
        var db = Value("KEEL__STORAGE__DB");
        Assert.Contains($"Database={Value("POSTGRES_DB")};", db, StringComparison.Ordinal);
        Assert.Contains($"Username={Value("POSTGRES_USER")};", db, StringComparison.Ordinal);
        Assert.Contains("Host=postgres;", db, StringComparison.Ordinal);
        Assert.Contains("\"127.0.0.1:8080:8080\"", compose, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"\n\s+- ""?8080:8080", compose);
        Assert.Contains("dockerfile: Dockerfile", compose, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"^COPY (src/[^ ]+\.csproj) ", RegexOptions.Multiline)]
    private static partial Regex CopyLine();
}
