using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;

namespace Keel.Runtime.Alerts;

/// <summary>Somewhere alerts go (a Telegram chat, a webhook). Implementations are called from one thread at a time.</summary>
public interface IAlertSink
{
    /// <summary>A name for logs and counters; never a secret.</summary>
    string Name { get; }

    /// <summary>Delivers one alert, or throws <see cref="AlertDeliveryException"/> saying whether trying again can help.</summary>
    Task SendAsync(Alert alert, CancellationToken ct);
}

/// <summary>An alert was not delivered. The message never holds a token or a secret.</summary>
public sealed class AlertDeliveryException : Exception
{
    public AlertDeliveryException(string message, bool transient, TimeSpan? retryAfter = null)
        : base(message)
    {
        Transient = transient;
        RetryAfter = retryAfter;
    }

    public AlertDeliveryException()
    {
    }

    public AlertDeliveryException(string message)
        : base(message)
    {
    }

    public AlertDeliveryException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Trying again later may succeed (a timeout, a 5xx, a 429); otherwise the request itself is wrong (a bad token).</summary>
    public bool Transient { get; }

    /// <summary>The endpoint refuses us (401, 403, 404: a wrong token, chat or address): later alerts would fail the same way.</summary>
    public bool Refused { get; init; }

    /// <summary>How long the endpoint asked us to wait (Telegram's <c>retry_after</c>, HTTP <c>Retry-After</c>).</summary>
    public TimeSpan? RetryAfter { get; }
}

/// <summary>Shared HTTP plumbing of the sinks: one POST of a JSON body, failures classified, secrets kept out of messages.</summary>
internal static class AlertHttp
{
    public static byte[] Json(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer))
        {
            write(w);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Posts <paramref name="body"/>; returns the status and response body, or throws a transient failure when nothing came back.</summary>
    public static async Task<(HttpStatusCode Status, string Body, TimeSpan? RetryAfter)> PostAsync(HttpClient http, Uri url, byte[] body, string what, Action<HttpRequestMessage>? decorate, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        decorate?.Invoke(request);
        try
        {
            using var response = await http.SendAsync(request, ct).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            var retry = response.Headers.RetryAfter?.Delta;
            return (response.StatusCode, text.Length > 300 ? text[..300] : text, retry);
        }
        catch (HttpRequestException ex)
        {
            // The message names the host and the socket error, never the path (where Telegram's token is).
            throw new AlertDeliveryException($"{what}: {ex.HttpRequestError switch { HttpRequestError.NameResolutionError => "the host name did not resolve", HttpRequestError.ConnectionError => "could not connect", HttpRequestError.SecureConnectionError => "the TLS handshake failed", _ => "the request failed" }} ({url.Host}:{url.Port})", transient: true);
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new AlertDeliveryException($"{what}: no answer within {http.Timeout.TotalSeconds:0} s ({url.Host}:{url.Port})", transient: true);
        }
    }

    public static bool IsTransient(HttpStatusCode status) => (int)status >= 500 || status is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout;

    public static bool IsRefusal(HttpStatusCode status) => status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.NotFound;
}

/// <summary>
/// Sends alerts to a Telegram chat through the Bot API's <c>sendMessage</c> (<c>POST {base}/bot{token}/sendMessage</c>).
/// The base address is configurable (a local Bot API server, or a fake one in tests).
/// </summary>
/// <remarks>
/// Written against the Bot API directly rather than with Telegram.Bot: one request is all Keel needs, and Telegram.Bot
/// 22.10 still serializes requests by runtime type, which raises trim and AOT warnings in the native <c>keel</c>
/// (TelegramBots/Telegram.Bot#1481).
/// </remarks>
public sealed class TelegramAlertSink(HttpClient http, string token, string chatId, Uri? baseUrl = null) : IAlertSink
{
    /// <summary>The Bot API's address.</summary>
    public static readonly Uri DefaultBaseUrl = new("https://api.telegram.org/");

    // Built as text: a token holds a colon ("123456:ABC…"), which a relative URI would read as a scheme.
    private readonly Uri _url = new($"{(baseUrl ?? DefaultBaseUrl).AbsoluteUri.TrimEnd('/')}/bot{token}/sendMessage");

    public string Name => "telegram";

    public async Task SendAsync(Alert alert, CancellationToken ct)
    {
        var body = AlertHttp.Json(w =>
        {
            w.WriteStartObject();
            w.WriteString("chat_id", chatId);
            w.WriteString("text", $"{alert.Title}\n{alert.Text}");
            w.WriteBoolean("disable_web_page_preview", true);
            w.WriteEndObject();
        });
        var (status, text, retryAfter) = await AlertHttp.PostAsync(http, _url, body, "telegram", null, ct).ConfigureAwait(false);
        if ((int)status is >= 200 and < 300)
        {
            return;
        }

        // {"ok":false,"error_code":429,"description":"Too Many Requests: retry after 5","parameters":{"retry_after":5}}
        string description = $"HTTP {(int)status}";
        try
        {
            using var doc = JsonDocument.Parse(text);
            var root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                if (root.TryGetProperty("description", out var d) && d.ValueKind == JsonValueKind.String)
                {
                    description = $"HTTP {(int)status}: {Scrub(d.GetString()!)}";
                }

                if (root.TryGetProperty("parameters", out var p) && p.ValueKind == JsonValueKind.Object
                    && p.TryGetProperty("retry_after", out var r) && r.TryGetInt32(out int seconds))
                {
                    retryAfter = TimeSpan.FromSeconds(seconds);
                }
            }
        }
        catch (JsonException)
        {
            // Not the Bot API's error shape (a proxy's page): the status says enough.
        }

        throw new AlertDeliveryException($"telegram: {description}", AlertHttp.IsTransient(status), retryAfter) { Refused = AlertHttp.IsRefusal(status) };
    }

    private string Scrub(string text) => token.Length == 0 ? text : text.Replace(token, "***", StringComparison.Ordinal);
}

/// <summary>
/// Posts alerts as JSON to any URL: <c>{"kind", "run", "title", "text", "time"}</c>. With a secret, the request carries
/// <c>X-Keel-Signature: sha256=&lt;hex HMAC-SHA256 of the body&gt;</c>, so the receiver can check it came from Keel.
/// </summary>
public sealed class WebhookAlertSink(HttpClient http, Uri url, string? secret = null) : IAlertSink
{
    /// <summary>The header that carries the body's HMAC when a secret is configured.</summary>
    public const string SignatureHeader = "X-Keel-Signature";

    public string Name => "webhook";

    public static string Signature(ReadOnlySpan<byte> body, string secret) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(System.Text.Encoding.UTF8.GetBytes(secret), body));

    public async Task SendAsync(Alert alert, CancellationToken ct)
    {
        var body = AlertHttp.Json(w =>
        {
            w.WriteStartObject();
            w.WriteString("kind", AlertKinds.Name(alert.Kind));
            w.WriteString("run", alert.RunId);
            w.WriteString("title", alert.Title);
            w.WriteString("text", alert.Text);
            w.WriteString("time", alert.Time.ToString());
            w.WriteEndObject();
        });
        Action<HttpRequestMessage>? sign = secret is { Length: > 0 } s ? r => r.Headers.TryAddWithoutValidation(SignatureHeader, Signature(body, s)) : null;
        var (status, _, retryAfter) = await AlertHttp.PostAsync(http, url, body, "webhook", sign, ct).ConfigureAwait(false);
        if ((int)status is >= 200 and < 300)
        {
            return;
        }

        throw new AlertDeliveryException($"webhook: HTTP {((int)status).ToString(CultureInfo.InvariantCulture)} from {url.Host}:{url.Port}", AlertHttp.IsTransient(status), retryAfter) { Refused = AlertHttp.IsRefusal(status) };
    }
}
