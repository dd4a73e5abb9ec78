using Orleans.Concurrency;

namespace DePin.Abstractions.Scheduling;

/// <summary>
/// Told by a queue shard that it has ready units again, so waiting lessees (long-polling node agents and idle
/// in-cluster workers) wake at once instead of polling. One per silo subscribes to every shard.
/// </summary>
[Alias("depin.IWorkAvailableObserver")]
public interface IWorkAvailableObserver : IGrainObserver
{
    /// <summary>Shard <paramref name="shard"/> has units ready to lease.</summary>
    [OneWay, Alias("WorkAvailable")] Task WorkAvailableAsync(int shard);
}

/// <summary>One lease call: who asks, how many units, what the node can do, and how many it may hold.</summary>
[GenerateSerializer, Immutable, Alias("depin.LeaseRequest")]
public sealed record LeaseRequest
{
    /// <summary>The leasing node (one device).</summary>
    [Id(0)] public required string NodeId { get; init; }

    /// <summary>Most units to lease in this call.</summary>
    [Id(1)] public required int Max { get; init; }

    /// <summary>The node's capabilities; null = unknown (only units of jobs without requirements).</summary>
    [Id(2)] public Nodes.NodeCapabilities? Capabilities { get; init; }

    /// <summary>Most units this node may hold leased in this shard at once (its standing decides); 0 = no cap.</summary>
    [Id(3)] public int MaxHeld { get; init; }
}
