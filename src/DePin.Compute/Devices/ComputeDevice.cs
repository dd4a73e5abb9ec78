using System.Collections.Concurrent;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;

namespace DePin.Compute.Devices;

/// <summary>
/// One execution device: a GPU (CUDA/OpenCL), ILGPU's CPU accelerator, or the vectorised .NET CPU backend.
/// Holds a per-device cache so each kernel is compiled once per accelerator and device buffers are reused.
/// A device is driven by one worker thread at a time (Execute calls on one device are sequential);
/// different devices may run in parallel.
/// </summary>
public sealed class ComputeDevice : IDisposable
{
    private readonly Func<Accelerator>? _acceleratorFactory;
    private readonly ConcurrentDictionary<string, object> _cache = new(StringComparer.Ordinal);
    private readonly object _gate = new();
    private Accelerator? _accelerator;
    private bool _disposed;

    internal ComputeDevice(string id, string name, DeviceKind kind, long memoryBytes, int computeUnits, int warpSize,
        Func<Accelerator>? acceleratorFactory)
    {
        Id = id;
        Name = name;
        Kind = kind;
        MemoryBytes = memoryBytes;
        ComputeUnits = computeUnits;
        WarpSize = warpSize;
        _acceleratorFactory = acceleratorFactory;
        _accelerator = acceleratorFactory?.Invoke();
    }

    /// <summary>Stable id within this process, e.g. <c>cuda0</c>, <c>opencl0</c>, <c>cpu0</c>.</summary>
    public string Id { get; }

    /// <summary>Hardware name as reported by the driver.</summary>
    public string Name { get; }

    /// <summary>Backend kind.</summary>
    public DeviceKind Kind { get; }

    /// <summary>Device memory in bytes (system memory for CPU devices).</summary>
    public long MemoryBytes { get; }

    /// <summary>Streaming multiprocessors / compute units / cores.</summary>
    public int ComputeUnits { get; }

    /// <summary>Warp (SIMT width); the SIMD width in floats for <see cref="DeviceKind.VectorCpu"/>.</summary>
    public int WarpSize { get; }

    /// <summary>The ILGPU accelerator; null for <see cref="DeviceKind.VectorCpu"/>.</summary>
    public Accelerator? Accelerator => _accelerator;

    /// <summary>How many times <see cref="Recycle"/> has recreated the accelerator.</summary>
    public int Generation { get; private set; }

    /// <summary>True for CUDA and OpenCL devices.</summary>
    public bool IsGpu => Kind is DeviceKind.Cuda or DeviceKind.OpenCL;

    /// <summary>
    /// Returns the cached value for <paramref name="key"/>, creating it with <paramref name="factory"/> on first use
    /// (e.g. a loaded kernel delegate). Cleared by <see cref="Recycle"/>; values that are <see cref="IDisposable"/> are disposed then.
    /// </summary>
    public T GetOrAdd<T>(string key, Func<Accelerator, T> factory) where T : notnull
    {
        var accelerator = RequireAccelerator();
        if (_cache.TryGetValue(key, out var existing))
            return (T)existing;
        var created = factory(accelerator);
        return (T)_cache.GetOrAdd(key, created);
    }

    /// <summary>
    /// A pooled device buffer of at least <paramref name="minLength"/> elements for <paramref name="key"/>.
    /// The buffer grows (reallocates) when a larger one is needed and is otherwise reused across units.
    /// Use <c>.View.SubView(0, n)</c> for the part you need.
    /// </summary>
    public MemoryBuffer1D<T, Stride1D.Dense> GetBuffer<T>(string key, long minLength) where T : unmanaged
    {
        var accelerator = RequireAccelerator();
        minLength = Math.Max(1, minLength);
        if (_cache.TryGetValue(key, out var existing) && existing is MemoryBuffer1D<T, Stride1D.Dense> buffer && buffer.Length >= minLength)
            return buffer;
        if (existing is IDisposable old)
        {
            _cache.TryRemove(key, out _);
            old.Dispose();
        }
        // Round up to a power of two (at least 1024 elements) so slightly larger units do not reallocate each time.
        long length = Math.Max(1024, (long)System.Numerics.BitOperations.RoundUpToPowerOf2((ulong)minLength));
        var fresh = accelerator.Allocate1D<T>(length);
        _cache[key] = fresh;
        return fresh;
    }

    /// <summary>
    /// Runs <paramref name="body"/> on the accelerator. If ILGPU reports an accelerator fault the device is recycled
    /// (accelerator recreated, caches cleared) and a <see cref="DeviceFaultException"/> is thrown, so the worker can fail
    /// the unit and keep going.
    /// </summary>
    public T Run<T>(Func<Accelerator, T> body)
    {
        var accelerator = RequireAccelerator();
        try
        {
            return body(accelerator);
        }
        catch (Exception e) when (IsDeviceFault(e))
        {
            try { Recycle(); } catch (Exception) { /* the next unit will try again */ }
            throw new DeviceFaultException(Id, e);
        }
    }

    private static bool IsDeviceFault(Exception e) =>
        e is AcceleratorException or InvalidKernelOperationException or ILGPU.Runtime.Cuda.CudaException
          or ILGPU.Runtime.OpenCL.CLException or ObjectDisposedException;

    /// <summary>
    /// Disposes the cached kernels/buffers and the accelerator and creates a fresh accelerator on the same device.
    /// No-op for <see cref="DeviceKind.VectorCpu"/> and after <see cref="Dispose"/>. <see cref="Run{T}"/> already
    /// recycles before throwing <see cref="DeviceFaultException"/>, so callers need not call this again.
    /// </summary>
    public void Recycle()
    {
        lock (_gate)
        {
            // Tolerant by design: called from worker catch blocks, possibly while the device is being shut down.
            if (_disposed || _acceleratorFactory is null)
                return;
            ClearCache();
            try { _accelerator?.Dispose(); } catch (Exception) { /* a lost context may fail to dispose */ }
            _accelerator = null;
            Generation++;
            _accelerator = _acceleratorFactory(); // if this throws, the next use retries (see RequireAccelerator)
        }
    }

    private void ClearCache()
    {
        foreach (var key in _cache.Keys.ToArray())
        {
            if (_cache.TryRemove(key, out var value) && value is IDisposable d)
            {
                try { d.Dispose(); } catch (Exception) { /* best effort */ }
            }
        }
    }

    private Accelerator RequireAccelerator()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_accelerator is { } existing)
            return existing;
        if (_acceleratorFactory is null)
            throw new InvalidOperationException($"device {Id} ({Kind}) has no ILGPU accelerator");
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_accelerator is null)
            {
                // A previous Recycle could not recreate the accelerator; try again, reporting failure as a device fault.
                try { _accelerator = _acceleratorFactory(); }
                catch (Exception e) { throw new DeviceFaultException(Id, e); }
            }
            return _accelerator;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
            ClearCache();
            try { _accelerator?.Dispose(); } catch (Exception) { /* best effort */ }
            _accelerator = null;
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"{Id} ({Kind}: {Name}, {ComputeUnits} CU, {MemoryBytes >> 20} MiB)";

    /// <summary>Creates a device on ILGPU's CPU accelerator (uses the process-wide ILGPU context).</summary>
    public static ComputeDevice CreateIlgpuCpu(string id = "cpu0")
    {
        var context = IlgpuRuntime.Context;
        var device = IlgpuRuntime.CpuSimulator;
        return new ComputeDevice(id, "ILGPU CPU accelerator", DeviceKind.IlgpuCpu, GetSystemMemory(),
            device.NumMultiprocessors, device.WarpSize,
            () => device.CreateCPUAccelerator(context, CPUAcceleratorMode.Parallel));
    }

    /// <summary>Creates the vectorised .NET CPU device (no ILGPU accelerator).</summary>
    public static ComputeDevice CreateVectorCpu(string id = "cpu0") =>
        new(id, $"{Environment.ProcessorCount}-thread CPU (Vector<float>.Count={System.Numerics.Vector<float>.Count})",
            DeviceKind.VectorCpu, GetSystemMemory(), Environment.ProcessorCount, System.Numerics.Vector<float>.Count, null);

    internal static long GetSystemMemory()
    {
        long total = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        return total > 0 ? total : 0;
    }
}
