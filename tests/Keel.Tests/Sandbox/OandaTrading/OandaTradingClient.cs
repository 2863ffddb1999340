using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Keel.Sandbox;

namespace Keel.Tests.Sandbox.OandaTrading;

/// <summary>A sandbox with a scripted-only EUR_USD (half spread 0.0001) and a raw HTTP client for its OANDA trading API.</summary>
internal sealed class OandaTradingClient : IAsyncDisposable
{
    public const string Account = "101-001-0000001-001";
    private const string A = "/v3/accounts/" + Account;

    private OandaTradingClient(SandboxServer server, HttpClient http)
    {
        Server = server;
        Http = http;
    }

    public SandboxServer Server { get; }

    public HttpClient Http { get; }

    public static async Task<OandaTradingClient> StartAsync(Action<SandboxOptions>? configure = null)
    {
        var options = new SandboxOptions { Speed = double.PositiveInfinity, HalfSpread = 0.0001m, HeartbeatInterval = TimeSpan.FromMilliseconds(200) };
        options.OandaInstruments.Add("EUR_USD");
        configure?.Invoke(options);
        var server = await SandboxServer.StartAsync(options);
        var http = new HttpClient { BaseAddress = server.OandaRestBase, Timeout = TimeSpan.FromSeconds(20) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "sandbox-token");
        return new OandaTradingClient(server, http);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
    }

    public Task<Reply> PricesAsync(params string[] mids) =>
        SendAsync(HttpMethod.Post, "/_sandbox/oanda/prices", "{\"instrument\":\"EUR_USD\",\"prices\":[" + string.Join(',', mids.Select(m => $"\"{m}\"")) + "]}");

    public Task<Reply> FaultsAsync(string json) => SendAsync(HttpMethod.Post, "/_sandbox/oanda/faults", json);

    public Task<Reply> OrderAsync(string orderJson) => SendAsync(HttpMethod.Post, A + "/orders", "{\"order\":" + orderJson + "}");

    public Task<Reply> GetAsync(string path) => SendAsync(HttpMethod.Get, A + path, null);

    public Task<Reply> PutAsync(string path, string? body = null) => SendAsync(HttpMethod.Put, A + path, body);

    public async Task<Reply> SendAsync(HttpMethod method, string path, string? body)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.StartsWith("application/json", response.Content.Headers.ContentType?.MediaType ?? "");
        return new Reply(response.StatusCode, JsonDocument.Parse(text).RootElement.Clone(), response.Headers);
    }

    /// <summary>Every transaction after <paramref name="id"/>.</summary>
    public async Task<List<JsonElement>> SinceAsync(long id)
    {
        var reply = await GetAsync($"/transactions/sinceid?id={id}");
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        return [.. reply.Body.GetProperty("transactions").EnumerateArray()];
    }

    public async Task<long> LastIdAsync() => long.Parse((await GetAsync("/summary")).Body.GetProperty("lastTransactionID").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
}

internal sealed record Reply(HttpStatusCode Status, JsonElement Body, HttpResponseHeaders Headers)
{
    public string S(params string[] path)
    {
        var e = Body;
        foreach (var p in path)
        {
            e = int.TryParse(p, out int i) ? e[i] : e.GetProperty(p);
        }

        return e.ValueKind == JsonValueKind.String ? e.GetString()! : e.GetRawText();
    }

    public bool Has(string name) => Body.TryGetProperty(name, out _);
}

/// <summary>One open transactions stream, read line by line with a timeout.</summary>
internal sealed class TransactionStream : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private TransactionStream(HttpResponseMessage response, StreamReader reader)
    {
        _response = response;
        _reader = reader;
    }

    public static async Task<TransactionStream> OpenAsync(OandaTradingClient client)
    {
        var response = await client.Http.GetAsync("/v3/accounts/" + OandaTradingClient.Account + "/transactions/stream", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        return new TransactionStream(response, reader);
    }

    /// <summary>The next line, or null when none arrives within <paramref name="timeout"/>.</summary>
    public async Task<JsonElement?> NextAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        try
        {
            var line = await _reader.ReadLineAsync(cts.Token);
            return line is null ? null : JsonDocument.Parse(line).RootElement.Clone();
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>The next non-heartbeat line (fails when none arrives in time).</summary>
    public async Task<JsonElement> NextTransactionAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            var line = await NextAsync();
            if (line is { } l && l.GetProperty("type").GetString() != "HEARTBEAT")
            {
                return l;
            }
        }

        Assert.Fail("no transaction arrived on the stream within 10 s");
        return default;
    }

    public async ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _response.Dispose();
        await Task.CompletedTask;
    }
}
