namespace Keel.Sandbox;

/// <summary>
/// Fault switches, changeable at any time from any thread. They apply to both venues unless the name says otherwise.
/// </summary>
public sealed class SandboxFaults
{
    private volatile bool _closing;
    private readonly TimeProvider _time;
    private readonly Action _drop;
    private int _malformed;
    private int _rateLimitNext;
    private long _stalledUntilTicks;
    private volatile bool _rejectAuth;
    private volatile bool _connectionLimit;

    internal SandboxFaults(TimeProvider time, Action drop)
    {
        _time = time;
        _drop = drop;
    }

    /// <summary>Alpaca answers <c>402 auth failed</c> (and REST 401); OANDA answers 401 Insufficient authorization.</summary>
    /// <summary>The sandbox is shutting down: every new request is cut off (set by <see cref="SandboxServer.DisposeAsync"/>).</summary>
    public bool Closing
    {
        get => _closing;
        internal set => _closing = value;
    }

    public bool RejectAuth
    {
        get => _rejectAuth;
        set => _rejectAuth = value;
    }

    /// <summary>Alpaca answers <c>406 connection limit exceeded</c> to every stream authentication.</summary>
    public bool ConnectionLimit
    {
        get => _connectionLimit;
        set => _connectionLimit = value;
    }

    /// <summary>The next N REST requests answer 429.</summary>
    public int RateLimitNext
    {
        get => Volatile.Read(ref _rateLimitNext);
        set => Volatile.Write(ref _rateLimitNext, Math.Max(0, value));
    }

    /// <summary>Stream messages still to be sent malformed.</summary>
    public int MalformedPending => Volatile.Read(ref _malformed);

    /// <summary>When the current stall ends (UTC), or null when streams are flowing.</summary>
    public DateTimeOffset? StalledUntil
    {
        get
        {
            long until = Interlocked.Read(ref _stalledUntilTicks);
            var now = _time.GetUtcNow();
            return until > now.UtcTicks ? new DateTimeOffset(until, TimeSpan.Zero) : null;
        }
    }

    /// <summary>Aborts every open stream connection now (no close handshake, no final chunk).</summary>
    public void DropConnections() => _drop();

    /// <summary>Streams send nothing at all (data and heartbeats) for <paramref name="duration"/>; connections stay open.</summary>
    public void Stall(TimeSpan duration)
    {
        if (duration <= TimeSpan.Zero)
        {
            Interlocked.Exchange(ref _stalledUntilTicks, 0);
            return;
        }

        Interlocked.Exchange(ref _stalledUntilTicks, (_time.GetUtcNow() + duration).UtcTicks);
    }

    /// <summary>The next <paramref name="count"/> stream messages are malformed; each is sent in addition to the good data, which continues.</summary>
    public void SendMalformed(int count) => Interlocked.Add(ref _malformed, Math.Max(0, count));

    /// <summary>The Alpaca trading side's switches (orders REST and the trade_updates stream).</summary>
    public Trading.Alpaca.AlpacaTradingFaults AlpacaTrading { get; } = new();

    /// <summary>Switches every fault off (a running stall ends, pending malformed messages and 429s are cancelled).</summary>
    public void Reset()
    {
        AlpacaTrading.Reset();
        _rejectAuth = false;
        _connectionLimit = false;
        Volatile.Write(ref _rateLimitNext, 0);
        Volatile.Write(ref _malformed, 0);
        Interlocked.Exchange(ref _stalledUntilTicks, 0);
    }

    /// <summary>Takes one pending malformed message, if any.</summary>
    internal bool TryTakeMalformed() => TryTake(ref _malformed);

    /// <summary>Takes one pending 429, if any.</summary>
    internal bool TryTakeRateLimit() => TryTake(ref _rateLimitNext);

    /// <summary>Waits while a stall is in force (a stall started while waiting extends the wait).</summary>
    internal async ValueTask WaitWhileStalledAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            long until = Interlocked.Read(ref _stalledUntilTicks);
            long now = _time.GetUtcNow().UtcTicks;
            if (until <= now)
            {
                return;
            }

            await Task.Delay(TimeSpan.FromTicks(until - now), _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Takes one from a "next N requests" switch, atomically; false when it is used up.</summary>
    internal static bool TryTake(ref int counter)
    {
        while (true)
        {
            int current = Volatile.Read(ref counter);
            if (current <= 0)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref counter, current - 1, current) == current)
            {
                return true;
            }
        }
    }
}
