using System.Globalization;
using DePin.Abstractions.Jobs;
using DePin.Grains.Jobs;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Serialization;
using StackExchange.Redis;

namespace DePin.Silo.Hosting;

/// <summary>
/// Durable <see cref="IJobIndexStore"/> on Redis: one hash per directory shard, <c>{serviceId}/jobs/{shard}</c>, field =
/// job id, value = the <see cref="JobSummary"/> in Orleans' binary serializer. A row is one HSET; the shard holds the
/// jobs of the retention window (the directory's sweep removes older ones).
/// </summary>
public sealed class RedisJobIndexStore(IConnectionMultiplexer redis, Serializer serializer, IOptions<ClusterOptions> cluster) : IJobIndexStore
{
    private readonly string _prefix = cluster.Value.ServiceId + "/jobs/";

    private RedisKey Key(int shard) => _prefix + shard.ToString(CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public async Task<IReadOnlyList<JobSummary>> LoadAsync(int shard)
    {
        var rows = new List<JobSummary>();
        await foreach (var entry in redis.GetDatabase().HashScanAsync(Key(shard), pageSize: 1000))
            rows.Add(serializer.Deserialize<JobSummary>((byte[])entry.Value!)!);
        return rows;
    }

    /// <inheritdoc />
    public Task UpsertAsync(int shard, JobSummary summary) =>
        redis.GetDatabase().HashSetAsync(Key(shard), summary.JobId, serializer.SerializeToArray(summary));

    /// <inheritdoc />
    public Task RemoveAsync(int shard, IReadOnlyList<string> jobIds) =>
        jobIds.Count == 0 ? Task.CompletedTask : redis.GetDatabase().HashDeleteAsync(Key(shard), [.. jobIds.Select(id => (RedisValue)id)]);
}
