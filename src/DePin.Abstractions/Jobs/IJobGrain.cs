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

    /// <summary>
    /// The job's own check that it will finish: an unfinished job with no progress for <c>Scheduler:ReconcileAfter</c>
    /// asks its shards which units they hold and queues again every unit found nowhere; a finished job finishes paying.
    /// Called by its timer and by the job directory's sweep (which revives jobs whose silo went away).
    /// </summary>
    [Alias("Reconcile")] Task<JobView?> ReconcileAsync();

    /// <summary>
    /// Deletes a finished job whose retention is over (and whose credits are all delivered). Returns true when the job
    /// is gone (deleted now, or never existed).
    /// </summary>
    [Alias("Expire")] Task<bool> ExpireAsync();
}
