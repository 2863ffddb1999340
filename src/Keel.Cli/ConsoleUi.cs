using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Keel.Cli;

/// <summary>A progress bar on stderr for long runs; silent when stderr is redirected or for runs under half a second.</summary>
internal sealed class ProgressBar : IDisposable
{
    private readonly Thread? _thread;
    private readonly string _label;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private volatile bool _done;
    private long _current;
    private long _total;
    private bool _drawn;

    public ProgressBar(string label, bool enabled)
    {
        _label = label;
        if (enabled && !Console.IsErrorRedirected)
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
        while (!_done)
        {
            Thread.Sleep(100);
            if (_done || _clock.ElapsedMilliseconds < 500)
            {
                continue;
            }

            Draw();
        }
    }

    private void Draw()
    {
        long cur = Volatile.Read(ref _current), total = Volatile.Read(ref _total);
        double fraction = total > 0 ? Math.Clamp((double)cur / total, 0, 1) : 0;
        const int width = 30;
        int filled = (int)(fraction * width);
        double elapsed = _clock.Elapsed.TotalSeconds;
        string eta = fraction > 0.01 ? $"  ETA {(elapsed / fraction) - elapsed:0}s" : string.Empty;
        var line = $"\r{_label} [{new string('#', filled)}{new string('.', width - filled)}] {fraction * 100,5:0.0}%  {elapsed:0.0}s{eta}   ";
        Console.Error.Write(line);
        _drawn = true;
    }

    public void Dispose()
    {
        _done = true;
        _thread?.Join();
        if (_drawn)
        {
            Console.Error.Write("\r" + new string(' ', 80) + "\r");
        }
    }
}

/// <summary>A two-column table with box-drawing borders.</summary>
internal static class Table
{
    public static string Render(string title, IReadOnlyList<(string Name, string Value)> rows)
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

    /// <summary>A table with a header row; columns whose header starts with '>' are right-aligned.</summary>
    public static string Grid(IReadOnlyList<string> headers, IReadOnlyList<IReadOnlyList<string>> rows)
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

    public static string Pct(double? v) => v is double d && double.IsFinite(d) ? (d * 100).ToString("0.00", CultureInfo.InvariantCulture) + "%" : "n/a";

    public static string Num(double? v, string format = "0.000") => v is double d && double.IsFinite(d) ? d.ToString(format, CultureInfo.InvariantCulture) : "n/a";
}
