namespace Keel.Sandbox.Trading.Oanda;

/// <summary>How the transactions stream misbehaves while fills go on.</summary>
internal enum OandaStreamSilence
{
    Off = 1,

    /// <summary>Heartbeats only: transaction lines are dropped (REST still has them).</summary>
    Heartbeats = 2,

    /// <summary>Nothing at all: no transactions, no heartbeats; the connection stays open.</summary>
    Nothing = 3,
}

/// <summary>
/// The OANDA trading side's fault switches (<c>POST /_sandbox/oanda/faults</c>), changeable from any thread. Counts
/// apply to the next N matching requests or stream lines.
/// </summary>
internal sealed class OandaTradingFaults
{
    private int _rateLimitNext;
    private int _orderErrorNext;
    private int _slowNext;
    private int _loseOrderResponseNext;
    private int _duplicateNext;
    private int _outOfOrderNext;
    private volatile int _silence = (int)OandaStreamSilence.Off;

    /// <summary>Seconds announced in Retry-After on a 429.</summary>
    public int RetryAfterSeconds { get; set; } = 1;

    /// <summary>How long a slowed response waits (after the request took effect).</summary>
    public int SlowMilliseconds { get; set; } = 5_000;

    public OandaStreamSilence Silence
    {
        get => (OandaStreamSilence)_silence;
        set => _silence = (int)value;
    }

    public int RateLimitNext
    {
        get => Volatile.Read(ref _rateLimitNext);
        set => Volatile.Write(ref _rateLimitNext, Math.Max(0, value));
    }

    public int OrderErrorNext
    {
        get => Volatile.Read(ref _orderErrorNext);
        set => Volatile.Write(ref _orderErrorNext, Math.Max(0, value));
    }

    public int SlowNext
    {
        get => Volatile.Read(ref _slowNext);
        set => Volatile.Write(ref _slowNext, Math.Max(0, value));
    }

    public int LoseOrderResponseNext
    {
        get => Volatile.Read(ref _loseOrderResponseNext);
        set => Volatile.Write(ref _loseOrderResponseNext, Math.Max(0, value));
    }

    public int DuplicateNext
    {
        get => Volatile.Read(ref _duplicateNext);
        set => Volatile.Write(ref _duplicateNext, Math.Max(0, value));
    }

    public int OutOfOrderNext
    {
        get => Volatile.Read(ref _outOfOrderNext);
        set => Volatile.Write(ref _outOfOrderNext, Math.Max(0, value));
    }

    public void Reset()
    {
        RateLimitNext = 0;
        OrderErrorNext = 0;
        SlowNext = 0;
        LoseOrderResponseNext = 0;
        DuplicateNext = 0;
        OutOfOrderNext = 0;
        Silence = OandaStreamSilence.Off;
        RetryAfterSeconds = 1;
        SlowMilliseconds = 5_000;
    }

    public bool TakeRateLimit() => SandboxFaults.TryTake(ref _rateLimitNext);

    public bool TakeOrderError() => SandboxFaults.TryTake(ref _orderErrorNext);

    public bool TakeSlow() => SandboxFaults.TryTake(ref _slowNext);

    public bool TakeLoseOrderResponse() => SandboxFaults.TryTake(ref _loseOrderResponseNext);

    public bool TakeDuplicate() => SandboxFaults.TryTake(ref _duplicateNext);

    public bool TakeOutOfOrder() => SandboxFaults.TryTake(ref _outOfOrderNext);
}
