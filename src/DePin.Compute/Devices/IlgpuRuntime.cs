using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace DePin.Compute.Devices;

/// <summary>
/// The one ILGPU <see cref="Context"/> of the process. It is created lazily on first use and lives for the process
/// (never disposed): contexts are expensive and accelerators of one context can be recreated freely
/// (see <see cref="ComputeDevice.Recycle"/>).
/// </summary>
internal static class IlgpuRuntime
{
    private static readonly Lazy<Context> s_context = new(Create, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>CPU simulator configuration: warp 4 x 8 warps = 32 threads per group, one multiprocessor per 4 cores.</summary>
    internal static readonly CPUDevice CpuSimulator =
        new(numThreadsPerWarp: 4, numWarpsPerMultiprocessor: 8, numMultiprocessors: Math.Clamp(Environment.ProcessorCount / 4, 1, 8));

    /// <summary>The process-wide context (CUDA + OpenCL + CPU simulator, algorithms enabled).</summary>
    public static Context Context => s_context.Value;

    private static Context Create()
    {
        try
        {
            return Context.Create(b => b.Cuda().OpenCL().CPU(CpuSimulator).EnableAlgorithms());
        }
        catch (Exception)
        {
            // A broken GPU driver installation must not take the CPU path down with it.
            return Context.Create(b => b.CPU(CpuSimulator).EnableAlgorithms());
        }
    }
}
