using DePin.Abstractions.Nodes;
using DePin.Abstractions.Scheduling;
using DePin.Silo.Leasing;
using DePin.Worker;

namespace DePin.Silo.Workers;

/// <summary>
/// The in-cluster transport of an operator-run GPU silo: leases through this silo's <see cref="LeaseBroker"/> (long
/// poll), reports and renews by grain calls on the trusted silo-to-silo connection.
/// </summary>
public sealed class ClusterWorkTransport(
    string nodeId,
    NodeCapabilities capabilities,
    LeaseBroker broker,
    IGrainFactory grains,
    ILogger logger) : IWorkTransport
{
    /// <inheritdoc />
    public Task<LeaseBatch> LeaseAsync(int max, TimeSpan wait, CancellationToken cancellationToken) =>
        broker.LeaseAsync(new LeaseRequest { NodeId = nodeId, Max = max, Capabilities = capabilities }, wait, cancellationToken);

    /// <inheritdoc />
    public Task ReportAsync(LeaseBatch batch, IReadOnlyList<UnitResult> results, CancellationToken cancellationToken) =>
        grains.GetGrain<IWorkQueueGrain>(batch.Shard).ReportAsync(nodeId, results);

    /// <inheritdoc />
    public async Task HeartbeatAsync(IReadOnlyCollection<LeaseBatch> held, CancellationToken cancellationToken)
    {
        var renewals = held.GroupBy(b => b.Shard).Select(async group =>
        {
            try
            {
                await grains.GetGrain<IWorkQueueGrain>(group.Key).RenewAsync(nodeId, [.. group.SelectMany(b => b.Leases.Select(l => l.LeaseId))])
                    .WaitAsync(cancellationToken);
            }
            catch (Exception ex)
            {
                // One slow or moving shard voids only its own leases' renewal, never the others'.
                logger.LogWarning(ex, "Node {NodeId}: renewing leases of shard {Shard} failed", nodeId, group.Key);
            }
        });
        await Task.WhenAll(renewals.Append(grains.GetGrain<INodeGrain>(nodeId).HeartbeatAsync().WaitAsync(cancellationToken)));
    }
}
