using Keel.Engine.Strategies;

namespace Keel.Strategies;

/// <summary>The strategies Keel ships, by name.</summary>
public static class StrategyCatalog
{
    public static IReadOnlyList<StrategyDescriptor> All { get; } = [SmaCross.Descriptor, Ladder.Descriptor, Floor.Descriptor, Slob.Descriptor];

    public static StrategyDescriptor Get(string name) =>
        All.FirstOrDefault(d => string.Equals(d.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new StrategyConfigurationException($"unknown strategy '{name}'; available: {string.Join(", ", All.Select(d => d.Name))}");
}
