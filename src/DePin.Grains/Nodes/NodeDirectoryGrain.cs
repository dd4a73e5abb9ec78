using DePin.Abstractions;
using DePin.Abstractions.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DePin.Grains.Nodes;

/// <summary>Persistent state of a <see cref="NodeDirectoryGrain"/>.</summary>
[GenerateSerializer, Alias("depin.NodeDirectoryState")]
public sealed class NodeDirectoryState
{
    [Id(0)] public HashSet<string> NodeIds { get; set; } = [];
    /// <summary>
    /// When each node was last seen, as far as this shard knows (registration, then the node's hourly hints). An id missing
    /// here (stored before retention existed) counts as seen at the first sweep that meets it.
    /// </summary>
    [Id(1)] public Dictionary<string, DateTimeOffset> LastSeen { get; set; } = [];
}

/// <summary>
/// One shard of the set of registered nodes, for listing. Sharded so that a write stays small. A reminder per shard
/// (<c>Nodes:PruneInterval</c>) prunes the nodes not seen within <c>Nodes:Retention</c>, so registrations do not pile up
/// with the age of the network.
/// </summary>
public sealed class NodeDirectoryGrain(
    [PersistentState("nodes", StorageNames.Store)] IPersistentState<NodeDirectoryState> state,
    IOptions<NodeRetentionOptions> options,
    TimeProvider clock,
    ILogger<NodeDirectoryGrain> logger) : Grain, INodeDirectoryGrain, IRemindable
{
    private const string PruneReminder = "prune";
    // Nodes asked at once during a sweep: bounds the fan-out of one turn.
    private const int PruneBatch = 64;
    private bool _reminderRegistered;

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.NodeIds.Count > 0) await EnsureReminderAsync();
    }

    async Task INodeDirectoryGrain.AddAsync(string nodeId)
    {
        var added = state.State.NodeIds.Add(nodeId);
        state.State.LastSeen[nodeId] = clock.GetUtcNow();
        await state.WriteStateAsync();
        if (added) await EnsureReminderAsync();
    }

    Task<IReadOnlyList<string>> INodeDirectoryGrain.ListIdsAsync() => Task.FromResult<IReadOnlyList<string>>([.. state.State.NodeIds]);

    async Task INodeDirectoryGrain.SeenAsync(string nodeId, DateTimeOffset at)
    {
        if (!state.State.NodeIds.Contains(nodeId)) return; // pruned meanwhile: it registers again
        if (state.State.LastSeen.TryGetValue(nodeId, out var known) && known >= at) return;
        state.State.LastSeen[nodeId] = at;
        await state.WriteStateAsync();
    }

    async Task<int> INodeDirectoryGrain.PruneAsync()
    {
        var now = clock.GetUtcNow();
        var cutoff = now - options.Value.Retention;
        var changed = false;
        var candidates = new List<string>();
        foreach (var id in state.State.NodeIds)
        {
            if (!state.State.LastSeen.TryGetValue(id, out var seen))
            {
                state.State.LastSeen[id] = now; // stored before retention existed: a full retention from now
                changed = true;
            }
            else if (seen < cutoff)
            {
                candidates.Add(id);
            }
        }

        // The node decides (it knows its latest heartbeat); the shard drops only those that are gone.
        var pruned = 0;
        foreach (var batch in candidates.Chunk(PruneBatch))
        {
            var outcomes = await Task.WhenAll(batch.Select(id => PruneNodeAsync(id, cutoff)));
            for (var i = 0; i < batch.Length; i++)
            {
                if (outcomes[i] is { } seen)
                {
                    state.State.LastSeen[batch[i]] = seen;
                }
                else
                {
                    state.State.NodeIds.Remove(batch[i]);
                    state.State.LastSeen.Remove(batch[i]);
                    pruned++;
                }
            }
            changed = true;
        }
        if (changed) await state.WriteStateAsync();
        if (pruned > 0) logger.LogInformation("Node directory shard {Shard}: pruned {Pruned} node(s) not seen since {Cutoff:u}", this.GetPrimaryKeyLong(), pruned, cutoff);
        return pruned;
    }

    /// <summary>Asks one node; a node that cannot answer now is kept and asked again at the next sweep.</summary>
    private async Task<DateTimeOffset?> PruneNodeAsync(string nodeId, DateTimeOffset cutoff)
    {
        try
        {
            return await GrainFactory.GetGrain<INodeGrain>(nodeId).PruneIfUnseenAsync(cutoff);
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Node directory shard {Shard}: could not prune node {NodeId}; trying again at the next sweep", this.GetPrimaryKeyLong(), nodeId);
            return cutoff;
        }
    }

    async Task IRemindable.ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName == PruneReminder) await ((INodeDirectoryGrain)this).PruneAsync();
    }

    private async Task EnsureReminderAsync()
    {
        if (_reminderRegistered) return;
        var period = options.Value.PruneInterval;
        try
        {
            await this.RegisterOrUpdateReminder(PruneReminder, period, period);
            _reminderRegistered = true;
        }
        catch (Exception ex)
        {
            // Listing and registering must not fail with the reminder table; the next activation or new node tries again.
            logger.LogWarning(ex, "Node directory shard {Shard}: could not register the prune reminder", this.GetPrimaryKeyLong());
        }
    }
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

    /// <summary>Runs every shard's retention sweep now (each shard's reminder does it every <c>Nodes:PruneInterval</c>); returns how many nodes went.</summary>
    public static async Task<int> PruneAsync(IGrainFactory grains) =>
        (await Task.WhenAll(Enumerable.Range(0, DirectoryShards.Count).Select(s => grains.GetGrain<INodeDirectoryGrain>(s).PruneAsync()))).Sum();
}
