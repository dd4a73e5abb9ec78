using DePin.Abstractions.Scheduling;

namespace DePin.Worker;

/// <summary>
/// How a worker reaches the scheduler. Two implementations: grain calls inside the cluster (operator-run GPU silos)
/// and HTTP to an API silo's node gateway (community node agents). The worker loop is the same for both.
/// </summary>
public interface IWorkTransport
{
    /// <summary>
    /// Leases up to <paramref name="max"/> units. When none is ready it waits up to <paramref name="wait"/> for work
    /// to appear (long poll) and returns an empty batch if none did.
    /// </summary>
    Task<LeaseBatch> LeaseAsync(int max, TimeSpan wait, CancellationToken cancellationToken);

    /// <summary>Reports the results of a batch (one per lease, in order).</summary>
    Task ReportAsync(LeaseBatch batch, IReadOnlyList<UnitResult> results, CancellationToken cancellationToken);

    /// <summary>Says the node is alive and renews the leases of the batches it holds (each batch on its own, so one
    /// slow shard cannot void the others).</summary>
    Task HeartbeatAsync(IReadOnlyCollection<LeaseBatch> held, CancellationToken cancellationToken);
}

/// <summary>Units leased in one call, all from one queue shard (<paramref name="Shard"/> is −1 when the transport
/// does not know it).</summary>
public sealed record LeaseBatch(int Shard, IReadOnlyList<WorkUnitLease> Leases)
{
    /// <summary>An empty batch.</summary>
    public static readonly LeaseBatch Empty = new(-1, []);
}
