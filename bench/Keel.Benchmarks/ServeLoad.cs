using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Keel.Domain;
using Keel.Runtime;
using Keel.Server;

namespace Keel.Benchmarks;

/// <summary>
/// Load on <c>keel serve</c>, loopback only, bounded in count and time (a benchmark, not a test):
/// <list type="number">
/// <item>webhook ingest: N unique TradingView alerts plus D resent ones, posted by C concurrent connections to a quiet
/// paper run; throughput, p50/p99/max latency of the answers, and orders placed vs unique alerts (0 duplicates);</item>
/// <item>WebSocket fan-out: K clients on <c>/api/runs/{id}/stream?after=0</c> of a backtest of the bench bars, each
/// checking it receives every event once, in order (reconnecting with <c>after=LAST</c> if dropped as too slow).</item>
/// </list>
/// <c>dotnet run -c Release --project bench/Keel.Benchmarks -- serve [--part webhook|stream|both] [--alerts 10000]
/// [--dupes 2000] [--concurrency 32] [--clients 100] [--data bench/out/bars-1000000.csv] [--timeout 600]</c>
/// </summary>
public static class ServeLoad
{
    private const string Token = "bench-token-0123456789abcdef";
    private const string Secret = "bench-secret-0123456789abcdef";

    public static async Task<int> Run(string[] args)
    {
        string part = "both";
        int alerts = 10_000, dupes = 2_000, concurrency = 32, clients = 100, timeout = 600;
        string root = FindRoot();
        string data = Path.Combine(root, "bench", "out", "bars-1000000.csv");
        string orcl = Path.Combine(root, "samples", "data", "orcl-1995-2014.txt");
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--part":
                    part = args[i + 1];
                    break;
                case "--alerts":
                    alerts = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                    break;
                case "--dupes":
                    dupes = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                    break;
                case "--concurrency":
                    concurrency = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                    break;
                case "--clients":
                    clients = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                    break;
                case "--data":
                    data = args[i + 1];
                    break;
                case "--timeout":
                    timeout = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                    break;
                default:
                    Console.Error.WriteLine($"unknown option {args[i]}");
                    return 2;
            }
        }

        int failures = 0;
        if (part is "webhook" or "both")
        {
            failures += await WebhookAsync(orcl, alerts, dupes, concurrency, TimeSpan.FromSeconds(timeout));
        }

        if (part is "stream" or "both")
        {
            if (!File.Exists(data))
            {
                Console.Error.WriteLine($"{data} is missing: python3 ../shared/bench/make_bars.py 1000000 bench/out/bars-1000000.csv --seed 42");
                return 2;
            }

            failures += await StreamAsync(data, clients, TimeSpan.FromSeconds(timeout));
        }

        return failures == 0 ? 0 : 1;
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Keel.slnx")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? Directory.GetCurrentDirectory();
    }

    private static RunSpec Spec(RunMode mode, string file, string fast, string slow, double speed) => new()
    {
        Mode = mode,
        DataFiles = [file],
        Symbols = null,
        Strategy = "sma-cross",
        Parameters = [$"fast={fast}", $"slow={slow}"],
        Stake = Quantity.From(1),
        Cash = Money.From(100_000),
        Commission = 0.001m,
        CommissionPerShare = Money.Zero,
        CommissionMinimum = Money.Zero,
        CommissionPerOrder = Money.Zero,
        Slippage = 0m,
        FillAtClose = false,
        VolumeParticipation = null,
        From = null,
        To = null,
        OutDir = null,
        AssetClass = AssetClass.Equity,
        TickSize = null,
        LotSize = null,
        Leverage = 1m,
        MaxPosition = null,
        MaxOrderNotional = null,
        MaxOpenOrders = null,
        PeriodsPerYear = null,
        Quiet = true,
        Speed = speed,
        Db = null,
        SnapshotEvery = 200_000,
        SnapshotSeconds = 10,
    };

    private static async Task<(KeelServer Server, string Dir)> StartAsync(string file, TradingViewHook[] hooks)
    {
        var dir = Path.Combine(Path.GetTempPath(), "keel-serve-bench-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        var server = await KeelServer.StartAsync(new ServerOptions
        {
            Urls = "http://127.0.0.1:0",
            Db = Path.Combine(dir, "keel.db"),
            Tokens = [new ApiToken("bench", Token, TokenScope.Trade)],
            Webhooks = hooks,
            ResolveRun = (mode, options) => mode == "backtest"
                ? Spec(RunMode.Backtest, file, "10", "30", double.PositiveInfinity)
                : Spec(RunMode.PaperReplay, file, "999", "1000", 1),
        });
        return (server, dir);
    }

    private static HttpClient Client(KeelServer server, int connections) => new(new SocketsHttpHandler { MaxConnectionsPerServer = connections, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
    {
        BaseAddress = server.BaseAddress,
        Timeout = TimeSpan.FromSeconds(60),
        DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", Token) },
    };

    private static async Task<string> CreateRunAsync(HttpClient http, string mode)
    {
        using var response = await http.PostAsync("/api/runs", new StringContent($"{{\"mode\":\"{mode}\"}}", Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.Created)
        {
            throw new InvalidOperationException($"creating the {mode} run: {(int)response.StatusCode} {text}");
        }

        return JsonDocument.Parse(text).RootElement.GetProperty("id").GetString()!;
    }

    private static async Task<JsonElement> GetAsync(HttpClient http, string path) =>
        JsonDocument.Parse(await http.GetStringAsync(path)).RootElement.Clone();

    private static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"timed out after {timeout.TotalSeconds:F0} s waiting for {what}");
            }

            await Task.Delay(50);
        }
    }

    private static async Task<int> WebhookAsync(string orcl, int alerts, int dupes, int concurrency, TimeSpan timeout)
    {
        var (server, dir) = await StartAsync(orcl, [new TradingViewHook { Name = "bench", Secret = Secret, Run = "active", Window = TimeSpan.FromSeconds(600) }]);
        try
        {
            using var http = Client(server, concurrency);
            var runId = await CreateRunAsync(http, "paper");
            await UntilAsync(async () => (await GetAsync(http, $"/api/runs/{runId}")).GetProperty("status").GetString() == "running", timeout, "the paper run to start");
            var ticker = Path.GetFileNameWithoutExtension(orcl).ToUpperInvariant();
            string time = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

            // Every unique alert once, and `dupes` of them a second time, in a seeded shuffle.
            var random = new Random(42);
            var order = Enumerable.Range(0, alerts).Concat(Enumerable.Range(0, dupes).Select(_ => random.Next(alerts))).OrderBy(_ => random.Next()).ToArray();
            var bodies = Enumerable.Range(0, alerts).Select(i => Encoding.UTF8.GetBytes(
                $$"""{"secret": "{{Secret}}", "ticker": "{{ticker}}", "action": "{{(i % 2 == 0 ? "buy" : "sell")}}", "contracts": "1", "time": "{{time}}", "id": "bench-{{i}}", "interval": "1"}""")).ToArray();

            // Warm up the connections and the code paths (not counted): a few alerts of their own.
            for (int i = 0; i < concurrency; i++)
            {
                using var warm = await http.PostAsync("/webhooks/tradingview/bench", new StringContent($$"""{"secret": "{{Secret}}", "ticker": "{{ticker}}", "action": "buy", "contracts": "1", "time": "{{time}}", "id": "warm-{{i}}"}""", Encoding.UTF8, "application/json"));
            }

            var latencies = new double[order.Length];
            var statuses = new int[order.Length];
            int next = -1;
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
            {
                int k;
                while ((k = Interlocked.Increment(ref next)) < order.Length)
                {
                    long start = Stopwatch.GetTimestamp();
                    using var content = new ByteArrayContent(bodies[order[k]]);
                    content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                    using var response = await http.PostAsync("/webhooks/tradingview/bench", content);
                    statuses[k] = (int)response.StatusCode;
                    latencies[k] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                }
            }));
            var elapsed = clock.Elapsed;

            await server.Webhooks.DrainedAsync("bench", new CancellationTokenSource(timeout).Token);
            int expectedOrders = alerts + concurrency;
            await UntilAsync(async () => (await GetAsync(http, $"/api/runs/{runId}/orders")).GetArrayLength() >= expectedOrders, timeout, "every order in the run");
            int orders = (await GetAsync(http, $"/api/runs/{runId}/orders")).GetArrayLength();

            Array.Sort(latencies);
            int accepted = statuses.Count(s => s == 202), duplicate = statuses.Count(s => s == 200), other = statuses.Length - accepted - duplicate;
            double rate = order.Length / elapsed.TotalSeconds;
            double p99 = latencies[(int)Math.Ceiling(0.99 * latencies.Length) - 1];
            Console.WriteLine($"webhook ingest: {order.Length} requests ({alerts} unique alerts, {dupes} resent) over {concurrency} connections in {elapsed.TotalSeconds:F2} s = {rate:F0} req/s");
            Console.WriteLine($"  latency ms: p50 {latencies[latencies.Length / 2]:F2}, p90 {latencies[(int)(0.9 * latencies.Length)]:F2}, p99 {p99:F2}, max {latencies[^1]:F2}");
            Console.WriteLine($"  answers: {accepted} accepted (202), {duplicate} duplicate (200), {other} other");
            Console.WriteLine($"  orders placed for the bench's alerts: {orders - concurrency} for {alerts} unique alerts ({orders - concurrency - alerts} duplicates)");
            bool ok = rate >= 5000 && p99 <= 20 && orders - concurrency == alerts && accepted == alerts && duplicate == dupes;
            Console.WriteLine($"  target (>= 5,000 req/s, p99 <= 20 ms, 0 duplicate orders): {(ok ? "met" : "NOT met")}");
            return ok ? 0 : 1;
        }
        finally
        {
            await server.DisposeAsync();
            Directory.Delete(dir, recursive: true);
        }
    }

    private sealed class ClientResult
    {
        public long Received;
        public long Last;
        public long OutOfOrder;
        public int Reconnects;
        public string? Error;
    }

    private static async Task<int> StreamAsync(string data, int clients, TimeSpan timeout)
    {
        var (server, dir) = await StartAsync(data, []);
        try
        {
            using var http = Client(server, 8);
            using var cts = new CancellationTokenSource(timeout);
            var clock = Stopwatch.StartNew();
            var runId = await CreateRunAsync(http, "backtest");
            var results = Enumerable.Range(0, clients).Select(_ => new ClientResult()).ToArray();
            var tasks = results.Select(r => ReceiveAsync(server.BaseAddress, runId, r, cts.Token)).ToArray();
            await Task.WhenAll(tasks);
            var elapsed = clock.Elapsed;
            var run = await GetAsync(http, $"/api/runs/{runId}");
            string status = run.GetProperty("status").GetString()!;

            // The events as the store holds them (REST, a page at a time): what every client must have received.
            long events = 0, last = 0;
            long? after = 0;
            while (after is long a)
            {
                var page = await GetAsync(http, $"/api/runs/{runId}/events?after={a}&limit=5000");
                foreach (var e in page.GetProperty("events").EnumerateArray())
                {
                    events++;
                    last = e.GetProperty("sequence").GetInt64();
                }

                after = page.TryGetProperty("next", out var next) ? next.GetInt64() : null;
            }

            int complete = results.Count(r => r.Error is null && r.Last == last && r.Received == events && r.OutOfOrder == 0);
            Console.WriteLine($"websocket fan-out: backtest of {Path.GetFileName(data)} ({status}; {events:N0} events journaled, last sequence {last:N0}); {clients} clients, {elapsed.TotalSeconds:F1} s from the run's creation to the last client's close");
            Console.WriteLine($"  clients that received every event once, in order: {complete} of {clients}; {results.Sum(r => r.Received):N0} frames in all ({results.Sum(r => r.Received) / elapsed.TotalSeconds:N0}/s); reconnects after a drop: {results.Sum(r => r.Reconnects)}");
            foreach (var r in results.Where(r => r.Error is not null || r.Last != last || r.Received != events || r.OutOfOrder > 0).Take(5))
            {
                Console.WriteLine($"  a client: received {r.Received}, last {r.Last}, out of order {r.OutOfOrder}, error {r.Error}");
            }

            return complete == clients ? 0 : 1;
        }
        finally
        {
            await server.DisposeAsync();
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task ReceiveAsync(Uri baseAddress, string runId, ClientResult result, CancellationToken ct)
    {
        var buffer = new byte[64 * 1024];
        var frame = new MemoryStream();
        try
        {
            while (true)
            {
                using var socket = new ClientWebSocket();
                socket.Options.SetRequestHeader("Authorization", "Bearer " + Token);
                var uri = new Uri($"ws://{baseAddress.Authority}/api/runs/{runId}/stream?after={result.Last}");
                await socket.ConnectAsync(uri, ct);
                while (true)
                {
                    frame.SetLength(0);
                    WebSocketReceiveResult r;
                    do
                    {
                        r = await socket.ReceiveAsync(buffer, ct);
                        frame.Write(buffer, 0, r.Count);
                    }
                    while (!r.EndOfMessage);

                    if (r.MessageType == WebSocketMessageType.Close)
                    {
                        break;
                    }

                    // Sequences are the kernel's (bars take numbers too): each event's is above the one before.
                    long sequence = Sequence(frame.GetBuffer().AsSpan(0, (int)frame.Length));
                    if (sequence <= result.Last)
                    {
                        result.OutOfOrder++;
                    }

                    result.Last = Math.Max(result.Last, sequence);
                    result.Received++;
                }

                if (socket.CloseStatus == WebSocketCloseStatus.NormalClosure)
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, ct);
                    return;
                }

                result.Reconnects++; // dropped as too slow: resume after the last event seen
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            result.Error = ex.Message;
        }
    }

    private static long Sequence(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals("sequence"u8))
            {
                reader.Read();
                return reader.GetInt64();
            }
        }

        return -1;
    }
}
