using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text.Json;
using DePin.Compute.Catalog;
using DePin.Compute.Devices;
using DePin.Compute.Internal;
using ILGPU;
using ILGPU.Runtime;

namespace DePin.Compute.Kernels;

/// <summary>
/// <c>blur</c>: separable Gaussian blur of an 8-bit grayscale image (client pixels as base64, or a seeded synthetic
/// image). Weights w[k] = exp(-k²/2σ²), k = -radius..radius, normalised to sum 1 in float64 and rounded to float32 once
/// on the host, so every backend uses the same weights. A horizontal pass over the band plus its halo rows, then a
/// vertical pass over the band, both float32 with clamp-to-edge, each tap summed in order k = -r..r; output bytes are
/// <c>(int)(v + 0.5)</c> clamped to 0..255. Units are bands of rows; a unit's input is a 16-byte header (int32 LE band
/// start, rows, halo rows above, halo rows below) followed by those rows of pixels, so Execute needs nothing else.
/// The job result is an 8-bit grayscale PNG.
/// </summary>
public sealed class BlurKernel : KernelBase
{
    /// <summary>Largest width/height.</summary>
    public const int MaxSide = 8192;
    /// <summary>Largest sigma.</summary>
    public const double MaxSigma = 8;
    /// <summary>Largest radius.</summary>
    public const int MaxRadius = 24;
    /// <summary>Default rows per unit.</summary>
    public const int DefaultRowsPerUnit = 32;
    /// <summary>Unit header: band start, rows, halo above, halo below (int32 LE each).</summary>
    public const int HeaderBytes = 16;
    /// <summary>Unit inputs (bands plus duplicated halo rows) may add up to this multiple of MaxInputBytes.</summary>
    public const int HaloInputFactor = 4;
    /// <summary>Philox stream of the synthetic image (counter word 2; word 3 is <see cref="SeededData.Tag"/>).</summary>
    public const uint SeedStream = 4;

    /// <inheritdoc />
    public override string Name => "blur";
    /// <inheritdoc />
    public override string Description => "Gaussian blur (separable 2D convolution) of an 8-bit grayscale image, rendered to a PNG";
    /// <inheritdoc />
    public override OutputComparison Comparison => OutputComparison.Tolerance;

    /// <summary>Validated parameters (Seed is null when the client sent pixels).</summary>
    internal readonly record struct Args(int Width, int Height, double Sigma, int Radius, int RowsPerUnit, long? Seed);

    /// <summary>Parsed unit header.</summary>
    public readonly record struct Band(int FirstRow, int Rows, int HaloAbove, int HaloBelow)
    {
        /// <summary>Rows carried in the input (halo + band + halo).</summary>
        public int TotalRows => HaloAbove + Rows + HaloBelow;
    }

    /// <inheritdoc />
    protected override KernelPlan PlanCore(JsonElement parameters, KernelLimits limits)
    {
        var p = new ParamReader(Name, parameters, "width", "height", "pixels", "seed", "sigma", "radius", "rowsPerUnit");
        int width = (int)p.Integer("width", 1, MaxSide);
        int height = (int)p.Integer("height", 1, MaxSide);
        double sigma = p.Number("sigma");
        if (!(sigma > 0) || sigma > MaxSigma) throw p.Bad($"field 'sigma' must be > 0 and <= {MaxSigma}");
        int radius = (int)p.Integer("radius", 1, MaxRadius, DefaultRadius(sigma));
        int rowsPerUnit = (int)p.Integer("rowsPerUnit", 1, MaxSide, DefaultRowsPerUnit);
        if (p.Has("pixels") && p.Has("seed")) throw p.Bad("give either 'pixels' or 'seed', not both");
        long pixelCount = (long)width * height;
        if (pixelCount > limits.MaxInputBytes)
            throw p.Bad($"image of {pixelCount} bytes (1 per pixel) exceeds the input limit of {limits.MaxInputBytes}");
        if (pixelCount > limits.MaxOutputBytes)
            throw p.Bad($"output of {pixelCount} bytes (1 per pixel) exceeds the limit of {limits.MaxOutputBytes}");
        int units = CountUnits(height, rowsPerUnit, limits, "rows");
        long carried = 0;
        for (int u = 0; u < units; u++)
        {
            var b = BandOf(height, rowsPerUnit, radius, u);
            carried += HeaderBytes + (long)b.TotalRows * width;
        }
        if (carried > HaloInputFactor * limits.MaxInputBytes)
            throw p.Bad($"bands with their {radius}-row halos carry {carried} input bytes, more than {HaloInputFactor} x the input limit of {limits.MaxInputBytes}; raise 'rowsPerUnit'");

        long? seed = null;
        byte[] image;
        if (p.Has("pixels"))
        {
            image = p.Base64("pixels", limits.MaxInputBytes);
            if (image.Length != pixelCount)
                throw p.Bad($"field 'pixels' decodes to {image.Length} bytes, expected width*height = {pixelCount}");
        }
        else
        {
            seed = p.Integer("seed", long.MinValue, long.MaxValue, 1);
            image = Synthetic(width, height, seed.Value);
        }

        var a = new Args(width, height, sigma, radius, rowsPerUnit, seed);
        string canonical = Canonical.Write(w =>
        {
            w.WriteNumber("width", a.Width);
            w.WriteNumber("height", a.Height);
            w.WriteNumber("sigma", a.Sigma);
            w.WriteNumber("radius", a.Radius);
            w.WriteNumber("rowsPerUnit", a.RowsPerUnit);
            if (a.Seed is long s) w.WriteNumber("seed", s);
        });
        var inputs = new byte[units][];
        for (int u = 0; u < units; u++)
        {
            var b = BandOf(height, rowsPerUnit, radius, u);
            var input = new byte[HeaderBytes + (long)b.TotalRows * width];
            BinaryPrimitives.WriteInt32LittleEndian(input, b.FirstRow);
            BinaryPrimitives.WriteInt32LittleEndian(input.AsSpan(4), b.Rows);
            BinaryPrimitives.WriteInt32LittleEndian(input.AsSpan(8), b.HaloAbove);
            BinaryPrimitives.WriteInt32LittleEndian(input.AsSpan(12), b.HaloBelow);
            image.AsSpan((b.FirstRow - b.HaloAbove) * width, b.TotalRows * width).CopyTo(input.AsSpan(HeaderBytes));
            inputs[u] = input;
        }
        long bandPixels = (long)Math.Min(rowsPerUnit, height) * width;
        long inBytes = HeaderBytes + (long)Math.Min(rowsPerUnit + 2 * radius, height) * width;
        return new KernelPlan(canonical, inputs,
            new KernelCost(Flops: 2.0 * (2 * radius + 1) * 2 * bandPixels, Bytes: inBytes + bandPixels));
    }

    /// <summary>Default radius: ceil(3σ), at least 1, at most <see cref="MaxRadius"/>.</summary>
    public static int DefaultRadius(double sigma) => (int)Math.Clamp(Math.Ceiling(3 * sigma), 1, MaxRadius);

    internal static Args ReadArgs(string canonical)
    {
        using var doc = Canonical.Parse(canonical);
        var r = doc.RootElement;
        return new Args(r.GetProperty("width").GetInt32(), r.GetProperty("height").GetInt32(), r.GetProperty("sigma").GetDouble(),
            r.GetProperty("radius").GetInt32(), r.GetProperty("rowsPerUnit").GetInt32(),
            r.TryGetProperty("seed", out var s) ? s.GetInt64() : null);
    }

    /// <summary>Band of a unit: rows [u·rowsPerUnit, ...) plus up to <paramref name="radius"/> halo rows inside the image on each side.</summary>
    public static Band BandOf(int height, int rowsPerUnit, int radius, int unitIndex)
    {
        long first = (long)unitIndex * rowsPerUnit;
        if (unitIndex < 0 || first >= height) throw new ArgumentOutOfRangeException(nameof(unitIndex));
        int f = (int)first;
        int rows = Math.Min(rowsPerUnit, height - f);
        return new Band(f, rows, Math.Min(radius, f), Math.Min(radius, height - (f + rows)));
    }

    /// <summary>
    /// Synthetic image: a diagonal gradient g = 255·(x+y)/(w+h-2) mixed 3:1 with Philox noise (top byte of word i mod 4 of
    /// the block with counter (i/4 low, i/4 high, <see cref="SeedStream"/>, <see cref="SeededData.Tag"/>)).
    /// </summary>
    public static byte[] Synthetic(int width, int height, long seed)
    {
        uint k0 = (uint)seed, k1 = (uint)((ulong)seed >> 32);
        var image = new byte[(long)width * height];
        int span = Math.Max(1, width + height - 2);
        Parallel.For(0, height, y =>
        {
            for (int x = 0; x < width; x++)
            {
                long i = (long)y * width + x;
                ulong block = (ulong)i >> 2;
                var r = Philox.Generate((uint)block, (uint)(block >> 32), SeedStream, SeededData.Tag, k0, k1);
                uint w = (i & 3) switch { 0 => r.X0, 1 => r.X1, 2 => r.X2, _ => r.X3 };
                int g = 255 * (x + y) / span;
                image[i] = (byte)((3 * g + (int)(w >> 24)) >> 2);
            }
        });
        return image;
    }

    /// <summary>Normalised Gaussian weights for k = -radius..radius: computed in float64, rounded to float32 once.</summary>
    public static float[] Weights(double sigma, int radius)
    {
        var d = new double[2 * radius + 1];
        double sum = 0;
        for (int k = -radius; k <= radius; k++)
        {
            d[k + radius] = Math.Exp(-(double)k * k / (2 * sigma * sigma));
            sum += d[k + radius];
        }
        var w = new float[d.Length];
        for (int i = 0; i < d.Length; i++) w[i] = (float)(d[i] / sum);
        return w;
    }

    /// <summary>Reads and checks a unit's header against the canonical parameters.</summary>
    internal static Band ReadBand(Args a, KernelUnit unit)
    {
        var s = unit.Input.Span;
        if (s.Length < HeaderBytes) throw new ArgumentException("blur unit input is shorter than its header", nameof(unit));
        var b = new Band(BinaryPrimitives.ReadInt32LittleEndian(s), BinaryPrimitives.ReadInt32LittleEndian(s[4..]),
            BinaryPrimitives.ReadInt32LittleEndian(s[8..]), BinaryPrimitives.ReadInt32LittleEndian(s[12..]));
        if (b != BandOf(a.Height, a.RowsPerUnit, a.Radius, unit.UnitIndex) || s.Length != HeaderBytes + (long)b.TotalRows * a.Width)
            throw new ArgumentException("blur unit header does not match the parameters", nameof(unit));
        return b;
    }

    /// <inheritdoc />
    protected override byte[] ExecuteIlgpu(ComputeDevice device, KernelUnit unit)
    {
        var a = ReadArgs(unit.CanonicalParameters);
        var b = ReadBand(a, unit);
        var weights = Weights(a.Sigma, a.Radius);
        int inLen = b.TotalRows * a.Width, outLen = b.Rows * a.Width;
        var horizontal = device.GetOrAdd("blur.horizontal", acc =>
            acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<byte>, ArrayView<float>, ArrayView<float>>(BlurIlgpu.Horizontal));
        var vertical = device.GetOrAdd("blur.vertical", acc =>
            acc.LoadAutoGroupedStreamKernel<Index1D, int, int, int, int, ArrayView<float>, ArrayView<float>, ArrayView<byte>>(BlurIlgpu.Vertical));
        var src = device.GetBuffer<byte>("blur.src", inLen).View.SubView(0, inLen);
        var tmp = device.GetBuffer<float>("blur.tmp", inLen).View.SubView(0, inLen);
        var wv = device.GetBuffer<float>("blur.weights", weights.Length).View.SubView(0, weights.Length);
        var dst = device.GetBuffer<byte>("blur.out", outLen).View.SubView(0, outLen);
        var acc = device.Accelerator!;
        src.CopyFromCPU(acc.DefaultStream, unit.Input.Span[HeaderBytes..]);
        wv.CopyFromCPU(acc.DefaultStream, weights);
        horizontal(inLen, a.Width, a.Radius, src, wv, tmp);
        vertical(outLen, a.Width, a.Radius, b.HaloAbove, b.TotalRows, wv, tmp, dst);
        var output = new byte[outLen];
        dst.CopyToCPU(acc.DefaultStream, output.AsSpan());
        acc.Synchronize();
        return output;
    }

    /// <inheritdoc />
    protected override byte[] ExecuteVector(KernelUnit unit)
    {
        var a = ReadArgs(unit.CanonicalParameters);
        var b = ReadBand(a, unit);
        var output = new byte[b.Rows * a.Width];
        BlurVector.Compute(a.Width, b.TotalRows, b.HaloAbove, b.Rows, Weights(a.Sigma, a.Radius), unit.Input[HeaderBytes..], output);
        return output;
    }

    /// <inheritdoc />
    public override long ExpectedOutputBytes(KernelUnit unit)
    {
        ArgumentNullException.ThrowIfNull(unit);
        var a = ParsedOnce(unit.CanonicalParameters, ReadArgs);
        return (long)BandOf(a.Height, a.RowsPerUnit, a.Radius, unit.UnitIndex).Rows * a.Width; // one byte per pixel of the band, halo excluded
    }

    /// <inheritdoc />
    public override KernelResult Assemble(string canonicalParameters, IReadOnlyList<byte[]> unitOutputs)
    {
        ArgumentNullException.ThrowIfNull(unitOutputs);
        var a = ReadArgs(canonicalParameters);
        long expected = (long)a.Width * a.Height;
        long total = unitOutputs.Sum(o => (long)o.Length);
        if (total != expected) throw new ArgumentException($"blur outputs hold {total} bytes, expected {expected}", nameof(unitOutputs));
        var gray = new byte[expected];
        int k = 0;
        long sum = 0;
        foreach (var o in unitOutputs)
        {
            o.CopyTo(gray, k);
            k += o.Length;
            foreach (byte v in o) sum += v;
        }
        var png = Png.EncodeGray8(a.Width, a.Height, gray);
        string source = a.Seed is long s ? $"seed={s}" : "pixels";
        return new KernelResult("image/png", png, string.Create(CultureInfo.InvariantCulture,
            $"blur {a.Width}x{a.Height} sigma={a.Sigma:R} radius={a.Radius} {source} mean={(double)sum / expected:F2} png={png.Length}B"));
    }

    /// <inheritdoc />
    public override bool OutputsAgree(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        if (a.Length != b.Length)
            return false;
        for (int i = 0; i < a.Length; i++)
        {
            if (Math.Abs(a[i] - b[i]) > 1)
                return false;
        }
        return true;
    }
}

/// <summary>ILGPU backend of <c>blur</c>: one thread per pixel for each pass.</summary>
public static class BlurIlgpu
{
    /// <summary>Horizontal pass over all carried rows: tmp[y, x] = Σ_k w[k]·src[y, clamp(x+k)].</summary>
    public static void Horizontal(Index1D i, int width, int radius, ArrayView<byte> src, ArrayView<float> weights, ArrayView<float> tmp)
    {
        int x = i.X % width;
        int row = i.X - x;
        float acc = 0f;
        for (int k = -radius; k <= radius; k++)
        {
            int xx = x + k;
            xx = xx < 0 ? 0 : xx >= width ? width - 1 : xx;
            acc += weights[k + radius] * src[row + xx];
        }
        tmp[i] = acc;
    }

    /// <summary>Vertical pass over the band: out[r, x] = round(Σ_k w[k]·tmp[clamp(haloAbove + r + k), x]).</summary>
    public static void Vertical(Index1D i, int width, int radius, int haloAbove, int totalRows, ArrayView<float> weights, ArrayView<float> tmp, ArrayView<byte> output)
    {
        int x = i.X % width;
        int y = haloAbove + i.X / width;
        float acc = 0f;
        for (int k = -radius; k <= radius; k++)
        {
            int yy = y + k;
            yy = yy < 0 ? 0 : yy >= totalRows ? totalRows - 1 : yy;
            acc += weights[k + radius] * tmp[yy * width + x];
        }
        output[i] = BlurMath.ToByte(acc);
    }
}

/// <summary>Rounding shared by both backends.</summary>
public static class BlurMath
{
    /// <summary>(int)(v + 0.5) clamped to 0..255 (v is a convex combination of bytes, so it is ≥ 0 up to rounding).</summary>
    public static byte ToByte(float v)
    {
        int r = (int)(v + 0.5f);
        return (byte)(r < 0 ? 0 : r > 255 ? 255 : r);
    }
}

/// <summary>Vectorised .NET backend of <c>blur</c>: Vector&lt;float&gt; across a row, Parallel.For across rows, for both passes.</summary>
public static class BlurVector
{
    /// <summary>Blurs the <paramref name="rows"/> band rows (starting at carried row <paramref name="haloAbove"/>) of <paramref name="input"/>.</summary>
    public static void Compute(int width, int totalRows, int haloAbove, int rows, float[] weights, ReadOnlyMemory<byte> input, byte[] output)
    {
        int radius = weights.Length / 2;
        if (input.Length != totalRows * width) throw new ArgumentException("input size mismatch", nameof(input));
        if (output.Length != rows * width) throw new ArgumentException("output size mismatch", nameof(output));
        var tmp = new float[totalRows * width];
        int vw = Vector<float>.Count;
        var vweights = new Vector<float>[weights.Length];
        for (int k = 0; k < weights.Length; k++) vweights[k] = new Vector<float>(weights[k]);

        // Horizontal: each carried row is widened to float with `radius` clamped pixels on each side, then
        // tmp[x] = Σ_k w[k]·padded[x + k + radius], k in order, Vector<float> lanes across x.
        Parallel.For(0, totalRows, () => new float[width + 2 * radius], (y, _, padded) =>
        {
            var src = input.Span.Slice(y * width, width);
            for (int j = 0; j < padded.Length; j++)
                padded[j] = src[Math.Clamp(j - radius, 0, width - 1)];
            var dst = tmp.AsSpan(y * width, width);
            int x = 0;
            if (Vector.IsHardwareAccelerated)
            {
                for (; x <= width - vw; x += vw)
                {
                    var acc = Vector<float>.Zero;
                    for (int k = 0; k < weights.Length; k++)
                        acc += vweights[k] * new Vector<float>(padded, x + k);
                    acc.CopyTo(dst[x..]);
                }
            }
            for (; x < width; x++)
            {
                float acc = 0f;
                for (int k = 0; k < weights.Length; k++)
                    acc += weights[k] * padded[x + k];
                dst[x] = acc;
            }
            return padded;
        }, _ => { });

        // Vertical: out[r, x] = round(Σ_k w[k]·tmp[clamp(haloAbove + r + k - radius), x]); the accumulator of a
        // Vector<float> column chunk stays in a register across the taps.
        Parallel.For(0, rows, () => new int[weights.Length], (r, _, offsets) =>
        {
            int y = haloAbove + r;
            for (int k = 0; k < weights.Length; k++)
                offsets[k] = Math.Clamp(y + k - radius, 0, totalRows - 1) * width;
            var dst = output.AsSpan(r * width, width);
            int x = 0;
            if (Vector.IsHardwareAccelerated)
            {
                Span<float> lanes = stackalloc float[vw];
                for (; x <= width - vw; x += vw)
                {
                    var acc = Vector<float>.Zero;
                    for (int k = 0; k < weights.Length; k++)
                        acc += vweights[k] * new Vector<float>(tmp, offsets[k] + x);
                    acc.CopyTo(lanes);
                    for (int l = 0; l < vw; l++)
                        dst[x + l] = BlurMath.ToByte(lanes[l]);
                }
            }
            for (; x < width; x++)
            {
                float acc = 0f;
                for (int k = 0; k < weights.Length; k++)
                    acc += weights[k] * tmp[offsets[k] + x];
                dst[x] = BlurMath.ToByte(acc);
            }
            return offsets;
        }, _ => { });
    }
}
