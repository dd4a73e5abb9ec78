// Compute kernel micro-benchmark: vectorised CPU backend vs a hand-written baseline in the same process, the ILGPU CPU
// accelerator beside it (small sizes: it is a scalar simulator), kernel compile time (first launch) and per-unit launch
// overhead. Run: dotnet run -c Release --project bench/DePin.Compute.Bench [-- --quick]
using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using System.Text.Json;
using DePin.Compute.Catalog;
using DePin.Compute.Devices;
using DePin.Compute.Kernels;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
bool quick = args.Contains("--quick");
double budget = quick ? 0.2 : 1.0;

Console.WriteLine($"machine: {Environment.ProcessorCount} cores, Vector<float>.Count={Vector<float>.Count}, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}");
Console.WriteLine();
Console.WriteLine("| kernel | size | CPU vector backend | hand-written baseline | ratio | ILGPU CPU accel. (size) | compile (1st launch) | launch overhead / unit |");
Console.WriteLine("|---|---|---|---|---|---|---|---|");

// ---- sgemm ----
{
    const int n = 256;
    var a = new float[n * n];
    var b = new float[n * n];
    var c = new float[n * n];
    SeededData.Fill(1, 1, 0, a);
    SeededData.Fill(1, 2, 0, b);
    double flop = 2.0 * n * n * n;
    double backend = flop / Bench.Time(budget, () => SgemmVector.Multiply(n, n, n, a, b, c)) / 1e9;
    double baseline = flop / Bench.Time(budget, () => DeviceProbe.VectorSgemm(n, a, b, c)) / 1e9;
    var (ilgpu, compile, launch) = Bench.Ilgpu(new SgemmKernel(), """{"m":32,"n":32,"k":32,"seed":1,"rowsPerUnit":32}""",
        """{"m":1,"n":1,"k":1,"seed":1}""", 2.0 * 32 * 32 * 32, budget);
    Bench.Row("sgemm", "256³", $"{backend:F1} GFLOP/s", $"{baseline:F1} GFLOP/s (blocked i-k-j Vector<float>)", backend / baseline,
        $"{ilgpu / 1e6:F2} MFLOP/s (32³)", compile, launch);
}

// ---- reduce (sum) ----
{
    const int n = 1 << 22;
    var x = new float[n];
    SeededData.FillParallel(5, 3, 0, x);
    double backend = 4.0 * n / Bench.Time(budget, () => ReduceVector.Sum(x, out _)) / 1e9;
    double baseline = 4.0 * n / Bench.Time(budget, () => Bench.HandSum(x, out _)) / 1e9;
    var (ilgpu, compile, launch) = Bench.Ilgpu(new ReduceKernel(), """{"op":"sum","n":65536,"seed":1,"unitSize":65536}""",
        """{"op":"sum","n":1,"seed":1}""", 4.0 * 65536, budget);
    Bench.Row("reduce sum", "4M floats", $"{backend:F1} GB/s", $"{baseline:F1} GB/s (Vector<float> sum + abs sum, float32, Parallel.For 64k blocks)", backend / baseline,
        $"{ilgpu / 1e3:F1} MB/s (64k)", compile, launch);
}

// ---- option-price ----
{
    const long paths = 2_000_000;
    var args2 = new OptionPriceKernel.Args(100, 105, 0.03, 0.25, 1.5, paths, 1, 11);
    double backend = paths / Bench.Time(budget, () => OptionPriceVector.Simulate(args2, paths, 0)) / 1e6;
    double baseline = paths / Bench.Time(budget, () => Bench.HandOption(args2, paths)) / 1e6;
    var (ilgpu, compile, launch) = Bench.Ilgpu(new OptionPriceKernel(),
        """{"spot":100,"strike":105,"rate":0.03,"volatility":0.25,"maturity":1.5,"paths":20000,"units":1}""",
        """{"spot":100,"strike":105,"rate":0.03,"volatility":0.25,"maturity":1.5,"paths":1,"units":1}""", 20000, budget);
    Bench.Row("option-price", "2M paths", $"{backend:F1} Mpaths/s", $"{baseline:F1} Mpaths/s (same Philox+Box-Muller, scalar System.Math, Parallel.For)", backend / baseline,
        $"{ilgpu / 1e6:F2} Mpaths/s (20k)", compile, launch);
}

// ---- blur ----
{
    const int side = 1024;
    var img = BlurKernel.Synthetic(side, side, 3);
    var weights = BlurKernel.Weights(2.0, 6);
    var o = new byte[side * side];
    double px = (double)side * side;
    double backend = px / Bench.Time(budget, () => BlurVector.Compute(side, side, 0, side, weights, img, o)) / 1e6;
    double baseline = px / Bench.Time(budget, () => Bench.HandBlur(side, side, weights, img, o)) / 1e6;
    var (ilgpu, compile, launch) = Bench.Ilgpu(new BlurKernel(), """{"width":64,"height":64,"seed":1,"sigma":2,"rowsPerUnit":64}""",
        """{"width":1,"height":1,"seed":1,"sigma":2}""", 64 * 64, budget);
    Bench.Row("blur", "1024², r=6", $"{backend:F1} Mpx/s", $"{baseline:F1} Mpx/s (scalar separable float32, Parallel.For rows)", backend / baseline,
        $"{ilgpu / 1e6:F2} Mpx/s (64²)", compile, launch);
}

// ---- saxpy (existing kernel, for reference) ----
{
    const int n = 1 << 22;
    var x = new float[n];
    var y = new float[n];
    var o = new float[n];
    SeededData.FillParallel(2, 1, 0, x);
    SeededData.FillParallel(2, 2, 0, y);
    double backend = 12.0 * n / Bench.Time(budget, () => SaxpyVector.Compute(1.5f, x, y, o)) / 1e9;
    double baseline = 12.0 * n / Bench.Time(budget, () => Bench.HandSaxpy(1.5f, x, y, o)) / 1e9;
    Bench.Row("saxpy", "4M floats", $"{backend:F1} GB/s", $"{baseline:F1} GB/s (Vector<float> a*x+y, Parallel.For)", backend / baseline, "-", double.NaN, double.NaN);
}

static class Bench
{
    /// <summary>Seconds per call: warm-up, then the best of 3 runs of at least budget/3 each.</summary>
    public static double Time(double budget, Action body)
    {
        body();
        double best = double.MaxValue;
        for (int r = 0; r < 3; r++)
        {
            int reps = 0;
            var sw = Stopwatch.StartNew();
            do { body(); reps++; } while (sw.Elapsed.TotalSeconds < budget / 3);
            best = Math.Min(best, sw.Elapsed.TotalSeconds / reps);
        }
        return best;
    }

    /// <summary>On a fresh ILGPU CPU accelerator: throughput of one unit (work/s), first-launch time (compile), per-unit time of a 1-element unit.</summary>
    public static (double Throughput, double CompileSeconds, double LaunchSeconds) Ilgpu(IKernel kernel, string json, string tinyJson, double work, double budget)
    {
        using var device = ComputeDevice.CreateIlgpuCpu("bench");
        var tiny = Plan(kernel, tinyJson);
        var tinyUnit = new KernelUnit(tiny.CanonicalParameters, 0, tiny.UnitCount, tiny.UnitInputs[0]);
        var sw = Stopwatch.StartNew();
        kernel.Execute(device, tinyUnit);
        double compile = sw.Elapsed.TotalSeconds;
        double launch = Time(budget, () => kernel.Execute(device, tinyUnit));
        var plan = Plan(kernel, json);
        var unit = new KernelUnit(plan.CanonicalParameters, 0, plan.UnitCount, plan.UnitInputs[0]);
        double seconds = Time(budget, () => kernel.Execute(device, unit));
        return (work / seconds, compile, launch);
    }

    private static KernelPlan Plan(IKernel kernel, string json)
    {
        using var doc = JsonDocument.Parse(json);
        return kernel.Plan(doc.RootElement, KernelLimits.Default);
    }

    public static void Row(string name, string size, string backend, string baseline, double ratio, string ilgpu, double compile, double launch) =>
        Console.WriteLine($"| {name} | {size} | {backend} | {baseline} | {ratio:F2}x | {ilgpu} | " +
            $"{(double.IsNaN(compile) ? "-" : $"{compile * 1e3:F0} ms")} | {(double.IsNaN(launch) ? "-" : $"{launch * 1e6:F0} µs")} |");

    /// <summary>Baseline: hand-written Vector&lt;float&gt; sum and sum of magnitudes in one pass (2 accumulators each), Parallel.For over 64k blocks.</summary>
    public static float HandSum(float[] x, out float magnitudes)
    {
        const int block = 1 << 16;
        int blocks = (x.Length + block - 1) / block;
        var sums = new float[blocks];
        var mags = new float[blocks];
        Parallel.For(0, blocks, bi =>
        {
            int w = Vector<float>.Count, i = bi * block, end = Math.Min(x.Length, i + block);
            Vector<float> s0 = default, s1 = default, m0 = default, m1 = default;
            for (; i <= end - 2 * w; i += 2 * w)
            {
                var v0 = new Vector<float>(x, i);
                var v1 = new Vector<float>(x, i + w);
                s0 += v0; s1 += v1;
                m0 += Vector.Abs(v0); m1 += Vector.Abs(v1);
            }
            float s = Vector.Sum(s0 + s1), m = Vector.Sum(m0 + m1);
            for (; i < end; i++) { s += x[i]; m += Math.Abs(x[i]); }
            sums[bi] = s;
            mags[bi] = m;
        });
        magnitudes = mags.Sum();
        return sums.Sum();
    }

    /// <summary>Baseline: the same Philox/Box-Muller paths, scalar System.Math per path, Parallel.For over 4 × cores chunks.</summary>
    public static double HandOption(OptionPriceKernel.Args a, long paths)
    {
        ulong pairs = ((ulong)paths + 1) / 2;
        int chunks = Environment.ProcessorCount * 4;
        ulong per = (pairs + (ulong)chunks - 1) / (ulong)chunks;
        var partial = new double[chunks];
        double drift = a.Drift, diffusion = a.Diffusion, discount = a.Discount;
        Parallel.For(0, chunks, c =>
        {
            double s = 0;
            for (ulong p = (ulong)c * per; p < Math.Min(pairs, (ulong)(c + 1) * per); p++)
            {
                OptionPriceMath.Uniforms((uint)p, (uint)(p >> 32), 0, (uint)a.Seed, 0, out double u1, out double u2);
                double r = Math.Sqrt(-2 * Math.Log(u1)), t = 2 * Math.PI * u2;
                s += OptionPriceMath.Payoff(r * Math.Cos(t), a.Spot, a.Strike, drift, diffusion, discount);
                s += OptionPriceMath.Payoff(r * Math.Sin(t), a.Spot, a.Strike, drift, diffusion, discount);
            }
            partial[c] = s;
        });
        return partial.Sum();
    }

    /// <summary>Baseline: scalar separable blur (clamp-to-edge, float32), Parallel.For over rows for each pass.</summary>
    public static void HandBlur(int w, int h, float[] weights, byte[] src, byte[] dst)
    {
        int r = weights.Length / 2;
        var tmp = new float[w * h];
        Parallel.For(0, h, y =>
        {
            for (int x = 0; x < w; x++)
            {
                float acc = 0;
                for (int k = -r; k <= r; k++) acc += weights[k + r] * src[y * w + Math.Clamp(x + k, 0, w - 1)];
                tmp[y * w + x] = acc;
            }
        });
        Parallel.For(0, h, y =>
        {
            for (int x = 0; x < w; x++)
            {
                float acc = 0;
                for (int k = -r; k <= r; k++) acc += weights[k + r] * tmp[Math.Clamp(y + k, 0, h - 1) * w + x];
                dst[y * w + x] = BlurMath.ToByte(acc);
            }
        });
    }

    /// <summary>Baseline: float32 Vector&lt;float&gt; a*x+y (no float64 widening), Parallel.For over 64k chunks.</summary>
    public static void HandSaxpy(float a, float[] x, float[] y, float[] o)
    {
        const int chunk = 1 << 16;
        Parallel.For(0, (x.Length + chunk - 1) / chunk, c =>
        {
            int i = c * chunk, end = Math.Min(x.Length, i + chunk), w = Vector<float>.Count;
            var va = new Vector<float>(a);
            for (; i <= end - w; i += w)
                (va * new Vector<float>(x, i) + new Vector<float>(y, i)).CopyTo(o, i);
            for (; i < end; i++) o[i] = a * x[i] + y[i];
        });
    }
}
