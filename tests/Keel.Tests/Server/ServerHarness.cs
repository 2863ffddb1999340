using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Keel.Cli;
using Keel.Server;
using Keel.Tests.Support;

namespace Keel.Tests.Server;

/// <summary>
/// A real <c>keel serve</c> (Kestrel on a loopback ephemeral port) over a temporary SQLite store, with a read token and
/// a trade token, resolving run requests as the command line does. Disposing stops its runs and removes the store.
/// </summary>
internal sealed class ServerHarness : IAsyncDisposable
{
    public const string ReadToken = "read-token-0123456789abcdef";
    public const string TradeToken = "trade-token-0123456789abcdef";

    private readonly TempDir _dir;
    private readonly IReadOnlyList<TradingViewHook>? _hooks;
    private bool _keepDir;

    private ServerHarness(TempDir dir, KeelServer server, IReadOnlyList<TradingViewHook>? hooks, ListLoggerFactory logs)
    {
        _dir = dir;
        _hooks = hooks;
        Logs = logs;
        Server = server;
        Http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public KeelServer Server { get; }

    /// <summary>Everything the server logged.</summary>
    public ListLoggerFactory Logs { get; }

    public HttpClient Http { get; }

    public string Db => _dir.File("keel.db");

    public static string Orcl => Path.Combine(TestPaths.RepoRoot, "samples", "data", "orcl-1995-2014.txt");

    public static Task<ServerHarness> StartAsync(IReadOnlyList<TradingViewHook>? hooks = null, int clientBuffer = 4096, TimeProvider? time = null) =>
        StartAsync(new TempDir(), hooks, clientBuffer, time);

    /// <summary>Stops this server (its runs snapshot) and starts another on the same store.</summary>
    public async Task<ServerHarness> RestartAsync()
    {
        _keepDir = true;
        await DisposeAsync();
        return await StartAsync(_dir, _hooks, 4096, null);
    }

    private static async Task<ServerHarness> StartAsync(TempDir dir, IReadOnlyList<TradingViewHook>? hooks, int clientBuffer, TimeProvider? time)
    {
        var logs = new ListLoggerFactory();
        try
        {
            var catalog = KeelApp.Catalog(null);
            var server = await KeelServer.StartAsync(new ServerOptions
            {
                Urls = "http://127.0.0.1:0",
                Db = dir.File("keel.db"),
                Tokens = [new ApiToken("reader", ReadToken, TokenScope.Read), new ApiToken("trader", TradeToken, TokenScope.Trade)],
                Webhooks = hooks ?? [],
                ClientBuffer = clientBuffer,
                ResolveRun = (mode, options) => ServeCommand.Resolve(mode, options, null, catalog),
                Services = new Keel.Runtime.RunServices { Strategies = catalog },
                Time = time ?? TimeProvider.System,
                DecisionSymbols = new HashSet<string>(["AAPL", "MSFT"], StringComparer.Ordinal),
            }, logs);
            return new ServerHarness(dir, server, hooks, logs);
        }
        catch
        {
            dir.Dispose();
            throw;
        }
    }

    public HttpRequestMessage Request(HttpMethod method, string path, string? token, string? json = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        return request;
    }

    public async Task<(int Status, JsonElement Body, string ContentType)> SendAsync(HttpMethod method, string path, string? token = ReadToken, string? json = null)
    {
        using var request = Request(method, path, token, json);
        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var body = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        return ((int)response.StatusCode, body, response.Content.Headers.ContentType?.MediaType ?? string.Empty);
    }

    /// <summary>Starts a backtest of sma-cross on the bundled ORCL file and waits for it to complete.</summary>
    public async Task<string> CompletedBacktestAsync()
    {
        var (status, body, _) = await SendAsync(HttpMethod.Post, "/api/runs", TradeToken, BacktestJson);
        Assert.Equal(201, status);
        var id = body.GetProperty("id").GetString()!;
        // Completed in the store, and let go by the server (which closes the run's store just after).
        await UntilAsync(
            async () => (await SendAsync(HttpMethod.Get, $"/api/runs/{id}")).Body is var r && r.GetProperty("status").GetString() == "completed" && !r.GetProperty("active").GetBoolean(),
            "the backtest to complete");
        return id;
    }

    public static string BacktestJson => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["mode"] = "backtest",
        ["options"] = new Dictionary<string, object> { ["data"] = Orcl, ["strategy"] = "sma-cross", ["param"] = new[] { "fast=10", "slow=30" } },
    });

    /// <summary>A paper run replaying the ORCL file slowly enough (<paramref name="speed"/> × wall clock) to be paused, traded and stopped.</summary>
    public static string PaperJson(string speed = "1") => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["mode"] = "paper",
        ["options"] = new Dictionary<string, object> { ["replay"] = Orcl, ["strategy"] = "sma-cross", ["param"] = new[] { "fast=10", "slow=30" }, ["speed"] = speed },
    });

    public async Task<string> StartPaperAsync(string speed = "1")
    {
        var (status, body, _) = await SendAsync(HttpMethod.Post, "/api/runs", TradeToken, PaperJson(speed));
        Assert.True(status == 201, body.ToString());
        var id = body.GetProperty("id").GetString()!;
        await UntilAsync(async () => (await SendAsync(HttpMethod.Get, $"/api/runs/{id}")).Body.GetProperty("status").GetString() == "running", "the paper run to start");
        return id;
    }

    /// <summary>Awaits a condition, polling, failing with <paramref name="what"/> after the timeout (no fixed sleeps).</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what, double seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out after {seconds} s waiting for {what}");
            }

            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
        if (!_keepDir)
        {
            _dir.Dispose();
        }
    }
}
