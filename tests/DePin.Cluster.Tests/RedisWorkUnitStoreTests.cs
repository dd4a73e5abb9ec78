using DePin.Abstractions.Scheduling;
using DePin.Cluster.Tests.Infrastructure;
using DePin.Grains.Scheduling;
using DePin.Silo.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Serialization;
using StackExchange.Redis;

namespace DePin.Cluster.Tests;

/// <summary>The durable unit store against a real Redis: deltas round-trip, one transaction per delta.</summary>
public sealed class RedisWorkUnitStoreTests
{
    [Fact]
    public async Task Deltas_round_trip_and_removals_apply()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var services = new ServiceCollection().AddSerializer(b => b.AddAssembly(typeof(StoredUnit).Assembly)).BuildServiceProvider();
        var store = new RedisWorkUnitStore(connection, services.GetRequiredService<Serializer>(),
            Options.Create(new ClusterOptions { ServiceId = "store-test" }));

        var job = new ShardJob("job1", "saxpy", "{}", 3000, 2, 5, 7);
        var units = Enumerable.Range(0, 3000).Select(i => new StoredUnit(new WorkUnitId("job1", i), [(byte)i, 2, 3], i % 3,
            DateTimeOffset.UnixEpoch.AddSeconds(i), i == 7 ? [new ReplicaResult("n/cpu0", "d", [9])] : [])).ToList();
        await store.SaveAsync(4, new ShardDelta([job], [], units, []));
        await store.SaveAsync(4, new ShardDelta([], [], [units[7] with { Attempts = 4 }], [.. units.Take(5).Select(u => u.Id)]));

        var loaded = await store.LoadAsync(4);
        Assert.Equal(job, Assert.Single(loaded.Jobs));
        Assert.Equal(2995, loaded.Units.Count);
        var seven = Assert.Single(loaded.Units, u => u.Id.Index == 7);
        Assert.Equal(4, seven.Attempts);
        Assert.Equal("n/cpu0", Assert.Single(seven.Replicas).NodeId);
        Assert.Equal(new byte[] { 7, 2, 3 }, seven.Input);
        Assert.Empty((await store.LoadAsync(5)).Units);

        await store.SaveAsync(4, new ShardDelta([], ["job1"], [], [.. loaded.Units.Select(u => u.Id)]));
        var empty = await store.LoadAsync(4);
        Assert.Empty(empty.Jobs);
        Assert.Empty(empty.Units);
    }
}
