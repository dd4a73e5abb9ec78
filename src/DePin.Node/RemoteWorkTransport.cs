using DePin.Abstractions.Scheduling;
using DePin.NodeProtocol;
using DePin.Worker;

namespace DePin.Node;

/// <summary>
/// The worker loop's transport for a community node: HTTP to the node gateway. An idle node's long-poll lease call
/// doubles as its heartbeat, so it sends a heartbeat of its own only while it holds leases.
/// </summary>
public sealed class RemoteWorkTransport(string nodeId, NodeGatewayClient client) : IWorkTransport
{
    /// <inheritdoc />
    public async Task<LeaseBatch> LeaseAsync(int max, TimeSpan wait, CancellationToken cancellationToken)
    {
        var response = await client.LeaseAsync(nodeId, max, wait, cancellationToken);
        if (response.Leases.Count == 0) return LeaseBatch.Empty;
        return new LeaseBatch(-1, [.. response.Leases.Select(l => new WorkUnitLease
        {
            LeaseId = l.LeaseId,
            Unit = new WorkUnitId(l.JobId, l.Index),
            Kernel = l.Kernel,
            CanonicalParameters = l.Parameters,
            UnitCount = l.UnitCount,
            Input = l.Input,
            Deadline = l.Deadline,
            EnqueuedAt = l.EnqueuedAt,
            Attempt = l.Attempt,
        })]);
    }

    /// <inheritdoc />
    public Task ReportAsync(LeaseBatch batch, IReadOnlyList<UnitResult> results, CancellationToken cancellationToken) =>
        client.ReportAsync(nodeId, [.. results.Select(r => new ReportedUnit(r.LeaseId, r.Unit.JobId, r.Unit.Index, r.Output, r.Digest, r.Error, r.ElapsedMs))],
            cancellationToken);

    /// <inheritdoc />
    public async Task HeartbeatAsync(IReadOnlyCollection<LeaseBatch> held, CancellationToken cancellationToken)
    {
        if (held.Count == 0) return; // idle: the pending long poll says we are alive
        await client.HeartbeatAsync(nodeId, [.. held.SelectMany(b => b.Leases).Select(l => new HeldLease(l.LeaseId, l.Unit.JobId, l.Unit.Index))],
            cancellationToken);
    }
}
