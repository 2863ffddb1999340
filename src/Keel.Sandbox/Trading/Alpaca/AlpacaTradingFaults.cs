namespace Keel.Sandbox.Trading.Alpaca;

/// <summary>
/// Fault switches of the Alpaca trading side (REST <c>/v2/orders</c>…, the <c>trade_updates</c> stream), changeable
/// at any time from any thread; <c>POST /_sandbox/alpaca/faults</c> sets them, <see cref="SandboxFaults.Reset"/> clears them.
/// </summary>
public sealed class AlpacaTradingFaults
{
    private int _rateLimitNext;
    private int _serverErrorNext;
    private int _loseResponseNext;
    private int _duplicateEventsNext;
    private int _dropFillEventsNext;
    private int _stallMs;
    private volatile bool _silentStream;
    private int _outOfOrderNext;
    private int _retryAfterS;
    private readonly Lock _chaosGate = new();
    private Random _random = new(7);
    private double _chaos;

    /// <summary>The next N trading requests answer 429 with <c>Retry-After</c> and <c>X-Ratelimit-Remaining: 0</c>.</summary>
    public int RateLimitNext
    {
        get => Volatile.Read(ref _rateLimitNext);
        set => Volatile.Write(ref _rateLimitNext, Math.Max(0, value));
    }

    /// <summary>The next N order submissions (POST /v2/orders) answer 500 and create no order.</summary>
    public int ServerErrorNext
    {
        get => Volatile.Read(ref _serverErrorNext);
        set => Volatile.Write(ref _serverErrorNext, Math.Max(0, value));
    }

    /// <summary>The next N order submissions create the order, then abort the connection without an answer.</summary>
    public int LoseResponseNext
    {
        get => Volatile.Read(ref _loseResponseNext);
        set => Volatile.Write(ref _loseResponseNext, Math.Max(0, value));
    }

    /// <summary>The next N trade_updates events are sent twice (same <c>execution_id</c>).</summary>
    public int DuplicateEventsNext
    {
        get => Volatile.Read(ref _duplicateEventsNext);
        set => Volatile.Write(ref _duplicateEventsNext, Math.Max(0, value));
    }

    /// <summary>The next N fill and partial_fill events are never sent (REST still shows the fills).</summary>
    public int DropFillEventsNext
    {
        get => Volatile.Read(ref _dropFillEventsNext);
        set => Volatile.Write(ref _dropFillEventsNext, Math.Max(0, value));
    }

    /// <summary>Every trading request waits this long before it is processed (and is processed even if the client gave up); 0 = off.</summary>
    public int StallMs
    {
        get => Volatile.Read(ref _stallMs);
        set => Volatile.Write(ref _stallMs, Math.Max(0, value));
    }

    /// <summary>The trade_updates stream stays connected but sends nothing; events meanwhile are lost.</summary>
    public bool SilentStream
    {
        get => _silentStream;
        set => _silentStream = value;
    }

    /// <summary>The next N trade_updates events are held back and sent after the event that follows each.</summary>
    public int OutOfOrderNext
    {
        get => Volatile.Read(ref _outOfOrderNext);
        set => Volatile.Write(ref _outOfOrderNext, Math.Max(0, value));
    }

    /// <summary>The <c>Retry-After</c> (seconds) a rate-limited answer names; 0 = the seconds until the rate window resets.</summary>
    public int RetryAfterS
    {
        get => Volatile.Read(ref _retryAfterS);
        set => Volatile.Write(ref _retryAfterS, Math.Max(0, value));
    }

    /// <summary>
    /// Chaos: besides the counted faults above, each trading request is rate-limited, each order submission answered
    /// 500 or has its answer lost, and each trade_updates event duplicated, dropped (fills) or sent out of order, each
    /// independently with this probability (0 = off, 0.1 = one in ten). Drawn from a generator seeded by
    /// <see cref="ChaosSeed"/>.
    /// </summary>
    public double Chaos
    {
        get => Volatile.Read(ref _chaos);
        set => Volatile.Write(ref _chaos, Math.Clamp(value, 0, 1));
    }

    /// <summary>Seed of the chaos draws (setting it restarts the sequence).</summary>
    public int ChaosSeed
    {
        set
        {
            lock (_chaosGate)
            {
                _random = new Random(value);
            }
        }
    }

    /// <summary>Switches every trading fault off.</summary>
    public void Reset()
    {
        RateLimitNext = 0;
        ServerErrorNext = 0;
        LoseResponseNext = 0;
        DuplicateEventsNext = 0;
        DropFillEventsNext = 0;
        StallMs = 0;
        SilentStream = false;
        OutOfOrderNext = 0;
        RetryAfterS = 0;
        Chaos = 0;
    }

    internal bool TryTakeRateLimit() => SandboxFaults.TryTake(ref _rateLimitNext) || Roll();

    internal bool TryTakeServerError() => SandboxFaults.TryTake(ref _serverErrorNext) || Roll();

    internal bool TryTakeLoseResponse() => SandboxFaults.TryTake(ref _loseResponseNext) || Roll();

    internal bool TryTakeDuplicate() => SandboxFaults.TryTake(ref _duplicateEventsNext) || Roll();

    internal bool TryTakeDropFill() => SandboxFaults.TryTake(ref _dropFillEventsNext) || Roll();

    internal bool TryTakeOutOfOrder() => SandboxFaults.TryTake(ref _outOfOrderNext) || Roll();

    private bool Roll()
    {
        double chaos = Chaos;
        if (chaos <= 0)
        {
            return false;
        }

        lock (_chaosGate)
        {
            return _random.NextDouble() < chaos;
        }
    }
}
