using System.Threading.Channels;
using Keel.Sandbox.Market;
using Microsoft.AspNetCore.Http;

namespace Keel.Sandbox.Streaming;

internal enum OutgoingKind
{
    /// <summary>A complete frame or line, sent on its own.</summary>
    Control = 1,
    Data = 2,
    Heartbeat = 3,

    /// <summary>Completes its task when the writer reaches it: everything queued before has been written.</summary>
    Marker = 4,

    /// <summary>Ends the stream after what was queued before.</summary>
    Close = 5,
}

internal readonly record struct Outgoing(OutgoingKind Kind, byte[]? Bytes = null, MarketEvent? Event = null, TaskCompletionSource? Marker = null, string? Reason = null);

/// <summary>
/// A client's stream connection: one writer task drains a bounded queue (so publishing never waits on a socket
/// unless the replay runs as fast as possible), honouring stalls and injecting malformed messages.
/// </summary>
internal abstract class StreamSession
{
    private const int Capacity = 1 << 16;
    private static long _ids;
    private readonly Channel<Outgoing> _queue = Channel.CreateBounded<Outgoing>(new BoundedChannelOptions(Capacity)
    {
        SingleReader = true,
        SingleWriter = false,
        FullMode = BoundedChannelFullMode.Wait,
    });

    private readonly CancellationTokenSource _cts;
    private int _aborted;

    protected StreamSession(HttpContext context, VenueFeed feed, SandboxFaults faults, SandboxStats stats, CancellationToken stopping)
    {
        Context = context;
        Feed = feed;
        Faults = faults;
        AllStats = stats;
        _cts = CancellationTokenSource.CreateLinkedTokenSource(stopping, context.RequestAborted);
    }

    public long Id { get; } = Interlocked.Increment(ref _ids);

    protected HttpContext Context { get; }

    protected VenueFeed Feed { get; }

    protected SandboxFaults Faults { get; }

    protected SandboxStats AllStats { get; }

    protected VenueStats Stats => Feed.Stats;

    /// <summary>Cancelled when the client goes, the session is aborted or the server stops.</summary>
    protected CancellationToken Token => _cts.Token;

    protected ChannelReader<Outgoing> Queue => _queue.Reader;

    /// <summary>Whether the client subscribed to what <paramref name="e"/> carries.</summary>
    public abstract bool Wants(MarketEvent e);

    public async ValueTask DeliverAsync(MarketEvent e, bool backpressure, CancellationToken ct)
    {
        if (backpressure)
        {
            if (_queue.Writer.TryWrite(new Outgoing(OutgoingKind.Data, Event: e)))
            {
                return;
            }

            try
            {
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, Token);
                await _queue.Writer.WriteAsync(new Outgoing(OutgoingKind.Data, Event: e), linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                // The session ended while the replay waited for it.
            }
            catch (ChannelClosedException)
            {
            }

            return;
        }

        if (!TryEnqueueData(e))
        {
            Stats.SlowClient();
            OnSlowClient();
        }
    }

    public bool TryEnqueueData(MarketEvent e) =>
        _queue.Writer.TryWrite(new Outgoing(OutgoingKind.Data, Event: e)) || _queue.Reader.Completion.IsCompleted;

    /// <summary>Queues a frame (waits for room; gives up quietly once the session ended).</summary>
    protected async ValueTask SendAsync(Outgoing item)
    {
        try
        {
            await _queue.Writer.WriteAsync(item, Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        catch (ChannelClosedException)
        {
        }
    }

    protected bool TrySend(Outgoing item) => _queue.Writer.TryWrite(item);

    /// <summary>Completes when everything queued so far has been written (or the session ended).</summary>
    public Task FlushAsync()
    {
        var marker = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_queue.Writer.TryWrite(new Outgoing(OutgoingKind.Marker, Marker: marker)))
        {
            return SendMarkerAsync(marker);
        }

        return marker.Task;
    }

    private async Task SendMarkerAsync(TaskCompletionSource marker)
    {
        try
        {
            await _queue.Writer.WriteAsync(new Outgoing(OutgoingKind.Marker, Marker: marker), Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ChannelClosedException)
        {
            return;
        }

        await marker.Task.ConfigureAwait(false);
    }

    /// <summary>Aborts the connection (TCP reset, no close handshake, no last chunk).</summary>
    public virtual void Abort()
    {
        if (Interlocked.Exchange(ref _aborted, 1) != 0)
        {
            return;
        }

        try
        {
            // The request may have ended a moment ago (its context is then disposed): there is nothing left to abort.
            Context.Abort();
        }
        catch (ObjectDisposedException)
        {
            // The session had already ended.
        }

        try
        {
            _cts.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The session had already ended.
        }
    }

    protected virtual void OnSlowClient() => Abort();

    /// <summary>Waits out a stall and, when a malformed message is due, returns it (to be sent before the next message).</summary>
    protected async ValueTask<bool> BeforeWriteAsync()
    {
        await Faults.WaitWhileStalledAsync(Token).ConfigureAwait(false);
        if (Faults.TryTakeMalformed())
        {
            AllStats.Malformed();
            return true;
        }

        return false;
    }

    /// <summary>Stops the session's background loops (the token is cancelled; the connection is left as it is).</summary>
    protected void CancelSession()
    {
        try
        {
            _cts.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>Accepts nothing more; the writer still sends what is queued.</summary>
    protected void CompleteQueue() => _queue.Writer.TryComplete();

    /// <summary>Ends the queue: markers still in it complete, nothing more is accepted.</summary>
    protected void CloseQueue()
    {
        _queue.Writer.TryComplete();
        while (_queue.Reader.TryRead(out var item))
        {
            item.Marker?.TrySetResult();
        }
    }

    protected void DisposeSession()
    {
        Interlocked.Exchange(ref _aborted, 1);
        CloseQueue();
        _cts.Dispose();
    }
}
