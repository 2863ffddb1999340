using Keel.Data;
using Keel.Domain;
using Keel.Engine.Data.Live;
using Keel.Engine.Ports;
using Keel.Sandbox;
using Keel.Tests.Support;
using Keel.Venues.Feeds;

namespace Keel.Tests.Venues;

/// <summary>
/// Both stream clients against Keel's protocol-faithful sandbox: a normal session, forced disconnects with reconnect
/// and resubscribe, malformed messages, an auth failure, the circuit breaker and staleness.
/// </summary>
public sealed class FeedSandboxTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("alpaca")]
    [InlineData("oanda")]
    public async Task ANormalSessionDeliversEveryReplayedTickAndTheCandlesEqualTheFile(string venue)
    {
        var file = SandboxFeeds.SampleFile(_dir.Path, 60);
        var symbol = SandboxFeeds.Symbol(venue);
        var options = new SandboxOptions { Speed = double.PositiveInfinity, HeartbeatInterval = TimeSpan.FromMilliseconds(100) };
        options.Series.Add(new SandboxSeries(symbol, file));
        await using var sandbox = await SandboxServer.StartAsync(options);
        await using var feed = SandboxFeeds.Create(venue, sandbox, SandboxFeeds.Fast());
        var sink = new CollectingSink();
        using var stop = new CancellationTokenSource();
        var run = feed.RunAsync([symbol], sink, stop.Token);

        await sink.Until(s => s.TickCount >= 240, Wait, "4 ticks per replayed bar");
        await stop.CancelAsync();
        await run; // a cancelled feed returns normally

        Assert.Equal(240, sink.TickCount);
        Assert.Equal(FeedState.Stopped, feed.Health.State);
        Assert.Equal([FeedEventKind.Connected, FeedEventKind.Authenticated, FeedEventKind.Subscribed], sink.Events.Select(e => e.Kind).Take(3));
        Assert.Equal(0, feed.Health.Malformed);

        // Aggregated back into 5-minute candles, the ticks give the file's bars exactly.
        var candles = new List<Bar>();
        var aggregator = new CandleAggregator(Timeframe.FromSeconds(300), venue == "alpaca" ? CandleSource.Trades : CandleSource.Quotes, new ListSink(candles), maxGapFill: 0);
        foreach (var t in sink.Ticks)
        {
            aggregator.OnTick(t);
        }

        aggregator.CompleteAll();
        using var reader = CsvBarReader.Open(file, new InstrumentId(symbol));
        var expected = new List<Bar>();
        while (reader.TryRead(out var bar))
        {
            expected.Add(bar);
        }

        Assert.Equal(expected.Count, candles.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal((expected[i].Time, expected[i].Open, expected[i].High, expected[i].Low, expected[i].Close), (candles[i].Time, candles[i].Open, candles[i].High, candles[i].Low, candles[i].Close));
            if (venue == "alpaca")
            {
                Assert.Equal(expected[i].Volume, candles[i].Volume);
            }
        }
    }

    [Theory]
    [InlineData("alpaca")]
    [InlineData("oanda")]
    public async Task AForcedDisconnectReconnectsAndResubscribes(string venue)
    {
        var symbol = SandboxFeeds.Symbol(venue);
        await using var sandbox = await SandboxServer.StartAsync(new SandboxOptions { Generator = new SandboxGenerator([symbol], 400), HeartbeatInterval = TimeSpan.FromMilliseconds(100) });
        await using var feed = SandboxFeeds.Create(venue, sandbox, SandboxFeeds.Fast());
        var sink = new CollectingSink();
        using var stop = new CancellationTokenSource();
        var run = feed.RunAsync([symbol], sink, stop.Token);
        await sink.Until(s => s.TickCount >= 20, Wait, "ticks before the drop");

        sandbox.Faults.DropConnections();
        await sink.Until(s => s.Count(FeedEventKind.Recovered) == 1, Wait, "a reconnect");
        int atRecovery = sink.TickCount;
        await sink.Until(s => s.TickCount >= atRecovery + 20, Wait, "ticks after the reconnect");
        await stop.CancelAsync();
        await run;

        var kinds = sink.Events.Select(e => e.Kind).ToList();
        int disconnected = kinds.IndexOf(FeedEventKind.Disconnected);
        Assert.True(disconnected > 0, string.Join(",", kinds));
        Assert.Equal(
            [FeedEventKind.Disconnected, FeedEventKind.Reconnecting, FeedEventKind.Connected, FeedEventKind.Authenticated, FeedEventKind.Subscribed, FeedEventKind.Recovered],
            kinds.Skip(disconnected).Take(6));
        Assert.Equal(1, feed.Health.Reconnects);
        var stats = venue == "alpaca" ? sandbox.Stats.Alpaca : sandbox.Stats.Oanda;
        Assert.Equal(2, stats.ConnectionsAccepted);

        // Venue times never go backwards across the reconnect, except the one price OANDA's snapshot repeats.
        var times = sink.Ticks.Select(t => t.Time.UnixNanos).ToList();
        Assert.True(times.Zip(times.Skip(1)).All(p => p.Second >= p.First), "ticks went back in time");
    }

    [Theory]
    [InlineData("alpaca")]
    [InlineData("oanda")]
    public async Task MalformedMessagesAreCountedAndSkippedWithoutDroppingTheConnection(string venue)
    {
        var symbol = SandboxFeeds.Symbol(venue);
        await using var sandbox = await SandboxServer.StartAsync(new SandboxOptions { Generator = new SandboxGenerator([symbol], 400), HeartbeatInterval = TimeSpan.FromMilliseconds(100) });
        await using var feed = SandboxFeeds.Create(venue, sandbox, SandboxFeeds.Fast());
        var sink = new CollectingSink();
        using var stop = new CancellationTokenSource();
        var run = feed.RunAsync([symbol], sink, stop.Token);
        await sink.Until(s => s.TickCount >= 10, Wait, "ticks before the bad messages");

        sandbox.Faults.SendMalformed(5);
        await sink.Until(s => s.Count(FeedEventKind.Malformed) >= 5, Wait, "five malformed messages reported");
        int after = sink.TickCount;
        await sink.Until(s => s.TickCount >= after + 20, Wait, "good data after the bad");
        await stop.CancelAsync();
        await run;

        Assert.Equal(5, feed.Health.Malformed);
        Assert.Equal(0, sink.Count(FeedEventKind.Disconnected));
        Assert.Equal(0, feed.Health.Reconnects);
    }

    [Theory]
    [InlineData("alpaca")]
    [InlineData("oanda")]
    public async Task AnAuthFailureStopsAtOnceWithAClearMessageAndNoRetries(string venue)
    {
        var symbol = SandboxFeeds.Symbol(venue);
        await using var sandbox = await SandboxServer.StartAsync(new SandboxOptions { Generator = new SandboxGenerator([symbol], 100) });
        sandbox.Faults.RejectAuth = true;
        await using var feed = SandboxFeeds.Create(venue, sandbox, SandboxFeeds.Fast(), key: "wrong-secret-value");
        var sink = new CollectingSink();

        var error = await Assert.ThrowsAsync<FeedFailedException>(() => feed.RunAsync([symbol], sink, CancellationToken.None).WaitAsync(Wait));

        Assert.Contains("authentication failed", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-secret-value", error.Message, StringComparison.Ordinal);
        Assert.Equal(FeedState.Failed, feed.Health.State);
        Assert.Equal(1, sink.Count(FeedEventKind.AuthFailed));
        Assert.Equal(0, sink.Count(FeedEventKind.Reconnecting));
        Assert.Equal(1, (venue == "alpaca" ? sandbox.Stats.Alpaca : sandbox.Stats.Oanda).AuthFailures);
    }

    [Fact]
    public async Task TheCircuitBreakerOpensAfterTenConsecutiveRefusals_Alpaca406()
    {
        await using var sandbox = await SandboxServer.StartAsync(new SandboxOptions { Generator = new SandboxGenerator(["AAPL"], 100) });
        sandbox.Faults.ConnectionLimit = true;
        await using var feed = SandboxFeeds.Create("alpaca", sandbox, SandboxFeeds.Fast());
        var sink = new CollectingSink();

        var error = await Assert.ThrowsAsync<FeedFailedException>(() => feed.RunAsync(["AAPL"], sink, CancellationToken.None).WaitAsync(Wait));

        Assert.Equal(FeedState.CircuitOpen, error.State);
        Assert.Contains("circuit breaker open after 10", error.Message, StringComparison.Ordinal);
        Assert.Contains("406", error.Message, StringComparison.Ordinal);
        Assert.Equal(10, sandbox.Stats.Alpaca.ConnectionsAccepted);
        Assert.Equal(9, sink.Count(FeedEventKind.Reconnecting));
        Assert.Equal(FeedState.CircuitOpen, feed.Health.State);
    }

    [Theory]
    [InlineData("alpaca")]
    [InlineData("oanda")]
    public async Task TheCircuitBreakerOpensAfterTenConsecutiveRefusals_ServerGoneAfterAnEstablishedSession(string venue)
    {
        var symbol = SandboxFeeds.Symbol(venue);
        var sandbox = await SandboxServer.StartAsync(new SandboxOptions { Generator = new SandboxGenerator([symbol], 100), HeartbeatInterval = TimeSpan.FromMilliseconds(100) });
        StreamingFeed feed;
        try
        {
            feed = SandboxFeeds.Create(venue, sandbox, SandboxFeeds.Fast());
        }
        catch
        {
            await sandbox.DisposeAsync();
            throw;
        }

        await using (feed)
        {
            var sink = new CollectingSink();
            var run = feed.RunAsync([symbol], sink, CancellationToken.None);
            await sink.Until(s => s.Count(FeedEventKind.Subscribed) == 1, Wait, "the first session to subscribe");

            // The server goes away: the established session reconnects, every attempt is refused, and the breaker opens.
            await sandbox.DisposeAsync();
            var error = await Assert.ThrowsAsync<FeedFailedException>(() => run.WaitAsync(Wait));

            Assert.Equal(FeedState.CircuitOpen, error.State);
            Assert.Contains("circuit breaker open after 10", error.Message, StringComparison.Ordinal);
            Assert.Equal(10, sink.Count(FeedEventKind.Disconnected));
            Assert.Equal(9, sink.Count(FeedEventKind.Reconnecting));
            Assert.Equal(1, sink.Count(FeedEventKind.Connected));
        }
    }

    [Theory]
    [InlineData("alpaca", "ws://127.0.0.1:1/v2/iex")]
    [InlineData("oanda", "http://127.0.0.1:1/")]
    public async Task AFirstConnectionThatIsRefusedFailsAtOnceWithASentence_NoRetries(string venue, string url)
    {
        var uri = new Uri(url);
        await using StreamingFeed feed = venue == "alpaca"
            ? new Keel.Venues.Alpaca.AlpacaDataFeed(new Keel.Venues.Alpaca.AlpacaOptions { Key = "k", Secret = "secret-value-1", StreamUrl = uri, RestUrl = uri }, new ReconnectPolicy())
            : new Keel.Venues.Oanda.OandaPricingFeed(new Keel.Venues.Oanda.OandaOptions { Token = "secret-value-1", Account = "101-001-0000001-001", StreamUrl = uri, RestUrl = uri }, new ReconnectPolicy());
        var sink = new CollectingSink();
        var clock = System.Diagnostics.Stopwatch.StartNew();

        // The default policy would back off for minutes before giving up; a first connection must fail at once.
        var error = await Assert.ThrowsAsync<FeedFailedException>(() => feed.RunAsync([SandboxFeeds.Symbol(venue)], sink, CancellationToken.None).WaitAsync(Wait));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"failing took {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.Equal(FeedState.Failed, error.State);
        Assert.Equal($"{venue}: could not connect to {uri}: connection refused", error.Message);
        Assert.DoesNotContain("secret-value-1", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, sink.Count(FeedEventKind.Reconnecting));
        Assert.Equal(FeedState.Failed, feed.Health.State);
    }

    [Fact]
    public async Task AFirstConnectionAnswered404FailsAtOnceNamingTheStatus_Alpaca()
    {
        await using var sandbox = await SandboxServer.StartAsync(new SandboxOptions { Generator = new SandboxGenerator(["AAPL"], 100) });
        var wrong = new Uri(sandbox.AlpacaStreamBase, "/v2/no-such-feed");
        await using var feed = new Keel.Venues.Alpaca.AlpacaDataFeed(
            new Keel.Venues.Alpaca.AlpacaOptions { Key = "sandbox-key", Secret = "sandbox-secret", StreamUrl = wrong, RestUrl = sandbox.AlpacaRestBase },
            new ReconnectPolicy());
        var sink = new CollectingSink();

        var error = await Assert.ThrowsAsync<FeedFailedException>(() => feed.RunAsync(["AAPL"], sink, CancellationToken.None).WaitAsync(Wait));

        Assert.Equal(FeedState.Failed, error.State);
        Assert.Equal($"alpaca: could not connect to {wrong}: the server answered HTTP 404 (NotFound) instead of opening a WebSocket", error.Message);
        Assert.Equal(0, sink.Count(FeedEventKind.Reconnecting));
    }

    [Theory]
    [InlineData("alpaca")]
    [InlineData("oanda")]
    public async Task AStalledStreamIsDetectedWithinTwoHeartbeatsAndReplaced(string venue)
    {
        var symbol = SandboxFeeds.Symbol(venue);
        var heartbeat = TimeSpan.FromMilliseconds(250);
        var stall = TimeSpan.FromSeconds(8);
        await using var sandbox = await SandboxServer.StartAsync(new SandboxOptions { Generator = new SandboxGenerator([symbol], 200), HeartbeatInterval = heartbeat });
        await using var feed = SandboxFeeds.Create(venue, sandbox, SandboxFeeds.Fast(stale: 2 * heartbeat));
        var sink = new CollectingSink();
        using var stop = new CancellationTokenSource();
        var run = feed.RunAsync([symbol], sink, stop.Token);

        // A cold first connection may itself be slower than the window and be replaced; count from a flowing stream.
        await sink.Until(s => s.Count(FeedEventKind.Subscribed) >= 1 && s.TickCount >= 10, Wait, "ticks before the stall");
        int before = sink.TickCount, staleBefore = sink.Count(FeedEventKind.Stale), recoveredBefore = sink.Count(FeedEventKind.Recovered);
        sandbox.Faults.Stall(stall);
        await sink.Until(s => s.Count(FeedEventKind.Stale) > staleBefore, Wait, "the stall to be noticed");
        bool stillStalled = sandbox.Faults.StalledUntil is not null;
        sandbox.Faults.Reset();
        await sink.Until(s => s.Count(FeedEventKind.Recovered) > recoveredBefore && s.TickCount >= before + 20, Wait, "ticks again after the stall");
        await stop.CancelAsync();
        await run;

        // The watchdog, not the end of the stall, noticed it: the server was still silent. It never fires before the
        // window (two heartbeats) has passed since the last message; how long after depends on scheduling, so the upper
        // bound here is the stall itself (the watchdog's own bound, window + window/20, is checked on a manual clock in
        // WatchdogTests).
        var silence = sink.SilenceBefore(FeedEventKind.Stale)!.Value;
        Assert.True(stillStalled, $"stale noticed only after the {stall.TotalSeconds} s stall ended ({silence.TotalMilliseconds:0} ms after the last tick)");
        Assert.True(silence >= (2 * heartbeat) - TimeSpan.FromMilliseconds(20), $"stale declared too early: {silence.TotalMilliseconds:0} ms after the last tick");
        Assert.Contains(sink.Events, e => e.Kind == FeedEventKind.Disconnected && e.Message.StartsWith("stale", StringComparison.Ordinal));
    }

    private sealed class ListSink(List<Bar> bars) : ICandleSink
    {
        public void OnCandle(in Candle candle) => bars.Add(candle.Bar);
    }
}
