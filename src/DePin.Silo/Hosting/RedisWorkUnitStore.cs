using System.Globalization;
using DePin.Abstractions.Scheduling;
using DePin.Grains.Scheduling;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Serialization;
using StackExchange.Redis;

namespace DePin.Silo.Hosting;

/// <summary>
/// Durable <see cref="IWorkUnitStore"/> on Redis. Per shard two hashes, keyed by service id:
/// <c>{serviceId}/wq/{shard}/units</c> (field <c>{jobId}:{index}</c> → <see cref="StoredUnit"/>) and
/// <c>{serviceId}/wq/{shard}/jobs</c> (field job id → <see cref="ShardJob"/>), values in Orleans' binary serializer.
/// A delta is one MULTI/EXEC transaction (one round trip, applied all or nothing); a load scans with HSCAN.
/// </summary>
public sealed class RedisWorkUnitStore(IConnectionMultiplexer redis, Serializer serializer, IOptions<ClusterOptions> cluster) : IWorkUnitStore
{
    private readonly string _prefix = cluster.Value.ServiceId + "/wq/";

    /// <summary>The hash of a shard's units.</summary>
    public RedisKey UnitsKey(int shard) => _prefix + shard.ToString(CultureInfo.InvariantCulture) + "/units";

    /// <summary>The hash of a shard's jobs.</summary>
    public RedisKey JobsKey(int shard) => _prefix + shard.ToString(CultureInfo.InvariantCulture) + "/jobs";

    /// <inheritdoc />
    public async Task<ShardSnapshot> LoadAsync(int shard)
    {
        var db = redis.GetDatabase();
        var jobs = new List<ShardJob>();
        foreach (var entry in await db.HashGetAllAsync(JobsKey(shard)))
        {
            jobs.Add(serializer.Deserialize<ShardJob>((byte[])entry.Value!)!);
        }
        var units = new List<StoredUnit>();
        await foreach (var entry in db.HashScanAsync(UnitsKey(shard), pageSize: 1000))
        {
            units.Add(serializer.Deserialize<StoredUnit>((byte[])entry.Value!)!);
        }
        return new ShardSnapshot(jobs, units);
    }

    /// <inheritdoc />
    public async Task SaveAsync(int shard, ShardDelta delta)
    {
        if (delta.IsEmpty) return;
        var tx = redis.GetDatabase().CreateTransaction();
        var unitsKey = UnitsKey(shard);
        var jobsKey = JobsKey(shard);
        // Same order as the memory store: upsert jobs, remove jobs, upsert units, remove units. Each is one command.
        var pending = new List<Task>(4);
        if (delta.UpsertJobs.Count > 0)
            pending.Add(tx.HashSetAsync(jobsKey, [.. delta.UpsertJobs.Select(j => new HashEntry(j.JobId, serializer.SerializeToArray(j)))]));
        if (delta.RemoveJobs.Count > 0)
            pending.Add(tx.HashDeleteAsync(jobsKey, [.. delta.RemoveJobs.Select(id => (RedisValue)id)]));
        if (delta.UpsertUnits.Count > 0)
            pending.Add(tx.HashSetAsync(unitsKey, [.. delta.UpsertUnits.Select(u => new HashEntry(Field(u.Id), serializer.SerializeToArray(u)))]));
        if (delta.RemoveUnits.Count > 0)
            pending.Add(tx.HashDeleteAsync(unitsKey, [.. delta.RemoveUnits.Select(Field)]));
        if (!await tx.ExecuteAsync())
            throw new RedisException($"work-unit store: transaction for shard {shard} was not committed");
        await Task.WhenAll(pending);
    }

    private static RedisValue Field(WorkUnitId id) => id.JobId + ":" + id.Index.ToString(CultureInfo.InvariantCulture);
}
