using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text.Json;
using DePin.Compute.Catalog;
using DePin.Compute.Devices;
using DePin.Compute.Internal;
using ILGPU;
using ILGPU.Runtime;

namespace DePin.Compute.Kernels;

/// <summary>
/// <c>mandelbrot</c>: escape-time iteration counts of the Mandelbrot set over a width x height grid, float64 on every
/// backend. Pixel (px, py) maps to c = (centerX + (px + 0.5 - width/2)*s, centerY - (py + 0.5 - height/2)*s) with
/// s = scale/width (scale is the width of the view in the complex plane). Units are bands of rows; a unit's output is
/// one uint32 LE iteration count per pixel. The job result is an 8-bit grayscale PNG.
/// </summary>
public sealed class MandelbrotKernel : KernelBase
{
    /// <summary>Largest width/height.</summary>
    public const int MaxSide = 8192;
    /// <summary>Largest iteration cap.</summary>
    public const int MaxIterationsLimit = 100_000;
    /// <summary>Default rows per unit.</summary>
    public const int DefaultRowsPerUnit = 16;
    /// <summary>Fraction of pixels whose counts may differ between agreeing replicas (FMA contraction near the boundary).</summary>
    public const double MismatchFraction = 0.001;

    /// <inheritdoc />
    public override string Name => "mandelbrot";
    /// <inheritdoc />
    public override string Description => "Mandelbrot escape-time image (float64), rendered to a grayscale PNG";
    /// <inheritdoc />
    public override OutputComparison Comparison => OutputComparison.Tolerance;

    /// <summary>Validated parameters.</summary>
    internal readonly record struct Args(int Width, int Height, int MaxIterations, double CenterX, double CenterY, double Scale, int RowsPerUnit)
    {
        public double PixelSize => Scale / Width;
    }

    /// <inheritdoc />
    protected override KernelPlan PlanCore(JsonElement parameters, KernelLimits limits)
    {
        var p = new ParamReader(Name, parameters, "width", "height", "maxIterations", "centerX", "centerY", "scale", "rowsPerUnit");
        int width = (int)p.Integer("width", 1, MaxSide);
        int height = (int)p.Integer("height", 1, MaxSide);
        int maxIterations = (int)p.Integer("maxIterations", 1, MaxIterationsLimit);
        double cx = p.Number("centerX"), cy = p.Number("centerY"), scale = p.Number("scale");
        if (scale <= 0) throw p.Bad("field 'scale' must be > 0");
        if (!(scale / width > 0)) throw p.Bad("field 'scale' is too small: the pixel size underflows");
        int rows = (int)p.Integer("rowsPerUnit", 1, MaxSide, DefaultRowsPerUnit);
        long outputBytes = 4L * width * height;
        if (outputBytes > limits.MaxOutputBytes)
            throw p.Bad($"output of {outputBytes} bytes (4 per pixel) exceeds the limit of {limits.MaxOutputBytes}");
        int units = CountUnits(height, rows, limits, "rows");
        var a = new Args(width, height, maxIterations, cx, cy, scale, rows);
        string canonical = Canonical.Write(w =>
        {
            w.WriteNumber("width", a.Width);
            w.WriteNumber("height", a.Height);
            w.WriteNumber("maxIterations", a.MaxIterations);
            w.WriteNumber("centerX", a.CenterX);
            w.WriteNumber("centerY", a.CenterY);
            w.WriteNumber("scale", a.Scale);
            w.WriteNumber("rowsPerUnit", a.RowsPerUnit);
        });
        var inputs = new byte[units][];
        Array.Fill(inputs, Array.Empty<byte>());
        long pixels = (long)Math.Min(rows, height) * width;
        // Upper bound: every pixel runs maxIterations iterations of ~8 flops.
        return new KernelPlan(canonical, inputs, new KernelCost(Flops: 8.0 * pixels * maxIterations, Bytes: 4.0 * pixels));
    }

    internal static Args ReadArgs(string canonical)
    {
        using var doc = Canonical.Parse(canonical);
        var r = doc.RootElement;
        return new Args(r.GetProperty("width").GetInt32(), r.GetProperty("height").GetInt32(), r.GetProperty("maxIterations").GetInt32(),
            r.GetProperty("centerX").GetDouble(), r.GetProperty("centerY").GetDouble(), r.GetProperty("scale").GetDouble(),
            r.GetProperty("rowsPerUnit").GetInt32());
    }

    /// <summary>First row and row count of a unit.</summary>
    public static (int FirstRow, int Rows) RowsOfUnit(int height, int rowsPerUnit, int unitIndex)
    {
        int first = unitIndex * rowsPerUnit;
        if (unitIndex < 0 || first >= height) throw new ArgumentOutOfRangeException(nameof(unitIndex));
        return (first, Math.Min(rowsPerUnit, height - first));
    }

    /// <inheritdoc />
    protected override byte[] ExecuteIlgpu(ComputeDevice device, KernelUnit unit)
    {
        var a = ReadArgs(unit.CanonicalParameters);
        var (y0, rows) = RowsOfUnit(a.Height, a.RowsPerUnit, unit.UnitIndex);
        int n = rows * a.Width;
        var kernel = device.GetOrAdd("mandelbrot.kernel", acc =>
            acc.LoadAutoGroupedStreamKernel<Index1D, int, int, int, int, double, double, double, ArrayView<int>>(MandelbrotIlgpu.Kernel));
        var view = device.GetBuffer<int>("mandelbrot.out", n).View.SubView(0, n);
        kernel(n, a.Width, a.Height, y0, a.MaxIterations, a.CenterX, a.CenterY, a.PixelSize, view);
        var output = new byte[4 * n];
        view.CopyToCPU(device.Accelerator!.DefaultStream, MemoryMarshal.Cast<byte, int>(output.AsSpan()));
        device.Accelerator.Synchronize();
        return output;
    }

    /// <inheritdoc />
    protected override byte[] ExecuteVector(KernelUnit unit)
    {
        var a = ReadArgs(unit.CanonicalParameters);
        var (y0, rows) = RowsOfUnit(a.Height, a.RowsPerUnit, unit.UnitIndex);
        var output = new byte[4L * rows * a.Width];
        MandelbrotVector.Compute(a.Width, a.Height, y0, rows, a.MaxIterations, a.CenterX, a.CenterY, a.PixelSize,
            MemoryMarshal.Cast<byte, int>(output.AsSpan()));
        return output;
    }

    /// <summary>Grayscale mapping: points in the set are black, escapees get brighter the longer they survive (sqrt ramp).</summary>
    public static byte Shade(int iterations, int maxIterations) =>
        iterations >= maxIterations ? (byte)0 : (byte)(32 + 223 * Math.Sqrt((double)iterations / maxIterations));

    /// <inheritdoc />
    public override long ExpectedOutputBytes(KernelUnit unit)
    {
        ArgumentNullException.ThrowIfNull(unit);
        var a = ParsedOnce(unit.CanonicalParameters, ReadArgs);
        var (_, rows) = RowsOfUnit(a.Height, a.RowsPerUnit, unit.UnitIndex);
        return 4L * rows * a.Width; // one int32 iteration count per pixel; the PNG is made only by Assemble
    }

    /// <inheritdoc />
    public override KernelResult Assemble(string canonicalParameters, IReadOnlyList<byte[]> unitOutputs)
    {
        ArgumentNullException.ThrowIfNull(unitOutputs);
        var a = ReadArgs(canonicalParameters);
        long expected = 4L * a.Width * a.Height;
        long total = unitOutputs.Sum(o => (long)o.Length);
        if (total != expected) throw new ArgumentException($"mandelbrot outputs hold {total} bytes, expected {expected}", nameof(unitOutputs));
        var gray = new byte[a.Width * a.Height];
        int k = 0;
        long inSet = 0;
        foreach (var o in unitOutputs)
        {
            foreach (int it in MemoryMarshal.Cast<byte, int>(o))
            {
                if (it >= a.MaxIterations) inSet++;
                gray[k++] = Shade(it, a.MaxIterations);
            }
        }
        var png = Png.EncodeGray8(a.Width, a.Height, gray);
        return new KernelResult("image/png", png, string.Create(CultureInfo.InvariantCulture,
            $"mandelbrot {a.Width}x{a.Height} maxIterations={a.MaxIterations} center=({a.CenterX:R},{a.CenterY:R}) scale={a.Scale:R} inSet={100.0 * inSet / gray.Length:F2}% png={png.Length}B"));
    }

    /// <inheritdoc />
    public override bool OutputsAgree(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        if (a.Length != b.Length || a.Length % 4 != 0)
            return false;
        var ia = MemoryMarshal.Cast<byte, int>(a);
        var ib = MemoryMarshal.Cast<byte, int>(b);
        long allowed = (long)Math.Floor(ia.Length * MismatchFraction);
        long differing = 0;
        for (int i = 0; i < ia.Length; i++)
        {
            if (ia[i] != ib[i] && ++differing > allowed)
                return false;
        }
        return true;
    }
}

/// <summary>ILGPU backend of <c>mandelbrot</c>.</summary>
public static class MandelbrotIlgpu
{
    /// <summary>One thread per pixel of the band: px = i mod width, py = y0 + i / width.</summary>
    public static void Kernel(Index1D i, int width, int height, int y0, int maxIterations, double centerX, double centerY, double pixel, ArrayView<int> output)
    {
        int px = i.X % width;
        int py = y0 + i.X / width;
        double cx = centerX + ((px + 0.5) - width * 0.5) * pixel;
        double cy = centerY - ((py + 0.5) - height * 0.5) * pixel;
        output[i] = MandelbrotMath.Iterate(cx, cy, maxIterations);
    }
}

/// <summary>The escape-time loop shared by the ILGPU kernel and the scalar tail of the vector backend.</summary>
public static class MandelbrotMath
{
    /// <summary>Iterations until |z|² &gt; 4, capped at <paramref name="maxIterations"/>.</summary>
    public static int Iterate(double cx, double cy, int maxIterations)
    {
        double zx = 0, zy = 0;
        int it = 0;
        while (it < maxIterations)
        {
            double x2 = zx * zx, y2 = zy * zy;
            if (x2 + y2 > 4.0) break;
            zy = 2.0 * zx * zy + cy;
            zx = x2 - y2 + cx;
            it++;
        }
        return it;
    }
}

/// <summary>Vectorised .NET backend of <c>mandelbrot</c>: Vector&lt;double&gt; lanes across a row, Parallel.For across rows.</summary>
public static class MandelbrotVector
{
    /// <summary>Fills <paramref name="output"/> (rows*width) with iteration counts, bit-identical to <see cref="MandelbrotMath.Iterate"/>.</summary>
    public static void Compute(int width, int height, int y0, int rows, int maxIterations, double centerX, double centerY, double pixel, Span<int> output)
    {
        if (output.Length != rows * width) throw new ArgumentException("output size mismatch", nameof(output));
        var result = new int[output.Length];
        Parallel.For(0, rows, r =>
        {
            int py = y0 + r;
            double cy = centerY - ((py + 0.5) - height * 0.5) * pixel;
            Row(width, maxIterations, centerX, cy, pixel, result.AsSpan(r * width, width));
        });
        result.CopyTo(output);
    }

    private static void Row(int width, int maxIterations, double centerX, double cy, double pixel, Span<int> row)
    {
        int w = Vector<double>.Count;
        int px = 0;
        if (Vector.IsHardwareAccelerated && w > 1)
        {
            Span<double> lanes = stackalloc double[w];
            var four = new Vector<double>(4.0);
            var two = new Vector<double>(2.0);
            var vcy = new Vector<double>(cy);
            for (; px <= width - w; px += w)
            {
                for (int l = 0; l < w; l++)
                    lanes[l] = centerX + (((px + l) + 0.5) - width * 0.5) * pixel;
                var vcx = new Vector<double>(lanes);
                var zx = Vector<double>.Zero;
                var zy = Vector<double>.Zero;
                var count = Vector<long>.Zero;
                var active = Vector<long>.AllBitsSet;
                for (int it = 0; it < maxIterations; it++)
                {
                    var x2 = zx * zx;
                    var y2 = zy * zy;
                    // Lanes whose |z|² exceeds 4 stop counting (and stay stopped).
                    active &= Vector.AsVectorInt64(Vector.LessThanOrEqual(x2 + y2, four));
                    if (active == Vector<long>.Zero) break;
                    count -= active; // active lanes are -1
                    var nzy = two * zx * zy + vcy;
                    var nzx = x2 - y2 + vcx;
                    zx = Vector.ConditionalSelect(Vector.AsVectorDouble(active), nzx, zx);
                    zy = Vector.ConditionalSelect(Vector.AsVectorDouble(active), nzy, zy);
                }
                for (int l = 0; l < w; l++)
                    row[px + l] = (int)count[l];
            }
        }
        for (; px < width; px++)
        {
            double cx = centerX + ((px + 0.5) - width * 0.5) * pixel;
            row[px] = MandelbrotMath.Iterate(cx, cy, maxIterations);
        }
    }
}
