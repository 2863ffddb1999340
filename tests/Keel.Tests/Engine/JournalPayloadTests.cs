using System.Text;
using Keel.Domain;
using Keel.Domain.Events;
using Keel.Domain.Orders;
using Keel.Engine.Persistence;

namespace Keel.Tests.Engine;

/// <summary>
/// The order events' payloads written straight as bytes must be exactly what the JSON writer writes for them, and
/// anything the writer would escape (or any other event) must be left to it.
/// </summary>
public sealed class JournalPayloadTests
{
    private static readonly Timestamp T = Timestamp.Parse("2024-03-05T09:30:00Z");

    private static string? Fast(object evt)
    {
        Span<byte> buffer = stackalloc byte[512];
        return JournalPayload.TryWriteOrderEvent(evt, buffer, out int n) ? Encoding.UTF8.GetString(buffer[..n]) : null;
    }

    private static IEnumerable<object> Events(string id, string venue, string trade, string symbol, Random random)
    {
        var side = random.Next(2) == 0 ? OrderSide.Buy : OrderSide.Sell;
        yield return new OrderSubmitted(new ClientOrderId(id), T, T);
        yield return new OrderAccepted(new ClientOrderId(id), new VenueOrderId(venue), T, T);
        yield return new OrderFilled(
            new ClientOrderId(id), new VenueOrderId(venue), new TradeId(trade), new InstrumentId(symbol), side,
            Quantity.FromRaw(random.NextInt64(1, long.MaxValue) >> random.Next(0, 60)),
            Price.FromRaw(random.NextInt64(1, long.MaxValue) >> random.Next(0, 60)),
            Money.FromRaw((Int128)random.NextInt64() * random.Next(-1000, 1000)),
            T,
            T);
    }

    [Fact]
    public void PlainIds_AreWrittenExactlyAsTheWriterWritesThem()
    {
        var random = new Random(8);
        int fast = 0;
        for (int i = 0; i < 20_000; i++)
        {
            foreach (var evt in Events($"O-{i}", $"SIM-{i}", $"T-{i}", i % 2 == 0 ? "BARS-1000000" : "EUR_USD", random)
                .Concat(Events($"run.{i}:a_b", $"{Guid.NewGuid()}", $"{i}", "AAPL", random)))
            {
                string? text = Fast(evt);
                Assert.NotNull(text);
                Assert.Equal(JournalPayload.Format(evt), text);
                fast++;
            }
        }

        Assert.Equal(120_000, fast);
    }

    [Theory]
    [InlineData("O+1")]
    [InlineData("O<1>")]
    [InlineData("O&1")]
    [InlineData("O'1")]
    [InlineData("O\"1")]
    [InlineData("O\\1")]
    [InlineData("Ö-1")]
    [InlineData("O 1")]
    [InlineData("O/1")]
    public void TextTheWriterWouldEscape_IsLeftToTheWriter(string id)
    {
        foreach (var evt in Events(id, "SIM-" + id, "T-" + id, "X" + id, new Random(1)))
        {
            Assert.Null(Fast(evt));
        }

        // Only the symbol is unusual: the fill is left to the writer, the others are not.
        var events = Events("O-1", "SIM-1", "T-1", "A&B", new Random(2)).ToList();
        Assert.NotNull(Fast(events[0]));
        Assert.NotNull(Fast(events[1]));
        Assert.Null(Fast(events[2]));
    }

    [Fact]
    public void OtherEvents_AndAVenueIdThatIsMissing_AreLeftToTheWriter()
    {
        Assert.Null(Fast(new OrderCanceled(new ClientOrderId("O-1"), "by the strategy", T, T)));
        Assert.Null(Fast(new OrderAccepted(new ClientOrderId("O-1"), default, T, T)));
        Assert.Null(Fast("not an event"));
    }

    [Fact]
    public void A_DestinationTooSmall_IsRefused()
    {
        var fill = Events("O-1", "SIM-1", "T-1", "BARS", new Random(3)).Last();
        string expected = JournalPayload.Format(fill);
        var buffer = new byte[expected.Length - 1];
        Assert.False(JournalPayload.TryWriteOrderEvent(fill, buffer, out _));
        buffer = new byte[expected.Length];
        Assert.True(JournalPayload.TryWriteOrderEvent(fill, buffer, out int n));
        Assert.Equal(expected, Encoding.UTF8.GetString(buffer, 0, n));
    }
}
