namespace DePin.Compute.Kernels;

/// <summary>
/// Deterministic synthetic input for kernels that accept a seed instead of client data. Element <c>i</c> of stream
/// <c>s</c> is word <c>i mod 4</c> of Philox4x32-10 with counter (i/4 low, i/4 high, s, 0x5EED) and key (seed low, seed high),
/// mapped to <c>(w &gt;&gt; 8)·2⁻²³ − 1</c>, which is exact in float32 and lies in [−1, 1). The value depends only on
/// (seed, stream, global index), so any split of the job and any backend sees the same data.
/// </summary>
public static class SeededData
{
    /// <summary>Marker in counter word 3 that separates data streams from the RNG streams of Monte Carlo kernels.</summary>
    public const uint Tag = 0x5EED;

    /// <summary>Element <paramref name="index"/> of stream <paramref name="stream"/> (GPU-safe integer code plus one float multiply).</summary>
    public static float Value(uint k0, uint k1, uint stream, long index)
    {
        ulong block = (ulong)index >> 2;
        var r = Philox.Generate((uint)block, (uint)(block >> 32), stream, Tag, k0, k1);
        int word = (int)(index & 3);
        uint w = word == 0 ? r.X0 : word == 1 ? r.X1 : word == 2 ? r.X2 : r.X3;
        return (w >> 8) * (1f / 8388608f) - 1f;
    }

    /// <summary>Fills <paramref name="destination"/> with elements <c>[start, start + length)</c> of a stream.</summary>
    public static void Fill(long seed, uint stream, long start, Span<float> destination)
    {
        uint k0 = (uint)seed, k1 = (uint)((ulong)seed >> 32);
        for (int i = 0; i < destination.Length; i++)
            destination[i] = Value(k0, k1, stream, start + i);
    }

    /// <summary>Fills with Parallel.For over 64k-element chunks (large generated inputs).</summary>
    public static void FillParallel(long seed, uint stream, long start, float[] destination)
    {
        const int chunk = 1 << 16;
        int n = destination.Length;
        if (n <= chunk)
        {
            Fill(seed, stream, start, destination);
            return;
        }
        Parallel.For(0, (n + chunk - 1) / chunk, c =>
        {
            int s = c * chunk, len = Math.Min(chunk, n - s);
            Fill(seed, stream, start + s, destination.AsSpan(s, len));
        });
    }
}
