using DePin.Abstractions;
using DePin.Abstractions.Nodes;
using DePin.Grains.Nodes;
using DePin.Tests.Infrastructure;
using DePin.Tests.NodeGateway;
using Microsoft.Extensions.DependencyInjection;

namespace DePin.Tests.Nodes;

/// <summary>
/// Node retention (<c>Nodes:Retention</c>) on a real silo: a node not seen for longer is removed from its directory shard
/// and its state cleared (a community agent's too, with its last device); live and excluded nodes stay; a node that
/// returns registers again. The silo's clock is a <see cref="ShiftedClock"/> the test moves past the retention, and the
/// test runs the shards' sweep itself (a reminder per shard runs it every <c>Nodes:PruneInterval</c>).
/// </summary>
public sealed class NodeRetentionTests(NodeRetentionTests.Silo fixture) : IClassFixture<NodeRetentionTests.Silo>
{
    private static readonly TimeSpan Retention = TimeSpan.FromMinutes(10);

    public sealed class Silo : IAsyncLifetime
    {
        public TestSilo Host { get; private set; } = null!;
        public ShiftedClock Clock { get; } = new();

        public async Task InitializeAsync() => Host = await TestSilo.StartAsync(workers: false, new Dictionary<string, string?>
        {
            ["Nodes:Retention"] = Retention.ToString(),
            ["Nodes:LastSeenResolution"] = "00:00:01",
        }, b => b.Services.AddSingleton<TimeProvider>(Clock));

        public Task DisposeAsync() => Host.DisposeAsync().AsTask();
    }

    private static NodeCapabilities Cpu => TestNodes.Cpu;

    private IGrainFactory Grains => fixture.Host.Grains;

    [Fact]
    public async Task Nodes_unseen_for_the_retention_are_pruned_and_register_again_when_they_return()
    {
        var stale = await RegisterAsync();
        var live = await RegisterAsync();
        var excluded = await RegisterAsync();
        await Grains.GetGrain<INodeGrain>(excluded).SetExcludedAsync("forged results");
        var agent = await new GatewayNode(fixture.Host.Http).LoginAsync();
        Assert.NotNull(await Grains.GetGrain<INodeAgentGrain>(agent.Address).GetAsync());
        var firstRegistration = (await Grains.GetGrain<INodeGrain>(stale).GetAsync())!.RegisteredAt;

        // Within the retention nothing goes.
        fixture.Clock.Advance(Retention * 0.6);
        await Grains.GetGrain<INodeGrain>(live).HeartbeatAsync();
        await NodeDirectory.PruneAsync(Grains);
        Assert.NotNull(await Grains.GetGrain<INodeGrain>(stale).GetAsync());

        // Past it, only the node that kept heartbeating and the excluded one stay. Every idle grain is deactivated first, so
        // the live node is judged by the last-seen time its heartbeat stored, not by one it still holds in memory.
        fixture.Clock.Advance(Retention * 0.6);
        await Grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        Assert.Equal(default, (await Grains.GetGrain<INodeGrain>(live).GetAsync())!.LastHeartbeat); // a fresh activation
        Assert.True(await NodeDirectory.PruneAsync(Grains) >= 2);
        Assert.Null(await Grains.GetGrain<INodeGrain>(stale).GetAsync());
        Assert.Null(await Grains.GetGrain<INodeGrain>(agent.NodeId).GetAsync());
        Assert.NotNull(await Grains.GetGrain<INodeGrain>(live).GetAsync());
        Assert.Equal("forged results", (await Grains.GetGrain<INodeGrain>(excluded).GetAsync())!.ExcludedBecause);
        Assert.DoesNotContain(stale, await ShardOfAsync(stale));
        Assert.DoesNotContain(agent.NodeId, await ShardOfAsync(agent.NodeId));
        Assert.Contains(live, await ShardOfAsync(live));
        await Eventually.WaitAsync(() => Grains.GetGrain<INodeAgentGrain>(agent.Address).GetAsync(), a => a is null, "the agent to forget its last device");
        var listed = (await fixture.Host.Http.GetAsync<List<NodeView>>("/nodes")).Select(n => n.NodeId).ToList();
        Assert.DoesNotContain(stale, listed);
        Assert.Contains(live, listed);
        Assert.Contains(excluded, listed);

        // Returning nodes register again as new.
        await Grains.GetGrain<INodeGrain>(stale).RegisterAsync(Registration());
        var again = (await Grains.GetGrain<INodeGrain>(stale).GetAsync())!;
        Assert.True(again.RegisteredAt > firstRegistration);
        Assert.Contains(stale, await ShardOfAsync(stale));
        await agent.LoginAsync();
        Assert.NotNull(await Grains.GetGrain<INodeGrain>(agent.NodeId).GetAsync());
        Assert.Equal(agent.PayoutAddress, (await Grains.GetGrain<INodeAgentGrain>(agent.Address).GetAsync())!.PayoutAddress);
    }

    [Fact]
    public async Task Each_directory_shard_with_nodes_holds_one_prune_reminder()
    {
        var node = await RegisterAsync();
        var shard = Grains.GetGrain<INodeDirectoryGrain>(DirectoryShards.Of(node));
        var reminders = await fixture.Host.Services.GetRequiredService<IReminderTable>().ReadRows(shard.GetGrainId());
        var reminder = Assert.Single(reminders.Reminders);
        Assert.Equal(TimeSpan.FromHours(1), reminder.Period);

        await RegisterAsync(); // another node (maybe in another shard) adds no reminder to this one
        Assert.Single((await fixture.Host.Services.GetRequiredService<IReminderTable>().ReadRows(shard.GetGrainId())).Reminders);
    }

    private Task<IReadOnlyList<string>> ShardOfAsync(string nodeId) => Grains.GetGrain<INodeDirectoryGrain>(DirectoryShards.Of(nodeId)).ListIdsAsync();

    private static NodeRegistration Registration() => new()
    {
        OperatorAddress = "0x" + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) + "00000000",
        SiloAddress = "test",
        Capabilities = Cpu,
    };

    private async Task<string> RegisterAsync()
    {
        var nodeId = "node-" + Guid.NewGuid().ToString("N")[..8] + "/cpu0";
        await Grains.GetGrain<INodeGrain>(nodeId).RegisterAsync(Registration());
        return nodeId;
    }
}
