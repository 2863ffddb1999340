using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using Keel.Engine.Ports;
using Keel.Venues.Feeds;

namespace Keel.Venues.Oanda;

/// <summary>
/// OANDA v20 pricing stream (§D.6): <c>GET /v3/accounts/{id}/pricing/stream?instruments=…</c> with a Bearer token;
/// HTTP/1.1 chunked, one JSON object per line (PRICE or HEARTBEAT every 5 s). 401 (bad token or account) and 400
/// (unknown instrument) are fatal; 429, 5xx and drops are retried with back-off. Two missed heartbeats make the stream
/// stale and it is replaced.
/// </summary>
public sealed class OandaPricingFeed : StreamingFeed
{
    private readonly OandaOptions _options;
    private readonly HttpClient _http;

    public OandaPricingFeed(OandaOptions options, ReconnectPolicy? policy = null, TimeProvider? time = null, int seed = 1)
        : base("oanda", policy ?? new ReconnectPolicy { StaleAfter = 2 * (options ?? throw new ArgumentNullException(nameof(options))).HeartbeatInterval }, time, seed)
    {
        _options = options;
        _http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), AutomaticDecompression = DecompressionMethods.All })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    public override ValueTask DisposeAsync()
    {
        _http.Dispose();
        return base.DisposeAsync();
    }

    protected override Uri? Endpoint => _options.StreamUrl;

    protected override async Task RunSessionAsync(IReadOnlyList<string> symbols, ILiveDataSink sink, CancellationToken ct)
    {
        var url = new Uri(_options.StreamUrl, $"/v3/accounts/{Uri.EscapeDataString(_options.Account)}/pricing/stream?instruments={Uri.EscapeDataString(string.Join(',', symbols))}&snapshot=true");
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _options.Token);
        request.Headers.Add("Accept-Datetime-Format", "RFC3339");
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        Connected();
        if (!response.IsSuccessStatusCode)
        {
            var error = await Http.ErrorBodies.ReadMessageAsync(response, ct).ConfigureAwait(false);
            var text = $"HTTP {(int)response.StatusCode}: {error}";
            switch (response.StatusCode)
            {
                case HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden:
                    throw new FatalFeedException($"authentication failed ({text}); check KEEL__OANDA__TOKEN and KEEL__OANDA__ACCOUNT");
                case HttpStatusCode.BadRequest or HttpStatusCode.NotFound:
                    throw new FatalFeedException($"the stream request was refused ({text})", FeedEventKind.ServerError);
                default:
                    ServerError(text);
                    throw new HttpRequestException($"the stream request failed ({text})");
            }
        }

        Authenticated();
        Subscribed($"streaming {string.Join(',', symbols)}");
        var parser = new OandaPriceParser(symbols);
        await using var body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            int start = 0, end = 0;
            while (true)
            {
                if (end == buffer.Length)
                {
                    if (start > 0)
                    {
                        buffer.AsSpan(start, end - start).CopyTo(buffer);
                        end -= start;
                        start = 0;
                    }
                    else
                    {
                        var bigger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                        buffer.AsSpan(0, end).CopyTo(bigger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = bigger;
                    }
                }

                int read = await body.ReadAsync(buffer.AsMemory(end), ct).ConfigureAwait(false);
                if (read == 0)
                {
                    return;
                }

                end += read;
                var now = Now();
                while (true)
                {
                    int newline = buffer.AsSpan(start, end - start).IndexOf((byte)'\n');
                    if (newline < 0)
                    {
                        break;
                    }

                    var line = buffer.AsSpan(start, newline).TrimEnd((byte)'\r');
                    start += newline + 1;
                    if (line.IsEmpty)
                    {
                        continue;
                    }

                    MessageReceived();
                    switch (parser.Parse(line, now, out var tick, out _, out var problem))
                    {
                        case OandaLine.Price:
                            CountTick();
                            sink.OnTick(tick);
                            break;
                        case OandaLine.Malformed:
                            Malformed($"{problem}: {Preview(line)}");
                            break;
                        case OandaLine.Other:
                            // The pricing stream carries only PRICE and HEARTBEAT: anything else is unexpected.
                            Malformed($"unexpected message type: {Preview(line)}");
                            break;
                        default:
                            break;
                    }
                }

                if (start == end)
                {
                    start = end = 0;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static string Preview(ReadOnlySpan<byte> line) => Alpaca.AlpacaMessageParser.Preview(line);
}
