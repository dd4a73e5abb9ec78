using DePin.Abstractions;
using DePin.Abstractions.Nodes;

namespace DePin.Grains.Nodes;

/// <summary>Persistent state of a <see cref="NodeDirectoryGrain"/>.</summary>
[GenerateSerializer, Alias("depin.NodeDirectoryState")]
public sealed class NodeDirectoryState
{
    [Id(0)] public HashSet<string> NodeIds { get; set; } = [];
}

/// <summary>One shard of the set of registered nodes, for listing. Sharded so that a write stays small.</summary>
public sealed class NodeDirectoryGrain(
    [PersistentState("nodes", StorageNames.Store)] IPersistentState<NodeDirectoryState> state) : Grain, INodeDirectoryGrain
{
    async Task INodeDirectoryGrain.AddAsync(string nodeId)
    {
        if (state.State.NodeIds.Add(nodeId)) await state.WriteStateAsync();
    }

    Task<IReadOnlyList<string>> INodeDirectoryGrain.ListIdsAsync() => Task.FromResult<IReadOnlyList<string>>([.. state.State.NodeIds]);
}

/// <summary>Reads across the node directory shards.</summary>
public static class NodeDirectory
{
    /// <summary>Registered nodes ordered by id, one page of them.</summary>
    public static async Task<IReadOnlyList<NodeView>> ListAsync(IGrainFactory grains, int offset = 0, int limit = int.MaxValue)
    {
        var shards = await Task.WhenAll(Enumerable.Range(0, DirectoryShards.Count)
            .Select(s => grains.GetGrain<INodeDirectoryGrain>(s).ListIdsAsync()));
        var page = shards.SelectMany(ids => ids).Order(StringComparer.Ordinal).Skip(Math.Max(0, offset)).Take(Math.Max(0, limit));
        var views = await Task.WhenAll(page.Select(id => grains.GetGrain<INodeGrain>(id).GetAsync()));
        return [.. views.OfType<NodeView>()];
    }
}
