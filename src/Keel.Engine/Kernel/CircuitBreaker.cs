namespace Keel.Engine.Kernel;

/// <summary>
/// Stops new orders after <see cref="Threshold"/> consecutive errors (strategy exceptions, venue rejections, handler
/// failures). An event processed without error resets the count. Once open it stays open until <see cref="Reset"/>.
/// </summary>
public sealed class CircuitBreaker
{
    public CircuitBreaker(int threshold = 5)
    {
        if (threshold < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(threshold), $"circuit breaker threshold was {threshold}; it must be at least 1");
        }

        Threshold = threshold;
    }

    public int Threshold { get; }

    public int ConsecutiveErrors { get; private set; }

    public bool IsOpen { get; private set; }

    public long TotalErrors { get; private set; }

    /// <summary>Records an error; returns true if this error opened the breaker.</summary>
    public bool RecordError()
    {
        TotalErrors++;
        ConsecutiveErrors++;
        if (!IsOpen && ConsecutiveErrors >= Threshold)
        {
            IsOpen = true;
            return true;
        }

        return false;
    }

    public void RecordSuccess()
    {
        if (!IsOpen)
        {
            ConsecutiveErrors = 0;
        }
    }

    /// <summary>Opens the breaker now, whatever the error count (an operator's or a reconciliation's halt).</summary>
    public void Trip() => IsOpen = true;

    public void Reset()
    {
        IsOpen = false;
        ConsecutiveErrors = 0;
    }

    /// <summary>Restores the breaker from a snapshot.</summary>
    public void Restore(int consecutiveErrors, bool isOpen, long totalErrors)
    {
        ConsecutiveErrors = consecutiveErrors;
        IsOpen = isOpen;
        TotalErrors = totalErrors;
    }
}
