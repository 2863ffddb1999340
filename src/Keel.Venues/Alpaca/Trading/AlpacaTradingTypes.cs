using Keel.Domain;

namespace Keel.Venues.Alpaca.Trading;

/// <summary>Alpaca's market clock (<c>GET /v2/clock</c>).</summary>
public sealed record AlpacaClock(Timestamp Now, bool IsOpen, Timestamp NextOpen, Timestamp NextClose);

/// <summary>One trading day of Alpaca's calendar (<c>GET /v2/calendar</c>); open and close are New York times (<c>HH:MM</c>).</summary>
public sealed record AlpacaCalendarDay(DateOnly Date, string Open, string Close);

/// <summary>What the adapter has seen go wrong, for health checks and tests.</summary>
public sealed class AlpacaTradingCounters
{
    private long _unreadableReplies;
    private long _duplicateEvents;
    private long _reconnects;
    private long _caughtUpFills;
    private long _skippedMessages;

    /// <summary>Replies that could not be read (malformed, truncated, a missing field, an unknown value).</summary>
    public long UnreadableReplies => Interlocked.Read(ref _unreadableReplies);

    /// <summary>Stream or REST events already applied, ignored.</summary>
    public long DuplicateEvents => Interlocked.Read(ref _duplicateEvents);

    /// <summary>Times the trade_updates stream was connected again after a drop.</summary>
    public long Reconnects => Interlocked.Read(ref _reconnects);

    /// <summary>Fills delivered from REST because the stream never sent them.</summary>
    public long CaughtUpFills => Interlocked.Read(ref _caughtUpFills);

    /// <summary>Stream messages skipped as unreadable or unknown.</summary>
    public long SkippedMessages => Interlocked.Read(ref _skippedMessages);

    internal void Unreadable() => Interlocked.Increment(ref _unreadableReplies);

    internal void Duplicate() => Interlocked.Increment(ref _duplicateEvents);

    internal void Reconnected() => Interlocked.Increment(ref _reconnects);

    internal void CaughtUp(int fills) => Interlocked.Add(ref _caughtUpFills, fills);

    internal void Skipped() => Interlocked.Increment(ref _skippedMessages);
}
