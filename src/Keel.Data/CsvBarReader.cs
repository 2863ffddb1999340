using System.Runtime.CompilerServices;
using System.Text;
using Keel.Domain;
using Keel.Engine.Data;

namespace Keel.Data;

/// <summary>The CSV dialects Keel recognises from the header row.</summary>
public enum BarFileFormat
{
    /// <summary><c>datetime,open,high,low,close,volume</c> (also <c>time</c>/<c>timestamp</c>/<c>date</c>, any column order).</summary>
    Generic = 1,

    /// <summary><c>Date[,Time],Open,High,Low,Close,Volume,OpenInterest</c>.</summary>
    Backtrader = 2,

    /// <summary><c>Date,Open,High,Low,Close,Adj Close,Volume</c> (unadjusted prices are used).</summary>
    Yahoo = 3,
}

/// <summary>
/// Streams OHLCV bars from CSV without loading the file: a fixed buffer, one pass, no allocation per row.
/// The dialect and column positions come from the header. Every row is checked (numbers, positive prices,
/// low ≤ open/close ≤ high, time strictly increasing); a problem throws <see cref="DataFormatException"/> naming the
/// source, line and column. Times are UTC: <c>YYYY-MM-DD</c>, <c>YYYY-MM-DD HH:MM[:SS[.fff]]</c>, ISO 8601 with
/// <c>T</c> and <c>Z</c> or an offset, or Unix seconds/milliseconds. Yahoo's rows without prices
/// (<c>DATE,null,null,…</c>, days it has no data for) are skipped and counted (<see cref="SkippedRows"/>), unless
/// <see cref="Strict"/>.
/// </summary>
public sealed class CsvBarReader : IBarReader
{
    private const int MaxLine = 1 << 16;
    private readonly Stream _stream;
    private readonly bool _ownsStream;
    private readonly string _source;
    private readonly InstrumentId _instrument;
    private readonly long _length;
    private byte[] _buffer = new byte[1 << 20];
    private int _start;
    private int _end;
    private bool _eof;
    private long _consumed;
    private string[] _names = [];
    private int _fieldCount;
    private int _dateCol = -1;
    private int _timeCol = -1;
    private int _openCol = -1;
    private int _highCol = -1;
    private int _lowCol = -1;
    private int _closeCol = -1;
    private int _volumeCol = -1;
    private bool _layoutResolved;
    private long _previous = long.MinValue;
    private readonly int[] _fieldStart = new int[64];
    private readonly byte[] _lastDateText = new byte[10];
    private long _lastDateNanos;
    private Role[]? _roles;
    private readonly int[] _fieldEnd = new int[64];

    public CsvBarReader(Stream stream, string source, InstrumentId instrument, bool ownsStream = true)
    {
        _stream = stream;
        _ownsStream = ownsStream;
        _source = source;
        _instrument = instrument;
        _length = stream.CanSeek ? stream.Length : 0;
        ReadHeader();
    }

    /// <summary>Opens a file for reading (sequential access hint, large buffer); <paramref name="strict"/>: see <see cref="Strict"/>.</summary>
    public static CsvBarReader Open(string path, InstrumentId instrument, bool strict = false)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new DataFormatException(path, 0, 0, null, $"cannot be read: {ex.Message}");
        }

        try
        {
            return new CsvBarReader(stream, path, instrument) { Strict = strict };
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    public BarFileFormat Format { get; private set; }

    /// <summary>Line number of the last line read (1 = header).</summary>
    public long Line { get; private set; }

    public long RowsRead { get; private set; }

    /// <summary>
    /// Refuse Yahoo's rows without prices (<c>DATE,null,null,…</c>, its missing days) as bad data, as every other bad
    /// row is, instead of skipping them.
    /// </summary>
    public bool Strict { get; init; }

    /// <summary>Rows skipped so far as Yahoo's missing days (never in <see cref="Strict"/> mode).</summary>
    public long SkippedRows { get; private set; }

    /// <summary>Line number of the first skipped row; 0 when none was.</summary>
    public long FirstSkippedLine { get; private set; }

    /// <summary>What was skipped, in one sentence naming the file and the first line; null when nothing was.</summary>
    public string? SkippedSummary => SkippedRows == 0 ? null
        : $"{_source}: skipped {SkippedRows.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)} row{(SkippedRows == 1 ? string.Empty : "s")} with null values (Yahoo's missing days); the first is line {FirstSkippedLine.ToString(System.Globalization.CultureInfo.InvariantCulture)}";

    public (long Done, long Total) Progress => (_consumed, _length);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryRead(out Bar bar)
    {
        while (NextLine(out var line))
        {
            // A blank line (nothing or only spaces) is skipped; a line that does not start with a space is not blank.
            if (line.IsEmpty || (line[0] == (byte)' ' && line.Trim((byte)' ').IsEmpty))
            {
                continue;
            }

            if (ParseRow(line, out bar))
            {
                RowsRead++;
                return true;
            }
        }

        bar = default;
        return false;
    }

    public void Dispose()
    {
        if (_ownsStream)
        {
            _stream.Dispose();
        }
    }

    private void ReadHeader()
    {
        if (!NextLine(out var header))
        {
            throw Fail(0, 0, "is empty; it needs a header row such as datetime,open,high,low,close,volume");
        }

        if (header.StartsWith("\uFEFF"u8))
        {
            header = header[3..];
        }

        var text = Encoding.UTF8.GetString(header);
        _names = text.Split(',').Select(n => n.Trim().Trim('"')).ToArray();
        _fieldCount = _names.Length;
        for (int i = 0; i < _names.Length; i++)
        {
            switch (Normalize(_names[i]))
            {
                case "date":
                    _dateCol = i;
                    break;
                case "time":
                    _timeCol = i;
                    break;
                case "datetime" or "timestamp" or "timeutc" or "datetimeutc":
                    _dateCol = i;
                    break;
                case "open" or "o":
                    _openCol = i;
                    break;
                case "high" or "h":
                    _highCol = i;
                    break;
                case "low" or "l":
                    _lowCol = i;
                    break;
                case "close" or "c":
                    _closeCol = i;
                    break;
                case "volume" or "vol" or "v":
                    _volumeCol = i;
                    break;
            }
        }

        if (_dateCol < 0 && _timeCol >= 0)
        {
            _dateCol = _timeCol;
            _timeCol = -1;
        }

        var normalized = _names.Select(Normalize).ToHashSet();
        Format = normalized.Contains("adjclose") ? BarFileFormat.Yahoo
            : normalized.Contains("openinterest") ? BarFileFormat.Backtrader
            : BarFileFormat.Generic;

        string? missing = _dateCol < 0 ? "datetime (or date)" : _openCol < 0 ? "open" : _highCol < 0 ? "high" : _lowCol < 0 ? "low" : _closeCol < 0 ? "close" : null;
        if (missing is not null)
        {
            throw Fail(1, 0, $"header has no {missing} column (found: {string.Join(",", _names)}); expected datetime,open,high,low,close,volume or a backtrader/Yahoo header");
        }

        if (_names.Length > _fieldStart.Length)
        {
            throw Fail(1, 0, $"header has {_names.Length} columns; at most {_fieldStart.Length} are supported");
        }
    }

    private static string Normalize(string name) =>
        new(name.Where(c => c is not (' ' or '_' or '-' or '"')).Select(char.ToLowerInvariant).ToArray());

    /// <summary>
    /// backtrader's intraday files sometimes carry a time column the header does not name
    /// (<c>Date,Open,…</c> over rows <c>2006-01-02,09:01:00,3602.00,…</c>); backtrader reads them by position, so does Keel.
    /// </summary>
    private void ResolveLayout(int fields, ReadOnlySpan<byte> line)
    {
        _layoutResolved = true;
        if (fields == _fieldCount + 1 && _dateCol == 0 && _timeCol < 0 && LooksLikeTime(Field(line, 1)))
        {
            _timeCol = 1;
            _fieldCount++;
            var names = _names.ToList();
            names.Insert(1, "Time");
            _names = [.. names];
            _openCol = Shift(_openCol);
            _highCol = Shift(_highCol);
            _lowCol = Shift(_lowCol);
            _closeCol = Shift(_closeCol);
            _volumeCol = Shift(_volumeCol);
        }

        static int Shift(int c) => c >= 1 ? c + 1 : c;
    }

    private static bool LooksLikeTime(ReadOnlySpan<byte> s) =>
        (s.Length == 8 && s[2] == ':' && s[5] == ':') || (s.Length == 5 && s[2] == ':');

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ReadOnlySpan<byte> Field(ReadOnlySpan<byte> line, int index) => line[_fieldStart[index].._fieldEnd[index]];

    private enum Role : byte
    {
        Ignore = 0,
        Date = 1,
        Time = 2,
        Open = 3,
        High = 4,
        Low = 5,
        Close = 6,
        Volume = 7,
    }

    private Role[] BuildRoles()
    {
        var roles = new Role[_fieldCount];
        roles[_dateCol] = Role.Date;
        if (_timeCol >= 0)
        {
            roles[_timeCol] = Role.Time;
        }

        roles[_openCol] = Role.Open;
        roles[_highCol] = Role.High;
        roles[_lowCol] = Role.Low;
        roles[_closeCol] = Role.Close;
        if (_volumeCol >= 0)
        {
            roles[_volumeCol] = Role.Volume;
        }

        return roles;
    }

    /// <summary>
    /// Parses one row in a single pass: each field is read where it starts and parsing stops at the next comma.
    /// Anything unusual (quotes, spaces, a malformed value) falls back to the careful path, which reports the error.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool ParseRow(ReadOnlySpan<byte> line, out Bar bar)
    {
        if (!_layoutResolved)
        {
            int fields = Split(line);
            ResolveLayout(fields, line);
            _roles = BuildRoles();
        }

        var roles = _roles!;
        long open = 0, high = 0, low = 0, close = 0, volume = 0, date = long.MinValue, clock = 0;
        int pos = 0, col = 0;
        int n = line.Length;
        while (true)
        {
            if (col >= roles.Length)
            {
                return ParseRowCarefully(line, out bar);
            }

            int start = pos;
            bool ok;
            switch (roles[col])
            {
                case Role.Open:
                    ok = ParseDecimal(line, ref pos, out open);
                    break;
                case Role.High:
                    ok = ParseDecimal(line, ref pos, out high);
                    break;
                case Role.Low:
                    ok = ParseDecimal(line, ref pos, out low);
                    break;
                case Role.Close:
                    ok = ParseDecimal(line, ref pos, out close);
                    break;
                case Role.Volume:
                    ok = ParseDecimal(line, ref pos, out volume);
                    break;
                case Role.Date:
                    ok = ParseDateFast(line, ref pos, out date);
                    break;
                case Role.Time:
                    ok = ParseClockFast(line, ref pos, out clock);
                    break;
                default:
                    int rel = line[pos..].IndexOf((byte)',');
                    pos = rel < 0 ? n : pos + rel;
                    ok = true;
                    break;
            }

            if (!ok || pos == start)
            {
                return ParseRowCarefully(line, out bar);
            }

            col++;
            if (pos >= n)
            {
                break;
            }

            if (line[pos] != ',')
            {
                return ParseRowCarefully(line, out bar);
            }

            pos++;
        }

        if (col != _fieldCount || open <= 0 || high <= 0 || low <= 0 || close <= 0 || high < low
            || open > high || open < low || close > high || close < low || volume < 0)
        {
            return ParseRowCarefully(line, out bar);
        }

        long time = date + clock;
        if (time <= _previous)
        {
            return ParseRowCarefully(line, out bar);
        }

        _previous = time;
        bar = new Bar(_instrument, Timestamp.FromUnixNanos(time), Price.FromRaw(open), Price.FromRaw(high), Price.FromRaw(low), Price.FromRaw(close), Quantity.FromRaw(volume));
        return true;
    }

    /// <summary>
    /// Unsigned decimal with at most 9 integer digits and 9 decimals, stopping at a comma or the end; false on anything
    /// else. The digit limits make overflow impossible, so the arithmetic is unchecked.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool ParseDecimal(ReadOnlySpan<byte> s, ref int pos, out long raw)
    {
        unchecked
        {
            raw = 0;
            int i = pos;
            int n = s.Length;
            long integer = 0;
            int start = i;
            while (i < n)
            {
                uint d = (uint)(s[i] - '0');
                if (d > 9)
                {
                    break;
                }

                integer = (integer * 10) + d;
                i++;
            }

            int digits = i - start;
            long fraction = 0;
            int fracDigits = 0;
            if (i < n && s[i] == '.')
            {
                i++;
                int fracStart = i;
                while (i < n)
                {
                    uint d = (uint)(s[i] - '0');
                    if (d > 9)
                    {
                        break;
                    }

                    fraction = (fraction * 10) + d;
                    i++;
                }

                fracDigits = i - fracStart;
            }

            if (digits + fracDigits == 0 || digits > 9 || fracDigits > 9 || (i < n && s[i] != ','))
            {
                return false;
            }

            raw = (integer * Price.Scale) + (fraction * Pow10(9 - fracDigits));
            pos = i;
            return true;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long Pow10(int k) => k switch
    {
        0 => 1,
        1 => 10,
        2 => 100,
        3 => 1_000,
        4 => 10_000,
        5 => 100_000,
        6 => 1_000_000,
        7 => 10_000_000,
        8 => 100_000_000,
        _ => 1_000_000_000,
    };

    /// <summary><c>YYYY-MM-DD</c> or <c>YYYY-MM-DD HH:MM:SS</c> (the common cases), with the date's day number cached.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ParseDateFast(ReadOnlySpan<byte> s, ref int pos, out long nanos)
    {
        nanos = 0;
        var rest = s[pos..];
        if (rest.Length < 10 || rest[4] != '-' || rest[7] != '-')
        {
            return false;
        }

        var datePart = rest[..10];
        if (!datePart.SequenceEqual(_lastDateText))
        {
            if (!Timestamp.TryParseIso(datePart, out var day))
            {
                return false;
            }

            datePart.CopyTo(_lastDateText);
            _lastDateNanos = day.UnixNanos;
        }

        nanos = _lastDateNanos;
        int used = 10;
        if (rest.Length > 10 && rest[10] != ',')
        {
            if (rest.Length < 19 || (rest[10] != ' ' && rest[10] != 'T') || (rest.Length > 19 && rest[19] != ',')
                || !ClockDigits(rest.Slice(11, 8), out long clock))
            {
                return false;
            }

            nanos += clock;
            used = 19;
        }

        pos += used;
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool ParseClockFast(ReadOnlySpan<byte> s, ref int pos, out long nanos)
    {
        var rest = s[pos..];
        if (rest.Length >= 8 && (rest.Length == 8 || rest[8] == ',') && ClockDigits(rest[..8], out nanos))
        {
            pos += 8;
            return true;
        }

        if (TryParseClock(rest.Length >= 5 && (rest.Length == 5 || rest[5] == ',') ? rest[..5] : default, out nanos))
        {
            pos += 5;
            return true;
        }

        return false;
    }

    /// <summary><c>HH:MM:SS</c> in exactly 8 bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool ClockDigits(ReadOnlySpan<byte> t, out long nanos)
    {
        unchecked
        {
            nanos = 0;
            if (t.Length != 8 || t[2] != ':' || t[5] != ':')
            {
                return false;
            }

            uint h1 = (uint)(t[0] - '0'), h2 = (uint)(t[1] - '0'), m1 = (uint)(t[3] - '0'), m2 = (uint)(t[4] - '0'), s1 = (uint)(t[6] - '0'), s2 = (uint)(t[7] - '0');
            if (h1 > 9 || h2 > 9 || m1 > 9 || m2 > 9 || s1 > 9 || s2 > 9)
            {
                return false;
            }

            uint h = (h1 * 10) + h2, m = (m1 * 10) + m2, sec = (s1 * 10) + s2;
            if (h > 23 || m > 59 || sec > 59)
            {
                return false;
            }

            nanos = (((h * 3600L) + (m * 60L)) + sec) * Timestamp.NanosPerSecond;
            return true;
        }
    }

    /// <summary>
    /// The slow path: splits the row and checks every field, throwing a precise error on the first problem. False for a
    /// row skipped as one of Yahoo's missing days.
    /// </summary>
    private bool ParseRowCarefully(ReadOnlySpan<byte> line, out Bar bar)
    {
        int fields = Split(line);
        if (fields != _fieldCount)
        {
            throw Fail(Line, 0, $"has {fields} fields; the header has {_fieldCount} ({string.Join(",", _names)})");
        }

        if (!Strict && Format == BarFileFormat.Yahoo && IsNullRow(line))
        {
            SkippedRows++;
            if (FirstSkippedLine == 0)
            {
                FirstSkippedLine = Line;
            }

            bar = default;
            return false;
        }

        long time = ParseTime(line);
        if (time <= _previous)
        {
            throw Fail(Line, _dateCol + 1, time == _previous
                ? $"time {Timestamp.FromUnixNanos(time)} repeats the previous row's time"
                : $"time {Timestamp.FromUnixNanos(time)} is before the previous row's {Timestamp.FromUnixNanos(_previous)} (rows must be in ascending time order)");
        }

        var open = ParsePrice(line, _openCol);
        var high = ParsePrice(line, _highCol);
        var low = ParsePrice(line, _lowCol);
        var close = ParsePrice(line, _closeCol);
        var volume = Quantity.Zero;
        if (_volumeCol >= 0)
        {
            var f = Trim(Field(line, _volumeCol));
            if (!f.IsEmpty && !Quantity.TryParse(f, out volume))
            {
                throw Fail(Line, _volumeCol + 1, $"'{Encoding.UTF8.GetString(f)}' is not a number");
            }

            if (volume.IsNegative)
            {
                throw Fail(Line, _volumeCol + 1, $"volume was {volume}; it must not be negative");
            }
        }

        if (high < low)
        {
            throw Fail(Line, _highCol + 1, $"high {high} is below low {low}");
        }

        if (open > high || open < low)
        {
            throw Fail(Line, _openCol + 1, $"open {open} is outside the bar's range {low}..{high}");
        }

        if (close > high || close < low)
        {
            throw Fail(Line, _closeCol + 1, $"close {close} is outside the bar's range {low}..{high}");
        }

        _previous = time;
        bar = new Bar(_instrument, Timestamp.FromUnixNanos(time), open, high, low, close, volume);
        return true;
    }

    /// <summary>Yahoo writes a day it has no prices for as <c>2019-04-18,null,null,null,null,null,null</c>.</summary>
    private bool IsNullRow(ReadOnlySpan<byte> line) =>
        IsNull(Trim(Field(line, _openCol))) && IsNull(Trim(Field(line, _highCol))) && IsNull(Trim(Field(line, _lowCol))) && IsNull(Trim(Field(line, _closeCol)));

    private static bool IsNull(ReadOnlySpan<byte> field) => System.Text.Ascii.EqualsIgnoreCase(field, "null"u8);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Price ParsePrice(ReadOnlySpan<byte> line, int col)
    {
        var f = Trim(Field(line, col));
        if (!Price.TryParse(f, out var price))
        {
            throw Fail(Line, col + 1, f.IsEmpty ? "is empty; a price is required" : $"'{Encoding.UTF8.GetString(f)}' is not a number");
        }

        if (price.Raw <= 0)
        {
            throw Fail(Line, col + 1, $"price was {price}; it must be positive");
        }

        return price;
    }

    private long ParseTime(ReadOnlySpan<byte> line)
    {
        var date = Trim(Field(line, _dateCol));
        Timestamp ts;
        if (_timeCol >= 0)
        {
            var time = Trim(Field(line, _timeCol));
            if (!TryParseDate(date, out ts))
            {
                throw Fail(Line, _dateCol + 1, $"'{Encoding.UTF8.GetString(date)}' is not a date (expected YYYY-MM-DD)");
            }

            if (!TryParseClock(time, out long nanos))
            {
                throw Fail(Line, _timeCol + 1, $"'{Encoding.UTF8.GetString(time)}' is not a time of day (expected HH:MM[:SS])");
            }

            return ts.UnixNanos + nanos;
        }

        if (!TryParseDateTime(date, out ts))
        {
            throw Fail(Line, _dateCol + 1, $"'{Encoding.UTF8.GetString(date)}' is not a date/time (expected YYYY-MM-DD[ HH:MM:SS], ISO 8601 or Unix seconds)");
        }

        return ts.UnixNanos;
    }

    private static bool TryParseDate(ReadOnlySpan<byte> s, out Timestamp ts)
    {
        ts = default;
        return s.Length == 10 && Timestamp.TryParseIso(s, out ts);
    }

    private static bool TryParseClock(ReadOnlySpan<byte> s, out long nanos)
    {
        nanos = 0;
        if (s.Length is not (5 or 8) || s[2] != ':' || (s.Length == 8 && s[5] != ':'))
        {
            return false;
        }

        if (!Timestamp.Digits(s, 0, 2, out int h) || !Timestamp.Digits(s, 3, 2, out int m))
        {
            return false;
        }

        int sec = 0;
        if (s.Length == 8 && !Timestamp.Digits(s, 6, 2, out sec))
        {
            return false;
        }

        if (h > 23 || m > 59 || sec > 59)
        {
            return false;
        }

        nanos = (h * Timestamp.NanosPerHour) + (m * Timestamp.NanosPerMinute) + (sec * Timestamp.NanosPerSecond);
        return true;
    }

    private static bool TryParseDateTime(ReadOnlySpan<byte> s, out Timestamp ts)
    {
        if (Timestamp.TryParseIso(s, out ts))
        {
            return true;
        }

        // Unix seconds (up to 11 digits) or milliseconds (12–13 digits).
        if (s.Length is >= 1 and <= 13 && s.IndexOfAnyExceptInRange((byte)'0', (byte)'9') < 0)
        {
            long v = 0;
            foreach (byte b in s)
            {
                v = (v * 10) + (b - '0');
            }

            ts = s.Length <= 11 ? Timestamp.FromUnixSeconds(v) : Timestamp.FromUnixNanos(v * 1_000_000);
            return true;
        }

        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> f)
    {
        if (f.Length > 0 && (f[0] == ' ' || f[0] == '"' || f[^1] == ' ' || f[^1] == '"'))
        {
            f = f.Trim((byte)' ').Trim((byte)'"');
        }

        return f;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Split(ReadOnlySpan<byte> line)
    {
        int count = 0;
        int pos = 0;
        var starts = _fieldStart;
        var ends = _fieldEnd;
        while (true)
        {
            int comma = line[pos..].IndexOf((byte)',');
            if (count >= starts.Length)
            {
                return count + 1;
            }

            starts[count] = pos;
            if (comma < 0)
            {
                ends[count] = line.Length;
                return count + 1;
            }

            ends[count] = pos + comma;
            pos += comma + 1;
            count++;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool NextLine(out ReadOnlySpan<byte> line)
    {
        while (true)
        {
            var window = _buffer.AsSpan(_start, _end - _start);
            int nl = window.IndexOf((byte)'\n');
            if (nl >= 0)
            {
                line = window[..nl];
                _start += nl + 1;
                _consumed += nl + 1;
                Line++;
                if (!line.IsEmpty && line[^1] == '\r')
                {
                    line = line[..^1];
                }

                return true;
            }

            if (_eof)
            {
                if (window.IsEmpty)
                {
                    line = default;
                    return false;
                }

                line = window;
                _consumed += window.Length;
                _start = _end;
                Line++;
                if (line[^1] == '\r')
                {
                    line = line[..^1];
                }

                return true;
            }

            Fill();
        }
    }

    private void Fill()
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        if (_end == _buffer.Length)
        {
            if (_buffer.Length >= MaxLine * 64)
            {
                throw Fail(Line + 1, 0, $"is longer than {_buffer.Length} bytes; is this a CSV file?");
            }

            Array.Resize(ref _buffer, _buffer.Length * 2);
        }

        int n;
        try
        {
            n = _stream.Read(_buffer, _end, _buffer.Length - _end);
        }
        catch (IOException ex)
        {
            throw Fail(Line + 1, 0, $"could not be read: {ex.Message}");
        }

        if (n == 0)
        {
            _eof = true;
        }
        else
        {
            _end += n;
        }
    }

    private DataFormatException Fail(long line, int column, string problem) =>
        new(_source, line, column, column > 0 && column <= _names.Length ? _names[column - 1] : null, problem);
}
