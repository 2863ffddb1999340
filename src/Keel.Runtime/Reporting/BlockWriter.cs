using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace Keel.Runtime.Reporting;

/// <summary>
/// Moves output work off the kernel thread: rows are collected into pooled blocks on the calling thread, and a
/// dedicated thread formats and writes each full block. A bounded pool gives back-pressure instead of unbounded
/// memory. An error on the writer thread is rethrown by <see cref="Complete"/>.
/// </summary>
public sealed class BlockWriter<T> : IDisposable
    where T : struct
{
    private readonly Action<T[], int> _write;
    private readonly BlockingCollection<(T[] Rows, int Count)> _full;
    private readonly BlockingCollection<T[]> _free;
    private readonly Thread _thread;
    private readonly object _gate = new();
    private T[] _current;
    private int _count;
    private long _handed;
    private long _written;
    private Exception? _error;
    private bool _completed;

    public BlockWriter(Action<T[], int> write, string name, int blockSize = 8192, int blocks = 4)
    {
        _write = write;
        _full = new BlockingCollection<(T[], int)>(blocks);
        _free = new BlockingCollection<T[]>(blocks);
        for (int i = 0; i < blocks - 1; i++)
        {
            _free.Add(new T[blockSize]);
        }

        _current = new T[blockSize];
        _thread = new Thread(Run) { IsBackground = true, Name = name };
        _thread.Start();
    }

    public void Add(in T row)
    {
        _current[_count++] = row;
        if (_count == _current.Length)
        {
            Hand();
        }
    }

    /// <summary>
    /// The next row's place in the block, to be filled in place and then counted with <see cref="Added"/>: the values
    /// are stored once, where the writer thread reads them, instead of built on the stack and copied.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref T Next() => ref _current[_count];

    /// <summary>Counts the row filled through <see cref="Next"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Added()
    {
        if (++_count == _current.Length)
        {
            Hand();
        }
    }

    /// <summary>Hands the rows collected so far and waits until the writer thread has written them all.</summary>
    public void Flush()
    {
        if (_count > 0 && _error is null)
        {
            Hand();
        }

        lock (_gate)
        {
            while (_written < _handed && _error is null)
            {
                Monitor.Wait(_gate);
            }
        }

        if (_error is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(_error).Throw();
        }
    }

    /// <summary>Writes what is left, waits for the writer thread, and rethrows its error if it failed.</summary>
    public void Complete()
    {
        if (_completed)
        {
            return;
        }

        _completed = true;
        if (_count > 0 && _error is null)
        {
            Hand();
        }

        _full.CompleteAdding();
        _thread.Join();
        if (_error is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(_error).Throw();
        }
    }

    private void Hand()
    {
        if (_error is not null)
        {
            _count = 0;
            return;
        }

        lock (_gate)
        {
            _handed++;
        }

        _full.Add((_current, _count));
        _current = _free.Take();
        _count = 0;
    }

    private void Run()
    {
        foreach (var (rows, count) in _full.GetConsumingEnumerable())
        {
            if (_error is null)
            {
                try
                {
                    _write(rows, count);
                }
                catch (Exception ex)
                {
                    _error = ex;
                }
            }

            _free.Add(rows);
            lock (_gate)
            {
                _written++;
                Monitor.PulseAll(_gate);
            }
        }
    }

    public void Dispose()
    {
        if (!_completed)
        {
            _completed = true;
            _full.CompleteAdding();
            _thread.Join();
        }

        _full.Dispose();
        _free.Dispose();
    }
}
