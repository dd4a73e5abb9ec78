using System.Text.Json;
using DePin.Abstractions.Clients;
using DePin.Abstractions.Rewards;
using DePin.Abstractions.Scheduling;
using DePin.Grains;
using DePin.Grains.Jobs;
using DePin.Grains.Nodes;
using DePin.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace DePin.Tests.Api;

/// <summary>
/// Everything a request could have written, read straight from the grains: jobs (admin view), nodes, API keys, epochs,
/// every queue shard's stats and the reward accounts of the given addresses, as one JSON text to compare.
/// </summary>
public static class ApiStateSnapshot
{
    /// <summary>Takes the snapshot.</summary>
    public static async Task<string> TakeAsync(TestSilo silo, IEnumerable<string> addresses)
    {
        var grains = silo.Grains;
        var shards = silo.Services.GetRequiredService<IOptions<SchedulerOptions>>().Value.QueueShards;
        var state = new Dictionary<string, object>
        {
            ["jobs"] = await JobDirectory.ListAsync(grains, null, 0, int.MaxValue),
            // Online is a function of the clock (NodeOnlineWindow), not of a request; LastHeartbeat shows any check-in.
            ["nodes"] = (await NodeDirectory.ListAsync(grains)).Select(n => n with { Online = false }).ToList(),
            ["keys"] = await grains.GetGrain<IApiKeyDirectoryGrain>(0).ListAsync(0, int.MaxValue),
            ["epochs"] = await grains.GetGrain<ILedgerGrain>(0).ListEpochsAsync(0, int.MaxValue),
            ["queues"] = await Task.WhenAll(Enumerable.Range(0, shards).Select(s => grains.GetGrain<IWorkQueueGrain>(s).GetStatsAsync())),
            ["accounts"] = await Task.WhenAll(addresses.Select(a => grains.GetGrain<IRewardAccountGrain>(a).GetAsync())),
        };
        return JsonSerializer.Serialize(state, ApiJson.Options);
    }
}
