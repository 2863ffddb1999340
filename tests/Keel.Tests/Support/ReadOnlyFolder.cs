using System.Diagnostics;

namespace Keel.Tests.Support;

/// <summary>
/// A folder that really is read-only for this process: a read-only tmpfs mount when running as root (root ignores
/// file permissions), or plain permissions otherwise. <c>prepare</c> fills it while it is still writable.
/// </summary>
public sealed class ReadOnlyFolder : IDisposable
{
    private readonly bool _mounted;

    private ReadOnlyFolder(string path, bool mounted)
    {
        Path = path;
        _mounted = mounted;
    }

    public string Path { get; }

    public static ReadOnlyFolder Create(string path, Action<string> prepare)
    {
        Directory.CreateDirectory(path);
        if (Environment.UserName != "root")
        {
            prepare(path);
            foreach (var f in Directory.EnumerateFiles(path))
            {
                File.SetUnixFileMode(f, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            }

            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserExecute);
            return new ReadOnlyFolder(path, mounted: false);
        }

        Run("mount", "-t", "tmpfs", "-o", "size=16m", "keel-ro-test", path);
        prepare(path);
        Run("mount", "-o", "remount,ro", path);
        return new ReadOnlyFolder(path, mounted: true);
    }

    public void Dispose()
    {
        if (_mounted)
        {
            Run("umount", Path);
        }
        else
        {
            File.SetUnixFileMode(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    private static void Run(string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed (root without mount privileges cannot make a read-only folder): {err}");
        }
    }
}
