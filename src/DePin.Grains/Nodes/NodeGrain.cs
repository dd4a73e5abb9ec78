using DePin.Abstractions.Nodes;
using Microsoft.Extensions.Options;

namespace DePin.Grains.Nodes;

/// <summary>Persistent state of a <see cref="NodeGrain"/>.</summary>
[GenerateSerializer, Alias("depin.NodeState")]
public sealed class NodeState
{
    [Id(0)] public NodeRegistration? Registration { get; set; }
    [Id(1)] public DateTimeOffset RegisteredAt { get; set; }
    [Id(2)] public long UnitsVerified { get; set; }
    [Id(3)] public long UnitsRejected { get; set; }
    /// <summary>The most recent signed reports of a community node (at most <see cref="NodeGrain.MaxReceipts"/>).</summary>
    [Id(4)] public List<ReportReceipt> Receipts { get; set; } = [];
    /// <summary>Why an operator excluded the node; null when admitted.</summary>
    [Id(5)] public string? ExcludedBecause { get; set; }
    /// <summary>When the node was last seen, as stored (at most once per <c>Nodes:LastSeenResolution</c>): what retention reads.</summary>
    [Id(6)] public DateTimeOffset LastSeen { get; set; }
}

/// <summary>One GPU provider: its operator, capabilities, liveness and reputation.</summary>
public sealed class NodeGrain(
    [PersistentState("node", StorageNames.Store)] IPersistentState<NodeState> state,
    IOptions<SchedulerOptions> options,
    IOptions<NodeRetentionOptions> retention,
    TimeProvider clock) : Grain, INodeGrain
{
    /// <summary>Signed reports kept per node: enough to settle a dispute about recent work, bounded forever.</summary>
    public const int MaxReceipts = 64;

    // Heartbeats are liveness, not history: kept in memory so they cost no storage write.
    private DateTimeOffset _lastHeartbeat;

    async Task<NodeView> INodeGrain.RegisterAsync(NodeRegistration registration)
    {
        var isNew = state.State.Registration is null;
        var now = clock.GetUtcNow();
        state.State.Registration = registration;
        if (isNew) state.State.RegisteredAt = now;
        state.State.LastSeen = now;
        _lastHeartbeat = now;
        await state.WriteStateAsync();
        if (isNew) await Directory.AddAsync(this.GetPrimaryKeyString());
        return ToView()!;
    }

    async Task INodeGrain.HeartbeatAsync() => await SeenAsync();

    async Task<NodeCheckIn?> INodeGrain.CheckInAsync()
    {
        if (state.State.Registration is not { } r) return null;
        if (state.State.ExcludedBecause is null) await SeenAsync();
        return new NodeCheckIn(r.Capabilities, state.State.UnitsVerified, state.State.UnitsRejected, state.State.ExcludedBecause);
    }

    async Task<DateTimeOffset?> INodeGrain.PruneIfUnseenAsync(DateTimeOffset cutoff)
    {
        if (state.State.Registration is not { } r) return null;
        // An exclusion is an operator's decision, not a registration: it stays, or waiting out the retention would lift it.
        if (state.State.ExcludedBecause is not null) return clock.GetUtcNow();
        var seen = new[] { state.State.LastSeen, state.State.RegisteredAt, _lastHeartbeat }.Max();
        if (seen >= cutoff) return seen;
        if (r.Community) GrainFactory.GetGrain<INodeAgentGrain>(AgentOf(this.GetPrimaryKeyString())).ForgetNodeAsync(this.GetPrimaryKeyString()).Ignore();
        await state.ClearStateAsync();
        state.State = new NodeState();
        _lastHeartbeat = default;
        DeactivateOnIdle();
        return null;
    }

    async Task<NodeView?> INodeGrain.SetExcludedAsync(string? reason)
    {
        if (state.State.Registration is null) return null;
        state.State.ExcludedBecause = reason;
        await state.WriteStateAsync();
        return ToView();
    }

    async Task INodeGrain.RecordOutcomesAsync(int verified, int rejected)
    {
        state.State.UnitsVerified += verified;
        state.State.UnitsRejected += rejected;
        await state.WriteStateAsync();
    }

    async Task INodeGrain.RecordReceiptAsync(ReportReceipt receipt)
    {
        var receipts = state.State.Receipts;
        receipts.Add(receipt);
        if (receipts.Count > MaxReceipts) receipts.RemoveRange(0, receipts.Count - MaxReceipts);
        await state.WriteStateAsync();
    }

    Task<IReadOnlyList<ReportReceipt>> INodeGrain.GetReceiptsAsync() =>
        Task.FromResult<IReadOnlyList<ReportReceipt>>([.. Enumerable.Reverse(state.State.Receipts)]);

    Task<NodeView?> INodeGrain.GetAsync() => Task.FromResult(ToView());

    Task<string?> INodeGrain.GetOperatorAsync() => Task.FromResult(state.State.Registration?.OperatorAddress);

    private INodeDirectoryGrain Directory => GrainFactory.GetGrain<INodeDirectoryGrain>(DePin.Abstractions.DirectoryShards.Of(this.GetPrimaryKeyString()));

    /// <summary>A community node's id is <c>{agent address}/{device}</c>.</summary>
    private static string AgentOf(string nodeId) => nodeId[..Math.Max(0, nodeId.IndexOf('/'))];

    /// <summary>A heartbeat: in memory, and stored (with a hint to the directory) once per <c>Nodes:LastSeenResolution</c>.</summary>
    private async Task SeenAsync()
    {
        var now = clock.GetUtcNow();
        _lastHeartbeat = now;
        if (state.State.Registration is null || now - state.State.LastSeen < retention.Value.LastSeenResolution) return;
        var stored = state.State.LastSeen;
        state.State.LastSeen = now;
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            state.State.LastSeen = stored; // the next heartbeat tries again
            throw;
        }
        Directory.SeenAsync(this.GetPrimaryKeyString(), now).Ignore();
    }

    private NodeView? ToView()
    {
        if (state.State.Registration is not { } r) return null;
        var s = state.State;
        var total = s.UnitsVerified + s.UnitsRejected;
        return new NodeView
        {
            NodeId = this.GetPrimaryKeyString(),
            OperatorAddress = r.OperatorAddress,
            SiloAddress = r.SiloAddress,
            Capabilities = r.Capabilities,
            RegisteredAt = s.RegisteredAt,
            LastHeartbeat = _lastHeartbeat,
            Online = clock.GetUtcNow() - _lastHeartbeat <= options.Value.NodeOnlineWindow,
            UnitsVerified = s.UnitsVerified,
            UnitsRejected = s.UnitsRejected,
            Reputation = total == 0 ? 1 : (double)s.UnitsVerified / total,
            Community = r.Community,
            ExcludedBecause = s.ExcludedBecause,
        };
    }
}
