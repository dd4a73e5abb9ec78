using System.Text.Json;
using DePin.Compute.Catalog;
using DePin.Compute.Kernels;

namespace DePin.Compute.Tests;

[Collection(DeviceCollection.Name)]
public sealed class OptionPriceTests(IlgpuCpuFixture fx)
{
    private readonly OptionPriceKernel _k = new();
    private const string Params = """{"spot":100,"strike":105,"rate":0.03,"volatility":0.25,"maturity":1.5,"paths":20001,"units":4,"seed":11}""";

    /// <summary>Black-Scholes call price; the normal CDF via a high-accuracy erfc (W. J. Cody-style rational, |err| &lt; 1.2e-7).</summary>
    private static double BlackScholes(double s, double k, double r, double sigma, double t)
    {
        double d1 = (Math.Log(s / k) + (r + 0.5 * sigma * sigma) * t) / (sigma * Math.Sqrt(t));
        double d2 = d1 - sigma * Math.Sqrt(t);
        return s * Phi(d1) - k * Math.Exp(-r * t) * Phi(d2);
    }

    private static double Phi(double x) => 0.5 * Erfc(-x / Math.Sqrt(2));

    private static double Erfc(double x)
    {
        // Numerical Recipes erfcc: fractional error < 1.2e-7 everywhere.
        double z = Math.Abs(x), t = 1 / (1 + 0.5 * z);
        double r = t * Math.Exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
            t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? r : 2 - r;
    }

    /// <summary>Scalar reference: the documented RNG mapping, evaluated path by path with System.Math.</summary>
    private static (double Sum, double Sq) Reference(OptionPriceKernel.Args a, long paths, uint unit)
    {
        double s = 0, q = 0;
        for (long i = 0; i < paths; i++)
        {
            ulong p = (ulong)i / 2;
            OptionPriceMath.Uniforms((uint)p, (uint)(p >> 32), unit, (uint)a.Seed, (uint)((ulong)a.Seed >> 32), out double u1, out double u2);
            double radius = Math.Sqrt(-2 * Math.Log(u1));
            double z = i % 2 == 0 ? radius * Math.Cos(2 * Math.PI * u2) : radius * Math.Sin(2 * Math.PI * u2);
            double st = a.Spot * Math.Exp((a.Rate - 0.5 * a.Volatility * a.Volatility) * a.Maturity + a.Volatility * Math.Sqrt(a.Maturity) * z);
            double v = Math.Max(st - a.Strike, 0) * Math.Exp(-a.Rate * a.Maturity);
            s += v;
            q += v * v;
        }
        return (s, q);
    }

    [Theory]
    [InlineData("ilgpu")]
    [InlineData("vector")]
    public void MatchesScalarReferenceAndBlackScholes(string which)
    {
        var plan = Run.Plan(_k, Params);
        Assert.Equal(4, plan.UnitCount);
        var outputs = Run.Execute(_k, which == "ilgpu" ? fx.Ilgpu : fx.Vector, plan);
        var a = OptionPriceKernel.ReadArgs(plan.CanonicalParameters);
        for (int u = 0; u < 4; u++)
        {
            long paths = OptionPriceKernel.PathsOfUnit(a.Paths, a.Units, u);
            Assert.Equal(u == 0 ? 5001 : 5000, paths);
            var (s, q) = Reference(a, paths, (uint)u);
            var want = new byte[24];
            BitConverter.TryWriteBytes(want, s);
            BitConverter.TryWriteBytes(want.AsSpan(8), q);
            BitConverter.TryWriteBytes(want.AsSpan(16), paths);
            Assert.True(_k.OutputsAgree(outputs[u], want), $"unit {u}: {BitConverter.ToDouble(outputs[u])} vs {s}");
        }
        var result = _k.Assemble(plan.CanonicalParameters, outputs);
        using var doc = JsonDocument.Parse(result.Data);
        double price = doc.RootElement.GetProperty("price").GetDouble();
        double se = doc.RootElement.GetProperty("standardError").GetDouble();
        double bs = BlackScholes(100, 105, 0.03, 0.25, 1.5);
        Assert.InRange(se, 0.01, 0.5);
        Assert.True(Math.Abs(price - bs) <= 4 * se, $"MC {price} +- {se} vs Black-Scholes {bs}");
        Assert.Equal(20001, doc.RootElement.GetProperty("paths").GetInt64());
        Assert.Contains("option-price call S=100 K=105", result.Summary);
    }

    [Fact]
    public void BackendsAgreeAndSeedMatters()
    {
        var plan = Run.Plan(_k, """{"spot":50,"strike":40,"rate":-0.01,"volatility":0.6,"maturity":0.25,"paths":3001,"units":2,"seed":-99}""");
        var a = Run.Execute(_k, fx.Ilgpu, plan);
        var b = Run.Execute(_k, fx.Vector, plan);
        for (int u = 0; u < plan.UnitCount; u++)
            Assert.True(_k.OutputsAgree(a[u], b[u]), $"unit {u}");
        var other = Run.Execute(_k, fx.Vector, Run.Plan(_k, """{"spot":50,"strike":40,"rate":-0.01,"volatility":0.6,"maturity":0.25,"paths":3001,"units":2,"seed":-98}"""));
        Assert.False(_k.OutputsAgree(b[0], other[0]));
        Assert.All(plan.UnitInputs, i => Assert.Empty(i));
        Assert.Equal(3001, Enumerable.Range(0, 2).Sum(u => OptionPriceKernel.PathsOfUnit(3001, 2, u)));
    }

    [Fact]
    public void ToleranceAcceptsUlpNoiseAndRejectsWrongResults()
    {
        static byte[] Out(double s, double q, long n)
        {
            var o = new byte[24];
            BitConverter.TryWriteBytes(o, s);
            BitConverter.TryWriteBytes(o.AsSpan(8), q);
            BitConverter.TryWriteBytes(o.AsSpan(16), n);
            return o;
        }
        Assert.True(_k.OutputsAgree(Out(1234.5, 98765.4, 1000), Out(Math.BitIncrement(Math.BitIncrement(1234.5)), Math.BitDecrement(98765.4), 1000)));
        Assert.False(_k.OutputsAgree(Out(1234.5, 98765.4, 1000), Out(1234.5 * (1 + 1e-6), 98765.4, 1000)));
        Assert.False(_k.OutputsAgree(Out(1234.5, 98765.4, 1000), Out(1234.5, 98765.4, 999)));
        Assert.False(_k.OutputsAgree(Out(1234.5, 98765.4, 1000), Out(double.NaN, 98765.4, 1000)));
        Assert.False(_k.OutputsAgree(Out(1, 1, 1), new byte[24].AsSpan(0, 16)));
    }

    [Theory]
    [InlineData("spot", "0", "'spot' must be in")]
    [InlineData("spot", "-5", "'spot' must be in")]
    [InlineData("strike", "1e10", "'strike' must be in")]
    [InlineData("volatility", "0", "'volatility' must be in")]
    [InlineData("volatility", "6", "'volatility' must be in")]
    [InlineData("maturity", "-1", "'maturity' must be in")]
    [InlineData("rate", "2", "'rate' must be in")]
    [InlineData("rate", "\"NaN\"", "'rate' must be a number")]
    [InlineData("paths", "0", "'paths' must be in")]
    [InlineData("paths", "1e13", "'paths' must be in")]
    [InlineData("units", "30000", "must not exceed paths")]
    [InlineData("maturity", "100", "volatility*sqrt(maturity)")]
    public void RejectsBadParameters(string field, string value, string fragment)
    {
        var fields = new Dictionary<string, string>
        {
            ["spot"] = "100",
            ["strike"] = "100",
            ["rate"] = "0.01",
            ["volatility"] = "2",
            ["maturity"] = "1",
            ["paths"] = "20000",
            ["units"] = "4",
        };
        fields[field] = value;
        string json = "{" + string.Join(",", fields.Select(kv => $"\"{kv.Key}\":{kv.Value}")) + "}";
        var e = Run.Rejects(_k, json);
        Assert.Contains(fragment, e.Message);
        Assert.StartsWith("option-price: ", e.Message);
    }
}
