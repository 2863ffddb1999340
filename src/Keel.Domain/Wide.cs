using System.Numerics;
using System.Runtime.CompilerServices;

namespace Keel.Domain;

/// <summary>
/// 128-bit integer helpers on (high, low) word pairs. Keel avoids <see cref="Int128"/> in its core types because
/// ReadyToRun cannot precompile methods that use it (its ABI is not version-resilient), which would leave every
/// money calculation to the JIT at start-up. These helpers are exact and checked where the result could overflow.
/// </summary>
internal static class Wide
{
    /// <summary>Divides the unsigned 128-bit value (u1:u0) by v, given u1 &lt; v (so the quotient fits 64 bits).</summary>
    /// <remarks>Knuth's algorithm D for two 32-bit digits (Hacker's Delight, divlu).</remarks>
    public static ulong DivRem(ulong u1, ulong u0, ulong v, out ulong remainder)
    {
        unchecked
        {
            if (u1 == 0)
            {
                remainder = u0 % v;
                return u0 / v;
            }

            const ulong b = 1UL << 32;
            int s = BitOperations.LeadingZeroCount(v);
            v <<= s;
            ulong vn1 = v >> 32;
            ulong vn0 = v & 0xFFFFFFFF;
            ulong un32 = s == 0 ? u1 : (u1 << s) | (u0 >> (64 - s));
            ulong un10 = u0 << s;
            ulong un1 = un10 >> 32;
            ulong un0 = un10 & 0xFFFFFFFF;
            ulong q1 = un32 / vn1;
            ulong rhat = un32 - (q1 * vn1);
            while (q1 >= b || q1 * vn0 > (b * rhat) + un1)
            {
                q1--;
                rhat += vn1;
                if (rhat >= b)
                {
                    break;
                }
            }

            ulong un21 = (un32 * b) + un1 - (q1 * v);
            ulong q0 = un21 / vn1;
            rhat = un21 - (q0 * vn1);
            while (q0 >= b || q0 * vn0 > (b * rhat) + un0)
            {
                q0--;
                rhat += vn1;
                if (rhat >= b)
                {
                    break;
                }
            }

            remainder = ((un21 * b) + un0 - (q0 * v)) >> s;
            return (q1 * b) + q0;
        }
    }

    /// <summary>Divides an unsigned 128-bit value by a 64-bit divisor: 128-bit quotient and the remainder.</summary>
    public static void DivRem(ulong hi, ulong lo, ulong divisor, out ulong qHi, out ulong qLo, out ulong remainder)
    {
        qHi = hi / divisor;
        ulong r = hi - (qHi * divisor);
        qLo = DivRem(r, lo, divisor, out remainder);
    }

    /// <summary>Two's complement negation of (hi:lo).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Negate(ref long hi, ref ulong lo)
    {
        unchecked
        {
            lo = ~lo + 1;
            hi = ~hi + (lo == 0 ? 1 : 0);
        }
    }

    /// <summary>Magnitude of a signed (hi:lo) as unsigned words; false when the value is negative.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Magnitude(long hi, ulong lo, out ulong mHi, out ulong mLo)
    {
        if (hi >= 0)
        {
            mHi = (ulong)hi;
            mLo = lo;
            return true;
        }

        Negate(ref hi, ref lo);
        mHi = unchecked((ulong)hi);
        mLo = lo;
        return false;
    }

    /// <summary>Rounds quotient q (with remainder r of divisor d) half to even; returns whether to add one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool RoundUp(ulong qLo, ulong remainder, ulong divisor)
    {
        if (remainder == 0)
        {
            return false;
        }

        ulong half = divisor - remainder;
        return remainder > half || (remainder == half && (qLo & 1) == 1);
    }
}
