using Keel.Domain;
using Keel.Storage;

namespace Keel.Runtime;

/// <summary>Which recorded runs <see cref="RunCleanup.Prune"/> deletes: those matching every criterion given.</summary>
public sealed record PruneCriteria
{
    /// <summary>Only runs created longer ago than this.</summary>
    public TimeSpan? OlderThan { get; init; }

    /// <summary>Never the newest this many (of the runs the filter matches).</summary>
    public int? Keep { get; init; }

    public RunFilter Filter { get; init; } = RunFilter.Any;
}

/// <summary>
/// What deleting runs did: the runs deleted (or, for a dry run, that would be), the runs left alone because a Keel
/// process is running them, staging folders that could not be removed, and the space given back.
/// </summary>
public sealed record RunsDeleted(IReadOnlyList<RunRecord> Deleted, IReadOnlyList<RunRecord> Running, IReadOnlyList<string> Problems, StoreSpace? Space);

/// <summary>
/// Tidies the store: deletes runs with every record of them and their staging folder (<c>.keel-run-ID</c> in the run's
/// output folder; the result files beside it are the user's and stay), then reclaims the space. A run a process is
/// running (its run lock is held) is never deleted; a run whose process died may be.
/// </summary>
public static class RunCleanup
{
    /// <summary>
    /// Deletes the runs named (ids or unique prefixes). All or nothing: when one is unknown or running, nothing is
    /// deleted and a <see cref="UsageException"/> says which.
    /// </summary>
    public static RunsDeleted Delete(KeelStore store, IReadOnlyList<string> idsOrPrefixes, bool reclaim = true)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(idsOrPrefixes);
        var runs = new List<RunRecord>();
        foreach (var id in idsOrPrefixes)
        {
            var run = store.FindRun(id) ?? throw new UsageException($"no run {id} in {store.Describe} (see 'keel runs list'); nothing was deleted");
            if (!runs.Exists(r => r.Id == run.Id))
            {
                runs.Add(run);
            }
        }

        var locks = new List<IDisposable>();
        try
        {
            foreach (var run in runs)
            {
                locks.Add(store.TryLockRun(run.Id) ?? throw new UsageException(
                    $"run {run.Id} is being run by a Keel process right now (status {Lower(run.Status)}); stop it first. Nothing was deleted"));
            }

            var problems = new List<string>();
            foreach (var run in runs)
            {
                store.DeleteRun(run.Id);
                RemoveStaging(run, problems);
            }

            return new RunsDeleted(runs, [], problems, reclaim && runs.Count > 0 ? store.Reclaim() : null);
        }
        finally
        {
            locks.ForEach(l => l.Dispose());
        }
    }

    /// <summary>
    /// Deletes the runs <paramref name="criteria"/> selects, skipping (and reporting) any a process is running; with
    /// <paramref name="dryRun"/> only says which it would delete.
    /// </summary>
    public static RunsDeleted Prune(KeelStore store, PruneCriteria criteria, Timestamp now, bool dryRun = false)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(criteria);
        if (criteria.OlderThan is null && criteria.Keep is null)
        {
            throw new UsageException("prune needs --older-than AGE or --keep N (or both): which runs should go?");
        }

        var candidates = store.ListRuns(int.MaxValue, criteria.Filter).Skip(criteria.Keep ?? 0);
        if (criteria.OlderThan is TimeSpan age)
        {
            long cutoff = now.UnixNanos - (long)(age.TotalSeconds * Timestamp.NanosPerSecond);
            candidates = candidates.Where(r => r.CreatedAt.UnixNanos < cutoff);
        }

        var deleted = new List<RunRecord>();
        var running = new List<RunRecord>();
        var problems = new List<string>();
        foreach (var run in candidates.ToList())
        {
            using var held = store.TryLockRun(run.Id);
            if (held is null)
            {
                running.Add(run);
                continue;
            }

            if (!dryRun)
            {
                store.DeleteRun(run.Id);
                RemoveStaging(run, problems);
            }

            deleted.Add(run);
        }

        return new RunsDeleted(deleted, running, problems, !dryRun && deleted.Count > 0 ? store.Reclaim() : null);
    }

    /// <summary>The staging folder a recorded run writes its files into until it completes (kept while it can be resumed).</summary>
    public static string? StagingFolder(RunRecord run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return run.OutDir is null ? null : OutputFolder.StagingPath(run.OutDir, run.Id);
    }

    private static void RemoveStaging(RunRecord run, List<string> problems)
    {
        if (StagingFolder(run) is not string staging || !Directory.Exists(staging))
        {
            return;
        }

        try
        {
            Directory.Delete(staging, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            problems.Add($"could not remove the staging folder {staging} of run {run.Id}: {ex.Message}");
        }
    }

    private static string Lower(Keel.Engine.Persistence.RunStatus status) => status.ToString().ToLowerInvariant();
}
