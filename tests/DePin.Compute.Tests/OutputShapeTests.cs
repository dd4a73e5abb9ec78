using System.Buffers.Binary;
using DePin.Compute.Catalog;

namespace DePin.Compute.Tests;

/// <summary>
/// Every kernel declares the exact shape of a unit's output, so a queue shard can refuse a malformed result from an
/// untrusted node before it is compared with other replicas. Plans are chosen so that the last unit is shorter.
/// </summary>
[Collection(DeviceCollection.Name)]
public sealed class OutputShapeTests(IlgpuCpuFixture fx)
{
    public static TheoryData<string, string> Plans => new()
    {
        { "saxpy", """{"a":2,"x":[1,2,3,4,5,6,7],"y":[1,1,1,1,1,1,1],"unitSize":3}""" },
        { "montecarlo-pi", """{"samples":20003,"units":3,"seed":-77}""" },
        { "mandelbrot", """{"width":67,"height":45,"maxIterations":50,"centerX":-0.6,"centerY":0.1,"scale":3.2,"rowsPerUnit":8}""" },
        { "sgemm", """{"m":20,"n":12,"k":8,"seed":7,"rowsPerUnit":16}""" },
        { "reduce", """{"op":"sum","n":10000,"seed":3,"unitSize":4096}""" },
        { "option-price", """{"spot":100,"strike":105,"rate":0.03,"volatility":0.25,"maturity":1.5,"paths":2001,"units":3,"seed":11}""" },
        { "blur", """{"width":50,"height":30,"seed":7,"sigma":2,"rowsPerUnit":7}""" },
    };

    [Theory, MemberData(nameof(Plans))]
    public void Real_outputs_are_well_formed_and_truncated_or_extended_ones_are_not(string name, string json)
    {
        var kernel = KernelCatalog.Default.Get(name);
        var plan = Run.Plan(kernel, json);
        Assert.True(plan.UnitCount > 1);
        var outputs = Run.Execute(kernel, fx.Vector, plan);
        for (var i = 0; i < plan.UnitCount; i++)
        {
            var unit = new KernelUnit(plan.CanonicalParameters, i, plan.UnitCount, plan.UnitInputs[i]);
            var output = outputs[i];
            Assert.Equal(output.Length, kernel.ExpectedOutputBytes(unit));
            Assert.True(kernel.IsWellFormedOutput(unit, output), $"{name} unit {i}: real output refused");
            Assert.False(kernel.IsWellFormedOutput(unit, output.AsSpan(0, output.Length - 1)), $"{name} unit {i}: truncated output accepted");
            Assert.False(kernel.IsWellFormedOutput(unit, [.. output, 0]), $"{name} unit {i}: extended output accepted");
            Assert.False(kernel.IsWellFormedOutput(unit, []), $"{name} unit {i}: empty output accepted");
        }
    }

    [Theory]
    [InlineData("saxpy", """{"a":2,"x":[1,2,3,4,5,6,7],"y":[1,1,1,1,1,1,1],"unitSize":3}""")]
    [InlineData("mandelbrot", """{"width":67,"height":45,"maxIterations":50,"centerX":-0.6,"centerY":0.1,"scale":3.2,"rowsPerUnit":8}""")]
    [InlineData("sgemm", """{"m":20,"n":12,"k":8,"seed":7,"rowsPerUnit":16}""")]
    [InlineData("blur", """{"width":50,"height":30,"seed":7,"sigma":2,"rowsPerUnit":7}""")]
    public void A_unit_index_outside_the_plan_has_no_well_formed_output(string name, string json)
    {
        var kernel = KernelCatalog.Default.Get(name);
        var plan = Run.Plan(kernel, json);
        var beyond = new KernelUnit(plan.CanonicalParameters, plan.UnitCount, plan.UnitCount, ReadOnlyMemory<byte>.Empty);
        Assert.False(kernel.IsWellFormedOutput(beyond, new byte[64]));
        Assert.False(kernel.IsWellFormedOutput(beyond with { UnitIndex = -1 }, new byte[64]));
    }

    [Fact]
    public void Unparseable_parameters_have_no_well_formed_output()
    {
        var unit = new KernelUnit("{}", 0, 1, ReadOnlyMemory<byte>.Empty);
        Assert.All(KernelCatalog.Default.All.Where(k => k.Name is "saxpy" or "mandelbrot" or "sgemm" or "blur"),
            k => Assert.False(k.IsWellFormedOutput(unit, new byte[16])));
    }

    [Fact]
    public void Sgemm_output_with_a_wrong_header_is_not_well_formed()
    {
        var kernel = KernelCatalog.Default.Get("sgemm");
        var plan = Run.Plan(kernel, """{"m":20,"n":12,"k":8,"seed":7,"rowsPerUnit":16}""");
        var unit = new KernelUnit(plan.CanonicalParameters, 0, plan.UnitCount, plan.UnitInputs[0]);
        var output = Run.Execute(kernel, fx.Vector, plan)[0];
        BinaryPrimitives.WriteInt32LittleEndian(output, 9); // k = 9 instead of 8, same length
        Assert.False(kernel.IsWellFormedOutput(unit, output));
    }
}
