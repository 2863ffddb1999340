using System.Runtime.CompilerServices;

namespace Keel.Engine.Kernel;

/// <summary>Receives one type of event, with the kernel's sequence number of the event.</summary>
public interface IEventHandler<T>
{
    void Handle(in T evt, long sequence);
}

/// <summary>A handler that threw: which one, on what, and why.</summary>
public sealed record HandlerFailure(string Handler, string EventType, long Sequence, Exception Error);

/// <summary>
/// Typed publish/subscribe for the kernel thread. Several handlers per event type, called in subscription order;
/// a handler that throws is reported and skipped, the others still run. Publishing allocates nothing.
/// Not thread-safe by design: only the kernel thread publishes.
/// </summary>
public sealed class EventBus
{
    private object?[] _sets = new object?[16];

    /// <summary>Called when a handler throws (after the failure is isolated).</summary>
    public Action<HandlerFailure>? OnFailure { get; set; }

    public long FailureCount { get; private set; }

    public void Subscribe<T>(IEventHandler<T> handler, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        int slot = TypeSlot<T>.Index;
        if (slot >= _sets.Length)
        {
            Array.Resize(ref _sets, Math.Max(slot + 1, _sets.Length * 2));
        }

        var set = (HandlerSet<T>?)_sets[slot];
        if (set is null)
        {
            set = new HandlerSet<T>();
            _sets[slot] = set;
        }

        set.Add(handler, name ?? handler.GetType().Name);
    }

    public void Subscribe<T>(Action<T> handler, string name) => Subscribe(new DelegateHandler<T>(handler), name);

    public bool HasHandlers<T>()
    {
        int slot = TypeSlot<T>.Index;
        return slot < _sets.Length && _sets[slot] is HandlerSet<T> { Count: > 0 };
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Publish<T>(in T evt, long sequence)
    {
        int slot = TypeSlot<T>.Index;
        if (slot < _sets.Length && _sets[slot] is HandlerSet<T> set)
        {
            set.Dispatch(in evt, sequence, this);
        }
    }

    internal void ReportFailure(HandlerFailure failure)
    {
        FailureCount++;
        OnFailure?.Invoke(failure);
    }

    private sealed class HandlerSet<T>
    {
        private IEventHandler<T>[] _handlers = [];
        private string[] _names = [];

        public int Count => _handlers.Length;

        public void Add(IEventHandler<T> handler, string name)
        {
            _handlers = [.. _handlers, handler];
            _names = [.. _names, name];
        }

        public void Dispatch(in T evt, long sequence, EventBus bus)
        {
            var handlers = _handlers;
            for (int i = 0; i < handlers.Length; i++)
            {
                try
                {
                    handlers[i].Handle(in evt, sequence);
                }
                catch (Exception ex)
                {
                    bus.ReportFailure(new HandlerFailure(_names[i], typeof(T).Name, sequence, ex));
                }
            }
        }
    }

    private sealed class DelegateHandler<T>(Action<T> action) : IEventHandler<T>
    {
        public void Handle(in T evt, long sequence) => action(evt);
    }

    private static class TypeSlotCounter
    {
        private static int _next = -1;

        public static int Next() => Interlocked.Increment(ref _next);
    }

    private static class TypeSlot<T>
    {
        public static readonly int Index = TypeSlotCounter.Next();
    }
}
