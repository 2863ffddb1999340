namespace Keel.Venues.Oanda.Trading;

/// <summary>
/// Splits a chunked NDJSON body into lines. A chunk may end mid-line (the official JS client crashes on exactly that,
/// oanda/v20-javascript #4): the unfinished part waits for the next chunk. Blank lines and a trailing <c>\r</c> are dropped.
/// </summary>
internal sealed class NdjsonLines
{
    private byte[] _pending = new byte[4096];
    private int _length;

    /// <summary>Bytes held back, waiting for their newline.</summary>
    public int Pending => _length;

    /// <summary>Adds a chunk and hands every line it completes to <paramref name="line"/>, in order.</summary>
    public void Push(ReadOnlySpan<byte> chunk, Action<ReadOnlyMemory<byte>> line)
    {
        while (!chunk.IsEmpty)
        {
            int newline = chunk.IndexOf((byte)'\n');
            var part = newline < 0 ? chunk : chunk[..newline];
            if (_length + part.Length > _pending.Length)
            {
                Array.Resize(ref _pending, Math.Max(_pending.Length * 2, _length + part.Length));
            }

            part.CopyTo(_pending.AsSpan(_length));
            _length += part.Length;
            if (newline < 0)
            {
                return;
            }

            var complete = _pending.AsSpan(0, _length).TrimEnd((byte)'\r');
            if (!complete.IsEmpty)
            {
                line(complete.ToArray());
            }

            _length = 0;
            chunk = chunk[(newline + 1)..];
        }
    }
}
