using System.Runtime.CompilerServices;

namespace Keel.Domain;

/// <summary>
/// Per-instrument state keyed by <see cref="InstrumentId"/>, with a one-entry cache so the common case (the same
/// instrument as last time) costs a reference comparison instead of a hash lookup. Values keep insertion order,
/// so iteration is deterministic.
/// </summary>
public sealed class InstrumentMap<T>
    where T : class
{
    private readonly Dictionary<InstrumentId, T> _items = [];
    private readonly List<T> _values = [];
    private string? _lastSymbol;
    private T? _last;

    public int Count => _values.Count;

    /// <summary>The values in the order they were added.</summary>
    public IReadOnlyList<T> Values => _values;

    /// <summary>The values as a span, for allocation-free iteration on hot paths (do not add while iterating).</summary>
    public ReadOnlySpan<T> AsSpan() => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_values);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T? Find(InstrumentId instrument)
    {
        if (_last is not null && ReferenceEquals(_lastSymbol, instrument.Symbol))
        {
            return _last;
        }

        return FindSlow(instrument);
    }

    public T GetOrAdd(InstrumentId instrument, Func<InstrumentId, T> create)
    {
        var found = Find(instrument);
        if (found is not null)
        {
            return found;
        }

        var value = create(instrument);
        Add(instrument, value);
        return value;
    }

    public void Add(InstrumentId instrument, T value)
    {
        _items.Add(instrument, value);
        _values.Add(value);
        _lastSymbol = instrument.Symbol;
        _last = value;
    }

    public void Clear()
    {
        _items.Clear();
        _values.Clear();
        _lastSymbol = null;
        _last = null;
    }

    private T? FindSlow(InstrumentId instrument)
    {
        if (_items.TryGetValue(instrument, out var value))
        {
            _lastSymbol = instrument.Symbol;
            _last = value;
            return value;
        }

        return null;
    }
}
