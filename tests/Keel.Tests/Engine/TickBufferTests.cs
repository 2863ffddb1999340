using Keel.Domain;
using Keel.Engine.Data.Live;

namespace Keel.Tests.Engine;

public sealed class TickBufferTests
{
    private static readonly InstrumentId Spy = new("SPY");
    private static readonly Timestamp T0 = Timestamp.FromParts(2024, 6, 3, 13, 30);

    private static Tick At(long seconds, decimal price = 500) =>
        Tick.Trade(Spy, T0.AddNanos(seconds * Timestamp.NanosPerSecond), Price.From(price), Quantity.From(1));

    [Fact]
    public void WhenFull_TheOldestTicksAreDropped_AndCounted()
    {
        var buffer = new TickBuffer(capacity: 3);
        for (int i = 0; i < 5; i++)
        {
            Assert.True(buffer.Write(At(i, 500 + i)));
        }

        var read = new List<decimal>();
        while (buffer.TryRead(T0, out var t))
        {
            read.Add(t.Last.ToDecimal());
        }

        Assert.Equal([502m, 503m, 504m], read);
        var stats = buffer.Stats;
        Assert.Equal((5L, 3L, 2L, 0L, 3), (stats.Enqueued, stats.Dequeued, stats.Dropped, stats.Evicted, stats.HighWater));
    }

    [Fact]
    public void TicksOlderThanTheTimeToLive_AreEvicted_NotDelivered()
    {
        var buffer = new TickBuffer(capacity: 100, timeToLive: TimeSpan.FromSeconds(60));
        buffer.Write(At(0));
        buffer.Write(At(30));
        buffer.Write(At(100));
        Assert.Equal(1, buffer.EvictExpired(T0.AddNanos(70 * Timestamp.NanosPerSecond))); // the tick at 0 s is 70 s old
        Assert.True(buffer.TryRead(T0.AddNanos(95 * Timestamp.NanosPerSecond), out var t)); // 30 s tick is 65 s old: evicted on the way
        Assert.Equal(At(100), t);
        Assert.Equal(2, buffer.Stats.Evicted);
        Assert.Equal(0, buffer.Stats.Utilization);
    }

    [Fact]
    public void Utilization_IsTheShareOfCapacityInUse()
    {
        var buffer = new TickBuffer(capacity: 4);
        buffer.Write(At(1));
        Assert.Equal(0.25, buffer.Stats.Utilization);
    }

    [Fact]
    public async Task AReaderWaits_UntilATickArrives_OrTheBufferCompletes()
    {
        var buffer = new TickBuffer();
        var wait = buffer.WaitToReadAsync(CancellationToken.None).AsTask();
        Assert.False(wait.IsCompleted);
        buffer.Write(At(1));
        Assert.True(await wait.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(buffer.TryRead(T0, out _));
        buffer.Complete();
        Assert.False(await buffer.WaitToReadAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.False(buffer.Write(At(2)));
    }

    [Fact]
    public async Task ABlockedConsumerThread_WakesOnAWrite_OnWake_AndSeesTheEndOnlyWhenDrained()
    {
        // The live consumer blocks its own thread (no thread-pool wake-up needed); each wait here would last 60 s if the
        // buffer did not wake it.
        var buffer = new TickBuffer();
        var timeout = TimeSpan.FromSeconds(60);
        Task<bool> Wait() => Task.Factory.StartNew(() => buffer.WaitToRead(timeout), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        var first = Wait();
        Assert.False(first.IsCompleted);
        buffer.Write(At(1));
        Assert.True(await first.WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.True(await Wait().WaitAsync(TimeSpan.FromSeconds(10))); // a tick is there: no wait at all
        Assert.True(buffer.TryRead(T0, out _));

        var woken = Wait();
        buffer.Wake();
        Assert.True(await woken.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.False(buffer.TryRead(T0, out _));

        // A wake that comes before the wait is not lost (a stop requested while the consumer was busy).
        buffer.Wake();
        Assert.True(await Wait().WaitAsync(TimeSpan.FromSeconds(10)));

        buffer.Write(At(2));
        buffer.Complete();
        Assert.True(buffer.WaitToRead(timeout)); // completed, but a tick is left
        Assert.True(buffer.TryRead(T0, out _));
        Assert.False(await Wait().WaitAsync(TimeSpan.FromSeconds(10)));
    }
}
