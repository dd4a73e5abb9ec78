using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using DePin.Compute.Catalog;
using DePin.Compute.Devices;
using DePin.Compute.Kernels;

namespace DePin.Compute.Tests;

[Collection(DeviceCollection.Name)]
public sealed class SaxpyTests(IlgpuCpuFixture fx)
{
    private readonly SaxpyKernel _k = new();

    private static (float[] X, float[] Y) Data(int n, int seed)
    {
        var r = new Random(seed);
        var x = new float[n];
        var y = new float[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = (float)(r.NextDouble() * 200 - 100);
            y[i] = (float)(r.NextDouble() * 2e4 - 1e4);
        }
        return (x, y);
    }

    private static string Json(float a, float[] x, float[] y, int? unitSize = null) =>
        JsonSerializer.Serialize(unitSize is null ? new { a, x, y } : (object)new { a, x, y, unitSize });

    private static float[] Reference(float a, float[] x, float[] y) =>
        x.Select((xi, i) => (float)((double)a * xi + y[i])).ToArray();

    private ComputeDevice Device(string which) => which == "ilgpu" ? fx.Ilgpu : fx.Vector;

    [Theory]
    [InlineData("ilgpu")]
    [InlineData("vector")]
    public void MatchesScalarReference(string which)
    {
        var (x, y) = Data(1000, 1);
        var plan = Run.Plan(_k, Json(2.5f, x, y, 256));
        Assert.Equal(4, plan.UnitCount);
        var outputs = Run.Execute(_k, Device(which), plan);
        var got = outputs.SelectMany(o => MemoryMarshal.Cast<byte, float>(o).ToArray()).ToArray();
        var want = Reference(2.5f, x, y);
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < want.Length; i++)
            Assert.True(SaxpyKernel.ElementsAgree(want[i], got[i]), $"element {i}: {want[i]} vs {got[i]}");
        // The float64 evaluation makes both backends exact, not just within tolerance.
        Assert.Equal(want, got);
    }

    [Fact]
    public void LargeSliceUsesParallelPathAndMatches()
    {
        var (x, y) = Data(300_000, 2);
        var output = new float[x.Length];
        SaxpyVector.Compute(-1.75f, x, y, output);
        Assert.Equal(Reference(-1.75f, x, y), output);
    }

    [Fact]
    public void BackendsAgreeUnderOutputsAgree()
    {
        var (x, y) = Data(5000, 3);
        var plan = Run.Plan(_k, Json(0.3f, x, y, 1024));
        var a = Run.Execute(_k, fx.Ilgpu, plan);
        var b = Run.Execute(_k, fx.Vector, plan);
        for (int u = 0; u < plan.UnitCount; u++)
            Assert.True(_k.OutputsAgree(a[u], b[u]), $"unit {u}");
    }

    [Fact]
    public void PlanSplitsInputExactlyOnce()
    {
        var (x, y) = Data(1001, 4);
        var plan = Run.Plan(_k, Json(1f, x, y, 100));
        Assert.Equal(11, plan.UnitCount);
        var xs = new List<float>();
        var ys = new List<float>();
        for (int u = 0; u < plan.UnitCount; u++)
        {
            var f = MemoryMarshal.Cast<byte, float>(plan.UnitInputs[u]).ToArray();
            int m = f.Length / 2;
            Assert.Equal(u < 10 ? 100 : 1, m);
            xs.AddRange(f[..m]);
            ys.AddRange(f[m..]);
        }
        Assert.Equal(x, xs);
        Assert.Equal(y, ys);
        Assert.Equal(200, plan.Cost.Flops);
        Assert.Equal(1200, plan.Cost.Bytes);
        using var doc = JsonDocument.Parse(plan.CanonicalParameters);
        Assert.Equal(1001, doc.RootElement.GetProperty("n").GetInt32());
        Assert.False(doc.RootElement.TryGetProperty("x", out _));
    }

    [Fact]
    public void DefaultUnitSizeIs4096()
    {
        var (x, y) = Data(10_000, 5);
        var plan = Run.Plan(_k, Json(1f, x, y));
        Assert.Equal(3, plan.UnitCount);
        Assert.Equal(8 * 4096, plan.UnitInputs[0].Length);
    }

    [Fact]
    public void AssembleProducesJson()
    {
        float[] x = [1, 2, 3], y = [10, 20, 30];
        var plan = Run.Plan(_k, Json(2f, x, y, 2));
        var result = _k.Assemble(plan.CanonicalParameters, Run.Execute(_k, fx.Vector, plan));
        Assert.Equal("application/json", result.ContentType);
        using var doc = JsonDocument.Parse(result.Data);
        Assert.Equal([12f, 24f, 36f], doc.RootElement.GetProperty("y").EnumerateArray().Select(e => e.GetSingle()).ToArray());
        Assert.StartsWith("saxpy n=3 a=2 y[0]=12", result.Summary);
    }

    [Fact]
    public void AssembleWritesOverflowAsNull()
    {
        float[] x = [3e38f], y = [3e38f];
        var plan = Run.Plan(_k, Json(3e38f, x, y));
        var result = _k.Assemble(plan.CanonicalParameters, Run.Execute(_k, fx.Vector, plan));
        using var doc = JsonDocument.Parse(result.Data);
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("y")[0].ValueKind);
        Assert.Contains("overflowed=1", result.Summary);
    }

    [Fact]
    public void ToleranceAcceptsUlpNoiseAndRejectsWrongResults()
    {
        float[] good = [1.5f, -1234.5678f, 1e-3f, 0f, 3e30f];
        float[] noisy = good.Select(v => v == 0 ? float.Epsilon : MathF.BitIncrement(v)).ToArray();
        Assert.True(_k.OutputsAgree(Bytes(good), Bytes(good)));
        Assert.True(_k.OutputsAgree(Bytes(good), Bytes(noisy)));
        var wrong = (float[])good.Clone();
        wrong[1] *= 1.001f;
        Assert.False(_k.OutputsAgree(Bytes(good), Bytes(wrong)));
        Assert.False(_k.OutputsAgree(Bytes(good), Bytes(good[..4])));
        Assert.False(_k.OutputsAgree(Bytes([float.NaN]), Bytes([1f])));
        Assert.False(_k.OutputsAgree(new byte[5], new byte[5]));
        Assert.Equal(OutputComparison.Tolerance, _k.Comparison);
    }

    private static byte[] Bytes(float[] f) => MemoryMarshal.AsBytes(f.AsSpan()).ToArray();

    [Theory]
    [InlineData("""{"x":[1],"y":[1]}""", "missing required field 'a'")]
    [InlineData("""{"a":"2","x":[1],"y":[1]}""", "'a' must be a number")]
    [InlineData("""{"a":1e39,"x":[1],"y":[1]}""", "float32 range")]
    [InlineData("""{"a":1,"x":[1,2],"y":[1]}""", "same length")]
    [InlineData("""{"a":1,"x":[],"y":[]}""", "must not be empty")]
    [InlineData("""{"a":1,"x":[1,"2"],"y":[1,2]}""", "x[1] must be a number")]
    [InlineData("""{"a":1,"x":[1,null],"y":[1,2]}""", "x[1] must be a number")]
    [InlineData("""{"a":1,"x":{"0":1},"y":[1]}""", "'x' must be an array")]
    [InlineData("""{"a":1,"x":[1],"y":[1],"z":3}""", "unknown field 'z'")]
    [InlineData("""{"a":1,"x":[1],"y":[1],"unitSize":0}""", "'unitSize' must be in 1..1048576")]
    [InlineData("""{"a":1,"x":[1],"y":[1],"unitSize":-5}""", "'unitSize' must be in")]
    [InlineData("""{"a":1,"x":[1],"y":[1],"unitSize":2.5}""", "'unitSize' must be an integer")]
    [InlineData("""{"a":1,"a":2,"x":[1],"y":[1]}""", "duplicate field 'a'")]
    [InlineData("""[1,2]""", "must be a JSON object")]
    [InlineData("""null""", "must be a JSON object")]
    public void RejectsBadParameters(string json, string fragment)
    {
        var e = Run.Rejects(_k, json);
        Assert.Contains(fragment, e.Message);
        Assert.StartsWith("saxpy: ", e.Message);
    }

    [Fact]
    public void RejectsInputOverLimitsAndTooManyUnits()
    {
        var (x, y) = Data(100, 6);
        var e = Run.Rejects(_k, Json(1f, x, y), new KernelLimits(MaxInputBytes: 799));
        Assert.Contains("799 bytes", e.Message);
        e = Run.Rejects(_k, Json(1f, x, y, 1), new KernelLimits(MaxUnits: 50));
        Assert.Contains("at most 50", e.Message);
        e = Run.Rejects(_k, Json(1f, x, y), new KernelLimits(MaxOutputBytes: 100));
        Assert.Contains("output", e.Message);
        Assert.Equal(100, Run.Plan(_k, Json(1f, x, y, 1), new KernelLimits(MaxUnits: 100)).UnitCount);
    }
}
