using DePin.Abstractions.Jobs;

namespace DePin.Abstractions.Clients;

/// <summary>
/// The jobs of one API key (key: key id). Not reentrant, so a key's submissions are serialised: it enforces the key's
/// quotas (running jobs, queued units), remembers its recent job ids (bounded) for <c>GET /jobs</c>, and answers a
/// repeated <c>Idempotency-Key</c> with the job it created the first time.
/// </summary>
[Alias("depin.IClientGrain")]
public interface IClientGrain : IGrainWithStringKey
{
    /// <summary>Submits a job owned by this key, within its quotas.</summary>
    [Alias("Submit")] Task<ClientSubmitOutcome> SubmitAsync(ClientSubmission submission);

    /// <summary>This key's recent jobs, newest first, with fresh statuses.</summary>
    [Alias("ListJobs")] Task<IReadOnlyList<JobSummary>> ListJobsAsync(JobStatus? status, int offset, int limit);
}

/// <summary>A job submission through an API key.</summary>
/// <param name="Request">The job; its owner is set by the client grain.</param>
/// <param name="IdempotencyKey">The <c>Idempotency-Key</c> header, if any.</param>
/// <param name="RequestHash">A digest of the request, to tell a retry (same body) from a different request under the same idempotency key.</param>
[GenerateSerializer, Immutable, Alias("depin.ClientSubmission")]
public sealed record ClientSubmission(
    [property: Id(0)] JobRequest Request,
    [property: Id(1)] string? IdempotencyKey,
    [property: Id(2)] string? RequestHash);

/// <summary>Outcome of <see cref="IClientGrain.SubmitAsync"/>.</summary>
[GenerateSerializer, Immutable, Alias("depin.ClientSubmitOutcome")]
public sealed record ClientSubmitOutcome(
    [property: Id(0)] ClientSubmitStatus Status,
    [property: Id(1)] JobView? Job,
    [property: Id(2)] string? Error,
    [property: Id(3)] TimeSpan? RetryAfter);

/// <summary>What happened to a submission.</summary>
public enum ClientSubmitStatus
{
    /// <summary>A new job was created.</summary>
    Accepted = 1,
    /// <summary>The same request came with the same idempotency key before: this is that job, nothing new was created.</summary>
    Replayed = 2,
    /// <summary>The job is invalid (the catalog or the scheduler refused it); nothing was written.</summary>
    Refused = 3,
    /// <summary>The key is at its quota of running jobs or queued units; nothing was written. Retry later.</summary>
    QuotaExceeded = 4,
    /// <summary>The idempotency key was used before with a different request.</summary>
    IdempotencyConflict = 5,
}
