using System.Runtime.InteropServices;
using System.Text.Json;
using DePin.Compute.Catalog;
using DePin.Compute.Devices;
using DePin.Compute.Kernels;

namespace DePin.Compute.Tests;

[Collection(DeviceCollection.Name)]
public sealed class SgemmTests(IlgpuCpuFixture fx)
{
    private readonly SgemmKernel _k = new();

    private ComputeDevice Device(string which) => which == "ilgpu" ? fx.Ilgpu : fx.Vector;

    private static float[] Rand(int len, int seed)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, len).Select(_ => (float)(r.NextDouble() * 2 - 1)).ToArray();
    }

    /// <summary>Plain scalar reference, accumulated in float64 (so it is closer to exact than either backend).</summary>
    private static float[] Reference(int m, int n, int k, float[] a, float[] b)
    {
        var c = new float[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++) s += (double)a[i * k + p] * b[p * n + j];
                c[i * n + j] = (float)s;
            }
        return c;
    }

    private static float[] Matrix(byte[][] outputs) =>
        outputs.SelectMany(o => MemoryMarshal.Cast<byte, float>(o.AsSpan(SgemmKernel.HeaderBytes)).ToArray()).ToArray();

    private static byte[] WithHeader(int k, int n, float[] c)
    {
        var o = new byte[SgemmKernel.HeaderBytes + 4 * c.Length];
        BitConverter.TryWriteBytes(o, k);
        BitConverter.TryWriteBytes(o.AsSpan(4), n);
        MemoryMarshal.AsBytes(c.AsSpan()).CopyTo(o.AsSpan(8));
        return o;
    }

    [Theory]
    [InlineData("ilgpu", 32, 32, 32, 16)]
    [InlineData("vector", 32, 32, 32, 16)]
    [InlineData("ilgpu", 13, 19, 7, 5)]
    [InlineData("vector", 13, 19, 37, 5)]
    public void ExplicitInputMatchesScalarReference(string which, int m, int n, int k, int rows)
    {
        var a = Rand(m * k, 1);
        var b = Rand(k * n, 2);
        var plan = Run.Plan(_k, JsonSerializer.Serialize(new { m, n, k, a, b, rowsPerUnit = rows }));
        Assert.Equal((m + rows - 1) / rows, plan.UnitCount);
        var outputs = Run.Execute(_k, Device(which), plan);
        var want = Reference(m, n, k, a, b);
        var got = Matrix(outputs);
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(want[i] - got[i]) <= 1e-5 * k, $"C[{i}]: {want[i]} vs {got[i]}");
        // The unit rule accepts each backend against the float64 reference.
        int r0 = 0;
        for (int u = 0; u < outputs.Length; u++)
        {
            int rc = Math.Min(rows, m - r0);
            Assert.True(_k.OutputsAgree(outputs[u], WithHeader(k, n, want[(r0 * n)..((r0 + rc) * n)])), $"unit {u}");
            r0 += rc;
        }
    }

    [Fact]
    public void SeededInputMatchesReferenceAndBackendsAgree()
    {
        const int m = 32, n = 24, k = 40;
        var plan = Run.Plan(_k, """{"m":32,"n":24,"k":40,"seed":7,"rowsPerUnit":16}""");
        Assert.All(plan.UnitInputs, i => Assert.Empty(i));
        var a = new float[m * k];
        var b = new float[k * n];
        SeededData.Fill(7, 1, 0, a);
        SeededData.Fill(7, 2, 0, b);
        Assert.All(a, v => Assert.InRange(v, -1f, 0.99999994f));
        var want = Reference(m, n, k, a, b);
        var gi = Run.Execute(_k, fx.Ilgpu, plan);
        var gv = Run.Execute(_k, fx.Vector, plan);
        for (int u = 0; u < plan.UnitCount; u++)
            Assert.True(_k.OutputsAgree(gi[u], gv[u]), $"unit {u}");
        var ci = Matrix(gi);
        var cv = Matrix(gv);
        for (int i = 0; i < want.Length; i++)
        {
            Assert.True(Math.Abs(want[i] - ci[i]) <= 1e-5 * k, $"ilgpu C[{i}]");
            Assert.True(Math.Abs(want[i] - cv[i]) <= 1e-5 * k, $"vector C[{i}]");
        }
        var result = _k.Assemble(plan.CanonicalParameters, gv);
        Assert.Equal("application/octet-stream", result.ContentType);
        Assert.Equal(cv, MemoryMarshal.Cast<byte, float>(result.Data).ToArray());
        Assert.StartsWith("sgemm 32x24x40 (seed=7)", result.Summary);
    }

    [Fact]
    public void VectorBackendHandlesLargerOddShapes()
    {
        const int m = 70, n = 301, k = 260; // crosses the k block (256) and leaves j and row tails
        var a = Rand(m * k, 3);
        var b = Rand(k * n, 4);
        var c = new float[m * n];
        SgemmVector.Multiply(m, n, k, a, b, c);
        var want = Reference(m, n, k, a, b);
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(want[i] - c[i]) <= 1e-5 * k, $"C[{i}]: {want[i]} vs {c[i]}");
    }

    [Fact]
    public void SplitCoversRowsExactlyOnce()
    {
        const int m = 10, n = 3, k = 2;
        var a = Enumerable.Range(0, m * k).Select(i => (float)i).ToArray();
        var b = Enumerable.Range(0, k * n).Select(i => (float)-i).ToArray();
        var plan = Run.Plan(_k, JsonSerializer.Serialize(new { m, n, k, a, b, rowsPerUnit = 4 }));
        Assert.Equal(3, plan.UnitCount);
        var rowsSeen = new List<float>();
        foreach (var input in plan.UnitInputs)
        {
            var f = MemoryMarshal.Cast<byte, float>(input).ToArray();
            int aLen = f.Length - k * n;
            rowsSeen.AddRange(f[..aLen]);
            Assert.Equal(b, f[aLen..]);
        }
        Assert.Equal(a, rowsSeen);
        Assert.Equal(2.0 * 4 * n * k, plan.Cost.Flops);
        Assert.Equal(4.0 * (4 * k + k * n + 4 * n), plan.Cost.Bytes);
        using var doc = JsonDocument.Parse(plan.CanonicalParameters);
        Assert.False(doc.RootElement.TryGetProperty("a", out _));
        Assert.Equal([4, 4, 2], Enumerable.Range(0, 3).Select(u => SgemmKernel.RowsOfUnit(m, 4, u).Rows));
    }

    [Fact]
    public void ToleranceAcceptsUlpNoiseAndRejectsWrongResults()
    {
        const int k = 64, n = 16;
        var c = Rand(2 * n, 5).Select(v => v * 8).ToArray();
        var noisy = c.Select((v, i) => i % 2 == 0 ? MathF.BitIncrement(MathF.BitIncrement(v)) : MathF.BitDecrement(v)).ToArray();
        Assert.True(_k.OutputsAgree(WithHeader(k, n, c), WithHeader(k, n, c)));
        Assert.True(_k.OutputsAgree(WithHeader(k, n, c), WithHeader(k, n, noisy)));
        var wrong = (float[])c.Clone();
        wrong[5] += 0.01f * 8;
        Assert.False(_k.OutputsAgree(WithHeader(k, n, c), WithHeader(k, n, wrong)));
        Assert.False(_k.OutputsAgree(WithHeader(k, n, c), WithHeader(k + 1, n, c)));
        Assert.False(_k.OutputsAgree(WithHeader(k, n, c), WithHeader(k, n, c[..n])));
        var nan = (float[])c.Clone();
        nan[0] = float.NaN;
        Assert.False(_k.OutputsAgree(WithHeader(k, n, c), WithHeader(k, n, nan)));
        Assert.Equal(OutputComparison.Tolerance, _k.Comparison);
    }

    [Theory]
    [InlineData("""{"n":2,"k":2}""", "missing required field 'm'")]
    [InlineData("""{"m":0,"n":2,"k":2}""", "'m' must be in 1..8192")]
    [InlineData("""{"m":-3,"n":2,"k":2}""", "'m' must be in")]
    [InlineData("""{"m":2,"n":9000,"k":2}""", "'n' must be in")]
    [InlineData("""{"m":2,"n":2,"k":2.5}""", "'k' must be an integer")]
    [InlineData("""{"m":2,"n":2,"k":2,"seed":1.5}""", "'seed' must be an integer")]
    [InlineData("""{"m":1,"n":1,"k":2,"a":[1,2],"b":[1]}""", "'b' must hold k*n = 2")]
    [InlineData("""{"m":1,"n":1,"k":1,"a":[1],"b":[1],"seed":3}""", "not both")]
    [InlineData("""{"m":1,"n":1,"k":1,"a":[1e39],"b":[1]}""", "float32 range")]
    [InlineData("""{"m":1,"n":1,"k":1,"a":["NaN"],"b":[1]}""", "a[0] must be a number")]
    [InlineData("""{"m":1,"n":1,"k":1,"a":[1]}""", "missing required field 'b'")]
    [InlineData("""{"m":8192,"n":8192,"k":1}""", "exceeds the limit")]
    [InlineData("""{"m":1,"n":1,"k":1,"q":1}""", "unknown field 'q'")]
    public void RejectsBadParameters(string json, string fragment)
    {
        var e = Run.Rejects(_k, json);
        Assert.Contains(fragment, e.Message);
        Assert.StartsWith("sgemm: ", e.Message);
    }

    [Fact]
    public void RejectsTooMuchReplicatedInput()
    {
        var a = new float[64 * 4];
        var b = new float[4 * 64];
        var json = JsonSerializer.Serialize(new { m = 64, n = 64, k = 4, a, b, rowsPerUnit = 1 });
        var e = Run.Rejects(_k, json, new KernelLimits(MaxInputBytes: 4096));
        Assert.Contains("raise rowsPerUnit", e.Message);
        e = Run.Rejects(_k, json, new KernelLimits(MaxInputBytes: 1000));
        Assert.Contains("input limit", e.Message);
    }
}
