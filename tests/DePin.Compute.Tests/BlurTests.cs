using System.Buffers.Binary;
using System.IO.Compression;
using System.Text.Json;
using DePin.Compute.Catalog;
using DePin.Compute.Kernels;

namespace DePin.Compute.Tests;

[Collection(DeviceCollection.Name)]
public sealed class BlurTests(IlgpuCpuFixture fx)
{
    private readonly BlurKernel _k = new();
    private const int W = 37, H = 23;

    private static byte[] TestImage(int w, int h)
    {
        // Hard edges, a checkerboard and a ramp: exercises clamping at borders and large gradients at band seams.
        var img = new byte[w * h];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                img[y * w + x] = (byte)(x < 5 ? 255 : y > h - 4 ? 0 : ((x / 3 + y / 2) & 1) != 0 ? 200 : (x * 7 + y * 3) % 256);
        return img;
    }

    private static string Json(int w, int h, byte[] pixels, double sigma, int? radius = null, int? rowsPerUnit = null)
    {
        var d = new Dictionary<string, object> { ["width"] = w, ["height"] = h, ["pixels"] = Convert.ToBase64String(pixels), ["sigma"] = sigma };
        if (radius is int r) d["radius"] = r;
        if (rowsPerUnit is int u) d["rowsPerUnit"] = u;
        return JsonSerializer.Serialize(d);
    }

    /// <summary>Direct (non-separable) 2D convolution in float64 with clamp-to-edge, rounded half up.</summary>
    private static byte[] Reference(byte[] img, int w, int h, double sigma, int radius)
    {
        var g = new double[2 * radius + 1];
        for (int k = -radius; k <= radius; k++) g[k + radius] = Math.Exp(-(double)k * k / (2 * sigma * sigma));
        double sum = g.Sum();
        var result = new byte[w * h];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                double acc = 0;
                for (int dy = -radius; dy <= radius; dy++)
                    for (int dx = -radius; dx <= radius; dx++)
                    {
                        int yy = Math.Clamp(y + dy, 0, h - 1), xx = Math.Clamp(x + dx, 0, w - 1);
                        acc += g[dy + radius] * g[dx + radius] / (sum * sum) * img[yy * w + xx];
                    }
                result[y * w + x] = (byte)Math.Clamp(Math.Floor(acc + 0.5), 0, 255);
            }
        return result;
    }

    private static void AssertWithinOne(byte[] want, byte[] got)
    {
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(want[i] - got[i]) <= 1, $"pixel {i}: want {want[i]}, got {got[i]}");
    }

    [Theory]
    [InlineData("ilgpu", 1.5, null, 8)]
    [InlineData("vector", 1.5, null, 8)]
    [InlineData("vector", 0.7, 1, 5)]
    [InlineData("vector", 4.0, 9, 3)]
    [InlineData("ilgpu", 4.0, 9, 3)]
    public void MatchesScalarReference(string which, double sigma, int? radius, int rowsPerUnit)
    {
        var img = TestImage(W, H);
        var plan = Run.Plan(_k, Json(W, H, img, sigma, radius, rowsPerUnit));
        Assert.Equal((H + rowsPerUnit - 1) / rowsPerUnit, plan.UnitCount);
        var outputs = Run.Execute(_k, which == "ilgpu" ? fx.Ilgpu : fx.Vector, plan);
        var got = outputs.SelectMany(o => o).ToArray();
        AssertWithinOne(Reference(img, W, H, sigma, radius ?? BlurKernel.DefaultRadius(sigma)), got);
    }

    [Fact]
    public void BackendsAgreeAndSeamsMatchSingleUnit()
    {
        var img = TestImage(W, H);
        var split = Run.Plan(_k, Json(W, H, img, 1.5, rowsPerUnit: 4));
        var whole = Run.Plan(_k, Json(W, H, img, 1.5, rowsPerUnit: 64));
        Assert.Equal(6, split.UnitCount);
        Assert.Equal(1, whole.UnitCount);
        var single = Run.Execute(_k, fx.Vector, whole)[0];
        var vector = Run.Execute(_k, fx.Vector, split);
        var ilgpu = Run.Execute(_k, fx.Ilgpu, split);
        // The halo makes every band self-contained: seams give exactly the single-unit pixels.
        Assert.Equal(single, vector.SelectMany(o => o).ToArray());
        for (int u = 0; u < split.UnitCount; u++)
            Assert.True(_k.OutputsAgree(vector[u], ilgpu[u]));
        // Same weights, same summation order: on CPUs the ILGPU simulator and the vector code agree bit for bit.
        Assert.Equal(Run.Digest(vector), Run.Digest(ilgpu));
    }

    [Fact]
    public void SeededImageIsDeterministicAndSplitIndependent()
    {
        var a = Run.Plan(_k, """{"width":50,"height":30,"seed":7,"sigma":2,"rowsPerUnit":7}""");
        var b = Run.Plan(_k, """{"width":50,"height":30,"seed":7,"sigma":2,"rowsPerUnit":30}""");
        Assert.Contains("\"seed\":7", a.CanonicalParameters);
        Assert.Contains("\"radius\":6", a.CanonicalParameters);
        var img = BlurKernel.Synthetic(50, 30, 7);
        Assert.NotEqual(img, BlurKernel.Synthetic(50, 30, 8));
        Assert.True(img.Distinct().Count() > 50);
        var outA = Run.Execute(_k, fx.Vector, a).SelectMany(o => o).ToArray();
        var outB = Run.Execute(_k, fx.Vector, b).SelectMany(o => o).ToArray();
        Assert.Equal(outA, outB);
        AssertWithinOne(Reference(img, 50, 30, 2, 6), outA);
        // Client pixels equal to the synthetic image give the same result.
        var explicitPlan = Run.Plan(_k, Json(50, 30, img, 2, rowsPerUnit: 7));
        Assert.Equal(a.UnitInputs.Select(x => Convert.ToHexString(x)), explicitPlan.UnitInputs.Select(x => Convert.ToHexString(x)));
        Assert.DoesNotContain("pixels", explicitPlan.CanonicalParameters);
    }

    [Fact]
    public void UnitsCoverRowsExactlyOnceWithClampedHalos()
    {
        var covered = new int[H];
        var img = TestImage(W, H);
        var plan = Run.Plan(_k, Json(W, H, img, 1.5, rowsPerUnit: 5));
        Assert.Equal(5, plan.UnitCount);
        for (int u = 0; u < plan.UnitCount; u++)
        {
            var band = BlurKernel.BandOf(H, 5, 5, u);
            for (int r = band.FirstRow; r < band.FirstRow + band.Rows; r++) covered[r]++;
            Assert.Equal(Math.Min(5, band.FirstRow), band.HaloAbove);
            Assert.Equal(Math.Min(5, H - band.FirstRow - band.Rows), band.HaloBelow);
            var input = plan.UnitInputs[u];
            Assert.Equal(band.FirstRow, BinaryPrimitives.ReadInt32LittleEndian(input));
            Assert.Equal(band.Rows, BinaryPrimitives.ReadInt32LittleEndian(input.AsSpan(4)));
            Assert.Equal(band.HaloAbove, BinaryPrimitives.ReadInt32LittleEndian(input.AsSpan(8)));
            Assert.Equal(band.HaloBelow, BinaryPrimitives.ReadInt32LittleEndian(input.AsSpan(12)));
            Assert.Equal(img.AsSpan((band.FirstRow - band.HaloAbove) * W, band.TotalRows * W).ToArray(), input[BlurKernel.HeaderBytes..]);
        }
        Assert.All(covered, c => Assert.Equal(1, c));
        Assert.Throws<ArgumentOutOfRangeException>(() => BlurKernel.BandOf(H, 5, 5, 5));
        Assert.Equal(2.0 * 11 * 2 * 5 * W, plan.Cost.Flops);
    }

    [Fact]
    public void WeightsAreNormalisedAndSymmetric()
    {
        var w = BlurKernel.Weights(1.5, 5);
        Assert.Equal(11, w.Length);
        Assert.Equal(1.0, w.Sum(x => (double)x), 1e-6);
        for (int i = 0; i < 5; i++) Assert.Equal(w[i], w[10 - i]);
        Assert.True(w[5] > w[4] && w[4] > w[0]);
    }

    [Fact]
    public void ToleranceAcceptsOneGrayLevelRejectsTwo()
    {
        var a = Enumerable.Range(0, 500).Select(i => (byte)(i % 251 + 2)).ToArray();
        var b = (byte[])a.Clone();
        for (int i = 0; i < b.Length; i += 3) b[i] += 1;
        for (int i = 1; i < b.Length; i += 3) b[i] -= 1;
        Assert.True(_k.OutputsAgree(a, b));
        b[100] = (byte)(a[100] + 2);
        Assert.False(_k.OutputsAgree(a, b));
        b[100] = (byte)(a[100] - 2);
        Assert.False(_k.OutputsAgree(a, b));
        Assert.False(_k.OutputsAgree(a, a[..499]));
        Assert.Equal(OutputComparison.Tolerance, _k.Comparison);
    }

    [Fact]
    public void AssembleProducesGrayscalePng()
    {
        var img = TestImage(W, H);
        var plan = Run.Plan(_k, Json(W, H, img, 1.5, rowsPerUnit: 8));
        var outputs = Run.Execute(_k, fx.Vector, plan);
        var result = _k.Assemble(plan.CanonicalParameters, outputs);
        Assert.Equal("image/png", result.ContentType);
        Assert.StartsWith("blur 37x23 sigma=1.5 radius=5 pixels", result.Summary);
        var png = result.Data;
        Assert.Equal(new byte[] { 137, 80, 78, 71, 13, 10, 26, 10 }, png[..8]);
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(png, 12, 4));
        Assert.Equal(W, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)));
        Assert.Equal(H, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
        Assert.Equal(8, png[24]);
        Assert.Equal(0, png[25]);
        int idatLen = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(33));
        Assert.Equal("IDAT", System.Text.Encoding.ASCII.GetString(png, 37, 4));
        using var z = new ZLibStream(new MemoryStream(png, 41, idatLen), CompressionMode.Decompress);
        var raw = new MemoryStream();
        z.CopyTo(raw);
        var rows = raw.ToArray();
        var pixels = outputs.SelectMany(o => o).ToArray();
        Assert.Equal(H * (W + 1), rows.Length);
        for (int y = 0; y < H; y++)
            Assert.Equal(pixels.AsSpan(y * W, W).ToArray(), rows.AsSpan(y * (W + 1) + 1, W).ToArray());
        Assert.Throws<ArgumentException>(() => _k.Assemble(plan.CanonicalParameters, outputs[..^1]));
    }

    [Theory]
    [InlineData("""{"width":4,"height":4,"seed":1,"sigma":"NaN"}""", "'sigma' must be a number")]
    [InlineData("""{"width":4,"height":4,"seed":1,"sigma":1e999}""", "'sigma' must be a finite number")]
    [InlineData("""{"width":4,"height":4,"seed":1,"sigma":0}""", "'sigma' must be > 0")]
    [InlineData("""{"width":4,"height":4,"seed":1,"sigma":-1}""", "'sigma' must be > 0")]
    [InlineData("""{"width":4,"height":4,"seed":1,"sigma":8.5}""", "'sigma' must be > 0 and <= 8")]
    [InlineData("""{"width":4,"height":4,"seed":1}""", "missing required field 'sigma'")]
    [InlineData("""{"width":0,"height":4,"seed":1,"sigma":1}""", "'width' must be in 1..8192")]
    [InlineData("""{"width":4,"height":8193,"seed":1,"sigma":1}""", "'height' must be in 1..8192")]
    [InlineData("""{"width":4,"height":4,"seed":1,"sigma":1,"radius":0}""", "'radius' must be in 1..24")]
    [InlineData("""{"width":4,"height":4,"seed":1,"sigma":1,"radius":25}""", "'radius' must be in 1..24")]
    [InlineData("""{"width":4,"height":4,"seed":1,"sigma":1,"rowsPerUnit":0}""", "'rowsPerUnit' must be in")]
    [InlineData("""{"width":4,"height":4,"seed":1.5,"sigma":1}""", "'seed' must be an integer")]
    [InlineData("""{"width":2,"height":2,"pixels":"AAAA","sigma":1}""", "decodes to 3 bytes, expected width*height = 4")]
    [InlineData("""{"width":2,"height":2,"pixels":"AAAAAAAA","sigma":1}""", "decodes to 6 bytes")]
    [InlineData("""{"width":2,"height":2,"pixels":"!!not base64!!","sigma":1}""", "'pixels' is not valid base64")]
    [InlineData("""{"width":2,"height":2,"pixels":7,"sigma":1}""", "'pixels' must be a base64 string")]
    [InlineData("""{"width":2,"height":2,"pixels":"AAAAAA==","seed":3,"sigma":1}""", "either 'pixels' or 'seed'")]
    [InlineData("""{"width":2,"height":2,"seed":3,"sigma":1,"extra":1}""", "unknown field 'extra'")]
    [InlineData("""{"width":8192,"height":8192,"seed":1,"sigma":1}""", "exceeds the input limit")]
    public void RejectsBadParameters(string json, string fragment)
    {
        var e = Run.Rejects(_k, json);
        Assert.Contains(fragment, e.Message);
        Assert.StartsWith("blur: ", e.Message);
    }

    [Fact]
    public void LimitsOnUnitsAndHaloOverhead()
    {
        var e = Run.Rejects(_k, """{"width":4,"height":100,"seed":1,"sigma":1,"rowsPerUnit":1}""", new KernelLimits(MaxUnits: 10));
        Assert.Contains("at most 10", e.Message);
        // 64x64 image = 4096 bytes fits the input limit, but one-row bands with 24-row halos carry ~49x that.
        e = Run.Rejects(_k, """{"width":64,"height":64,"seed":1,"sigma":8,"rowsPerUnit":1}""", new KernelLimits(MaxInputBytes: 4096));
        Assert.Contains("raise 'rowsPerUnit'", e.Message);
        e = Run.Rejects(_k, """{"width":64,"height":64,"seed":1,"sigma":1}""", new KernelLimits(MaxInputBytes: 1 << 20, MaxOutputBytes: 4000));
        Assert.Contains("output of 4096 bytes", e.Message);
        var ok = Run.Plan(_k, """{"width":64,"height":64,"seed":1,"sigma":8,"rowsPerUnit":64}""", new KernelLimits(MaxInputBytes: 4096));
        Assert.Equal(1, ok.UnitCount);
    }

    [Fact]
    public void SinglePixelAndSingleRowImages()
    {
        var one = Run.Plan(_k, Json(1, 1, [123], 3));
        Assert.Equal(new byte[] { 123 }, Run.Execute(_k, fx.Vector, one)[0]);
        Assert.Equal(new byte[] { 123 }, Run.Execute(_k, fx.Ilgpu, one)[0]);
        var row = Enumerable.Range(0, 19).Select(i => (byte)(i * 13)).ToArray();
        var plan = Run.Plan(_k, Json(19, 1, row, 1));
        AssertWithinOne(Reference(row, 19, 1, 1, 3), Run.Execute(_k, fx.Vector, plan)[0]);
        AssertWithinOne(Reference(row, 19, 1, 1, 3), Run.Execute(_k, fx.Ilgpu, plan)[0]);
    }
}
