namespace Keel.Engine.Data;

/// <summary>Bad input data, located precisely: source, line, and column when known.</summary>
public sealed class DataFormatException : Exception
{
    public DataFormatException(string source, long line, int column, string? columnName, string problem)
        : base(Describe(source, line, column, columnName, problem))
    {
        Source = source;
        Line = line;
        Column = column;
        Problem = problem;
    }

    public DataFormatException()
        : base("bad data")
    {
        Source = string.Empty;
        Problem = string.Empty;
    }

    public DataFormatException(string message)
        : base(message)
    {
        Source = string.Empty;
        Problem = message;
    }

    public DataFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
        Source = string.Empty;
        Problem = message;
    }

    public new string Source { get; }

    /// <summary>1-based line number; 0 when the problem is the file as a whole.</summary>
    public long Line { get; }

    /// <summary>1-based column number; 0 when the problem is the whole line.</summary>
    public int Column { get; }

    public string Problem { get; }

    private static string Describe(string source, long line, int column, string? columnName, string problem)
    {
        var where = line <= 0 ? source
            : column <= 0 ? $"{source}: line {line}"
            : $"{source}: line {line}, column {column}{(columnName is null ? string.Empty : $" ({columnName})")}";
        return $"{where}: {problem}";
    }
}
