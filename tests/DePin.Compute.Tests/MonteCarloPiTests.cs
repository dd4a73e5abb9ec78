using System.Buffers.Binary;
using System.Text.Json;
using DePin.Compute.Catalog;
using DePin.Compute.Kernels;

namespace DePin.Compute.Tests;

[Collection(DeviceCollection.Name)]
public sealed class MonteCarloPiTests(IlgpuCpuFixture fx)
{
    private readonly MonteCarloPiKernel _k = new();

    [Theory]
    // Known-answer vectors of the Random123 distribution (kat_vectors, philox4x32_10).
    [InlineData(0u, 0u, 0u, 0u, 0u, 0u, 0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u)]
    [InlineData(0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu)]
    [InlineData(0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u, 0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u)]
    public void PhiloxKnownAnswers(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1, uint r0, uint r1, uint r2, uint r3)
    {
        var b = Philox.Generate(c0, c1, c2, c3, k0, k1);
        Assert.Equal((r0, r1, r2, r3), (b.X0, b.X1, b.X2, b.X3));
    }

    private static long ReferenceHits(long samples, long seed, int unit)
    {
        long hits = 0;
        for (long s = 0; s < samples; s++)
        {
            ulong p = (ulong)s / 2;
            var r = Philox.Generate((uint)p, (uint)(p >> 32), (uint)unit, 0, (uint)seed, (uint)((ulong)seed >> 32));
            uint x = s % 2 == 0 ? r.X0 : r.X2, y = s % 2 == 0 ? r.X1 : r.X3;
            // Independent formulation of the test: x² + y² < 2^64 with 128-bit arithmetic.
            if ((UInt128)x * x + (UInt128)y * y < ((UInt128)1 << 64)) hits++;
        }
        return hits;
    }

    [Theory]
    [InlineData("ilgpu")]
    [InlineData("vector")]
    public void MatchesScalarReference(string which)
    {
        var device = which == "ilgpu" ? fx.Ilgpu : fx.Vector;
        var plan = Run.Plan(_k, """{"samples":20003,"units":3,"seed":-77}""");
        var outputs = Run.Execute(_k, device, plan);
        for (int u = 0; u < 3; u++)
        {
            long n = MonteCarloPiKernel.SamplesOfUnit(20003, 3, u);
            Assert.Equal(ReferenceHits(n, -77, u), BinaryPrimitives.ReadInt64LittleEndian(outputs[u]));
            Assert.Equal(n, BinaryPrimitives.ReadInt64LittleEndian(outputs[u].AsSpan(8)));
        }
    }

    [Fact]
    public void BackendsAreBitwiseIdenticalAndDigestsReproducible()
    {
        var plan = Run.Plan(_k, """{"samples":100001,"units":5,"seed":12345678901}""");
        var a = Run.Execute(_k, fx.Ilgpu, plan);
        var b = Run.Execute(_k, fx.Vector, plan);
        var c = Run.Execute(_k, fx.Vector, plan);
        for (int u = 0; u < 5; u++)
            Assert.True(_k.OutputsAgree(a[u], b[u]));
        Assert.Equal(Run.Digest(a), Run.Digest(b));
        Assert.Equal(Run.Digest(b), Run.Digest(c));
        Assert.Equal(OutputComparison.Bitwise, _k.Comparison);

        var other = Run.Execute(_k, fx.Vector, Run.Plan(_k, """{"samples":100001,"units":5,"seed":2}"""));
        Assert.NotEqual(Run.Digest(b), Run.Digest(other));
        var flipped = (byte[])b[0].Clone();
        flipped[0] ^= 1;
        Assert.False(_k.OutputsAgree(b[0], flipped));
    }

    [Theory]
    [InlineData(10L, 3)]
    [InlineData(7L, 7)]
    [InlineData(1_000_000_000_000L, 65_536)]
    public void SplitCoversAllSamples(long samples, int units)
    {
        var plan = Run.Plan(_k, $$"""{"samples":{{samples}},"units":{{units}}}""");
        Assert.Equal(units, plan.UnitCount);
        Assert.All(plan.UnitInputs, i => Assert.Empty(i));
        long total = 0;
        for (int u = 0; u < units; u++)
        {
            long n = MonteCarloPiKernel.SamplesOfUnit(samples, units, u);
            Assert.InRange(n, samples / units, samples / units + 1);
            total += n;
        }
        Assert.Equal(samples, total);
        Assert.Contains("\"seed\":1", plan.CanonicalParameters);
    }

    [Fact]
    public void AssembleEstimatesPi()
    {
        var plan = Run.Plan(_k, """{"samples":2000000,"units":4,"seed":7}""");
        var result = _k.Assemble(plan.CanonicalParameters, Run.Execute(_k, fx.Vector, plan));
        Assert.Equal("application/json", result.ContentType);
        using var doc = JsonDocument.Parse(result.Data);
        Assert.Equal(2_000_000, doc.RootElement.GetProperty("samples").GetInt64());
        Assert.InRange(doc.RootElement.GetProperty("pi").GetDouble(), 3.13, 3.153);
        Assert.StartsWith("montecarlo-pi samples=2000000", result.Summary);
    }

    [Theory]
    [InlineData("""{"units":1}""", "missing required field 'samples'")]
    [InlineData("""{"samples":0,"units":1}""", "'samples' must be in 1..")]
    [InlineData("""{"samples":-5,"units":1}""", "'samples' must be in 1..")]
    [InlineData("""{"samples":1e13,"units":1}""", "'samples' must be in 1..")]
    [InlineData("""{"samples":1e400,"units":1}""", "'samples' must be an integer")]
    [InlineData("""{"samples":100.5,"units":1}""", "'samples' must be an integer")]
    [InlineData("""{"samples":"100","units":1}""", "'samples' must be an integer, got a string")]
    [InlineData("""{"samples":100,"units":0}""", "'units' must be in 1..65536")]
    [InlineData("""{"samples":100,"units":70000}""", "'units' must be in 1..65536")]
    [InlineData("""{"samples":5,"units":6}""", "must not exceed samples")]
    [InlineData("""{"samples":5,"units":1,"seed":true}""", "'seed' must be an integer, got a boolean")]
    [InlineData("""{"samples":5,"units":1,"seed":99999999999999999999}""", "'seed' must be in")]
    public void RejectsBadParameters(string json, string fragment)
    {
        var e = Run.Rejects(_k, json);
        Assert.Contains(fragment, e.Message);
    }

    [Fact]
    public void AcceptsExponentIntegers()
    {
        var plan = Run.Plan(_k, """{"samples":1e6,"units":1e1}""");
        Assert.Equal(10, plan.UnitCount);
        Assert.Contains("\"samples\":1000000", plan.CanonicalParameters);
    }
}
