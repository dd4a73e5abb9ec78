using System.Collections.Concurrent;
using DePin.Abstractions.Jobs;

namespace DePin.Grains.Jobs;

/// <summary>
/// The rows of the job directory, one entry per job, written one at a time: a job's state transition costs a write of
/// its row, not of its directory shard (which Orleans' grain state would rewrite whole, growing with the shard).
/// </summary>
public interface IJobIndexStore
{
    /// <summary>Every row of a directory shard.</summary>
    Task<IReadOnlyList<JobSummary>> LoadAsync(int shard);

    /// <summary>Adds or replaces one row.</summary>
    Task UpsertAsync(int shard, JobSummary summary);

    /// <summary>Removes rows (jobs past their retention).</summary>
    Task RemoveAsync(int shard, IReadOnlyList<string> jobIds);
}

/// <summary>Embedded default: rows in silo memory.</summary>
public sealed class MemoryJobIndexStore : IJobIndexStore
{
    private readonly ConcurrentDictionary<int, ConcurrentDictionary<string, JobSummary>> _shards = new();

    /// <inheritdoc />
    public Task<IReadOnlyList<JobSummary>> LoadAsync(int shard) =>
        Task.FromResult<IReadOnlyList<JobSummary>>(_shards.TryGetValue(shard, out var rows) ? [.. rows.Values] : []);

    /// <inheritdoc />
    public Task UpsertAsync(int shard, JobSummary summary)
    {
        _shards.GetOrAdd(shard, _ => new ConcurrentDictionary<string, JobSummary>(StringComparer.Ordinal))[summary.JobId] = summary;
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task RemoveAsync(int shard, IReadOnlyList<string> jobIds)
    {
        if (_shards.TryGetValue(shard, out var rows))
        {
            foreach (var id in jobIds) rows.TryRemove(id, out _);
        }
        return Task.CompletedTask;
    }
}
