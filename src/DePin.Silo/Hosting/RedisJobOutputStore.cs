using System.Globalization;
using DePin.Grains.Jobs;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using StackExchange.Redis;

namespace DePin.Silo.Hosting;

/// <summary>
/// Durable <see cref="IJobOutputStore"/> on Redis: one hash per running job, <c>{serviceId}/out/{jobId}</c>, field =
/// unit index, value = the output bytes. A batch is one HSETNX pipeline (first output per index wins); the hash is
/// deleted once the job's result is assembled.
/// </summary>
public sealed class RedisJobOutputStore(IConnectionMultiplexer redis, IOptions<ClusterOptions> cluster) : IJobOutputStore
{
    private readonly string _prefix = cluster.Value.ServiceId + "/out/";

    private RedisKey Key(string jobId) => _prefix + jobId;

    /// <inheritdoc />
    public async Task<byte[]?[]> LoadAsync(string jobId, int unitCount)
    {
        var outputs = new byte[]?[unitCount];
        await foreach (var entry in redis.GetDatabase().HashScanAsync(Key(jobId), pageSize: 1000))
        {
            if (int.TryParse((string?)entry.Name, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index < unitCount)
                outputs[index] = (byte[]?)entry.Value;
        }
        return outputs;
    }

    /// <inheritdoc />
    public async Task SaveAsync(string jobId, IReadOnlyList<(int Index, byte[] Output)> outputs)
    {
        if (outputs.Count == 0) return;
        var batch = redis.GetDatabase().CreateBatch();
        var key = Key(jobId);
        var writes = outputs.Select(o => batch.HashSetAsync(key, o.Index, o.Output, When.NotExists)).ToArray();
        batch.Execute();
        await Task.WhenAll(writes);
    }

    /// <inheritdoc />
    public Task DeleteAsync(string jobId) => redis.GetDatabase().KeyDeleteAsync(Key(jobId));
}
