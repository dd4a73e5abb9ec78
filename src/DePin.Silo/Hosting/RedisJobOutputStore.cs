using System.Globalization;
using DePin.Grains.Jobs;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Serialization;
using StackExchange.Redis;

namespace DePin.Silo.Hosting;

/// <summary>
/// Durable <see cref="IJobOutputStore"/> on Redis: one hash per running job, <c>{serviceId}/out/{jobId}</c>, field =
/// unit index, value = the <see cref="StoredOutput"/> (output and payees) in Orleans' binary serializer. A batch is one
/// HSETNX pipeline (first output per index wins), followed by an HMGET of the indices that lost, so the job learns the
/// winners; the hash is deleted once the job has ended.
/// </summary>
public sealed class RedisJobOutputStore(IConnectionMultiplexer redis, Serializer serializer, IOptions<ClusterOptions> cluster) : IJobOutputStore
{
    private readonly string _prefix = cluster.Value.ServiceId + "/out/";

    private RedisKey Key(string jobId) => _prefix + jobId;

    /// <inheritdoc />
    public async Task<StoredOutput?[]> LoadAsync(string jobId, int unitCount)
    {
        var outputs = new StoredOutput?[unitCount];
        await foreach (var entry in redis.GetDatabase().HashScanAsync(Key(jobId), pageSize: 1000))
        {
            if (int.TryParse((string?)entry.Name, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index < unitCount)
                outputs[index] = serializer.Deserialize<StoredOutput>((byte[])entry.Value!)!;
        }
        return outputs;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<StoredOutput>> SaveAsync(string jobId, IReadOnlyList<StoredOutput> outputs)
    {
        if (outputs.Count == 0) return [];
        var db = redis.GetDatabase();
        var batch = db.CreateBatch();
        var key = Key(jobId);
        var writes = outputs.Select(o => batch.HashSetAsync(key, o.Index, serializer.SerializeToArray(o), When.NotExists)).ToArray();
        batch.Execute();
        var stored = await Task.WhenAll(writes);
        var result = outputs.ToArray();
        var lost = Enumerable.Range(0, result.Length).Where(i => !stored[i]).ToArray();
        if (lost.Length == 0) return result;
        // An earlier write (a previous activation's, or a retried one that landed) holds these indices: it wins.
        var winners = await db.HashGetAsync(key, [.. lost.Select(i => (RedisValue)result[i].Index)]);
        for (var k = 0; k < lost.Length; k++)
        {
            if (!winners[k].IsNull) result[lost[k]] = serializer.Deserialize<StoredOutput>((byte[])winners[k]!)!;
        }
        return result;
    }

    /// <inheritdoc />
    public Task DeleteAsync(string jobId) => redis.GetDatabase().KeyDeleteAsync(Key(jobId));
}
