using Keel.Domain;
using Npgsql;
using NpgsqlTypes;

namespace Keel.Storage;

/// <summary>
/// Shared sweeps on PostgreSQL: a sweep's combinations are rows of <c>sweep_jobs</c>; workers on any node claim them one
/// at a time with <c>FOR UPDATE SKIP LOCKED</c> (never the same row twice at once) under a lease in the database's own
/// clock, so a worker that dies gives its combination back when the lease runs out.
/// </summary>
public sealed partial class PostgresStore
{
    /// <summary>The database's clock in Unix nanoseconds: every node's leases are measured against the same clock.</summary>
    private const string Now = "(extract(epoch from clock_timestamp()) * 1000000000)::bigint";

    public override bool SharesSweeps => true;

    public override void EnqueueSweep(string runId, IReadOnlyList<long> combinations, Timestamp? trainUntil) => Run("queue the sweep's combinations", c =>
    {
        using var cmd = new NpgsqlCommand("""
            INSERT INTO sweep_jobs (run_id, idx, combination, train_until)
            SELECT @run, i - 1, c, @until FROM unnest(@combinations) WITH ORDINALITY AS t(c, i)
            """, c);
        cmd.Parameters.AddWithValue("run", runId);
        cmd.Parameters.AddWithValue("combinations", NpgsqlDbType.Array | NpgsqlDbType.Bigint, combinations.ToArray());
        cmd.Parameters.AddWithValue("until", NpgsqlDbType.Bigint, (object?)trainUntil?.UnixNanos ?? DBNull.Value);
        cmd.ExecuteNonQuery();
    });

    public override SweepJob? ClaimSweepJob(string worker, TimeSpan lease, string? runId = null) => Run("claim a sweep combination", c =>
    {
        using var cmd = new NpgsqlCommand($"""
            UPDATE sweep_jobs j SET state = 'claimed', worker = @worker, lease_until = {Now} + @lease, attempts = j.attempts + 1
            FROM (
                SELECT s.run_id, s.idx FROM sweep_jobs s JOIN runs r ON r.id = s.run_id
                WHERE r.status = 'running' AND (@run::text IS NULL OR s.run_id = @run)
                  AND (s.state = 'queued' OR (s.state = 'claimed' AND s.lease_until < {Now}))
                ORDER BY s.run_id, s.idx
                LIMIT 1
                FOR UPDATE OF s SKIP LOCKED
            ) pick
            WHERE j.run_id = pick.run_id AND j.idx = pick.idx
            RETURNING j.run_id, j.idx, j.combination, j.train_until, (SELECT spec FROM runs WHERE id = j.run_id)
            """, c);
        cmd.Parameters.AddWithValue("worker", worker);
        cmd.Parameters.AddWithValue("lease", (long)lease.TotalMilliseconds * 1_000_000);
        cmd.Parameters.AddWithValue("run", NpgsqlDbType.Text, (object?)runId ?? DBNull.Value);
        using var r = cmd.ExecuteReader();
        return r.Read()
            ? new SweepJob(r.GetString(0), r.GetInt32(1), r.GetInt64(2), r.IsDBNull(3) ? null : Timestamp.FromUnixNanos(r.GetInt64(3)), r.GetString(4), worker)
            : null;
    });

    public override bool RenewSweepLease(SweepJob job, TimeSpan lease) => Run("renew a sweep lease", c =>
    {
        using var cmd = new NpgsqlCommand($"UPDATE sweep_jobs SET lease_until = {Now} + @lease WHERE run_id = @run AND idx = @idx AND worker = @worker AND state = 'claimed'", c);
        cmd.Parameters.AddWithValue("lease", (long)lease.TotalMilliseconds * 1_000_000);
        cmd.Parameters.AddWithValue("run", job.RunId);
        cmd.Parameters.AddWithValue("idx", job.Index);
        cmd.Parameters.AddWithValue("worker", job.Worker);
        return cmd.ExecuteNonQuery() == 1;
    });

    public override void CompleteSweepJob(SweepJob job, string result) => Run("store a sweep result", c =>
    {
        using var cmd = new NpgsqlCommand("UPDATE sweep_jobs SET state = 'done', result = @result, worker = @worker, lease_until = NULL WHERE run_id = @run AND idx = @idx AND state <> 'done'", c);
        cmd.Parameters.AddWithValue("result", result);
        cmd.Parameters.AddWithValue("worker", job.Worker);
        cmd.Parameters.AddWithValue("run", job.RunId);
        cmd.Parameters.AddWithValue("idx", job.Index);
        cmd.ExecuteNonQuery();
    });

    public override (long Total, long Done) SweepProgress(string runId) => Run("read the sweep's progress", c =>
    {
        using var cmd = new NpgsqlCommand("SELECT COUNT(*), COUNT(*) FILTER (WHERE state = 'done') FROM sweep_jobs WHERE run_id = @run", c);
        cmd.Parameters.AddWithValue("run", runId);
        using var r = cmd.ExecuteReader();
        r.Read();
        return (r.GetInt64(0), r.GetInt64(1));
    });

    public override IReadOnlyList<(int Index, string Result)> SweepResults(string runId) => Run("read the sweep's results", c =>
    {
        using var cmd = new NpgsqlCommand("SELECT idx, result FROM sweep_jobs WHERE run_id = @run AND state = 'done' ORDER BY idx", c);
        cmd.Parameters.AddWithValue("run", runId);
        using var r = cmd.ExecuteReader();
        var list = new List<(int, string)>();
        while (r.Read())
        {
            list.Add((r.GetInt32(0), r.GetString(1)));
        }

        return list;
    });

    /// <summary>Which workers stored how many results of a sweep (tests, status).</summary>
    public IReadOnlyDictionary<string, long> SweepWorkers(string runId) => Run("read the sweep's workers", c =>
    {
        using var cmd = new NpgsqlCommand("SELECT worker, COUNT(*) FROM sweep_jobs WHERE run_id = @run AND state = 'done' GROUP BY worker", c);
        cmd.Parameters.AddWithValue("run", runId);
        using var r = cmd.ExecuteReader();
        var map = new Dictionary<string, long>(StringComparer.Ordinal);
        while (r.Read())
        {
            map[r.GetString(0)] = r.GetInt64(1);
        }

        return (IReadOnlyDictionary<string, long>)map;
    });

}
