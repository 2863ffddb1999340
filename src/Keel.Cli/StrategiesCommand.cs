using System.CommandLine;

namespace Keel.Cli;

/// <summary><c>keel strategies</c>: what can be run and with which parameters.</summary>
internal static class StrategiesCommand
{
    public static Command Create(IReadOnlyList<Keel.Engine.Strategies.StrategyDescriptor> catalog)
    {
        var command = new Command("strategies", "List the strategies (Keel's own and any your program adds) and their parameters.");
        command.SetAction(_ =>
        {
            foreach (var d in catalog)
            {
                Console.WriteLine($"{d.Name}\n  {d.Summary}");
                int w = d.Parameters.Count == 0 ? 0 : d.Parameters.Max(p => p.Name.Length);
                foreach (var p in d.Parameters)
                {
                    Console.WriteLine($"  --param {p.Name.PadRight(w)}  {p.Type}, default {p.Default}, {p.Range}: {p.Description}");
                }

                Console.WriteLine();
            }

            return 0;
        });
        return command;
    }
}
