using Keel.Domain;
using Keel.Domain.Events;
using Keel.Domain.Orders;
using Keel.Engine.Kernel;
using Keel.Engine.Persistence;

namespace Keel.Tests.Engine;

public sealed class InputCodecTests
{
    private static readonly Timestamp Clock = Timestamp.FromParts(2024, 3, 1, 14, 30, 5, 123_456_789);
    private static readonly InstrumentId Eur = new("EUR_USD");

    // Awkward prices: negative, the extremes of the raw range, all nine decimals.
    private static readonly Price Nine = Price.FromRaw(123_456_789_123_456_789);
    private static readonly Price Negative = Price.FromRaw(-987_654_321);
    private static readonly Price Largest = Price.FromRaw(long.MaxValue);
    private static readonly Price Smallest = Price.FromRaw(long.MinValue);

    private const string AwkwardTag = "say \"hi\" \\ to Zoë — 日本 🚀\n\ttab\u0001";

    private static T RoundTrip<T>(T value, Func<T, InboxItem> wrap, Func<InboxItem, T> unwrap, InputKind kind, long sequence = 7)
    {
        var record = InputCodec.Encode(sequence, Clock, wrap(value));
        Assert.Equal(sequence, record.Sequence);
        Assert.Equal(Clock, record.Clock);
        Assert.Equal(kind, record.Kind);
        Assert.DoesNotContain('\n', record.Payload);
        var item = InputCodec.Decode(record);
        return unwrap(item);
    }

    public static TheoryData<Bar> Bars =>
    [
        new Bar(new InstrumentId("AAPL"), Timestamp.FromParts(2024, 1, 2, 9, 30), Price.Parse("187.123456789"), Price.Parse("190.000000001"), Price.Parse("0.000000001"), Nine, Quantity.Parse("123456789.987654321")),
        new Bar(Eur, Timestamp.MinValue, Negative, Largest, Smallest, Price.Zero, Quantity.FromRaw(long.MinValue)),
        new Bar(Eur, Timestamp.MaxValue, Smallest, Smallest, Largest, Negative, Quantity.FromRaw(-1)),
        default,
    ];

    [Theory]
    [MemberData(nameof(Bars))]
    public void A_Bar_RoundTrips_EveryFieldExactly(Bar bar)
    {
        var back = RoundTrip(bar, b => InboxItem.ForBar(b), i => { Assert.Equal(InboxItemKind.Bar, i.Kind); return i.Bar; }, InputKind.Bar);
        Assert.Equal(bar.Instrument, back.Instrument);
        Assert.Equal(bar.Time, back.Time);
        Assert.Equal(bar.Open.Raw, back.Open.Raw);
        Assert.Equal(bar.High.Raw, back.High.Raw);
        Assert.Equal(bar.Low.Raw, back.Low.Raw);
        Assert.Equal(bar.Close.Raw, back.Close.Raw);
        Assert.Equal(bar.Volume.Raw, back.Volume.Raw);
        Assert.Equal(bar, back);
    }

    public static TheoryData<KernelAdjustment> Adjustments =>
    [
        KernelAdjustment.Adoption(Eur, OrderSide.Sell, Quantity.FromRaw(long.MaxValue), Negative, Money.FromRaw(Int128.MaxValue), new TradeId("T-1"), new VenueOrderId(string.Empty), Clock, AwkwardTag),
        KernelAdjustment.Adoption(new InstrumentId("AAPL"), OrderSide.Buy, Quantity.Parse("7"), Price.Parse("30"), Money.Zero, new TradeId("adjust-r-12"), new VenueOrderId("V9"), Timestamp.MinValue, "sets the position"),
        KernelAdjustment.Halting("reconciliation with alpaca: PositionMismatch ORCL"),
        KernelAdjustment.StrategyStarts("""{"books":[{"instrument":"ORCL","levels":[{"index":0,"held":"10"}]}],"note":"say \"hi\""}"""),
    ];

    [Theory]
    [MemberData(nameof(Adjustments))]
    public void An_Adjustment_RoundTrips_EveryFieldExactly(KernelAdjustment adjustment)
    {
        var back = RoundTrip(adjustment, a => InboxItem.ForAdjustment(a), i => { Assert.Equal(InboxItemKind.Adjustment, i.Kind); return (KernelAdjustment)i.Payload!; }, InputKind.Adjustment);
        Assert.Equal(adjustment, back);
        Assert.Equal(adjustment.Commission.Raw, back.Commission.Raw);
    }

    public static TheoryData<Tick> Ticks =>
    [
        new Tick(Eur, Clock, TickKind.Quote | TickKind.Trade, Price.Parse("1.084230001"), Price.Parse("1.084240009"), Quantity.Parse("1000000.5"), Quantity.Parse("0.000000001"),
            Price.Parse("1.08423"), Quantity.Parse("250"), "ＮＡＳＤＡＱ \"x\"", Clock.AddNanos(1)),
        Tick.Quote(Eur, Clock, Negative, Largest, Quantity.FromRaw(long.MaxValue), Quantity.FromRaw(-5)),
        Tick.Trade(new InstrumentId("BTC-USD"), Timestamp.MinValue, Smallest, Quantity.FromRaw(long.MinValue), exchange: string.Empty),
        new Tick(Eur, Clock, (TickKind)0, default, default, default, default, default, default, null, Timestamp.MaxValue),
        default,
    ];

    [Theory]
    [MemberData(nameof(Ticks))]
    public void A_Tick_RoundTrips_EveryFieldExactly(Tick tick)
    {
        var back = RoundTrip(tick, t => InboxItem.ForTick(t), i => { Assert.Equal(InboxItemKind.Tick, i.Kind); return i.Tick; }, InputKind.Tick);
        Assert.Equal(tick.Instrument, back.Instrument);
        Assert.Equal(tick.Time, back.Time);
        Assert.Equal(tick.Kind, back.Kind);
        Assert.Equal(tick.Bid.Raw, back.Bid.Raw);
        Assert.Equal(tick.Ask.Raw, back.Ask.Raw);
        Assert.Equal(tick.BidSize.Raw, back.BidSize.Raw);
        Assert.Equal(tick.AskSize.Raw, back.AskSize.Raw);
        Assert.Equal(tick.Last.Raw, back.Last.Raw);
        Assert.Equal(tick.Size.Raw, back.Size.Raw);
        Assert.Equal(tick.Exchange, back.Exchange);
        Assert.Equal(tick.ReceivedAt, back.ReceivedAt);
        Assert.Equal(tick, back);
    }

    /// <summary>At least one of every order event type, with awkward values (and null where the type allows it).</summary>
    private static List<OrderEvent> SampleEvents()
    {
        var id = new ClientOrderId("O-000042");
        var longest = new ClientOrderId(new string('z', 48));
        var t1 = Timestamp.FromParts(2024, 3, 1, 14, 30, 0, 1);
        var t2 = Timestamp.FromParts(2261, 12, 31, 23, 59, 59, 999_999_999);
        return
        [
            new OrderSubmitted(id, t1, t2),
            new OrderSubmitted(longest, Timestamp.MinValue, Timestamp.MaxValue),
            new OrderAccepted(id, new VenueOrderId("a1b2-ç-\"q\""), t1, t2),
            new OrderAccepted(id, default, t1, t1),
            new OrderRejected(id, "insufficient buying power: \"AAPL\" needs $1,000 — 日本", t1, t2),
            new OrderRejected(id, string.Empty, t1, t2),
            new OrderDenied(id, "max position 10 exceeded (was 11.000000001)", t1, t2),
            new OrderPendingCancel(id, t1, t2),
            new OrderCancelRejected(id, "too late to cancel\r\n", t1, t2),
            new OrderCanceled(id, null, t1, t2),
            new OrderCanceled(id, "expired at session end 🚀", t1, t2),
            new OrderExpired(id, t1, t2),
            new OrderReplaced(id, longest, t1, t2),
            new OrderStatusUnknown(id, "alpaca: the connection was reset after sending; looking it up", t1, t2),
            new OrderFilled(id, new VenueOrderId("V-1"), new TradeId("T-1"), Eur, OrderSide.Buy, Quantity.Parse("0.000000001"), Nine, Money.Parse("0.000000000000000001"), t1, t2),
            new OrderFilled(id, new VenueOrderId("V-2"), new TradeId("T-2"), Eur, OrderSide.Sell, Quantity.FromRaw(long.MaxValue), Negative, Money.Parse("-123.456789012345678901"), t1, t2),
            new OrderFilled(id, default, default, default, (OrderSide)99, Quantity.FromRaw(long.MinValue), Smallest, Money.FromRaw(Int128.MaxValue), Timestamp.MaxValue, Timestamp.MinValue),
            new OrderFilled(longest, new VenueOrderId(string.Empty), new TradeId("t \"1\""), new InstrumentId("Ω"), (OrderSide)0, Quantity.Zero, Largest, Money.FromRaw(Int128.MinValue), t2, t1),
        ];
    }

    [Fact]
    public void Every_OrderEventType_RoundTrips_EveryFieldExactly()
    {
        foreach (var e in SampleEvents())
        {
            var back = RoundTrip(e, x => InboxItem.ForOrderEvent(x), i => { Assert.Equal(InboxItemKind.OrderEvent, i.Kind); return (OrderEvent)i.Payload!; }, InputKind.OrderEvent);
            Assert.IsType(e.GetType(), back);
            Assert.Equal(e.ClientOrderId, back.ClientOrderId);
            Assert.Equal(e.TsEvent, back.TsEvent);
            Assert.Equal(e.TsInit, back.TsInit);
            if (e is OrderFilled f)
            {
                var g = (OrderFilled)back;
                Assert.Equal(f.VenueOrderId.Value, g.VenueOrderId.Value);
                Assert.Equal(f.TradeId.Value, g.TradeId.Value);
                Assert.Equal(f.Instrument, g.Instrument);
                Assert.Equal(f.Side, g.Side);
                Assert.Equal(f.LastQty.Raw, g.LastQty.Raw);
                Assert.Equal(f.LastPx.Raw, g.LastPx.Raw);
                Assert.Equal(f.Commission.Raw, g.Commission.Raw);
            }

            // Records compare every field, including the ones a subtype adds.
            Assert.Equal(e, back);
        }
    }

    [Fact]
    public void The_Samples_CoverEveryOrderEventType_SoANewOneCannotBeForgotten()
    {
        var types = typeof(OrderEvent).Assembly.GetExportedTypes().Where(t => t.IsSubclassOf(typeof(OrderEvent)) && !t.IsAbstract).ToHashSet();
        var covered = SampleEvents().Select(e => e.GetType()).ToHashSet();
        Assert.Equal(11, types.Count);
        Assert.Subset(covered, types); // every type is among the samples
    }

    public static TheoryData<OrderRequest> Orders =>
    [
        OrderRequest.Market(Eur, OrderSide.Buy, Quantity.Parse("0.000000001")),
        OrderRequest.Limit(Eur, OrderSide.Sell, Quantity.FromRaw(long.MaxValue), Negative, TimeInForce.Day, AwkwardTag),
        OrderRequest.Stop(Eur, OrderSide.Buy, Quantity.Parse("5"), Largest, TimeInForce.Ioc, string.Empty),
        OrderRequest.StopLimit(new InstrumentId("AAPL"), OrderSide.Sell, Quantity.Parse("3.5"), Smallest, Nine, TimeInForce.Fok, "bracket:tp"),

        // Invalid orders from outside must replay just as invalid: the kernel refuses them the same way again.
        new OrderRequest(Eur, (OrderSide)0, (OrderType)77, Quantity.FromRaw(-42), Price.Zero, null, (TimeInForce)253, null),
        default,
    ];

    [Theory]
    [MemberData(nameof(Orders))]
    public void An_ExternalOrder_RoundTrips_EveryFieldExactly_AsAFreshRequest(OrderRequest order)
    {
        var request = ExternalOrderRequest.Submit(order);
        var back = RoundTrip(request, r => InboxItem.ForExternal(r), i => { Assert.Equal(InboxItemKind.External, i.Kind); return (ExternalOrderRequest)i.Payload!; }, InputKind.ExternalSubmit);
        Assert.NotSame(request, back);
        Assert.Null(back.CancelId);
        Assert.False(back.Result.IsCompleted);
        var o = back.Order;
        Assert.Equal(order.Instrument, o.Instrument);
        Assert.Equal(order.Side, o.Side);
        Assert.Equal(order.Type, o.Type);
        Assert.Equal(order.Quantity.Raw, o.Quantity.Raw);
        Assert.Equal(order.LimitPrice, o.LimitPrice);
        Assert.Equal(order.StopPrice, o.StopPrice);
        Assert.Equal(order.TimeInForce, o.TimeInForce);
        Assert.Equal(order.Tag, o.Tag);
        Assert.Equal(order, o);
    }

    [Fact]
    public void An_ExternalCancel_RoundTrips_WithItsId()
    {
        foreach (var id in new[] { new ClientOrderId("O-1"), new ClientOrderId(new string('é', 48)) })
        {
            var back = RoundTrip(ExternalOrderRequest.Cancel(id), r => InboxItem.ForExternal(r), i => (ExternalOrderRequest)i.Payload!, InputKind.ExternalCancel);
            Assert.Equal(id, back.CancelId);
        }
    }

    [Theory]
    [InlineData(KernelCommand.Pause)]
    [InlineData(KernelCommand.Resume)]
    [InlineData(KernelCommand.Stop)]
    [InlineData(KernelCommand.ResetCircuitBreaker)]
    [InlineData((KernelCommand)99)]
    public void A_Command_RoundTrips(KernelCommand command)
    {
        var back = RoundTrip(command, c => InboxItem.ForCommand(c), i => { Assert.Equal(InboxItemKind.Command, i.Kind); return i.Command; }, InputKind.Command);
        Assert.Equal(command, back);
    }

    [Fact]
    public void The_StoredFormat_IsPinned()
    {
        // Payloads are stored: a change here breaks replay of recorded runs. Add fields only with a new kind or a migration.
        var bar = new Bar(new InstrumentId("AAPL"), Timestamp.FromUnixNanos(1_700_000_000_000_000_000), Price.Parse("1.5"), Price.Parse("2"), Price.Parse("-1"), Price.Parse("0.000000001"), Quantity.Parse("10"));
        Assert.Equal(
            """{"instrument":"AAPL","time":1700000000000000000,"open":1500000000,"high":2000000000,"low":-1000000000,"close":1,"volume":10000000000}""",
            InputCodec.Encode(1, Clock, InboxItem.ForBar(bar)).Payload);
        var fill = new OrderFilled(new ClientOrderId("O-1"), new VenueOrderId("V"), new TradeId("T"), Eur, OrderSide.Sell, Quantity.Parse("2"), Price.Parse("1.1"), Money.Parse("-0.5"),
            Timestamp.FromUnixNanos(5), Timestamp.FromUnixNanos(6));
        Assert.Equal(
            """{"event":"filled","order":"O-1","ts_event":5,"ts_init":6,"venue_order":"V","trade":"T","instrument":"EUR_USD","side":2,"quantity":2000000000,"price":1100000000,"commission":-500000000000000000}""",
            InputCodec.Encode(2, Clock, InboxItem.ForOrderEvent(fill)).Payload);
        Assert.Equal("""{"order":"O-9"}""", InputCodec.Encode(3, Clock, InboxItem.ForExternal(ExternalOrderRequest.Cancel(new ClientOrderId("O-9")))).Payload);
        Assert.Equal("""{"command":3}""", InputCodec.Encode(4, Clock, InboxItem.ForCommand(KernelCommand.Stop)).Payload);
        Assert.Equal((byte)1, (byte)InputKind.Bar);
        Assert.Equal((byte)6, (byte)InputKind.Command);
    }

    [Fact]
    public void Items_ThatAreNotInputs_AreRefused()
    {
        var inbox = new Inbox(batchCount: 1, batchSize: 2);
        var batch = inbox.RentBatch(CancellationToken.None);
        Assert.Contains("Bars", Assert.Throws<ArgumentException>(() => InputCodec.Encode(1, Clock, InboxItem.ForBars(batch))).Message, StringComparison.Ordinal);
        Assert.Contains("EndOfData", Assert.Throws<ArgumentException>(() => InputCodec.Encode(1, Clock, InboxItem.EndOfData)).Message, StringComparison.Ordinal);
        Assert.Contains("Fault", Assert.Throws<ArgumentException>(() => InputCodec.Encode(1, Clock, InboxItem.ForFault(new InvalidOperationException("x")))).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => InputCodec.Encode(0, Clock, InboxItem.ForCommand(KernelCommand.Stop)));
    }

    private sealed record StrangeEvent(ClientOrderId ClientOrderId, Timestamp TsEvent, Timestamp TsInit) : OrderEvent(ClientOrderId, TsEvent, TsInit)
    {
        public override OrderEventKind Kind => OrderEventKind.Submitted;
    }

    [Fact]
    public void An_UnknownOrderEventType_IsRefused_AndTheNextEncodeOnTheThreadIsClean()
    {
        var ex = Assert.Throws<ArgumentException>(() => InputCodec.Encode(1, Clock, InboxItem.ForOrderEvent(new StrangeEvent(new ClientOrderId("O-1"), Clock, Clock))));
        Assert.Contains(nameof(StrangeEvent), ex.Message, StringComparison.Ordinal);
        var record = InputCodec.Encode(2, Clock, InboxItem.ForCommand(KernelCommand.Pause));
        Assert.Equal("""{"command":1}""", record.Payload);
    }

    [Fact]
    public void Encoding_IsDeterministic()
    {
        foreach (var e in SampleEvents())
        {
            Assert.Equal(InputCodec.Encode(1, Clock, InboxItem.ForOrderEvent(e)).Payload, InputCodec.Encode(1, Clock, InboxItem.ForOrderEvent(e)).Payload);
        }
    }

    [Fact]
    public void A_BatchWithOnlyInputs_IsNotEmpty_AndCountsThem()
    {
        var batch = new JournalBatch("r");
        Assert.True(batch.IsEmpty);
        batch.Inputs.Add(InputCodec.Encode(1, Clock, InboxItem.ForCommand(KernelCommand.Pause)));
        batch.Inputs.Add(InputCodec.Encode(2, Clock, InboxItem.ForCommand(KernelCommand.Resume)));
        Assert.False(batch.IsEmpty);
        Assert.Equal(2, batch.Count);
    }

    public static TheoryData<InputKind, string, string> BadPayloads => new()
    {
        { InputKind.Bar, "{\"instrument\":\"AAPL\",", "not valid JSON" },
        { InputKind.Bar, "[1,2]", "was a JSON array; it must be an object" },
        { InputKind.Bar, """{"instrument":"AAPL","time":1,"open":1,"high":1,"low":1,"volume":1}""", "no field 'close'" },
        { InputKind.Bar, """{"instrument":"AAPL","time":1,"open":1,"high":1,"low":1,"close":"1.5","volume":1}""", "field 'close' was \"1.5\"; it must be a whole number" },
        { InputKind.Bar, """{"instrument":"AAPL","time":1,"open":1.5,"high":1,"low":1,"close":1,"volume":1}""", "field 'open' was 1.5" },
        { InputKind.Bar, """{"instrument":"AAPL","time":1,"open":99999999999999999999,"high":1,"low":1,"close":1,"volume":1}""", "field 'open' was 99999999999999999999" },
        { InputKind.Bar, """{"instrument":"AAPL","time":1,"open":1,"high":1,"low":1,"close":1,"volume":1,"extra":2}""", "field 'extra' that bar inputs do not have" },
        { InputKind.Bar, """{"instrument":"AAPL","time":1,"open":1,"high":1,"low":1,"close":1,"volume":1,"open":2}""", "given twice" },
        { InputKind.Bar, """{"instrument":" ","time":1,"open":1,"high":1,"low":1,"close":1,"volume":1}""", "field 'instrument' was \" \"" },
        { InputKind.Bar, """{"instrument":7,"time":1,"open":1,"high":1,"low":1,"close":1,"volume":1}""", "field 'instrument' was 7; it must be a string or null" },
        { InputKind.Tick, """{"instrument":"AAPL","time":1,"open":1,"high":1,"low":1,"close":1,"volume":1}""", "no field 'kind'" },
        { InputKind.Command, """{"command":4294967296}""", "field 'command' was 4294967296" },
        { InputKind.Command, "{}", "no field 'command'" },
        { InputKind.OrderEvent, """{"event":"exploded","order":"O-1","ts_event":1,"ts_init":1}""", "field 'event' was \"exploded\"" },
        { InputKind.OrderEvent, """{"event":null,"order":"O-1","ts_event":1,"ts_init":1}""", "field 'event' was null" },
        { InputKind.OrderEvent, """{"event":"filled","order":"O-1","ts_event":1,"ts_init":1,"venue_order":"V","trade":"T","instrument":"X","side":1,"quantity":1,"price":1,"commission":1e3}""", "field 'commission' was 1e3" },
        { InputKind.OrderEvent, """{"event":"accepted","order":"O-1","ts_event":1,"ts_init":1}""", "no field 'venue_order'" },
        { InputKind.ExternalCancel, """{"order":"0123456789012345678901234567890123456789012345678"}""", "a client order id has 1 to 48 characters" },
        { InputKind.ExternalSubmit, """{"instrument":"AAPL","side":1,"type":1,"quantity":1,"limit":"x","stop":null,"time_in_force":2,"tag":null}""", "field 'limit' was \"x\"; it must be a whole number or null" },
        { (InputKind)99, "{}", "kind 99 is not a kind of input" },
    };

    [Theory]
    [MemberData(nameof(BadPayloads))]
    public void A_BadPayload_IsRefused_NamingTheSequenceAndWhatWasWrong(InputKind kind, string payload, string expected)
    {
        var ex = Assert.Throws<FormatException>(() => InputCodec.Decode(new InputRecord(42, Clock, kind, payload)));
        Assert.StartsWith("input 42", ex.Message, StringComparison.Ordinal);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }
}
