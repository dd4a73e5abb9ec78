namespace DePin.Compute.Devices;

/// <summary>What kind of hardware/backend a <see cref="ComputeDevice"/> runs kernels on.</summary>
public enum DeviceKind
{
    /// <summary>An NVIDIA GPU through ILGPU's CUDA backend.</summary>
    Cuda,
    /// <summary>A GPU through ILGPU's OpenCL backend (OpenCL-on-CPU devices are never used).</summary>
    OpenCL,
    /// <summary>ILGPU's CPU accelerator (a scalar GPU simulator; slow, mainly for testing the ILGPU kernels without a GPU).</summary>
    IlgpuCpu,
    /// <summary>Plain .NET vectorised code (System.Numerics.Tensors, Vector&lt;T&gt;, Parallel.For); no ILGPU accelerator.</summary>
    VectorCpu,
}

/// <summary>Which backend the CPU device uses when no GPU is found.</summary>
public enum CpuBackend
{
    /// <summary>Vectorised .NET code (<see cref="DeviceKind.VectorCpu"/>); the fast default.</summary>
    Vectorized,
    /// <summary>ILGPU's CPU accelerator (<see cref="DeviceKind.IlgpuCpu"/>).</summary>
    Ilgpu,
}

/// <summary>Options for <see cref="DeviceInventory.Discover"/>.</summary>
public sealed class ComputeOptions
{
    /// <summary>Backend of the CPU fallback device.</summary>
    public CpuBackend CpuBackend { get; set; } = CpuBackend.Vectorized;

    /// <summary>When false, GPUs are not enumerated and the CPU device is always used.</summary>
    public bool EnableGpus { get; set; } = true;

    /// <summary>Upper bound on the number of devices returned.</summary>
    public int MaxDevices { get; set; } = 8;
}
