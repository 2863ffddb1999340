using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Keel.Domain;
using Keel.Domain.Events;

namespace Keel.Engine.Kernel;

public enum InboxItemKind : byte
{
    Bar = 1,
    Tick = 2,
    Bars = 3,
    OrderEvent = 4,
    Command = 5,
    EndOfData = 6,
    Fault = 7,

    /// <summary>An order or cancel from outside the strategy (<see cref="ExternalOrderRequest"/>).</summary>
    External = 9,

    /// <summary>
    /// Work a live venue adapter runs on the kernel thread (an <see cref="Action{TradingKernel}"/>): comparing the venue's
    /// state with the kernel's, between two events. Not an input itself: what it changes goes in as order events.
    /// </summary>
    Call = 10,

    /// <summary>A reconciliation's change to the kernel (<see cref="KernelAdjustment"/>): an adopted execution or a halt.</summary>
    Adjustment = 11,
}

/// <summary>Sees each inbox item before the kernel processes it (live runs journal their inputs here).</summary>
public delegate void InboxItemObserver(in InboxItem item);

public enum KernelCommand
{
    Pause = 1,
    Resume = 2,
    Stop = 3,
    ResetCircuitBreaker = 4,
}

/// <summary>A pooled block of bars, so a historical reader can feed the inbox with one channel operation per block.</summary>
public sealed class BarBatch(int capacity)
{
    // Allocated on first use: a batch that only ever carries a view (an in-memory feeder's bars, read in place)
    // never needs one, and a sweep starts a session per combination.
    private Bar[]? _items;

    /// <summary>The batch's own storage, which a feeder fills (then sets <see cref="Count"/>).</summary>
    public Bar[] Items => _items ??= new Bar[capacity];

    public int Count { get; set; }

    /// <summary>
    /// Bars held elsewhere, read in place instead of <see cref="Items"/> when set (and never copied): the bars an
    /// in-memory feeder shares read-only, e.g. with every combination of a sweep.
    /// </summary>
    public ReadOnlyMemory<Bar> View { get; set; }

    /// <summary>The bars to process: the <see cref="View"/> when set, else the first <see cref="Count"/> of <see cref="Items"/>.</summary>
    public ReadOnlySpan<Bar> Bars => View.IsEmpty ? Items.AsSpan(0, Count) : View.Span;
}

/// <summary>One entry of the kernel inbox.</summary>
public readonly struct InboxItem
{
    private InboxItem(InboxItemKind kind, in Bar bar, in Tick tick, object? payload, KernelCommand command)
    {
        Kind = kind;
        Bar = bar;
        Tick = tick;
        Payload = payload;
        Command = command;
    }

    public InboxItemKind Kind { get; }

    public Bar Bar { get; }

    public Tick Tick { get; }

    public object? Payload { get; }

    public KernelCommand Command { get; }

    public static InboxItem ForBar(in Bar bar) => new(InboxItemKind.Bar, bar, default, null, default);

    public static InboxItem ForTick(in Tick tick) => new(InboxItemKind.Tick, default, tick, null, default);

    public static InboxItem ForBars(BarBatch batch) => new(InboxItemKind.Bars, default, default, batch, default);

    public static InboxItem ForOrderEvent(OrderEvent e) => new(InboxItemKind.OrderEvent, default, default, e, default);

    public static InboxItem ForCommand(KernelCommand command) => new(InboxItemKind.Command, default, default, null, command);

    public static InboxItem ForExternal(ExternalOrderRequest request) => new(InboxItemKind.External, default, default, request, default);

    public static InboxItem ForAdjustment(KernelAdjustment adjustment) => new(InboxItemKind.Adjustment, default, default, adjustment, default);

    public static InboxItem ForCall(Action<TradingKernel> call) => new(InboxItemKind.Call, default, default, call, default);

    /// <summary>A call that returns a value: <paramref name="result"/> completes with it (or its exception) once the kernel ran it.</summary>
    public static InboxItem ForCall<T>(Func<TradingKernel, T> call, out Task<T> result)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        result = done.Task;
        return ForCall(k =>
        {
            try
            {
                done.TrySetResult(call(k));
            }
            catch (Exception ex)
            {
                done.TrySetException(ex);
            }
        });
    }

    public static InboxItem EndOfData => new(InboxItemKind.EndOfData, default, default, null, default);

    public static InboxItem ForFault(Exception error) => new(InboxItemKind.Fault, default, default, error, default);
}

/// <summary>
/// The kernel's single bounded inbox: any number of producers (feeds, venues, timers, readers), exactly one reader.
/// A full inbox makes producers wait (back-pressure), it never drops. Also pools <see cref="BarBatch"/>es.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "The wake-up event's WaitHandle is never asked for, so it holds no OS handle: it waits on a monitor, and the garbage collector is all it needs.")]
public sealed class Inbox
{
    private readonly Channel<InboxItem> _channel;
    private readonly Channel<BarBatch> _free;

    // The reader's direct wake-up (see WaitToRead): set while the kernel thread is about to block on _wake, so a writer
    // wakes that thread itself instead of queueing a continuation to the thread pool that would then wake it.
    private readonly ManualResetEventSlim _wake = new(false, spinCount: 20);
    private int _sleeping;

    public Inbox(int capacity = 4096, int batchCount = 8, int batchSize = 4096)
    {
        _channel = Channel.CreateBounded<InboxItem>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait,
            AllowSynchronousContinuations = false,
        });
        _free = Channel.CreateBounded<BarBatch>(new BoundedChannelOptions(batchCount) { SingleReader = false, SingleWriter = false });
        for (int i = 0; i < batchCount; i++)
        {
            _free.Writer.TryWrite(new BarBatch(batchSize));
        }

        OrderEvents = new InboxOrderEventSink(this);
    }

    public ChannelReader<InboxItem> Reader => _channel.Reader;

    /// <summary>An order-event sink for live venues: events go through the inbox like everything else.</summary>
    public Ports.IOrderEventSink OrderEvents { get; }

    public ValueTask WriteAsync(InboxItem item, CancellationToken ct)
    {
        if (_channel.Writer.TryWrite(item))
        {
            WakeReader();
            return default;
        }

        return WriteSlowAsync(item, ct);
    }

    public bool TryWrite(InboxItem item)
    {
        if (!_channel.Writer.TryWrite(item))
        {
            return false;
        }

        WakeReader();
        return true;
    }

    /// <summary>Blocks the calling producer thread until there is room.</summary>
    public void Write(InboxItem item, CancellationToken ct)
    {
        if (!_channel.Writer.TryWrite(item))
        {
            _channel.Writer.WriteAsync(item, ct).AsTask().GetAwaiter().GetResult();
        }

        WakeReader();
    }

    /// <summary>
    /// The reader's blocking wait (the kernel's own thread, <see cref="KernelLoop.Run"/>): true once an item can be
    /// read, false when the inbox is completed and empty; throws <see cref="OperationCanceledException"/> on
    /// <paramref name="ct"/>. It spins briefly, then sleeps until a writer wakes this thread directly: one wake-up
    /// between a tick written and the kernel running it, where an awaited channel read takes two (a thread-pool
    /// worker, then the continuation).
    /// </summary>
    public bool WaitToRead(CancellationToken ct)
    {
        var reader = _channel.Reader;
        while (true)
        {
            if (reader.Count > 0)
            {
                return true;
            }

            if (reader.Completion.IsCompleted)
            {
                return false;
            }

            _wake.Reset();

            // Announce the sleep, then look again: a writer that wrote before seeing the flag is seen here (both sides
            // fence between their write and their read).
            Interlocked.Exchange(ref _sleeping, 1);
            if (reader.Count > 0 || reader.Completion.IsCompleted)
            {
                Volatile.Write(ref _sleeping, 0);
                continue;
            }

            try
            {
                _wake.Wait(ct);
            }
            finally
            {
                Volatile.Write(ref _sleeping, 0);
            }
        }
    }

    public BarBatch RentBatch(CancellationToken ct)
    {
        if (_free.Reader.TryRead(out var batch))
        {
            return batch;
        }

        return _free.Reader.ReadAsync(ct).AsTask().GetAwaiter().GetResult();
    }

    public void ReturnBatch(BarBatch batch)
    {
        batch.Count = 0;
        batch.View = default;
        _free.Writer.TryWrite(batch);
    }

    public void Complete()
    {
        _channel.Writer.TryComplete();
        WakeReader();
    }

    private async ValueTask WriteSlowAsync(InboxItem item, CancellationToken ct)
    {
        await _channel.Writer.WriteAsync(item, ct).ConfigureAwait(false);
        WakeReader();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void WakeReader()
    {
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _sleeping) != 0)
        {
            _wake.Set();
        }
    }

    private sealed class InboxOrderEventSink(Inbox inbox) : Ports.IOrderEventSink
    {
        public void OnOrderEvent(OrderEvent orderEvent)
        {
            if (!inbox.TryWrite(InboxItem.ForOrderEvent(orderEvent)))
            {
                inbox.Write(InboxItem.ForOrderEvent(orderEvent), CancellationToken.None);
            }
        }
    }
}

/// <summary>What became of an order from outside the strategy, right after the kernel processed it.</summary>
/// <param name="Id">The client order id the kernel gave it (default when it was refused before getting one).</param>
/// <param name="Status">Its status after validation, the risk gate and the venue call: denied, submitted, accepted, filled…</param>
/// <param name="Reason">Why it was denied, rejected or ignored; null otherwise.</param>
public readonly record struct ExternalOrderResult(ClientOrderId Id, Domain.Orders.OrderStatus Status, string? Reason);

/// <summary>
/// An order (or a cancel) from outside the strategy — an operator, the decision pipeline, a webhook — on its way
/// through the inbox to the kernel thread, where it passes the same validation, risk gate and journal as a strategy's
/// intent. <see cref="Result"/> completes on the kernel thread, with continuations run elsewhere.
/// </summary>
public sealed class ExternalOrderRequest
{
    private readonly TaskCompletionSource<ExternalOrderResult> _reply = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ExternalOrderRequest(Domain.Orders.OrderRequest order, ClientOrderId? cancelId)
    {
        Order = order;
        CancelId = cancelId;
    }

    public Domain.Orders.OrderRequest Order { get; }

    public ClientOrderId? CancelId { get; }

    public Task<ExternalOrderResult> Result => _reply.Task;

    public static ExternalOrderRequest Submit(in Domain.Orders.OrderRequest order) => new(order, null);

    public static ExternalOrderRequest Cancel(ClientOrderId id) => new(default, id);

    internal void Complete(ExternalOrderResult result) => _reply.TrySetResult(result);

    /// <summary>The run ended before the kernel took the request.</summary>
    public void Abandon(string reason) => _reply.TrySetResult(new ExternalOrderResult(CancelId ?? default, Domain.Orders.OrderStatus.Denied, reason));
}

/// <summary>How a loop ended.</summary>
public enum LoopOutcome
{
    EndOfData = 1,
    Stopped = 2,
    Cancelled = 3,
}

/// <summary>The one reader of the inbox: takes items in order and hands them to the kernel on this thread.</summary>
public sealed class KernelLoop(TradingKernel kernel, Inbox inbox)
{
    /// <summary>Number of market data events dispatched (bars and ticks), including those before a resume.</summary>
    public long DataEvents { get; set; }

    /// <summary>Called on the kernel thread after each inbox item, between events (snapshot policy lives here).</summary>
    public Action? AfterItem { get; set; }

    /// <summary>Called on the kernel thread with each item before it is processed (null in backtests).</summary>
    public InboxItemObserver? BeforeItem { get; set; }

    /// <summary>
    /// Runs until end of data, a stop command or cancellation (after which the caller stops the kernel). A fault item (a producer failed) rethrows its
    /// exception here, after the kernel stopped.
    /// </summary>
    public async Task<LoopOutcome> RunAsync(CancellationToken ct)
    {
        var reader = inbox.Reader;
        try
        {
            while (await reader.WaitToReadAsync(ct).ConfigureAwait(false))
            {
                if (Drain(reader, ct) is LoopOutcome ended)
                {
                    return ended;
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The kernel is left as it is, between two items: the owner may snapshot it before stopping it.
            return LoopOutcome.Cancelled;
        }

        kernel.Stop();
        return LoopOutcome.EndOfData;
    }

    /// <summary>
    /// Runs the loop on the calling thread (every session: the kernel has a thread of its own), blocking in
    /// <see cref="Inbox.WaitToRead"/> when the inbox is empty so a writer wakes this thread directly. Same outcomes as
    /// <see cref="RunAsync"/>.
    /// </summary>
    public LoopOutcome Run(CancellationToken ct)
    {
        var reader = inbox.Reader;
        try
        {
            while (inbox.WaitToRead(ct))
            {
                if (Drain(reader, ct) is LoopOutcome ended)
                {
                    return ended;
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return LoopOutcome.Cancelled;
        }

        kernel.Stop();
        return LoopOutcome.EndOfData;
    }

    /// <summary>Processes every item that can be read now; the outcome when one of them ends the loop.</summary>
    private LoopOutcome? Drain(ChannelReader<InboxItem> reader, CancellationToken ct)
    {
        while (reader.TryRead(out var item))
        {
            // Checked per item, not only while waiting: a backtest's inbox is never empty, and a feeder that already
            // wrote its last batch and EndOfData must not turn a stop into a completed run.
            if (ct.IsCancellationRequested)
            {
                if (item.Kind == InboxItemKind.Bars)
                {
                    inbox.ReturnBatch((BarBatch)item.Payload!);
                }
                else if (item.Kind == InboxItemKind.External)
                {
                    ((ExternalOrderRequest)item.Payload!).Abandon("the run stopped before the order reached it");
                }

                return LoopOutcome.Cancelled;
            }

            BeforeItem?.Invoke(in item);
            var outcome = Dispatch(in item);
            if (outcome is not null)
            {
                return outcome.Value;
            }

            AfterItem?.Invoke();
        }

        return null;
    }

    /// <summary>
    /// Hands one item to the kernel on the calling thread, outside the loop (no <see cref="BeforeItem"/>, no
    /// <see cref="AfterItem"/>): a resumed live session re-running the inputs it had journaled after its snapshot.
    /// Returns the outcome when the item ends the run.
    /// </summary>
    public LoopOutcome? Step(in InboxItem item) => Dispatch(in item);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private LoopOutcome? Dispatch(in InboxItem item)
    {
        switch (item.Kind)
        {
            case InboxItemKind.Bars:
                {
                    var batch = (BarBatch)item.Payload!;
                    var bars = batch.Bars;
                    for (int i = 0; i < bars.Length; i++)
                    {
                        kernel.OnBar(in bars[i]);
                    }

                    DataEvents += bars.Length;
                    inbox.ReturnBatch(batch);
                    return null;
                }

            case InboxItemKind.Bar:
                kernel.OnBar(item.Bar);
                DataEvents++;
                return null;
            case InboxItemKind.Tick:
                kernel.OnTick(item.Tick);
                DataEvents++;
                return null;
            case InboxItemKind.OrderEvent:
                kernel.ProcessVenueEvent((OrderEvent)item.Payload!);
                return null;
            case InboxItemKind.External:
                {
                    var request = (ExternalOrderRequest)item.Payload!;
                    request.Complete(request.CancelId is ClientOrderId id ? kernel.CancelExternal(id) : kernel.SubmitExternal(request.Order));
                    return null;
                }

            case InboxItemKind.Command:
                switch (item.Command)
                {
                    // A command that does not fit the state (pause while paused, a race between two operators) does nothing.
                    case KernelCommand.Pause:
                        if (kernel.State == KernelState.Running)
                        {
                            kernel.Pause();
                        }

                        return null;
                    case KernelCommand.Resume:
                        if (kernel.State == KernelState.Paused)
                        {
                            kernel.Resume();
                        }

                        return null;
                    case KernelCommand.ResetCircuitBreaker:
                        kernel.ResetCircuitBreaker();
                        return null;
                    default:
                        kernel.Stop();
                        return LoopOutcome.Stopped;
                }

            case InboxItemKind.Call:
                ((Action<TradingKernel>)item.Payload!)(kernel);
                return null;
            case InboxItemKind.Adjustment:
                ((KernelAdjustment)item.Payload!).ApplyTo(kernel);
                return null;
            case InboxItemKind.EndOfData:
                kernel.Stop();
                return LoopOutcome.EndOfData;
            case InboxItemKind.Fault:
                kernel.Stop();
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture((Exception)item.Payload!).Throw();
                return null;
            default:
                throw new InvalidOperationException($"unknown inbox item kind {item.Kind}");
        }
    }
}
