using System.Buffers.Binary;
using System.Globalization;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Text.Json;
using DePin.Compute.Catalog;
using DePin.Compute.Devices;
using DePin.Compute.Internal;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Algorithms.ScanReduceOperations;
using ILGPU.Runtime;

namespace DePin.Compute.Kernels;

/// <summary>
/// <c>reduce</c>: sum, min or max of a float32 array (client array <c>x</c>, or <c>n</c> values generated from a seed,
/// <see cref="SeededData"/> stream 3). Units are chunks of <c>unitSize</c> elements. A unit's output is 24 bytes:
/// float64 value, float64 sum of magnitudes (sum only; scales the tolerance), int64 element count.
/// </summary>
public sealed class ReduceKernel : KernelBase
{
    /// <summary>Default elements per unit.</summary>
    public const int DefaultUnitSize = 1 << 16;
    /// <summary>Largest unit size.</summary>
    public const int MaxUnitSize = 1 << 22;
    /// <summary>Largest generated element count.</summary>
    public const long MaxGenerated = 1L << 34;
    /// <summary>Sum tolerance relative to the sum of magnitudes (2⁻¹⁴, about 6e-5).</summary>
    public static readonly double SumTolerance = Math.ScaleB(1.0, -14);
    /// <summary>Bytes of a unit output.</summary>
    public const int OutputBytes = 24;

    /// <inheritdoc />
    public override string Name => "reduce";
    /// <inheritdoc />
    public override string Description => "sum / min / max of a float32 array (ILGPU.Algorithms Reduce / TensorPrimitives)";
    /// <inheritdoc />
    public override OutputComparison Comparison => OutputComparison.Tolerance;

    internal readonly record struct Args(string Op, long N, long? Seed, int UnitSize);

    /// <inheritdoc />
    protected override KernelPlan PlanCore(JsonElement parameters, KernelLimits limits)
    {
        var p = new ParamReader(Name, parameters, "op", "x", "n", "seed", "unitSize");
        string op = p.Choice("op", null, "sum", "min", "max");
        int unitSize = (int)p.Integer("unitSize", 1, MaxUnitSize, DefaultUnitSize);
        float[]? x = null;
        long n;
        long? seed = null;
        if (p.Has("x"))
        {
            if (p.Has("n") || p.Has("seed"))
                throw p.Bad("give either the array 'x' or 'n' and 'seed', not both");
            long max = limits.MaxInputBytes / 4;
            x = p.FloatArray("x", max, $"x may hold at most {limits.MaxInputBytes} bytes as float32 ({max} elements)");
            n = x.Length;
        }
        else
        {
            n = p.Integer("n", 1, MaxGenerated);
            seed = p.Integer("seed", long.MinValue, long.MaxValue, 1);
        }
        int units = CountUnits(n, unitSize, limits, "elements");
        if ((long)OutputBytes * units > limits.MaxOutputBytes)
            throw p.Bad($"output of {(long)OutputBytes * units} bytes exceeds the limit of {limits.MaxOutputBytes}");
        var inputs = new byte[units][];
        for (int u = 0; u < units; u++)
        {
            if (x is null) { inputs[u] = []; continue; }
            int start = u * unitSize, m = Math.Min(unitSize, x.Length - start);
            inputs[u] = MemoryMarshal.AsBytes(x.AsSpan(start, m)).ToArray();
        }
        string canonical = Canonical.Write(w =>
        {
            w.WriteString("op", op);
            w.WriteNumber("n", n);
            if (seed is { } s) w.WriteNumber("seed", s);
            w.WriteNumber("unitSize", unitSize);
        });
        long first = Math.Min(unitSize, n);
        return new KernelPlan(canonical, inputs, new KernelCost(Flops: (op == "sum" ? 2.0 : 1.0) * first, Bytes: 4.0 * first));
    }

    internal static Args ReadArgs(string canonical)
    {
        using var doc = Canonical.Parse(canonical);
        var r = doc.RootElement;
        long? seed = r.TryGetProperty("seed", out var s) ? s.GetInt64() : null;
        return new Args(r.GetProperty("op").GetString()!, r.GetProperty("n").GetInt64(), seed, r.GetProperty("unitSize").GetInt32());
    }

    /// <summary>First element and element count of a unit.</summary>
    public static (long Start, int Count) RangeOfUnit(long n, int unitSize, int unitIndex)
    {
        long start = (long)unitIndex * unitSize;
        if (unitIndex < 0 || start >= n) throw new ArgumentOutOfRangeException(nameof(unitIndex));
        return (start, (int)Math.Min(unitSize, n - start));
    }

    private static byte[] Output(double value, double magnitudes, long count)
    {
        var o = new byte[OutputBytes];
        BinaryPrimitives.WriteDoubleLittleEndian(o, value);
        BinaryPrimitives.WriteDoubleLittleEndian(o.AsSpan(8), magnitudes);
        BinaryPrimitives.WriteInt64LittleEndian(o.AsSpan(16), count);
        return o;
    }

    /// <summary>min/max results are canonicalised so that −0 and +0 (an implementation choice of min/max) compare equal bitwise.</summary>
    private static float Canon(float v) => v + 0f;

    /// <inheritdoc />
    protected override byte[] ExecuteIlgpu(ComputeDevice device, KernelUnit unit)
    {
        var a = ReadArgs(unit.CanonicalParameters);
        var (start, count) = RangeOfUnit(a.N, a.UnitSize, unit.UnitIndex);
        var acc = device.Accelerator!;
        var xv = device.GetBuffer<float>("reduce.x", count).View.SubView(0, count);
        if (a.Seed is { } seed)
        {
            var gen = device.GetOrAdd("sgemm.generate", x =>
                x.LoadAutoGroupedStreamKernel<Index1D, uint, uint, uint, long, ArrayView<float>>(SgemmIlgpu.Generate));
            gen(count, (uint)seed, (uint)((ulong)seed >> 32), 3u, start, xv);
        }
        else
        {
            var f = MemoryMarshal.Cast<byte, float>(unit.Input.Span);
            if (f.Length != count) throw new ArgumentException($"reduce unit input holds {f.Length} floats, expected {count}", nameof(unit));
            xv.CopyFromCPU(acc.DefaultStream, f);
        }
        var stream = acc.DefaultStream;
        switch (a.Op)
        {
            case "sum":
                {
                    float sum = acc.Reduce<float, AddFloat>(stream, xv);
                    var abs = device.GetOrAdd("reduce.abs", x =>
                        x.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>>(ReduceIlgpu.Abs));
                    var av = device.GetBuffer<float>("reduce.magnitudes", count).View.SubView(0, count);
                    abs(count, xv, av);
                    float magnitudes = acc.Reduce<float, AddFloat>(stream, av);
                    return Output(sum, magnitudes, count);
                }
            case "min":
                return Output(Canon(acc.Reduce<float, MinFloat>(stream, xv)), 0, count);
            default:
                return Output(Canon(acc.Reduce<float, MaxFloat>(stream, xv)), 0, count);
        }
    }

    /// <inheritdoc />
    protected override byte[] ExecuteVector(KernelUnit unit)
    {
        var a = ReadArgs(unit.CanonicalParameters);
        var (start, count) = RangeOfUnit(a.N, a.UnitSize, unit.UnitIndex);
        float[] x;
        if (a.Seed is { } seed)
        {
            x = new float[count];
            SeededData.FillParallel(seed, 3, start, x);
        }
        else
        {
            var f = MemoryMarshal.Cast<byte, float>(unit.Input.Span);
            if (f.Length != count) throw new ArgumentException($"reduce unit input holds {f.Length} floats, expected {count}", nameof(unit));
            x = f.ToArray();
        }
        return a.Op switch
        {
            "sum" => Output(ReduceVector.Sum(x, out double magnitudes), magnitudes, count),
            "min" => Output(Canon(TensorPrimitives.Min<float>(x)), 0, count),
            _ => Output(Canon(TensorPrimitives.Max<float>(x)), 0, count),
        };
    }

    /// <inheritdoc />
    public override long ExpectedOutputBytes(KernelUnit unit) => OutputBytes;

    /// <inheritdoc />
    public override KernelResult Assemble(string canonicalParameters, IReadOnlyList<byte[]> unitOutputs)
    {
        ArgumentNullException.ThrowIfNull(unitOutputs);
        var a = ReadArgs(canonicalParameters);
        long count = 0;
        // Kahan-compensated float64 sum of the unit partials; min/max exact.
        double sum = 0, comp = 0, magnitudes = 0;
        double best = a.Op == "min" ? double.PositiveInfinity : double.NegativeInfinity;
        foreach (var o in unitOutputs)
        {
            if (o.Length != OutputBytes) throw new ArgumentException($"reduce unit output must be {OutputBytes} bytes", nameof(unitOutputs));
            double v = BinaryPrimitives.ReadDoubleLittleEndian(o);
            magnitudes += BinaryPrimitives.ReadDoubleLittleEndian(o.AsSpan(8));
            count += BinaryPrimitives.ReadInt64LittleEndian(o.AsSpan(16));
            if (a.Op == "sum")
            {
                double y = v - comp, t = sum + y;
                comp = (t - sum) - y;
                sum = t;
            }
            else best = a.Op == "min" ? Math.Min(best, v) : Math.Max(best, v);
        }
        if (count != a.N) throw new ArgumentException($"reduce outputs cover {count} elements, expected {a.N}", nameof(unitOutputs));
        double value = a.Op == "sum" ? sum : best;
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(128);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("op", a.Op);
            w.WriteNumber("n", a.N);
            w.WriteNumber("value", value);
            if (a.Op == "sum") w.WriteNumber("sumOfMagnitudes", magnitudes);
            w.WriteEndObject();
        }
        return new KernelResult("application/json", buffer.WrittenSpan.ToArray(),
            string.Create(CultureInfo.InvariantCulture, $"reduce {a.Op} n={a.N} value={value:R}"));
    }

    /// <summary>
    /// Same count and, for sum, same op; sum: |a − b| ≤ 2⁻¹⁴ · max(sum of magnitudes) (float32 accumulation in different
    /// orders) and the magnitudes agree to the same relative bound; min/max: identical bits.
    /// </summary>
    public override bool OutputsAgree(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        if (a.Length != OutputBytes || b.Length != OutputBytes || !a[16..].SequenceEqual(b[16..]))
            return false;
        double va = BinaryPrimitives.ReadDoubleLittleEndian(a), vb = BinaryPrimitives.ReadDoubleLittleEndian(b);
        double ma = BinaryPrimitives.ReadDoubleLittleEndian(a[8..]), mb = BinaryPrimitives.ReadDoubleLittleEndian(b[8..]);
        if (ma == 0 && mb == 0)
            return a[..8].SequenceEqual(b[..8]); // min / max (or an all-zero sum)
        if (!double.IsFinite(va) || !double.IsFinite(vb) || !double.IsFinite(ma) || !double.IsFinite(mb) || ma < 0 || mb < 0)
            return false;
        double scale = Math.Max(ma, mb);
        return Math.Abs(va - vb) <= SumTolerance * scale && Math.Abs(ma - mb) <= SumTolerance * scale;
    }
}

/// <summary>ILGPU helper kernel of <c>reduce</c> (the reductions themselves are ILGPU.Algorithms' <c>Reduce</c>).</summary>
public static class ReduceIlgpu
{
    /// <summary>output[i] = |x[i]|.</summary>
    public static void Abs(Index1D i, ArrayView<float> x, ArrayView<float> output) => output[i] = Math.Abs(x[i]);
}

/// <summary>
/// Vectorised .NET backend of <c>reduce</c>: TensorPrimitives.Sum / SumOfMagnitudes over 4096-element chunks whose
/// results are accumulated in float64; slices of 256k elements or more are split into 64k blocks with Parallel.For
/// and the block partials added in block order (deterministic).
/// </summary>
public static class ReduceVector
{
    private const int Chunk = 4096;
    private const int Block = 1 << 16;

    /// <summary>Sum and sum of magnitudes.</summary>
    public static unsafe double Sum(ReadOnlySpan<float> x, out double magnitudes)
    {
        if (x.Length < 4 * Block)
            return Serial(x, out magnitudes);
        int n = x.Length, blocks = (n + Block - 1) / Block;
        var sums = new double[blocks];
        var mags = new double[blocks];
        fixed (float* px = x)
        {
            nint bx = (nint)px;
            Parallel.For(0, blocks, b =>
            {
                int start = b * Block, len = Math.Min(Block, n - start);
                sums[b] = Serial(new ReadOnlySpan<float>((float*)bx + start, len), out mags[b]);
            });
        }
        double sum = 0;
        magnitudes = 0;
        for (int b = 0; b < blocks; b++) { sum += sums[b]; magnitudes += mags[b]; }
        return sum;
    }

    private static double Serial(ReadOnlySpan<float> x, out double magnitudes)
    {
        double sum = 0;
        magnitudes = 0;
        for (int i = 0; i < x.Length; i += Chunk)
        {
            var s = x.Slice(i, Math.Min(Chunk, x.Length - i));
            sum += TensorPrimitives.Sum(s);
            magnitudes += TensorPrimitives.SumOfMagnitudes(s);
        }
        return sum;
    }
}
