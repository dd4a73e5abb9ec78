using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using DePin.Compute.Catalog;
using DePin.Compute.Devices;
using DePin.Compute.Internal;
using ILGPU;
using ILGPU.Runtime;

namespace DePin.Compute.Kernels;

/// <summary>
/// <c>saxpy</c>: y = a*x + y over float32 vectors. Each element is computed as <c>(float)((double)a*x + y)</c>:
/// the float32 product is exact in float64, so fused and unfused evaluation round identically and all backends
/// agree bit for bit on IEEE hardware; the comparison is still a tolerance (1e-5 relative) to absorb devices that
/// flush subnormals.
/// </summary>
public sealed class SaxpyKernel : KernelBase
{
    /// <summary>Default elements per unit.</summary>
    public const int DefaultUnitSize = 4096;
    /// <summary>Largest allowed unit size.</summary>
    public const int MaxUnitSize = 1 << 20;
    /// <summary>Relative tolerance per element used by <see cref="OutputsAgree"/>.</summary>
    public const float RelativeTolerance = 1e-5f;
    private const float SmallestNormal = 1.17549435E-38f;

    /// <inheritdoc />
    public override string Name => "saxpy";
    /// <inheritdoc />
    public override string Description => "y = a*x + y over float32 vectors (memory-bound BLAS level 1)";
    /// <inheritdoc />
    public override OutputComparison Comparison => OutputComparison.Tolerance;

    /// <inheritdoc />
    protected override KernelPlan PlanCore(JsonElement parameters, KernelLimits limits)
    {
        var p = new ParamReader(Name, parameters, "a", "x", "y", "unitSize");
        double aD = p.Number("a");
        float a = (float)aD;
        if (!float.IsFinite(a))
            throw p.Bad("field 'a' is outside the float32 range");
        int unitSize = (int)p.Integer("unitSize", 1, MaxUnitSize, DefaultUnitSize);
        long maxElements = limits.MaxInputBytes / 8;
        string hint = $"x and y together may hold at most {limits.MaxInputBytes} bytes as float32 ({maxElements} elements each)";
        int nx = p.ArrayLength("x"), ny = p.ArrayLength("y");
        if (nx != ny)
            throw p.Bad($"x and y must have the same length (x has {nx}, y has {ny})");
        var x = p.FloatArray("x", maxElements, hint);
        var y = p.FloatArray("y", maxElements, hint);
        int n = x.Length;
        if (4L * n > limits.MaxOutputBytes)
            throw p.Bad($"output of {4L * n} bytes exceeds the limit of {limits.MaxOutputBytes}");
        int units = CountUnits(n, unitSize, limits, "elements");

        var inputs = new byte[units][];
        for (int u = 0; u < units; u++)
        {
            int start = u * unitSize, m = Math.Min(unitSize, n - start);
            var blob = new byte[8 * m];
            MemoryMarshal.AsBytes(x.AsSpan(start, m)).CopyTo(blob);
            MemoryMarshal.AsBytes(y.AsSpan(start, m)).CopyTo(blob.AsSpan(4 * m));
            inputs[u] = blob;
        }
        string canonical = Canonical.Write(w =>
        {
            w.WriteNumber("a", a);
            w.WriteNumber("n", n);
            w.WriteNumber("unitSize", unitSize);
        });
        int first = Math.Min(unitSize, n);
        return new KernelPlan(canonical, inputs, new KernelCost(Flops: 2.0 * first, Bytes: 12.0 * first));
    }

    private static float ReadA(string canonical)
    {
        using var doc = Canonical.Parse(canonical);
        return doc.RootElement.GetProperty("a").GetSingle();
    }

    private static int Split(KernelUnit unit)
    {
        if (unit.Input.Length == 0 || unit.Input.Length % 8 != 0)
            throw new ArgumentException($"saxpy unit input must be a non-empty multiple of 8 bytes, got {unit.Input.Length}", nameof(unit));
        return unit.Input.Length / 8;
    }

    /// <inheritdoc />
    protected override byte[] ExecuteIlgpu(ComputeDevice device, KernelUnit unit)
    {
        int m = Split(unit);
        float a = ReadA(unit.CanonicalParameters);
        var input = MemoryMarshal.Cast<byte, float>(unit.Input.Span);
        var kernel = device.GetOrAdd("saxpy.kernel", acc =>
            acc.LoadAutoGroupedStreamKernel<Index1D, float, ArrayView<float>, ArrayView<float>, ArrayView<float>>(SaxpyIlgpu.Kernel));
        var xs = device.GetBuffer<float>("saxpy.x", m).View.SubView(0, m);
        var ys = device.GetBuffer<float>("saxpy.y", m).View.SubView(0, m);
        var os = device.GetBuffer<float>("saxpy.out", m).View.SubView(0, m);
        var acc = device.Accelerator!;
        xs.CopyFromCPU(acc.DefaultStream, input[..m]);
        ys.CopyFromCPU(acc.DefaultStream, input[m..]);
        kernel(m, a, xs, ys, os);
        var output = new byte[4 * m];
        os.CopyToCPU(acc.DefaultStream, MemoryMarshal.Cast<byte, float>(output.AsSpan()));
        acc.Synchronize();
        return output;
    }

    /// <inheritdoc />
    protected override byte[] ExecuteVector(KernelUnit unit)
    {
        int m = Split(unit);
        float a = ReadA(unit.CanonicalParameters);
        var input = MemoryMarshal.Cast<byte, float>(unit.Input.Span);
        var output = new byte[4 * m];
        SaxpyVector.Compute(a, input[..m], input[m..], MemoryMarshal.Cast<byte, float>(output.AsSpan()));
        return output;
    }

    /// <inheritdoc />
    public override long ExpectedOutputBytes(KernelUnit unit)
    {
        ArgumentNullException.ThrowIfNull(unit);
        var (n, unitSize) = ParsedOnce(unit.CanonicalParameters, static canonical =>
        {
            using var doc = Canonical.Parse(canonical);
            return (doc.RootElement.GetProperty("n").GetInt64(), doc.RootElement.GetProperty("unitSize").GetInt64());
        });
        long first = (long)unit.UnitIndex * unitSize;
        if (unit.UnitIndex < 0 || first >= n) throw new ArgumentOutOfRangeException(nameof(unit), $"saxpy has no unit {unit.UnitIndex}");
        return 4 * Math.Min(unitSize, n - first); // one float32 per element
    }

    /// <inheritdoc />
    public override KernelResult Assemble(string canonicalParameters, IReadOnlyList<byte[]> unitOutputs)
    {
        ArgumentNullException.ThrowIfNull(unitOutputs);
        float a;
        int n;
        using (var doc = Canonical.Parse(canonicalParameters))
        {
            a = doc.RootElement.GetProperty("a").GetSingle();
            n = doc.RootElement.GetProperty("n").GetInt32();
        }
        long total = 0;
        foreach (var o in unitOutputs)
        {
            if (o.Length % 4 != 0) throw new ArgumentException("saxpy unit output is not a whole number of float32 values", nameof(unitOutputs));
            total += o.Length / 4;
        }
        if (total != n) throw new ArgumentException($"saxpy outputs hold {total} elements, expected {n}", nameof(unitOutputs));

        var buffer = new System.Buffers.ArrayBufferWriter<byte>(n * 12 + 16);
        int nonFinite = 0;
        float first = 0;
        bool haveFirst = false;
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartArray("y");
            foreach (var o in unitOutputs)
            {
                foreach (float v in MemoryMarshal.Cast<byte, float>(o))
                {
                    if (!haveFirst) { first = v; haveFirst = true; }
                    if (float.IsFinite(v)) w.WriteNumberValue(v);
                    else { w.WriteNullValue(); nonFinite++; }
                }
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        var summary = new StringBuilder(); summary.Append(CultureInfo.InvariantCulture, $"saxpy n={n} a={a.ToString("R", CultureInfo.InvariantCulture)} y[0]={first.ToString("R", CultureInfo.InvariantCulture)}");
        if (nonFinite > 0) summary.Append(CultureInfo.InvariantCulture, $" overflowed={nonFinite} (written as null)");
        return new KernelResult("application/json", buffer.WrittenSpan.ToArray(), summary.ToString());
    }

    /// <inheritdoc />
    public override bool OutputsAgree(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        if (a.Length != b.Length || a.Length % 4 != 0)
            return false;
        var fa = MemoryMarshal.Cast<byte, float>(a);
        var fb = MemoryMarshal.Cast<byte, float>(b);
        for (int i = 0; i < fa.Length; i++)
        {
            if (!ElementsAgree(fa[i], fb[i]))
                return false;
        }
        return true;
    }

    /// <summary>Per-element rule: identical bits, both subnormal/zero (flush-to-zero noise), or relative difference ≤ 1e-5.</summary>
    public static bool ElementsAgree(float x, float y)
    {
        if (BitConverter.SingleToInt32Bits(x) == BitConverter.SingleToInt32Bits(y)) return true;
        if (float.IsNaN(x) || float.IsNaN(y) || float.IsInfinity(x) || float.IsInfinity(y)) return false;
        float ax = MathF.Abs(x), ay = MathF.Abs(y);
        if (ax < SmallestNormal && ay < SmallestNormal) return true;
        return MathF.Abs(x - y) <= RelativeTolerance * MathF.Max(ax, ay);
    }
}

/// <summary>ILGPU backend of <c>saxpy</c>.</summary>
public static class SaxpyIlgpu
{
    /// <summary>One thread per element: <c>out[i] = (float)((double)a * x[i] + y[i])</c>.</summary>
    public static void Kernel(Index1D i, float a, ArrayView<float> x, ArrayView<float> y, ArrayView<float> output)
    {
        output[i] = (float)((double)a * x[i] + y[i]);
    }
}

/// <summary>Vectorised .NET backend of <c>saxpy</c>: Vector&lt;float&gt; widened to Vector&lt;double&gt;, Parallel.For on large slices.</summary>
public static class SaxpyVector
{
    private const int ParallelChunk = 1 << 16;

    /// <summary>output = a*x + y with the same float64 evaluation as the ILGPU kernel.</summary>
    public static void Compute(float a, ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> output)
    {
        if (x.Length != y.Length || output.Length != x.Length)
            throw new ArgumentException("saxpy spans must have equal lengths");
        if (x.Length < 2 * ParallelChunk)
        {
            Range(a, x, y, output);
            return;
        }
        unsafe
        {
            fixed (float* px = x, py = y, po = output)
            {
                nint bx = (nint)px, by = (nint)py, bo = (nint)po;
                int n = x.Length;
                int chunks = (n + ParallelChunk - 1) / ParallelChunk;
                Parallel.For(0, chunks, c =>
                {
                    int start = c * ParallelChunk, len = Math.Min(ParallelChunk, n - start);
                    Range(a, new ReadOnlySpan<float>((float*)bx + start, len), new ReadOnlySpan<float>((float*)by + start, len),
                        new Span<float>((float*)bo + start, len));
                });
            }
        }
    }

    private static void Range(float a, ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> output)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var va = new Vector<double>(a);
            int w = Vector<float>.Count;
            for (; i <= x.Length - w; i += w)
            {
                Vector.Widen(new Vector<float>(x[i..]), out var xLo, out var xHi);
                Vector.Widen(new Vector<float>(y[i..]), out var yLo, out var yHi);
                Vector.Narrow(va * xLo + yLo, va * xHi + yHi).CopyTo(output[i..]);
            }
        }
        for (; i < x.Length; i++)
            output[i] = (float)((double)a * x[i] + y[i]);
    }
}
