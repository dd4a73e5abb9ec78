namespace DePin.Abstractions.Nodes;

/// <summary>What a node's device can do, probed at silo start.</summary>
[GenerateSerializer, Immutable, Alias("depin.NodeCapabilities")]
public sealed record NodeCapabilities
{
    [Id(0)] public required string DeviceName { get; init; }
    /// <summary>Cuda, OpenCL, IlgpuCpu or VectorCpu.</summary>
    [Id(1)] public required string DeviceKind { get; init; }
    [Id(2)] public long MemoryBytes { get; init; }
    [Id(3)] public int ComputeUnits { get; init; }
    [Id(4)] public int WarpSize { get; init; }
    [Id(5)] public double SgemmGflops { get; init; }
    [Id(6)] public double CopyGBps { get; init; }
    /// <summary>
    /// True when the network measured these figures itself (an operator-run GPU silo's start-up probe); false for a
    /// community node's claims, which matching does not trust (<see cref="Jobs.JobRequirements.AreMetBy"/>).
    /// </summary>
    [Id(7)] public bool Measured { get; init; } = true;
}

/// <summary>Registration sent by a worker when its silo starts.</summary>
[GenerateSerializer, Immutable, Alias("depin.NodeRegistration")]
public sealed record NodeRegistration
{
    [Id(0)] public required string OperatorAddress { get; init; }
    [Id(1)] public required string SiloAddress { get; init; }
    [Id(2)] public required NodeCapabilities Capabilities { get; init; }
    /// <summary>True for a community node agent's device.</summary>
    [Id(3)] public bool Community { get; init; }
}

/// <summary>A node as shown to operators.</summary>
[GenerateSerializer, Immutable, Alias("depin.NodeView")]
public sealed record NodeView
{
    [Id(0)] public required string NodeId { get; init; }
    [Id(1)] public required string OperatorAddress { get; init; }
    [Id(2)] public required string SiloAddress { get; init; }
    [Id(3)] public required NodeCapabilities Capabilities { get; init; }
    [Id(4)] public DateTimeOffset RegisteredAt { get; init; }
    [Id(5)] public DateTimeOffset LastHeartbeat { get; init; }
    [Id(6)] public bool Online { get; init; }
    [Id(7)] public long UnitsVerified { get; init; }
    [Id(8)] public long UnitsRejected { get; init; }
    /// <summary>Share of this node's results that agreed with the verified output, 0..1.</summary>
    [Id(9)] public double Reputation { get; init; }
    /// <summary>True for a community node agent (reached over the node gateway), false for an operator-run GPU silo.</summary>
    [Id(10)] public bool Community { get; init; }
    /// <summary>Why an operator excluded the node; null when it is admitted.</summary>
    [Id(11)] public string? ExcludedBecause { get; init; }
}
