using Keel.Domain;
using Keel.Storage;

namespace Keel.Pipeline;

/// <summary>
/// Prices from the candle store: the close of a symbol's latest candle of one timeframe, as both bid and ask (what
/// <c>keel record</c> keeps current). An interim source for <c>keel pipeline run-once --stage position-monitor</c> until
/// the venues' latest-quote endpoints are wired in.
/// </summary>
public sealed class StoreQuotes(KeelStore store, string timeframe) : IQuoteSource
{
    public Task<PipelineQuote?> LatestQuoteAsync(string symbol, CancellationToken ct = default)
    {
        var bar = store.LatestCandle(new InstrumentId(symbol), symbol, timeframe);
        if (bar is not { } b)
        {
            return Task.FromResult<PipelineQuote?>(null);
        }

        decimal close = b.Close.ToDecimal();
        return Task.FromResult<PipelineQuote?>(new PipelineQuote(close, close, b.Time));
    }
}
