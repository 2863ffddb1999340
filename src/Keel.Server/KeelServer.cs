using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Keel.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Keel.Server;

/// <summary>
/// <c>keel serve</c>: the runs of one store over REST (<c>/api</c>) and WebSocket, TradingView webhooks, Prometheus
/// metrics and a dashboard, in one process. Loopback only unless configured; every API call needs a bearer token, and
/// anything that changes state one with trade scope.
/// </summary>
public sealed class KeelServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ServerRuns _runs;
    private readonly CancellationTokenSource _stopping;
    private int _disposed;

    private KeelServer(WebApplication app, ServerRuns runs, CancellationTokenSource stopping, IReadOnlyList<Uri> addresses)
    {
        _app = app;
        _runs = runs;
        _stopping = stopping;
        Addresses = addresses;
    }

    /// <summary>Where it listens (a port 0 in the configuration is resolved to the port bound).</summary>
    public IReadOnlyList<Uri> Addresses { get; }

    /// <summary>The first address: <c>http://127.0.0.1:PORT</c>.</summary>
    public Uri BaseAddress => Addresses[0];

    /// <summary>Checks the options, opens the store, binds and starts serving. A busy port throws <see cref="IOException"/>.</summary>
    public static async Task<KeelServer> StartAsync(ServerOptions options, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        loggerFactory ??= NullLoggerFactory.Instance;
        var log = loggerFactory.CreateLogger(ServerLog.Category);
        Validate(options);

        // The store is opened (and migrated) once here, so a bad store fails the start and not the first request.
        using (KeelStore.Open(options.Db))
        {
        }

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "Keel.Server", Args = [] });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggerFactory);
        builder.WebHost.UseUrls(options.Urls).ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = 1024 * 1024;
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, ServerJson.Default));
        builder.Services.AddProblemDetails();
        builder.Services.AddOpenApi("v1", o => o.AddDocumentTransformer((doc, _, _) =>
        {
            doc.Info.Title = "Keel server API";
            doc.Info.Description = "Runs (backtest, paper, live) over REST and WebSocket, TradingView webhooks and metrics. Every /api call needs 'Authorization: Bearer TOKEN'; anything that changes state needs a token with trade scope.";
            return Task.CompletedTask;
        }));

        var app = builder.Build();
        var stopping = new CancellationTokenSource();
        var runs = new ServerRuns(options, log);
        var auth = new ApiAuth(options.Tokens);
        var stats = new ServerStats();
        var webhooks = new TradingViewWebhooks(options.Webhooks, runs, stats, options.Time, log);
        try
        {
            app.UseExceptionHandler(new ExceptionHandlerOptions
            {
                StatusCodeSelector = ex => ex is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError,
            });
            app.UseStatusCodePages();
            app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(20) });
            app.Use((context, next) => TimedAsync(context, next, stats));

            app.MapGet("/health", (CancellationToken ct) => Health.CheckAsync(runs, ct)).WithName("Health").WithSummary("The store, and each running run's venue and feed (no token needed): 200 ok or degraded (a feed not subscribed, a circuit breaker open, trading halted), 503 when the store is down.").Produces<HealthView>().Produces<HealthView>(StatusCodes.Status503ServiceUnavailable);
            var api = app.MapGroup("/api");
            var read = api.MapGroup(string.Empty).AddEndpointFilter(async (ctx, next) => auth.Check(ctx.HttpContext, TokenScope.Read) ?? await next(ctx).ConfigureAwait(false));
            var trade = api.MapGroup(string.Empty).AddEndpointFilter(async (ctx, next) => auth.Check(ctx.HttpContext, TokenScope.Trade) ?? await next(ctx).ConfigureAwait(false));
            RunsApi.Map(read, trade, runs, log);
            DecisionsApi.Map(read, trade, runs, options.DecisionSymbols, options.Time, log);
            new EventStreams(runs, stats, options.ClientBuffer, log).Map(read, stopping.Token);
            webhooks.Map(app);
            Dashboard.Map(app);
            Metrics.Map(app.MapGroup(string.Empty).AddEndpointFilter(async (ctx, next) => auth.Check(ctx.HttpContext, TokenScope.Read) ?? await next(ctx).ConfigureAwait(false)), runs, stats);
            app.MapOpenApi("/openapi/{documentName}.json");
            var root = await StartAppAsync(app, options.Urls, cancellationToken).ConfigureAwait(false);
            foreach (var address in root)
            {
                ServerLog.Listening(log, address.ToString());
            }

            return new KeelServer(app, runs, stopping, root) { Stats = stats, Webhooks = webhooks };
        }
        catch
        {
            await stopping.CancelAsync().ConfigureAwait(false);
            await webhooks.DisposeAsync().ConfigureAwait(false);
            await runs.DisposeAsync().ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
            stopping.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Times a request of the <c>/api</c> or <c>/webhooks</c> group into its histogram (a WebSocket stream lives for as
    /// long as its client and is left out); anything else passes straight through.
    /// </summary>
    private static Task TimedAsync(HttpContext context, RequestDelegate next, ServerStats stats)
    {
        var path = context.Request.Path;
        var histogram = path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase) ? (context.WebSockets.IsWebSocketRequest ? null : stats.ApiRequests)
            : path.StartsWithSegments("/webhooks", StringComparison.OrdinalIgnoreCase) ? stats.WebhookRequests : null;
        return histogram is null ? next(context) : TimeAsync(context, next, histogram);

        static async Task TimeAsync(HttpContext context, RequestDelegate next, LatencyHistogram histogram)
        {
            long start = Stopwatch.GetTimestamp();
            try
            {
                await next(context).ConfigureAwait(false);
            }
            finally
            {
                histogram.ObserveSince(start);
            }
        }
    }

    private static void Validate(ServerOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Urls))
        {
            throw new ArgumentException("the server needs an address to listen on, e.g. http://127.0.0.1:8080", nameof(options));
        }

        foreach (var t in options.Tokens)
        {
            if (t.Token.Length < 16)
            {
                throw new ArgumentException($"token '{t.Name}' has {t.Token.Length} characters; a token needs at least 16 (e.g. openssl rand -hex 32)", nameof(options));
            }

            if (!Enum.IsDefined(t.Scope))
            {
                throw new ArgumentException($"token '{t.Name}' has no valid scope; it must be read or trade", nameof(options));
            }
        }

        if (options.ClientBuffer < 16)
        {
            throw new ArgumentException($"the WebSocket client buffer was {options.ClientBuffer} events; it must be at least 16", nameof(options));
        }
    }

    private static async Task<IReadOnlyList<Uri>> StartAppAsync(WebApplication app, string urls, CancellationToken cancellationToken)
    {
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex) when (ex.InnerException is SocketException or null || ex.Message.Contains("address", StringComparison.OrdinalIgnoreCase))
        {
            throw new IOException($"cannot listen on {urls}: the address is in use or not allowed; pick another port (or 0 for any free port)", ex);
        }

        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        return [.. addresses.Select(a => new Uri(a.Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal).Replace("[::]", "127.0.0.1", StringComparison.Ordinal)))];
    }

    /// <summary>Stops every run this server started (each snapshots and can be resumed), closes the streams and the listener.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await Webhooks.DisposeAsync().ConfigureAwait(false);
        await _runs.DisposeAsync().ConfigureAwait(false);
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
        {
            try
            {
                await _app.StopAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Connections that did not close in time are cut.
            }
        }

        await _app.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    internal ServerRuns Runs => _runs;

    /// <summary>Every route the server maps (tests enumerate them so a new endpoint is covered automatically).</summary>
    internal IReadOnlyList<RouteEndpoint> Endpoints => [.. ((IEndpointRouteBuilder)_app).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>()];

    internal ServerStats Stats { get; private init; } = new();

    internal TradingViewWebhooks Webhooks { get; private init; } = null!;

    internal static IPAddress? Remote(HttpContext context) => context.Connection.RemoteIpAddress is { IsIPv4MappedToIPv6: true } v6 ? v6.MapToIPv4() : context.Connection.RemoteIpAddress;
}
