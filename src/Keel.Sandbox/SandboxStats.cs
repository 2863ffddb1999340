namespace Keel.Sandbox;

/// <summary>Counters of one venue of the sandbox; every read is a consistent-enough snapshot of a live counter.</summary>
public sealed class VenueStats
{
    private long _connectionsAccepted;
    private long _authenticated;
    private long _authFailures;
    private long _ticksPublished;
    private long _ticksLost;
    private long _messagesSent;
    private long _framesSent;
    private long _heartbeatsSent;
    private long _drops;
    private long _slowClientDrops;
    private long _restRequests;
    private long _rateLimited;
    private long _openStreams;

    internal VenueStats(string venue) => Venue = venue;

    public string Venue { get; }

    /// <summary>Stream connections accepted (Alpaca WebSocket upgrades; OANDA pricing streams opened).</summary>
    public long ConnectionsAccepted => Interlocked.Read(ref _connectionsAccepted);

    /// <summary>Stream connections that authenticated.</summary>
    public long Authenticated => Interlocked.Read(ref _authenticated);

    /// <summary>Authentications refused (bad credentials, switched-on fault, connection limit).</summary>
    public long AuthFailures => Interlocked.Read(ref _authFailures);

    /// <summary>Ticks the replay or generator produced on this venue.</summary>
    public long TicksPublished => Interlocked.Read(ref _ticksPublished);

    /// <summary>Ticks produced while no connected client was subscribed to their symbol: gone, as on a real venue.</summary>
    public long TicksLost => Interlocked.Read(ref _ticksLost);

    /// <summary>Data messages written to clients (trades, quotes, bars, prices), counted once per client.</summary>
    public long MessagesSent => Interlocked.Read(ref _messagesSent);

    /// <summary>WebSocket frames or stream lines written (data, control and heartbeats).</summary>
    public long FramesSent => Interlocked.Read(ref _framesSent);

    public long HeartbeatsSent => Interlocked.Read(ref _heartbeatsSent);

    /// <summary>Connections aborted by <see cref="SandboxFaults.DropConnections"/>.</summary>
    public long Drops => Interlocked.Read(ref _drops);

    /// <summary>Connections closed because the client did not keep up.</summary>
    public long SlowClientDrops => Interlocked.Read(ref _slowClientDrops);

    public long RestRequests => Interlocked.Read(ref _restRequests);

    /// <summary>REST requests answered 429.</summary>
    public long RateLimited => Interlocked.Read(ref _rateLimited);

    /// <summary>Stream connections open now.</summary>
    public long OpenStreams => Interlocked.Read(ref _openStreams);

    internal void Accepted() => Interlocked.Increment(ref _connectionsAccepted);

    internal void AuthOk() => Interlocked.Increment(ref _authenticated);

    internal void AuthFailed() => Interlocked.Increment(ref _authFailures);

    internal void Published() => Interlocked.Increment(ref _ticksPublished);

    internal void Lost() => Interlocked.Increment(ref _ticksLost);

    internal void Sent(int messages) => Interlocked.Add(ref _messagesSent, messages);

    internal void Frame() => Interlocked.Increment(ref _framesSent);

    internal void Heartbeat() => Interlocked.Increment(ref _heartbeatsSent);

    internal void Dropped() => Interlocked.Increment(ref _drops);

    internal void SlowClient() => Interlocked.Increment(ref _slowClientDrops);

    internal void Rest() => Interlocked.Increment(ref _restRequests);

    internal void Limited() => Interlocked.Increment(ref _rateLimited);

    internal void StreamOpened() => Interlocked.Increment(ref _openStreams);

    internal void StreamClosed() => Interlocked.Decrement(ref _openStreams);

    internal Dictionary<string, long> ToDictionary() => new()
    {
        ["connections_accepted"] = ConnectionsAccepted,
        ["authenticated"] = Authenticated,
        ["auth_failures"] = AuthFailures,
        ["ticks_published"] = TicksPublished,
        ["ticks_lost"] = TicksLost,
        ["messages_sent"] = MessagesSent,
        ["frames_sent"] = FramesSent,
        ["heartbeats_sent"] = HeartbeatsSent,
        ["drops"] = Drops,
        ["slow_client_drops"] = SlowClientDrops,
        ["rest_requests"] = RestRequests,
        ["rate_limited"] = RateLimited,
        ["open_streams"] = OpenStreams,
    };
}

/// <summary>Thread-safe counters of a running sandbox, per venue.</summary>
public sealed class SandboxStats
{
    private long _malformedSent;

    public VenueStats Alpaca { get; } = new("alpaca");

    public VenueStats Oanda { get; } = new("oanda");

    /// <summary>Malformed messages sent on purpose (<see cref="SandboxFaults.SendMalformed"/>), both venues.</summary>
    public long MalformedSent => Interlocked.Read(ref _malformedSent);

    internal void Malformed() => Interlocked.Increment(ref _malformedSent);

    internal byte[] ToJson() => Wire.AlpacaWire.Write(w =>
    {
        w.WriteStartObject();
        foreach (var venue in new[] { Alpaca, Oanda })
        {
            w.WriteStartObject(venue.Venue);
            foreach (var (name, value) in venue.ToDictionary())
            {
                w.WriteNumber(name, value);
            }

            w.WriteEndObject();
        }

        w.WriteNumber("malformed_sent", MalformedSent);
        w.WriteEndObject();
    });
}
