using System.CommandLine;
using Keel.Strategies;

namespace Keel.Cli;

/// <summary><c>keel strategies</c>: what can be run and with which parameters.</summary>
internal static class StrategiesCommand
{
    public static Command Create()
    {
        var command = new Command("strategies", "List the built-in strategies and their parameters.");
        command.SetAction(_ =>
        {
            foreach (var d in StrategyCatalog.All)
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
