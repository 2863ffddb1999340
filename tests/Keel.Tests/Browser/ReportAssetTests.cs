using Keel.Tests.Support;

namespace Keel.Tests.Browser;

/// <summary>The chart library the report inlines is npm's lightweight-charts, unchanged, at the pinned version.</summary>
public class ReportAssetTests
{
    [Fact]
    public void TheInlinedChartLibrary_IsThePinnedNpmPackagesFile()
    {
        var root = TestPaths.RepoRoot;
        var npm = Path.Combine(root, "tools", "report-assets", "node_modules", "lightweight-charts", "dist", "lightweight-charts.standalone.production.js");
        Assert.True(File.Exists(npm), $"{npm} is missing: ./test.sh installs it (npm ci --prefix tools/report-assets)");
        var vendored = Path.Combine(root, "src", "Keel.Runtime", "Reporting", "Assets", "lightweight-charts.standalone.production.js");
        Assert.Equal(File.ReadAllBytes(npm), File.ReadAllBytes(vendored));
        Assert.Contains("\"lightweight-charts\": \"5.2.1\"", File.ReadAllText(Path.Combine(root, "tools", "report-assets", "package.json")), StringComparison.Ordinal);
        Assert.Contains("Lightweight Charts™ v5.2.1", File.ReadAllText(vendored)[..400], StringComparison.Ordinal);
    }
}
