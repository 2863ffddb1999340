using Keel.Domain;

namespace Keel.Benchmarks;

/// <summary>
/// The bench data generator's series (../shared/bench/make_bars.py, SplitMix64 + Box-Muller, seed 42), built in memory
/// so micro-benchmarks do not read files. Prices are rounded to 4 decimals exactly as the script writes them.
/// </summary>
public static class SyntheticBars
{
    public static Bar[] Generate(int count, InstrumentId instrument, ulong seed = 42)
    {
        var rng = new SplitMix64(seed);
        var bars = new Bar[count];
        double p = 100.0;
        var t = Timestamp.FromParts(2020, 1, 1);
        for (int i = 0; i < count; i++)
        {
            double o = p;
            double c = o * Math.Exp(0.001 * rng.Gauss());
            double h = Math.Max(o, c) * (1.0 + (0.0005 * Math.Abs(rng.Gauss())));
            double l = Math.Min(o, c) * (1.0 - (0.0005 * Math.Abs(rng.Gauss())));
            long v = 100 + (long)(rng.Uniform() * 1000);
            var open = Round4(o);
            var close = Round4(c);
            bars[i] = new Bar(instrument, t, open, Price.Max(Round4(h), Price.Max(open, close)), Price.Min(Round4(l), Price.Min(open, close)), close, Quantity.From(v));
            p = (double)close.ToDecimal();
            t = t.AddNanos(Timestamp.NanosPerMinute);
        }

        return bars;
    }

    private static Price Round4(double v) => Price.From(Math.Round((decimal)v, 4, MidpointRounding.ToEven));

    private sealed class SplitMix64(ulong seed)
    {
        private ulong _s = seed;

        public ulong Next()
        {
            unchecked
            {
                _s += 0x9E3779B97F4A7C15UL;
                ulong z = _s;
                z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
                z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
                return z ^ (z >> 31);
            }
        }

        public double Uniform() => (Next() >> 11) * (1.0 / 9007199254740992.0);

        public double Gauss()
        {
            double u1 = Uniform();
            double u2 = Uniform();
            return Math.Sqrt(-2.0 * Math.Log(1.0 - u1)) * Math.Cos(2.0 * Math.PI * u2);
        }
    }
}
