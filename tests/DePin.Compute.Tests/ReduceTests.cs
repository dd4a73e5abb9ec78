using System.Runtime.InteropServices;
using System.Text.Json;
using DePin.Compute.Catalog;
using DePin.Compute.Devices;
using DePin.Compute.Kernels;

namespace DePin.Compute.Tests;

[Collection(DeviceCollection.Name)]
public sealed class ReduceTests(IlgpuCpuFixture fx)
{
    private readonly ReduceKernel _k = new();

    private ComputeDevice Device(string which) => which == "ilgpu" ? fx.Ilgpu : fx.Vector;

    private static float[] Data(int n, int seed)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 200 - 100)).ToArray();
    }

    private static double Value(byte[] o) => BitConverter.ToDouble(o, 0);

    [Theory]
    [InlineData("ilgpu", "sum")]
    [InlineData("ilgpu", "min")]
    [InlineData("ilgpu", "max")]
    [InlineData("vector", "sum")]
    [InlineData("vector", "min")]
    [InlineData("vector", "max")]
    public void ExplicitInputMatchesScalarReference(string which, string op)
    {
        var x = Data(5000, 1);
        var plan = Run.Plan(_k, JsonSerializer.Serialize(new { op, x, unitSize = 1024 }));
        Assert.Equal(5, plan.UnitCount);
        var outputs = Run.Execute(_k, Device(which), plan);
        var result = _k.Assemble(plan.CanonicalParameters, outputs);
        using var doc = JsonDocument.Parse(result.Data);
        double got = doc.RootElement.GetProperty("value").GetDouble();
        switch (op)
        {
            case "sum":
                double sum = 0, mag = 0;
                foreach (var v in x) { sum += v; mag += Math.Abs(v); }
                Assert.True(Math.Abs(got - sum) <= 1e-5 * mag, $"{got} vs {sum}");
                Assert.Equal(mag, doc.RootElement.GetProperty("sumOfMagnitudes").GetDouble(), mag * 1e-5);
                break;
            case "min": Assert.Equal((double)x.Min(), got); break;
            default: Assert.Equal((double)x.Max(), got); break;
        }
        Assert.Equal(5000, doc.RootElement.GetProperty("n").GetInt64());
    }

    [Theory]
    [InlineData("sum")]
    [InlineData("min")]
    [InlineData("max")]
    public void SeededBackendsAgree(string op)
    {
        var plan = Run.Plan(_k, JsonSerializer.Serialize(new { op, n = 10_000, seed = 3, unitSize = 4096 }));
        Assert.Equal(3, plan.UnitCount);
        var a = Run.Execute(_k, fx.Ilgpu, plan);
        var b = Run.Execute(_k, fx.Vector, plan);
        for (int u = 0; u < plan.UnitCount; u++)
            Assert.True(_k.OutputsAgree(a[u], b[u]), $"unit {u}: {Value(a[u])} vs {Value(b[u])}");
        var x = new float[10_000];
        SeededData.Fill(3, 3, 0, x);
        double want = op switch { "sum" => x.Sum(v => (double)v), "min" => x.Min(), _ => x.Max() };
        var result = _k.Assemble(plan.CanonicalParameters, b);
        using var doc = JsonDocument.Parse(result.Data);
        Assert.Equal(want, doc.RootElement.GetProperty("value").GetDouble(), op == "sum" ? 1e-2 : 0);
    }

    [Fact]
    public void MinMaxCanonicaliseNegativeZero()
    {
        var plan = Run.Plan(_k, """{"op":"max","x":[-0.0,-0.0,-1]}""");
        var a = Run.Execute(_k, fx.Vector, plan)[0];
        var b = Run.Execute(_k, fx.Ilgpu, plan)[0];
        Assert.Equal(0L, BitConverter.DoubleToInt64Bits(Value(a)));
        Assert.Equal(a, b);
    }

    [Fact]
    public void SplitCoversInputExactlyOnce()
    {
        var x = Data(1001, 2);
        var plan = Run.Plan(_k, JsonSerializer.Serialize(new { op = "sum", x, unitSize = 100 }));
        Assert.Equal(11, plan.UnitCount);
        Assert.Equal(x, plan.UnitInputs.SelectMany(i => MemoryMarshal.Cast<byte, float>(i).ToArray()).ToArray());
        Assert.Equal(200, plan.Cost.Flops);
        Assert.Equal(400, plan.Cost.Bytes);
        var seeded = Run.Plan(_k, """{"op":"min","n":1001,"unitSize":100}""");
        Assert.Equal(11, seeded.UnitCount);
        Assert.Equal(1001, Enumerable.Range(0, 11).Sum(u => ReduceKernel.RangeOfUnit(1001, 100, u).Count));
        Assert.Equal(1000, ReduceKernel.RangeOfUnit(1001, 100, 10).Start);
    }

    private static byte[] Out(double v, double mag, long n)
    {
        var o = new byte[24];
        BitConverter.TryWriteBytes(o, v);
        BitConverter.TryWriteBytes(o.AsSpan(8), mag);
        BitConverter.TryWriteBytes(o.AsSpan(16), n);
        return o;
    }

    [Fact]
    public void ToleranceAcceptsRoundingNoiseAndRejectsWrongResults()
    {
        Assert.True(_k.OutputsAgree(Out(12.5, 1000, 10), Out(12.5 + 1000 * 1e-6, 1000 * (1 + 1e-7), 10)));
        Assert.False(_k.OutputsAgree(Out(12.5, 1000, 10), Out(12.5 + 1, 1000, 10)));
        Assert.False(_k.OutputsAgree(Out(12.5, 1000, 10), Out(12.5, 1000, 11)));
        Assert.False(_k.OutputsAgree(Out(12.5, 1000, 10), Out(12.5, 900, 10)));
        Assert.False(_k.OutputsAgree(Out(12.5, 1000, 10), Out(double.NaN, 1000, 10)));
        // min / max: bitwise
        Assert.True(_k.OutputsAgree(Out(-3.25, 0, 10), Out(-3.25, 0, 10)));
        Assert.False(_k.OutputsAgree(Out(-3.25, 0, 10), Out(Math.BitIncrement(-3.25), 0, 10)));
        Assert.False(_k.OutputsAgree(new byte[23], new byte[23]));
    }

    [Theory]
    [InlineData("""{"x":[1]}""", "missing required field 'op'")]
    [InlineData("""{"op":"avg","x":[1]}""", "must be one of sum, min, max")]
    [InlineData("""{"op":3,"x":[1]}""", "'op' must be a string")]
    [InlineData("""{"op":"sum"}""", "missing required field 'n'")]
    [InlineData("""{"op":"sum","n":0}""", "'n' must be in")]
    [InlineData("""{"op":"sum","n":-5}""", "'n' must be in")]
    [InlineData("""{"op":"sum","n":1e300}""", "'n' must be in")]
    [InlineData("""{"op":"sum","x":[1],"n":1}""", "not both")]
    [InlineData("""{"op":"sum","x":[]}""", "must not be empty")]
    [InlineData("""{"op":"sum","x":[1,"NaN"]}""", "x[1] must be a number")]
    [InlineData("""{"op":"sum","n":10,"unitSize":0}""", "'unitSize' must be in")]
    public void RejectsBadParameters(string json, string fragment)
    {
        var e = Run.Rejects(_k, json);
        Assert.Contains(fragment, e.Message);
        Assert.StartsWith("reduce: ", e.Message);
    }
}
