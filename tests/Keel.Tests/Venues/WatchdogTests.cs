using Keel.Engine.Ports;
using Keel.Venues.Feeds;

namespace Keel.Tests.Venues;

/// <summary>
/// The staleness watchdog on a manual clock, without a network: it never fires while the silence is within the window
/// (two heartbeats) and fires at the first check after it, so detection is bounded by window + window/20.
/// </summary>
public sealed class WatchdogTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task SilenceIsDeclaredStaleAtTheFirstCheckPastTwoHeartbeats_NeverBefore()
    {
        var heartbeat = TimeSpan.FromSeconds(5);
        var window = 2 * heartbeat;
        var step = window / 20;
        var time = new ManualTime();
        await using var feed = new SilentFeed(time, new ReconnectPolicy { StaleAfter = window, Initial = TimeSpan.FromSeconds(1), Max = TimeSpan.FromSeconds(1) });
        var sink = new CollectingSink();
        using var stop = new CancellationTokenSource();
        var run = feed.RunAsync(["EUR_USD"], sink, stop.Token);
        await sink.Until(s => s.Count(FeedEventKind.Subscribed) == 1, Wait, "the session to subscribe");
        await time.UntilArmedAsync(Wait);

        int checks = 0;
        while (sink.Count(FeedEventKind.Stale) == 0)
        {
            Assert.True(checks <= 21, $"still not stale after {checks} checks ({time.Elapsed})");
            time.Advance(step);
            checks++;
            await Until(() => sink.Count(FeedEventKind.Stale) == 1 || time.Armed, "the watchdog to check again");
        }

        // 20 checks bring the silence to exactly the window (not yet stale); the 21st is the first past it.
        Assert.Equal(21, checks);
        Assert.Equal(window + step, time.Elapsed);
        Assert.True(time.Elapsed <= (2 * heartbeat) + (heartbeat / 10));
        await sink.Until(s => s.Count(FeedEventKind.Disconnected) == 1, Wait, "the stale connection to be dropped");
        Assert.StartsWith("stale", sink.Events.Single(e => e.Kind == FeedEventKind.Disconnected).Message, StringComparison.Ordinal);

        // The state moves on right after the Disconnected event; the Reconnecting event follows it (the manual clock
        // holds the back-off, so it stays there).
        await sink.Until(s => s.Count(FeedEventKind.Reconnecting) == 1, Wait, "the feed to reconnect");
        Assert.Equal(FeedState.Reconnecting, feed.Health.State);

        await stop.CancelAsync();
        await run.WaitAsync(Wait);
    }

    private static async Task Until(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Yield();
        }
    }

    /// <summary>Connects, subscribes, receives one message and then hears nothing until cancelled.</summary>
    private sealed class SilentFeed(TimeProvider time, ReconnectPolicy policy) : StreamingFeed("test", policy, time, seed: 1)
    {
        protected override async Task RunSessionAsync(IReadOnlyList<string> symbols, ILiveDataSink sink, CancellationToken ct)
        {
            Connected();
            MessageReceived();
            Subscribed("subscribed");
            await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false);
        }
    }

    /// <summary>A clock that moves only when told; timers fire inside <see cref="Advance"/>.</summary>
    private sealed class ManualTime : TimeProvider
    {
        private readonly Lock _gate = new();
        private readonly List<Timer> _timers = [];
        private long _now;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public TimeSpan Elapsed
        {
            get
            {
                lock (_gate)
                {
                    return TimeSpan.FromTicks(_now);
                }
            }
        }

        /// <summary>Some timer is waiting for a time still to come (the watchdog has re-armed).</summary>
        public bool Armed
        {
            get
            {
                lock (_gate)
                {
                    return _timers.Exists(t => t.Due > _now);
                }
            }
        }

        public override long GetTimestamp()
        {
            lock (_gate)
            {
                return _now;
            }
        }

        public override DateTimeOffset GetUtcNow() => new DateTimeOffset(2026, 1, 5, 14, 30, 0, TimeSpan.Zero) + Elapsed;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = new Timer(this, callback, state);
            timer.Change(dueTime, period);
            return timer;
        }

        public async Task UntilArmedAsync(TimeSpan timeout)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (!Armed)
            {
                Assert.True(DateTime.UtcNow < deadline, "no timer was armed");
                await Task.Yield();
            }
        }

        public void Advance(TimeSpan by)
        {
            long target;
            lock (_gate)
            {
                target = _now + by.Ticks;
            }

            while (true)
            {
                Timer? next;
                lock (_gate)
                {
                    next = _timers.Where(t => t.Due <= target).OrderBy(t => t.Due).FirstOrDefault();
                    if (next is null)
                    {
                        _now = target;
                        return;
                    }

                    _now = Math.Max(_now, next.Due);
                    _timers.Remove(next);
                }

                next.Fire();
            }
        }

        private sealed class Timer(ManualTime owner, TimerCallback callback, object? state) : ITimer
        {
            public long Due { get; private set; }

            public bool Change(TimeSpan dueTime, TimeSpan period)
            {
                Assert.Equal(Timeout.InfiniteTimeSpan, period);
                lock (owner._gate)
                {
                    owner._timers.Remove(this);
                    if (dueTime != Timeout.InfiniteTimeSpan)
                    {
                        Due = owner._now + dueTime.Ticks;
                        owner._timers.Add(this);
                    }
                }

                return true;
            }

            public void Fire() => callback(state);

            public void Dispose()
            {
                lock (owner._gate)
                {
                    owner._timers.Remove(this);
                }
            }

            public ValueTask DisposeAsync()
            {
                Dispose();
                return ValueTask.CompletedTask;
            }
        }
    }
}
