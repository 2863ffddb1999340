using System.Globalization;
using Keel.Domain;

namespace Keel.Engine.Strategies;

/// <summary>A strategy could not be configured: unknown name, unknown or out-of-range parameter.</summary>
public sealed class StrategyConfigurationException : Exception
{
    public StrategyConfigurationException(string message)
        : base(message)
    {
    }

    public StrategyConfigurationException()
    {
    }

    public StrategyConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Documents one parameter: name, type, default, allowed range and meaning.</summary>
public sealed record ParameterSpec(string Name, string Type, string Default, string Range, string Description);

/// <summary>
/// <c>name=value</c> parameters as given on the command line or in a configuration file. Typed getters validate and
/// remember what was read, so <see cref="EnsureAllUsed"/> can reject unknown names.
/// </summary>
public sealed class StrategyParameters
{
    private readonly Dictionary<string, string> _values;
    private readonly HashSet<string> _used = new(StringComparer.OrdinalIgnoreCase);

    public StrategyParameters(string strategy, IReadOnlyDictionary<string, string> values)
    {
        Strategy = strategy;
        _values = new Dictionary<string, string>(values, StringComparer.OrdinalIgnoreCase);
    }

    public string Strategy { get; }

    public IReadOnlyDictionary<string, string> Values => _values;

    /// <summary>Parses <c>name=value</c> pairs; a malformed pair or a repeated name throws.</summary>
    public static StrategyParameters Parse(string strategy, IEnumerable<string> pairs)
    {
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var pair in pairs)
        {
            int eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || eq == pair.Length - 1)
            {
                throw new StrategyConfigurationException($"parameter '{pair}' must look like name=value (for example fast=10)");
            }

            var name = pair[..eq].Trim();
            if (!values.TryAdd(name, pair[(eq + 1)..].Trim()))
            {
                throw new StrategyConfigurationException($"parameter '{name}' is given twice");
            }
        }

        return new StrategyParameters(strategy, values);
    }

    public int GetInt(string name, int defaultValue, int min, int max)
    {
        _used.Add(name);
        if (!_values.TryGetValue(name, out var text))
        {
            return defaultValue;
        }

        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v))
        {
            throw new StrategyConfigurationException($"parameter {name} of {Strategy} was '{text}'; it must be a whole number");
        }

        if (v < min || v > max)
        {
            throw new StrategyConfigurationException($"parameter {name} of {Strategy} was {v}; it must be between {min} and {max}");
        }

        return v;
    }

    public decimal GetDecimal(string name, decimal defaultValue, decimal min, decimal max)
    {
        _used.Add(name);
        if (!_values.TryGetValue(name, out var text))
        {
            return defaultValue;
        }

        if (!decimal.TryParse(text, NumberStyles.Number, CultureInfo.InvariantCulture, out decimal v))
        {
            throw new StrategyConfigurationException($"parameter {name} of {Strategy} was '{text}'; it must be a number");
        }

        if (v < min || v > max)
        {
            throw new StrategyConfigurationException($"parameter {name} of {Strategy} was {v}; it must be between {min} and {max}");
        }

        return v;
    }

    public bool GetBool(string name, bool defaultValue)
    {
        _used.Add(name);
        if (!_values.TryGetValue(name, out var text))
        {
            return defaultValue;
        }

        return text.ToLowerInvariant() switch
        {
            "true" or "yes" or "1" or "on" => true,
            "false" or "no" or "0" or "off" => false,
            _ => throw new StrategyConfigurationException($"parameter {name} of {Strategy} was '{text}'; it must be true or false"),
        };
    }

    public string GetString(string name, string defaultValue)
    {
        _used.Add(name);
        return _values.TryGetValue(name, out var text) ? text : defaultValue;
    }

    /// <summary>Throws if a parameter was given that the strategy never read.</summary>
    public void EnsureAllUsed(IEnumerable<ParameterSpec> known)
    {
        foreach (var name in _values.Keys)
        {
            if (!_used.Contains(name))
            {
                var names = string.Join(", ", known.Select(k => k.Name));
                throw new StrategyConfigurationException($"unknown parameter '{name}' for strategy {Strategy}; it takes: {(names.Length == 0 ? "no parameters" : names)}");
            }
        }
    }
}

/// <summary>
/// What a strategy factory gets: its parameters, the instruments of the run, the default order size, and the
/// account's positions when the run starts (empty for a backtest, which starts flat).
/// </summary>
public sealed record StrategyContext(StrategyParameters Parameters, IReadOnlyList<Instrument> Instruments, Quantity Stake)
{
    /// <summary>
    /// A replay of a live session (<c>keel replay</c>): the strategy's starting state comes from the run's journal, so it
    /// must not check its own files against the account, and must change nothing outside itself (no files written).
    /// </summary>
    public bool Replaying { get; init; }

    public IReadOnlyDictionary<InstrumentId, Quantity> StartingPositions { get; init; } = new Dictionary<InstrumentId, Quantity>();

    public Quantity Position(InstrumentId instrument) => StartingPositions.TryGetValue(instrument, out var q) ? q : Quantity.Zero;
}

/// <summary>What a strategy trades on from a live feed. Stored values: never renumber.</summary>
[Flags]
public enum MarketDataKinds
{
    /// <summary>Completed candles (bars).</summary>
    Bars = 1,

    /// <summary>Trade ticks (price updates): the strategy's <c>OnTick</c> sees each one.</summary>
    Trades = 2,

    /// <summary>Quote ticks (bid/ask): the strategy's <c>OnTick</c> sees each one.</summary>
    Quotes = 4,
}

/// <summary>A strategy Keel can run by name.</summary>
public sealed record StrategyDescriptor(string Name, string Summary, IReadOnlyList<ParameterSpec> Parameters, Func<StrategyContext, IStrategyHost> Create)
{
    /// <summary>
    /// What the strategy trades on when a live feed drives it (paper or live): candles by default; a tick strategy
    /// (seed 000's ladder on price updates, seed 002's floor on bid/ask) gets every tick of the kinds it names instead.
    /// </summary>
    public MarketDataKinds LiveData { get; init; } = MarketDataKinds.Bars;

    /// <summary>
    /// The indicators a report draws over the price, as <c>keel indicators</c> specs (<c>sma:30</c>), given the run's
    /// parameters; null draws none.
    /// </summary>
    public Func<StrategyParameters, IReadOnlyList<string>>? ChartIndicators { get; init; }
}
