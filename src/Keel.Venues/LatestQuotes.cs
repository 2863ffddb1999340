namespace Keel.Venues;

/// <summary>A venue's latest quote of a symbol; a side the venue does not show is null.</summary>
public sealed record VenueQuote(decimal? Bid, decimal? Ask, DateTimeOffset Time);

/// <summary>A venue that answers "what is the latest quote of SYMBOL" (Alpaca's latest quote, OANDA's pricing).</summary>
public interface ILatestQuotes
{
    /// <summary>The latest quote, or null when the venue has none for the symbol.</summary>
    Task<VenueQuote?> LatestQuoteAsync(string symbol, CancellationToken ct = default);
}
