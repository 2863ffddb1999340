using System.Globalization;
using System.Text.Json;
using Keel.Data;
using Keel.Domain;
using Keel.Domain.Events;
using Keel.Domain.Orders;
using Keel.Engine.Clock;
using Keel.Engine.Data;
using Keel.Engine.Simulation;
using Keel.Engine.Strategies;
using Keel.Runtime.Sessions;

namespace Keel.Tests.Support;

/// <summary>
/// Runs a catalog strategy in-process on a list of bars and records every decision it makes: each call on its
/// intents (orders, brackets, cancels, replacements, signals, notes) with the time of the event being processed.
/// </summary>
public static class StrategyRuns
{
    public sealed record Result(IReadOnlyList<Decision> Decisions, SessionResult Session, byte[] Orders, object State);

    /// <summary>A decision and the data time at which it was made.</summary>
    public sealed record Decision(Timestamp Time, string What)
    {
        public override string ToString() => $"{Time} {What}";
    }

    public static List<Bar> Bars(string file, Instrument instrument)
    {
        var bars = new List<Bar>();
        using var reader = CsvBarReader.Open(file, instrument.Id);
        while (reader.TryRead(out var bar))
        {
            bars.Add(bar);
        }

        return bars;
    }

    public static Result Run(StrategyDescriptor descriptor, IEnumerable<string> parameters, IReadOnlyList<Bar> bars, Instrument instrument, decimal stake = 1, decimal cash = 100_000)
    {
        var inner = descriptor.Create(new StrategyContext(StrategyParameters.Parse(descriptor.Name, parameters), [instrument], Quantity.From(stake)));
        var host = new RecordingHost(inner);
        var settings = new SessionSettings
        {
            InitialCash = Money.From(cash),
            Exchange = new SimulatedExchangeOptions { Commission = new PercentCommission(0.001m) },
        };
        using var orders = new MemoryStream();
        var session = TradingSession.Run(settings, [instrument], host, new HistoricalFeeder(new ListBarReader(bars)), new SimulatedClock(), new SessionOutputs { Orders = orders }, CancellationToken.None);
        return new Result(host.Decisions, session, orders.ToArray(), inner.State);
    }

    /// <summary>The decisions made at or before <paramref name="time"/>.</summary>
    public static List<string> Until(IReadOnlyList<Decision> decisions, Timestamp time) =>
        decisions.Where(d => d.Time <= time).Select(d => d.ToString()).ToList();

    private sealed class RecordingHost(IStrategyHost inner) : IStrategyHost
    {
        private bool _stopping;

        public List<Decision> Decisions { get; } = [];

        public string Name => inner.Name;

        public object State => inner.State;

        public bool CanSnapshot => inner.CanSnapshot;

        public void Start(IMarketView market, IIntents intents) => inner.Start(market, Wrap(market, intents));

        public void OnBar(in Bar bar, IMarketView market, IIntents intents) => inner.OnBar(in bar, market, Wrap(market, intents));

        public void OnTick(in Tick tick, IMarketView market, IIntents intents) => inner.OnTick(in tick, market, Wrap(market, intents));

        public void OnOrderEvent(OrderEvent orderEvent, IMarketView market, IIntents intents) => inner.OnOrderEvent(orderEvent, market, Wrap(market, intents));

        public void Pause(IMarketView market, IIntents intents) => inner.Pause(market, Wrap(market, intents));

        public void Resume(IMarketView market, IIntents intents) => inner.Resume(market, Wrap(market, intents));

        // What a strategy does when the data ends is not a decision about the past; it is left out.
        public void Stop(IMarketView market, IIntents intents)
        {
            _stopping = true;
            inner.Stop(market, intents);
        }

        public void Restore(object state) => inner.Restore(state);

        public JsonElement CaptureState() => inner.CaptureState();

        public void RestoreState(JsonElement state) => inner.RestoreState(state);

        private RecordingIntents Wrap(IMarketView market, IIntents intents) => new(intents, market, this);

        private void Add(Timestamp time, string what)
        {
            if (!_stopping)
            {
                Decisions.Add(new Decision(time, what));
            }
        }

        private sealed class RecordingIntents(IIntents inner, IMarketView market, RecordingHost host) : IIntents
        {
            public void Signal(InstrumentId instrument, SignalAction action, Quantity quantity = default, string? tag = null)
            {
                host.Add(market.Time, $"signal {instrument} {action} {quantity} {tag}");
                inner.Signal(instrument, action, quantity, tag);
            }

            public ClientOrderId Submit(in OrderRequest request)
            {
                var id = inner.Submit(request);
                host.Add(market.Time, $"submit {id} {Describe(request)}");
                return id;
            }

            public BracketOrderIds SubmitBracket(in OrderRequest entry, Price stopLoss, Price takeProfit, Price? stopLossLimit = null)
            {
                var ids = inner.SubmitBracket(entry, stopLoss, takeProfit, stopLossLimit);
                host.Add(market.Time, $"bracket {ids.Entry} {Describe(entry)} sl {stopLoss} tp {takeProfit} {stopLossLimit}");
                return ids;
            }

            public (ClientOrderId First, ClientOrderId Second) SubmitOco(in OrderRequest first, in OrderRequest second)
            {
                var ids = inner.SubmitOco(first, second);
                host.Add(market.Time, $"oco {ids.First} {Describe(first)} / {ids.Second} {Describe(second)}");
                return ids;
            }

            public void Cancel(ClientOrderId id)
            {
                host.Add(market.Time, $"cancel {id}");
                inner.Cancel(id);
            }

            public ClientOrderId Replace(ClientOrderId id, Quantity? quantity = null, Price? limitPrice = null, Price? stopPrice = null)
            {
                var newId = inner.Replace(id, quantity, limitPrice, stopPrice);
                host.Add(market.Time, $"replace {id} -> {newId} {quantity} {limitPrice} {stopPrice}");
                return newId;
            }

            public void Note(string code, string message, bool warning = false)
            {
                host.Add(market.Time, $"note {code} {message}");
                inner.Note(code, message, warning);
            }

            private static string Describe(in OrderRequest r) =>
                string.Create(CultureInfo.InvariantCulture, $"{r.Side} {r.Type} {r.Quantity} {r.LimitPrice} {r.StopPrice} {r.TimeInForce} {r.Tag}");
        }
    }
}
