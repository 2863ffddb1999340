using System.Globalization;
using System.Text.Json;
using Keel.Data;
using Keel.Domain;
using Keel.Engine.Data;
using Keel.Sandbox;
using Keel.Tests.Support;
using static Keel.Tests.Sandbox.SandboxTesting;

namespace Keel.Tests.Sandbox;

/// <summary>Replay semantics: four ticks per bar that rebuild every bar exactly, on both venues.</summary>
public class ReplayTests
{
    private static List<Bar> ReadBars(string path, string symbol)
    {
        var bars = new List<Bar>();
        using var reader = CsvBarReader.Open(path, new InstrumentId(symbol));
        while (reader.TryRead(out var bar))
        {
            bars.Add(bar);
        }

        return bars;
    }

    private sealed record Trade(long Id, decimal Price, decimal Size, long Time, string Text);

    private static long Nanos(string text)
    {
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$", text);
        return Timestamp.Parse(text).UnixNanos;
    }

    /// <summary>Reads trades of <paramref name="symbol"/> until <paramref name="count"/> arrived.</summary>
    private static async Task<List<Trade>> ReadTradesAsync(AlpacaWs ws, string symbol, int count)
    {
        var trades = new List<Trade>();
        while (trades.Count < count)
        {
            foreach (var m in (await ws.ReceiveArrayAsync()).EnumerateArray())
            {
                if (m.GetProperty("T").GetString() != "t" || m.GetProperty("S").GetString() != symbol)
                {
                    continue;
                }

                Assert.Equal(JsonValueKind.Number, m.GetProperty("p").ValueKind);
                Assert.Equal(JsonValueKind.Number, m.GetProperty("s").ValueKind);
                Assert.Equal("V", m.GetProperty("x").GetString());
                Assert.Equal("C", m.GetProperty("z").GetString());
                Assert.Equal(JsonValueKind.Array, m.GetProperty("c").ValueKind);
                var t = m.GetProperty("t").GetString()!;
                trades.Add(new Trade(m.GetProperty("i").GetInt64(), m.GetProperty("p").GetDecimal(), m.GetProperty("s").GetDecimal(), Nanos(t), m.GetProperty("p").GetRawText()));
            }
        }

        return trades;
    }

    /// <summary>Checks that each run of four trades is the bar: open, nearer extreme, farther extreme, close at quarter times, sizes summing to the volume.</summary>
    private static void AssertRebuildsBars(List<Bar> bars, List<Trade> trades, long interval)
    {
        Assert.Equal(bars.Count * 4, trades.Count);
        for (int i = 0; i < bars.Count; i++)
        {
            var bar = bars[i];
            var ticks = trades.Skip(i * 4).Take(4).ToList();
            for (int k = 0; k < 4; k++)
            {
                Assert.Equal(bar.Time.UnixNanos + (k * interval / 4), ticks[k].Time);
            }

            decimal o = bar.Open.ToDecimal(), h = bar.High.ToDecimal(), l = bar.Low.ToDecimal(), c = bar.Close.ToDecimal();
            bool highFirst = h - o <= o - l;
            Assert.Equal(o, ticks[0].Price);
            Assert.Equal(highFirst ? h : l, ticks[1].Price);
            Assert.Equal(highFirst ? l : h, ticks[2].Price);
            Assert.Equal(c, ticks[3].Price);
            Assert.Equal(h, ticks.Max(t => t.Price));
            Assert.Equal(l, ticks.Min(t => t.Price));
            Assert.Equal(bar.Volume.ToDecimal(), ticks.Sum(t => t.Size));
            Assert.Equal(ticks[0].Size, ticks[1].Size);
            Assert.Equal(ticks[0].Size, ticks[2].Size);
        }

        for (int i = 1; i < trades.Count; i++)
        {
            Assert.True(trades[i].Id > trades[i - 1].Id, "trade ids must increase");
        }
    }

    [Fact]
    public async Task RealFile_ReplayedAtFullSpeed_RebuildsEveryBarExactly()
    {
        var bars = ReadBars(MinuteFile, "IDX");
        await using var server = await SandboxServer.StartAsync(Options(double.PositiveInfinity, new SandboxSeries("IDX", MinuteFile)));
        await using var ws = await AlpacaWs.AuthenticatedAsync(server);
        await ws.SendAsync("""{"action":"subscribe","trades":["IDX"]}""");
        Assert.Equal("subscription", (await ws.ReceiveArrayAsync())[0].GetProperty("T").GetString());
        var trades = await ReadTradesAsync(ws, "IDX", bars.Count * 4);
        AssertRebuildsBars(bars, trades, 5 * Timestamp.NanosPerMinute);
        await server.AlpacaReplayCompleted.WaitAsync(SandboxTesting.Timeout);
        await server.ReplayCompleted.WaitAsync(SandboxTesting.Timeout); // OANDA never started, so it does not hold this up
        Assert.False(server.OandaReplayCompleted.IsCompleted);
        Assert.Equal(bars.Count * 4, server.Stats.Alpaca.TicksPublished);
        Assert.Equal(0, server.Stats.Alpaca.TicksLost);

        // Prices are the file's decimal text, not a double's round-off.
        Assert.Equal(bars[0].Open.ToString(), trades[0].Text);
    }

    [Fact]
    public async Task Volumes_AreSplitExactly_WholeAndFractional_AndSeriesMergeInTimeOrder()
    {
        using var tmp = new TempDir();
        var a = tmp.Write("a.csv", "datetime,open,high,low,close,volume\n" +
            "2024-01-02 14:30:00,187.15,187.40,186.92,187.01,118265\n" +
            "2024-01-02 14:31:00,187.01,187.02,186.50,186.90,7\n" +
            "2024-01-02 14:33:00,186.90,187.90,186.90,187.50,2\n");
        var b = tmp.Write("b.csv", "datetime,open,high,low,close,volume\n" +
            "2024-01-02 14:30:00,1.09412,1.09455,1.09301,1.09340,10.5\n" +
            "2024-01-02 14:31:00,1.09340,1.09400,1.09300,1.09350,0.000000003\n");
        await using var server = await SandboxServer.StartAsync(Options(double.PositiveInfinity, new SandboxSeries("AAA", a), new SandboxSeries("BBB", b)));
        await using var ws = await AlpacaWs.AuthenticatedAsync(server);
        await ws.SendAsync("""{"action":"subscribe","trades":["*"]}""");
        await ws.ReceiveArrayAsync();
        var all = new List<(string Symbol, long Time)>();
        var perSymbol = new Dictionary<string, List<Trade>> { ["AAA"] = [], ["BBB"] = [] };
        while (all.Count < 20)
        {
            foreach (var m in (await ws.ReceiveArrayAsync()).EnumerateArray())
            {
                var symbol = m.GetProperty("S").GetString()!;
                var time = Nanos(m.GetProperty("t").GetString()!);
                all.Add((symbol, time));
                perSymbol[symbol].Add(new Trade(m.GetProperty("i").GetInt64(), m.GetProperty("p").GetDecimal(), m.GetProperty("s").GetDecimal(), time, m.GetProperty("p").GetRawText()));
            }
        }

        Assert.Equal(all.Select(x => x.Time).Order(), all.Select(x => x.Time));
        AssertRebuildsBars(ReadBars(a, "AAA"), perSymbol["AAA"], Timestamp.NanosPerMinute);
        AssertRebuildsBars(ReadBars(b, "BBB"), perSymbol["BBB"], Timestamp.NanosPerMinute);
        Assert.Equal([29566m, 29566m, 29566m, 29567m], perSymbol["AAA"].Take(4).Select(t => t.Size));
        Assert.Equal([2.625m, 2.625m, 2.625m, 2.625m], perSymbol["BBB"].Take(4).Select(t => t.Size));
        Assert.Equal("1.0934", perSymbol["BBB"][3].Text);
    }

    [Fact]
    public async Task BarsChannel_SendsTheOriginalBar_WhenItsIntervalEnds()
    {
        var bars = ReadBars(MinuteFile, "IDX").Take(3).ToList();
        await using var server = await SandboxServer.StartAsync(Options(double.PositiveInfinity, new SandboxSeries("IDX", MinuteFile)));
        await using var ws = await AlpacaWs.AuthenticatedAsync(server);
        await ws.SendAsync("""{"action":"subscribe","bars":["IDX"]}""");
        await ws.ReceiveArrayAsync();
        var received = new List<JsonElement>();
        while (received.Count < bars.Count)
        {
            received.AddRange((await ws.ReceiveArrayAsync()).EnumerateArray().Where(m => m.GetProperty("T").GetString() == "b"));
        }

        for (int i = 0; i < bars.Count; i++)
        {
            var b = received[i];
            Assert.Equal(bars[i].Time.ToString(), b.GetProperty("t").GetString());
            Assert.Equal(bars[i].Open.ToDecimal(), b.GetProperty("o").GetDecimal());
            Assert.Equal(bars[i].High.ToDecimal(), b.GetProperty("h").GetDecimal());
            Assert.Equal(bars[i].Low.ToDecimal(), b.GetProperty("l").GetDecimal());
            Assert.Equal(bars[i].Close.ToDecimal(), b.GetProperty("c").GetDecimal());
            Assert.Equal(4, b.GetProperty("n").GetInt32());
            Assert.Equal(JsonValueKind.Number, b.GetProperty("vw").ValueKind);
        }
    }

    [Fact]
    public async Task PacedReplay_SpacesTicksByVenueTimeOverSpeed()
    {
        // 5-minute bars: ticks 75 s apart in venue time; at 1500× that is 50 ms of wall time.
        await using var server = await SandboxServer.StartAsync(Options(1500, new SandboxSeries("IDX", MinuteFile)));
        await using var ws = await AlpacaWs.AuthenticatedAsync(server);
        await ws.SendAsync("""{"action":"subscribe","trades":["IDX"]}""");
        await ws.ReceiveArrayAsync();
        await ws.ReceiveUntilAsync("t");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < 8; i++)
        {
            await ws.ReceiveUntilAsync("t");
        }

        // Eight more ticks are 8 × 50 ms = 400 ms of schedule; allow for timer slack, never for running early.
        Assert.InRange(clock.Elapsed.TotalMilliseconds, 300, 5000);
    }

    [Fact]
    public async Task AfterADrop_TheReplayContinuesWhereItWas_AndTicksSentMeanwhileAreCountedLost()
    {
        await using var server = await SandboxServer.StartAsync(Options(3000, new SandboxSeries("IDX", MinuteFile)));
        long lastId;
        await using (var ws = await AlpacaWs.AuthenticatedAsync(server))
        {
            await ws.SendAsync("""{"action":"subscribe","trades":["IDX"]}""");
            await ws.ReceiveArrayAsync();
            lastId = (await ws.ReceiveUntilAsync("t")).GetProperty("i").GetInt64();
            lastId = Math.Max(lastId, (await ws.ReceiveUntilAsync("t")).GetProperty("i").GetInt64());
            server.Faults.DropConnections();
            await Assert.ThrowsAnyAsync<Exception>(async () =>
            {
                while (true)
                {
                    if (await ws.ReceiveTextAsync() is null)
                    {
                        return;
                    }
                }
            });
        }

        await Eventually(() => server.Stats.Alpaca.TicksLost > 0, "ticks to be lost while nobody is connected");
        await using var again = await AlpacaWs.AuthenticatedAsync(server);
        await again.SendAsync("""{"action":"subscribe","trades":["IDX"]}""");
        await again.ReceiveArrayAsync();
        var next = await again.ReceiveUntilAsync("t");
        Assert.True(next.GetProperty("i").GetInt64() > lastId + 1, "the replay went on while the client was away");
        Assert.Equal(1, server.Stats.Alpaca.Drops);
    }

    [Fact]
    public async Task Generator_IsDeterministicBySeed_AndStampsWallClockTimes()
    {
        var options = Options();
        options.Generator = new SandboxGenerator(["GEN"], 500, 100m, Seed: 7);
        var prices = new List<List<decimal>>();
        for (int run = 0; run < 2; run++)
        {
            await using var server = await SandboxServer.StartAsync(options);
            await using var ws = await AlpacaWs.AuthenticatedAsync(server);
            await ws.SendAsync("""{"action":"subscribe","trades":["GEN"]}""");
            await ws.ReceiveArrayAsync();
            var list = new List<decimal>();
            bool batched = false;
            while (list.Count < 200)
            {
                var frame = await ws.ReceiveArrayAsync();
                batched |= frame.GetArrayLength() > 1;
                foreach (var m in frame.EnumerateArray())
                {
                    list.Add(m.GetProperty("p").GetDecimal());
                    var t = DateTimeOffset.Parse(m.GetProperty("t").GetString()!, CultureInfo.InvariantCulture);
                    Assert.InRange((DateTimeOffset.UtcNow - t).TotalSeconds, -1, 30);
                }
            }

            Assert.True(batched, "at 500 ticks/s several trades share a frame");
            prices.Add(list.Take(200).ToList());
        }

        Assert.Equal(prices[0], prices[1]);
    }

    [Fact]
    public async Task MisalignedBars_AreRefused_NamingTheFile()
    {
        using var tmp = new TempDir();
        var path = tmp.Write("odd.csv", "datetime,open,high,low,close,volume\n2024-01-02 14:30:00,1,1,1,1,1\n2024-01-02 14:35:00,1,1,1,1,1\n2024-01-02 14:37:30,1,1,1,1,1\n");
        var ex = await Assert.ThrowsAsync<DataFormatException>(() => SandboxServer.StartAsync(Options(1, new SandboxSeries("X", path, "5m"))));
        Assert.Contains("odd.csv", ex.Message, StringComparison.Ordinal);
        Assert.Contains("aligned", ex.Message, StringComparison.Ordinal);
    }
}
