namespace Keel.Indicators;

/// <summary>
/// A treap over the integers of a sliding window, one node per window slot, keeping each subtree's size and sum, so
/// "how many values are at most t, and what do they add up to" costs O(log n). That is what the mean absolute
/// deviation about a moving mean needs (CCI): no sliding-window formula exists for it, and re-scanning the window
/// would cost O(n) per update. Everything is exact integer arithmetic; nodes live in preallocated arrays.
/// </summary>
internal sealed class OrderStatisticTree
{
    private readonly long[] _key;
    private readonly ulong[] _priority;
    private readonly int[] _left;
    private readonly int[] _right;
    private readonly int[] _size;
    private readonly long[] _sum;
    private int _root = -1;

    public OrderStatisticTree(int capacity)
    {
        _key = new long[capacity];
        _priority = new ulong[capacity];
        _left = new int[capacity];
        _right = new int[capacity];
        _size = new int[capacity];
        _sum = new long[capacity];

        // Fixed pseudo-random priorities (SplitMix64): deterministic, and balanced in expectation whatever the keys.
        ulong state = 0x4B45454C;
        for (int i = 0; i < capacity; i++)
        {
            unchecked
            {
                state += 0x9E3779B97F4A7C15UL;
                ulong z = state;
                z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
                z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
                _priority[i] = z ^ (z >> 31);
            }
        }
    }

    public int Count => _root < 0 ? 0 : _size[_root];

    public long Total => _root < 0 ? 0 : _sum[_root];

    /// <summary>Puts slot <paramref name="node"/> (not in the tree) into it with <paramref name="key"/>.</summary>
    public void Insert(int node, long key)
    {
        _key[node] = key;
        _left[node] = -1;
        _right[node] = -1;
        _size[node] = 1;
        _sum[node] = key;
        int rest = Split(_root, key, node, inclusive: false, out int less);
        _root = Merge(Merge(less, node), rest);
    }

    /// <summary>Takes slot <paramref name="node"/> (in the tree) out of it.</summary>
    public void Remove(int node)
    {
        long key = _key[node];
        int rest = Split(_root, key, node, inclusive: false, out int less);
        int greater = Split(rest, key, node, inclusive: true, out _);
        _root = Merge(less, greater);
    }

    /// <summary>How many keys are at most <paramref name="threshold"/>, and their sum.</summary>
    public void AtMost(long threshold, out int count, out long sum)
    {
        int c = 0;
        long total = 0;
        int t = _root;
        while (t >= 0)
        {
            if (_key[t] <= threshold)
            {
                int l = _left[t];
                if (l >= 0)
                {
                    c += _size[l];
                    total += _sum[l];
                }

                c++;
                total += _key[t];
                t = _right[t];
            }
            else
            {
                t = _left[t];
            }
        }

        count = c;
        sum = total;
    }

    public void Clear() => _root = -1;

    // Nodes ordered by (key, slot): unique even when keys repeat, so a slot can be found and removed exactly.
    // Returns the right part; the left part goes to <paramref name="left"/>.
    private int Split(int t, long key, int node, bool inclusive, out int left)
    {
        if (t < 0)
        {
            left = -1;
            return -1;
        }

        long k = _key[t];
        int l;
        int r;
        if (k < key || (k == key && (inclusive ? t <= node : t < node)))
        {
            // t and its left subtree go left; its right subtree is split.
            r = Split(_right[t], key, node, inclusive, out l);
            _right[t] = l;
            Pull(t);
            left = t;
            return r;
        }

        r = Split(_left[t], key, node, inclusive, out l);
        _left[t] = r;
        Pull(t);
        left = l;
        return t;
    }

    private int Merge(int a, int b)
    {
        if (a < 0)
        {
            return b;
        }

        if (b < 0)
        {
            return a;
        }

        if (_priority[a] > _priority[b])
        {
            _right[a] = Merge(_right[a], b);
            Pull(a);
            return a;
        }

        _left[b] = Merge(a, _left[b]);
        Pull(b);
        return b;
    }

    private void Pull(int t)
    {
        int l = _left[t];
        int r = _right[t];
        _size[t] = 1 + (l < 0 ? 0 : _size[l]) + (r < 0 ? 0 : _size[r]);
        _sum[t] = _key[t] + (l < 0 ? 0 : _sum[l]) + (r < 0 ? 0 : _sum[r]);
    }
}
