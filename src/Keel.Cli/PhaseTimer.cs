using System.Diagnostics;

namespace Keel.Cli;

/// <summary>Developer aid: with KEEL_TIMINGS=1, prints how long each phase of a command took (to stderr).</summary>
internal sealed class PhaseTimer
{
    private readonly List<(string Phase, double Ms)> _marks = [];
    private readonly bool _enabled;
    private long _last;

    private PhaseTimer(bool enabled)
    {
        _enabled = enabled;
        _last = Stopwatch.GetTimestamp();
    }

    public static PhaseTimer FromEnvironment() => new(Environment.GetEnvironmentVariable("KEEL_TIMINGS") == "1");

    public void Mark(string phase)
    {
        if (!_enabled)
        {
            return;
        }

        long now = Stopwatch.GetTimestamp();
        _marks.Add((phase, Stopwatch.GetElapsedTime(_last, now).TotalMilliseconds));
        _last = now;
    }

    public void Print()
    {
        if (_enabled)
        {
            var since = (DateTime.Now - Process.GetCurrentProcess().StartTime).TotalMilliseconds;
            Console.Error.WriteLine($"timings: {string.Join(", ", _marks.Select(m => $"{m.Phase} {m.Ms:0.0} ms"))}; process {since:0} ms");
        }
    }
}
