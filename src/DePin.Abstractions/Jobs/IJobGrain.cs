using DePin.Abstractions.Scheduling;

namespace DePin.Abstractions.Jobs;

/// <summary>A client's job, keyed by job id. Owns the state machine, the verified unit outputs and the credits they earn.</summary>
[Alias("depin.IJobGrain")]
public interface IJobGrain : IGrainWithStringKey
{
    /// <summary>Validates, prices, persists and enqueues the job. A refusal writes nothing.</summary>
    [Alias("Submit")] Task<SubmitOutcome> SubmitAsync(JobRequest request);

    /// <summary>Current view, or null when the job does not exist.</summary>
    [Alias("Get")] Task<JobView?> GetAsync();

    /// <summary>The assembled result once Completed, else null.</summary>
    [Alias("GetResult")] Task<JobResult?> GetResultAsync();

    /// <summary>Cancels a non-terminal job: queued units are withdrawn and late results ignored.</summary>
    [Alias("Cancel")] Task<JobView?> CancelAsync();

    /// <summary>Called by queue shards when units start (first lease).</summary>
    [Alias("MarkStarted")] Task MarkStartedAsync();

    /// <summary>Verified unit outputs from a queue shard. Idempotent per unit index.</summary>
    [Alias("AcceptUnits")] Task AcceptUnitsAsync(IReadOnlyList<VerifiedUnit> units);

    /// <summary>A unit exhausted its attempts; the job fails.</summary>
    [Alias("FailUnit")] Task FailUnitAsync(int unitIndex, string reason);
}
