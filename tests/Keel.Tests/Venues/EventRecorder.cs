using Keel.Domain;
using Keel.Domain.Events;
using Keel.Engine.Ports;

namespace Keel.Tests.Venues;

/// <summary>Collects a venue's order events, thread-safe, and lets a test await a condition on them (never a sleep).</summary>
public class EventRecorder : IOrderEventSink
{
    private readonly Lock _gate = new();
    private readonly List<OrderEvent> _events = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IReadOnlyList<OrderEvent> All
    {
        get
        {
            lock (_gate)
            {
                return [.. _events];
            }
        }
    }

    public void OnOrderEvent(OrderEvent orderEvent)
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            _events.Add(orderEvent);
            changed = _changed;
            _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }

    public IReadOnlyList<OrderEvent> For(ClientOrderId id) => [.. All.Where(e => e.ClientOrderId == id)];

    public async Task<T> WaitForAsync<T>(ClientOrderId id, TimeSpan timeout)
        where T : OrderEvent
    {
        T? found = null;
        await WaitUntilAsync(() => (found = For(id).OfType<T>().FirstOrDefault()) is not null, timeout, $"a {typeof(T).Name} for {id}");
        return found!;
    }

    public async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string? what = null)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                changed = _changed.Task;
            }

            if (condition())
            {
                return;
            }

            try
            {
                await changed.WaitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"waited {timeout.TotalSeconds:0} s for {what ?? "a condition"}; events so far: {string.Join(", ", All.Select(e => $"{e.ClientOrderId}:{e.Kind}"))}");
            }
        }
    }
}
