namespace Keel.Cli;

/// <summary>
/// Writes a run's files into a hidden staging folder inside the output folder and moves them into place only when
/// the run completes (metrics.json last). A failed or interrupted run leaves the folder as it was.
/// </summary>
internal sealed class OutputFolder : IDisposable
{
    private readonly string _staging;
    private readonly List<string> _files = [];
    private bool _committed;

    private OutputFolder(string path, string staging)
    {
        Path = path;
        _staging = staging;
    }

    public string Path { get; }

    public static OutputFolder Create(string path)
    {
        string staging = System.IO.Path.Combine(path, $".keel-partial-{Environment.ProcessId}");
        try
        {
            Directory.CreateDirectory(path);
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }

            Directory.CreateDirectory(staging);
            File.WriteAllBytes(System.IO.Path.Combine(staging, ".probe"), []);
            File.Delete(System.IO.Path.Combine(staging, ".probe"));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new UsageException($"cannot write to output folder {path}: {ex.Message}");
        }

        return new OutputFolder(path, staging);
    }

    public Stream OpenWrite(string name)
    {
        _files.Add(name);
        return new FileStream(System.IO.Path.Combine(_staging, name), FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
    }

    /// <summary>Moves every file into the output folder; <paramref name="last"/> goes last, so its presence means the set is complete.</summary>
    public void Commit(string last)
    {
        foreach (var name in _files.Where(f => f != last).Append(last).Where(_files.Contains))
        {
            File.Move(System.IO.Path.Combine(_staging, name), System.IO.Path.Combine(Path, name), overwrite: true);
        }

        Directory.Delete(_staging, recursive: true);
        _committed = true;
    }

    public void Dispose()
    {
        if (!_committed && Directory.Exists(_staging))
        {
            try
            {
                Directory.Delete(_staging, recursive: true);
            }
            catch (IOException)
            {
                // Best effort: a staging folder never looks like a result (it is hidden and has no metrics.json in place).
            }
        }
    }
}
