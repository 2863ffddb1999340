using System.Text;
using Keel.Server;
using Microsoft.AspNetCore.Routing;

namespace Keel.Tests.Server;

/// <summary>
/// A fuzz pass over every route the server maps (enumerated from its endpoint data sources, so a new endpoint is covered
/// without touching this test): a seeded, deterministic set of malformed requests — bad JSON, wrong types, huge and
/// negative numbers, missing fields, bad ids, unicode, oversized bodies, wrong methods and content types, with and
/// without tokens — none of which may answer 5xx, after which the server must still be healthy.
/// </summary>
public class ServerFuzzTests
{
    private const int Seed = 20261207;
    private const int RequestsPerRoute = 60;

    private static readonly string[] Ids = ["x", "0", "-1", "1", "99999999999999999999999999", "%00", "%E2%98%83", "%F0%9F%92%A5", "..%2F..%2Fetc%2Fpasswd", "%20", "a%22b", "%FF%FE", new string('z', 400), "1e9", "0x10", "NaN"];

    private static readonly string[] Queries =
    [
        "", "?after=-1", "?after=abc&limit=0", "?limit=99999999999999999999", "?limit=-5", "?points=1", "?points=1e6", "?pending=maybe", "?pending=%FF",
        "?status=%F0%9F%92%A5", "?strategy=" + new string('s', 2000), "?trade=1e9", "?trade=-1", "?after=RUN:1,:,x:y", "?after=%00", "?limit=1&limit=2",
    ];

    private static readonly string[] Bodies =
    [
        "", "{", "}", "null", "[]", "123", "\"text\"", "true", "{\"mode\":123}", "{\"mode\":\"backtest\",\"options\":{\"data\":[1,2,{}]}}",
        "{\"mode\":\"live\",\"options\":{\"strategy\":null}}", "{\"symbol\":1e999}", "{\"symbol\":\"AAPL\",\"quantity\":-1,\"planned_entry\":1e308,\"planned_sl\":-1e308}",
        "{\"symbol\":\"AAPL\",\"quantity\":\"0\"}", "{\"symbol\":\"\u2603\",\"planned_entry\":\"\u0661\u0662\"}", "{\"instrument\":\"ORCL\",\"side\":\"buy\",\"quantity\":\"79228162514264337593543950336\"}",
        "{\"instrument\":\"ORCL\",\"side\":\"buy\",\"type\":\"limit\",\"quantity\":\"1\",\"limitPrice\":\"-0\"}", "{\"instrument\":[],\"side\":{},\"quantity\":true}",
        "{\"secret\":\"x\",\"action\":\"buy\",\"ticker\":\"ORCL\",\"time\":\"not a time\"}", "{\"secret\":\"\",\"time\":99999999999999999999}",
        "buy ORCL 1", "{\"a\":\"\\ud800\"}", "{\"approved\":\"perhaps\",\"symbol\":\"AAPL\"}", "{\"target_decision_id\":-5,\"action\":\"CANCEL\",\"symbol\":\"AAPL\"}",
        "{\"options\":{\"db\":\"/etc/passwd\"},\"mode\":\"backtest\"}", "{\"mode\":\"backtest\",\"options\":{\"cash\":\"1e400\",\"data\":\"x\",\"strategy\":\"sma-cross\"}}",
    ];

    private static readonly string[] ContentTypes = ["application/json", "text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin1", "multipart/form-data; boundary=x", ""];

    private static readonly string?[] Tokens = [null, ServerHarness.ReadToken, ServerHarness.TradeToken, "not-a-token-of-this-server-at-all", new string('t', 8000), "Bearer Bearer"];

    private static readonly string[] OtherMethods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];

    [Fact]
    public async Task EveryEndpoint_AnswersMalformedRequests_WithoutA5xx_AndStaysHealthy()
    {
        var hooks = new[] { new TradingViewHook { Name = "fuzz", Secret = "fuzz-secret-0123456789", Run = "active" } };
        await using var h = await ServerHarness.StartAsync(hooks);
        var runId = await h.CompletedBacktestAsync();
        var routes = h.Server.Endpoints
            .Select(e => (Pattern: e.RoutePattern.RawText ?? string.Empty, Methods: e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"]))
            .Where(r => r.Pattern.Length > 0)
            .ToList();
        Assert.True(routes.Count >= 30, $"only {routes.Count} routes were found");
        Assert.Contains(routes, r => r.Pattern.EndsWith("/decisions/{id}/approve", StringComparison.Ordinal));

        var random = new Random(Seed);
        var failures = new List<string>();
        int sent = 0;
        foreach (var (pattern, methods) in routes.OrderBy(r => r.Pattern, StringComparer.Ordinal))
        {
            for (int i = 0; i < RequestsPerRoute; i++)
            {
                string method = random.Next(4) == 0 ? OtherMethods[random.Next(OtherMethods.Length)] : methods[random.Next(methods.Count)];
                string path = Fill(pattern, random, runId) + Queries[random.Next(Queries.Length)].Replace("RUN", runId, StringComparison.Ordinal);
                string? token = Tokens[random.Next(Tokens.Length)];
                int shape = random.Next(10);
                byte[]? body = method == "HEAD" || (method == "GET" && random.Next(3) != 0) ? null : shape switch
                {
                    0 => new byte[random.Next(1, 512)].Select(_ => (byte)random.Next(256)).ToArray(),
                    1 => Encoding.UTF8.GetBytes(new string('[', 5000) + new string(']', 5000)),
                    2 => Encoding.UTF8.GetBytes("{\"x\":\"" + new string('a', 100_000) + "\"}"),
                    3 when i % 20 == 0 => new byte[2 * 1024 * 1024],
                    _ => Encoding.UTF8.GetBytes(Bodies[random.Next(Bodies.Length)]),
                };
                string contentType = ContentTypes[random.Next(ContentTypes.Length)];
                string what = $"{method} {Clip(path)} token={(token is null ? "none" : Clip(token, 12))} type={contentType} body={(body is null ? "none" : Clip(Encoding.UTF8.GetString(body), 60))}";
                using var request = new HttpRequestMessage(new HttpMethod(method), path);
                if (token is not null)
                {
                    request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
                }

                // A body the server refuses unread ends its connection: the client must not reuse it for the next request.
                request.Headers.ConnectionClose = body is { Length: > 16 * 1024 };

                if (body is not null)
                {
                    request.Content = new ByteArrayContent(body);
                    if (contentType.Length > 0)
                    {
                        request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
                    }
                }

                sent++;
                try
                {
                    using var response = await h.Http.SendAsync(request);
                    if ((int)response.StatusCode >= 500)
                    {
                        failures.Add($"{(int)response.StatusCode} for {what}: {Clip(await response.Content.ReadAsStringAsync(), 300)}");
                    }
                }
                catch (HttpRequestException) when (body is { Length: > 1024 * 1024 })
                {
                    // A body over the server's 1 MB limit may be cut off before it is all sent: refused, not a crash.
                }
                catch (HttpRequestException ex)
                {
                    failures.Add($"no answer ({ex.Message}) for {what}");
                }
            }
        }

        var errors = h.Logs.Logger.Entries.Where(e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Error).Select(e => e.Message).Take(5);
        Assert.True(failures.Count == 0, $"{failures.Count} of {sent} requests failed:\n{string.Join('\n', failures.Take(40))}\nserver errors:\n{string.Join('\n', errors)}");
        Assert.DoesNotContain(h.Logs.Logger.Entries, e => e.Id.Id == 7006);

        // Still healthy, and still serving.
        var (status, health, _) = await h.SendAsync(HttpMethod.Get, "/health", token: null);
        Assert.Equal(200, status);
        Assert.Equal("ok", health.GetProperty("status").GetString());
        Assert.Equal(200, (await h.SendAsync(HttpMethod.Get, $"/api/runs/{runId}")).Status);
    }

    private static string Fill(string pattern, Random random, string runId)
    {
        var path = new StringBuilder();
        int at = 0;
        while (at < pattern.Length)
        {
            int open = pattern.IndexOf('{', at);
            if (open < 0)
            {
                path.Append(pattern, at, pattern.Length - at);
                break;
            }

            path.Append(pattern, at, open - at);
            int close = pattern.IndexOf('}', open);
            string name = pattern[(open + 1)..close];
            path.Append(name switch
            {
                "id" when random.Next(3) == 0 => runId,
                "documentName" when random.Next(2) == 0 => "v1",
                "name" when random.Next(2) == 0 => "fuzz",
                _ => Ids[random.Next(Ids.Length)],
            });
            at = close + 1;
        }

        return path.Length == 0 || path[0] != '/' ? "/" + path : path.ToString();
    }

    private static string Clip(string text, int max = 120) => text.Length <= max ? text : text[..max] + "…";
}
