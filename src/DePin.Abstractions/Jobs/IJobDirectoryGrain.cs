namespace DePin.Abstractions.Jobs;

/// <summary>One shard of the index of jobs (key = <see cref="DirectoryShards.Of"/> of the job id). Updated on state transitions only, never per unit.</summary>
[Alias("depin.IJobDirectoryGrain")]
public interface IJobDirectoryGrain : IGrainWithIntegerKey
{
    [Alias("Upsert")] Task UpsertAsync(JobSummary summary);

    /// <summary>Newest first.</summary>
    [Alias("List")] Task<IReadOnlyList<JobSummary>> ListAsync(JobStatus? status, int offset, int limit);

    /// <summary>Revives the shard's unfinished jobs (so they reconcile) and deletes finished jobs past their retention.
    /// Runs on a reminder; callable for tests and operators.</summary>
    [Alias("Sweep")] Task SweepAsync();
}

/// <summary>A row in the job list.</summary>
[GenerateSerializer, Immutable, Alias("depin.JobSummary")]
public sealed record JobSummary(
    [property: Id(0)] string JobId,
    [property: Id(1)] string Kernel,
    [property: Id(2)] JobStatus Status,
    [property: Id(3)] int UnitCount,
    [property: Id(4)] DateTimeOffset SubmittedAt,
    [property: Id(5)] DateTimeOffset? FinishedAt = null);
