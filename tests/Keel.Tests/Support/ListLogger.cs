using Microsoft.Extensions.Logging;

namespace Keel.Tests.Support;

/// <summary>A logger that keeps every entry (level, event id, formatted message), for asserting what a library logged.</summary>
public sealed class ListLogger : ILogger
{
    private readonly List<(LogLevel Level, EventId Id, string Message)> _entries = [];

    public IReadOnlyList<(LogLevel Level, EventId Id, string Message)> Entries
    {
        get
        {
            lock (_entries)
            {
                return [.. _entries];
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        lock (_entries)
        {
            _entries.Add((logLevel, eventId, formatter(state, exception)));
        }
    }
}

/// <summary>Hands one <see cref="ListLogger"/> to every category: a run's whole log in memory, so a failing test can say what the run was doing.</summary>
public sealed class ListLoggerFactory : ILoggerFactory
{
    public ListLogger Logger { get; } = new();

    /// <summary>The last <paramref name="count"/> entries, one per line.</summary>
    public string Tail(int count = 40) => string.Join(Environment.NewLine, Logger.Entries.TakeLast(count).Select(e => $"{e.Level} [{e.Id.Id}] {e.Message}"));

    public ILogger CreateLogger(string categoryName) => Logger;

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }
}
