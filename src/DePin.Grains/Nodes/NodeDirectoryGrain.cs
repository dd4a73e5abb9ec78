using DePin.Abstractions.Nodes;

namespace DePin.Grains.Nodes;

/// <summary>Persistent state of the <see cref="NodeDirectoryGrain"/>.</summary>
[GenerateSerializer, Alias("depin.NodeDirectoryState")]
public sealed class NodeDirectoryState
{
    [Id(0)] public HashSet<string> NodeIds { get; set; } = [];
}

/// <summary>The set of registered nodes, for listing.</summary>
public sealed class NodeDirectoryGrain(
    [PersistentState("nodes", StorageNames.Store)] IPersistentState<NodeDirectoryState> state) : Grain, INodeDirectoryGrain
{
    async Task INodeDirectoryGrain.AddAsync(string nodeId)
    {
        if (state.State.NodeIds.Add(nodeId)) await state.WriteStateAsync();
    }

    async Task<IReadOnlyList<NodeView>> INodeDirectoryGrain.ListAsync()
    {
        var views = await Task.WhenAll(state.State.NodeIds.Order(StringComparer.Ordinal)
            .Select(id => GrainFactory.GetGrain<INodeGrain>(id).GetAsync()));
        return [.. views.OfType<NodeView>()];
    }
}
