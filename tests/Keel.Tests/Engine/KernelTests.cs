using Keel.Domain;
using Keel.Domain.Events;
using Keel.Domain.Orders;
using Keel.Domain.Portfolio;
using Keel.Engine.Clock;
using Keel.Engine.Kernel;
using Keel.Engine.Risk;
using Keel.Engine.Simulation;
using Keel.Engine.Strategies;
using Keel.Tests.Support;
using static Keel.Tests.Support.Harness;

namespace Keel.Tests.Engine;

public class KernelTests
{
    private static Bar[] Days(int count, string price = "100") =>
        Enumerable.Range(2, count).Select(d => Bar(d, price, price, price, price)).ToArray();

    [Fact]
    public void RiskGate_MaxPosition_DeniesOpening_ButAllowsClosing()
    {
        var h = new Harness((i, b, m, t) =>
        {
            if (i == 0)
            {
                t.Submit(OrderRequest.Market(b.Instrument, OrderSide.Buy, Quantity.From(10)));
            }
            else if (i == 1)
            {
                t.Submit(OrderRequest.Market(b.Instrument, OrderSide.Buy, Quantity.From(1)));
                t.Submit(OrderRequest.Market(b.Instrument, OrderSide.Sell, Quantity.From(10)));
            }
        }, kernel: new KernelOptions { Risk = new RiskLimits(MaxPositionQuantity: Quantity.From(10)) });
        h.Run(Days(3));
        Assert.Equal(OrderStatus.Filled, h.Status("O-1"));
        Assert.Equal(OrderStatus.Denied, h.Status("O-2"));
        Assert.Equal("position would reach 11, above the limit of 10", h.Order("O-2").Reason);
        Assert.Equal(OrderStatus.Filled, h.Status("O-3"));
        Assert.Contains(h.Updates, u => u.Event is OrderDenied d && d.Reason.Contains("above the limit", StringComparison.Ordinal));
    }

    [Fact]
    public void RiskGate_NotionalAndOpenOrders()
    {
        var h = new Harness((i, b, m, t) =>
        {
            if (i == 0)
            {
                t.Submit(OrderRequest.Market(b.Instrument, OrderSide.Buy, Quantity.From(200)));
                t.Submit(OrderRequest.Limit(b.Instrument, OrderSide.Buy, Quantity.From(1), Price.Parse("50")));
                t.Submit(OrderRequest.Limit(b.Instrument, OrderSide.Buy, Quantity.From(1), Price.Parse("51")));
            }
        }, kernel: new KernelOptions { Risk = new RiskLimits(MaxOrderNotional: Money.From(10_000), MaxOpenOrders: 1) });
        h.Run(Days(2));
        Assert.Equal("order notional 20000.00 is above the limit of 10000.00", h.Order("O-1").Reason);
        Assert.Equal(OrderStatus.Accepted, h.Status("O-2"));
        Assert.Equal("open orders 1 would exceed the limit of 1", h.Order("O-3").Reason);
    }

    [Fact]
    public void CircuitBreaker_OpensAfterFiveConsecutiveErrors_AndDeniesNewOrders()
    {
        var h = new Harness((i, b, m, t) =>
        {
            if (i < 5)
            {
                throw new InvalidOperationException($"boom {i}");
            }

            t.Submit(OrderRequest.Market(b.Instrument, OrderSide.Buy, Quantity.From(1)));
        });
        h.Run(Days(7));
        Assert.True(h.Kernel.CircuitBreaker.IsOpen);
        Assert.Equal(5, h.Notices.Count(n => n.Code == "strategy_failed"));
        Assert.Contains(h.Notices, n => n.Code == "circuit_breaker_open");
        Assert.Equal(OrderStatus.Denied, h.Status("O-1"));
        Assert.StartsWith("circuit breaker is open", h.Order("O-1").Reason, StringComparison.Ordinal);
        Assert.Contains("boom 0", h.Notices.First(n => n.Code == "strategy_failed").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CircuitBreaker_SuccessBetweenErrors_ResetsCount()
    {
        var h = new Harness((i, b, m, t) =>
        {
            if (i % 2 == 0 && i < 12)
            {
                throw new InvalidOperationException("intermittent");
            }
        });
        h.Run(Days(14));
        Assert.False(h.Kernel.CircuitBreaker.IsOpen);
        Assert.Equal(6, h.Kernel.CircuitBreaker.TotalErrors);
    }

    [Fact]
    public void EventBus_FailingHandler_IsIsolatedAndReported()
    {
        var bus = new EventBus();
        var seen = new List<int>();
        var failures = new List<HandlerFailure>();
        bus.OnFailure = failures.Add;
        bus.Subscribe<int>(_ => throw new InvalidOperationException("bad handler"), "bad");
        bus.Subscribe<int>(seen.Add, "good");
        bus.Publish(7, 1);
        bus.Publish(8, 2);
        Assert.Equal([7, 8], seen);
        Assert.Equal(2, failures.Count);
        Assert.Equal("bad", failures[0].Handler);
        Assert.Equal(1, failures[0].Sequence);
    }

    [Fact]
    public void Kernel_FailingSubscriber_DoesNotStopTheRun()
    {
        var h = new Harness((i, b, m, t) =>
        {
            if (i == 0)
            {
                t.Signal(b.Instrument, SignalAction.OpenLong, Quantity.From(5));
            }
        });
        h.Bus.Subscribe<OrderUpdate>(_ => throw new InvalidOperationException("journal down"), "flaky");
        h.Run(Days(3));
        Assert.Equal(Quantity.From(5), h.Portfolio.PositionQuantity(h.Id));
        Assert.Contains(h.Notices, n => n.Code == "handler_failed" && n.Message.Contains("journal down", StringComparison.Ordinal));
    }

    [Fact]
    public void Signals_OpenCloseLongShort_AndCloseIsNeverDoubled()
    {
        var h = new Harness((i, b, m, t) =>
        {
            switch (i)
            {
                case 0:
                    t.Signal(b.Instrument, SignalAction.CloseLong);
                    t.Signal(b.Instrument, SignalAction.OpenLong, Quantity.From(3));
                    break;
                case 1:
                    t.Signal(b.Instrument, SignalAction.CloseLong);
                    t.Signal(b.Instrument, SignalAction.CloseLong);
                    break;
                case 2:
                    t.Signal(b.Instrument, SignalAction.OpenShort, Quantity.From(2));
                    break;
                case 3:
                    t.Signal(b.Instrument, SignalAction.CloseShort);
                    break;
            }
        });
        h.Run(Days(5));
        Assert.Equal(4, h.Fills.Count);
        Assert.Equal([OrderSide.Buy, OrderSide.Sell, OrderSide.Sell, OrderSide.Buy], h.Fills.Select(f => f.Side));
        Assert.Equal(["3", "3", "2", "2"], h.Fills.Select(f => f.LastQty.ToString()));
        Assert.True(h.Portfolio.GetPosition(h.Id)!.IsFlat);
        Assert.Equal(2, h.Notices.Count(n => n.Code == "signal_ignored"));
    }

    [Fact]
    public void OpenSignal_WithoutQuantity_IsAnError()
    {
        var h = new Harness((i, b, m, t) => t.Signal(b.Instrument, SignalAction.OpenLong));
        h.Run(Days(1));
        Assert.Contains(h.Notices, n => n.Code == "bad_signal" && n.Message.Contains("positive quantity", StringComparison.Ordinal));
        Assert.Empty(h.Updates);
    }

    [Fact]
    public void OutOfOrderBar_IsIgnoredWithAnError()
    {
        var h = new Harness((i, b, m, t) => { });
        h.Run(Bar(3, "100", "100", "100", "100"), Bar(2, "50", "50", "50", "50"), Bar(4, "101", "101", "101", "101"));
        Assert.Contains(h.Notices, n => n.Code == "out_of_order");
        Assert.Equal(2, h.Strategy.TypedState.Bars);
    }

    [Fact]
    public void Sequence_IsStrictlyIncreasingAcrossPublishedEvents()
    {
        var h = new Harness((i, b, m, t) =>
        {
            if (i == 0)
            {
                t.Submit(OrderRequest.Market(b.Instrument, OrderSide.Buy, Quantity.From(1)));
            }
        });
        var sequences = new List<long>();
        h.Bus.Subscribe(new Recorder<Bar>(sequences), "bars");
        h.Bus.Subscribe(new Recorder<OrderUpdate>(sequences), "orders");
        h.Bus.Subscribe(new Recorder<SliceClosed>(sequences), "slices");
        h.Bus.Subscribe(new Recorder<FillBooked>(sequences), "fills");
        h.Bus.Subscribe(new Recorder<KernelNotice>(sequences), "notices");
        h.Bus.Subscribe(new Recorder<KernelStateChanged>(sequences), "states");
        h.Run(Days(3));
        Assert.Equal(sequences.OrderBy(s => s), sequences);
        Assert.Equal(sequences.Count, sequences.Distinct().Count());
        Assert.Equal(h.Kernel.Sequence, sequences.Max());
        Assert.Equal(Enumerable.Range(1, (int)h.Kernel.Sequence).Select(i => (long)i), sequences);
    }

    [Fact]
    public async Task InboxLoop_FedFromAnotherThread_MatchesDirectDispatch()
    {
        var bars = Enumerable.Range(0, 400).Select(i =>
        {
            var p = (100 + (Math.Sin(i / 7.0) * 5)).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture);
            return new Bar(new InstrumentId("X"), Timestamp.FromParts(2024, 1, 1).AddNanos(i * Timestamp.NanosPerMinute), Price.Parse(p), Price.Parse(p), Price.Parse(p), Price.Parse(p), Quantity.From(100));
        }).ToArray();

        static (Portfolio, TradingKernel, SimulatedExchange) Build()
        {
            var inst = Instrument.Equity("X");
            var portfolio = new Portfolio(Money.From(100_000));
            var exchange = new SimulatedExchange(new SimulatedExchangeOptions(), [inst], portfolio);
            var host = new StrategyHost<Keel.Strategies.SmaCross.State>("sma", new Keel.Strategies.SmaCross(5, 20, Quantity.From(1)));
            var kernel = new TradingKernel(new SimulatedClock(), exchange, host, portfolio, [inst], new EventBus(), null, [exchange]);
            exchange.Connect(kernel);
            return (portfolio, kernel, exchange);
        }

        var (direct, kernel1, _) = Build();
        kernel1.Start();
        foreach (var b in bars)
        {
            kernel1.OnBar(b);
        }

        kernel1.Stop();

        var (viaInbox, kernel2, _) = Build();
        var inbox = new Inbox(capacity: 16);
        var loop = new KernelLoop(kernel2, inbox);
        kernel2.Start();
        var producer = Task.Run(() =>
        {
            foreach (var b in bars)
            {
                inbox.Write(InboxItem.ForBar(b), CancellationToken.None);
            }

            inbox.Write(InboxItem.EndOfData, CancellationToken.None);
        });
        var outcome = await loop.RunAsync(CancellationToken.None);
        await producer.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(LoopOutcome.EndOfData, outcome);
        Assert.Equal(bars.Length, loop.DataEvents);
        Assert.Equal(direct.Cash, viaInbox.Cash);
        Assert.Equal(direct.Equity, viaInbox.Equity);
        Assert.Equal(kernel1.Orders.Counter, kernel2.Orders.Counter);
        Assert.True(kernel2.Orders.Counter > 4);
    }

    [Fact]
    public void InboxLoop_PauseResumeCommands_CallStrategyHooks_AndStop()
    {
        var calls = new List<string>();
        var host = new StrategyHost<object>("hooks", new Hooks(calls));
        var inst = Instrument.Equity("X");
        var portfolio = new Portfolio(Money.From(1_000));
        var exchange = new SimulatedExchange(new SimulatedExchangeOptions(), [inst], portfolio);
        var kernel = new TradingKernel(new SimulatedClock(), exchange, host, portfolio, [inst], new EventBus(), null, [exchange]);
        exchange.Connect(kernel);
        var inbox = new Inbox();
        kernel.Start();
        inbox.TryWrite(InboxItem.ForBar(Bar(2, "1", "1", "1", "1")));
        inbox.TryWrite(InboxItem.ForCommand(KernelCommand.Pause));
        inbox.TryWrite(InboxItem.ForBar(Bar(3, "1", "1", "1", "1")));
        inbox.TryWrite(InboxItem.ForCommand(KernelCommand.Resume));
        inbox.TryWrite(InboxItem.ForBar(Bar(4, "1", "1", "1", "1")));
        inbox.TryWrite(InboxItem.ForCommand(KernelCommand.Stop));
        inbox.TryWrite(InboxItem.ForBar(Bar(5, "1", "1", "1", "1")));
        var outcome = new KernelLoop(kernel, inbox).Run(CancellationToken.None);
        Assert.Equal(LoopOutcome.Stopped, outcome);
        Assert.Equal(["start", "bar 2", "pause", "resume", "bar 4", "stop"], calls);
        Assert.Equal(KernelState.Stopped, kernel.State);
    }

    [Fact]
    public void InboxLoop_CancelledWithTheLastEventsAndEndOfDataQueued_StopsPartWay_NotAtTheEnd()
    {
        // A backtest's feeder can finish writing (EndOfData included) long before the kernel drains the inbox; a stop then
        // must still stop between two items, so the run snapshots instead of "completing" with a stop request.
        var calls = new List<string>();
        var host = new StrategyHost<object>("hooks", new Hooks(calls));
        var inst = Instrument.Equity("X");
        var portfolio = new Portfolio(Money.From(1_000));
        var exchange = new SimulatedExchange(new SimulatedExchangeOptions(), [inst], portfolio);
        var kernel = new TradingKernel(new SimulatedClock(), exchange, host, portfolio, [inst], new EventBus(), null, [exchange]);
        exchange.Connect(kernel);
        var inbox = new Inbox();
        kernel.Start();
        using var cts = new CancellationTokenSource();
        var loop = new KernelLoop(kernel, inbox) { AfterItem = cts.Cancel };
        inbox.TryWrite(InboxItem.ForBar(Bar(2, "1", "1", "1", "1")));
        inbox.TryWrite(InboxItem.ForBar(Bar(3, "1", "1", "1", "1")));
        inbox.TryWrite(InboxItem.EndOfData);
        var outcome = loop.Run(cts.Token);
        Assert.Equal(LoopOutcome.Cancelled, outcome);
        Assert.Equal(["start", "bar 2"], calls);
        Assert.Equal(1, loop.DataEvents);
        Assert.Equal(KernelState.Running, kernel.State);
    }

    [Fact]
    public void InboxLoop_ProducerFault_IsRethrownAfterStopping()
    {
        var h = new Harness((i, b, m, t) => { });
        var inbox = new Inbox();
        h.Kernel.Start();
        inbox.TryWrite(InboxItem.ForBar(Bar(2, "1", "1", "1", "1")));
        inbox.TryWrite(InboxItem.ForFault(new IOException("disk gone")));
        var ex = Assert.Throws<IOException>(() => new KernelLoop(h.Kernel, inbox).Run(CancellationToken.None));
        Assert.Equal("disk gone", ex.Message);
        Assert.Equal(KernelState.Stopped, h.Kernel.State);
    }

    private sealed class Recorder<T>(List<long> sequences) : IEventHandler<T>
    {
        public void Handle(in T evt, long sequence) => sequences.Add(sequence);
    }

    private sealed class Hooks(List<string> calls) : IStrategy<object>
    {
        public object CreateState() => new();

        public object OnStart(object state, IMarketView market, IIntents intents)
        {
            calls.Add("start");
            return state;
        }

        public object OnBar(object state, in Bar bar, IMarketView market, IIntents intents)
        {
            calls.Add($"bar {bar.Time.ToDateTimeOffset().Day}");
            return state;
        }

        public object OnPause(object state, IMarketView market, IIntents intents)
        {
            calls.Add("pause");
            return state;
        }

        public object OnResume(object state, IMarketView market, IIntents intents)
        {
            calls.Add("resume");
            return state;
        }

        public object OnStop(object state, IMarketView market, IIntents intents)
        {
            calls.Add("stop");
            return state;
        }
    }
}
