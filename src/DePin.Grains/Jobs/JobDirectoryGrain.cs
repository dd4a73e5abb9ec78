using DePin.Abstractions.Jobs;

namespace DePin.Grains.Jobs;

/// <summary>Persistent state of the <see cref="JobDirectoryGrain"/>.</summary>
[GenerateSerializer, Alias("depin.JobDirectoryState")]
public sealed class JobDirectoryState
{
    [Id(0)] public Dictionary<string, JobSummary> Jobs { get; set; } = [];
}

/// <summary>One shard of the job list. Written on job state transitions only (a handful per job), never per unit.</summary>
public sealed class JobDirectoryGrain(
    [PersistentState("jobs", StorageNames.Store)] IPersistentState<JobDirectoryState> state) : Grain, IJobDirectoryGrain
{
    async Task IJobDirectoryGrain.UpsertAsync(JobSummary summary)
    {
        state.State.Jobs[summary.JobId] = summary;
        await state.WriteStateAsync();
    }

    Task<IReadOnlyList<JobSummary>> IJobDirectoryGrain.ListAsync(JobStatus? status, int offset, int limit) =>
        Task.FromResult<IReadOnlyList<JobSummary>>([.. state.State.Jobs.Values
            .Where(j => status is null || j.Status == status)
            .OrderByDescending(j => j.SubmittedAt)
            .ThenBy(j => j.JobId, StringComparer.Ordinal)
            .Skip(Math.Max(0, offset))
            .Take(Math.Clamp(limit, 0, 101_000))]);
}

/// <summary>Reads across the job directory shards.</summary>
public static class JobDirectory
{
    /// <summary>Newest first: each shard returns its first offset+limit matches, and the merge pages them.</summary>
    public static async Task<IReadOnlyList<JobSummary>> ListAsync(IGrainFactory grains, JobStatus? status, int offset, int limit)
    {
        var window = Math.Clamp(offset, 0, 100_000) + Math.Clamp(limit, 0, 1000);
        var shards = await Task.WhenAll(Enumerable.Range(0, DePin.Abstractions.DirectoryShards.Count)
            .Select(s => grains.GetGrain<IJobDirectoryGrain>(s).ListAsync(status, 0, window)));
        return [.. shards.SelectMany(s => s)
            .OrderByDescending(j => j.SubmittedAt)
            .ThenBy(j => j.JobId, StringComparer.Ordinal)
            .Skip(Math.Max(0, offset))
            .Take(Math.Clamp(limit, 0, 1000))];
    }
}
