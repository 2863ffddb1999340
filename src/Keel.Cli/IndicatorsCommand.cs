using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.Globalization;
using Keel.Data;
using Keel.Domain;
using Keel.Engine.Data;
using Keel.Indicators;
using Keel.Runtime.Reporting;

namespace Keel.Cli;

/// <summary><c>keel indicators</c>: indicator values for every bar of a data file, as CSV.</summary>
internal static class IndicatorsCommand
{
    public static Command Create(CliLogging logging)
    {
        var data = new Option<string>("--data") { Description = "CSV of bars (generic datetime,open,high,low,close[,volume]; backtrader; Yahoo), read streaming", HelpName = "FILE" };
        var indicators = new Option<string[]>("--indicator", "-i")
        {
            Description = "an indicator spec NAME[:P1,P2,…]; repeat the option for several (a spec holds commas, so specs are never comma-separated)",
            HelpName = "SPEC",
        };
        var output = new Option<string>("--out", "-o") { Description = "the CSV to write; it appears only when complete (written beside it under a temporary name, then moved into place)", HelpName = "FILE.csv" };
        var strict = new Option<bool>("--strict") { Description = "refuse a CSV file with Yahoo's rows without prices (DATE,null,null,…, its missing days) instead of skipping them with a warning" };
        var command = new Command("indicators", Summary) { data, indicators, output, strict };
        command.SetAction((parse, ct) => Task.Run(
            () => logging.Guard(() => Run(parse.GetValue(data), parse.GetValue(indicators) ?? [], parse.GetValue(output), parse.GetValue(strict), logging.Warning, ct), ct),
            CancellationToken.None));
        return command;
    }

    /// <summary>What <c>keel --help</c> lists for the command; <c>keel indicators --help</c> adds <see cref="Details"/>.</summary>
    private const string Summary =
        "Compute indicators over a data file and write one CSV row per bar: 'time', then one column per spec (SPEC.LINE for each line of a " +
        "several-line indicator). 'keel indicators --help' lists every indicator with its parameters in order and their defaults.";

    /// <summary>
    /// Appends the spec syntax and the indicator catalog to <c>keel indicators --help</c>, and only there: as the
    /// command's description it would also fill the command list of <c>keel --help</c>.
    /// </summary>
    public static void AddCatalogToHelp(RootCommand root, Command indicators)
    {
        var help = root.Options.OfType<HelpOption>().Single();
        if (help.Action is HelpAction standard)
        {
            help.Action = new CatalogHelpAction(standard, indicators);
        }
    }

    internal static string Details() =>
        "Specs:\n" +
        "  NAME[:P1,P2,…] with positional parameters in the order shown below; omitted or empty ones take their defaults (macd = macd:12,26,9, bbands:,2.5 = bbands:20,2.5).\n" +
        "  Each spec names its column exactly as written (SPEC.LINE for each line of a several-line indicator, e.g. macd:12,26,9.signal; names holding commas are quoted as CSV requires).\n" +
        "  Cells are empty until an indicator has warmed up; numbers are invariant-culture shortest round-trip doubles.\n" +
        "  Example: keel indicators --data prices.csv --indicator sma:30 --indicator macd:12,26,9 --indicator bbands:20,2 --out indicators.csv\n\n" +
        "Indicators (value indicators read the close; highest the high, lowest the low):\n" +
        IndicatorCatalog.Describe() +
        "\nDefinitions, warm-ups and how each is cross-checked: docs/indicators.md.\n";

    private sealed class CatalogHelpAction(HelpAction standard, Command indicators) : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => standard.ClearsParseErrors;

        public override int Invoke(ParseResult parseResult)
        {
            int result = standard.Invoke(parseResult);
            if (ReferenceEquals(parseResult.CommandResult.Command, indicators))
            {
                parseResult.InvocationConfiguration.Output.Write(Details());
            }

            return result;
        }
    }

    internal static int Run(string? dataFile, string[] specTexts, string? outFile, bool strict, Action<string>? warn, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(dataFile))
        {
            throw new UsageException("--data is required: the CSV file of bars, e.g. --data prices.csv");
        }

        if (specTexts.Length == 0)
        {
            throw new UsageException("--indicator is required: one or more specs, e.g. --indicator sma:30 --indicator macd:12,26,9 (see 'keel indicators --help')");
        }

        if (string.IsNullOrWhiteSpace(outFile))
        {
            throw new UsageException("--out is required: the CSV file to write, e.g. --out indicators.csv");
        }

        var specs = new List<IndicatorSpec>();
        foreach (var text in specTexts)
        {
            try
            {
                specs.Add(IndicatorSpec.Parse(text));
            }
            catch (IndicatorSpecException ex)
            {
                throw new UsageException(ex.Message, ex);
            }
        }

        // Columns are named after the spec as written, so only the same text twice can make two columns with one name.
        var duplicate = specs.GroupBy(s => s.Text, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new UsageException($"--indicator {duplicate.Key} is given twice; each spec names its column(s), so each may appear once");
        }

        var columns = specs.SelectMany(s => s.Columns).ToList();

        if (!File.Exists(dataFile))
        {
            throw new UsageException($"data file {dataFile} does not exist");
        }

        string target = Path.GetFullPath(outFile);
        if (Directory.Exists(target))
        {
            throw new UsageException($"--out {outFile} is a folder; give a file name, e.g. --out {Path.Combine(outFile, "indicators.csv")}");
        }

        string folder = Path.GetDirectoryName(target)!;
        string temporary = Path.Combine(folder, $".{Path.GetFileName(target)}.keel-partial-{Environment.ProcessId}");
        FileStream stream;
        try
        {
            Directory.CreateDirectory(folder);

            // A new file, as the run's outputs are (OutputFolder.OpenWrite says why not FileMode.Create).
            File.Delete(temporary);
            stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new UsageException($"cannot write {outFile}: {ex.Message}");
        }

        long rows;
        try
        {
            using (stream)
            {
                rows = Write(dataFile, specs, columns, stream, strict, warn, ct);
            }

            // Exchanged with the file it replaces (FileReplace), which then goes under the temporary name.
            FileReplace.Replace(temporary, target);
            File.Delete(temporary);
        }
        catch
        {
            // A failed or interrupted run leaves whatever was at --out before untouched, and nothing half-written.
            TryDelete(temporary);
            throw;
        }

        Console.WriteLine($"wrote {outFile}: {rows.ToString("N0", CultureInfo.InvariantCulture)} bars, {columns.Count} indicator column{(columns.Count == 1 ? string.Empty : "s")}");
        return 0;
    }

    private static long Write(string dataFile, List<IndicatorSpec> specs, List<string> columns, Stream stream, bool strict, Action<string>? warn, CancellationToken ct)
    {
        var instances = specs.Select(s => s.Create()).ToArray();
        using var reader = CsvBarReader.Open(dataFile, new InstrumentId("DATA"), strict);
        using var csv = new CsvOut(stream);
        csv.Header(["time", .. columns]);
        long rows = 0;
        while (reader.TryRead(out var bar))
        {
            csv.Time(bar.Time);
            foreach (var x in instances)
            {
                x.Update(bar);
                for (int line = 0; line < x.LineCount; line++)
                {
                    csv.Double(x.Value(line));
                }
            }

            csv.EndRow();
            if ((++rows & 4095) == 0)
            {
                ct.ThrowIfCancellationRequested();
            }
        }

        ct.ThrowIfCancellationRequested();
        if (rows == 0)
        {
            throw new DataFormatException(dataFile, 0, 0, null, "has no bars; nothing to compute");
        }

        if (reader.SkippedSummary is string skipped)
        {
            warn?.Invoke(skipped + "; --strict refuses such a file instead");
        }

        return rows;
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort: the temporary name never collides with --out.
        }
    }
}
