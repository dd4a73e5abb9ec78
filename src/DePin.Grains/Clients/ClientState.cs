using DePin.Abstractions.Jobs;

namespace DePin.Grains.Clients;

/// <summary>Persistent state of a <see cref="ClientGrain"/>.</summary>
[GenerateSerializer, Alias("depin.ClientState")]
public sealed class ClientState
{
    /// <summary>The key's most recent jobs, oldest first (at most <see cref="ClientGrain.RecentJobs"/>).</summary>
    [Id(0)] public List<JobSummary> Recent { get; set; } = [];

    /// <summary>Unfinished jobs as last seen: job id → units not yet verified. Counted against the quotas.</summary>
    [Id(1)] public Dictionary<string, int> Active { get; set; } = [];

    /// <summary>Idempotency keys seen in the last <see cref="ClientGrain.IdempotencyWindow"/> (at most <see cref="ClientGrain.IdempotencyKeys"/>).</summary>
    [Id(2)] public Dictionary<string, IdempotentSubmission> Idempotency { get; set; } = [];
}

/// <summary>What one Idempotency-Key created: the request's digest and the job.</summary>
[GenerateSerializer, Immutable, Alias("depin.IdempotentSubmission")]
public sealed record IdempotentSubmission(
    [property: Id(0)] string RequestHash,
    [property: Id(1)] string JobId,
    [property: Id(2)] DateTimeOffset At);
