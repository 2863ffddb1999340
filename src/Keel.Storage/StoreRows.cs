using System.Data.Common;
using Keel.Domain;
using Keel.Engine.Persistence;

namespace Keel.Storage;

/// <summary>
/// The rows both stores read the same way once their own SQL has selected the columns in this order (PostgreSQL casts
/// its numerics to text in the SELECT, so exact values arrive as the same text SQLite stores).
/// </summary>
internal static class StoreRows
{
    /// <summary>Every row of <paramref name="command"/>'s result, mapped by <paramref name="row"/>.</summary>
    public static List<T> All<T>(DbCommand command, Func<DbDataReader, T> row)
    {
        var list = new List<T>();
        using var r = command.ExecuteReader();
        while (r.Read())
        {
            list.Add(row(r));
        }

        return list;
    }

    /// <summary>The first row of <paramref name="command"/>'s result, or null when there is none.</summary>
    public static T? First<T>(DbCommand command, Func<DbDataReader, T> row)
        where T : class
    {
        using var r = command.ExecuteReader();
        return r.Read() ? row(r) : null;
    }

    /// <summary>seq, clock, kind, payload.</summary>
    public static InputRecord Input(DbDataReader r) =>
        new(r.GetInt64(0), Timestamp.FromUnixNanos(r.GetInt64(1)), (InputKind)r.GetInt16(2), r.GetString(3));

    /// <summary>seq, data_events, payload, checksum, created_at.</summary>
    public static SnapshotRecord Snapshot(DbDataReader r) =>
        new(r.GetInt64(0), r.GetInt64(1), r.GetString(2), r.GetString(3), Timestamp.FromUnixNanos(r.GetInt64(4)));

    /// <summary>instrument, quantity, cost_basis, realized_pnl, commissions, last_price (all as text), updated_at.</summary>
    public static StoredPosition Position(DbDataReader r) =>
        new(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5), Timestamp.FromUnixNanos(r.GetInt64(6)));

    /// <summary>seq, processed, total_return, pnl (text), win_rate, max_drawdown, sharpe, profit_factor, created_at.</summary>
    public static MetricsCheckpoint Checkpoint(DbDataReader r) =>
        new(r.GetInt64(0), r.GetInt64(1), r.GetDouble(2), Money.Parse(r.GetString(3)), NullableDouble(r, 4), r.GetDouble(5), NullableDouble(r, 6), NullableDouble(r, 7), Timestamp.FromUnixNanos(r.GetInt64(8)));

    public static double? NullableDouble(DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetDouble(i);
}
