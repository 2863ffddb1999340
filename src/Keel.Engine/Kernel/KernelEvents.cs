using Keel.Domain;

namespace Keel.Engine.Kernel;

public enum NoticeLevel
{
    Info = 1,
    Warning = 2,
    Error = 3,
}

/// <summary>Something the kernel wants recorded: a strategy error, a breaker trip, an ignored signal.</summary>
public sealed record KernelNotice(NoticeLevel Level, string Code, string Message, Timestamp Time);

/// <summary>All events with time up to and including <see cref="Time"/> have been processed (equity is final for that time).</summary>
public readonly record struct SliceClosed(Timestamp Time);

public enum KernelState
{
    Created = 1,
    Running = 2,
    Paused = 3,
    Stopped = 4,
}

/// <summary>The kernel moved between lifecycle states.</summary>
public sealed record KernelStateChanged(KernelState From, KernelState To, Timestamp Time);
