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
}

/// <summary>One GPU provider: its operator, capabilities, liveness and reputation.</summary>
public sealed class NodeGrain(
    [PersistentState("node", StorageNames.Store)] IPersistentState<NodeState> state,
    IOptions<SchedulerOptions> options,
    TimeProvider clock) : Grain, INodeGrain
{
    /// <summary>Signed reports kept per node: enough to settle a dispute about recent work, bounded forever.</summary>
    public const int MaxReceipts = 64;

    // Heartbeats are liveness, not history: kept in memory so they cost no storage write.
    private DateTimeOffset _lastHeartbeat;

    async Task<NodeView> INodeGrain.RegisterAsync(NodeRegistration registration)
    {
        var isNew = state.State.Registration is null;
        state.State.Registration = registration;
        if (isNew) state.State.RegisteredAt = clock.GetUtcNow();
        _lastHeartbeat = clock.GetUtcNow();
        await state.WriteStateAsync();
        if (isNew) await GrainFactory.GetGrain<INodeDirectoryGrain>(DePin.Abstractions.DirectoryShards.Of(this.GetPrimaryKeyString())).AddAsync(this.GetPrimaryKeyString());
        return ToView()!;
    }

    Task INodeGrain.HeartbeatAsync()
    {
        _lastHeartbeat = clock.GetUtcNow();
        return Task.CompletedTask;
    }

    Task<NodeCheckIn?> INodeGrain.CheckInAsync()
    {
        if (state.State.Registration is not { } r) return Task.FromResult<NodeCheckIn?>(null);
        if (state.State.ExcludedBecause is null) _lastHeartbeat = clock.GetUtcNow();
        return Task.FromResult<NodeCheckIn?>(new NodeCheckIn(r.Capabilities, state.State.UnitsVerified, state.State.UnitsRejected, state.State.ExcludedBecause));
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
