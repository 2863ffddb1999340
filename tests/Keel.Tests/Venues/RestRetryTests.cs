using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using Keel.Venues.Http;

namespace Keel.Tests.Venues;

/// <summary>
/// The REST retry pipeline on a scripted handler and a clock that records each wait and lets it pass at once: which
/// requests are tried again, how long each wait is, and what giving up says.
/// </summary>
public class RestRetryTests
{
    private static readonly Uri Url = new("http://127.0.0.1:9/v2/stocks/IDX/bars");

    [Fact]
    public async Task AGetThatMeets503IsTriedAgainUntilItSucceeds()
    {
        var handler = new ScriptedHandler(_ => Status(HttpStatusCode.ServiceUnavailable), _ => Status(HttpStatusCode.ServiceUnavailable), _ => Status(HttpStatusCode.OK));
        var time = new InstantTime();
        using var http = new HttpClient(handler);

        using var response = await new RestRetry(time, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60)).SendAsync(http, () => new HttpRequestMessage(HttpMethod.Get, Url), "bars", CancellationToken.None);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, handler.Sent.Count);
        Assert.Equal(2, time.Waits.Count);
        Assert.All(time.Waits, w => Assert.InRange(w, TimeSpan.FromTicks(1), TimeSpan.FromSeconds(30)));
    }

    [Theory]
    [InlineData(HttpStatusCode.ServiceUnavailable)]
    [InlineData(HttpStatusCode.TooManyRequests)]
    public async Task AnOrderPostIsSentOnceWhateverTheVenueAnswers(HttpStatusCode status)
    {
        var handler = new ScriptedHandler(_ => Status(status), _ => Status(HttpStatusCode.OK));
        var time = new InstantTime();
        using var http = new HttpClient(handler);

        using var response = await new RestRetry(time).SendAsync(http, () => new HttpRequestMessage(HttpMethod.Post, Url), "order", CancellationToken.None);

        Assert.Equal(status, response.StatusCode); // handed back for the caller to look the order up, not sent again
        Assert.Single(handler.Sent);
        Assert.Empty(time.Waits);
    }

    [Fact]
    public async Task AnOrderPostWhoseConnectionFailsIsNotSentAgain()
    {
        var handler = new ScriptedHandler(_ => throw new HttpRequestException("connection reset"), _ => Status(HttpStatusCode.OK));
        using var http = new HttpClient(handler);

        var error = await Assert.ThrowsAsync<VenueRequestException>(() => new RestRetry(new InstantTime()).SendAsync(http, () => new HttpRequestMessage(HttpMethod.Post, Url), "order", CancellationToken.None));

        Assert.Single(handler.Sent);
        Assert.Contains("connection reset", error.Message, StringComparison.Ordinal);
        Assert.Contains("never again", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A429WaitsWhatRetryAfterAsks()
    {
        var handler = new ScriptedHandler(
            _ =>
            {
                var limited = Status(HttpStatusCode.TooManyRequests);
                limited.Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(7));
                return limited;
            },
            _ => Status(HttpStatusCode.OK));
        var time = new InstantTime();
        using var http = new HttpClient(handler);

        using var response = await new RestRetry(time, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60)).SendAsync(http, () => new HttpRequestMessage(HttpMethod.Get, Url), "bars", CancellationToken.None);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([TimeSpan.FromSeconds(7)], time.Waits);
    }

    [Fact]
    public async Task AVenueWaitLongerThanTheCapIsCut()
    {
        var handler = new ScriptedHandler(
            _ =>
            {
                var limited = Status(HttpStatusCode.TooManyRequests);
                limited.Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(45));
                return limited;
            },
            _ => Status(HttpStatusCode.OK));
        var time = new InstantTime();
        using var http = new HttpClient(handler);

        using var response = await new RestRetry(time, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5)).SendAsync(http, () => new HttpRequestMessage(HttpMethod.Get, Url), "bars", CancellationToken.None);

        Assert.Equal([TimeSpan.FromSeconds(5)], time.Waits);
    }

    [Fact]
    public async Task AGetStillFailingAfterTheLastAttemptIsAClearError()
    {
        var handler = new ScriptedHandler(_ => Status(HttpStatusCode.InternalServerError));
        var time = new InstantTime();
        using var http = new HttpClient(handler);

        var error = await Assert.ThrowsAsync<VenueRequestException>(() => new RestRetry(time, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60)).SendAsync(http, () => new HttpRequestMessage(HttpMethod.Get, Url), "oanda candles EUR_USD page 1", CancellationToken.None));

        Assert.Equal("oanda candles EUR_USD page 1: gave up after 6 attempts (HTTP 500)", error.Message);
        Assert.Equal(HttpStatusCode.InternalServerError, error.Status);
        Assert.Equal(RestRetry.MaxAttempts, handler.Sent.Count);
        Assert.Equal(RestRetry.MaxAttempts - 1, time.Waits.Count);
        Assert.All(time.Waits, w => Assert.InRange(w, TimeSpan.FromTicks(1), TimeSpan.FromSeconds(30)));
    }

    [Theory]
    [InlineData(HttpStatusCode.Unauthorized)]
    [InlineData(HttpStatusCode.BadRequest)]
    [InlineData(HttpStatusCode.NotFound)]
    public async Task AClientErrorIsReturnedAtOnce(HttpStatusCode status)
    {
        var handler = new ScriptedHandler(_ => Status(status), _ => Status(HttpStatusCode.OK));
        using var http = new HttpClient(handler);

        using var response = await new RestRetry(new InstantTime()).SendAsync(http, () => new HttpRequestMessage(HttpMethod.Get, Url), "bars", CancellationToken.None);

        Assert.Equal(status, response.StatusCode);
        Assert.Single(handler.Sent);
    }

    [Fact]
    public void OnlyIdempotentMethodsAreRetried()
    {
        Assert.True(RestRetry.IsIdempotent(HttpMethod.Get));
        Assert.True(RestRetry.IsIdempotent(HttpMethod.Delete));
        Assert.False(RestRetry.IsIdempotent(HttpMethod.Post));
        Assert.False(RestRetry.IsIdempotent(HttpMethod.Patch));
    }

    [Fact]
    public void AlpacasRateLimitResetIsReadAsAWait()
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
        using var response = Status(HttpStatusCode.TooManyRequests);
        response.Headers.Add("X-Ratelimit-Reset", "1700000003");

        Assert.Equal(TimeSpan.FromSeconds(3), RestRetry.VenueWait(response, now));
    }

    private static HttpResponseMessage Status(HttpStatusCode status) => new(status) { Content = new StringContent("{}") };

    /// <summary>Answers the n-th request with the n-th script entry (the last one repeats) and remembers each method.</summary>
    private sealed class ScriptedHandler(params Func<HttpRequestMessage, HttpResponseMessage>[] script) : HttpMessageHandler
    {
        public ConcurrentQueue<HttpMethod> Sent { get; } = new();

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Sent.Enqueue(request.Method);
            return Task.FromResult(script[Math.Min(Sent.Count, script.Length) - 1](request));
        }
    }

    /// <summary>A clock whose timers fire at once: each wait is recorded, none is waited.</summary>
    private sealed class InstantTime : TimeProvider
    {
        private readonly ConcurrentQueue<TimeSpan> _waits = new();

        public IReadOnlyList<TimeSpan> Waits => [.. _waits];

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            _waits.Enqueue(dueTime);
            ThreadPool.QueueUserWorkItem(_ => callback(state));
            return new Fired();
        }

        private sealed class Fired : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => false;

            public void Dispose()
            {
            }

            public ValueTask DisposeAsync() => default;
        }
    }
}
