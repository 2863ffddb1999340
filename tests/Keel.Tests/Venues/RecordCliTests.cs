using System.Globalization;
using Keel.Data;
using Keel.Domain;
using Keel.Sandbox;
using Keel.Storage;
using Keel.Tests.Support;

namespace Keel.Tests.Venues;

/// <summary>
/// <c>keel record</c> and <c>keel paper --venue</c> as a user runs them, against the sandbox replaying a real file:
/// every candle generated is persisted and equals the file's bar; paper on the feed gives the backtest's orders.
/// </summary>
public sealed partial class RecordCliTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(90);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("alpaca")]
    [InlineData("oanda")]
    public async Task RecordPersistsEveryCandleItGeneratesAndTheyEqualTheReplayedFile(string venue)
    {
        var file = Path.Combine(TestPaths.RepoRoot, "samples", "data", "2006-min-005.txt");
        var bars = ReadBars(file, SandboxFeeds.Symbol(venue));
        var symbol = SandboxFeeds.Symbol(venue);
        var options = new SandboxOptions { Speed = 200_000, HeartbeatInterval = TimeSpan.FromMilliseconds(200) };
        options.Series.Add(new SandboxSeries(symbol, file));
        await using var sandbox = await SandboxServer.StartAsync(options);
        var db = _dir.File("keel.db");
        var url = venue == "alpaca" ? sandbox.AlpacaStreamBase.ToString() : sandbox.OandaStreamBase.ToString();

        using var child = CliRunner.Spawn(_dir.Path, Env(), "record", "--venue", venue, "--symbols", symbol, "--url", url, "--timeframe", "5m", "--db", db, "--health-every", "0.5");
        await sandbox.ReplayCompleted.WaitAsync(Wait);
        await UntilStored(db, symbol, "5m", bars.Count - 1); // the last candle completes at the stop
        Assert.Equal(0, Interrupt(child.Process.Id));
        var result = await child.WaitAsync(Wait);

        Assert.True(result.ExitCode == 0, result.ToString());
        var last = result.Stdout.TrimEnd().Split('\n')[^1];
        var match = CandlesLine().Match(last);
        Assert.True(match.Success, $"last line was '{last}'\n{result}");
        long generated = long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.Equal(generated, long.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture));
        Assert.Contains("uptime ", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("sandbox-secret", result.Stdout + result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("sandbox-token", result.Stdout + result.Stderr, StringComparison.Ordinal);

        using var store = KeelStore.Open(db);
        var stored = ReadStored(store, symbol);
        var ticks = store.TickCounts(symbol, "5m");
        Assert.Equal(generated, stored.Count);
        var real = stored.Where(b => ticks[b.Time] > 0).ToList();
        Assert.Equal(bars.Count, real.Count);
        for (int i = 0; i < bars.Count; i++)
        {
            Assert.Equal((bars[i].Time, bars[i].Open, bars[i].High, bars[i].Low, bars[i].Close), (real[i].Time, real[i].Open, real[i].High, real[i].Low, real[i].Close));
            Assert.Equal(4, ticks[real[i].Time]);
        }

        // Flat candles fill only short gaps inside the session; longer ones (nights) are recorded as gaps.
        var barTimes = bars.Select(b => b.Time).ToHashSet();
        foreach (var fill in stored.Where(b => ticks[b.Time] == 0))
        {
            Assert.DoesNotContain(fill.Time, barTimes);
            Assert.True(fill.Open == fill.Close && fill.High == fill.Close && fill.Low == fill.Close, $"gap fill at {fill.Time} is not flat");
        }

        Assert.NotEmpty(store.Gaps(symbol, "5m"));
    }

    [Fact]
    public async Task PaperOnTheSandboxFeedGivesTheSameOrdersAsTheBacktest()
    {
        var file = Path.Combine(TestPaths.RepoRoot, "samples", "data", "2006-min-005.txt");
        var bars = ReadBars(file, "IDX");
        // Paced (a 5-minute bar every 1.5 ms), not 'max': a run's tick buffer is bounded and drops its oldest ticks when
        // the whole file arrives in one burst while the kernel's first calls are still being compiled.
        var options = new SandboxOptions { Speed = 200_000 };
        options.Series.Add(new SandboxSeries("IDX", file));
        await using var sandbox = await SandboxServer.StartAsync(options);
        var db = _dir.File("keel.db");
        string[] strategy = ["--strategy", "sma-cross", "--param", "fast=10", "--param", "slow=30", "--stake", "1", "--commission", "0.001"];

        var backtest = CliRunner.Run(_dir.Path, Env(), ["backtest", "--data", file, "--symbol", "IDX", .. strategy, "--out", _dir.File("bt"), "--db", "none"]);
        Assert.True(backtest.ExitCode == 0, backtest.ToString());

        using var child = CliRunner.Spawn(_dir.Path, Env(), ["paper", "--venue", "alpaca", "--symbols", "IDX", "--url", sandbox.AlpacaStreamBase.ToString(), "--timeframe", "5m", .. strategy, "--out", _dir.File("paper"), "--db", db]);
        await sandbox.ReplayCompleted.WaitAsync(Wait);
        await UntilStored(db, "IDX", "5m", bars.Count - 1);
        Assert.Equal(0, Interrupt(child.Process.Id));
        var paper = await child.WaitAsync(Wait);

        Assert.True(paper.ExitCode == 0, paper.ToString());
        var expected = File.ReadAllText(Path.Combine(_dir.File("bt"), "orders.csv"));
        Assert.True(expected.Split('\n').Length > 20, "the backtest should trade");
        Assert.Equal(expected, File.ReadAllText(Path.Combine(_dir.File("paper"), "orders.csv")));
        Assert.Equal(File.ReadAllText(Path.Combine(_dir.File("bt"), "trades.csv")), File.ReadAllText(Path.Combine(_dir.File("paper"), "trades.csv")));
    }

    [Theory]
    [InlineData("alpaca")]
    [InlineData("oanda")]
    public async Task PaperOnTheLiveFeedFillsOnTheQuotes_BuyAtTheAsk_SellAtTheBid(string venue)
    {
        // The sandbox quotes bid = p − 0.25 and ask = p + 0.25 around every replayed price p; OANDA candles come from the
        // mid, which stays p, and Alpaca candles from the trades at p. So the strategy sees the backtest's bars and makes
        // the same orders, but each fills on the first quote after its candle: the backtest's price plus the half
        // spread for a buy, minus it for a sell.
        var file = Path.Combine(TestPaths.RepoRoot, "samples", "data", "2006-min-005.txt");
        string symbol = venue == "alpaca" ? "IDX" : "IDX_USD"; // OANDA instruments have an underscore
        var bars = ReadBars(file, symbol);
        var options = new SandboxOptions { Speed = 200_000, HalfSpread = 0.25m };
        options.Series.Add(new SandboxSeries(symbol, file));
        await using var sandbox = await SandboxServer.StartAsync(options);
        var db = _dir.File("keel.db");
        string[] strategy = ["--strategy", "sma-cross", "--param", "fast=10", "--param", "slow=30", "--stake", "1"];
        var backtest = CliRunner.Run(_dir.Path, Env(), ["backtest", "--data", file, "--symbol", symbol, .. strategy, "--out", _dir.File("bt"), "--db", "none"]);
        Assert.True(backtest.ExitCode == 0, backtest.ToString());

        var url = venue == "alpaca" ? sandbox.AlpacaStreamBase : sandbox.OandaStreamBase;
        using var child = CliRunner.Spawn(_dir.Path, Env(), ["paper", "--venue", venue, "--symbols", symbol, "--url", url.ToString(), "--timeframe", "5m", .. strategy, "--out", _dir.File("paper"), "--db", db]);
        await sandbox.ReplayCompleted.WaitAsync(Wait);
        await UntilStored(db, symbol, "5m", bars.Count - 1);
        Assert.Equal(0, Interrupt(child.Process.Id));
        var paper = await child.WaitAsync(Wait);
        Assert.True(paper.ExitCode == 0, paper.ToString());

        var expected = ReadOrders(Path.Combine(_dir.File("bt"), "orders.csv"));
        var actual = ReadOrders(Path.Combine(_dir.File("paper"), "orders.csv"));
        Assert.True(expected.Count > 20, "the backtest should trade");
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            var (e, a) = (expected[i], actual[i]);
            foreach (var column in (string[])["client_order_id", "side", "type", "quantity", "status", "created_time", "last_update_time", "filled_quantity"])
            {
                Assert.True(e[column] == a[column], $"order {e["client_order_id"]}: {column} {a[column]}, backtest {e[column]}");
            }

            decimal spread = e["side"] == "buy" ? 0.25m : -0.25m;
            Assert.Equal(decimal.Parse(e["avg_fill_price"], CultureInfo.InvariantCulture) + spread, decimal.Parse(a["avg_fill_price"], CultureInfo.InvariantCulture));
        }
    }

    private static List<Dictionary<string, string>> ReadOrders(string path)
    {
        var lines = File.ReadAllLines(path);
        var header = lines[0].Split(',');
        return [.. lines.Skip(1).Where(l => l.Length > 0).Select(l => header.Zip(l.Split(',')).ToDictionary(p => p.First, p => p.Second))];
    }

    [Fact]
    public void RecordWithoutCredentialsSaysWhichVariablesToSet()
    {
        var env = new Dictionary<string, string> { ["KEEL__ALPACA__KEY"] = string.Empty, ["KEEL__ALPACA__SECRET"] = string.Empty };
        var result = CliRunner.Run(_dir.Path, env, "record", "--venue", "alpaca", "--symbols", "AAPL", "--db", _dir.File("k.db"));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("KEEL__ALPACA__KEY", result.Stderr, StringComparison.Ordinal);

        var bad = CliRunner.Run(_dir.Path, Env(), "record", "--venue", "nasdaq", "--symbols", "AAPL", "--db", _dir.File("k.db"));
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--venue was 'nasdaq'", bad.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RecordStopsWithAClearMessageOnBadCredentials()
    {
        await using var sandbox = await SandboxServer.StartAsync(new SandboxOptions { Generator = new SandboxGenerator(["AAPL"], 50) });
        sandbox.Faults.RejectAuth = true;
        var env = Env();
        env["KEEL__ALPACA__SECRET"] = "not-the-secret-123";
        var result = await Task.Run(() => CliRunner.Run(_dir.Path, env, "record", "--venue", "alpaca", "--symbols", "AAPL", "--url", sandbox.AlpacaStreamBase.ToString(), "--db", _dir.File("k.db"))).WaitAsync(Wait);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("authentication failed", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-secret-123", result.Stdout + result.Stderr, StringComparison.Ordinal);
        Assert.EndsWith("candles generated 0, persisted 0", result.Stdout.TrimEnd(), StringComparison.Ordinal);
        Assert.Equal(1, sandbox.Stats.Alpaca.AuthFailures);
    }

    private static Dictionary<string, string> Env() => new()
    {
        ["KEEL__ALPACA__KEY"] = "sandbox-key",
        ["KEEL__ALPACA__SECRET"] = "sandbox-secret",
        ["KEEL__OANDA__TOKEN"] = "sandbox-token",
        ["KEEL__OANDA__ACCOUNT"] = "101-001-0000001-001",
    };

    private static List<Bar> ReadBars(string file, string symbol)
    {
        using var reader = CsvBarReader.Open(file, new InstrumentId(symbol));
        var bars = new List<Bar>();
        while (reader.TryRead(out var bar))
        {
            bars.Add(bar);
        }

        return bars;
    }

    private static List<Bar> ReadStored(KeelStore store, string symbol)
    {
        using var reader = store.ReadCandles(new InstrumentId(symbol), symbol, "5m");
        var bars = new List<Bar>();
        while (reader.TryRead(out var bar))
        {
            bars.Add(bar);
        }

        return bars;
    }

    /// <summary>Waits until the store holds at least <paramref name="count"/> candles with ticks for the series.</summary>
    private static async Task UntilStored(string db, string symbol, string timeframe, int count)
    {
        var deadline = DateTime.UtcNow + Wait;
        int seen = 0;
        while (DateTime.UtcNow < deadline)
        {
            if (File.Exists(db))
            {
                try
                {
                    using var store = KeelStore.Open(db);
                    seen = store.TickCounts(symbol, timeframe).Count(kv => kv.Value > 0);
                    if (seen >= count)
                    {
                        return;
                    }
                }
                catch (StorageException)
                {
                    // Being created right now.
                }
            }

            await Task.Delay(100);
        }

        Assert.Fail($"only {seen} of {count} candles reached the store within {Wait}");
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^candles generated (\d+), persisted (\d+)$")]
    private static partial System.Text.RegularExpressions.Regex CandlesLine();

    private static int Interrupt(int pid) => Signals.Send(pid, Signals.Interrupt);
}
