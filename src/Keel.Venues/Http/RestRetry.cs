using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.Retry;

namespace Keel.Venues.Http;

/// <summary>
/// Sends venue REST requests through a Polly retry pipeline. An idempotent request (GET, HEAD, OPTIONS, PUT, DELETE)
/// that meets 429 (rate limit), 5xx, a connection failure or a timeout is tried again, at most
/// <see cref="MaxAttempts"/> times in all, after the wait the venue asks for (<c>Retry-After</c>, Alpaca's
/// <c>X-Ratelimit-Reset</c>) or else an exponential back-off with jitter from the first delay, capped. A server that
/// cannot be reached at all on first contact (connection refused, host not found) is a wrong URL, not a hiccup: that
/// fails at once with a sentence.
/// </summary>
/// <remarks>
/// Any other request, an order POST above all, is sent exactly once and its answer returned as it came: a POST that
/// timed out or met a 5xx may still have placed the order, and sending it again could place it twice (the caller has to
/// look the order up by its client order id instead). The guard sits in the pipeline's own predicate, which reads the
/// method of the request each attempt actually sent, so no caller can opt a POST into retries by mistake.
/// </remarks>
internal sealed class RestRetry
{
    public const int MaxAttempts = 6;

    private static readonly ResiliencePropertyKey<HttpMethod> MethodKey = new("keel.rest.method");
    private static readonly ResiliencePropertyKey<int> AttemptsKey = new("keel.rest.attempts");
    private static readonly ResiliencePropertyKey<bool> FirstContactKey = new("keel.rest.first-contact");
    private static readonly ResiliencePropertyKey<string> WhatKey = new("keel.rest.what");
    private static readonly TimeSpan BackoffCap = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan VenueWaitFloor = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan VenueWaitCap = TimeSpan.FromSeconds(60);

    private readonly ResiliencePipeline<HttpResponseMessage> _pipeline;

    /// <param name="time">The clock the waits run on (and <c>Retry-After</c> dates are read against).</param>
    /// <param name="firstDelay">The first back-off wait when the venue names none; it doubles (with jitter) up to 30 s.</param>
    /// <param name="maxWait">No wait is longer than this, whatever the venue asks.</param>
    /// <param name="logger">Each retry is logged here (event 2020) with the attempt, what it got and the wait.</param>
    public RestRetry(TimeProvider time, TimeSpan? firstDelay = null, TimeSpan? maxWait = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(time);
        var log = logger ?? NullLogger.Instance;
        var cap = maxWait ?? VenueWaitCap;
        _pipeline = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = MaxAttempts - 1,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = firstDelay ?? TimeSpan.FromSeconds(1),
                MaxDelay = cap < BackoffCap ? cap : BackoffCap,
                ShouldHandle = args => ValueTask.FromResult(
                    args.Context.Properties.TryGetValue(MethodKey, out var method) && IsIdempotent(method) && IsTransient(args.Outcome)
                    && !(args.Context.Properties.GetValue(FirstContactKey, false) && args.Outcome.Exception is { } e && CannotConnect(e) is not null)),

                // Polly applies MaxDelay only to its own back-off, so the venue's wait is capped here.
                DelayGenerator = args => ValueTask.FromResult(
                    args.Outcome.Result is { } response && VenueWait(response, time.GetUtcNow()) is { } wait ? (TimeSpan?)(wait > cap ? cap : wait) : null),
                OnRetry = args =>
                {
                    VenueLog.RestRetrying(
                        log, args.Context.Properties.GetValue(WhatKey, "a venue request"), args.AttemptNumber + 1,
                        args.Outcome.Result is { } r ? Reason(r.StatusCode) : args.Outcome.Exception?.Message ?? "no answer", (long)args.RetryDelay.TotalMilliseconds);
                    args.Outcome.Result?.Dispose(); // the answer being retried is not handed to anyone
                    return default;
                },
            })
            .Build();
    }

    /// <summary>
    /// Sends what <paramref name="request"/> builds (called again for every attempt) and returns the first answer that
    /// is not retried. Throws <see cref="VenueRequestException"/> naming <paramref name="what"/> when an idempotent
    /// request is still failing after the last attempt, or any request could not be sent at all.
    /// </summary>
    /// <param name="firstContact">True until the server has answered once: then a refused connection fails at once.</param>
    public async Task<HttpResponseMessage> SendAsync(HttpClient http, Func<HttpRequestMessage> request, string what, CancellationToken ct, bool firstContact = false)
    {
        var context = ResilienceContextPool.Shared.Get(ct);
        context.Properties.Set(FirstContactKey, firstContact);
        context.Properties.Set(WhatKey, what);
        var target = new System.Runtime.CompilerServices.StrongBox<Uri?>();
        try
        {
            var response = await _pipeline.ExecuteAsync(
                static async (ctx, state) =>
                {
                    using var message = state.request();
                    state.target.Value = message.RequestUri;
                    ctx.Properties.Set(MethodKey, message.Method);
                    ctx.Properties.Set(AttemptsKey, ctx.Properties.GetValue(AttemptsKey, 0) + 1);
                    return await state.http.SendAsync(message, HttpCompletionOption.ResponseContentRead, ctx.CancellationToken).ConfigureAwait(false);
                },
                context,
                (http, request, target)).ConfigureAwait(false);

            if (IsIdempotent(context.Properties.GetValue(MethodKey, HttpMethod.Post)) && IsTransient(response.StatusCode))
            {
                var status = response.StatusCode;
                response.Dispose();
                throw new VenueRequestException($"{what}: gave up after {Attempts(context)} ({Reason(status)})", status);
            }

            return response;
        }
        catch (HttpRequestException ex) when (firstContact && CannotConnect(ex) is string why)
        {
            throw new VenueRequestException($"{what}: could not connect to {target.Value?.GetLeftPart(UriPartial.Authority) ?? "the server"}: {why}", null, ex);
        }
        catch (Exception ex) when (IsTransient(ex))
        {
            var method = context.Properties.GetValue(MethodKey, HttpMethod.Post);
            throw new VenueRequestException(
                IsIdempotent(method) ? $"{what}: gave up after {Attempts(context)} ({ex.Message})" : $"{what}: {ex.Message} (a {method} is sent once, never again)", null, ex);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>RFC 9110's idempotent methods: sending one twice has the effect of sending it once.</summary>
    internal static bool IsIdempotent(HttpMethod method) =>
        method == HttpMethod.Get || method == HttpMethod.Head || method == HttpMethod.Options
        || method == HttpMethod.Put || method == HttpMethod.Delete || method == HttpMethod.Trace;

    /// <summary>
    /// How long the venue asks to wait: <c>Retry-After</c> (seconds or a date), else Alpaca's <c>X-Ratelimit-Reset</c>
    /// (epoch seconds); null when it names no time. Kept between 50 ms and 60 s.
    /// </summary>
    internal static TimeSpan? VenueWait(HttpResponseMessage response, DateTimeOffset now)
    {
        if (response.Headers.RetryAfter is { } retry)
        {
            if (retry.Delta is { } delta)
            {
                return Clamp(delta);
            }

            if (retry.Date is { } date)
            {
                return Clamp(date - now);
            }
        }

        if (response.Headers.TryGetValues("X-Ratelimit-Reset", out var values)
            && long.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out long reset))
        {
            return Clamp(DateTimeOffset.FromUnixTimeSeconds(reset) - now);
        }

        return null;
    }

    /// <summary>"connection refused" or "host not found" when no connection could be made at all; else null.</summary>
    private static string? CannotConnect(Exception ex)
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

    private static bool IsTransient(Outcome<HttpResponseMessage> outcome) =>
        outcome.Exception is { } ex ? IsTransient(ex) : IsTransient(outcome.Result!.StatusCode);

    private static bool IsTransient(HttpStatusCode status) => status == HttpStatusCode.TooManyRequests || (int)status >= 500;

    // A connection failure, or HttpClient's own timeout (a cancellation whose cause is a TimeoutException); a
    // cancellation by the caller is not transient.
    private static bool IsTransient(Exception ex) => ex is HttpRequestException or TaskCanceledException { InnerException: TimeoutException };

    private static string Reason(HttpStatusCode status) => $"HTTP {(int)status}";

    private static string Attempts(ResilienceContext context) =>
        context.Properties.GetValue(AttemptsKey, 0) is 1 ? "1 attempt" : $"{context.Properties.GetValue(AttemptsKey, 0)} attempts";

    private static TimeSpan Clamp(TimeSpan t) => t < VenueWaitFloor ? VenueWaitFloor : t > VenueWaitCap ? VenueWaitCap : t;
}
