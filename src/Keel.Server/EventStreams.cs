using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;
using Keel.Runtime;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace Keel.Server;

/// <summary>
/// The WebSocket streams: <c>/api/runs/{id}/stream?after=SEQ</c> for one run and <c>/api/stream?after=RUN:SEQ,…</c>
/// for every run this server is running (and those it starts while the client is connected). Each frame is one event
/// as JSON; a client that reconnects with the last sequence it saw misses nothing. Each client has a bounded buffer
/// between the run's event log and its socket: the run never waits for a client, and one that falls
/// <see cref="ServerOptions.ClientBuffer"/> events behind is disconnected with the reason in the close frame.
/// </summary>
internal sealed class EventStreams(ServerRuns runs, ServerStats stats, int clientBuffer, ILogger log)
{
    /// <summary>The subprotocol the server answers with when a browser offers its token as <c>keel.bearer.TOKEN</c>.</summary>
    public const string Protocol = "keel";

    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    public void Map(RouteGroupBuilder read, CancellationToken stopping)
    {
        read.MapGet("/runs/{id}/stream", (string id, string? after, HttpContext context) => RunAsync(context, id, after, stopping))
            .WithName("RunStream").WithSummary("WebSocket: the run's events after 'after' (a sequence), then each new one until the run ends.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        read.MapGet("/stream", (string? after, HttpContext context) => AllAsync(context, after, stopping))
            .WithName("AllRunsStream").WithSummary("WebSocket: the events of every run this server is running, each with its run id; 'after' = RUN:SEQ,… resumes runs where the client left them.")
            .ProducesProblem(StatusCodes.Status400BadRequest);
    }

    private async Task<IResult> RunAsync(HttpContext context, string id, string? afterText, CancellationToken stopping)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            return Problems.BadRequest("this is a WebSocket endpoint: connect with a WebSocket client (ws://…)");
        }

        var (after, error) = RunsApi.ParseAfter(afterText);
        if (error is not null)
        {
            return Problems.BadRequest(error);
        }

        if (runs.FindRecord(id) is not { } record)
        {
            return Problems.NotFound($"no run '{id}' in this server's store");
        }

        using var socket = await AcceptAsync(context).ConfigureAwait(false);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
        var client = new Client(socket, clientBuffer, $"run {record.Id}");
        var active = runs.Find(record.Id);
        var source = active is not null
            ? active.Handle.Events(after, cts.Token)
            : Stored(record.Id, after, cts.Token);
        var pump = Task.Run(() => PumpAsync(client, record.Id, source, includeRun: false, cts.Token), CancellationToken.None);
        await SendAsync(client, pump, cts.Token).ConfigureAwait(false);
        return EmptyResult;
    }

    private async Task<IResult> AllAsync(HttpContext context, string? afterText, CancellationToken stopping)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            return Problems.BadRequest("this is a WebSocket endpoint: connect with a WebSocket client (ws://…)");
        }

        var resume = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var part in (afterText ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int colon = part.LastIndexOf(':');
            if (colon <= 0 || !long.TryParse(part.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long seq))
            {
                return Problems.BadRequest($"after has '{part}'; it must be RUN:SEQUENCE pairs separated by commas, e.g. after=20261207-001551-fe6a7e:120");
            }

            resume[part[..colon]] = seq;
        }

        using var socket = await AcceptAsync(context).ConfigureAwait(false);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
        var client = new Client(socket, clientBuffer, "all runs");
        var pumps = new List<Task>();
        var subscribed = new HashSet<string>(StringComparer.Ordinal);
        void Subscribe(ActiveRun run, bool fromStart)
        {
            lock (subscribed)
            {
                if (!subscribed.Add(run.Id))
                {
                    return;
                }

                // A run the client names resumes after its sequence; one already going starts now; one started later from its first event.
                long after = resume.TryGetValue(run.Id, out long seq) ? seq : fromStart ? 0 : run.Handle.LastSequence;
                pumps.Add(Task.Run(() => PumpAsync(client, run.Id, run.Handle.Events(after, cts.Token), includeRun: true, cts.Token, ended: run.Handle.Completion), CancellationToken.None));
            }
        }

        void OnStarted(ActiveRun run) => Subscribe(run, fromStart: true);
        runs.Started += OnStarted;
        try
        {
            foreach (var run in runs.Active)
            {
                Subscribe(run, fromStart: false);
            }

            await SendAsync(client, null, cts.Token).ConfigureAwait(false);
        }
        finally
        {
            runs.Started -= OnStarted;
            await cts.CancelAsync().ConfigureAwait(false);
            Task[] all;
            lock (subscribed)
            {
                all = [.. pumps];
            }

            await Task.WhenAll(all.Select(t => t.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default))).ConfigureAwait(false);
        }

        return EmptyResult;
    }

    private static readonly IResult EmptyResult = Results.Empty;

    private static async Task<WebSocket> AcceptAsync(HttpContext context)
    {
        bool offered = context.WebSockets.WebSocketRequestedProtocols.Contains(Protocol);
        return await context.WebSockets.AcceptWebSocketAsync(offered ? Protocol : null).ConfigureAwait(false);
    }

    private async IAsyncEnumerable<RunEvent> Stored(string runId, long after, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        while (true)
        {
            IReadOnlyList<Keel.Storage.StoredEvent> page;
            using (var store = runs.OpenStore())
            {
                page = store.ReadEvents(runId, after, 1000);
            }

            foreach (var e in page)
            {
                ct.ThrowIfCancellationRequested();
                yield return new RunEvent(e.Sequence, e.Type, e.Time, e.Payload);
                after = e.Sequence;
            }

            if (page.Count < 1000)
            {
                yield break;
            }

            await Task.Yield();
        }
    }

    /// <summary>Moves events from the run's log into the client's buffer, never waiting for the client: a full buffer drops the client.</summary>
    private async Task PumpAsync(Client client, string runId, IAsyncEnumerable<RunEvent> source, bool includeRun, CancellationToken ct, Task? ended = null)
    {
        try
        {
            await foreach (var e in source.WithCancellation(ct).ConfigureAwait(false))
            {
                if (!client.Offer(Frame(includeRun ? runId : null, e)))
                {
                    client.Overflowed(e.Sequence);
                    return;
                }
            }

            if (includeRun)
            {
                var status = ended is not null && runs.Find(runId) is { } run ? RunsApi.StatusName(run.Handle.Status) : "ended";
                client.Offer(Ended(runId, status));
            }
            else
            {
                client.Finish("the run has no more events");
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (RunEventsLostException ex)
        {
            client.Fail(ex.Message);
        }
    }

    private static byte[] Frame(string? runId, RunEvent e)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            EventJson.Write(w, runId, e.Sequence, e.Type, e.Time, e.Payload);
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static byte[] Ended(string runId, string status)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("run", runId);
            w.WriteString("type", "run.ended");
            w.WriteString("status", status);
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Writes the client's buffer to its socket until the stream ends, the client goes, or it fell too far behind.</summary>
    private async Task SendAsync(Client client, Task? pump, CancellationToken ct)
    {
        stats.ClientConnected();
        var socket = client.Socket;
        var receive = DrainAsync(socket, ct);
        try
        {
            while (await client.Buffer.Reader.WaitToReadAsync(ct).ConfigureAwait(false))
            {
                while (client.Buffer.Reader.TryRead(out var frame))
                {
                    await socket.SendAsync(frame, WebSocketMessageType.Text, true, ct).ConfigureAwait(false);
                }
            }

            var (status, reason) = client.CloseReason;
            if (status == WebSocketCloseStatus.PolicyViolation)
            {
                stats.ClientDropped();
                ServerLog.ClientDropped(log, client.Stream, reason);
            }

            using var timeout = new CancellationTokenSource(CloseTimeout);
            using var both = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
            await socket.CloseOutputAsync(status, reason, both.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or ChannelClosedException)
        {
            // The client went away, the server is stopping, or a client too far behind did not take its close frame in time.
            if (socket.State is not (WebSocketState.Closed or WebSocketState.Aborted))
            {
                socket.Abort();
            }
        }
        finally
        {
            stats.ClientDisconnected();
            if (pump is not null)
            {
                await pump.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).ConfigureAwait(false);
            }

            await receive.ConfigureAwait(false);
        }
    }

    /// <summary>Reads (and ignores) what the client sends, so its close frame and pings are answered.</summary>
    private static async Task DrainAsync(WebSocket socket, CancellationToken ct)
    {
        var buffer = new byte[1024];
        try
        {
            while (socket.State == WebSocketState.Open)
            {
                var r = await socket.ReceiveAsync(buffer, ct).ConfigureAwait(false);
                if (r.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
        }
    }

    /// <summary>One connected client: its bounded buffer and why it is being closed.</summary>
    private sealed class Client(WebSocket socket, int capacity, string stream)
    {
        public WebSocket Socket { get; } = socket;

        public string Stream { get; } = stream;

        public Channel<byte[]> Buffer { get; } = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite fails when full: the pump never waits
        });

        public (WebSocketCloseStatus Status, string Reason) CloseReason { get; private set; } = (WebSocketCloseStatus.NormalClosure, "done");

        public bool Offer(byte[] frame) => Buffer.Writer.TryWrite(frame);

        public void Overflowed(long sequence)
        {
            CloseReason = (WebSocketCloseStatus.PolicyViolation, Truncate($"client too slow: {capacity} events behind; reconnect with after={sequence - 1}"));
            Buffer.Writer.TryComplete();
        }

        public void Finish(string reason)
        {
            CloseReason = (WebSocketCloseStatus.NormalClosure, Truncate(reason));
            Buffer.Writer.TryComplete();
        }

        public void Fail(string reason)
        {
            CloseReason = (WebSocketCloseStatus.InternalServerError, Truncate(reason));
            Buffer.Writer.TryComplete();
        }

        // A close frame's reason is at most 123 bytes.
        private static string Truncate(string text) => text.Length <= 120 ? text : text[..120];
    }
}
