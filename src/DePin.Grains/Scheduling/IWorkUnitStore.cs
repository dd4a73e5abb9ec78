using DePin.Abstractions.Scheduling;

namespace DePin.Grains.Scheduling;

/// <summary>
/// Durable record of a queue shard's units. A shard writes deltas (changed and removed units) per batch instead of
/// rewriting its whole state, so the cost of a write does not grow with the queue. Leases are not stored: after a
/// shard restarts, outstanding leases are void and their units are ready again (a result for a void lease is ignored).
/// </summary>
public interface IWorkUnitStore
{
    /// <summary>Everything stored for a shard.</summary>
    Task<ShardSnapshot> LoadAsync(int shard);

    /// <summary>Applies one batch of changes atomically enough that a crash loses at most this batch.</summary>
    Task SaveAsync(int shard, ShardDelta delta);
}

/// <summary>
/// A stored unit still to be verified: its input, attempts so far, replica results that did not reach a quorum yet,
/// and the nodes that failed it (never leased it again; null when none).
/// </summary>
[GenerateSerializer, Immutable, Alias("depin.StoredUnit")]
public sealed record StoredUnit(
    [property: Id(0)] WorkUnitId Id,
    [property: Id(1)] byte[] Input,
    [property: Id(2)] int Attempts,
    [property: Id(3)] DateTimeOffset EnqueuedAt,
    [property: Id(4)] IReadOnlyList<ReplicaResult> Replicas,
    [property: Id(5)] IReadOnlyList<string>? FailedNodes = null);

/// <summary>One node's output for a unit.</summary>
[GenerateSerializer, Immutable, Alias("depin.ReplicaResult")]
public sealed record ReplicaResult(
    [property: Id(0)] string NodeId,
    [property: Id(1)] string Digest,
    [property: Id(2)] byte[] Output);

/// <summary>A job as a shard knows it.</summary>
[GenerateSerializer, Immutable, Alias("depin.ShardJob")]
public sealed record ShardJob(
    [property: Id(0)] string JobId,
    [property: Id(1)] string Kernel,
    [property: Id(2)] string CanonicalParameters,
    [property: Id(3)] int UnitCount,
    [property: Id(4)] int Redundancy,
    [property: Id(5)] int Priority,
    [property: Id(6)] long PricePerUnitMicroCredits,
    [property: Id(7)] DePin.Abstractions.Jobs.JobRequirements? Requirements = null);

/// <summary>A shard's stored jobs and units.</summary>
public sealed record ShardSnapshot(IReadOnlyList<ShardJob> Jobs, IReadOnlyList<StoredUnit> Units);

/// <summary>Changes to apply to a shard's stored state.</summary>
public sealed record ShardDelta(
    IReadOnlyList<ShardJob> UpsertJobs,
    IReadOnlyList<string> RemoveJobs,
    IReadOnlyList<StoredUnit> UpsertUnits,
    IReadOnlyList<WorkUnitId> RemoveUnits)
{
    /// <summary>True when nothing changed.</summary>
    public bool IsEmpty => UpsertJobs.Count == 0 && RemoveJobs.Count == 0 && UpsertUnits.Count == 0 && RemoveUnits.Count == 0;
}
