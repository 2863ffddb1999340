using Keel.Data;
using Keel.Domain;
using Keel.Engine.Data.Live;
using Keel.Engine.Ports;
using Keel.Sandbox;
using Keel.Storage;
using Keel.Tests.Support;
using Keel.Venues.Alpaca;
using Keel.Venues.Oanda;
using Keel.Venues.Recording;

namespace Keel.Tests.Venues;

/// <summary>The recorder across a reconnect, and historical downloads, against the sandbox and a real SQLite store.</summary>
public sealed class RecorderTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("alpaca")]
    [InlineData("oanda")]
    public async Task AReconnectNeitherDuplicatesNorSilentlyLosesCandles(string venue)
    {
        var file = Path.Combine(TestPaths.RepoRoot, "samples", "data", "2006-min-005.txt");
        var symbol = SandboxFeeds.Symbol(venue);
        var bars = new List<Bar>();
        using (var reader = CsvBarReader.Open(file, new InstrumentId(symbol)))
        {
            while (reader.TryRead(out var bar))
            {
                bars.Add(bar);
            }
        }

        // 2,142 five-minute bars paced at 300,000× (about 1 ms a bar), so a drop lands mid-replay.
        var options = new SandboxOptions { Speed = 300_000, HeartbeatInterval = TimeSpan.FromMilliseconds(100) };
        options.Series.Add(new SandboxSeries(symbol, file));
        await using var sandbox = await SandboxServer.StartAsync(options);
        await using var feed = SandboxFeeds.Create(venue, sandbox, SandboxFeeds.Fast());
        using var store = KeelStore.Open(_dir.File("keel.db"));
        var writer = new Keel.Runtime.Wiring.StoreCandleWriter(store, TimeProvider.System);
        var tf = Timeframe.FromSeconds(300);
        var completed = new List<Candle>();
        var recorder = new LiveRecorder(feed, [symbol], new RecorderOptions { Timeframe = tf, Source = venue == "alpaca" ? CandleSource.Trades : CandleSource.Quotes }, writer)
        {
            CandleCompleted = c =>
            {
                lock (completed)
                {
                    completed.Add(c);
                }
            },
        };
        using var stop = new CancellationTokenSource();
        var run = recorder.RunAsync(stop.Token);

        await Until(() => recorder.Health.Feed.Ticks > 2_000, "ticks before the drop");
        sandbox.Faults.DropConnections();
        await Until(() => recorder.Health.Feed.Reconnects == 1 && recorder.Health.Feed.State == FeedState.Subscribed, "the reconnect");
        await sandbox.ReplayCompleted.WaitAsync(Wait);
        await Until(
            () =>
            {
                lock (completed)
                {
                    return completed.Any(c => c.Bar.Time == bars[^2].Time);
                }
            },
            "the second-to-last candle (completed by the last bar's first tick)");
        long seen = -1;
        await Until(
            () =>
            {
                long now = recorder.Health.Feed.Ticks;
                bool quiet = now == Interlocked.Exchange(ref seen, now);
                return quiet;
            },
            "the stream to go quiet",
            TimeSpan.FromMilliseconds(250));
        await stop.CancelAsync();
        var health = await run.WaitAsync(Wait);

        // Nothing doubled: one row per interval, each generated candle persisted once.
        Assert.Equal(health.CandlesGenerated, health.CandlesPersisted);
        var stored = new List<Bar>();
        using (var reader = store.ReadCandles(new InstrumentId(symbol), symbol, tf.Name))
        {
            while (reader.TryRead(out var bar))
            {
                stored.Add(bar);
            }
        }

        Assert.Equal(completed.Count, stored.Count);
        Assert.Equal(stored.Count, stored.Select(b => b.Time).Distinct().Count());

        // Nothing lost silently: the disconnection is a recorded gap, and every candle outside it equals the file.
        var gaps = store.Gaps(symbol, tf.Name).Where(g => g.Reason.StartsWith("disconnected", StringComparison.Ordinal)).ToList();
        var gap = Assert.Single(gaps);
        Assert.True(gap.From < gap.To, $"{gap.From} → {gap.To}");
        var byTime = stored.ToDictionary(b => b.Time);
        int compared = 0;
        foreach (var bar in bars)
        {
            bool touched = bar.Time.UnixNanos + tf.Nanos > gap.From.UnixNanos && bar.Time <= gap.To;
            if (touched)
            {
                continue;
            }

            Assert.True(byTime.TryGetValue(bar.Time, out var candle), $"candle {bar.Time} is missing but not inside the recorded gap {gap.From} → {gap.To}");
            Assert.Equal((bar.Open, bar.High, bar.Low, bar.Close), (candle.Open, candle.High, candle.Low, candle.Close));
            compared++;
        }

        Assert.True(compared > bars.Count / 2, $"only {compared} candles outside the gap");

        // The gap covers the disconnection (tens of milliseconds at 300,000×, a few dozen bars), not the session.
        int inside = bars.Count(b => b.Time >= gap.From && b.Time < gap.To);
        Assert.True(inside < 200, $"gap {gap.From} → {gap.To} covers {inside} bars, far more than the drop");
    }

    [Fact]
    public async Task AlpacaBarsDownloadWalksEveryPage()
    {
        var file = SandboxFeeds.SampleFile(_dir.Path, 250);
        var options = new SandboxOptions();
        options.Series.Add(new SandboxSeries("IDX", file));
        await using var sandbox = await SandboxServer.StartAsync(options);
        sandbox.Faults.RateLimitNext = 2; // waited out, not an error
        using var source = new AlpacaBarSource(
            new AlpacaOptions { Key = "sandbox-key", Secret = "sandbox-secret", RestUrl = sandbox.AlpacaRestBase },
            handler: null)
        { PageSize = 100, RetryDelay = TimeSpan.FromMilliseconds(10), MaxRetryWait = TimeSpan.FromMilliseconds(50) };

        var pages = new List<BarPage>();
        await foreach (var page in source.DownloadAsync("IDX", "5m", Timestamp.FromParts(2006, 1, 1), Timestamp.FromParts(2007, 1, 1), CancellationToken.None))
        {
            pages.Add(page);
        }

        Assert.Equal(3, pages.Count);
        Assert.Null(pages[^1].NextPageToken);
        var expected = new List<Bar>();
        using (var reader = CsvBarReader.Open(file, new InstrumentId("IDX")))
        {
            while (reader.TryRead(out var bar))
            {
                expected.Add(bar);
            }
        }

        Assert.Equal(expected, pages.SelectMany(p => p.Bars).ToList());
    }

    [Fact]
    public async Task OandaCandlesDownloadWalksForwardAndStopsAtTo()
    {
        var file = SandboxFeeds.SampleFile(_dir.Path, 250);
        var options = new SandboxOptions();
        options.Series.Add(new SandboxSeries("EUR_USD", file));
        await using var sandbox = await SandboxServer.StartAsync(options);
        using var source = new OandaCandleSource(new OandaOptions { Token = "sandbox-token", Account = "101-001-0000001-001", RestUrl = sandbox.OandaRestBase }) { PageSize = 100 };
        var expected = new List<Bar>();
        using (var reader = CsvBarReader.Open(file, new InstrumentId("EUR_USD")))
        {
            while (reader.TryRead(out var bar))
            {
                expected.Add(bar);
            }
        }

        var to = expected[200].Time;
        var got = new List<Bar>();
        await foreach (var page in source.DownloadAsync("EUR_USD", "M5", expected[0].Time, to, CancellationToken.None))
        {
            got.AddRange(page.Bars);
        }

        Assert.Equal(200, got.Count);
        Assert.Equal(
            expected.Take(200).Select(b => (b.Time, b.Open, b.High, b.Low, b.Close)),
            got.Select(b => (b.Time, b.Open, b.High, b.Low, b.Close)));
    }

    [Fact]
    public async Task ABadTokenIsAClearDownloadError()
    {
        await using var sandbox = await SandboxServer.StartAsync(new SandboxOptions());
        using var source = new OandaCandleSource(new OandaOptions { Token = "bad-token-value", Account = "101-001-0000001-001", RestUrl = sandbox.OandaRestBase });
        var error = await Assert.ThrowsAsync<Keel.Venues.Http.VenueRequestException>(async () =>
        {
            await foreach (var _ in source.DownloadAsync("EUR_USD", "M1", Timestamp.FromParts(2006, 1, 1), Timestamp.FromParts(2006, 2, 1), CancellationToken.None))
            {
            }
        });
        Assert.Contains("HTTP 401", error.Message, StringComparison.Ordinal);
        Assert.Contains("KEEL__OANDA__TOKEN", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("bad-token-value", error.Message, StringComparison.Ordinal);
    }

    private static async Task Until(Func<bool> condition, string what, TimeSpan? poll = null)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out waiting for {what}");
            }

            await Task.Delay(poll ?? TimeSpan.FromMilliseconds(20));
        }
    }
}
