namespace Keel.Domain;

/// <summary>
/// One OHLCV bar. <see cref="Time"/> is the label the data source gave it (its opening time for intraday data,
/// its session date for daily data).
/// </summary>
public readonly record struct Bar(InstrumentId Instrument, Timestamp Time, Price Open, Price High, Price Low, Price Close, Quantity Volume)
{
    /// <summary>Returns a description of what is wrong with the bar, or null when it is consistent.</summary>
    public string? Validate()
    {
        if (Open.Raw <= 0 || High.Raw <= 0 || Low.Raw <= 0 || Close.Raw <= 0)
        {
            return $"prices must be positive (open {Open}, high {High}, low {Low}, close {Close})";
        }

        if (High < Low)
        {
            return $"high {High} is below low {Low}";
        }

        if (Open > High || Open < Low || Close > High || Close < Low)
        {
            return $"open {Open} and close {Close} must lie between low {Low} and high {High}";
        }

        if (Volume.IsNegative)
        {
            return $"volume {Volume} is negative";
        }

        return null;
    }
}
