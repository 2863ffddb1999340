using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using Keel.Domain;

namespace Keel.Runtime.Reporting;

/// <summary>
/// A small, fast UTF-8 CSV writer: exact decimal text for prices, quantities and money, ISO 8601 UTC times,
/// shortest round-trip text for doubles. Output is byte-identical for identical input.
/// </summary>
public sealed class CsvOut : IDisposable
{
    private readonly Stream _stream;
    private readonly byte[] _buffer = new byte[1 << 16];
    private readonly byte[] _cachedDate = new byte[40];
    private int _pos;
    private bool _rowStarted;
    private long _cachedDay = long.MinValue;

    public CsvOut(Stream stream) => _stream = stream;

    public long Rows { get; private set; }

    public CsvOut Header(params string[] names)
    {
        foreach (var n in names)
        {
            Text(n);
        }

        return EndRow();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Span<byte> Reserve(int max)
    {
        if (_pos + max + 1 > _buffer.Length)
        {
            Flush();
        }

        if (_rowStarted)
        {
            _buffer[_pos++] = (byte)',';
        }

        _rowStarted = true;
        return _buffer.AsSpan(_pos);
    }

    public CsvOut Time(Timestamp t)
    {
        var span = Reserve(40);
        long day = t.UtcDayNumber;
        if (day != _cachedDay)
        {
            t.FormatUtf8(_cachedDate);
            _cachedDay = day;
        }

        _cachedDate.AsSpan(0, 10).CopyTo(span);
        _pos += 10 + t.FormatTimeOfDay(span);
        return this;
    }

    /// <summary>Writes a double rounded to <paramref name="decimals"/> decimals (≤ 15), trailing zeros trimmed; fast and exact for the rounded value.</summary>
    public CsvOut Fixed(double v, int decimals)
    {
        var span = Reserve(48);
        if (!double.IsFinite(v))
        {
            return this;
        }

        double scaled = Math.Round(Math.Abs(v) * FixedPointScale(decimals), MidpointRounding.ToEven);
        if (scaled >= 9e18)
        {
            v.TryFormat(span, out int n, "R", System.Globalization.CultureInfo.InvariantCulture);
            _pos += n;
            return this;
        }

        _pos += FixedPoint.Format(v < 0 ? -(long)scaled : (long)scaled, decimals, span);
        return this;
    }

    private static double FixedPointScale(int decimals) => decimals switch
    {
        6 => 1e6,
        8 => 1e8,
        10 => 1e10,
        12 => 1e12,
        _ => Math.Pow(10, decimals),
    };

    public CsvOut Price(Price p)
    {
        var span = Reserve(32);
        _pos += p.FormatUtf8(span);
        return this;
    }

    public CsvOut Price(Price? p) => p is Price v ? Price(v) : Empty();

    public CsvOut Quantity(Quantity q)
    {
        var span = Reserve(32);
        _pos += q.FormatUtf8(span);
        return this;
    }

    public CsvOut Money(Money m)
    {
        var span = Reserve(64);
        _pos += m.FormatUtf8(span);
        return this;
    }

    public CsvOut Long(long v)
    {
        var span = Reserve(24);
        if (v < 0)
        {
            span[0] = (byte)'-';
            _pos += 1 + FixedPoint.WriteUnsigned((ulong)(-(v + 1)) + 1, span[1..]);
        }
        else
        {
            _pos += FixedPoint.WriteUnsigned((ulong)v, span);
        }

        return this;
    }

    public CsvOut Double(double v)
    {
        var span = Reserve(40);
        if (!double.IsFinite(v))
        {
            return this;
        }

        v.TryFormat(span, out int n, "R", System.Globalization.CultureInfo.InvariantCulture);
        _pos += n;
        return this;
    }

    /// <summary>Writes bytes that are already a valid field (for example cached number text).</summary>
    public CsvOut Field(ReadOnlySpan<byte> utf8)
    {
        var span = Reserve(utf8.Length);
        utf8.CopyTo(span);
        _pos += utf8.Length;
        return this;
    }

    /// <summary>Writes money through a one-entry cache: repeated values (cash between fills) are formatted once.</summary>
    public CsvOut Money(Money m, MoneyTextCache cache)
    {
        if (!cache.Matches(m))
        {
            cache.Set(m);
        }

        return Field(cache.Text);
    }

    public CsvOut Empty()
    {
        Reserve(0);
        return this;
    }

    /// <summary>Writes text, quoted when it contains a comma, quote or line break; text of any length is written whole.</summary>
    public CsvOut Text(string? s)
    {
        var chars = (s ?? string.Empty).AsSpan();
        if (chars.Length > ShortText)
        {
            return LongText(chars);
        }

        // Room for the worst case: every character a quote (doubled) and three UTF-8 bytes each, plus the quotes.
        var span = Reserve((chars.Length * 6) + 2);
        if (Ascii.FromUtf16(chars, span, out int written) == OperationStatus.Done && span[..written].IndexOfAny(Special) < 0)
        {
            // The common case: ids, symbols, enum names, tags.
            _pos += written;
            return this;
        }

        _pos += Encode(chars, span);
        return this;
    }

    /// <summary>Text longer than <see cref="ShortText"/>: encoded whole, then copied out through the buffer.</summary>
    private CsvOut LongText(ReadOnlySpan<char> chars)
    {
        var bytes = new byte[(chars.Length * 6) + 2];
        int length = Encode(chars, bytes);
        Reserve(0);
        var rest = bytes.AsSpan(0, length);
        while (!rest.IsEmpty)
        {
            if (_pos == _buffer.Length)
            {
                Flush();
            }

            int n = Math.Min(rest.Length, _buffer.Length - _pos);
            rest[..n].CopyTo(_buffer.AsSpan(_pos));
            _pos += n;
            rest = rest[n..];
        }

        return this;
    }

    /// <summary>UTF-8 of the field: quoted, with quotes doubled, when it contains a comma, quote or line break.</summary>
    private static int Encode(ReadOnlySpan<char> chars, Span<byte> destination)
    {
        if (chars.IndexOfAny(SpecialChars) < 0)
        {
            return Encoding.UTF8.GetBytes(chars, destination);
        }

        int pos = 0;
        destination[pos++] = (byte)'"';
        while (true)
        {
            int quote = chars.IndexOf('"');
            var part = quote < 0 ? chars : chars[..(quote + 1)];
            pos += Encoding.UTF8.GetBytes(part, destination[pos..]);
            if (quote < 0)
            {
                break;
            }

            destination[pos++] = (byte)'"';
            chars = chars[(quote + 1)..];
        }

        destination[pos++] = (byte)'"';
        return pos;
    }

    private const int ShortText = 1024;

    private static readonly SearchValues<byte> Special = SearchValues.Create(",\"\r\n"u8);

    private static readonly SearchValues<char> SpecialChars = SearchValues.Create(",\"\r\n");

    public CsvOut EndRow()
    {
        if (_pos + 1 > _buffer.Length)
        {
            Flush();
        }

        _buffer[_pos++] = (byte)'\n';
        _rowStarted = false;
        Rows++;
        return this;
    }

    public void Flush()
    {
        _stream.Write(_buffer, 0, _pos);
        _pos = 0;
    }

    /// <summary>Writes the buffer and flushes the stream to the operating system (snapshot points).</summary>
    public void FlushToStream()
    {
        Flush();
        _stream.Flush();
    }

    public void Dispose()
    {
        Flush();
        _stream.Flush();
    }
}

/// <summary>The last money value a column wrote, and its text.</summary>
public sealed class MoneyTextCache
{
    private readonly byte[] _bytes = new byte[64];
    private Money _value;
    private int _length = -1;

    public ReadOnlySpan<byte> Text => _bytes.AsSpan(0, _length);

    public bool Matches(Money value) => _length >= 0 && value == _value;

    public void Set(Money value)
    {
        _value = value;
        _length = value.FormatUtf8(_bytes);
    }
}
