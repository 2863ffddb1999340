namespace Keel.Domain;

/// <summary>Kinds of instrument. Stored values: never renumber, 0 is never valid.</summary>
public enum AssetClass
{
    Equity = 1,
    Forex = 2,
    Crypto = 3,
    Future = 4,
    Other = 5,
}

/// <summary>What can be traded and in which increments.</summary>
public sealed record Instrument
{
    public Instrument(InstrumentId id, AssetClass assetClass, Price tickSize, Quantity lotSize, string currency, Price? pipSize = null)
    {
        if (tickSize.Raw <= 0)
        {
            throw new ArgumentException($"tick size of {id} was {tickSize}; it must be positive", nameof(tickSize));
        }

        if (lotSize.Raw <= 0)
        {
            throw new ArgumentException($"lot size of {id} was {lotSize}; it must be positive", nameof(lotSize));
        }

        if (string.IsNullOrWhiteSpace(currency) || currency.Length != 3)
        {
            throw new ArgumentException($"currency of {id} was '{currency}'; it must be a 3-letter code such as USD", nameof(currency));
        }

        Id = id;
        AssetClass = assetClass;
        TickSize = tickSize;
        LotSize = lotSize;
        Currency = currency;
        PipSize = pipSize ?? tickSize;
    }

    public InstrumentId Id { get; }

    public AssetClass AssetClass { get; }

    /// <summary>Smallest price increment.</summary>
    public Price TickSize { get; }

    /// <summary>Smallest quantity increment.</summary>
    public Quantity LotSize { get; }

    /// <summary>Quote currency (ISO 4217).</summary>
    public string Currency { get; }

    /// <summary>Pip size for forex (0.0001, or 0.01 for JPY crosses); the tick size otherwise.</summary>
    public Price PipSize { get; }

    /// <summary>A US equity quoted in cents with whole-share lots.</summary>
    public static Instrument Equity(string symbol, decimal tickSize = 0.01m) =>
        new(new InstrumentId(symbol), AssetClass.Equity, Price.From(tickSize), Quantity.From(1), "USD");

    /// <summary>A forex pair such as EUR_USD (units lot size, pip 0.0001 or 0.01 for JPY).</summary>
    public static Instrument ForexPair(string symbol)
    {
        bool jpy = symbol.EndsWith("JPY", StringComparison.OrdinalIgnoreCase);
        var pip = Price.From(jpy ? 0.01m : 0.0001m);
        var tick = Price.From(jpy ? 0.001m : 0.00001m);
        string quote = symbol.Length >= 3 ? symbol[^3..].ToUpperInvariant() : "USD";
        return new(new InstrumentId(symbol), AssetClass.Forex, tick, Quantity.From(1), quote, pip);
    }
}
