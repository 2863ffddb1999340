namespace Keel.Domain;

/// <summary>Identifies a tradable instrument, e.g. <c>AAPL</c> or <c>EUR_USD</c>.</summary>
public readonly record struct InstrumentId
{
    public InstrumentId(string symbol)
    {
        if (string.IsNullOrWhiteSpace(symbol))
        {
            throw new ArgumentException("instrument symbol was empty; it must name a symbol such as AAPL", nameof(symbol));
        }

        Symbol = symbol;
    }

    public string Symbol { get; }

    public override string ToString() => Symbol;
}

/// <summary>The id Keel gives an order before it is sent; deterministic, so a restart can recognise its own orders.</summary>
public readonly record struct ClientOrderId
{
    public ClientOrderId(string value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > 48)
        {
            throw new ArgumentException($"client order id '{value}' must have 1 to 48 characters", nameof(value));
        }

        Value = value;
    }

    public string Value { get; }

    public override string ToString() => Value;
}

/// <summary>The id a venue gives an order.</summary>
public readonly record struct VenueOrderId(string Value)
{
    public override string ToString() => Value;
}

/// <summary>The id of one execution (fill) at a venue.</summary>
public readonly record struct TradeId(string Value)
{
    public override string ToString() => Value;
}

/// <summary>Identifies a strategy instance inside a run.</summary>
public readonly record struct StrategyId(string Value)
{
    public override string ToString() => Value;
}
