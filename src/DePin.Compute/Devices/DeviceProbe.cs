using System.Diagnostics;
using System.Numerics;
using ILGPU;
using ILGPU.Runtime;

namespace DePin.Compute.Devices;

/// <summary>Measured capability of a device.</summary>
/// <param name="SgemmGflops">Single-precision matrix multiply throughput, GFLOP/s.</param>
/// <param name="CopyGBps">Host-to-device copy bandwidth (memory copy bandwidth for CPU devices), GB/s.</param>
public sealed record DeviceBenchmark(double SgemmGflops, double CopyGBps);

/// <summary>A short capability probe run when a provider registers its devices.</summary>
public static class DeviceProbe
{
    /// <summary>
    /// Measures SGEMM throughput and copy bandwidth, spending roughly <paramref name="budget"/> (half each; at least one
    /// repetition of each). VectorCpu: a blocked i-k-j Vector&lt;float&gt; SGEMM (n=128) and Array copies of 8 MiB.
    /// ILGPU devices: a naive one-thread-per-element SGEMM kernel (n=32 on the CPU simulator, 1024 on GPUs) and
    /// host-to-device copies. The first (compiling/warm-up) repetition is not timed.
    /// </summary>
    public static DeviceBenchmark Run(ComputeDevice device, TimeSpan budget)
    {
        ArgumentNullException.ThrowIfNull(device);
        var half = TimeSpan.FromTicks(Math.Max(budget.Ticks / 2, TimeSpan.FromMilliseconds(1).Ticks));
        return device.Kind == DeviceKind.VectorCpu ? RunVector(half) : device.Run(_ => RunIlgpu(device, half));
    }

    private static double Measure(TimeSpan budget, Action once, out int reps)
    {
        once(); // warm-up / JIT / kernel compile
        reps = 0;
        var sw = Stopwatch.StartNew();
        do
        {
            once();
            reps++;
        } while (sw.Elapsed < budget);
        return sw.Elapsed.TotalSeconds;
    }

    private static DeviceBenchmark RunVector(TimeSpan half)
    {
        const int n = 128;
        var a = new float[n * n];
        var b = new float[n * n];
        var c = new float[n * n];
        for (int i = 0; i < a.Length; i++) { a[i] = (i % 7) * 0.25f; b[i] = (i % 5) * 0.5f; }
        double seconds = Measure(half, () => VectorSgemm(n, a, b, c), out int reps);
        double gflops = 2.0 * n * n * n * reps / seconds / 1e9;

        var src = new byte[8 << 20];
        var dst = new byte[8 << 20];
        double copySeconds = Measure(half, () => src.AsSpan().CopyTo(dst), out int copyReps);
        return new DeviceBenchmark(gflops, (double)src.Length * copyReps / copySeconds / 1e9);
    }

    /// <summary>C = A·B for n×n row-major matrices: blocked i-k-j loop with Vector&lt;float&gt; rows, Parallel.For over row blocks.</summary>
    public static void VectorSgemm(int n, float[] a, float[] b, float[] c)
    {
        const int block = 32;
        Array.Clear(c);
        int w = Vector<float>.Count;
        Parallel.For(0, (n + block - 1) / block, ib =>
        {
            int i0 = ib * block, i1 = Math.Min(n, i0 + block);
            for (int k0 = 0; k0 < n; k0 += block)
            {
                int k1 = Math.Min(n, k0 + block);
                for (int i = i0; i < i1; i++)
                {
                    var crow = c.AsSpan(i * n, n);
                    for (int k = k0; k < k1; k++)
                    {
                        float aik = a[i * n + k];
                        var va = new Vector<float>(aik);
                        var brow = b.AsSpan(k * n, n);
                        int j = 0;
                        for (; j <= n - w; j += w)
                            (new Vector<float>(crow[j..]) + va * new Vector<float>(brow[j..])).CopyTo(crow[j..]);
                        for (; j < n; j++)
                            crow[j] += aik * brow[j];
                    }
                }
            }
        });
    }

    private static DeviceBenchmark RunIlgpu(ComputeDevice device, TimeSpan half)
    {
        var acc = device.Accelerator!;
        int n = device.IsGpu ? 1024 : 32;
        var kernel = device.GetOrAdd("probe.sgemm", x =>
            x.LoadAutoGroupedStreamKernel<Index2D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>>(ProbeKernels.NaiveSgemm));
        var a = device.GetBuffer<float>("probe.a", (long)n * n).View.SubView(0, (long)n * n);
        var b = device.GetBuffer<float>("probe.b", (long)n * n).View.SubView(0, (long)n * n);
        var c = device.GetBuffer<float>("probe.c", (long)n * n).View.SubView(0, (long)n * n);
        var host = new float[n * n];
        for (int i = 0; i < host.Length; i++) host[i] = (i % 7) * 0.25f;
        a.CopyFromCPU(acc.DefaultStream, host.AsSpan());
        b.CopyFromCPU(acc.DefaultStream, host.AsSpan());
        double seconds = Measure(half, () => { kernel(new Index2D(n, n), n, a, b, c); acc.Synchronize(); }, out int reps);
        double gflops = 2.0 * n * n * n * reps / seconds / 1e9;

        int copyElements = device.IsGpu ? 16 << 20 : 1 << 20;
        var src = new float[copyElements];
        var dst = device.GetBuffer<float>("probe.copy", copyElements).View.SubView(0, copyElements);
        double copySeconds = Measure(half, () => { dst.CopyFromCPU(acc.DefaultStream, src.AsSpan()); acc.Synchronize(); }, out int copyReps);
        return new DeviceBenchmark(gflops, 4.0 * copyElements * copyReps / copySeconds / 1e9);
    }
}

/// <summary>ILGPU kernels used by <see cref="DeviceProbe"/>.</summary>
public static class ProbeKernels
{
    /// <summary>c[i,j] = Σ_k a[i,k]·b[k,j]; one thread per output element (index.X = column j, index.Y = row i).</summary>
    public static void NaiveSgemm(Index2D index, int n, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c)
    {
        int j = index.X, i = index.Y;
        float sum = 0;
        for (int k = 0; k < n; k++)
            sum += a[i * n + k] * b[k * n + j];
        c[i * n + j] = sum;
    }
}
