using Orleans.Concurrency;

namespace DePin.Abstractions.Nodes;

/// <summary>One GPU provider: an accelerator on a silo (key = node id, e.g. <c>silo-a/cuda0</c>).</summary>
[Alias("depin.INodeGrain")]
public interface INodeGrain : IGrainWithStringKey
{
    [Alias("Register")] Task<NodeView> RegisterAsync(NodeRegistration registration);
    [Alias("Heartbeat")] Task HeartbeatAsync();
    /// <summary>Excludes the node (an operator action) or admits it again; an excluded community node cannot log in,
    /// lease, report or renew. Returns the node, or null when never registered.</summary>
    [Alias("SetExcluded")] Task<NodeView?> SetExcludedAsync(string? reason);
    /// <summary>A heartbeat that also returns what leasing needs: capabilities and standing. Null when never registered.</summary>
    [Alias("CheckIn")] Task<NodeCheckIn?> CheckInAsync();
    /// <summary>Counts results that agreed (verified) or disagreed (rejected) with the verified output.</summary>
    [Alias("RecordOutcomes")] Task RecordOutcomesAsync(int verified, int rejected);
    /// <summary>Keeps a community node's signed report (bounded: the most recent ones), evidence for disputes.</summary>
    [Alias("RecordReceipt")] Task RecordReceiptAsync(ReportReceipt receipt);
    /// <summary>The kept signed reports, newest first.</summary>
    [Alias("GetReceipts")] Task<IReadOnlyList<ReportReceipt>> GetReceiptsAsync();
    /// <summary>The node, or null when never registered.</summary>
    [Alias("Get")] Task<NodeView?> GetAsync();
    /// <summary>Operator payout address, or null when never registered.</summary>
    [Alias("GetOperator")] Task<string?> GetOperatorAsync();
    /// <summary>
    /// Retention: clears the node's state when it was last seen before <paramref name="cutoff"/> and is not excluded. Returns
    /// null when the node is gone (cleared now, or never registered), else when it was last seen.
    /// </summary>
    [Alias("PruneIfUnseen")] Task<DateTimeOffset?> PruneIfUnseenAsync(DateTimeOffset cutoff);
}

/// <summary>A node's capabilities and standing, as the lease path needs them.</summary>
[GenerateSerializer, Immutable, Alias("depin.NodeCheckIn")]
public sealed record NodeCheckIn(
    [property: Id(0)] NodeCapabilities Capabilities,
    [property: Id(1)] long UnitsVerified,
    [property: Id(2)] long UnitsRejected,
    [property: Id(3)] string? ExcludedBecause = null);

/// <summary>
/// A report as the node signed it: the signed text's hash (the text names every lease, unit and output digest or
/// error, see <c>NodeSignatures.ReportMessage</c>) and the node key's EIP-191 signature over the text.
/// </summary>
[GenerateSerializer, Immutable, Alias("depin.ReportReceipt")]
public sealed record ReportReceipt(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] string SignedMessage,
    [property: Id(2)] string Signature,
    [property: Id(3)] int Units);

/// <summary>One shard of the index of registered nodes (key = <see cref="DirectoryShards.Of"/> of the node id).</summary>
[Alias("depin.INodeDirectoryGrain")]
public interface INodeDirectoryGrain : IGrainWithIntegerKey
{
    [Alias("Add")] Task AddAsync(string nodeId);
    /// <summary>The node ids of this shard.</summary>
    [Alias("ListIds")] Task<IReadOnlyList<string>> ListIdsAsync();
    /// <summary>
    /// A node's last-seen time as it just stored it (at most once per <c>Nodes:LastSeenResolution</c>): a hint that spares the
    /// sweep a call to live nodes; the node itself decides whether it is pruned. One-way, so a heartbeat never waits on a sweep.
    /// </summary>
    [Alias("Seen"), OneWay] Task SeenAsync(string nodeId, DateTimeOffset at);
    /// <summary>Prunes this shard's nodes not seen within <c>Nodes:Retention</c> (the shard's reminder runs it); returns how many went.</summary>
    [Alias("Prune")] Task<int> PruneAsync();
}
