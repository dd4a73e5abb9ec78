using System.Collections.Concurrent;
using DePin.Abstractions.Scheduling;

namespace DePin.Grains.Scheduling;

/// <summary>
/// The embedded default: shard state kept in silo memory. It survives a shard's deactivation and reactivation on
/// the same silo, not the loss of the silo (use the Redis store for that).
/// </summary>
public sealed class MemoryWorkUnitStore : IWorkUnitStore
{
    private readonly ConcurrentDictionary<int, Shard> _shards = new();

    /// <inheritdoc />
    public Task<ShardSnapshot> LoadAsync(int shard)
    {
        var s = _shards.GetOrAdd(shard, _ => new Shard());
        lock (s)
        {
            return Task.FromResult(new ShardSnapshot([.. s.Jobs.Values], [.. s.Units.Values]));
        }
    }

    /// <inheritdoc />
    public Task SaveAsync(int shard, ShardDelta delta)
    {
        var s = _shards.GetOrAdd(shard, _ => new Shard());
        lock (s)
        {
            foreach (var job in delta.UpsertJobs) s.Jobs[job.JobId] = job;
            foreach (var id in delta.RemoveJobs) s.Jobs.Remove(id);
            foreach (var unit in delta.UpsertUnits) s.Units[unit.Id] = unit;
            foreach (var id in delta.RemoveUnits) s.Units.Remove(id);
        }
        return Task.CompletedTask;
    }

    private sealed class Shard
    {
        public Dictionary<string, ShardJob> Jobs { get; } = [];
        public Dictionary<WorkUnitId, StoredUnit> Units { get; } = [];
    }
}
