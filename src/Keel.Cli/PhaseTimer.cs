using System.Diagnostics;

namespace Keel.Cli;

/// <summary>Developer aid: with KEEL_TIMINGS=1, prints how long each phase of a command took (to stderr).</summary>
internal sealed class PhaseTimer
{
    private readonly List<(string Phase, double Ms)> _marks = [];
    private readonly bool _enabled;
    private readonly CliLogging _logging;
    private long _last;

    private PhaseTimer(bool enabled, CliLogging logging)
    {
        _enabled = enabled;
        _logging = logging;
        _last = Stopwatch.GetTimestamp();
    }

    public static PhaseTimer FromEnvironment(CliLogging logging) => new(Environment.GetEnvironmentVariable("KEEL_TIMINGS") == "1", logging);

    public bool Enabled => _enabled;

    /// <summary>The journal, timed: with timings on, reports how long its writer thread spent writing.</summary>
    public Keel.Engine.Persistence.IRunJournal Time(Keel.Engine.Persistence.IRunJournal journal)
    {
        if (!_enabled)
        {
            return journal;
        }

        var timed = new TimedJournal(journal);
        _journal = timed;
        return timed;
    }

    private TimedJournal? _journal;

    private sealed class TimedJournal(Keel.Engine.Persistence.IRunJournal inner) : Keel.Engine.Persistence.IRunJournal
    {
        public string Describe => inner.Describe;

        public bool ReleasesBatches => inner.ReleasesBatches;

        public double Ms { get; private set; }

        public int Batches { get; private set; }

        public void Write(Keel.Engine.Persistence.JournalBatch batch)
        {
            long t0 = Stopwatch.GetTimestamp();
            inner.Write(batch);
            Ms += Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            Batches++;
        }
    }

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
            _logging.Timings($"timings: {string.Join(", ", _marks.Select(m => $"{m.Phase} {m.Ms:0.0} ms"))}; process {since:0} ms");
            _logging.Timings(FormattableString.Invariant(
                $"gc: {GC.CollectionCount(0)} gen0, {GC.CollectionCount(1)} gen1, {GC.CollectionCount(2)} gen2 collections, {GC.GetTotalPauseDuration().TotalMilliseconds:0} ms paused, {GC.GetTotalAllocatedBytes() / 1048576.0:0.0} MB allocated"));
            if (_journal is not null)
            {
                _logging.Timings($"journal: {_journal.Batches} batches, {_journal.Ms:0} ms writing on its own thread");
            }
        }
    }
}
