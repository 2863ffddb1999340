using Keel.Domain;
using Keel.Sandbox.Market;
using Keel.Sandbox.Wire;
using Microsoft.AspNetCore.Http;

namespace Keel.Sandbox.Streaming;

/// <summary>
/// One OANDA v20 pricing stream: an endless HTTP/1.1 chunked response of newline-delimited JSON, a snapshot of the
/// current prices first, PRICE lines as ticks happen and a HEARTBEAT every interval; each line is flushed.
/// </summary>
internal sealed class OandaSession : StreamSession
{
    private readonly IReadOnlySet<string> _instruments;
    private readonly bool _unixTimes;
    private readonly long _halfSpread;
    private readonly TimeSpan _heartbeat;
    private readonly TimeProvider _time;
    private readonly Func<string, int> _decimals;
    private long _malformed;
    private long _lastHeartbeat;

    public OandaSession(HttpContext context, VenueFeed feed, SandboxFaults faults, SandboxStats stats, IReadOnlySet<string> instruments, bool unixTimes,
        SandboxOptions options, Func<string, int> decimals, TimeProvider time, CancellationToken stopping)
        : base(context, feed, faults, stats, stopping)
    {
        _instruments = instruments;
        _unixTimes = unixTimes;
        _halfSpread = Price.From(options.HalfSpread).Raw;
        _heartbeat = options.HeartbeatInterval;
        _decimals = decimals;
        _time = time;
    }

    public override bool Wants(MarketEvent e) => e.Kind == MarketEventKind.Tick && _instruments.Contains(e.Symbol);

    public async Task RunAsync()
    {
        Stats.Accepted();
        Stats.AuthOk();
        Stats.StreamOpened();
        var response = Context.Response;
        response.StatusCode = StatusCodes.Status200OK;

        // The stream's Content-Type is not documented; this is what clients report seeing.
        response.ContentType = "application/octet-stream";
        response.Headers.CacheControl = "no-cache";
        Task? heartbeats = null;
        try
        {
            await response.StartAsync(Token).ConfigureAwait(false);
            Feed.Register(this, SnapshotWanted ? [.. _instruments] : []);
            Feed.StartIfWanted(_instruments);
            heartbeats = HeartbeatLoopAsync();
            await WriteLoopAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The client went away or the connection was aborted.
        }
        finally
        {
            Feed.Unregister(this);
            CancelSession();
            CloseQueue();
            if (heartbeats is not null)
            {
                await heartbeats.ConfigureAwait(false);
            }

            Stats.StreamClosed();
            DisposeSession();
        }
    }

    /// <summary>Whether the client asked for the snapshot (<c>snapshot=true</c> is the default).</summary>
    public bool SnapshotWanted { get; init; } = true;

    private async Task HeartbeatLoopAsync()
    {
        try
        {
            using var timer = new PeriodicTimer(_heartbeat, _time);
            while (await timer.WaitForNextTickAsync(Token).ConfigureAwait(false))
            {
                TrySend(new Outgoing(OutgoingKind.Heartbeat));
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task WriteLoopAsync()
    {
        var body = Context.Response.Body;
        while (await Queue.WaitToReadAsync(Token).ConfigureAwait(false))
        {
            while (Queue.TryRead(out var item))
            {
                switch (item.Kind)
                {
                    case OutgoingKind.Data:
                        var e = item.Event!;
                        var line = _unixTimes ? OandaWire.Price(e, _halfSpread, _decimals(e.Symbol), unixTimes: true) : e.Primary!;
                        await WriteLineAsync(body, line).ConfigureAwait(false);
                        Stats.Sent(1);
                        break;
                    case OutgoingKind.Heartbeat:
                        // Heartbeats queued during a stall are not all sent afterwards: one per interval at most.
                        long now = _time.GetTimestamp();
                        if (_lastHeartbeat != 0 && _time.GetElapsedTime(_lastHeartbeat, now) < _heartbeat / 2)
                        {
                            break;
                        }

                        await WriteLineAsync(body, OandaWire.Heartbeat(Timestamp.FromDateTimeOffset(_time.GetUtcNow()).UnixNanos, _unixTimes)).ConfigureAwait(false);
                        _lastHeartbeat = _time.GetTimestamp();
                        Stats.Heartbeat();
                        break;
                    case OutgoingKind.Marker:
                        item.Marker!.TrySetResult();
                        break;
                    case OutgoingKind.Close:
                        return;
                }
            }
        }
    }

    private async Task WriteLineAsync(Stream body, byte[] line)
    {
        if (await BeforeWriteAsync().ConfigureAwait(false))
        {
            await body.WriteAsync(OandaWire.Malformed(_malformed++), Token).ConfigureAwait(false);
            await body.FlushAsync(Token).ConfigureAwait(false);
            Stats.Frame();
        }

        await body.WriteAsync(line, Token).ConfigureAwait(false);
        await body.FlushAsync(Token).ConfigureAwait(false);
        Stats.Frame();
    }
}
