using Keel.Domain;

namespace Keel.Pipeline;

/// <summary>The latest quote of a symbol; either side may be missing.</summary>
public sealed record PipelineQuote(decimal? Bid, decimal? Ask, Timestamp Time)
{
    /// <summary>The mid when both sides are there; the ask or the bid when only one is; null when neither is.</summary>
    public decimal? Price => (Bid, Ask) switch
    {
        (decimal b, decimal a) => (b + a) / 2,
        (null, decimal a) => a,
        (decimal b, null) => b,
        _ => null,
    };
}

/// <summary>Where the position monitor gets prices (a venue's market data; the last bar in a backtest).</summary>
public interface IQuoteSource
{
    /// <summary>The latest quote, or null when the symbol has none.</summary>
    Task<PipelineQuote?> LatestQuoteAsync(string symbol, CancellationToken ct = default);
}

/// <summary>Quotes set by hand (tests, and the backtest's last bar closes).</summary>
public sealed class SettableQuotes : IQuoteSource
{
    private readonly Dictionary<string, PipelineQuote> _quotes = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public void Set(string symbol, PipelineQuote? quote)
    {
        lock (_gate)
        {
            if (quote is null)
            {
                _quotes.Remove(symbol);
            }
            else
            {
                _quotes[symbol] = quote;
            }
        }
    }

    public Task<PipelineQuote?> LatestQuoteAsync(string symbol, CancellationToken ct = default)
    {
        lock (_gate)
        {
            return Task.FromResult(_quotes.TryGetValue(symbol, out var q) ? q : null);
        }
    }
}

/// <summary>Options every stage shares.</summary>
/// <param name="ClientIdPrefix">Starts every client order id: keep it different for two Keel stores trading one account.</param>
public sealed record PipelineOptions(string ClientIdPrefix = "kp")
{
    /// <summary>The entry order's client id: derived from the decision, so a re-run finds it instead of sending again.</summary>
    public string EntryId(long decisionId) => $"{ClientIdPrefix}-d{decisionId}-entry";

    public string StopLossId(long tradeId) => $"{ClientIdPrefix}-t{tradeId}-sl";

    public string TakeProfitId(long tradeId) => $"{ClientIdPrefix}-t{tradeId}-tp";
}
