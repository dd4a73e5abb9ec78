using DePin.Abstractions.Nodes;

namespace DePin.Tests.Infrastructure;

/// <summary>What hand-driven test nodes report when they lease.</summary>
public static class TestNodes
{
    /// <summary>A CPU with plenty of memory: meets every test job's requirements.</summary>
    public static readonly NodeCapabilities Cpu = new() { DeviceName = "test", DeviceKind = "VectorCpu", MemoryBytes = 1L << 34 };
}
