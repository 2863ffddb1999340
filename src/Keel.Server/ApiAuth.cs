using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Keel.Server;

/// <summary>
/// Bearer tokens with a scope. A presented token is hashed and compared with each configured token's hash in constant
/// time, so neither its content nor its length shows in the time an answer takes. Tokens never reach a log or an error.
/// </summary>
internal sealed class ApiAuth
{
    private readonly (byte[] Hash, ApiToken Token)[] _tokens;

    public ApiAuth(IReadOnlyList<ApiToken> tokens) =>
        _tokens = [.. tokens.Select(t => (SHA256.HashData(Encoding.UTF8.GetBytes(t.Token)), t))];

    /// <summary>The token presented, if any: the Authorization header, or a WebSocket subprotocol <c>keel.bearer.TOKEN</c> (browsers cannot set headers on a WebSocket).</summary>
    public static string? Presented(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return header["Bearer ".Length..].Trim();
        }

        foreach (var protocol in context.WebSockets.WebSocketRequestedProtocols)
        {
            if (protocol.StartsWith(BearerProtocol, StringComparison.Ordinal))
            {
                return protocol[BearerProtocol.Length..];
            }
        }

        return null;
    }

    public const string BearerProtocol = "keel.bearer.";

    /// <summary>The configured token matching <paramref name="presented"/>, or null.</summary>
    public ApiToken? Find(string? presented)
    {
        if (string.IsNullOrEmpty(presented))
        {
            return null;
        }

        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(presented), hash);
        ApiToken? found = null;
        foreach (var (h, token) in _tokens)
        {
            // Every token is compared, so which one matched does not show in the time either.
            if (CryptographicOperations.FixedTimeEquals(h, hash))
            {
                found = token;
            }
        }

        return found;
    }

    /// <summary>Null when the request may go on; else the problem to answer with (401 without a valid token, 403 without the scope).</summary>
    public IResult? Check(HttpContext context, TokenScope needed)
    {
        var presented = Presented(context);
        var token = Find(presented);
        if (token is null)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            return Problems.Of(StatusCodes.Status401Unauthorized, "Unauthorized",
                presented is null ? "this endpoint needs a bearer token (Authorization: Bearer TOKEN)" : "the bearer token is not one this server accepts");
        }

        if (token.Scope < needed)
        {
            return Problems.Of(StatusCodes.Status403Forbidden, "Forbidden", $"token '{token.Name}' has {Scope(token.Scope)} scope; this needs {Scope(needed)} scope");
        }

        context.Items[typeof(ApiToken)] = token;
        return null;
    }

    public static string Scope(TokenScope scope) => scope == TokenScope.Trade ? "trade" : "read";
}

/// <summary>Errors as RFC 9457 problem details (application/problem+json), each saying what was wrong.</summary>
internal static class Problems
{
    public static IResult Of(int status, string title, string detail) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: title);

    public static IResult BadRequest(string detail) => Of(StatusCodes.Status400BadRequest, "Bad request", detail);

    /// <summary>A 400 naming the request field that is wrong, in the detail and as the extension member <c>field</c>.</summary>
    public static IResult BadRequest(string detail, string? field) => field is null ? BadRequest(detail)
        : TypedResults.Problem(detail: detail, statusCode: StatusCodes.Status400BadRequest, title: "Bad request", extensions: new Dictionary<string, object?>(StringComparer.Ordinal) { ["field"] = field });

    public static IResult NotFound(string detail) => Of(StatusCodes.Status404NotFound, "Not found", detail);

    public static IResult Conflict(string detail) => Of(StatusCodes.Status409Conflict, "Conflict", detail);
}
