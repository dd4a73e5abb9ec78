using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json;
using DePin.Compute.Catalog;
using DePin.Compute.Devices;
using DePin.Compute.Internal;
using ILGPU;
using ILGPU.Runtime;

namespace DePin.Compute.Kernels;

/// <summary>
/// <c>option-price</c>: Monte Carlo price of a European call under geometric Brownian motion,
/// S_T = S·exp((r − σ²/2)T + σ√T·Z), payoff e^(−rT)·max(S_T − K, 0). Normals come from Philox4x32-10 (key = seed,
/// counter = (pair low, pair high, unit, 0x0971)) through Box-Muller: one block gives u1 ∈ (0,1] and u2 ∈ [0,1) with
/// 53 bits each and two normals, i.e. two paths. A unit's output is 24 bytes: float64 sum of discounted payoffs,
/// float64 sum of their squares, int64 path count.
/// </summary>
public sealed class OptionPriceKernel : KernelBase
{
    /// <summary>Largest total path count.</summary>
    public const long MaxPaths = 1_000_000_000_000;
    /// <summary>Counter word 3 of the option-price RNG stream.</summary>
    public const uint StreamTag = 0x0971;
    /// <summary>Relative tolerance on the two sums.</summary>
    public const double RelativeTolerance = 1e-9;
    /// <summary>Bytes of a unit output.</summary>
    public const int OutputBytes = 24;

    /// <inheritdoc />
    public override string Name => "option-price";
    /// <inheritdoc />
    public override string Description => "Monte Carlo European call price under GBM (Philox + Box-Muller, float64) with standard error";
    /// <inheritdoc />
    public override OutputComparison Comparison => OutputComparison.Tolerance;

    /// <summary>Validated parameters.</summary>
    public readonly record struct Args(double Spot, double Strike, double Rate, double Volatility, double Maturity, long Paths, int Units, long Seed)
    {
        /// <summary>(r − σ²/2)·T.</summary>
        public double Drift => (Rate - 0.5 * Volatility * Volatility) * Maturity;
        /// <summary>σ·√T.</summary>
        public double Diffusion => Volatility * Math.Sqrt(Maturity);
        /// <summary>e^(−rT).</summary>
        public double Discount => Math.Exp(-Rate * Maturity);
    }

    /// <inheritdoc />
    protected override KernelPlan PlanCore(JsonElement parameters, KernelLimits limits)
    {
        var p = new ParamReader(Name, parameters, "spot", "strike", "rate", "volatility", "maturity", "paths", "units", "seed");
        double spot = p.Number("spot"), strike = p.Number("strike"), rate = p.Number("rate"), vol = p.Number("volatility"), t = p.Number("maturity");
        if (!(spot > 0 && spot <= 1e9)) throw p.Bad("field 'spot' must be in (0, 1e9]");
        if (!(strike > 0 && strike <= 1e9)) throw p.Bad("field 'strike' must be in (0, 1e9]");
        if (!(rate >= -1 && rate <= 1)) throw p.Bad("field 'rate' must be in [-1, 1] (continuously compounded, per year)");
        if (!(vol > 0 && vol <= 5)) throw p.Bad("field 'volatility' must be in (0, 5]");
        if (!(t > 0 && t <= 100)) throw p.Bad("field 'maturity' must be in (0, 100] years");
        if (vol * Math.Sqrt(t) > 10) throw p.Bad("volatility*sqrt(maturity) must not exceed 10");
        long paths = p.Integer("paths", 1, MaxPaths);
        long units = p.Integer("units", 1, Math.Max(1, limits.MaxUnits));
        long seed = p.Integer("seed", long.MinValue, long.MaxValue, 1);
        if (units > paths) throw p.Bad($"units ({units}) must not exceed paths ({paths})");
        if (OutputBytes * units > limits.MaxOutputBytes)
            throw p.Bad($"output of {OutputBytes * units} bytes exceeds the limit of {limits.MaxOutputBytes}");
        string canonical = Canonical.Write(w =>
        {
            w.WriteNumber("spot", spot);
            w.WriteNumber("strike", strike);
            w.WriteNumber("rate", rate);
            w.WriteNumber("volatility", vol);
            w.WriteNumber("maturity", t);
            w.WriteNumber("paths", paths);
            w.WriteNumber("units", units);
            w.WriteNumber("seed", seed);
        });
        var inputs = new byte[units][];
        Array.Fill(inputs, Array.Empty<byte>());
        long perUnit = (paths + units - 1) / units;
        // Per path: half a Philox block (~40 int ops), log/sqrt/cos-or-sin/exp (~80 flops counted) and ~10 arithmetic ops.
        return new KernelPlan(canonical, inputs, new KernelCost(Flops: 130.0 * perUnit, Bytes: OutputBytes));
    }

    /// <summary>Reads the canonical parameters.</summary>
    public static Args ReadArgs(string canonical)
    {
        using var doc = Canonical.Parse(canonical);
        var r = doc.RootElement;
        return new Args(r.GetProperty("spot").GetDouble(), r.GetProperty("strike").GetDouble(), r.GetProperty("rate").GetDouble(),
            r.GetProperty("volatility").GetDouble(), r.GetProperty("maturity").GetDouble(), r.GetProperty("paths").GetInt64(),
            r.GetProperty("units").GetInt32(), r.GetProperty("seed").GetInt64());
    }

    /// <summary>Paths simulated by a unit: an even share, the remainder spread over the first units.</summary>
    public static long PathsOfUnit(long paths, int units, int unitIndex) => paths / units + (unitIndex < paths % units ? 1 : 0);

    private static (Args Args, long Paths) ReadUnit(KernelUnit unit)
    {
        var a = ReadArgs(unit.CanonicalParameters);
        if (unit.UnitIndex < 0 || unit.UnitIndex >= a.Units)
            throw new ArgumentException($"unit index {unit.UnitIndex} outside 0..{a.Units - 1}", nameof(unit));
        return (a, PathsOfUnit(a.Paths, a.Units, unit.UnitIndex));
    }

    private static byte[] Output(double sum, double sumSquares, long paths)
    {
        var o = new byte[OutputBytes];
        BinaryPrimitives.WriteDoubleLittleEndian(o, sum);
        BinaryPrimitives.WriteDoubleLittleEndian(o.AsSpan(8), sumSquares);
        BinaryPrimitives.WriteInt64LittleEndian(o.AsSpan(16), paths);
        return o;
    }

    /// <inheritdoc />
    protected override byte[] ExecuteIlgpu(ComputeDevice device, KernelUnit unit)
    {
        var (a, paths) = ReadUnit(unit);
        var (pairs, threads, perThread) = PairLaunch.For(device, paths);
        var kernel = device.GetOrAdd("option-price.kernel", acc =>
            acc.LoadAutoGroupedStreamKernel<Index1D, OptionPriceIlgpu.Setup, ulong, ulong, ArrayView<double>, ArrayView<double>>(OptionPriceIlgpu.Kernel));
        var sums = device.GetBuffer<double>("option-price.sum", threads).View.SubView(0, threads);
        var squares = device.GetBuffer<double>("option-price.sq", threads).View.SubView(0, threads);
        var setup = new OptionPriceIlgpu.Setup
        {
            Spot = a.Spot,
            Strike = a.Strike,
            Drift = a.Drift,
            Diffusion = a.Diffusion,
            Discount = a.Discount,
            Paths = (ulong)paths,
            K0 = (uint)a.Seed,
            K1 = (uint)((ulong)a.Seed >> 32),
            Unit = (uint)unit.UnitIndex,
        };
        kernel(threads, setup, pairs, perThread, sums, squares);
        var hs = new double[threads];
        var hq = new double[threads];
        var acc = device.Accelerator!;
        sums.CopyToCPU(acc.DefaultStream, hs.AsSpan());
        squares.CopyToCPU(acc.DefaultStream, hq.AsSpan());
        acc.Synchronize();
        double s = 0, q = 0;
        for (int i = 0; i < threads; i++) { s += hs[i]; q += hq[i]; }
        return Output(s, q, paths);
    }

    /// <inheritdoc />
    protected override byte[] ExecuteVector(KernelUnit unit)
    {
        var (a, paths) = ReadUnit(unit);
        var (s, q) = OptionPriceVector.Simulate(a, paths, (uint)unit.UnitIndex);
        return Output(s, q, paths);
    }

    /// <inheritdoc />
    public override long ExpectedOutputBytes(KernelUnit unit) => OutputBytes;

    /// <inheritdoc />
    public override KernelResult Assemble(string canonicalParameters, IReadOnlyList<byte[]> unitOutputs)
    {
        ArgumentNullException.ThrowIfNull(unitOutputs);
        var a = ReadArgs(canonicalParameters);
        double sum = 0, sq = 0;
        long paths = 0;
        foreach (var o in unitOutputs)
        {
            if (o.Length != OutputBytes) throw new ArgumentException($"option-price unit output must be {OutputBytes} bytes", nameof(unitOutputs));
            sum += BinaryPrimitives.ReadDoubleLittleEndian(o);
            sq += BinaryPrimitives.ReadDoubleLittleEndian(o.AsSpan(8));
            paths += BinaryPrimitives.ReadInt64LittleEndian(o.AsSpan(16));
        }
        if (paths != a.Paths) throw new ArgumentException($"option-price outputs cover {paths} paths, expected {a.Paths}", nameof(unitOutputs));
        double price = sum / paths;
        double variance = paths > 1 ? Math.Max(0, (sq - paths * price * price) / (paths - 1)) : 0;
        double stderr = Math.Sqrt(variance / paths);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(160);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("price", price);
            w.WriteNumber("standardError", stderr);
            w.WriteNumber("paths", paths);
            w.WriteEndObject();
        }
        return new KernelResult("application/json", buffer.WrittenSpan.ToArray(), string.Create(CultureInfo.InvariantCulture,
            $"option-price call S={a.Spot:R} K={a.Strike:R} r={a.Rate:R} sigma={a.Volatility:R} T={a.Maturity:R} paths={paths} price={price:G8} +- {stderr:G3}"));
    }

    /// <summary>Same path count; both sums agree within 1e-9 relative (transcendentals and summation order differ by a few ulps).</summary>
    public override bool OutputsAgree(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        if (a.Length != OutputBytes || b.Length != OutputBytes || !a[16..].SequenceEqual(b[16..]))
            return false;
        return Close(BinaryPrimitives.ReadDoubleLittleEndian(a), BinaryPrimitives.ReadDoubleLittleEndian(b))
            && Close(BinaryPrimitives.ReadDoubleLittleEndian(a[8..]), BinaryPrimitives.ReadDoubleLittleEndian(b[8..]));
    }

    private static bool Close(double x, double y) =>
        double.IsFinite(x) && double.IsFinite(y) && x >= 0 && y >= 0 && Math.Abs(x - y) <= RelativeTolerance * Math.Max(x, y);
}

/// <summary>Box-Muller on one Philox block, shared by both backends.</summary>
public static class OptionPriceMath
{
    /// <summary>u1 ∈ (0, 1] from words 0–1 and u2 ∈ [0, 1) from words 2–3, 53 bits each.</summary>
    public static void Uniforms(uint pairLo, uint pairHi, uint unit, uint k0, uint k1, out double u1, out double u2)
    {
        var r = Philox.Generate(pairLo, pairHi, unit, OptionPriceKernel.StreamTag, k0, k1);
        ulong a = ((ulong)r.X1 << 32 | r.X0) >> 11;
        ulong b = ((ulong)r.X3 << 32 | r.X2) >> 11;
        u1 = (a + 1) * (1.0 / 9007199254740992.0);
        u2 = b * (1.0 / 9007199254740992.0);
    }

    /// <summary>Discounted call payoff for one standard normal draw.</summary>
    public static double Payoff(double z, double spot, double strike, double drift, double diffusion, double discount)
    {
        double st = spot * Math.Exp(drift + diffusion * z);
        return st > strike ? (st - strike) * discount : 0.0;
    }
}

/// <summary>ILGPU backend of <c>option-price</c>.</summary>
public static class OptionPriceIlgpu
{
    /// <summary>Kernel constants (one struct keeps the parameter list short).</summary>
    public struct Setup
    {
        /// <summary>S.</summary>
        public double Spot;
        /// <summary>K.</summary>
        public double Strike;
        /// <summary>(r − σ²/2)T.</summary>
        public double Drift;
        /// <summary>σ√T.</summary>
        public double Diffusion;
        /// <summary>e^(−rT).</summary>
        public double Discount;
        /// <summary>Paths of the unit.</summary>
        public ulong Paths;
        /// <summary>Seed low word.</summary>
        public uint K0;
        /// <summary>Seed high word.</summary>
        public uint K1;
        /// <summary>Unit index (counter word 2).</summary>
        public uint Unit;
    }

    /// <summary>Thread t simulates pairs [t·perThread, min((t+1)·perThread, pairs)); writes its sums to sums[t], squares[t].</summary>
    public static void Kernel(Index1D t, Setup s, ulong pairs, ulong perThread, ArrayView<double> sums, ArrayView<double> squares)
    {
        ulong begin = (ulong)t.X * perThread;
        ulong end = begin + perThread;
        if (end > pairs) end = pairs;
        double sum = 0, sq = 0;
        for (ulong p = begin; p < end; p++)
        {
            OptionPriceMath.Uniforms((uint)p, (uint)(p >> 32), s.Unit, s.K0, s.K1, out double u1, out double u2);
            double radius = Math.Sqrt(-2.0 * Math.Log(u1));
            double angle = 2.0 * Math.PI * u2;
            double v = OptionPriceMath.Payoff(radius * Math.Cos(angle), s.Spot, s.Strike, s.Drift, s.Diffusion, s.Discount);
            sum += v;
            sq += v * v;
            if (2 * p + 1 < s.Paths)
            {
                v = OptionPriceMath.Payoff(radius * Math.Sin(angle), s.Spot, s.Strike, s.Drift, s.Diffusion, s.Discount);
                sum += v;
                sq += v * v;
            }
        }
        sums[t] = sum;
        squares[t] = sq;
    }
}

/// <summary>
/// .NET CPU backend of <c>option-price</c>: Philox + Box-Muller + System.Math per pair of paths, Parallel.For over
/// 4 × cores chunks (partials added in chunk order). A batched TensorPrimitives Log/Sqrt/Cos/Sin/Exp variant was measured
/// at 0.60× of this scalar loop on the 2-core AVX2 bench machine (docs/benchmarks.md), so the scalar form is used.
/// </summary>
public static class OptionPriceVector
{
    /// <summary>Sum and sum of squares of the discounted payoffs of one unit's paths.</summary>
    public static (double Sum, double SumSquares) Simulate(OptionPriceKernel.Args a, long paths, uint unit)
    {
        ulong pairs = ((ulong)paths + 1) / 2;
        int chunks = (int)Math.Min((long)pairs, Environment.ProcessorCount * 4L);
        ulong perChunk = (pairs + (ulong)chunks - 1) / (ulong)chunks;
        var partial = new (double S, double Q)[chunks];
        uint k0 = (uint)a.Seed, k1 = (uint)((ulong)a.Seed >> 32);
        double spot = a.Spot, strike = a.Strike, drift = a.Drift, diffusion = a.Diffusion, discount = a.Discount;
        Parallel.For(0, chunks, c =>
        {
            ulong begin = (ulong)c * perChunk, end = Math.Min(begin + perChunk, pairs);
            double sum = 0, sq = 0;
            for (ulong p = begin; p < end; p++)
            {
                OptionPriceMath.Uniforms((uint)p, (uint)(p >> 32), unit, k0, k1, out double u1, out double u2);
                double radius = Math.Sqrt(-2.0 * Math.Log(u1));
                double angle = 2.0 * Math.PI * u2;
                var (sin, cos) = Math.SinCos(angle);
                double v = OptionPriceMath.Payoff(radius * cos, spot, strike, drift, diffusion, discount);
                sum += v;
                sq += v * v;
                if (2 * p + 1 < (ulong)paths)
                {
                    v = OptionPriceMath.Payoff(radius * sin, spot, strike, drift, diffusion, discount);
                    sum += v;
                    sq += v * v;
                }
            }
            partial[c] = (sum, sq);
        });
        double s = 0, q = 0;
        foreach (var (ps, pq) in partial) { s += ps; q += pq; }
        return (s, q);
    }
}
