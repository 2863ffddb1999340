using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Keel.Domain;
using Keel.Sandbox.Market;
using Keel.Sandbox.Rest;
using Keel.Sandbox.Streaming;
using Keel.Sandbox.Wire;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Keel.Sandbox;

/// <summary>
/// A local server speaking Alpaca's and OANDA's market data protocols: the Alpaca data WebSocket and bars REST on
/// one port, the OANDA candles REST and pricing stream on another, replaying bar files as ticks (or generating them),
/// with switchable faults and a control API under <c>/_sandbox/</c>.
/// </summary>
public sealed class SandboxServer : IAsyncDisposable
{
    private readonly WebApplication _alpacaApp;
    private readonly WebApplication _oandaApp;
    private readonly CancellationTokenSource _stopping;
    private readonly VenueFeed _alpacaFeed;
    private readonly VenueFeed _oandaFeed;
    private readonly Trading.Alpaca.AlpacaTradingApi _alpacaTrading;
    private readonly Trading.Oanda.OandaAccount _oandaAccount;
    private readonly TaskCompletionSource _replayCompleted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _disposed;

    private SandboxServer(WebApplication alpacaApp, WebApplication oandaApp, CancellationTokenSource stopping, VenueFeed alpacaFeed, VenueFeed oandaFeed,
        Trading.Alpaca.AlpacaTradingApi alpacaTrading, Trading.Oanda.OandaAccount oandaAccount, SandboxFaults faults, SandboxStats stats, Uri alpaca, Uri oanda)
    {
        _alpacaTrading = alpacaTrading;
        _oandaAccount = oandaAccount;
        _alpacaApp = alpacaApp;
        _oandaApp = oandaApp;
        _stopping = stopping;
        _alpacaFeed = alpacaFeed;
        _oandaFeed = oandaFeed;
        Faults = faults;
        Stats = stats;
        AlpacaRestBase = alpaca;
        AlpacaStreamBase = new UriBuilder(alpaca) { Scheme = "ws" }.Uri;
        OandaRestBase = oanda;
        OandaStreamBase = oanda;
        foreach (var feed in new[] { alpacaFeed, oandaFeed })
        {
            feed.ReplayCompleted.ContinueWith(_ => CheckReplayCompleted(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private void CheckReplayCompleted()
    {
        var feeds = new[] { _alpacaFeed, _oandaFeed };
        if (feeds.FirstOrDefault(f => f.ReplayCompleted.IsFaulted) is { } failed)
        {
            _replayCompleted.TrySetException(failed.ReplayCompleted.Exception!.InnerExceptions);
        }
        else if (feeds.Any(f => f.ReplayCompleted.IsCanceled))
        {
            _replayCompleted.TrySetCanceled();
        }
        else if (feeds.All(f => f.ReplayCompleted.IsCompletedSuccessfully || !f.Started) && (feeds.Any(f => f.Started) || feeds.All(f => f.ReplayCompleted.IsCompletedSuccessfully)))
        {
            _replayCompleted.TrySetResult();
        }
    }

    /// <summary><c>ws://host:port</c>; clients connect to <c>{base}/v2/iex</c>, <c>/v2/sip</c>, <c>/v2/test</c> …</summary>
    public Uri AlpacaStreamBase { get; }

    /// <summary><c>http://host:port</c> (same port as the stream): <c>/v2/stocks/…/bars</c>.</summary>
    public Uri AlpacaRestBase { get; }

    /// <summary><c>http://host:port</c>: <c>/v3/instruments/…/candles</c>.</summary>
    public Uri OandaRestBase { get; }

    /// <summary><c>http://host:port</c> (same port as OANDA REST): <c>/v3/accounts/{id}/pricing/stream</c>.</summary>
    public Uri OandaStreamBase { get; }

    public SandboxFaults Faults { get; }

    public SandboxStats Stats { get; }

    /// <summary>
    /// Completes when every series has been replayed to the end and written to the connected subscribers, on every
    /// venue whose replay has started (a venue starts when a client first subscribes there; one nobody uses does not
    /// hold this up). At once when there is nothing to replay.
    /// </summary>
    public Task ReplayCompleted => _replayCompleted.Task;

    /// <summary>Completes when the Alpaca stream has replayed every series and written it to the clients connected at the end.</summary>
    public Task AlpacaReplayCompleted => _alpacaFeed.ReplayCompleted;

    /// <summary>Completes when the OANDA stream has replayed every series and written it to the clients connected at the end.</summary>
    public Task OandaReplayCompleted => _oandaFeed.ReplayCompleted;

    /// <summary>
    /// With <see cref="SandboxOptions.Lockstep"/>: publishes the next replayed event on each venue whose replay has started
    /// (a client subscribed). A tick fills the trading account's orders first; <paramref name="afterTrading"/> runs
    /// before the tick reaches the market data clients (a test waits there for the fills to be booked, as a simulated
    /// exchange books them before the strategy sees the tick); the call returns once the event is written to every
    /// client. Returns the last venue's step, or null when no replay has anything left.
    /// </summary>
    public async Task<SandboxStep?> StepAsync(Func<SandboxStep, Task>? afterTrading = null, CancellationToken cancellationToken = default)
    {
        SandboxStep? last = null;
        foreach (var feed in new[] { _alpacaFeed, _oandaFeed })
        {
            if (await feed.StepAsync(afterTrading, cancellationToken).ConfigureAwait(false) is { } step)
            {
                last = step;
            }
        }

        return last;
    }

    /// <summary>
    /// The simulated Alpaca account's net position in <paramref name="symbol"/> and its open orders there, read in process:
    /// no request, so no fault and no rate limit touches it (a test compares a run's book with it between steps).
    /// </summary>
    public (Quantity Position, int OpenOrders) AlpacaBook(string symbol) => _alpacaTrading.Account.Holdings(symbol);

    /// <summary>
    /// The simulated OANDA account's net units in <paramref name="instrument"/> (its open trades, long minus short) and its
    /// pending orders there that are not attached to a trade, read in process as <see cref="AlpacaBook"/>.
    /// </summary>
    public (Quantity Position, int OpenOrders) OandaBook(string instrument) => _oandaAccount.Holdings(instrument);

    /// <summary>Loads the series, binds both ports and starts serving. Bad data throws <see cref="Keel.Engine.Data.DataFormatException"/>; a busy port throws <see cref="IOException"/>.</summary>
    public static Task<SandboxServer> StartAsync(SandboxOptions options, CancellationToken cancellationToken = default) =>
        StartAsync(options, null, cancellationToken);

    /// <summary>As <see cref="StartAsync(SandboxOptions, CancellationToken)"/>, logging where it listens, clients and fault drills.</summary>
    public static async Task<SandboxServer> StartAsync(SandboxOptions options, ILoggerFactory? loggerFactory, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var log = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger(SandboxLog.Category);
        Validate(options);
        var time = TimeProvider.System;
        var loaded = await Task.Run(() => options.Series.Select(SeriesData.Load).ToList(), cancellationToken).ConfigureAwait(false);
        var bySymbol = new Dictionary<string, SeriesData>(StringComparer.Ordinal);
        foreach (var s in loaded)
        {
            if (!bySymbol.TryAdd(s.Symbol, s))
            {
                throw new ArgumentException($"symbol {s.Symbol} is given two series ({bySymbol[s.Symbol].Path} and {s.Path}); each symbol can be replayed from one file", nameof(options));
            }
        }

        var generator = options.Generator;
        int generatorDecimals = generator is null ? 0 : new RandomWalk(generator).Decimals;
        if (generator is not null && generator.Symbols.FirstOrDefault(bySymbol.ContainsKey) is { } both)
        {
            throw new ArgumentException($"symbol {both} is both replayed from a file and generated; pick one", nameof(options));
        }

        long halfSpread = Price.From(options.HalfSpread).Raw;
        int spreadDecimals = SeriesData.DecimalsOf(halfSpread);
        int Decimals(string symbol) => Math.Max(spreadDecimals, bySymbol.TryGetValue(symbol, out var s) ? s.Decimals
            : (generator is null || !generator.Symbols.Contains(symbol)) && options.OandaInstruments.Contains(symbol) ? Trading.Oanda.OandaAccount.ScriptedDecimals(symbol) : generatorDecimals);

        var stats = new SandboxStats();

        // OANDA trading: one simulated account filling on the OANDA feed's prices.
        var oandaInstruments = new HashSet<string>(bySymbol.Keys.Concat(generator?.Symbols ?? []).Concat(options.OandaInstruments), StringComparer.Ordinal);
        var oandaAccount = new Trading.Oanda.OandaAccount(options, oandaInstruments, Decimals, time);
        var stopping = new CancellationTokenSource();
        Trading.Alpaca.AlpacaTradingApi? alpacaTrading = null;
        var alpacaFeed = new VenueFeed("alpaca", stats.Alpaca, loaded, generator, options.Speed, time, e =>
        {
            if (e.Kind == MarketEventKind.Tick)
            {
                e.Primary = AlpacaWire.Trade(e);
                e.Secondary = AlpacaWire.Quote(e, halfSpread);
                alpacaTrading?.OnFeedTick(e.Symbol, e.Price);
            }
            else
            {
                e.Primary = AlpacaWire.StreamBar(e);
            }
        }, stopping.Token, options.Lockstep)
        { Logger = log };
        var oandaFeed = new VenueFeed("oanda", stats.Oanda, loaded, generator, options.Speed, time, e =>
        {
            if (e.Kind == MarketEventKind.Tick)
            {
                e.Primary = OandaWire.Price(e, halfSpread, Decimals(e.Symbol), unixTimes: false);
                oandaAccount.OnPrice(e.Symbol, e.Time, e.Price);
            }
        }, stopping.Token, options.Lockstep)
        { Logger = log };
        oandaFeed.AddSymbols(options.OandaInstruments);
        var faults = new SandboxFaults(time, () => Drop(alpacaFeed, oandaFeed));
        var hub = new AlpacaStreamHub(options, faults, stats, alpacaFeed, time);
        var trading = new Trading.Alpaca.AlpacaTradingApi(options, faults, alpacaFeed, halfSpread, time, log);
        alpacaTrading = trading;
        var alpacaRest = new AlpacaRest(options, faults, stats.Alpaca, bySymbol, time);
        var oandaRest = new OandaRest(options, faults, stats, oandaFeed, bySymbol, Decimals, time);
        var oandaTrading = new Trading.Oanda.OandaTradingApi(options, faults, oandaFeed, oandaAccount, Decimals, time, log);

        WebApplication? alpacaApp = null, oandaApp = null;
        try
        {
            alpacaApp = Build(options.Host, options.AlpacaPort, app =>
            {
                app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(30) });
                foreach (var feed in AlpacaStreamHub.Feeds)
                {
                    app.Map("/v2/" + feed, ctx => hub.HandleAsync(ctx, feed, stopping.Token));
                }

                app.Map("/v1beta3/crypto/us", ctx => hub.HandleAsync(ctx, "crypto", stopping.Token));
                app.MapGet("/v2/stocks/bars", alpacaRest.MultiAsync);
                app.MapGet("/v2/stocks/{symbol}/bars", alpacaRest.SingleAsync);
                trading.Map(app, stopping.Token); // Trading API v2, /stream (trade_updates), /_sandbox/alpaca/…
            }, faults, stats, log);
            oandaApp = Build(options.Host, options.OandaPort, app =>
            {
                app.MapGet("/v3/instruments/{instrument}/candles", oandaRest.CandlesAsync);
                app.MapGet("/v3/accounts/{accountId}/instruments/{instrument}/candles", oandaRest.AccountCandlesAsync);
                app.MapGet("/v3/accounts/{accountId}/pricing", oandaRest.PricingAsync);
                app.MapGet("/v3/accounts/{accountId}/pricing/stream", ctx => oandaRest.StreamAsync(ctx, stopping.Token));
                oandaTrading.Map(app, stopping.Token);
            }, faults, stats, log);
            var alpacaUri = await StartAppAsync(alpacaApp, "Alpaca", options.Host, options.AlpacaPort, cancellationToken).ConfigureAwait(false);
            var oandaUri = await StartAppAsync(oandaApp, "OANDA", options.Host, options.OandaPort, cancellationToken).ConfigureAwait(false);
            SandboxLog.Listening(log, "Alpaca", alpacaUri);
            SandboxLog.Listening(log, "OANDA", oandaUri);
            return new SandboxServer(alpacaApp, oandaApp, stopping, alpacaFeed, oandaFeed, trading, oandaAccount, faults, stats, alpacaUri, oandaUri);
        }
        catch
        {
            await stopping.CancelAsync().ConfigureAwait(false);
            if (alpacaApp is not null)
            {
                await alpacaApp.DisposeAsync().ConfigureAwait(false);
            }

            if (oandaApp is not null)
            {
                await oandaApp.DisposeAsync().ConfigureAwait(false);
            }

            stopping.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Faults.Closing = true;
        await _stopping.CancelAsync().ConfigureAwait(false);
        foreach (var session in _alpacaFeed.Sessions.Concat(_oandaFeed.Sessions))
        {
            session.Abort();
        }

        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
        {
            await Task.WhenAll(_alpacaApp.StopAsync(timeout.Token), _oandaApp.StopAsync(timeout.Token)).ConfigureAwait(false);
        }

        await _alpacaFeed.StopAsync().ConfigureAwait(false);
        await _oandaFeed.StopAsync().ConfigureAwait(false);
        await _alpacaApp.DisposeAsync().ConfigureAwait(false);
        await _oandaApp.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    private static void Drop(VenueFeed alpaca, VenueFeed oanda)
    {
        foreach (var feed in new[] { alpaca, oanda })
        {
            foreach (var session in feed.Sessions)
            {
                feed.Stats.Dropped();
                session.Abort();
            }
        }
    }

    private static void Validate(SandboxOptions options)
    {
        if (options.AlpacaPort is < 0 or > 65535 || options.OandaPort is < 0 or > 65535)
        {
            throw new ArgumentException($"ports must be between 0 and 65535 (got Alpaca {options.AlpacaPort}, OANDA {options.OandaPort})", nameof(options));
        }

        if (options.AlpacaPort != 0 && options.AlpacaPort == options.OandaPort)
        {
            throw new ArgumentException($"the Alpaca and OANDA ports must differ (both were {options.AlpacaPort})", nameof(options));
        }

        if (!(options.Speed > 0))
        {
            throw new ArgumentException($"speed was {options.Speed}; it must be positive (or infinity for as fast as possible)", nameof(options));
        }

        if (options.HeartbeatInterval <= TimeSpan.Zero || options.AuthTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("the heartbeat interval and auth timeout must be positive", nameof(options));
        }

        if (options.HalfSpread < 0)
        {
            throw new ArgumentException($"half spread was {options.HalfSpread}; it must not be negative", nameof(options));
        }

        if (options.Generator is { } g && (g.Symbols.Count == 0 || g.TicksPerSecond <= 0 || g.StartPrice <= 0))
        {
            throw new ArgumentException($"the generator needs symbols, a positive rate and a positive start price (got {g.Symbols.Count} symbols, {g.TicksPerSecond} ticks/s, start {g.StartPrice})", nameof(options));
        }

        if (!IPAddress.TryParse(options.Host, out _) && !string.Equals(options.Host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"host '{options.Host}' is not an IP address (or localhost)", nameof(options));
        }
    }

    private static WebApplication Build(string host, int port, Action<WebApplication> map, SandboxFaults faults, SandboxStats stats, ILogger log)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "Keel.Sandbox" });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
            {
                k.Listen(IPAddress.Loopback, port);
            }
            else
            {
                k.Listen(IPAddress.Parse(host), port);
            }
        });
        builder.Services.AddRoutingCore();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(3));
        var app = builder.Build();

        // Once the sandbox is closing, a new request is cut off before it is served: the streams are ended first, and a
        // client reconnecting at once must not find a server that still answers (it would count as a good session).
        app.Use(next => ctx =>
        {
            if (faults.Closing)
            {
                ctx.Abort();
                return Task.CompletedTask;
            }

            return next(ctx);
        });
        app.UseRouting();
        map(app);
        app.MapGet("/_sandbox/stats", ctx => AlpacaRest.JsonAsync(ctx, StatusCodes.Status200OK, stats.ToJson()));
        app.MapGet("/_sandbox/faults", ctx => AlpacaRest.JsonAsync(ctx, StatusCodes.Status200OK, FaultState(faults)));
        app.MapPost("/_sandbox/faults", ctx => PostFaultsAsync(ctx, faults, log));
        return app;
    }

    private static async Task<Uri> StartAppAsync(WebApplication app, string venue, string host, int port, CancellationToken cancellationToken)
    {
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex) when (ex.InnerException is SocketException or null || ex.Message.Contains("address", StringComparison.OrdinalIgnoreCase))
        {
            throw new IOException($"the {venue} port {port} on {host} is not available (in use or not allowed); pick another one, or 0 for any free port", ex);
        }

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var bound = new Uri(address);
        string shownHost = host is "0.0.0.0" or "::" ? "127.0.0.1" : host;
        return new UriBuilder("http", shownHost, bound.Port).Uri;
    }

    private static byte[] FaultState(SandboxFaults faults) => AlpacaWire.Write(w =>
    {
        w.WriteStartObject();
        w.WriteBoolean("reject_auth", faults.RejectAuth);
        w.WriteBoolean("connection_limit", faults.ConnectionLimit);
        w.WriteNumber("rate_limit_next", faults.RateLimitNext);
        w.WriteNumber("malformed", faults.MalformedPending);
        if (faults.StalledUntil is { } until)
        {
            w.WriteString("stalled_until", until.ToString("O", CultureInfo.InvariantCulture));
        }
        else
        {
            w.WriteNull("stalled_until");
        }

        w.WriteEndObject();
    });

    /// <summary><c>POST /_sandbox/faults</c> with any of reset, drop, stall_ms, malformed, reject_auth, connection_limit, rate_limit_next.</summary>
    private static async Task PostFaultsAsync(HttpContext context, SandboxFaults faults, ILogger log)
    {
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(context.Request.Body, default, context.RequestAborted).ConfigureAwait(false);
        }
        catch (JsonException ex)
        {
            await AlpacaRest.ErrorAsync(context, StatusCodes.Status400BadRequest, $"the body is not JSON: {ex.Message}").ConfigureAwait(false);
            return;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                await AlpacaRest.ErrorAsync(context, StatusCodes.Status400BadRequest, "the body must be a JSON object such as {\"stall_ms\":3000}").ConfigureAwait(false);
                return;
            }

            string? problem = null;
            foreach (var p in root.EnumerateObject())
            {
                bool ok = p.Name switch
                {
                    "reset" or "drop" or "reject_auth" or "connection_limit" => p.Value.ValueKind is JsonValueKind.True or JsonValueKind.False,
                    "stall_ms" or "malformed" or "rate_limit_next" => p.Value.TryGetInt32(out int n) && n >= 0,
                    _ => false,
                };
                if (!ok)
                {
                    problem = $"'{p.Name}' was {p.Value.GetRawText()}; expected reset, drop, reject_auth, connection_limit (true/false) or stall_ms, malformed, rate_limit_next (a count ≥ 0)";
                    break;
                }
            }

            if (problem is not null)
            {
                await AlpacaRest.ErrorAsync(context, StatusCodes.Status400BadRequest, problem).ConfigureAwait(false);
                return;
            }

            SandboxLog.FaultsChanged(log, root.GetRawText());
            if (root.TryGetProperty("reset", out var reset) && reset.GetBoolean())
            {
                faults.Reset();
            }

            if (root.TryGetProperty("reject_auth", out var rejectAuth))
            {
                faults.RejectAuth = rejectAuth.GetBoolean();
            }

            if (root.TryGetProperty("connection_limit", out var limit))
            {
                faults.ConnectionLimit = limit.GetBoolean();
            }

            if (root.TryGetProperty("rate_limit_next", out var rate))
            {
                faults.RateLimitNext = rate.GetInt32();
            }

            if (root.TryGetProperty("malformed", out var malformed))
            {
                faults.SendMalformed(malformed.GetInt32());
            }

            if (root.TryGetProperty("stall_ms", out var stall))
            {
                faults.Stall(TimeSpan.FromMilliseconds(stall.GetInt32()));
            }

            if (root.TryGetProperty("drop", out var drop) && drop.GetBoolean())
            {
                faults.DropConnections();
            }
        }

        await AlpacaRest.JsonAsync(context, StatusCodes.Status200OK, FaultState(faults)).ConfigureAwait(false);
    }
}
