using System.CommandLine;
using System.CommandLine.Parsing;

namespace Keel.Cli;

/// <summary>
/// A command line that does not parse: one line on stderr naming what was not understood (with the closest known
/// command or option), and exit status 2, instead of System.CommandLine's full help and status 1.
/// </summary>
internal static class ParseErrors
{
    public const int ExitCode = 2;

    /// <summary>Prints the first problem and returns <see cref="ExitCode"/>; null when the command line parsed.</summary>
    public static int? Report(ParseResult parse, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(parse);
        ArgumentNullException.ThrowIfNull(error);
        if (parse.Errors.Count == 0)
        {
            return null;
        }

        error.WriteLine($"keel: error: {Describe(parse)}");
        return ExitCode;
    }

    /// <summary>One sentence for the first thing wrong with the command line.</summary>
    public static string Describe(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var result = parse.CommandResult;
        var command = result.Command;
        var path = CommandPath(result);
        var help = $"see '{path} --help'";
        if (parse.UnmatchedTokens.Count > 0)
        {
            var token = parse.UnmatchedTokens[0];
            if (token.StartsWith('-') && token.Length > 1)
            {
                var name = token.Split('=', 2)[0];
                return $"unknown option '{name}' for '{path}'{Suggestions.DidYouMean(name, OptionNames(result))} ({help})";
            }

            if (command.Subcommands.Count > 0)
            {
                var names = command.Subcommands.Where(c => !c.Hidden).SelectMany(c => c.Aliases.Prepend(c.Name));
                return $"unknown command '{token}' for '{path}'{Suggestions.DidYouMean(token, names)} ({help})";
            }

            return $"'{path}' does not take the argument '{token}' ({help})";
        }

        if (command.Subcommands.Count > 0 && command.Action is null)
        {
            return $"'{path}' needs a command: {string.Join(", ", command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name))} ({help})";
        }

        if (parse.Errors[0].SymbolResult is OptionResult option && option.Tokens.Count == 0)
        {
            return $"{option.Option.Name} needs a value ({help})";
        }

        return $"{parse.Errors[0].Message.TrimEnd('.')} ({help})";
    }

    private static string CommandPath(CommandResult result)
    {
        var names = new List<string>();
        for (SymbolResult? r = result; r is not null; r = r.Parent)
        {
            if (r is CommandResult c)
            {
                names.Add(c.Parent is null ? "keel" : c.Command.Name);
            }
        }

        names.Reverse();
        return string.Join(' ', names);
    }

    /// <summary>The options valid here: the command's own and the recursive ones of its parents (such as --help).</summary>
    private static List<string> OptionNames(CommandResult result)
    {
        var names = new List<string>();
        for (SymbolResult? r = result; r is not null; r = r.Parent)
        {
            if (r is CommandResult c)
            {
                foreach (var o in c.Command.Options.Where(o => !o.Hidden && (ReferenceEquals(c, result) || o.Recursive)))
                {
                    names.Add(o.Name);
                    names.AddRange(o.Aliases);
                }
            }
        }

        return names;
    }
}
