namespace DePin.Abstractions.Jobs;

/// <summary>What a node must have to run a job's units. Null members mean "any".</summary>
[GenerateSerializer, Immutable, Alias("depin.JobRequirements")]
public sealed record JobRequirements
{
    /// <summary>Accepted device kinds (<c>Cuda</c>, <c>OpenCL</c>, <c>IlgpuCpu</c>, <c>VectorCpu</c>); empty = any.</summary>
    [Id(0)] public IReadOnlyList<string> DeviceKinds { get; init; } = [];

    /// <summary>Minimum device memory in bytes.</summary>
    [Id(1)] public long? MinMemoryBytes { get; init; }

    /// <summary>Minimum measured SGEMM throughput (node capability probe), GFLOP/s.</summary>
    [Id(2)] public double? MinGflops { get; init; }

    /// <summary>Every device kind a node can report.</summary>
    public static IReadOnlyList<string> KnownDeviceKinds { get; } = ["Cuda", "OpenCL", "IlgpuCpu", "VectorCpu"];

    /// <summary>True when a node with these capabilities may run the job.</summary>
    public bool AreMetBy(Nodes.NodeCapabilities? node)
    {
        if (node is null) return false;
        if (DeviceKinds.Count > 0 && !DeviceKinds.Contains(node.DeviceKind, StringComparer.OrdinalIgnoreCase)) return false;
        if (MinMemoryBytes is { } memory && node.MemoryBytes < memory) return false;
        // A claimed (unmeasured) speed counts as none: a node cannot talk its way into jobs it is too slow for.
        if (MinGflops is { } gflops && (!node.Measured || node.SgemmGflops < gflops)) return false;
        return true;
    }
}
