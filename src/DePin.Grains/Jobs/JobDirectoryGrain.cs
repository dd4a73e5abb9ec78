using DePin.Abstractions.Jobs;

namespace DePin.Grains.Jobs;

/// <summary>Persistent state of the <see cref="JobDirectoryGrain"/>.</summary>
[GenerateSerializer, Alias("depin.JobDirectoryState")]
public sealed class JobDirectoryState
{
    [Id(0)] public Dictionary<string, JobSummary> Jobs { get; set; } = [];
}

/// <summary>The job list. Written on job state transitions only (a handful per job), never per unit.</summary>
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
            .Take(Math.Clamp(limit, 0, 1000))]);
}
