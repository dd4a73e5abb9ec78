using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text.Json;
using DePin.Compute.Catalog;
using DePin.Compute.Devices;
using DePin.Compute.Internal;
using ILGPU;
using ILGPU.Runtime;

namespace DePin.Compute.Kernels;

/// <summary>
/// <c>sgemm</c>: C = A·B in float32 (A is m×k, B is k×n, all row-major). Inputs are client arrays <c>a</c>, <c>b</c>
/// or generated from a seed (<see cref="SeededData"/>, stream 1 for A, stream 2 for B). Units are blocks of rows of C.
/// A unit's output is an 8-byte header (int32 k, int32 n) followed by its rows of C as float32 LE; the header lets
/// <see cref="OutputsAgree"/> scale its tolerance by the accumulation length k.
/// </summary>
public sealed class SgemmKernel : KernelBase
{
    /// <summary>Largest m, n or k.</summary>
    public const int MaxSide = 8192;
    /// <summary>Default rows of C per unit.</summary>
    public const int DefaultRowsPerUnit = 64;
    /// <summary>Unit inputs (A row block plus all of B, per unit) may add up to this multiple of MaxInputBytes.</summary>
    public const int ReplicatedInputFactor = 8;
    /// <summary>Header bytes of a unit output.</summary>
    public const int HeaderBytes = 8;

    /// <inheritdoc />
    public override string Name => "sgemm";
    /// <inheritdoc />
    public override string Description => "C = A*B, float32 matrix multiply (tiled shared-memory ILGPU kernel / register-blocked Vector<float> CPU)";
    /// <inheritdoc />
    public override OutputComparison Comparison => OutputComparison.Tolerance;

    internal readonly record struct Args(int M, int N, int K, long? Seed, int RowsPerUnit);

    /// <inheritdoc />
    protected override KernelPlan PlanCore(JsonElement parameters, KernelLimits limits)
    {
        var p = new ParamReader(Name, parameters, "m", "n", "k", "seed", "a", "b", "rowsPerUnit");
        int m = (int)p.Integer("m", 1, MaxSide);
        int n = (int)p.Integer("n", 1, MaxSide);
        int k = (int)p.Integer("k", 1, MaxSide);
        int rows = (int)p.Integer("rowsPerUnit", 1, MaxSide, DefaultRowsPerUnit);
        bool explicitInput = p.Has("a") || p.Has("b");
        if (explicitInput && p.Has("seed"))
            throw p.Bad("give either 'seed' or the arrays 'a' and 'b', not both");
        long outputBytes = 4L * m * n + HeaderBytes * (long)((m + rows - 1) / rows);
        if (outputBytes > limits.MaxOutputBytes)
            throw p.Bad($"output of {4L * m * n} bytes (m*n float32) exceeds the limit of {limits.MaxOutputBytes}");
        int units = CountUnits(m, rows, limits, "rows");
        float[]? a = null, b = null;
        long? seed = null;
        if (explicitInput)
        {
            long aLen = (long)m * k, bLen = (long)k * n;
            if (4 * (aLen + bLen) > limits.MaxInputBytes)
                throw p.Bad($"a ({aLen}) and b ({bLen}) float32 elements exceed the input limit of {limits.MaxInputBytes} bytes; use 'seed' for generated inputs");
            long replicated = 4 * (aLen + units * bLen);
            if (replicated > ReplicatedInputFactor * limits.MaxInputBytes)
                throw p.Bad($"every unit carries all of b: {units} units make {replicated} input bytes, more than {ReplicatedInputFactor}x the input limit (raise rowsPerUnit)");
            int la = p.ArrayLength("a"), lb = p.ArrayLength("b");
            if (la != aLen) throw p.Bad($"'a' must hold m*k = {aLen} elements (row-major), got {la}");
            if (lb != bLen) throw p.Bad($"'b' must hold k*n = {bLen} elements (row-major), got {lb}");
            string hint = "too long";
            a = p.FloatArray("a", aLen, hint);
            b = p.FloatArray("b", bLen, hint);
        }
        else
        {
            seed = p.Integer("seed", long.MinValue, long.MaxValue, 1);
        }
        var args = new Args(m, n, k, seed, rows);
        string canonical = Canonical.Write(w =>
        {
            w.WriteNumber("m", m);
            w.WriteNumber("n", n);
            w.WriteNumber("k", k);
            if (seed is { } s) w.WriteNumber("seed", s); else w.WriteString("input", "explicit");
            w.WriteNumber("rowsPerUnit", rows);
        });
        var inputs = new byte[units][];
        for (int u = 0; u < units; u++)
        {
            if (a is null || b is null) { inputs[u] = []; continue; }
            var (r0, rc) = RowsOfUnit(m, rows, u);
            var blob = new byte[4 * ((long)rc * k + (long)k * n)];
            MemoryMarshal.AsBytes(a.AsSpan(r0 * k, rc * k)).CopyTo(blob);
            MemoryMarshal.AsBytes(b.AsSpan()).CopyTo(blob.AsSpan(4 * rc * k));
            inputs[u] = blob;
        }
        int first = Math.Min(rows, m);
        return new KernelPlan(canonical, inputs,
            new KernelCost(Flops: 2.0 * first * n * k, Bytes: 4.0 * ((double)first * k + (double)k * n + (double)first * n)));
    }

    internal static Args ReadArgs(string canonical)
    {
        using var doc = Canonical.Parse(canonical);
        var r = doc.RootElement;
        long? seed = r.TryGetProperty("seed", out var s) ? s.GetInt64() : null;
        return new Args(r.GetProperty("m").GetInt32(), r.GetProperty("n").GetInt32(), r.GetProperty("k").GetInt32(), seed,
            r.GetProperty("rowsPerUnit").GetInt32());
    }

    /// <summary>First row and row count of C computed by a unit.</summary>
    public static (int FirstRow, int Rows) RowsOfUnit(int m, int rowsPerUnit, int unitIndex)
    {
        long first = (long)unitIndex * rowsPerUnit;
        if (unitIndex < 0 || first >= m) throw new ArgumentOutOfRangeException(nameof(unitIndex));
        return ((int)first, Math.Min(rowsPerUnit, m - (int)first));
    }

    /// <summary>The A row block and B of a unit (from its input blob or generated from the seed).</summary>
    internal static (float[] A, float[] B) Operands(Args a, KernelUnit unit, int r0, int rc)
    {
        var ab = new float[(long)rc * a.K];
        var bb = new float[(long)a.K * a.N];
        if (a.Seed is { } seed)
        {
            SeededData.FillParallel(seed, 1, (long)r0 * a.K, ab);
            SeededData.FillParallel(seed, 2, 0, bb);
        }
        else
        {
            var f = MemoryMarshal.Cast<byte, float>(unit.Input.Span);
            if (f.Length != ab.Length + bb.Length)
                throw new ArgumentException($"sgemm unit input holds {f.Length} floats, expected {ab.Length + bb.Length}", nameof(unit));
            f[..ab.Length].CopyTo(ab);
            f[ab.Length..].CopyTo(bb);
        }
        return (ab, bb);
    }

    private static byte[] NewOutput(int k, int n, int rows)
    {
        var o = new byte[HeaderBytes + 4L * rows * n];
        BinaryPrimitives.WriteInt32LittleEndian(o, k);
        BinaryPrimitives.WriteInt32LittleEndian(o.AsSpan(4), n);
        return o;
    }

    /// <inheritdoc />
    protected override byte[] ExecuteIlgpu(ComputeDevice device, KernelUnit unit)
    {
        var a = ReadArgs(unit.CanonicalParameters);
        var (r0, rc) = RowsOfUnit(a.M, a.RowsPerUnit, unit.UnitIndex);
        var acc = device.Accelerator!;
        long aLen = (long)rc * a.K, bLen = (long)a.K * a.N, cLen = (long)rc * a.N;
        var av = device.GetBuffer<float>("sgemm.a", aLen).View.SubView(0, aLen);
        var bv = device.GetBuffer<float>("sgemm.b", bLen).View.SubView(0, bLen);
        var cv = device.GetBuffer<float>("sgemm.c", cLen).View.SubView(0, cLen);
        if (a.Seed is { } seed)
        {
            var gen = device.GetOrAdd("sgemm.generate", x =>
                x.LoadAutoGroupedStreamKernel<Index1D, uint, uint, uint, long, ArrayView<float>>(SgemmIlgpu.Generate));
            uint k0 = (uint)seed, k1 = (uint)((ulong)seed >> 32);
            gen((int)aLen, k0, k1, 1u, (long)r0 * a.K, av);
            gen((int)bLen, k0, k1, 2u, 0L, bv);
        }
        else
        {
            var f = MemoryMarshal.Cast<byte, float>(unit.Input.Span);
            if (f.Length != aLen + bLen)
                throw new ArgumentException($"sgemm unit input holds {f.Length} floats, expected {aLen + bLen}", nameof(unit));
            av.CopyFromCPU(acc.DefaultStream, f[..(int)aLen]);
            bv.CopyFromCPU(acc.DefaultStream, f[(int)aLen..]);
        }
        int tile = SgemmIlgpu.TileFor(acc);
        var kernel = device.GetOrAdd("sgemm.tiled", x =>
            x.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int>(SgemmIlgpu.Tiled));
        var grid = new Index2D((a.N + tile - 1) / tile, (rc + tile - 1) / tile);
        kernel(new KernelConfig(grid, new Index2D(tile, tile)), av, bv, cv, rc, a.N, a.K, tile);
        var output = NewOutput(a.K, a.N, rc);
        cv.CopyToCPU(acc.DefaultStream, MemoryMarshal.Cast<byte, float>(output.AsSpan(HeaderBytes)));
        acc.Synchronize();
        return output;
    }

    /// <inheritdoc />
    protected override byte[] ExecuteVector(KernelUnit unit)
    {
        var a = ReadArgs(unit.CanonicalParameters);
        var (r0, rc) = RowsOfUnit(a.M, a.RowsPerUnit, unit.UnitIndex);
        var (ab, bb) = Operands(a, unit, r0, rc);
        var c = new float[(long)rc * a.N];
        SgemmVector.Multiply(rc, a.N, a.K, ab, bb, c);
        var output = NewOutput(a.K, a.N, rc);
        MemoryMarshal.AsBytes(c.AsSpan()).CopyTo(output.AsSpan(HeaderBytes));
        return output;
    }

    /// <inheritdoc />
    public override long ExpectedOutputBytes(KernelUnit unit)
    {
        ArgumentNullException.ThrowIfNull(unit);
        var a = ParsedOnce(unit.CanonicalParameters, ReadArgs);
        var (_, rows) = RowsOfUnit(a.M, a.RowsPerUnit, unit.UnitIndex);
        return HeaderBytes + 4L * rows * a.N;
    }

    /// <inheritdoc />
    /// <remarks>Also checks the (k, n) header, which <see cref="OutputsAgree"/> and <see cref="Assemble"/> rely on.</remarks>
    public override bool IsWellFormedOutput(KernelUnit unit, ReadOnlySpan<byte> output)
    {
        if (!base.IsWellFormedOutput(unit, output)) return false;
        var a = ReadArgs(unit.CanonicalParameters);
        return BinaryPrimitives.ReadInt32LittleEndian(output) == a.K && BinaryPrimitives.ReadInt32LittleEndian(output[4..]) == a.N;
    }

    /// <inheritdoc />
    public override KernelResult Assemble(string canonicalParameters, IReadOnlyList<byte[]> unitOutputs)
    {
        ArgumentNullException.ThrowIfNull(unitOutputs);
        var a = ReadArgs(canonicalParameters);
        long expected = 4L * a.M * a.N;
        var data = new byte[expected];
        long at = 0;
        foreach (var o in unitOutputs)
        {
            if (o.Length < HeaderBytes || (o.Length - HeaderBytes) % (4L * a.N) != 0 || at + o.Length - HeaderBytes > expected)
                throw new ArgumentException("sgemm unit output has the wrong size", nameof(unitOutputs));
            o.AsSpan(HeaderBytes).CopyTo(data.AsSpan((int)at));
            at += o.Length - HeaderBytes;
        }
        if (at != expected) throw new ArgumentException($"sgemm outputs hold {at} bytes, expected {expected}", nameof(unitOutputs));
        double sum = 0, sq = 0;
        foreach (float v in MemoryMarshal.Cast<byte, float>(data))
        {
            sum += v;
            sq += (double)v * v;
        }
        string source = a.Seed is { } s ? $"seed={s}" : "explicit input";
        return new KernelResult("application/octet-stream", data, string.Create(CultureInfo.InvariantCulture,
            $"sgemm {a.M}x{a.N}x{a.K} ({source}) C as float32 LE row-major; sum={sum:G9} frobenius={Math.Sqrt(sq):G9}"));
    }

    /// <summary>
    /// Tolerance: same header and length; in every row, each element pair differs by at most
    /// <c>k · 2⁻²² · rms(row)</c> (rms of the larger of the two rows) plus one float32 ulp of the element.
    /// Reordered or fused accumulation of k products errs by about <c>k · 2⁻²⁴</c> times the partial-sum magnitude.
    /// </summary>
    public override bool OutputsAgree(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        if (a.Length != b.Length || a.Length < HeaderBytes || (a.Length - HeaderBytes) % 4 != 0 || !a[..HeaderBytes].SequenceEqual(b[..HeaderBytes]))
            return false;
        int k = BinaryPrimitives.ReadInt32LittleEndian(a), n = BinaryPrimitives.ReadInt32LittleEndian(a[4..]);
        if (k <= 0 || n <= 0) return false;
        var fa = MemoryMarshal.Cast<byte, float>(a[HeaderBytes..]);
        var fb = MemoryMarshal.Cast<byte, float>(b[HeaderBytes..]);
        if (fa.Length % n != 0) return false;
        double factor = k * Math.ScaleB(1.0, -22);
        for (int r = 0; r < fa.Length; r += n)
        {
            var ra = fa.Slice(r, n);
            var rb = fb.Slice(r, n);
            double sa = 0, sb = 0;
            for (int j = 0; j < n; j++)
            {
                if (!float.IsFinite(ra[j]) || !float.IsFinite(rb[j]))
                {
                    if (BitConverter.SingleToInt32Bits(ra[j]) != BitConverter.SingleToInt32Bits(rb[j])) return false;
                    continue;
                }
                sa += (double)ra[j] * ra[j];
                sb += (double)rb[j] * rb[j];
            }
            double bound = factor * Math.Sqrt(Math.Max(sa, sb) / n);
            for (int j = 0; j < n; j++)
            {
                double x = ra[j], y = rb[j];
                if (!double.IsFinite(x)) continue;
                double ulp = Math.Max(Math.Abs(x), Math.Abs(y)) * Math.ScaleB(1.0, -23);
                if (Math.Abs(x - y) > bound + ulp) return false;
            }
        }
        return true;
    }
}

/// <summary>ILGPU backend of <c>sgemm</c>.</summary>
public static class SgemmIlgpu
{
    /// <summary>Largest tile edge (the static shared-memory tiles are MaxTile×MaxTile floats).</summary>
    public const int MaxTile = 16;

    /// <summary>Tile edge for an accelerator: the largest power of two ≤ 16 whose square fits a group.</summary>
    public static int TileFor(Accelerator accelerator)
    {
        int tile = MaxTile;
        while (tile > 1 && tile * tile > accelerator.MaxNumThreadsPerGroup) tile /= 2;
        return tile;
    }

    /// <summary>Fills out[i] with element start+i of a <see cref="SeededData"/> stream.</summary>
    public static void Generate(Index1D i, uint k0, uint k1, uint stream, long start, ArrayView<float> output) =>
        output[i] = SeededData.Value(k0, k1, stream, start + i.X);

    /// <summary>
    /// Tiled C = A·B (A: m×k, B: k×n, row-major). Explicitly grouped: group (tile, tile) computes a tile×tile block of C;
    /// each step stages a tile of A and a tile of B in shared memory, synchronised with <see cref="Group.Barrier"/>.
    /// Out-of-range elements are staged as zeros, so any m, n, k work.
    /// </summary>
    public static void Tiled(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, int m, int n, int k, int tile)
    {
        var ta = SharedMemory.Allocate<float>(MaxTile * MaxTile);
        var tb = SharedMemory.Allocate<float>(MaxTile * MaxTile);
        int tx = Group.IdxX, ty = Group.IdxY;
        int col = Grid.IdxX * tile + tx;
        int row = Grid.IdxY * tile + ty;
        float sum = 0;
        for (int t = 0; t < k; t += tile)
        {
            ta[ty * tile + tx] = row < m && t + tx < k ? a[(long)row * k + t + tx] : 0f;
            tb[ty * tile + tx] = t + ty < k && col < n ? b[(long)(t + ty) * n + col] : 0f;
            Group.Barrier();
            for (int p = 0; p < tile; p++)
                sum += ta[ty * tile + p] * tb[p * tile + tx];
            Group.Barrier();
        }
        if (row < m && col < n)
            c[(long)row * n + col] = sum;
    }
}

/// <summary>
/// Vectorised .NET backend of <c>sgemm</c>: i-k-j loop blocked over k (256) and j (512), with a 4-row × 2-vector
/// register-blocked micro-kernel (8 Vector&lt;float&gt; accumulators, fused multiply-add) and Parallel.For over 4-row groups.
/// </summary>
public static class SgemmVector
{
    private const int KBlock = 256;
    private const int JBlock = 512;
    private const int RowGroup = 4;

    /// <summary>c (m×n) = a (m×k) · b (k×n), row-major.</summary>
    public static unsafe void Multiply(int m, int n, int k, float[] a, float[] b, float[] c)
    {
        if (a.Length < (long)m * k || b.Length < (long)k * n || c.Length < (long)m * n)
            throw new ArgumentException("sgemm operand sizes do not match m, n, k");
        Array.Clear(c, 0, m * n);
        int groups = (m + RowGroup - 1) / RowGroup;
        fixed (float* pa = a, pb = b, pc = c)
        {
            nint ba = (nint)pa, bb = (nint)pb, bc = (nint)pc;
            Parallel.For(0, groups, g =>
            {
                int i0 = g * RowGroup, rows = Math.Min(RowGroup, m - i0);
                for (int j0 = 0; j0 < n; j0 += JBlock)
                {
                    int j1 = Math.Min(n, j0 + JBlock);
                    for (int k0 = 0; k0 < k; k0 += KBlock)
                    {
                        int k1 = Math.Min(k, k0 + KBlock);
                        if (rows == RowGroup)
                            Block4((float*)ba, (float*)bb, (float*)bc, n, k, i0, j0, j1, k0, k1);
                        else
                            for (int i = i0; i < i0 + rows; i++)
                                Block1((float*)ba, (float*)bb, (float*)bc, n, k, i, j0, j1, k0, k1);
                    }
                }
            });
        }
    }

    private static unsafe void Block4(float* a, float* b, float* c, int n, int k, int i0, int j0, int j1, int k0, int k1)
    {
        int w = Vector<float>.Count;
        float* a0 = a + (long)i0 * k, a1 = a0 + k, a2 = a1 + k, a3 = a2 + k;
        float* c0 = c + (long)i0 * n, c1 = c0 + n, c2 = c1 + n, c3 = c2 + n;
        int j = j0;
        for (; j <= j1 - 2 * w; j += 2 * w)
        {
            var x00 = Vector.Load(c0 + j); var x01 = Vector.Load(c0 + j + w);
            var x10 = Vector.Load(c1 + j); var x11 = Vector.Load(c1 + j + w);
            var x20 = Vector.Load(c2 + j); var x21 = Vector.Load(c2 + j + w);
            var x30 = Vector.Load(c3 + j); var x31 = Vector.Load(c3 + j + w);
            float* bp = b + (long)k0 * n + j;
            for (int p = k0; p < k1; p++, bp += n)
            {
                var v0 = Vector.Load(bp);
                var v1 = Vector.Load(bp + w);
                var s = new Vector<float>(a0[p]);
                x00 = Vector.FusedMultiplyAdd(s, v0, x00); x01 = Vector.FusedMultiplyAdd(s, v1, x01);
                s = new Vector<float>(a1[p]);
                x10 = Vector.FusedMultiplyAdd(s, v0, x10); x11 = Vector.FusedMultiplyAdd(s, v1, x11);
                s = new Vector<float>(a2[p]);
                x20 = Vector.FusedMultiplyAdd(s, v0, x20); x21 = Vector.FusedMultiplyAdd(s, v1, x21);
                s = new Vector<float>(a3[p]);
                x30 = Vector.FusedMultiplyAdd(s, v0, x30); x31 = Vector.FusedMultiplyAdd(s, v1, x31);
            }
            x00.Store(c0 + j); x01.Store(c0 + j + w);
            x10.Store(c1 + j); x11.Store(c1 + j + w);
            x20.Store(c2 + j); x21.Store(c2 + j + w);
            x30.Store(c3 + j); x31.Store(c3 + j + w);
        }
        if (j < j1)
            for (int i = i0; i < i0 + RowGroup; i++)
                Block1(a, b, c, n, k, i, j, j1, k0, k1);
    }

    private static unsafe void Block1(float* a, float* b, float* c, int n, int k, int i, int j0, int j1, int k0, int k1)
    {
        int w = Vector<float>.Count;
        float* ar = a + (long)i * k, cr = c + (long)i * n;
        int j = j0;
        for (; j <= j1 - w; j += w)
        {
            var x = Vector.Load(cr + j);
            float* bp = b + (long)k0 * n + j;
            for (int p = k0; p < k1; p++, bp += n)
                x = Vector.FusedMultiplyAdd(new Vector<float>(ar[p]), Vector.Load(bp), x);
            x.Store(cr + j);
        }
        Tail(a, b, c, n, k, i, j, j1, k0, k1);
    }

    private static unsafe void Tail(float* a, float* b, float* c, int n, int k, int i, int j0, int j1, int k0, int k1)
    {
        for (int j = j0; j < j1; j++)
        {
            float x = c[(long)i * n + j];
            for (int p = k0; p < k1; p++)
                x = MathF.FusedMultiplyAdd(a[(long)i * k + p], b[(long)p * n + j], x);
            c[(long)i * n + j] = x;
        }
    }
}
