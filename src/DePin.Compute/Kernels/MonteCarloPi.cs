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
/// <c>montecarlo-pi</c>: estimates π by counting uniformly random points of the unit square inside the quarter circle.
/// Points come from Philox4x32-10 keyed by the seed with counter (pair index, unit index); each block yields two points
/// (x, y as uint32). The in-circle test is exact integer arithmetic (x² + y² &lt; 2⁶⁴, detected as "no carry"), so every
/// backend produces the same hit count bit for bit.
/// </summary>
public sealed class MonteCarloPiKernel : KernelBase
{
    /// <summary>Largest total sample count.</summary>
    public const long MaxSamples = 1_000_000_000_000;

    /// <inheritdoc />
    public override string Name => "montecarlo-pi";
    /// <inheritdoc />
    public override string Description => "Monte Carlo estimate of pi with a counter-based RNG (Philox4x32-10); bitwise reproducible";
    /// <inheritdoc />
    public override OutputComparison Comparison => OutputComparison.Bitwise;

    /// <inheritdoc />
    protected override KernelPlan PlanCore(JsonElement parameters, KernelLimits limits)
    {
        var p = new ParamReader(Name, parameters, "samples", "units", "seed");
        long samples = p.Integer("samples", 1, MaxSamples);
        long units = p.Integer("units", 1, Math.Max(1, limits.MaxUnits));
        long seed = p.Integer("seed", long.MinValue, long.MaxValue, 1);
        if (units > samples)
            throw p.Bad($"units ({units}) must not exceed samples ({samples})");
        if (16L * units > limits.MaxOutputBytes)
            throw p.Bad($"output of {16L * units} bytes exceeds the limit of {limits.MaxOutputBytes}");
        string canonical = Canonical.Write(w =>
        {
            w.WriteNumber("samples", samples);
            w.WriteNumber("units", units);
            w.WriteNumber("seed", seed);
        });
        var inputs = new byte[units][];
        Array.Fill(inputs, Array.Empty<byte>());
        long perUnit = (samples + units - 1) / units;
        // Per sample: ~half a Philox block (10 rounds x 2 mul) plus the test: ~30 integer ops; 16 bytes written per unit.
        return new KernelPlan(canonical, inputs, new KernelCost(Flops: 30.0 * perUnit, Bytes: 16));
    }

    /// <summary>Samples drawn by unit <paramref name="unitIndex"/>: an even share, the remainder spread over the first units.</summary>
    public static long SamplesOfUnit(long samples, int units, int unitIndex) =>
        samples / units + (unitIndex < samples % units ? 1 : 0);

    private static (long Samples, long Seed) ReadUnit(KernelUnit unit)
    {
        using var doc = Canonical.Parse(unit.CanonicalParameters);
        var r = doc.RootElement;
        long samples = r.GetProperty("samples").GetInt64();
        int units = r.GetProperty("units").GetInt32();
        long seed = r.GetProperty("seed").GetInt64();
        if (unit.UnitIndex < 0 || unit.UnitIndex >= units)
            throw new ArgumentException($"unit index {unit.UnitIndex} outside 0..{units - 1}", nameof(unit));
        return (SamplesOfUnit(samples, units, unit.UnitIndex), seed);
    }

    private static byte[] Output(long hits, long samples)
    {
        var o = new byte[16];
        BinaryPrimitives.WriteInt64LittleEndian(o, hits);
        BinaryPrimitives.WriteInt64LittleEndian(o.AsSpan(8), samples);
        return o;
    }

    /// <inheritdoc />
    protected override byte[] ExecuteIlgpu(ComputeDevice device, KernelUnit unit)
    {
        var (samples, seed) = ReadUnit(unit);
        var (pairs, threads, perThread) = PairLaunch.For(device, samples);
        var kernel = device.GetOrAdd("montecarlo-pi.kernel", acc =>
            acc.LoadAutoGroupedStreamKernel<Index1D, ulong, ulong, ulong, uint, uint, uint, ArrayView<ulong>>(MonteCarloPiIlgpu.Kernel));
        var partial = device.GetBuffer<ulong>("montecarlo-pi.partial", threads).View.SubView(0, threads);
        kernel(threads, (ulong)samples, pairs, perThread, (uint)seed, (uint)((ulong)seed >> 32), (uint)unit.UnitIndex, partial);
        var host = new ulong[threads];
        partial.CopyToCPU(device.Accelerator!.DefaultStream, host.AsSpan());
        device.Accelerator.Synchronize();
        ulong hits = 0;
        foreach (var h in host) hits += h;
        return Output((long)hits, samples);
    }

    /// <inheritdoc />
    protected override byte[] ExecuteVector(KernelUnit unit)
    {
        var (samples, seed) = ReadUnit(unit);
        long hits = MonteCarloPiVector.CountHits(samples, (uint)seed, (uint)((ulong)seed >> 32), (uint)unit.UnitIndex);
        return Output(hits, samples);
    }

    /// <inheritdoc />
    public override long ExpectedOutputBytes(KernelUnit unit) => 16; // hits and samples, two int64

    /// <inheritdoc />
    public override KernelResult Assemble(string canonicalParameters, IReadOnlyList<byte[]> unitOutputs)
    {
        ArgumentNullException.ThrowIfNull(unitOutputs);
        long expected;
        using (var doc = Canonical.Parse(canonicalParameters))
            expected = doc.RootElement.GetProperty("samples").GetInt64();
        long hits = 0, samples = 0;
        foreach (var o in unitOutputs)
        {
            if (o.Length != 16) throw new ArgumentException("montecarlo-pi unit output must be 16 bytes", nameof(unitOutputs));
            hits += BinaryPrimitives.ReadInt64LittleEndian(o);
            samples += BinaryPrimitives.ReadInt64LittleEndian(o.AsSpan(8));
        }
        if (samples != expected) throw new ArgumentException($"montecarlo-pi outputs cover {samples} samples, expected {expected}", nameof(unitOutputs));
        double pi = 4.0 * hits / samples;
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(128);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("pi", pi);
            w.WriteNumber("hits", hits);
            w.WriteNumber("samples", samples);
            w.WriteEndObject();
        }
        return new KernelResult("application/json", buffer.WrittenSpan.ToArray(),
            string.Create(CultureInfo.InvariantCulture, $"montecarlo-pi samples={samples} hits={hits} pi~{pi:R} (error {pi - Math.PI:E2})"));
    }

    /// <inheritdoc />
    public override bool OutputsAgree(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) => a.SequenceEqual(b);
}

/// <summary>ILGPU backend of <c>montecarlo-pi</c>.</summary>
public static class MonteCarloPiIlgpu
{
    /// <summary>
    /// Thread t handles Philox counters [t*perThread, min((t+1)*perThread, pairs)); counter p gives points 2p and 2p+1
    /// (the second is skipped when 2p+1 ≥ samples). Writes its hit count to partial[t]; the host adds them up.
    /// </summary>
    public static void Kernel(Index1D t, ulong samples, ulong pairs, ulong perThread, uint k0, uint k1, uint unitIndex, ArrayView<ulong> partial)
    {
        ulong begin = (ulong)t.X * perThread;
        ulong end = begin + perThread;
        if (end > pairs) end = pairs;
        ulong hits = 0;
        for (ulong p = begin; p < end; p++)
        {
            var r = Philox.Generate((uint)p, (uint)(p >> 32), unitIndex, 0u, k0, k1);
            hits += MonteCarloPiMath.Inside(r.X0, r.X1);
            if (2 * p + 1 < samples)
                hits += MonteCarloPiMath.Inside(r.X2, r.X3);
        }
        partial[t] = hits;
    }
}

/// <summary>The exact integer in-circle test shared by both backends.</summary>
public static class MonteCarloPiMath
{
    /// <summary>1 when x² + y² &lt; 2⁶⁴ (no carry out of the 64-bit sum), else 0.</summary>
    public static ulong Inside(uint x, uint y)
    {
        ulong xx = (ulong)x * x;
        ulong sum = xx + (ulong)y * y;
        return sum >= xx ? 1UL : 0UL;
    }
}

/// <summary>Vectorised .NET backend of <c>montecarlo-pi</c>: the same Philox code, partitioned over cores with Parallel.For.</summary>
public static class MonteCarloPiVector
{
    /// <summary>Counts the points of one unit inside the quarter circle.</summary>
    public static long CountHits(long samples, uint k0, uint k1, uint unitIndex)
    {
        ulong pairs = ((ulong)samples + 1) / 2;
        int chunks = (int)Math.Min((long)pairs, Environment.ProcessorCount * 4L);
        ulong perChunk = (pairs + (ulong)chunks - 1) / (ulong)chunks;
        long total = 0;
        Parallel.For(0, chunks, () => 0L, (c, _, local) =>
        {
            ulong begin = (ulong)c * perChunk, end = Math.Min(begin + perChunk, pairs);
            ulong hits = 0;
            for (ulong p = begin; p < end; p++)
            {
                var r = Philox.Generate((uint)p, (uint)(p >> 32), unitIndex, 0u, k0, k1);
                hits += MonteCarloPiMath.Inside(r.X0, r.X1);
                if (2 * p + 1 < (ulong)samples)
                    hits += MonteCarloPiMath.Inside(r.X2, r.X3);
            }
            return local + (long)hits;
        }, local => Interlocked.Add(ref total, local));
        return total;
    }
}
