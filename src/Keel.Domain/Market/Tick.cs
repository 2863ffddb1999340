namespace Keel.Domain;

/// <summary>Which parts of a <see cref="Tick"/> carry data.</summary>
[Flags]
public enum TickKind
{
    /// <summary>Bid and ask are set.</summary>
    Quote = 1,

    /// <summary>Last price and size are set.</summary>
    Trade = 2,
}

/// <summary>
/// A market data point: a quote (bid/ask) and/or a trade (last/size). <see cref="Time"/> is venue time,
/// <see cref="ReceivedAt"/> when Keel saw it (equal in backtests).
/// </summary>
public readonly record struct Tick(
    InstrumentId Instrument,
    Timestamp Time,
    TickKind Kind,
    Price Bid,
    Price Ask,
    Quantity BidSize,
    Quantity AskSize,
    Price Last,
    Quantity Size,
    string? Exchange,
    Timestamp ReceivedAt)
{
    public bool HasQuote => (Kind & TickKind.Quote) != 0;

    public bool HasTrade => (Kind & TickKind.Trade) != 0;

    /// <summary>(bid + ask) / 2, rounded half to even to 1e-9; the last price for a trade-only tick.</summary>
    public Price Mid => HasQuote ? Price.FromRaw(Bid.Raw + FixedPoint.DivideRoundHalfEven(Ask.Raw - Bid.Raw, 2)) : Last;

    /// <summary>The price a mark-to-market should use: mid for quotes, last for trades.</summary>
    public Price Mark => HasQuote ? Mid : Last;

    public static Tick Quote(InstrumentId instrument, Timestamp time, Price bid, Price ask, Quantity bidSize = default, Quantity askSize = default) =>
        new(instrument, time, TickKind.Quote, bid, ask, bidSize, askSize, default, default, null, time);

    public static Tick Trade(InstrumentId instrument, Timestamp time, Price last, Quantity size, string? exchange = null) =>
        new(instrument, time, TickKind.Trade, default, default, default, default, last, size, exchange, time);
}
