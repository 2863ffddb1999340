using System.Diagnostics;

namespace Keel.Tests.Support;

/// <summary>Runs the real keel CLI as a child process (the keel.dll built next to the tests), in a clean temp folder.</summary>
public static class CliRunner
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
    }

    public static Result Run(string workingDirectory, IDictionary<string, string>? env, params string[] args) =>
        Start(Path.Combine(AppContext.BaseDirectory, "keel.dll"), workingDirectory, env, args, viaDotnet: true);

    /// <summary>Runs the repository's ./keel launcher (builds on first use).</summary>
    public static Result RunLauncher(string workingDirectory, params string[] args) =>
        Start(Path.Combine(TestPaths.RepoRoot, "keel"), workingDirectory, null, args, viaDotnet: false, timeout: TimeSpan.FromMinutes(5));

    private static Result Start(string program, string cwd, IDictionary<string, string>? env, string[] args, bool viaDotnet, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo(viaDotnet ? "dotnet" : program)
        {
            WorkingDirectory = cwd,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (viaDotnet)
        {
            psi.ArgumentList.Add(program);
        }

        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("KEEL", StringComparison.Ordinal)).ToList())
        {
            psi.Environment.Remove(key);
        }

        // The default store lives under XDG_DATA_HOME: keep each test's runs in its own folder, never the user's.
        psi.Environment["XDG_DATA_HOME"] = cwd;
        if (env is not null)
        {
            foreach (var (k, v) in env)
            {
                psi.Environment[k] = v;
            }
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout ?? TimeSpan.FromSeconds(120)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"keel {string.Join(' ', args)} did not finish");
        }

        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }
}
