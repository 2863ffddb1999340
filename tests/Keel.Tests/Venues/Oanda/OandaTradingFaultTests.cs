using System.Diagnostics;
using System.Net;
using System.Text;
using Keel.Domain;
using Keel.Domain.Events;
using Keel.Domain.Orders;
using Keel.Engine.Ports;
using Keel.Venues.Oanda.Trading;
using static Keel.Tests.Venues.Oanda.OandaVenueHarness;

namespace Keel.Tests.Venues.Oanda;

/// <summary>One test per <c>/_sandbox/oanda/faults</c> switch, showing the adapter's documented behaviour.</summary>
public class OandaTradingFaultTests
{
    [Fact]
    public async Task LostResponse_IsUnknown_AndAClientIdScanFindsTheFilledOrder()
    {
        await using var h = await StartAsync();
        await h.Client.FaultsAsync("""{"lose_order_response_next":1}""");
        var id = NewId("lost");
        var outcome = await h.Venue.SubmitAsync(Order(id, OrderSide.Buy, OrderType.Market, 10));
        Assert.Equal(VenueOutcomeKind.Unknown, outcome.Kind);
        Assert.Equal(1, h.Venue.Stats.UnknownOutcomes);

        var found = await h.Venue.FindByClientIdAsync(id);
        Assert.NotNull(found);
        Assert.Equal(OrderStatus.Filled, found.Status);
        Assert.Equal(Price.Parse("1.10010"), found.AveragePrice);
        Assert.Equal(OrderStatus.Filled, (await h.Venue.GetOrderAsync(id))!.Status);

        // The stream reports it exactly once.
        await h.Sink.WaitForAsync(id, OrderEventKind.Filled);
        Assert.Equal([OrderEventKind.Accepted, OrderEventKind.Filled], h.Sink.For(id).Select(e => e.Kind));
    }

    [Fact]
    public async Task ServerError_IsUnknown_NeverRejected()
    {
        await using var h = await StartAsync();
        await h.Client.FaultsAsync("""{"order_error_next":1}""");
        var id = NewId("5xx");
        var outcome = await h.Venue.SubmitAsync(Order(id, OrderSide.Buy, OrderType.Market, 10));
        Assert.Equal(VenueOutcomeKind.Unknown, outcome.Kind);
        Assert.Contains("503", outcome.Reason, StringComparison.Ordinal);
        Assert.NotNull(outcome.RequestId);

        // Resolved by a scan: this 503 placed nothing, so the order may be sent again.
        Assert.Null(await h.Venue.FindByClientIdAsync(id));
        Assert.True((await h.Venue.SubmitAsync(Order(id, OrderSide.Buy, OrderType.Market, 10))).IsAccepted);
    }

    [Fact]
    public async Task SlowResponse_PastTheTimeout_IsUnknown_AndTheOrderIsFoundByItsClientId()
    {
        await using var h = await StartAsync(o => o with { RequestTimeout = TimeSpan.FromMilliseconds(400) });
        await h.Client.FaultsAsync("""{"slow_next":1,"slow_ms":3000}""");
        var id = NewId("slow");
        var outcome = await h.Venue.SubmitAsync(Order(id, OrderSide.Buy, OrderType.Limit, 10, limit: "1.09000"));
        Assert.Equal(VenueOutcomeKind.Unknown, outcome.Kind);
        Assert.Contains("no answer within", outcome.Reason, StringComparison.Ordinal);
        var order = await h.Venue.GetOrderAsync(id);
        Assert.Equal(OrderStatus.Accepted, order!.Status);
    }

    [Fact]
    public async Task ACallerGivingUpWhileTheOrderIsInFlight_GetsUnknown_NotAnException_AndTheOrderIsFound()
    {
        await using var h = await StartAsync();
        await h.Client.FaultsAsync("""{"slow_next":1,"slow_ms":3000}""");
        var id = NewId("gave-up");
        using var giveUp = new CancellationTokenSource(TimeSpan.FromMilliseconds(400));
        var outcome = await h.Venue.SubmitAsync(Order(id, OrderSide.Buy, OrderType.Limit, 10, limit: "1.09000"), giveUp.Token);
        Assert.Equal(VenueOutcomeKind.Unknown, outcome.Kind);
        Assert.Contains("cancelled by the caller", outcome.Reason, StringComparison.Ordinal);
        Assert.Equal(OrderStatus.Accepted, (await h.Venue.GetOrderAsync(id))!.Status);

        // A token already cancelled sends nothing, so that is an exception, not an unknown outcome.
        var never = NewId("never");
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => h.Venue.SubmitAsync(Order(never, OrderSide.Buy, OrderType.Limit, 10, limit: "1.09000"), giveUp.Token));
        Assert.Null(await h.Venue.GetOrderAsync(never));
    }

    [Fact]
    public async Task RateLimit_WaitsRetryAfter_ThenSucceeds()
    {
        await using var h = await StartAsync();
        await h.Client.FaultsAsync("""{"rate_limit_next":1,"retry_after_s":1}""");
        var watch = Stopwatch.StartNew();
        var outcome = await h.Venue.SubmitAsync(Order(NewId("429"), OrderSide.Buy, OrderType.Market, 10));
        Assert.True(outcome.IsAccepted, outcome.Reason);
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(900), $"answered after {watch.Elapsed}; Retry-After asked 1 s");
        Assert.Equal(1, h.Venue.Stats.RateLimited);
    }

    [Fact]
    public async Task RateLimit_Persisting_IsRateLimited_WithRetryAfter_AndNothingPlaced()
    {
        await using var h = await StartAsync(o => o with { RateLimitAttempts = 2 });
        await h.Client.FaultsAsync("""{"rate_limit_next":2,"retry_after_s":1}""");
        var id = NewId("429");
        var outcome = await h.Venue.SubmitAsync(Order(id, OrderSide.Buy, OrderType.Market, 10));
        Assert.Equal(VenueOutcomeKind.RateLimited, outcome.Kind);
        Assert.Equal(TimeSpan.FromSeconds(1), outcome.RetryAfter);
        Assert.Null(await h.Venue.FindByClientIdAsync(id));
    }

    [Fact]
    public async Task DroppedStream_Reconnects_AndCatchesUp_NothingLostOrDoubled()
    {
        await using var h = await StartAsync();
        var ids = new List<ClientOrderId>();
        for (int i = 0; i < 3; i++)
        {
            await h.Client.FaultsAsync("""{"drop_streams":true}""");
            var id = NewId("drop");
            ids.Add(id);
            Assert.True((await h.Venue.SubmitAsync(Order(id, OrderSide.Buy, OrderType.Market, 10))).IsAccepted);
        }

        await h.Sink.WaitAsync(e => ids.All(id => e.Any(x => x.ClientOrderId == id && x.Kind == OrderEventKind.Filled)), "every fill");
        Assert.True(h.Venue.Stats.Reconnects >= 1);
        await AssertEachOnceAsync(h, ids);
    }

    [Fact]
    public async Task MissingHeartbeats_ReplaceTheStream_AndCatchUpFromRest()
    {
        await using var h = await StartAsync(o => o with { HeartbeatTimeout = TimeSpan.FromMilliseconds(600) });
        await h.Client.FaultsAsync("""{"stream_silence":"nothing"}""");
        var id = NewId("quiet");
        Assert.True((await h.Venue.SubmitAsync(Order(id, OrderSide.Buy, OrderType.Market, 10))).IsAccepted);
        await h.Sink.WaitForAsync(id, OrderEventKind.Filled);
        Assert.True(h.Venue.Stats.StaleStreams >= 1);
        Assert.True(h.Venue.Stats.CaughtUpTransactions >= 2);
        await h.Client.FaultsAsync("""{"stream_silence":"off"}""");
        await AssertEachOnceAsync(h, [id]);
    }

    [Fact]
    public async Task HeartbeatsOnly_TheHeartbeatsLastTransactionId_TriggersACatchUp()
    {
        await using var h = await StartAsync(o => o with { HeartbeatTimeout = TimeSpan.FromMinutes(1) });
        await h.Client.FaultsAsync("""{"stream_silence":"heartbeats"}""");
        var id = NewId("hb");
        Assert.True((await h.Venue.SubmitAsync(Order(id, OrderSide.Buy, OrderType.Market, 10))).IsAccepted);
        await h.Sink.WaitForAsync(id, OrderEventKind.Filled);
        Assert.Equal(0, h.Venue.Stats.StaleStreams);
        Assert.Equal(0, h.Venue.Stats.Reconnects);
        await h.Client.FaultsAsync("""{"stream_silence":"off"}""");
        await AssertEachOnceAsync(h, [id]);
    }

    [Fact]
    public async Task DuplicateAndOutOfOrderStreamEvents_EachFillAppliedOnce_InOrder()
    {
        await using var h = await StartAsync();
        await h.Client.FaultsAsync("""{"stream_duplicate_next":2,"stream_out_of_order_next":1}""");
        var ids = new List<ClientOrderId>();
        for (int i = 0; i < 3; i++)
        {
            var id = NewId("dup");
            ids.Add(id);
            Assert.True((await h.Venue.SubmitAsync(Order(id, OrderSide.Buy, OrderType.Market, 10))).IsAccepted);
        }

        await h.Sink.WaitAsync(e => ids.All(id => e.Any(x => x.ClientOrderId == id && x.Kind == OrderEventKind.Filled)), "every fill");
        await AssertEachOnceAsync(h, ids);
        Assert.True(h.Venue.Stats.Duplicates >= 2, $"duplicates seen: {h.Venue.Stats.Duplicates}");
    }

    [Fact]
    public async Task SilentStream_IsCaughtUpFromRest_ByThePoll()
    {
        await using var h = await StartAsync(o => o with { HeartbeatTimeout = TimeSpan.FromMinutes(1), CatchUpInterval = TimeSpan.FromMilliseconds(300) });
        await h.Client.FaultsAsync("""{"stream_silence":"nothing"}""");
        var id = NewId("poll");
        Assert.True((await h.Venue.SubmitAsync(Order(id, OrderSide.Buy, OrderType.Market, 10))).IsAccepted);
        await h.Sink.WaitForAsync(id, OrderEventKind.Filled);
        Assert.Equal(0, h.Venue.Stats.StaleStreams);
        Assert.Equal(0, h.Venue.Stats.Reconnects);
        Assert.True(h.Venue.Stats.CaughtUpTransactions >= 2);
        await h.Client.FaultsAsync("""{"stream_silence":"off"}""");
        await AssertEachOnceAsync(h, [id]);
    }

    [Fact]
    public async Task Unauthorized_IsAPermanentError_ForOrdersQueriesAndTheStream()
    {
        await using var h = await StartAsync(o => o with { Token = "wrong-token" }, connect: false);
        var outcome = await h.Venue.SubmitAsync(Order(NewId("auth"), OrderSide.Buy, OrderType.Market, 10));
        Assert.Equal(VenueOutcomeKind.PermanentError, outcome.Kind);
        Assert.DoesNotContain("wrong-token", outcome.Reason, StringComparison.Ordinal);
        var query = await Assert.ThrowsAsync<VenueQueryException>(() => h.Venue.GetAccountAsync());
        Assert.Equal(VenueOutcomeKind.PermanentError, query.Outcome.Kind);
        var connect = await Assert.ThrowsAsync<VenueQueryException>(() => h.Venue.ConnectAsync(h.Sink, new VenueWatermark("0")));
        Assert.Equal(VenueOutcomeKind.PermanentError, connect.Outcome.Kind);
    }

    /// <summary>After a marker order's fill (the stream is applied in order), every order had exactly accepted then filled, and queries agree.</summary>
    private static async Task AssertEachOnceAsync(OandaVenueHarness h, IReadOnlyList<ClientOrderId> ids)
    {
        var marker = NewId("marker");
        Assert.True((await h.Venue.SubmitAsync(Order(marker, OrderSide.Buy, OrderType.Market, 1))).IsAccepted);
        await h.Sink.WaitForAsync(marker, OrderEventKind.Filled);
        foreach (var id in ids)
        {
            Assert.Equal([OrderEventKind.Accepted, OrderEventKind.Filled], h.Sink.For(id).Select(e => e.Kind));
        }

        var fills = (await h.Venue.GetFillsSinceAsync(null)).Fills;
        var streamed = h.Sink.Events.OfType<OrderFilled>().ToList();
        Assert.Equal(fills.Select(f => f.ExecutionId), streamed.Select(f => f.TradeId));
        Assert.Equal(streamed.Count, streamed.Select(f => f.TradeId).Distinct().Count());
    }
}

/// <summary>The adapter's handling of replies and stream bytes the sandbox never sends: split lines, garbage, unknown types.</summary>
public class OandaWireTests
{
    [Fact]
    public void Lines_SplitMidLine_AreJoined_AndBlankLinesDropped()
    {
        var lines = new NdjsonLines();
        var seen = new List<string>();
        void Push(string s) => lines.Push(Encoding.UTF8.GetBytes(s), l => seen.Add(Encoding.UTF8.GetString(l.Span)));
        Push("{\"type\":\"HEART");
        Assert.Empty(seen);
        Push("BEAT\"}\r\n\n{\"a\":1}\n{\"b\"");
        Assert.Equal(["{\"type\":\"HEARTBEAT\"}", "{\"a\":1}"], seen);
        Push(":2}\n");
        Assert.Equal("{\"b\":2}", seen[^1]);
        Assert.Equal(0, lines.Pending);
    }

    [Theory]
    [InlineData("""{"id":"7","type":"ORDER_FILL","time":"2024-01-02T14:30:00.000000000Z","orderID":"6","instrument":"EUR_USD"}""", "lacks")]
    [InlineData("""{"id":"x","type":"ORDER_FILL"}""", "numeric 'id'")]
    [InlineData("""{"id":"7","type":"ORDER_FILL","time":"yesterday"}""", "'time'")]
    [InlineData("""{"id":"7","type":"ORDER_FILL","time":"2024-01-02T14:30:00Z","orderID":"6","instrument":"EUR_USD","units":"ten","price":"1.1"}""", "not a number")]
    public void MalformedTransactions_SayWhatIsWrong(string json, string expected)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        Assert.False(OandaTransaction.TryParse(doc.RootElement, out var tx, out var problem, out bool unknown));
        Assert.Null(tx);
        Assert.False(unknown);
        Assert.Contains(expected, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownTransactionType_IsFlagged_WithItsId()
    {
        using var doc = System.Text.Json.JsonDocument.Parse("""{"id":"9","type":"SOMETHING_NEW","time":"2024-01-02T14:30:00Z"}""");
        Assert.False(OandaTransaction.TryParse(doc.RootElement, out var tx, out _, out bool unknown));
        Assert.True(unknown);
        Assert.Equal(9, tx!.Id);
    }

    [Fact]
    public async Task TruncatedCreatedReply_IsUnknown_CountedAndNeverACrash()
    {
        using var handler = new CannedHandler(HttpStatusCode.Created, """{"orderCreateTransaction":{"id":"5","type":"MARKET_OR""");
        await using var venue = new OandaTradingVenue(new OandaTradingOptions { Token = "t", Account = "101-001-1-001", RestUrl = new Uri("http://oanda.test") }, handler);
        var outcome = await venue.SubmitAsync(OandaVenueHarness.Order(new ClientOrderId("c-1"), OrderSide.Buy, OrderType.Market, 1));
        Assert.Equal(VenueOutcomeKind.Unknown, outcome.Kind);
        Assert.Equal("req-42", outcome.RequestId);
        Assert.Equal(1, venue.Stats.Malformed);
    }

    [Fact]
    public async Task LatestQuote_IsTheBestBidAndAsk_OrNoneWhenOandaListsNoPrice()
    {
        using var handler = new CannedHandler(HttpStatusCode.OK, """{"prices":[{"instrument":"EUR_USD","time":"2024-01-02T14:30:00Z","bids":[{"price":"1.10010","liquidity":1000000}],"asks":[]}],"time":"2024-01-02T14:30:01Z"}""");
        await using var venue = new OandaTradingVenue(new OandaTradingOptions { Token = "t", Account = "101-001-1-001", RestUrl = new Uri("http://oanda.test") }, handler);
        var quote = await venue.LatestQuoteAsync("EUR_USD");
        Assert.NotNull(quote);
        Assert.Equal((1.10010m, (decimal?)null), (quote.Bid, quote.Ask));
        Assert.Null(await venue.LatestQuoteAsync("USD_JPY"));
    }

    [Fact]
    public async Task UnknownOrderState_InAQuery_IsATypedError_WithTheRequestId()
    {
        using var handler = new CannedHandler(HttpStatusCode.OK, """{"orders":[{"id":"5","type":"LIMIT","instrument":"EUR_USD","units":"1","price":"1.1","state":"HALF_DONE","createTime":"2024-01-02T14:30:00Z"}]}""");
        await using var venue = new OandaTradingVenue(new OandaTradingOptions { Token = "t", Account = "101-001-1-001", RestUrl = new Uri("http://oanda.test") }, handler);
        var ex = await Assert.ThrowsAsync<VenueQueryException>(() => venue.GetOpenOrdersAsync());
        Assert.Equal(VenueOutcomeKind.PermanentError, ex.Outcome.Kind);
        Assert.Equal("req-42", ex.Outcome.RequestId);
        Assert.Contains("HALF_DONE", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, venue.Stats.Malformed);
    }

    [Fact]
    public async Task Bracket_ExitForPartOfTheEntry_CannotBeExpressed()
    {
        var entry = new ClientOrderId("e");
        var (_, _, problem) = OandaTradingVenue.Bracket(
        [
            OandaVenueHarness.Order(entry, OrderSide.Buy, OrderType.Market, 10),
            OandaVenueHarness.Order(new ClientOrderId("tp"), OrderSide.Sell, OrderType.Limit, 5, limit: "1.2", parent: entry),
        ]);
        Assert.Contains("whole entry", problem, StringComparison.Ordinal);
        await Task.CompletedTask;
    }

    private sealed class CannedHandler(HttpStatusCode status, string body) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            response.Headers.Add("RequestID", "req-42");
            return Task.FromResult(response);
        }
    }
}
