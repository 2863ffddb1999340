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
        _hash = IdText.Hash(value);
    }

    // Computed once: an id is hashed by several dictionaries over its order's life.
    private readonly int _hash;

    public string Value { get; }

    public bool Equals(ClientOrderId other) => _hash == other._hash && string.Equals(Value, other.Value, StringComparison.Ordinal);

    /// <summary>FNV-1a over the characters: ids are short and Keel-generated, so a cheap stable hash beats Marvin.</summary>
    public override int GetHashCode() => _hash;

    public override string ToString() => Value;

    /// <summary>Builds <c>prefix + number</c> without intermediate strings.</summary>
    public static ClientOrderId Create(string prefix, long number) => new(IdText.Format(prefix, number));
}

/// <summary>Helpers for short textual ids.</summary>
public static class IdText
{
    public static int Hash(string? value)
    {
        if (value is null)
        {
            return 0;
        }

        unchecked
        {
            uint h = 2166136261;
            foreach (char c in value)
            {
                h = (h ^ c) * 16777619;
            }

            return (int)h;
        }
    }

    /// <summary><c>prefix</c> followed by the decimal digits of a non-negative number, in one allocation.</summary>
    public static string Format(string prefix, long number)
    {
        if (number < 0)
        {
            return prefix + number.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        int digits = 1;
        for (long v = number; v >= 10; v /= 10)
        {
            digits++;
        }

        return string.Create(prefix.Length + digits, (prefix, number), static (span, state) =>
        {
            state.prefix.AsSpan().CopyTo(span);
            long v = state.number;
            for (int i = span.Length - 1; i >= state.prefix.Length; i--)
            {
                span[i] = (char)('0' + (int)(v % 10));
                v /= 10;
            }
        });
    }
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
