namespace DePin.Abstractions.Nodes;

/// <summary>One GPU provider: an accelerator on a silo (key = node id, e.g. <c>silo-a/cuda0</c>).</summary>
[Alias("depin.INodeGrain")]
public interface INodeGrain : IGrainWithStringKey
{
    [Alias("Register")] Task<NodeView> RegisterAsync(NodeRegistration registration);
    [Alias("Heartbeat")] Task HeartbeatAsync();
    /// <summary>Counts results that agreed (verified) or disagreed (rejected) with the verified output.</summary>
    [Alias("RecordOutcomes")] Task RecordOutcomesAsync(int verified, int rejected);
    /// <summary>The node, or null when never registered.</summary>
    [Alias("Get")] Task<NodeView?> GetAsync();
    /// <summary>Operator payout address, or null when never registered.</summary>
    [Alias("GetOperator")] Task<string?> GetOperatorAsync();
}

/// <summary>Index of registered nodes (key 0).</summary>
[Alias("depin.INodeDirectoryGrain")]
public interface INodeDirectoryGrain : IGrainWithIntegerKey
{
    [Alias("Add")] Task AddAsync(string nodeId);
    [Alias("List")] Task<IReadOnlyList<NodeView>> ListAsync();
}
