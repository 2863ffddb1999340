using Keel.Domain;

namespace Keel.Engine.Data;

/// <summary>One tick a bar is replayed as: its offset inside the bar (ns), price and size (raw fixed-point).</summary>
public readonly record struct BarTick(long Offset, long Price, long Size);

/// <summary>
/// How a bar is replayed as ticks, the same way everywhere (the sandbox's feeds, a backtest with <c>--bar-ticks</c>): four
/// trades at t + 0, d/4, d/2 and 3d/4 — open, the extreme nearer the open (high on a tie), the other extreme, close —
/// the usual OHLC path of backtesters that fill on ticks. Sizes split the volume exactly: a quarter each (whole units
/// when the volume is whole), the remainder on the close.
/// </summary>
public static class BarTicks
{
    public const int PerBar = 4;

    public static void Split(in Bar bar, long interval, Span<BarTick> ticks)
    {
        long o = bar.Open.Raw, h = bar.High.Raw, l = bar.Low.Raw, c = bar.Close.Raw, v = bar.Volume.Raw;
        bool highFirst = h - o <= o - l;
        long unit = v % Quantity.Scale == 0 ? Quantity.Scale : 1;
        long quarter = v / unit / 4 * unit;
        long last = v - (3 * quarter);
        long step = interval / 4;
        ticks[0] = new BarTick(0, o, quarter);
        ticks[1] = new BarTick(step, highFirst ? h : l, quarter);
        ticks[2] = new BarTick(2 * step, highFirst ? l : h, quarter);
        ticks[3] = new BarTick(3 * step, c, last);
    }

    /// <summary><paramref name="tick"/> of <paramref name="bar"/> as a trade tick.</summary>
    public static Tick Trade(in Bar bar, in BarTick tick) =>
        Tick.Trade(bar.Instrument, Timestamp.FromUnixNanos(bar.Time.UnixNanos + tick.Offset), Price.FromRaw(tick.Price), Quantity.FromRaw(tick.Size));
}
