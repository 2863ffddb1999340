using System.Diagnostics;
using Keel.Domain;
using Keel.Domain.Events;
using Keel.Domain.Orders;
using Keel.Engine.Ports;
using Keel.Sandbox;
using Keel.Tests.Sandbox;
using Keel.Venues.Alpaca.Trading;
using static Keel.Tests.Sandbox.SandboxTesting;

namespace Keel.Tests.Venues.Alpaca;

/// <summary>The Alpaca execution adapter against the sandbox's Trading API v2 and trade_updates stream, fault switches included.</summary>
public sealed class AlpacaTradingVenueTests
{
    [Fact]
    public async Task MarketOrder_FillsAtTheScriptedPrice_AndEventsAndQueriesAgree()
    {
        await using var h = await Harness.StartAsync();
        await h.PricesAsync("AAPL", "100");
        var outcome = await h.Venue.SubmitAsync(Order("m-1", "AAPL", OrderSide.Buy, OrderType.Market, 10));
        Assert.Equal(VenueOutcomeKind.Accepted, outcome.Kind);
        Assert.NotNull(outcome.VenueOrderId);
        Assert.NotNull(outcome.RequestId);
        await h.PricesAsync("AAPL", "101.5");

        var fill = await h.Sink.FillAsync("m-1");
        Assert.Equal((Price.From(101.5m), Quantity.From(10), OrderSide.Buy, outcome.VenueOrderId), (fill.LastPx, fill.LastQty, fill.Side, fill.VenueOrderId));
        Assert.Equal([OrderEventKind.Accepted, OrderEventKind.Filled], h.Sink.Kinds("m-1"));

        var order = await h.Venue.GetOrderAsync(new ClientOrderId("m-1"));
        Assert.NotNull(order);
        Assert.Equal((OrderStatus.Filled, Quantity.From(10), Price.From(101.5m)), (order.Status, order.FilledQuantity, order.AveragePrice));
        Assert.Equal(order, await h.Venue.GetOrderByVenueIdAsync(outcome.VenueOrderId!.Value));
        var fills = await h.Venue.GetFillsSinceAsync(null);
        var only = Assert.Single(fills.Fills);
        Assert.Equal((fill.TradeId, (ClientOrderId?)new ClientOrderId("m-1"), fill.LastPx), (only.ExecutionId, only.ClientOrderId, only.Price));
        Assert.NotNull(fills.Next);
        Assert.Empty((await h.Venue.GetFillsSinceAsync(fills.Next)).Fills);
        var position = Assert.Single(await h.Venue.GetPositionsAsync());
        Assert.Equal((new InstrumentId("AAPL"), Quantity.From(10), Price.From(101.5m)), (position.Instrument, position.Quantity, position.AveragePrice));
        var account = await h.Venue.GetAccountAsync();
        Assert.Equal(("USD", Money.From(98_985m)), (account.Currency, account.Cash));
        Assert.Empty(await h.Venue.GetOpenOrdersAsync());
    }

    [Fact]
    public async Task LimitAndStopOrders_FillAtTheirExactPrices()
    {
        await using var h = await Harness.StartAsync();
        await h.PricesAsync("MSFT", "100");
        Assert.True((await h.Venue.SubmitAsync(Order("l-1", "MSFT", OrderSide.Buy, OrderType.Limit, 5, limit: 99.5m))).IsAccepted);
        Assert.True((await h.Venue.SubmitAsync(Order("s-1", "MSFT", OrderSide.Buy, OrderType.Stop, 2, stop: 102m))).IsAccepted);
        await h.Sink.WaitAsync(() => h.Sink.Kinds("s-1").Contains(OrderEventKind.Accepted), "s-1 accepted");
        Assert.Equal(2, (await h.Venue.GetOpenOrdersAsync()).Count);

        await h.PricesAsync("MSFT", "100.2", "99.8", "99.4");
        Assert.Equal(Price.From(99.4m), (await h.Sink.FillAsync("l-1")).LastPx);
        await h.PricesAsync("MSFT", "101", "102.5");
        Assert.Equal(Price.From(102.5m), (await h.Sink.FillAsync("s-1")).LastPx);
        Assert.Equal(Quantity.From(7), Assert.Single(await h.Venue.GetPositionsAsync()).Quantity);
    }

    [Fact]
    public async Task Cancel_IsAcceptedThenCanceled_AndASecondCancelIsRejectedWithAlpacasCode()
    {
        await using var h = await Harness.StartAsync();
        await h.PricesAsync("AAPL", "100");
        await h.Venue.SubmitAsync(Order("c-1", "AAPL", OrderSide.Buy, OrderType.Limit, 1, limit: 90m));
        var cancel = await h.Venue.CancelAsync(new CancelOrder(new ClientOrderId("c-1"), new InstrumentId("AAPL"), default));
        Assert.Equal(VenueOutcomeKind.Accepted, cancel.Kind);
        await h.Sink.WaitAsync(() => h.Sink.Kinds("c-1").Contains(OrderEventKind.Canceled), "the canceled event");
        Assert.Equal(OrderStatus.Canceled, (await h.Venue.GetOrderAsync(new ClientOrderId("c-1")))!.Status);

        var again = await h.Venue.CancelAsync(new CancelOrder(new ClientOrderId("c-1"), new InstrumentId("AAPL"), default));
        Assert.Equal((VenueOutcomeKind.Rejected, "42210000"), (again.Kind, again.VenueCode));
        Assert.Equal("order is not cancelable", again.Reason);
        Assert.Equal(VenueOutcomeKind.Rejected, (await h.Venue.CancelAsync(new CancelOrder(new ClientOrderId("nobody"), new InstrumentId("AAPL"), default))).Kind);
    }

    [Fact]
    public async Task Replace_GivesTheNewClientIdANewOrder_WhichFills()
    {
        await using var h = await Harness.StartAsync();
        await h.PricesAsync("AAPL", "100");
        var first = await h.Venue.SubmitAsync(Order("r-1", "AAPL", OrderSide.Buy, OrderType.Limit, 10, limit: 99m));
        var replaced = await h.Venue.ReplaceAsync(new ReplaceOrder(new ClientOrderId("r-1"), Order("r-1b", "AAPL", OrderSide.Buy, OrderType.Limit, 7, limit: 98m), default));
        Assert.Equal(VenueOutcomeKind.Accepted, replaced.Kind);
        Assert.NotEqual(first.VenueOrderId, replaced.VenueOrderId);
        await h.Sink.WaitAsync(() => h.Sink.Events("r-1").OfType<OrderReplaced>().Any(), "the replaced event");
        Assert.Equal(new ClientOrderId("r-1b"), h.Sink.Events("r-1").OfType<OrderReplaced>().Single().ReplacedBy);
        var old = await h.Venue.GetOrderAsync(new ClientOrderId("r-1"));
        Assert.Equal((OrderStatus.Replaced, replaced.VenueOrderId), (old!.Status, old.ReplacedBy));

        await h.PricesAsync("AAPL", "98.5", "97.9");
        var fill = await h.Sink.FillAsync("r-1b");
        Assert.Equal((Price.From(97.9m), Quantity.From(7)), (fill.LastPx, fill.LastQty));
        Assert.DoesNotContain(OrderEventKind.Filled, h.Sink.Kinds("r-1"));
    }

    [Fact]
    public async Task BadOrders_AreRejectedWithAlpacasMessageAndCode_AndLackOfCashIsInsufficientFunds()
    {
        await using var h = await Harness.StartAsync();
        await h.PricesAsync("AAPL", "100");
        var unknown = await h.Venue.SubmitAsync(Order("x-1", "NOPE", OrderSide.Buy, OrderType.Market, 1));
        Assert.Equal((VenueOutcomeKind.Rejected, "42210000", "asset \"NOPE\" not found"), (unknown.Kind, unknown.VenueCode, unknown.Reason));
        Assert.NotNull(unknown.RequestId);
        var subPenny = await h.Venue.SubmitAsync(Order("x-2", "AAPL", OrderSide.Buy, OrderType.Limit, 1, limit: 99.001m));
        Assert.Equal(VenueOutcomeKind.Rejected, subPenny.Kind);

        await h.Control.PostAsync("/_sandbox/alpaca/reset", Trading.Json("""{"cash":"1000"}"""));
        var poor = await h.Venue.SubmitAsync(Order("x-3", "AAPL", OrderSide.Buy, OrderType.Limit, 11, limit: 100m));
        Assert.Equal((VenueOutcomeKind.InsufficientFunds, "40310000", "insufficient buying power"), (poor.Kind, poor.VenueCode, poor.Reason));
        Assert.Null(await h.Venue.GetOrderAsync(new ClientOrderId("x-3")));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Bracket_OneExitFills_TheOtherIsCanceled(bool takeProfit)
    {
        await using var h = await Harness.StartAsync();
        await h.PricesAsync("SPY", "100");
        var outcome = await h.Venue.SubmitListAsync(new SubmitOrderList(
        [
            Order("b-1", "SPY", OrderSide.Buy, OrderType.Market, 10, contingency: ContingencyType.Oto, linked: ["b-1-tp", "b-1-sl"]),
            Order("b-1-tp", "SPY", OrderSide.Sell, OrderType.Limit, 10, limit: 110m, contingency: ContingencyType.Oco, parent: "b-1", linked: ["b-1-sl"]),
            Order("b-1-sl", "SPY", OrderSide.Sell, OrderType.Stop, 10, stop: 90m, contingency: ContingencyType.Oco, parent: "b-1", linked: ["b-1-tp"]),
        ], default));
        Assert.Equal(VenueOutcomeKind.Accepted, outcome.Kind);
        Assert.Equal(OrderStatus.Pending, (await h.Venue.GetOrderAsync(new ClientOrderId("b-1-sl")))!.Status);

        await h.PricesAsync("SPY", "100.5");
        Assert.Equal(Price.From(100.5m), (await h.Sink.FillAsync("b-1")).LastPx);
        await h.Sink.WaitAsync(() => h.Sink.Kinds("b-1-tp").Contains(OrderEventKind.Accepted) && h.Sink.Kinds("b-1-sl").Contains(OrderEventKind.Accepted), "both exits released");
        var open = await h.Venue.GetOpenOrdersAsync();
        Assert.Equal(2, open.Count);
        Assert.All(open, o => Assert.Equal(outcome.VenueOrderId, o.ParentVenueOrderId));

        string winner = takeProfit ? "b-1-tp" : "b-1-sl", loser = takeProfit ? "b-1-sl" : "b-1-tp";
        await h.PricesAsync("SPY", takeProfit ? ["105", "111"] : ["95", "89"]);
        Assert.Equal(Price.From(takeProfit ? 111m : 89m), (await h.Sink.FillAsync(winner)).LastPx);
        await h.Sink.WaitAsync(() => h.Sink.Kinds(loser).Contains(OrderEventKind.Canceled), "the other exit canceled");
        Assert.Equal(OrderStatus.Canceled, (await h.Venue.GetOrderAsync(new ClientOrderId(loser)))!.Status);
        Assert.Empty(await h.Venue.GetPositionsAsync());
    }

    [Fact]
    public async Task Oco_TheTakeProfitFills_AndTheStopLossIsCanceled()
    {
        await using var h = await Harness.StartAsync();
        await h.PricesAsync("SPY", "100");
        await h.Venue.SubmitAsync(Order("e-1", "SPY", OrderSide.Buy, OrderType.Market, 10));
        await h.PricesAsync("SPY", "100");
        await h.Sink.FillAsync("e-1");
        var outcome = await h.Venue.SubmitListAsync(new SubmitOrderList(
        [
            Order("o-tp", "SPY", OrderSide.Sell, OrderType.Limit, 10, limit: 110m, contingency: ContingencyType.Oco, linked: ["o-sl"]),
            Order("o-sl", "SPY", OrderSide.Sell, OrderType.Stop, 10, stop: 90m, contingency: ContingencyType.Oco, linked: ["o-tp"]),
        ], default));
        Assert.Equal(VenueOutcomeKind.Accepted, outcome.Kind);
        await h.PricesAsync("SPY", "104", "110.25");
        Assert.Equal(Price.From(110.25m), (await h.Sink.FillAsync("o-tp")).LastPx);
        await h.Sink.WaitAsync(() => h.Sink.Kinds("o-sl").Contains(OrderEventKind.Canceled), "the stop-loss canceled");
        Assert.Empty(await h.Venue.GetPositionsAsync());
    }

    [Fact]
    public async Task DuplicateClientId_ResolvesToTheExistingOrder()
    {
        await using var h = await Harness.StartAsync();
        await h.PricesAsync("AAPL", "100");
        var first = await h.Venue.SubmitAsync(Order("d-1", "AAPL", OrderSide.Buy, OrderType.Limit, 1, limit: 90m));
        var second = await h.Venue.SubmitAsync(Order("d-1", "AAPL", OrderSide.Buy, OrderType.Limit, 1, limit: 90m));
        Assert.Equal((VenueOutcomeKind.Accepted, first.VenueOrderId), (second.Kind, second.VenueOrderId));
        Assert.Contains("already used", second.Reason, StringComparison.Ordinal);
        Assert.Single(await h.Venue.GetOpenOrdersAsync());
    }

    [Fact]
    public async Task LostResponse_IsUnknown_AndTheLookupByClientIdFindsTheOrder()
    {
        await using var h = await Harness.StartAsync();
        await h.PricesAsync("AAPL", "100");
        await h.FaultsAsync("""{"lose_response_next":1}""");
        var outcome = await h.Venue.SubmitAsync(Order("lost-1", "AAPL", OrderSide.Buy, OrderType.Limit, 1, limit: 90m));
        Assert.Equal(VenueOutcomeKind.Unknown, outcome.Kind);
        var found = await h.Venue.GetOrderAsync(new ClientOrderId("lost-1"));
        Assert.Equal(OrderStatus.Accepted, found!.Status);
        var resent = await h.Venue.SubmitAsync(Order("lost-1", "AAPL", OrderSide.Buy, OrderType.Limit, 1, limit: 90m));
        Assert.Equal((VenueOutcomeKind.Accepted, found.VenueOrderId), (resent.Kind, resent.VenueOrderId));
    }

    [Fact]
    public async Task ServerError_IsUnknown_NeverRejected()
    {
        await using var h = await Harness.StartAsync();
        await h.PricesAsync("AAPL", "100");
        await h.FaultsAsync("""{"server_error_next":1}""");
        var outcome = await h.Venue.SubmitAsync(Order("e-1", "AAPL", OrderSide.Buy, OrderType.Market, 1));
        Assert.Equal(VenueOutcomeKind.Unknown, outcome.Kind);
        Assert.Contains("500", outcome.Reason, StringComparison.Ordinal);
        Assert.Null(await h.Venue.GetOrderAsync(new ClientOrderId("e-1")));
        Assert.True((await h.Venue.SubmitAsync(Order("e-1", "AAPL", OrderSide.Buy, OrderType.Market, 1))).IsAccepted);
    }

    [Fact]
    public async Task SlowResponse_BeyondTheTimeout_IsUnknown_AndTheOrderAppearsAfterwards()
    {
        await using var h = await Harness.StartAsync(o => o with { RequestTimeout = TimeSpan.FromMilliseconds(300) });
        await h.PricesAsync("AAPL", "100");
        await h.FaultsAsync("""{"stall_ms":1500}""");
        var outcome = await h.Venue.SubmitAsync(Order("slow-1", "AAPL", OrderSide.Buy, OrderType.Limit, 1, limit: 90m));
        Assert.Equal(VenueOutcomeKind.Unknown, outcome.Kind);
        await h.FaultsAsync("""{"stall_ms":0}""");
        var found = await EventuallyAsync(() => h.Venue.GetOrderAsync(new ClientOrderId("slow-1")), "the stalled order to be placed");
        Assert.Equal(OrderStatus.Accepted, found.Status);
    }

    [Fact]
    public async Task ACallerGivingUpWhileTheOrderIsInFlight_GetsUnknown_NotAnException_AndTheOrderIsFound()
    {
        await using var h = await Harness.StartAsync();
        await h.PricesAsync("AAPL", "100");
        await h.FaultsAsync("""{"stall_ms":1500}""");
        using var giveUp = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var outcome = await h.Venue.SubmitAsync(Order("gave-up-1", "AAPL", OrderSide.Buy, OrderType.Limit, 1, limit: 90m), giveUp.Token);
        Assert.Equal(VenueOutcomeKind.Unknown, outcome.Kind);
        Assert.Contains("cancelled by the caller", outcome.Reason, StringComparison.Ordinal);
        await h.FaultsAsync("""{"stall_ms":0}""");
        var found = await EventuallyAsync(() => h.Venue.GetOrderAsync(new ClientOrderId("gave-up-1")), "the order the caller gave up on");
        Assert.Equal(OrderStatus.Accepted, found.Status);

        // A token already cancelled sends nothing, so that is an exception, not an unknown outcome.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => h.Venue.SubmitAsync(Order("never-1", "AAPL", OrderSide.Buy, OrderType.Limit, 1, limit: 90m), giveUp.Token));
        Assert.Null(await h.Venue.GetOrderAsync(new ClientOrderId("never-1")));
    }

    [Fact]
    public async Task RateLimited_WaitsRetryAfter_ThenSucceeds()
    {
        await using var h = await Harness.StartAsync();
        await h.PricesAsync("AAPL", "100");
        await h.FaultsAsync("""{"rate_limit_next":1,"retry_after_s":1}""");
        var clock = Stopwatch.StartNew();
        var outcome = await h.Venue.SubmitAsync(Order("rl-1", "AAPL", OrderSide.Buy, OrderType.Limit, 1, limit: 90m));
        Assert.Equal(VenueOutcomeKind.Accepted, outcome.Kind);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(950), $"answered after {clock.Elapsed}; Retry-After asked for 1 s");
        Assert.Equal(0, (await GetJsonAsync(h.Control, "/_sandbox/alpaca/faults")).GetProperty("rate_limit_next").GetInt32());
    }

    [Fact]
    public async Task RateLimited_BeyondTheBound_IsRateLimited_AndNothingIsPlaced()
    {
        await using var h = await Harness.StartAsync(o => o with { RateLimitRetries = 1 });
        await h.PricesAsync("AAPL", "100");
        await h.FaultsAsync("""{"rate_limit_next":2,"retry_after_s":1}""");
        var outcome = await h.Venue.SubmitAsync(Order("rl-2", "AAPL", OrderSide.Buy, OrderType.Limit, 1, limit: 90m));
        Assert.Equal((VenueOutcomeKind.RateLimited, TimeSpan.FromSeconds(1)), (outcome.Kind, outcome.RetryAfter));
        Assert.Null(await h.Venue.GetOrderAsync(new ClientOrderId("rl-2")));
    }

    [Fact]
    public async Task DroppedStream_Reconnects_AndCatchesUpTheFillItMissed_ExactlyOnce()
    {
        await using var h = await Harness.StartAsync(o => o with { ReconnectDelay = TimeSpan.FromMilliseconds(500) });
        await h.PricesAsync("AAPL", "100");
        await h.FaultsAsync("""{"drop_stream":true}""");
        await h.Sink.WaitAsync(() => !h.Venue.IsStreaming, "the stream to notice the drop");

        // Placed and filled while the stream is down: only the catch-up after the reconnect can deliver it.
        Assert.True((await h.Venue.SubmitAsync(Order("dr-1", "AAPL", OrderSide.Buy, OrderType.Market, 3))).IsAccepted);
        await h.PricesAsync("AAPL", "100.75");
        var fill = await h.Sink.FillAsync("dr-1");
        Assert.Equal(Price.From(100.75m), fill.LastPx);
        Assert.True(h.Venue.Counters.Reconnects >= 1);
        Assert.True(h.Venue.Counters.CaughtUpFills >= 1);

        // The live stream works again, and neither it nor another catch-up repeats the fill.
        await h.Venue.SubmitAsync(Order("dr-2", "AAPL", OrderSide.Buy, OrderType.Market, 1));
        await h.PricesAsync("AAPL", "101");
        await h.Sink.FillAsync("dr-2");
        await h.Venue.CatchUpAsync();
        Assert.Single(h.Sink.Events("dr-1").OfType<OrderFilled>());
        Assert.Equal([OrderEventKind.Accepted, OrderEventKind.Filled], h.Sink.Kinds("dr-1"));
    }

    [Fact]
    public async Task DuplicateEvents_EachFillIsAppliedOnce()
    {
        await using var h = await Harness.StartAsync();
        await h.PricesAsync("AAPL", "100");
        await h.FaultsAsync("""{"duplicate_events_next":2}""");
        await h.Venue.SubmitAsync(Order("dup-1", "AAPL", OrderSide.Buy, OrderType.Market, 1));
        await h.PricesAsync("AAPL", "101");
        await h.Sink.FillAsync("dup-1");
        await h.Sink.WaitAsync(() => h.Venue.Counters.DuplicateEvents >= 2, "both repeated events to arrive");
        await h.Venue.CatchUpAsync();
        Assert.Equal([OrderEventKind.Accepted, OrderEventKind.Filled], h.Sink.Kinds("dup-1"));
    }

    [Fact]
    public async Task OutOfOrderEvents_AFillBeforeItsNew_IsAcceptedThenFilledOnce()
    {
        await using var h = await Harness.StartAsync();
        await h.PricesAsync("AAPL", "100");
        await h.FaultsAsync("""{"out_of_order_next":1}""");
        await h.Venue.SubmitAsync(Order("ooo-1", "AAPL", OrderSide.Buy, OrderType.Market, 1));
        await h.PricesAsync("AAPL", "101");
        await h.Sink.FillAsync("ooo-1");
        await h.Sink.WaitAsync(() => h.Venue.Counters.DuplicateEvents >= 1, "the late new event to arrive");
        Assert.Equal([OrderEventKind.Accepted, OrderEventKind.Filled], h.Sink.Kinds("ooo-1"));
    }

    [Theory]
    [InlineData("""{"silent_stream":true}""")]
    [InlineData("""{"drop_fill_events_next":1}""")]
    public async Task SilentStreamOrDroppedFill_ThePollCatchesTheFillUpFromRest(string fault)
    {
        await using var h = await Harness.StartAsync(o => o with { CatchUpInterval = TimeSpan.FromMilliseconds(200) });
        await h.PricesAsync("AAPL", "100");
        await h.FaultsAsync(fault);
        await h.Venue.SubmitAsync(Order("q-1", "AAPL", OrderSide.Buy, OrderType.Market, 2));
        await h.PricesAsync("AAPL", "99.5");
        var fill = await h.Sink.FillAsync("q-1");
        Assert.Equal((Price.From(99.5m), Quantity.From(2)), (fill.LastPx, fill.LastQty));
        Assert.True(h.Venue.Counters.CaughtUpFills >= 1);
        Assert.Equal([OrderEventKind.Accepted, OrderEventKind.Filled], h.Sink.Kinds("q-1"));
    }

    [Fact]
    public async Task WrongCredentials_ArePermanentErrors()
    {
        await using var h = await Harness.StartAsync(o => o with { Secret = "wrong" }, connect: false);
        var outcome = await h.Venue.SubmitAsync(Order("a-1", "AAPL", OrderSide.Buy, OrderType.Market, 1));
        Assert.Equal(VenueOutcomeKind.PermanentError, outcome.Kind);
        var ex = await Assert.ThrowsAsync<VenueQueryException>(() => h.Venue.ConnectAsync(h.Sink));
        Assert.Equal(VenueOutcomeKind.PermanentError, ex.Outcome.Kind);
        Assert.DoesNotContain("wrong", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AlpacaExtras_ClockCalendarCancelAllAndClosePosition()
    {
        await using var h = await Harness.StartAsync();
        await h.PricesAsync("AAPL", "100");
        var clock = await h.Venue.GetClockAsync();
        Assert.True(clock.NextClose > clock.Now);
        var days = await h.Venue.GetCalendarAsync(new DateOnly(2026, 12, 7), new DateOnly(2026, 12, 13));
        Assert.Equal(5, days.Count);
        Assert.Equal((new DateOnly(2026, 12, 7), "09:30", "16:00"), (days[0].Date, days[0].Open, days[0].Close));

        await h.Venue.SubmitAsync(Order("x-1", "AAPL", OrderSide.Buy, OrderType.Limit, 1, limit: 90m));
        await h.Venue.SubmitAsync(Order("x-2", "AAPL", OrderSide.Buy, OrderType.Limit, 1, limit: 91m));
        Assert.Equal(2, (await h.Venue.CancelAllAsync()).Count);
        await h.Sink.WaitAsync(() => h.Sink.Kinds("x-2").Contains(OrderEventKind.Canceled), "the cancels");
        Assert.Empty(await h.Venue.GetOpenOrdersAsync());

        await h.Venue.SubmitAsync(Order("x-3", "AAPL", OrderSide.Buy, OrderType.Market, 4));
        await h.PricesAsync("AAPL", "100");
        await h.Sink.FillAsync("x-3");
        var close = await h.Venue.ClosePositionAsync(new InstrumentId("AAPL"));
        Assert.Equal(VenueOutcomeKind.Accepted, close.Kind);
        await h.PricesAsync("AAPL", "102");
        await EventuallyAsync(async () => (await h.Venue.GetPositionsAsync()).Count == 0 ? "flat" : null, "the position to close");
        Assert.Equal(VenueOutcomeKind.Rejected, (await h.Venue.ClosePositionAsync(new InstrumentId("AAPL"))).Kind);
    }

    [Fact]
    public async Task UnreadableReplies_AreTypedErrorsWithTheRequestId_NeverCrashes()
    {
        using var handler = new ScriptedHandler();
        await using var venue = new AlpacaTradingVenue(new AlpacaTradingOptions { Key = "k", Secret = "s", BaseUrl = new Uri("http://venue.invalid") }, handler);

        handler.Next = """{"id":"abc","client_order_id":"m-1","sta""";
        var truncated = await venue.SubmitAsync(Order("m-1", "AAPL", OrderSide.Buy, OrderType.Market, 1));
        Assert.Equal((VenueOutcomeKind.Unknown, "req-1"), (truncated.Kind, truncated.RequestId));

        handler.Next = """{"currency":"USD","cash":"lots","buying_power":"1","equity":"1"}""";
        var account = await Assert.ThrowsAsync<VenueQueryException>(() => venue.GetAccountAsync());
        Assert.Equal((VenueOutcomeKind.PermanentError, "req-2"), (account.Outcome.Kind, account.Outcome.RequestId));
        Assert.Contains("'cash' was 'lots'", account.Message, StringComparison.Ordinal);

        handler.Next = """{"id":"abc","client_order_id":"m-1","symbol":"AAPL","side":"buy","type":"market","time_in_force":"day","qty":"1","status":"teleported","created_at":"2026-12-07T15:00:00Z"}""";
        var status = await Assert.ThrowsAsync<VenueQueryException>(() => venue.GetOrderByVenueIdAsync(new VenueOrderId("abc")));
        Assert.Contains("'teleported'", status.Message, StringComparison.Ordinal);

        handler.Next = "[1,2,3]";
        await Assert.ThrowsAsync<VenueQueryException>(() => venue.GetPositionsAsync());
        Assert.Equal(4, venue.Counters.UnreadableReplies);
    }

    private static async Task<T> EventuallyAsync<T>(Func<Task<T?>> probe, string what)
        where T : class
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (await probe() is { } found)
            {
                return found;
            }

            Assert.True(clock.Elapsed < SandboxTesting.Timeout, $"timed out waiting for {what}");
            await Task.Delay(20);
        }
    }

    internal static SubmitOrder Order(
        string id, string symbol, OrderSide side, OrderType type, decimal qty, decimal? limit = null, decimal? stop = null,
        ContingencyType contingency = ContingencyType.None, string? parent = null, string[]? linked = null) =>
        new(new ClientOrderId(id), new InstrumentId(symbol), side, type, Quantity.From(qty),
            limit is { } l ? Price.From(l) : null, stop is { } s ? Price.From(s) : null, TimeInForce.Gtc, contingency,
            parent is null ? null : new ClientOrderId(parent), [.. (linked ?? []).Select(x => new ClientOrderId(x))], default);

    /// <summary>A sandbox, a control client for its switches and prices, and a connected adapter with a recording sink.</summary>
    private sealed class Harness : IAsyncDisposable
    {
        private Harness(SandboxServer server, AlpacaTradingVenue venue)
        {
            Server = server;
            Venue = venue;
            Control = SandboxTesting.Alpaca(server);
        }

        public SandboxServer Server { get; }

        public AlpacaTradingVenue Venue { get; }

        public HttpClient Control { get; }

        public RecordingSink Sink { get; } = new();

        public static async Task<Harness> StartAsync(Func<AlpacaTradingOptions, AlpacaTradingOptions>? tweak = null, bool connect = true)
        {
            var server = await SandboxServer.StartAsync(Options());
            var options = new AlpacaTradingOptions
            {
                Key = "sandbox-key",
                Secret = "sandbox-secret",
                BaseUrl = server.AlpacaRestBase,
                StreamUrl = new Uri(server.AlpacaStreamBase, "/stream"),
                RequestTimeout = TimeSpan.FromSeconds(5),
                QueryRetryDelay = TimeSpan.FromMilliseconds(50),
                ReconnectDelay = TimeSpan.FromMilliseconds(50),
                ReconnectMaxDelay = TimeSpan.FromMilliseconds(500),
                CatchUpInterval = TimeSpan.Zero,
            };
            var harness = new Harness(server, new AlpacaTradingVenue(tweak?.Invoke(options) ?? options));
            if (connect)
            {
                await harness.Venue.ConnectAsync(harness.Sink);
            }

            return harness;
        }

        public Task PricesAsync(string symbol, params string[] prices) => Trading.PricesAsync(Control, symbol, prices);

        public async Task FaultsAsync(string json)
        {
            var (status, body) = await Trading.PostAsync(Control, "/_sandbox/alpaca/faults", json);
            Assert.True(status == 200, $"setting faults answered {status}: {body}");
        }

        public async ValueTask DisposeAsync()
        {
            await Venue.DisposeAsync();
            Control.Dispose();
            await Server.DisposeAsync();
        }
    }

    /// <summary>Answers every request 200 with <see cref="Next"/> and a numbered X-Request-ID.</summary>
    private sealed class ScriptedHandler : HttpMessageHandler
    {
        private int _requests;

        public string Next { get; set; } = "{}";

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = new StringContent(Next) };
            response.Headers.Add("X-Request-ID", "req-" + Interlocked.Increment(ref _requests));
            return Task.FromResult(response);
        }
    }

    /// <summary>The Alpaca tests' view of <see cref="EventRecorder"/>: events by client id text.</summary>
    internal sealed class RecordingSink : EventRecorder
    {
        public List<OrderEvent> Events(string clientOrderId) => [.. All.Where(e => e.ClientOrderId.Value == clientOrderId)];

        public List<OrderEventKind> Kinds(string clientOrderId) => [.. Events(clientOrderId).Select(e => e.Kind)];

        public async Task<OrderFilled> FillAsync(string clientOrderId)
        {
            await WaitAsync(() => Events(clientOrderId).OfType<OrderFilled>().Any(), $"a fill of {clientOrderId}");
            return Events(clientOrderId).OfType<OrderFilled>().Single();
        }

        public Task WaitAsync(Func<bool> condition, string what) => Eventually(condition, what);
    }
}
