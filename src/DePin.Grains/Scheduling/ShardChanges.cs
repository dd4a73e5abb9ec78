using DePin.Abstractions.Scheduling;

namespace DePin.Grains.Scheduling;

/// <summary>
/// What one call on a <see cref="UnitBook"/> changed: the delta the shard persists, then the messages it sends
/// (failed units to their jobs, replica outcomes to nodes, first leases to jobs).
/// </summary>
public sealed class ShardChanges
{
    public List<ShardJob> UpsertJobs { get; } = [];
    public List<string> RemoveJobs { get; } = [];
    public List<StoredUnit> UpsertUnits { get; } = [];
    public List<WorkUnitId> RemoveUnits { get; } = [];

    /// <summary>Units that failed for good; their jobs fail with the reason.</summary>
    public List<UnitFailure> Failures { get; } = [];

    /// <summary>Per node, its replicas that a verification agreed with or rejected (reputation).</summary>
    public Dictionary<string, (int Verified, int Rejected)> NodeOutcomes { get; } = [];

    /// <summary>Jobs whose first unit was leased.</summary>
    public List<string> StartedJobs { get; } = [];

    /// <summary>True when nothing is to be persisted.</summary>
    public bool IsEmpty => UpsertJobs.Count == 0 && RemoveJobs.Count == 0 && UpsertUnits.Count == 0 && RemoveUnits.Count == 0;

    /// <summary>The delta for <see cref="IWorkUnitStore.SaveAsync"/>.</summary>
    public ShardDelta ToDelta() => new(UpsertJobs, RemoveJobs, UpsertUnits, RemoveUnits);
}

/// <summary>A unit that failed for good, and why.</summary>
public sealed record UnitFailure(string JobId, int Index, string Reason);
