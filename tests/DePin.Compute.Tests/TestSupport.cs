using System.Security.Cryptography;
using System.Text.Json;
using DePin.Compute.Catalog;
using DePin.Compute.Devices;

namespace DePin.Compute.Tests;

/// <summary>One ILGPU CPU accelerator shared by all kernel test classes (contexts/accelerators and kernel compiles are slow).</summary>
public sealed class IlgpuCpuFixture : IDisposable
{
    public ComputeDevice Ilgpu { get; } = ComputeDevice.CreateIlgpuCpu();
    public ComputeDevice Vector { get; } = ComputeDevice.CreateVectorCpu();

    public void Dispose()
    {
        Ilgpu.Dispose();
        Vector.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class DeviceCollection : ICollectionFixture<IlgpuCpuFixture>
{
    public const string Name = "devices";
}

internal static class Run
{
    public static KernelPlan Plan(IKernel kernel, string json, KernelLimits? limits = null)
    {
        using var doc = JsonDocument.Parse(json);
        return kernel.Plan(doc.RootElement, limits ?? KernelLimits.Default);
    }

    public static byte[][] Execute(IKernel kernel, ComputeDevice device, KernelPlan plan) =>
        plan.UnitInputs.Select((input, i) => kernel.Execute(device, new KernelUnit(plan.CanonicalParameters, i, plan.UnitCount, input))).ToArray();

    public static string Digest(IEnumerable<byte[]> outputs) =>
        string.Join(",", outputs.Select(o => Convert.ToHexString(SHA256.HashData(o))));

    public static KernelArgumentException Rejects(IKernel kernel, string json, KernelLimits? limits = null) =>
        Assert.Throws<KernelArgumentException>(() => Plan(kernel, json, limits));
}
