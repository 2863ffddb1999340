using System.Security.Cryptography;
using Keel.Data;
using Keel.Domain;
using Keel.Engine.Analytics;
using Keel.Engine.Clock;
using Keel.Engine.Simulation;
using Keel.Engine.Strategies;
using Keel.Runtime.Sessions;

namespace Keel.Tests.Support;

/// <summary>Runs the backtest pipeline in-process exactly as the CLI wires it, capturing every output.</summary>
public static class Backtests
{
    public sealed record Outputs(BacktestMetrics Metrics, byte[] Orders, byte[] Fills, byte[] Trades, byte[] Equity)
    {
        public string OrdersSha256 => Convert.ToHexStringLower(SHA256.HashData(Orders));
    }

    public static Outputs SmaCross(string file, string symbol, int fast = 10, int slow = 30, decimal commission = 0.001m)
    {
        var instrument = Instrument.Equity(symbol);
        var settings = new SessionSettings
        {
            InitialCash = Money.From(100_000),
            Exchange = new SimulatedExchangeOptions { Commission = new PercentCommission(commission) },
        };
        var host = SmaCrossHost(fast, slow, instrument);
        using var orders = new MemoryStream();
        using var fills = new MemoryStream();
        using var trades = new MemoryStream();
        using var equity = new MemoryStream();
        using var reader = CsvBarReader.Open(file, instrument.Id);
        var result = TradingSession.Run(settings, [instrument], host, new HistoricalFeeder(reader), new SimulatedClock(),
            new SessionOutputs { Orders = orders, Fills = fills, Trades = trades, Equity = equity }, CancellationToken.None);
        return new Outputs(result.Metrics, orders.ToArray(), fills.ToArray(), trades.ToArray(), equity.ToArray());
    }

    public static IStrategyHost SmaCrossHost(int fast, int slow, Instrument instrument) =>
        global::Keel.Strategies.SmaCross.Descriptor.Create(new StrategyContext(
            StrategyParameters.Parse("sma-cross", [$"fast={fast}", $"slow={slow}"]), [instrument], Quantity.From(1)));
}
