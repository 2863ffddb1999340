using System.Collections.Concurrent;
using Keel.Domain;
using Keel.Domain.Events;
using Keel.Domain.Orders;
using Keel.Domain.Portfolio;
using Keel.Engine.Clock;
using Keel.Engine.Kernel;
using Keel.Engine.Persistence;
using Keel.Engine.Ports;
using Keel.Engine.Strategies;
using Keel.Runtime.Wiring;
using Keel.Storage;

namespace Keel.Runtime.Live;

/// <summary>One difference between a live session and its replay, for people.</summary>
public sealed record ReplayDifference(string Order, string Live, string Replay);

/// <summary>What a replay did: the inputs it re-ran, the orders it created, and where they differ from the journal's.</summary>
public sealed record ReplayResult(long Inputs, int Orders, int Fills, IReadOnlyList<ReplayDifference> Differences)
{
    /// <summary>The replay gave exactly the session's orders.</summary>
    public bool Identical => Differences.Count == 0;
}

/// <summary>
/// <c>keel replay RUN</c>: re-runs a live session's journaled inputs — candles and ticks, the venue's order events,
/// orders from outside, commands, each at the clock time the kernel took it — through a fresh kernel with the run's
/// strategy and settings, against a venue that sends nothing (its answers are among the inputs), and compares the
/// orders it creates with the journal's: the same ids, instruments, sides, types, quantities, prices and time in force.
/// It is the determinism proof of a live run, and how a trader answers "why did it do that at 10:03?".
/// </summary>
public static class LiveReplay
{
    public static ReplayResult Run(KeelStore store, string runId, RunSpec spec, RunServices services, Action<long, long>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(services);
        if (spec.Mode != RunMode.Live)
        {
            throw new UsageException($"run {runId} is a {spec.Kind} run; only live runs journal their inputs (a backtest is replayed by running it again)");
        }

        long total = store.Counts(runId).Inputs;
        if (total == 0)
        {
            throw new UsageException($"run {runId} journaled no inputs (it was recorded by a Keel without the input journal, or never received data)");
        }

        var wiring = RunWiring.For(spec.Mode);
        var descriptor = services.Strategy(spec.Strategy);
        var instruments = RunService.BuildInstruments(spec);
        var strategy = descriptor.Create(new StrategyContext(StrategyParameters.Parse(descriptor.Name, spec.Parameters), instruments, spec.Stake) { Replaying = true });
        var clock = new ReplayClock();
        var venue = new SilentVenue();
        var bus = new EventBus();
        var kernel = new TradingKernel(clock, venue, strategy, new Portfolio(spec.Cash, spec.Leverage), instruments, bus, RunService.KernelOptionsFor(spec, wiring, descriptor, runId), []);
        var replayed = new List<Order>();
        int fills = 0;
        bus.Subscribe<OrderUpdate>(new OrderWatch(replayed, () => fills++), "replay");

        var inbox = new Inbox();
        var loop = new KernelLoop(kernel, inbox);
        var clocks = new ConcurrentQueue<Timestamp>();
        loop.BeforeItem = (in InboxItem _) =>
        {
            if (clocks.TryDequeue(out var at))
            {
                clock.Now = at;
            }
        };

        long read = 0;
        bool skipFirst = false;
        Exception? failure = null;
        var feeder = new Thread(() =>
        {
            try
            {
                long after = 0;
                while (true)
                {
                    var page = store.ReadInputs(runId, after, 10_000);
                    if (page.Count == 0)
                    {
                        break;
                    }

                    foreach (var record in page)
                    {
                        if (record.Sequence != after + 1)
                        {
                            throw new FormatException($"run {runId}: input {after + 1} is missing from the journal (the next one is {record.Sequence}); it cannot be replayed");
                        }

                        if (record.Sequence == 1 && skipFirst)
                        {
                            after = 1;
                            Interlocked.Increment(ref read);
                            continue;
                        }

                        if (record.Kind == InputKind.Command && InputCodec.Decode(record).Command == KernelCommand.Stop)
                        {
                            // A stop ends a session, not the run: the next session's inputs follow.
                            after = record.Sequence;
                            continue;
                        }

                        clocks.Enqueue(record.Clock);
                        inbox.Write(InputCodec.Decode(record), CancellationToken.None);
                        after = record.Sequence;
                        long done = Interlocked.Increment(ref read);
                        progress?.Invoke(done, total);
                    }
                }
            }
            catch (Exception ex)
            {
                failure = ex;
            }

            inbox.Write(InboxItem.EndOfData, CancellationToken.None);
        })
        {
            IsBackground = true,
            Name = "keel-replay",
        };

        // Input 1 of a run is the strategy's starting state: set before the strategy starts, as in the run.
        if (store.ReadInputs(runId, 0, 1) is [{ Kind: InputKind.Adjustment } first]
            && InputCodec.Decode(first).Payload is KernelAdjustment { Kind: KernelAdjustmentKind.StrategyState } starts)
        {
            starts.ApplyTo(kernel);
            skipFirst = true;
        }

        kernel.Start();
        feeder.Start();
        loop.Run(CancellationToken.None);
        feeder.Join();
        if (failure is not null)
        {
            throw failure is FormatException f ? new UsageException(f.Message) : failure;
        }

        return new ReplayResult(Volatile.Read(ref read), replayed.Count, fills, Compare(store.ReadOrders(runId), replayed));
    }

    private static List<ReplayDifference> Compare(IReadOnlyList<StoredOrder> live, List<Order> replayed)
    {
        var differences = new List<ReplayDifference>();
        var byId = replayed.ToDictionary(o => o.Id.Value, StringComparer.Ordinal);
        foreach (var stored in live)
        {
            if (stored.Status == "denied" && !byId.ContainsKey(stored.Id))
            {
                continue;
            }

            if (!byId.Remove(stored.Id, out var order))
            {
                differences.Add(new ReplayDifference(stored.Id, Describe(stored), "not created"));
                continue;
            }

            if (!Same(stored, order))
            {
                differences.Add(new ReplayDifference(stored.Id, Describe(stored), Describe(order)));
            }
        }

        foreach (var extra in byId.Values.OrderBy(o => o.Number))
        {
            differences.Add(new ReplayDifference(extra.Id.Value, "not created", Describe(extra)));
        }

        return differences;
    }

    private static bool Same(StoredOrder s, Order o) =>
        s.Instrument == o.Instrument.Symbol && s.Side == o.Side.ToText() && s.Type == o.Type.ToText()
        && Quantity.Parse(s.Quantity) == o.Quantity
        && (s.LimitPrice is null ? o.LimitPrice is null : o.LimitPrice == Price.Parse(s.LimitPrice))
        && (s.StopPrice is null ? o.StopPrice is null : o.StopPrice == Price.Parse(s.StopPrice))
        && s.TimeInForce == o.TimeInForce.ToText();

    private static string Describe(StoredOrder s) =>
        $"{s.Side} {s.Quantity} {s.Instrument} {s.Type}{(s.LimitPrice is null ? string.Empty : $" limit {s.LimitPrice}")}{(s.StopPrice is null ? string.Empty : $" stop {s.StopPrice}")} {s.TimeInForce}";

    private static string Describe(Order o) =>
        $"{o.Side.ToText()} {o.Quantity} {o.Instrument} {o.Type.ToText()}{(o.LimitPrice is { } l ? $" limit {l}" : string.Empty)}{(o.StopPrice is { } p ? $" stop {p}" : string.Empty)} {o.TimeInForce.ToText()}";

    /// <summary>The clock of a replay: each input's recorded time.</summary>
    private sealed class ReplayClock : IClock
    {
        public Timestamp Now { get; set; }

        public void Observe(Timestamp eventTime)
        {
        }
    }

    /// <summary>A venue that sends nothing: what the real one answered is among the inputs.</summary>
    private sealed class SilentVenue : IExecutionVenue
    {
        public string Name => "replay";

        public void Submit(SubmitOrder command)
        {
        }

        public void SubmitList(SubmitOrderList command)
        {
        }

        public void Cancel(CancelOrder command)
        {
        }

        public void Replace(ReplaceOrder command)
        {
        }
    }

    private sealed class OrderWatch(List<Order> created, Action filled) : IEventHandler<OrderUpdate>
    {
        public void Handle(in OrderUpdate evt, long sequence)
        {
            if (evt.Event is OrderSubmitted or OrderDenied)
            {
                created.Add(evt.Order);
            }
            else if (evt.Event is OrderFilled)
            {
                filled();
            }
        }
    }
}
