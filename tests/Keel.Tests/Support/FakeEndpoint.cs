using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Keel.Tests.Support;

/// <summary>
/// A local HTTP endpoint on a free loopback port that records every request (method, path, headers, body) and answers
/// what <see cref="Answer"/> says: a stand-in for Telegram's Bot API or a user's webhook receiver.
/// </summary>
public sealed class FakeEndpoint : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly List<Request> _requests = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public sealed record Request(string Method, string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body)
    {
        public string Text => System.Text.Encoding.UTF8.GetString(Body);
    }

    private FakeEndpoint(WebApplication app) => _app = app;

    /// <summary>The status and body of the answer to the request numbered n (from 1); 200 and {"ok":true} by default.</summary>
    public Func<int, Request, (int Status, string Body)> Answer { get; set; } = (_, _) => (200, """{"ok":true,"result":{}}""");

    public Uri Url { get; private set; } = null!;

    public IReadOnlyList<Request> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    public static async Task<FakeEndpoint> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var fake = new FakeEndpoint(app);
        app.Run(fake.HandleAsync);
        await app.StartAsync();
        fake.Url = new Uri(app.Urls.First() + "/");
        return fake;
    }

    /// <summary>Waits until <paramref name="condition"/> holds over the requests so far.</summary>
    public async Task UntilAsync(Func<IReadOnlyList<Request>, bool> condition, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            Task changed;
            lock (_requests)
            {
                if (condition(_requests))
                {
                    return;
                }

                changed = _changed.Task;
            }

            await changed.WaitAsync(cts.Token);
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        var request = new Request(
            context.Request.Method,
            context.Request.Path.Value ?? string.Empty,
            context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
            body.ToArray());
        int n;
        TaskCompletionSource changed;
        lock (_requests)
        {
            _requests.Add(request);
            n = _requests.Count;
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        var (status, text) = Answer(n, request);
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(text);
        changed.TrySetResult();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
