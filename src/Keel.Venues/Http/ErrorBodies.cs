using System.Text.Json;

namespace Keel.Venues.Http;

internal static class ErrorBodies
{
    /// <summary>The <c>errorMessage</c> of an OANDA error body (§D.7), or a short preview of whatever came instead.</summary>
    public static async Task<string> ReadMessageAsync(HttpResponseMessage response, CancellationToken ct)
    {
        string body;
        try
        {
            body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        }
        catch (HttpRequestException)
        {
            return "(no body)";
        }

        return ErrorText(body, "errorMessage");
    }

    /// <summary>The string property <paramref name="property"/> of a JSON error body, else the body itself, shortened.</summary>
    public static string ErrorText(string body, string property)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty(property, out var message) && message.ValueKind == JsonValueKind.String)
            {
                return message.GetString()!;
            }
        }
        catch (JsonException)
        {
            // Not JSON: show it as it is.
        }

        body = body.ReplaceLineEndings(" ").Trim();
        return body.Length == 0 ? "(empty body)" : body.Length > 200 ? body[..200] + "…" : body;
    }
}
