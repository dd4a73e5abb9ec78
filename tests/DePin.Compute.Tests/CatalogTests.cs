using System.Text;
using System.Text.Json;
using DePin.Compute.Catalog;

namespace DePin.Compute.Tests;

public sealed class CatalogTests
{
    [Fact]
    public void DefaultCatalogListsKernelsByName()
    {
        var names = KernelCatalog.Default.All.Select(k => k.Name).ToArray();
        Assert.Equal(["blur", "mandelbrot", "montecarlo-pi", "option-price", "reduce", "saxpy", "sgemm"], names);
        Assert.True(KernelCatalog.Default.TryGet("saxpy", out var k));
        Assert.Equal("saxpy", k.Name);
        Assert.Same(k, KernelCatalog.Default.Get("saxpy"));
        Assert.False(KernelCatalog.Default.TryGet("SAXPY", out _));
        Assert.All(KernelCatalog.Default.All, kernel => Assert.False(string.IsNullOrWhiteSpace(kernel.Description)));
    }

    [Fact]
    public void UnknownKernelMessageListsKnownNames()
    {
        var e = Assert.Throws<KernelArgumentException>(() => KernelCatalog.Default.Get("nope"));
        Assert.Equal("unknown kernel 'nope'; known: blur, mandelbrot, montecarlo-pi, option-price, reduce, saxpy, sgemm", e.Message);
    }

    [Fact]
    public void DuplicateNamesRejected() =>
        Assert.Throws<ArgumentException>(() => new KernelCatalog([KernelCatalog.Default.Get("saxpy"), KernelCatalog.Default.Get("saxpy")]));

    private static readonly string[] Odd =
    [
        "null", "true", "1", "\"x\"", "[]", "[1,2,3]", "{}", "{\"\":null}",
        "1e400", "-0", "{\"a\":{}}", "{\"x\":[[1]]}",
    ];

    private static readonly string[] OddValues =
    [
        "null", "true", "false", "\"12\"", "\"NaN\"", "[]", "[1]", "{}", "0", "-1", "1.5", "1e308", "-1e308", "1e-320",
        "99999999999999999999999999", "-99999999999999999999999999", "1e400", "9223372036854775807", "9223372036854775808",
        "-9223372036854775809", "4294967296", "2147483648", "[1,2,\"3\"]", "[null]", "[1e39]", "[[1,2]]", "[1e400]", "0.0000001",
    ];

    /// <summary>Plan must never throw anything but KernelArgumentException, and never through the fallback conversion.</summary>
    [Fact]
    public void FuzzedParametersOnlyEverThrowKernelArgumentException()
    {
        var fields = new Dictionary<string, string[]>
        {
            ["saxpy"] = ["a", "x", "y", "unitSize"],
            ["montecarlo-pi"] = ["samples", "units", "seed"],
            ["mandelbrot"] = ["width", "height", "maxIterations", "centerX", "centerY", "scale", "rowsPerUnit"],
            ["sgemm"] = ["m", "n", "k", "seed", "a", "b", "rowsPerUnit"],
            ["reduce"] = ["op", "x", "n", "seed", "unitSize"],
            ["option-price"] = ["spot", "strike", "rate", "volatility", "maturity", "paths", "units", "seed"],
            ["blur"] = ["width", "height", "pixels", "seed", "sigma", "radius", "rowsPerUnit"],
        };
        var rng = new Random(42);
        var limits = new KernelLimits(MaxUnits: 1000, MaxInputBytes: 4096, MaxOutputBytes: 1 << 20);
        int planned = 0, rejected = 0;
        foreach (var kernel in KernelCatalog.Default.All)
        {
            var docs = new List<string>(Odd);
            var names = fields[kernel.Name];
            for (int i = 0; i < 1500; i++)
            {
                var sb = new StringBuilder("{");
                bool first = true;
                foreach (var name in names)
                {
                    if (rng.Next(6) == 0) continue; // sometimes missing
                    if (!first) sb.Append(',');
                    first = false;
                    string value = rng.Next(3) == 0 ? OddValues[rng.Next(OddValues.Length)] : Plausible(name, rng);
                    sb.Append('"').Append(name).Append("\":").Append(value);
                }
                if (rng.Next(20) == 0) sb.Append(first ? "" : ",").Append("\"extra\":1");
                sb.Append('}');
                docs.Add(sb.ToString());
            }
            foreach (var json in docs)
            {
                using var doc = JsonDocument.Parse(json);
                try
                {
                    var plan = kernel.Plan(doc.RootElement, limits);
                    Assert.InRange(plan.UnitCount, 1, limits.MaxUnits);
                    Assert.True(plan.Cost.PriceMicroCredits >= 1);
                    planned++;
                }
                catch (KernelArgumentException e)
                {
                    Assert.DoesNotContain(KernelBase.UnexpectedPrefix, e.Message);
                    Assert.False(string.IsNullOrWhiteSpace(e.Message));
                    rejected++;
                }
            }
            // Plan also tolerates a default (undefined) element.
            Assert.Throws<KernelArgumentException>(() => kernel.Plan(default, limits));
        }
        Assert.True(planned > 100, $"only {planned} fuzzed plans succeeded");
        Assert.True(rejected > 100, $"only {rejected} fuzzed plans were rejected");
    }

    private static string Plausible(string name, Random rng) => name switch
    {
        "op" => rng.Next(4) switch { 0 => "\"sum\"", 1 => "\"min\"", 2 => "\"max\"", _ => "\"avg\"" },
        "m" or "n" or "k" => rng.Next(1, 5).ToString(System.Globalization.CultureInfo.InvariantCulture),
        "a" or "b" => "[" + string.Join(",", Enumerable.Range(0, rng.Next(1, 9)).Select(_ => rng.Next(-3, 4).ToString(System.Globalization.CultureInfo.InvariantCulture))) + "]",
        "spot" or "strike" => (rng.NextDouble() * 200 - 20).ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        "rate" => (rng.NextDouble() * 2.4 - 1.2).ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        "volatility" => (rng.NextDouble() * 6 - 0.5).ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        "maturity" => (rng.NextDouble() * 120 - 5).ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        "paths" => rng.Next(1, 100000).ToString(System.Globalization.CultureInfo.InvariantCulture),
        "seed" => rng.Next(3) == 0 ? "-12345678901234" : rng.Next(100).ToString(System.Globalization.CultureInfo.InvariantCulture),
        "x" or "y" => "[" + string.Join(",", Enumerable.Range(0, rng.Next(1, 4)).Select(_ => (rng.NextDouble() * 10).ToString("R", System.Globalization.CultureInfo.InvariantCulture))) + "]",
        "a" or "centerX" or "centerY" => (rng.NextDouble() * 4 - 2).ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        "scale" => (rng.NextDouble() * 3).ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        "units" or "unitSize" or "rowsPerUnit" => rng.Next(1, 8).ToString(System.Globalization.CultureInfo.InvariantCulture),
        "samples" => rng.Next(1, 100000).ToString(System.Globalization.CultureInfo.InvariantCulture),
        "width" or "height" => rng.Next(1, 300).ToString(System.Globalization.CultureInfo.InvariantCulture),
        "sigma" => (rng.NextDouble() * 10 - 1).ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        "radius" => rng.Next(-1, 27).ToString(System.Globalization.CultureInfo.InvariantCulture),
        "pixels" => rng.Next(4) == 0 ? "\"@@not base64@@\"" : "\"" + Convert.ToBase64String(new byte[rng.Next(0, 8) == 0 ? 0 : rng.Next(1, 40) * rng.Next(1, 40)]) + "\"",
        "maxIterations" => rng.Next(1, 1000).ToString(System.Globalization.CultureInfo.InvariantCulture),
        _ => rng.Next(100).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
