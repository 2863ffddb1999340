using System.Globalization;
using Keel.Domain;
using Keel.Engine.Clock;
using Keel.Pipeline;
using Keel.Sandbox;
using Keel.Storage;
using Keel.Storage.Pipeline;
using Keel.Tests.Sandbox;
using Keel.Tests.Support;
using Keel.Venues.Alpaca.Trading;
using Microsoft.Data.Sqlite;

namespace Keel.Tests.Pipeline;

/// <summary>
/// The seed's SWING example against Keel's Alpaca sandbox (Trading API v2 over HTTP, in-process), the stages run at the
/// schedule's times on a simulated clock and the sandbox's price scripted between them.
/// </summary>
public sealed class PipelineSandboxTests : IAsyncDisposable
{
    private static readonly DateOnly Day1 = new(2024, 1, 16);
    private static readonly DateOnly Day2 = new(2024, 1, 17);
    private readonly TempDir _dir = new();
    private SandboxServer? _server;
    private HttpClient? _control;

    public async ValueTask DisposeAsync()
    {
        _control?.Dispose();
        if (_server is { } s)
        {
            await s.DisposeAsync();
        }

        SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    private async Task PriceAsync(decimal mid)
    {
        var (status, json) = await Trading.PostAsync(_control!, "/_sandbox/alpaca/prices", $"{{\"symbol\":\"AAPL\",\"prices\":[\"{mid.ToString(CultureInfo.InvariantCulture)}\"]}}");
        Assert.True(status == 200, $"scripting a price answered {status}: {json}");
    }

    [Fact]
    public async Task Run_Once_RunsEachStageAgainstTheSandbox_ThroughTheCli()
    {
        var options = SandboxTesting.Options();
        options.AlpacaCash = 100_000m;
        _server = await SandboxServer.StartAsync(options);
        _control = SandboxTesting.Alpaca(_server);
        var db = _dir.File("keel.db");
        var env = new Dictionary<string, string> { ["KEEL__ALPACA__KEY"] = "sandbox-key", ["KEEL__ALPACA__SECRET"] = "sandbox-secret" };
        string url = $"http://127.0.0.1:{_server.AlpacaRestBase.Port}";
        CliRunner.Result Stage(string stage) => CliRunner.Run(_dir.Path, env, "pipeline", "run-once", "--stage", stage, "--venue", "alpaca", "--url", url, "--db", db);

        await PriceAsync(150.50m);
        var add = CliRunner.Run(_dir.Path, null, "decisions", "add", "--symbol", "AAPL", "--entry", "150.25", "--sl", "145", "--tp", "160", "--qty", "10", "--style", "SWING", "--approve", "--db", db);
        Assert.True(add.ExitCode == 0, add.ToString());

        var executor = Stage("executor");
        Assert.True(executor.ExitCode == 0, executor.ToString());
        Assert.Contains("executor: 1 done", executor.Stdout, StringComparison.Ordinal);
        var again = Stage("executor");
        Assert.Contains("executor: 0 done", again.Stdout, StringComparison.Ordinal);

        await PriceAsync(150.25m);
        await using (var venue = new AlpacaTradingVenue(new AlpacaTradingOptions { Key = "sandbox-key", Secret = "sandbox-secret", BaseUrl = _server.AlpacaRestBase }))
        {
            var entryId = new Keel.Domain.ClientOrderId(new PipelineOptions().EntryId(1));
            await SandboxTesting.Eventually(() => venue.GetOrderAsync(entryId).GetAwaiter().GetResult()?.Status == Keel.Domain.Orders.OrderStatus.Filled, "the entry to fill");
        }

        var monitor = Stage("order-monitor");
        Assert.True(monitor.ExitCode == 0, monitor.ToString());
        var position = Stage("position-monitor");
        Assert.True(position.ExitCode == 0, position.ToString());

        using var store = KeelStore.Open(db);
        var trade = store.Pipeline.TradeOfDecision(1)!;
        Assert.Equal(TradeStatus.Position, trade.Status);
        Assert.Equal(3, store.Pipeline.OrdersOfTrade(trade.Id).Count);

        // Valued at the venue's latest quote (the sandbox's last price; no spread, so bid = ask = mid).
        Assert.Contains("position-monitor: 1 done", position.Stdout, StringComparison.Ordinal);
        Assert.Equal(150.25m, store.Pipeline.FindPosition(trade.Id)!.CurrentPrice);
        await PriceAsync(151.00m);
        var later = Stage("position-monitor");
        Assert.True(later.ExitCode == 0, later.ToString());
        Assert.Equal((151.00m, 7.50m), (store.Pipeline.FindPosition(trade.Id)!.CurrentPrice, store.Pipeline.FindPosition(trade.Id)!.UnrealizedPnl));

        var bad = Stage("everything");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--stage 'everything' is not a stage", bad.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_LatestQuote_IsTheSandboxsBidAndAsk_AndNoneForASymbolWithoutAPrice()
    {
        var options = SandboxTesting.Options();
        options.HalfSpread = 0.05m;
        _server = await SandboxServer.StartAsync(options);
        _control = SandboxTesting.Alpaca(_server);
        await PriceAsync(150.50m);
        await using var venue = new AlpacaTradingVenue(new AlpacaTradingOptions { Key = "sandbox-key", Secret = "sandbox-secret", BaseUrl = _server.AlpacaRestBase, DataUrl = _server.AlpacaRestBase });
        var quote = await venue.LatestQuoteAsync("AAPL");
        Assert.NotNull(quote);
        Assert.Equal((150.45m, 150.55m), (quote.Bid, quote.Ask));
        Assert.Equal(150.50m, new PipelineQuote(quote.Bid, quote.Ask, Timestamp.FromDateTimeOffset(quote.Time)).Price);
        Assert.Null(await venue.LatestQuoteAsync("MSFT"));
    }

    [Fact]
    public async Task The_SeedSwingExample_IsReproducedToTheCent_AgainstTheAlpacaSandbox()
    {
        var options = SandboxTesting.Options();
        options.HalfSpread = 0m;
        options.AlpacaCash = 100_000m;
        _server = await SandboxServer.StartAsync(options);
        _control = SandboxTesting.Alpaca(_server);
        await using var venue = new AlpacaTradingVenue(new AlpacaTradingOptions
        {
            Key = "sandbox-key",
            Secret = "sandbox-secret",
            BaseUrl = _server.AlpacaRestBase,
            StreamUrl = new Uri(_server.AlpacaStreamBase, "/stream"),
            RequestTimeout = TimeSpan.FromSeconds(5),
            QueryRetryDelay = TimeSpan.FromMilliseconds(50),
        });
        using var store = KeelStore.Open(_dir.File("keel.db"));
        var p = store.Pipeline;
        var clock = new SimulatedClock();
        var quotes = new SettableQuotes();
        var executor = new DecisionExecutor(p, venue, clock);
        var orders = new OrderMonitor(p, venue, clock);
        var positions = new PositionMonitor(p, venue, quotes, clock);
        Timestamp Et(DateOnly day, int h, int m) => NyseCalendar.ToUtc(day, new TimeOnly(h, m));
        async Task Quote(decimal mid)
        {
            await PriceAsync(mid);
            quotes.Set("AAPL", new PipelineQuote(mid, mid, clock.Now));
        }

        long decision = p.AddDecisions([new NewDecision("AAPL", DecisionAction.NewTrade, TradeSide.Long, 150.25m, 145.00m, 160.00m, 10m, TradeStyle.Swing, Approved: true)], Et(Day1, 8, 0))[0];
        await Quote(150.50m);
        clock.Set(Et(Day1, 9, 45));
        Assert.Equal(1, (await executor.RunOnceAsync()).Done);
        var entryId = new Keel.Domain.ClientOrderId(new PipelineOptions().EntryId(decision));

        await Quote(150.25m);
        await SandboxTesting.Eventually(() => venue.GetOrderAsync(entryId).GetAwaiter().GetResult()?.Status == Keel.Domain.Orders.OrderStatus.Filled, "the entry to fill");
        clock.Set(Et(Day1, 10, 5));
        await orders.RunOnceAsync();
        var trade = p.TradeOfDecision(decision)!;
        Assert.Equal(TradeStatus.Position, trade.Status);
        Assert.Equal(150.25m, trade.ActualEntry);
        Assert.Equal(1502.50m, p.FindPosition(trade.Id)!.CostBasis);
        Assert.Equal(2, (await venue.GetOpenOrdersAsync()).Count);

        await Quote(151.00m);
        clock.Set(Et(Day1, 10, 15));
        await positions.RunOnceAsync();
        Assert.Equal(7.50m, p.FindPosition(trade.Id)!.UnrealizedPnl);

        await Quote(148.75m);
        clock.Set(Et(Day1, 14, 30));
        await positions.RunOnceAsync();
        Assert.Equal(-15.00m, p.FindPosition(trade.Id)!.UnrealizedPnl);
        Assert.Equal(1487.50m, p.FindPosition(trade.Id)!.MarketValue);

        await Quote(144.90m);
        var slId = new Keel.Domain.ClientOrderId(new PipelineOptions().StopLossId(trade.Id));
        await SandboxTesting.Eventually(() => venue.GetOrderAsync(slId).GetAwaiter().GetResult()?.Status == Keel.Domain.Orders.OrderStatus.Filled, "the stop-loss to fill");
        clock.Set(Et(Day2, 14, 45));
        await orders.RunOnceAsync();

        trade = p.FindTrade(trade.Id)!;
        Assert.Equal(TradeStatus.Closed, trade.Status);
        Assert.Equal(144.90m, trade.ExitPrice);
        Assert.Equal(-53.50m, trade.ActualPnl);
        Assert.Equal(ExitReason.StoppedOut, trade.ExitReason);
        Assert.Null(p.FindPosition(trade.Id));
        Assert.Single(p.Trades());
        Assert.Equal(
            [PipelineOrderStatus.Filled, PipelineOrderStatus.Filled, PipelineOrderStatus.Cancelled],
            p.OrdersOfTrade(trade.Id).Select(o => o.Status));
        Assert.Empty(await venue.GetOpenOrdersAsync());
        Assert.Empty(await venue.GetPositionsAsync());
    }
}
