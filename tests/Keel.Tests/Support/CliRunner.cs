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

    /// <summary>Starts the repository's ./keel launcher without waiting (it execs the built binary, so the process is keel's own).</summary>
    public static Child SpawnLauncher(string workingDirectory, params string[] args) =>
        new(Process.Start(Prepare(Path.Combine(TestPaths.RepoRoot, "keel"), workingDirectory, null, args, viaDotnet: false))!);

    /// <summary>Starts the CLI without waiting; the caller kills it or waits for it.</summary>
    public static Child Spawn(string workingDirectory, IDictionary<string, string>? env, params string[] args)
    {
        var psi = Prepare(Path.Combine(AppContext.BaseDirectory, "keel.dll"), workingDirectory, env, args, viaDotnet: true);
        return new Child(Process.Start(psi)!);
    }

    /// <summary>A running keel process whose output is collected line by line.</summary>
    public sealed class Child : IDisposable
    {
        private readonly System.Text.StringBuilder _stdout = new();
        private readonly System.Text.StringBuilder _stderr = new();
        private readonly TaskCompletionSource<string> _runId = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _outClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _errClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Child(Process process)
        {
            Process = process;
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is null)
                {
                    _outClosed.TrySetResult();
                    _runId.TrySetException(new InvalidOperationException("keel exited without printing 'run: ID'"));
                    return;
                }

                lock (_stdout)
                {
                    _stdout.AppendLine(e.Data);
                }

                if (e.Data.StartsWith("run: ", StringComparison.Ordinal))
                {
                    _runId.TrySetResult(e.Data[5..].Trim());
                }
            };
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is null)
                {
                    _errClosed.TrySetResult();
                    return;
                }

                lock (_stderr)
                {
                    _stderr.AppendLine(e.Data);
                }
            };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public Process Process { get; }

        /// <summary>Completes when the process prints its run id; fails with its output if it exits first.</summary>
        public Task<string> RunId => WithOutput(_runId.Task);

        public string Stdout
        {
            get
            {
                lock (_stdout)
                {
                    return _stdout.ToString();
                }
            }
        }

        public string Stderr
        {
            get
            {
                lock (_stderr)
                {
                    return _stderr.ToString();
                }
            }
        }

        private async Task<string> WithOutput(Task<string> task)
        {
            try
            {
                return await task.ConfigureAwait(false);
            }
            catch (InvalidOperationException)
            {
                var result = await WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
                throw new InvalidOperationException($"keel exited without printing 'run: ID': {result}");
            }
        }

        /// <summary>SIGKILL: no handler runs, nothing is flushed.</summary>
        public void KillHard()
        {
            try
            {
                Process.Kill();
            }
            catch (InvalidOperationException)
            {
                // Already exited.
            }

            Process.WaitForExit();
        }

        public async Task<Result> WaitAsync(TimeSpan timeout)
        {
            using var cts = new CancellationTokenSource(timeout);
            try
            {
                await Process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
                await Task.WhenAll(_outClosed.Task, _errClosed.Task).WaitAsync(cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                Process.Kill(entireProcessTree: true);
                throw new TimeoutException($"keel did not finish within {timeout}\nstdout:\n{Stdout}\nstderr:\n{Stderr}");
            }

            return new Result(Process.ExitCode, Stdout, Stderr);
        }

        public void Dispose()
        {
            if (!Process.HasExited)
            {
                KillHard();
            }

            Process.Dispose();
        }
    }

    private static Result Start(string program, string cwd, IDictionary<string, string>? env, string[] args, bool viaDotnet, TimeSpan? timeout = null)
    {
        var psi = Prepare(program, cwd, env, args, viaDotnet);
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

    private static ProcessStartInfo Prepare(string program, string cwd, IDictionary<string, string>? env, string[] args, bool viaDotnet)
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

        return psi;
    }
}
