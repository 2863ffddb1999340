namespace Keel.Runtime;

/// <summary>
/// Writes a run's files into a hidden staging folder inside the output folder and moves them into place only when
/// the run completes (metrics.json last). A failed or interrupted run leaves the output folder as it was. A recorded
/// run stages into <c>.keel-run-ID</c> and keeps it when it stops, so <c>keel resume</c> can continue the files.
/// </summary>
internal sealed class OutputFolder : IDisposable
{
    private readonly string _staging;
    private readonly List<string> _files = [];
    private bool _committed;

    /// <summary>When true, an uncommitted staging folder is kept on dispose (the run can be resumed into it).</summary>
    public bool KeepStaging { get; set; }

    private OutputFolder(string path, string staging)
    {
        Path = path;
        _staging = staging;
    }

    public string Path { get; }

    /// <summary>
    /// Prepares the output folder. <paramref name="runId"/> names the staging folder of a recorded run; with
    /// <paramref name="resume"/> its existing files are kept, otherwise any old staging folder is cleared.
    /// </summary>
    public static OutputFolder Create(string path, string? runId = null, bool resume = false)
    {
        string staging = runId is null ? System.IO.Path.Combine(path, $".keel-partial-{Environment.ProcessId}") : StagingPath(path, runId);
        if (FileInTheWay(path) is string file)
        {
            throw new UsageException(file == System.IO.Path.GetFullPath(path)
                ? $"output folder {path} is an existing file; give a folder (it is created if missing)"
                : $"cannot create output folder {path}: {file} is a file, not a folder");
        }

        try
        {
            Directory.CreateDirectory(path);
            if (!resume && Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }

            Directory.CreateDirectory(staging);
            File.WriteAllBytes(System.IO.Path.Combine(staging, ".probe"), []);
            File.Delete(System.IO.Path.Combine(staging, ".probe"));
        }
        catch (UnauthorizedAccessException)
        {
            throw new UsageException($"cannot write to output folder {path}: permission denied");
        }
        catch (Exception ex) when (ex is IOException or NotSupportedException or ArgumentException)
        {
            throw new UsageException($"cannot write to output folder {path}: {ex.Message}");
        }

        return new OutputFolder(path, staging);
    }

    /// <summary>Where recorded run <paramref name="runId"/> stages its files inside output folder <paramref name="path"/>.</summary>
    public static string StagingPath(string path, string runId) => System.IO.Path.Combine(path, $".keel-run-{runId}");

    /// <summary>The path itself or the nearest existing parent when that is a file (so no folder can be made there); else null.</summary>
    private static string? FileInTheWay(string path)
    {
        try
        {
            for (var p = System.IO.Path.GetFullPath(path); !string.IsNullOrEmpty(p); p = System.IO.Path.GetDirectoryName(p))
            {
                if (File.Exists(p))
                {
                    return p;
                }

                if (Directory.Exists(p))
                {
                    return null;
                }
            }
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or IOException)
        {
            // The path itself is malformed: Create reports it.
        }

        return null;
    }

    /// <summary>Where a file is staged until the run commits.</summary>
    public string StagedPath(string name) => System.IO.Path.Combine(_staging, name);

    /// <summary>True when every staged file is at least as long as a snapshot says it was (so it can be cut back to that).</summary>
    public bool HasAtLeast(IReadOnlyDictionary<string, long> lengths)
    {
        foreach (var (name, length) in lengths)
        {
            var file = new FileInfo(System.IO.Path.Combine(_staging, name + ".csv"));
            if (!file.Exists || file.Length < length)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Opens a staged file to continue it: cut back to <paramref name="length"/> bytes, positioned at its end.</summary>
    public Stream OpenContinue(string name, long length)
    {
        _files.Add(name);
        var stream = new FileStream(System.IO.Path.Combine(_staging, name), FileMode.OpenOrCreate, FileAccess.Write, FileShare.None, 1 << 16);
        stream.SetLength(length);
        stream.Seek(length, SeekOrigin.Begin);
        return stream;
    }

    public Stream OpenWrite(string name)
    {
        _files.Add(name);

        // A new file (a resumed run's earlier attempt may have left one: it goes first). Not FileMode.Create: .NET opens
        // an existing-or-new file and then truncates it to 0 under its lock, and on ext4 a file truncated to 0 has its
        // data written out when it is closed (the "replace by truncate" guard), which the run would wait for.
        var path = System.IO.Path.Combine(_staging, name);
        File.Delete(path);
        return new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
    }

    /// <summary>Moves every file into the output folder; <paramref name="last"/> goes last, so its presence means the set is complete.</summary>
    public void Commit(string last)
    {
        foreach (var name in _files.Where(f => f != last).Append(last).Where(_files.Contains))
        {
            FileReplace.Replace(System.IO.Path.Combine(_staging, name), System.IO.Path.Combine(Path, name));
        }

        _committed = true;

        // What is left in the staging folder is the previous run's files, exchanged out. Deleting a large one takes a
        // while (it frees its cached pages and its blocks: about 25 ms for a 67 MB equity.csv on the machine of
        // docs/performance.md), so it is done on another thread: Dispose waits for it, or whoever took it with
        // TakeCleanup, after its own closing work.
        var staging = _staging;
        if (Directory.EnumerateFileSystemEntries(staging).Any())
        {
            _cleanup = Task.Run(() => Directory.Delete(staging, recursive: true));
        }
        else
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    private Task? _cleanup;

    /// <summary>
    /// The deletion of the previous run's files that <see cref="Commit"/> started, for a caller that waits for it
    /// (<see cref="WaitQuietly"/>) after its own closing work; null when there is none. Dispose then no longer waits.
    /// </summary>
    public Task? TakeCleanup()
    {
        var cleanup = _cleanup;
        _cleanup = null;
        return cleanup;
    }

    /// <summary>Waits for a cleanup; one that failed leaves a hidden staging folder, which never looks like a result.</summary>
    public static void WaitQuietly(Task cleanup)
    {
        try
        {
            cleanup.GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort, as for a failed run's staging folder below.
        }
    }

    public void Dispose()
    {
        if (TakeCleanup() is { } cleanup)
        {
            WaitQuietly(cleanup);
        }

        if (!_committed && !KeepStaging && Directory.Exists(_staging))
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
