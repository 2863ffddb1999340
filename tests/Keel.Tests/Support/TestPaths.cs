namespace Keel.Tests.Support;

/// <summary>Finds the repository and the test data whatever the working directory.</summary>
public static class TestPaths
{
    private static readonly Lazy<string> Root = new(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Keel.slnx")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("cannot find the repository root (Keel.slnx) above " + AppContext.BaseDirectory);
    });

    public static string RepoRoot => Root.Value;

    public static string Data(string name) => Path.Combine(AppContext.BaseDirectory, "Data", name);

    /// <summary>A broker protocol fixture from <c>../shared/reference/fixtures</c> (beside the repository).</summary>
    public static string Fixture(string name) => Path.Combine(RepoRoot, "..", "shared", "reference", "fixtures", name);
}

/// <summary>A temporary folder removed when the test ends.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "keel-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public string Write(string name, string content)
    {
        var p = File(name);
        System.IO.File.WriteAllText(p, content);
        return p;
    }

    public void Dispose()
    {
        try
        {
            if (Directory.Exists(Path))
            {
                foreach (var d in Directory.EnumerateDirectories(Path, "*", SearchOption.AllDirectories))
                {
                    new DirectoryInfo(d).Attributes = FileAttributes.Normal;
                }

                Directory.Delete(Path, recursive: true);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
