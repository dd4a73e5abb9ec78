using System.Globalization;
using DePin.Abstractions.Rewards;
using DePin.Grains.Rewards;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Serialization;
using StackExchange.Redis;

namespace DePin.Silo.Hosting;

/// <summary>
/// Durable <see cref="IEpochStore"/> on Redis: one hash per epoch, <c>{serviceId}/epoch/{n}</c>, with fields
/// <c>c{i}</c> (a chunk of at most <see cref="ChunkSize"/> entries) and <c>header</c>, values in Orleans' binary
/// serializer. A chunk of 4,096 entries is ~250 KB, so no value reaches 1 MiB however many accounts an epoch pays.
/// </summary>
public sealed class RedisEpochStore(IConnectionMultiplexer redis, Serializer serializer, IOptions<ClusterOptions> cluster) : IEpochStore
{
    /// <summary>Entries per stored chunk.</summary>
    public const int ChunkSize = 4096;

    private const string Header = "header";
    private readonly string _prefix = cluster.Value.ServiceId + "/epoch/";

    /// <summary>The hash of an epoch.</summary>
    public RedisKey Key(long epoch) => _prefix + epoch.ToString(CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public async Task SaveEntriesAsync(long epoch, IReadOnlyList<SettlementEntry> entries)
    {
        var key = Key(epoch);
        var chunks = entries.Chunk(ChunkSize)
            .Select((chunk, i) => new HashEntry("c" + i.ToString(CultureInfo.InvariantCulture), serializer.SerializeToArray(chunk)))
            .ToArray();
        var tx = redis.GetDatabase().CreateTransaction();
        var pending = new List<Task> { tx.KeyDeleteAsync(key) }; // leftovers of a close that crashed before it was recorded
        if (chunks.Length > 0) pending.Add(tx.HashSetAsync(key, chunks));
        if (!await tx.ExecuteAsync()) throw new RedisException($"epoch store: transaction for epoch {epoch} was not committed");
        await Task.WhenAll(pending);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<SettlementEntry>> LoadEntriesAsync(long epoch)
    {
        var chunks = new SortedList<int, SettlementEntry[]>();
        foreach (var field in await redis.GetDatabase().HashGetAllAsync(Key(epoch)))
        {
            var name = (string)field.Name!;
            if (name[0] == 'c' && int.TryParse(name.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var i))
                chunks[i] = serializer.Deserialize<SettlementEntry[]>((byte[])field.Value!) ?? [];
        }
        return [.. chunks.Values.SelectMany(c => c)];
    }

    /// <inheritdoc />
    public Task SaveHeaderAsync(EpochSettlement header) =>
        redis.GetDatabase().HashSetAsync(Key(header.Epoch), Header, serializer.SerializeToArray(header with { Entries = [] }));

    /// <inheritdoc />
    public async Task<EpochSettlement?> LoadHeaderAsync(long epoch) =>
        await redis.GetDatabase().HashGetAsync(Key(epoch), Header) is { IsNull: false } value
            ? serializer.Deserialize<EpochSettlement>((byte[])value!)
            : null;
}
