using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Keel.Server;

/// <summary>
/// The dashboard: a page, a script, a style sheet and the bundled lightweight-charts, embedded in the assembly (no Node,
/// no files at run time). The page holds no data: it reads the API with the token it is opened with (<c>/#token=…</c>).
/// </summary>
internal static class Dashboard
{
    private static readonly Dictionary<string, (string Resource, string Type)> Files = new(StringComparer.Ordinal)
    {
        ["/"] = ("index.html", "text/html; charset=utf-8"),
        ["/dashboard/app.js"] = ("app.js", "text/javascript; charset=utf-8"),
        ["/dashboard/app.css"] = ("app.css", "text/css; charset=utf-8"),
        ["/dashboard/lightweight-charts.js"] = ("lightweight-charts.js", "text/javascript; charset=utf-8"),
        ["/api-docs"] = ("api.html", "text/html; charset=utf-8"),
        ["/dashboard/api.js"] = ("api.js", "text/javascript; charset=utf-8"),
    };

    private static readonly Dictionary<string, byte[]> Cache = new(StringComparer.Ordinal);

    public static void Map(IEndpointRouteBuilder app)
    {
        foreach (var (path, (resource, type)) in Files)
        {
            app.MapGet(path, (HttpContext context) => Serve(context, resource, type)).ExcludeFromDescription();
        }
    }

    private static Microsoft.AspNetCore.Http.HttpResults.FileContentHttpResult Serve(HttpContext context, string resource, string type)
    {
        byte[] bytes;
        lock (Cache)
        {
            if (!Cache.TryGetValue(resource, out bytes!))
            {
                using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("Keel.Server.Dashboard." + resource)
                    ?? throw new InvalidOperationException($"the dashboard's {resource} is not embedded in Keel.Server");
                using var copy = new MemoryStream();
                stream.CopyTo(copy);
                bytes = copy.ToArray();
                Cache[resource] = bytes;
            }
        }

        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'";
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        return TypedResults.Bytes(bytes, type);
    }
}
