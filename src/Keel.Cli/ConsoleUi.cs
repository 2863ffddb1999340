using System.Globalization;
using System.Text;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Keel.Cli;

/// <summary>
/// A progress bar on stderr for long runs, drawn by Spectre.Console (bar, percentage, elapsed and remaining time) and
/// cleared when the run ends; silent when stderr is redirected (CI logs, pipes) or for runs under half a second.
/// </summary>
internal sealed class ProgressBar : IDisposable
{
    private readonly Thread? _thread;
    private readonly string _label;
    private readonly TextWriter? _terminal;
    private readonly TimeSpan _showAfter;
    private readonly ManualResetEventSlim _stop = new();
    private long _current;
    private long _total;

    public ProgressBar(string label, bool enabled)
        : this(label, enabled && !Console.IsErrorRedirected ? Console.Error : null, TimeSpan.FromMilliseconds(500))
    {
    }

    /// <summary>Draws on <paramref name="terminal"/> (none: silent) once <paramref name="showAfter"/> has passed.</summary>
    internal ProgressBar(string label, TextWriter? terminal, TimeSpan showAfter)
    {
        _label = label;
        _terminal = terminal;
        _showAfter = showAfter;
        if (terminal is not null)
        {
            _thread = new Thread(Loop) { IsBackground = true, Name = "keel-progress" };
            _thread.Start();
        }
    }

    public void Report(long current, long total)
    {
        Volatile.Write(ref _current, current);
        Volatile.Write(ref _total, total);
    }

    private void Loop()
    {
        if (_stop.Wait(_showAfter))
        {
            return; // done before the bar was worth showing
        }

        Terminal.Console(_terminal!).Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn { Width = 30 }, new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(_label));
                do
                {
                    long cur = Volatile.Read(ref _current), total = Volatile.Read(ref _total);
                    task.IsIndeterminate = total <= 0;
                    task.MaxValue = Math.Max(1, total);
                    task.Value = Math.Clamp(cur, 0, task.MaxValue);
                }
                while (!_stop.Wait(100)); // woken at once by Dispose
            });
    }

    public void Dispose()
    {
        _stop.Set();
        _thread?.Join();
        _stop.Dispose();
    }
}

/// <summary>Where output goes to a person: Spectre.Console draws there; redirected output stays plain text.</summary>
internal static class Terminal
{
    /// <summary>A Spectre.Console writing ANSI to <paramref name="writer"/> at the terminal's width (NO_COLOR honoured).</summary>
    public static IAnsiConsole Console(TextWriter writer)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.Yes,
            ColorSystem = ColorSystemSupport.Detect,
            Interactive = InteractionSupport.Yes,
            Out = new AnsiConsoleOutput(writer),
        });
        console.Profile.Width = Width();

        // Spectre guesses Unicode support from the writer and would fall back to ASCII-safe borders; the plain tables
        // have always printed box-drawing characters, so the terminal is taken to show them too.
        console.Profile.Capabilities.Unicode = true;
        return console;
    }

    private static int Width()
    {
        try
        {
            return System.Console.WindowWidth is > 0 and var w ? w : 120;
        }
        catch (IOException)
        {
            return 120; // no console window behind the handle
        }
    }
}

/// <summary>
/// Tables for the CLI. On a terminal they are drawn by Spectre.Console (rounded borders, bold title, negative values in
/// red); redirected output gets the plain box-drawing text below, byte for byte what scripts and CI logs have always
/// read. That plain writer stays hand-written for that reason: it is the stable, colourless form to parse.
/// </summary>
internal static class Table
{
    /// <summary>A two-column table under a title; a row with an empty name separates sections.</summary>
    public static string Render(string title, IReadOnlyList<(string Name, string Value)> rows) => Render(title, rows, terminal: !Console.IsOutputRedirected);

    internal static string Render(string title, IReadOnlyList<(string Name, string Value)> rows, bool terminal)
    {
        if (!terminal)
        {
            return PlainRender(title, rows);
        }

        var table = new Spectre.Console.Table { Border = TableBorder.Rounded, ShowHeaders = false };
        table.AddColumn(new TableColumn(string.Empty));
        table.AddColumn(new TableColumn(string.Empty).RightAligned());
        foreach (var (name, value) in rows)
        {
            if (name.Length == 0)
            {
                table.AddEmptyRow();
            }
            else
            {
                table.AddRow(new Text(name), Value(value));
            }
        }

        return Draw(new Rows(new Text(title, new Style(decoration: Decoration.Bold)), table));
    }

    /// <summary>A table with a header row; columns whose header starts with '>' are right-aligned.</summary>
    public static string Grid(IReadOnlyList<string> headers, IReadOnlyList<IReadOnlyList<string>> rows) => Grid(headers, rows, terminal: !Console.IsOutputRedirected);

    internal static string Grid(IReadOnlyList<string> headers, IReadOnlyList<IReadOnlyList<string>> rows, bool terminal)
    {
        if (!terminal)
        {
            return PlainGrid(headers, rows);
        }

        var table = new Spectre.Console.Table { Border = TableBorder.Rounded };
        foreach (var header in headers)
        {
            var column = new TableColumn(new Text(header.TrimStart('>'), new Style(decoration: Decoration.Bold)));
            table.AddColumn(header.StartsWith('>') ? column.RightAligned() : column);
        }

        foreach (var row in rows)
        {
            var cells = new IRenderable[row.Count];
            for (int i = 0; i < row.Count; i++)
            {
                cells[i] = Value(row[i]);
            }

            table.AddRow(cells);
        }

        return Draw(table);
    }

    private static Text Value(string value) => value.StartsWith('-') ? new Text(value, new Style(Color.Red)) : new Text(value);

    private static string Draw(IRenderable renderable)
    {
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        Terminal.Console(text).Write(renderable);
        return text.ToString();
    }

    private static string PlainRender(string title, IReadOnlyList<(string Name, string Value)> rows)
    {
        int nameWidth = Math.Max(rows.Max(r => r.Name.Length), 8);
        int valueWidth = Math.Max(rows.Max(r => r.Value.Length), 8);
        var sb = new StringBuilder();
        sb.Append(title).Append('\n');
        sb.Append('┌').Append('─', nameWidth + 2).Append('┬').Append('─', valueWidth + 2).Append("┐\n");
        foreach (var (name, value) in rows)
        {
            if (name.Length == 0)
            {
                sb.Append('├').Append('─', nameWidth + 2).Append('┼').Append('─', valueWidth + 2).Append("┤\n");
                continue;
            }

            sb.Append("│ ").Append(name.PadRight(nameWidth)).Append(" │ ").Append(value.PadLeft(valueWidth)).Append(" │\n");
        }

        sb.Append('└').Append('─', nameWidth + 2).Append('┴').Append('─', valueWidth + 2).Append("┘\n");
        return sb.ToString();
    }

    private static string PlainGrid(IReadOnlyList<string> headers, IReadOnlyList<IReadOnlyList<string>> rows)
    {
        var right = headers.Select(h => h.StartsWith('>')).ToArray();
        var names = headers.Select(h => h.TrimStart('>')).ToArray();
        var widths = names.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        var sb = new StringBuilder();
        void Line(char l, char m, char r)
        {
            sb.Append(l);
            for (int i = 0; i < widths.Length; i++)
            {
                sb.Append('─', widths[i] + 2).Append(i == widths.Length - 1 ? r : m);
            }

            sb.Append('\n');
        }

        void Cells(IReadOnlyList<string> cells, bool header)
        {
            sb.Append('│');
            for (int i = 0; i < widths.Length; i++)
            {
                var text = right[i] && !header ? cells[i].PadLeft(widths[i]) : cells[i].PadRight(widths[i]);
                sb.Append(' ').Append(text).Append(" │");
            }

            sb.Append('\n');
        }

        Line('┌', '┬', '┐');
        Cells(names, header: true);
        Line('├', '┼', '┤');
        foreach (var row in rows)
        {
            Cells(row, header: false);
        }

        Line('└', '┴', '┘');
        return sb.ToString();
    }

    public static string Money(Domain.Money m) => m.ToDecimal().ToString("#,0.00", CultureInfo.InvariantCulture);

    /// <summary>A percentage with two decimals; never "-0.00%" (a value that rounds to zero is 0.00%).</summary>
    public static string Pct(double? v) => v is double d && double.IsFinite(d) ? NoNegativeZero(d * 100, "0.00") + "%" : "n/a";

    public static string Num(double? v, string format = "0.000") => v is double d && double.IsFinite(d) ? NoNegativeZero(d, format) : "n/a";

    private static string NoNegativeZero(double v, string format)
    {
        var text = v.ToString(format, CultureInfo.InvariantCulture);
        return text.StartsWith('-') && text.AsSpan(1).IndexOfAnyExcept("0.") < 0 ? text[1..] : text;
    }
}
