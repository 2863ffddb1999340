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
}
