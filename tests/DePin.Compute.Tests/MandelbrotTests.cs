using System.Buffers.Binary;
using System.IO.Compression;
using System.Runtime.InteropServices;
using DePin.Compute.Catalog;
using DePin.Compute.Kernels;

namespace DePin.Compute.Tests;

[Collection(DeviceCollection.Name)]
public sealed class MandelbrotTests(IlgpuCpuFixture fx)
{
    private readonly MandelbrotKernel _k = new();
    private const string Small = """{"width":67,"height":45,"maxIterations":300,"centerX":-0.6,"centerY":0.1,"scale":3.2,"rowsPerUnit":8}""";

    private static int[] Reference(int w, int h, int maxIt, double cx0, double cy0, double scale)
    {
        var r = new int[w * h];
        double s = scale / w;
        for (int py = 0; py < h; py++)
            for (int px = 0; px < w; px++)
            {
                double cx = cx0 + ((px + 0.5) - w * 0.5) * s, cy = cy0 - ((py + 0.5) - h * 0.5) * s;
                double zx = 0, zy = 0;
                int it = 0;
                for (; it < maxIt; it++)
                {
                    if (zx * zx + zy * zy > 4) break;
                    (zx, zy) = (zx * zx - zy * zy + cx, 2 * zx * zy + cy);
                }
                r[py * w + px] = it;
            }
        return r;
    }

    [Theory]
    [InlineData("ilgpu")]
    [InlineData("vector")]
    public void MatchesScalarReference(string which)
    {
        var plan = Run.Plan(_k, Small);
        Assert.Equal(6, plan.UnitCount);
        var outputs = Run.Execute(_k, which == "ilgpu" ? fx.Ilgpu : fx.Vector, plan);
        Assert.Equal(8 * 67 * 4, outputs[0].Length);
        Assert.Equal(5 * 67 * 4, outputs[5].Length);
        var got = outputs.SelectMany(o => MemoryMarshal.Cast<byte, int>(o).ToArray()).ToArray();
        var want = Reference(67, 45, 300, -0.6, 0.1, 3.2);
        Assert.Equal(want, got);
        Assert.Contains(300, got);
        Assert.Contains(0, got.Where(v => v < 3).Select(_ => 0));
    }

    [Fact]
    public void BackendsAgree()
    {
        var plan = Run.Plan(_k, """{"width":128,"height":32,"maxIterations":1000,"centerX":-0.743643887,"centerY":0.131825904,"scale":0.01}""");
        var a = Run.Execute(_k, fx.Ilgpu, plan);
        var b = Run.Execute(_k, fx.Vector, plan);
        for (int u = 0; u < plan.UnitCount; u++)
            Assert.True(_k.OutputsAgree(a[u], b[u]));
        Assert.Equal(Run.Digest(a), Run.Digest(b));
    }

    [Fact]
    public void ToleranceAllowsOnePerMille()
    {
        var a = new int[4000];
        for (int i = 0; i < a.Length; i++) a[i] = i % 97;
        var b = (int[])a.Clone();
        for (int i = 0; i < 4; i++) b[i * 1000] += 1;
        Assert.True(_k.OutputsAgree(Bytes(a), Bytes(b)));
        b[17] += 1;
        Assert.False(_k.OutputsAgree(Bytes(a), Bytes(b)));
        Assert.False(_k.OutputsAgree(Bytes(a), Bytes(a[..3999])));
        Assert.Equal(OutputComparison.Tolerance, _k.Comparison);
    }

    private static byte[] Bytes(int[] v) => MemoryMarshal.AsBytes(v.AsSpan()).ToArray();

    [Fact]
    public void UnitsCoverRowsExactlyOnce()
    {
        var covered = new int[45];
        for (int u = 0; u < 6; u++)
        {
            var (first, rows) = MandelbrotKernel.RowsOfUnit(45, 8, u);
            for (int r = first; r < first + rows; r++) covered[r]++;
        }
        Assert.All(covered, c => Assert.Equal(1, c));
        Assert.Throws<ArgumentOutOfRangeException>(() => MandelbrotKernel.RowsOfUnit(45, 8, 6));
    }

    [Fact]
    public void AssembleProducesValidPng()
    {
        var plan = Run.Plan(_k, Small);
        var outputs = Run.Execute(_k, fx.Vector, plan);
        var result = _k.Assemble(plan.CanonicalParameters, outputs);
        Assert.Equal("image/png", result.ContentType);
        Assert.StartsWith("mandelbrot 67x45", result.Summary);

        var png = result.Data;
        Assert.Equal(new byte[] { 137, 80, 78, 71, 13, 10, 26, 10 }, png[..8]);
        int pos = 8;
        var idat = new MemoryStream();
        int width = 0, height = 0;
        var types = new List<string>();
        while (pos < png.Length)
        {
            int len = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(pos));
            string type = System.Text.Encoding.ASCII.GetString(png, pos + 4, 4);
            var body = png.AsSpan(pos + 8, len);
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(pos + 8 + len));
            Assert.Equal(Crc32.Compute(png.AsSpan(pos + 4, 4 + len)), crc);
            if (type == "IHDR") { width = BinaryPrimitives.ReadInt32BigEndian(body); height = BinaryPrimitives.ReadInt32BigEndian(body[4..]); Assert.Equal(8, body[8]); Assert.Equal(0, body[9]); }
            if (type == "IDAT") idat.Write(body);
            types.Add(type);
            pos += 12 + len;
        }
        Assert.Equal(["IHDR", "IDAT", "IEND"], types);
        Assert.Equal((67, 45), (width, height));
        idat.Position = 0;
        using var z = new ZLibStream(idat, CompressionMode.Decompress);
        var raw = new MemoryStream();
        z.CopyTo(raw);
        var rows = raw.ToArray();
        Assert.Equal(45 * 68, rows.Length);
        var iterations = outputs.SelectMany(o => MemoryMarshal.Cast<byte, int>(o).ToArray()).ToArray();
        for (int y = 0; y < 45; y++)
        {
            Assert.Equal(0, rows[y * 68]);
            for (int x = 0; x < 67; x++)
                Assert.Equal(MandelbrotKernel.Shade(iterations[y * 67 + x], 300), rows[y * 68 + 1 + x]);
        }
    }

    [Fact]
    public void Crc32MatchesKnownValue() => Assert.Equal(0xCBF43926u, Crc32.Compute("123456789"u8));

    [Theory]
    [InlineData("""{"width":0,"height":4,"maxIterations":10,"centerX":0,"centerY":0,"scale":1}""", "'width' must be in 1..8192")]
    [InlineData("""{"width":9000,"height":4,"maxIterations":10,"centerX":0,"centerY":0,"scale":1}""", "'width' must be in 1..8192")]
    [InlineData("""{"width":4,"height":4,"maxIterations":100001,"centerX":0,"centerY":0,"scale":1}""", "'maxIterations' must be in")]
    [InlineData("""{"width":4,"height":4,"maxIterations":10,"centerX":0,"centerY":0,"scale":0}""", "'scale' must be > 0")]
    [InlineData("""{"width":4,"height":4,"maxIterations":10,"centerX":0,"centerY":0,"scale":-1}""", "'scale' must be > 0")]
    [InlineData("""{"width":4,"height":4,"maxIterations":10,"centerX":"NaN","centerY":0,"scale":1}""", "'centerX' must be a number")]
    [InlineData("""{"width":4,"height":4,"maxIterations":10,"centerX":1e999,"centerY":0,"scale":1}""", "'centerX' must be a finite number")]
    [InlineData("""{"width":4,"height":4,"maxIterations":10,"centerX":0,"scale":1}""", "missing required field 'centerY'")]
    [InlineData("""{"width":4,"height":4,"maxIterations":10,"centerX":0,"centerY":0,"scale":1,"rowsPerUnit":0}""", "'rowsPerUnit' must be in")]
    [InlineData("""{"width":8192,"height":8192,"maxIterations":10,"centerX":0,"centerY":0,"scale":1}""", "exceeds the limit")]
    [InlineData("""{"width":4,"height":4,"maxIterations":10,"centerX":0,"centerY":0,"scale":5e-324}""", "pixel size underflows")]
    public void RejectsBadParameters(string json, string fragment)
    {
        var e = Run.Rejects(_k, json);
        Assert.Contains(fragment, e.Message);
    }

    [Fact]
    public void TooManyUnitsRejected()
    {
        var e = Run.Rejects(_k, """{"width":4,"height":100,"maxIterations":10,"centerX":0,"centerY":0,"scale":1,"rowsPerUnit":1}""", new KernelLimits(MaxUnits: 10));
        Assert.Contains("at most 10", e.Message);
    }
}
