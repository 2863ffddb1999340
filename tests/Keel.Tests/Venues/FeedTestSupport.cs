using System.Collections.Concurrent;
using Keel.Domain;
using Keel.Engine.Ports;
using Keel.Sandbox;
using Keel.Venues.Alpaca;
using Keel.Venues.Feeds;
using Keel.Venues.Oanda;

namespace Keel.Tests.Venues;

/// <summary>Collects what a feed delivers and lets a test await a condition on it (no sleeps).</summary>
internal sealed class CollectingSink : ILiveDataSink
{
    private readonly Lock _gate = new();
    private readonly List<Tick> _ticks = [];
    private readonly List<FeedEvent> _events = [];
    private readonly ConcurrentBag<TaskCompletionSource> _waiters = [];
    private readonly List<TimeSpan> _silences = [];
    private long _lastTickStamp;

    public IReadOnlyList<Tick> Ticks
    {
        get
        {
            lock (_gate)
            {
                return [.. _ticks];
            }
        }
    }

    public IReadOnlyList<FeedEvent> Events
    {
        get
        {
            lock (_gate)
            {
                return [.. _events];
            }
        }
    }

    public int TickCount
    {
        get
        {
            lock (_gate)
            {
                return _ticks.Count;
            }
        }
    }

    /// <summary>For the last event of <paramref name="kind"/>: how long before it the last tick arrived (both stamped on delivery).</summary>
    public TimeSpan? SilenceBefore(FeedEventKind kind)
    {
        lock (_gate)
        {
            int i = _events.FindLastIndex(e => e.Kind == kind);
            return i < 0 ? null : _silences[i];
        }
    }

    public int Count(FeedEventKind kind)
    {
        lock (_gate)
        {
            return _events.Count(e => e.Kind == kind);
        }
    }

    public void OnTick(in Tick tick)
    {
        lock (_gate)
        {
            _ticks.Add(tick);
            _lastTickStamp = System.Diagnostics.Stopwatch.GetTimestamp();
        }

        Signal();
    }

    public void OnBar(in Bar bar)
    {
    }

    public void OnFeedEvent(FeedEvent feedEvent)
    {
        lock (_gate)
        {
            _events.Add(feedEvent);
            _silences.Add(_lastTickStamp == 0 ? TimeSpan.Zero : System.Diagnostics.Stopwatch.GetElapsedTime(_lastTickStamp));
        }

        Signal();
    }

    /// <summary>Completes when <paramref name="condition"/> holds after some delivery; fails the test after <paramref name="timeout"/>.</summary>
    public async Task Until(Func<CollectingSink, bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition(this))
        {
            var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add(waiter);
            if (condition(this))
            {
                return;
            }

            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || await Task.WhenAny(waiter.Task, Task.Delay(left)) != waiter.Task)
            {
                if (condition(this))
                {
                    return;
                }

                Assert.Fail($"timed out after {timeout.TotalSeconds:0.#} s waiting for {what}; {TickCount} ticks; events: {string.Join(" | ", Events.TakeLast(12).Select(e => $"{e.Kind}: {e.Message}"))}");
            }
        }
    }

    private void Signal()
    {
        while (_waiters.TryTake(out var w))
        {
            w.TrySetResult();
        }
    }
}

/// <summary>Creates a feed of either venue pointed at a sandbox.</summary>
internal static class SandboxFeeds
{
    public static StreamingFeed Create(string venue, SandboxServer sandbox, ReconnectPolicy policy, string? key = null) => venue switch
    {
        "alpaca" => new AlpacaDataFeed(
            new AlpacaOptions { Key = key ?? "sandbox-key", Secret = "sandbox-secret", StreamUrl = new Uri(sandbox.AlpacaStreamBase, "/v2/iex"), RestUrl = sandbox.AlpacaRestBase },
            policy),
        _ => new OandaPricingFeed(
            new OandaOptions { Token = key ?? "sandbox-token", Account = "101-001-0000001-001", StreamUrl = sandbox.OandaStreamBase, RestUrl = sandbox.OandaRestBase, HeartbeatInterval = TimeSpan.FromMilliseconds(100) },
            policy),
    };

    public static ReconnectPolicy Fast(TimeSpan? stale = null, int breakAfter = 10) => new()
    {
        Initial = TimeSpan.FromMilliseconds(5),
        Max = TimeSpan.FromMilliseconds(40),
        Jitter = 0.2,
        CircuitBreakAfter = breakAfter,
        StaleAfter = stale ?? TimeSpan.FromSeconds(5),
    };

    public static string Symbol(string venue) => venue == "alpaca" ? "AAPL" : "EUR_USD";

    /// <summary>The first <paramref name="bars"/> bars of a real 5-minute file, as a replay series file.</summary>
    public static string SampleFile(string folder, int bars)
    {
        var lines = File.ReadLines(Path.Combine(Support.TestPaths.RepoRoot, "samples", "data", "2006-min-005.txt")).Take(bars + 1).ToList();
        var path = Path.Combine(folder, $"sample-{bars}.txt");
        File.WriteAllLines(path, lines);
        return path;
    }
}
