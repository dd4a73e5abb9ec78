using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace DePin.Compute.Devices;

/// <summary>Finds the devices of this machine.</summary>
public static class DeviceInventory
{
    /// <summary>
    /// Enumerates devices in a fixed order, never trusting ILGPU's preferred-device ordering:
    /// CUDA devices first (<c>cuda0</c>, <c>cuda1</c>, ...), then OpenCL devices whose type is GPU (<c>opencl0</c>, ...;
    /// OpenCL-on-CPU runtimes are skipped), and only when no GPU was found one CPU device <c>cpu0</c>:
    /// <see cref="DeviceKind.VectorCpu"/> by default, <see cref="DeviceKind.IlgpuCpu"/> when
    /// <see cref="ComputeOptions.CpuBackend"/> is <see cref="CpuBackend.Ilgpu"/>.
    /// All ILGPU devices share the one process-wide ILGPU context; each call creates new accelerators,
    /// so the caller owns (and disposes) the returned devices. A GPU whose accelerator fails to open is skipped.
    /// </summary>
    public static IReadOnlyList<ComputeDevice> Discover(ComputeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        int max = Math.Max(1, options.MaxDevices);
        var devices = new List<ComputeDevice>();
        if (options.EnableGpus)
        {
            var context = IlgpuRuntime.Context;
            int cudaIndex = 0;
            foreach (var cuda in SafeList<CudaDevice>(() => { var l = new List<CudaDevice>(); foreach (var d in context.GetCudaDevices()) l.Add(d); return l; }))
            {
                if (devices.Count >= max) break;
                var d = cuda;
                TryAdd(devices, () => new ComputeDevice($"cuda{cudaIndex}", d.Name, DeviceKind.Cuda, d.MemorySize,
                    d.NumMultiprocessors, d.WarpSize, () => d.CreateAccelerator(context)), ref cudaIndex);
            }
            int clIndex = 0;
            foreach (var cl in SafeList<CLDevice>(() => { var l = new List<CLDevice>(); foreach (var d in context.GetCLDevices()) l.Add(d); return l; }))
            {
                if (devices.Count >= max) break;
                if (cl.DeviceType != CLDeviceType.CL_DEVICE_TYPE_GPU) continue;
                var d = cl;
                TryAdd(devices, () => new ComputeDevice($"opencl{clIndex}", d.Name, DeviceKind.OpenCL, d.MemorySize,
                    d.NumMultiprocessors, d.WarpSize, () => d.CreateAccelerator(context)), ref clIndex);
            }
        }
        if (devices.Count == 0)
        {
            devices.Add(options.CpuBackend == CpuBackend.Ilgpu ? ComputeDevice.CreateIlgpuCpu() : ComputeDevice.CreateVectorCpu());
        }
        return devices;
    }

    private static IReadOnlyList<T> SafeList<T>(Func<IReadOnlyList<T>> list)
    {
        try { return list(); }
        catch (Exception) { return []; }
    }

    private static void TryAdd(List<ComputeDevice> devices, Func<ComputeDevice> create, ref int index)
    {
        try
        {
            devices.Add(create());
            index++;
        }
        catch (Exception)
        {
            // A device whose driver refuses to create a context is not usable; skip it.
        }
    }
}
