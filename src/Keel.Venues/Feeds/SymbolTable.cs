using System.Text;
using Keel.Domain;

namespace Keel.Venues.Feeds;

/// <summary>
/// Symbol text on the wire → <see cref="InstrumentId"/>, without allocating for the symbols a feed streams (an unknown
/// one, e.g. from a wildcard subscription, is added on first sight).
/// </summary>
internal sealed class SymbolTable
{
    private readonly Dictionary<string, InstrumentId> _instruments = new(StringComparer.Ordinal);
    private readonly Dictionary<string, InstrumentId>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    public SymbolTable(IEnumerable<string> symbols)
    {
        foreach (var symbol in symbols)
        {
            _instruments[symbol] = new InstrumentId(symbol);
        }

        _lookup = _instruments.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>The instrument of a non-empty UTF-8 symbol.</summary>
    public InstrumentId Resolve(ReadOnlySpan<byte> utf8)
    {
        Span<char> chars = stackalloc char[64];
        if (utf8.Length <= chars.Length && Encoding.UTF8.TryGetChars(utf8, chars, out int n) && _lookup.TryGetValue(chars[..n], out var known))
        {
            return known;
        }

        var symbol = Encoding.UTF8.GetString(utf8);
        var id = new InstrumentId(symbol);
        _instruments[symbol] = id;
        return id;
    }
}
