using System.Globalization;
using System.Net;

namespace Keel.Venues.Http;

/// <summary>
/// Sends a REST request, waiting out 429 (rate limit) and transient 5xx/connection failures with back-off: the
/// <c>Retry-After</c> header, Alpaca's <c>X-Ratelimit-Reset</c> (epoch seconds), or 1 s doubling to 30 s; at most
/// <see cref="MaxAttempts"/> tries. A server that cannot be reached at all on first contact (connection refused, host
/// not found) is a wrong URL, not a hiccup: that fails at once.
/// </summary>
internal static class RestRetry
{
    public const int MaxAttempts = 6;

    public static async Task<HttpResponseMessage> SendAsync(HttpClient http, Func<HttpRequestMessage> request, string what, TimeProvider time, CancellationToken ct, TimeSpan? firstDelay = null, TimeSpan? maxWait = null, bool firstContact = false)
    {
        var delay = firstDelay ?? TimeSpan.FromSeconds(1);
        var cap = maxWait ?? TimeSpan.FromSeconds(60);
        for (int attempt = 1; ; attempt++)
        {
            HttpResponseMessage? response = null;
            string reason;
            Uri? target = null;
            try
            {
                using var message = request();
                target = message.RequestUri;
                response = await http.SendAsync(message, HttpCompletionOption.ResponseContentRead, ct).ConfigureAwait(false);
                if (response.StatusCode != HttpStatusCode.TooManyRequests && (int)response.StatusCode < 500)
                {
                    return response;
                }

                reason = $"HTTP {(int)response.StatusCode}";
            }
            catch (HttpRequestException ex) when (firstContact && CannotConnect(ex) is string why)
            {
                var where = target is null ? "the server" : target.GetLeftPart(UriPartial.Authority);
                throw new VenueRequestException($"{what}: could not connect to {where}: {why}");
            }
            catch (HttpRequestException ex)
            {
                reason = ex.Message;
            }

            var wait = response is null ? delay : WaitFor(response, time) ?? delay;
            wait = wait > cap ? cap : wait;
            response?.Dispose();
            if (attempt >= MaxAttempts)
            {
                throw new VenueRequestException($"{what}: gave up after {attempt} attempts ({reason})");
            }

            await Task.Delay(wait, time, ct).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, Math.Min(cap.Ticks, TimeSpan.FromSeconds(30).Ticks)));
        }
    }

    /// <summary>"connection refused" or "host not found" when no connection could be made at all; else null.</summary>
    private static string? CannotConnect(HttpRequestException ex)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is System.Net.Sockets.SocketException socket)
            {
                return socket.SocketErrorCode switch
                {
                    System.Net.Sockets.SocketError.ConnectionRefused => "connection refused",
                    System.Net.Sockets.SocketError.HostNotFound or System.Net.Sockets.SocketError.NoData => "host not found",
                    _ => null,
                };
            }
        }

        return null;
    }

    private static TimeSpan? WaitFor(HttpResponseMessage response, TimeProvider time)
    {
        if (response.Headers.RetryAfter is { } retry)
        {
            if (retry.Delta is { } delta)
            {
                return Clamp(delta);
            }

            if (retry.Date is { } date)
            {
                return Clamp(date - time.GetUtcNow());
            }
        }

        if (response.Headers.TryGetValues("X-Ratelimit-Reset", out var values)
            && long.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out long reset))
        {
            return Clamp(DateTimeOffset.FromUnixTimeSeconds(reset) - time.GetUtcNow());
        }

        return null;
    }

    private static TimeSpan Clamp(TimeSpan t) => t < TimeSpan.FromMilliseconds(50) ? TimeSpan.FromMilliseconds(50) : t > TimeSpan.FromSeconds(60) ? TimeSpan.FromSeconds(60) : t;
}
