namespace DePin.Compute.Kernels;

/// <summary>
/// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11), hand-written so that the exact
/// same integer code runs inside ILGPU kernels and on the CPU. Counter-based: output = f(counter, key), no state.
/// </summary>
public static class Philox
{
    private const uint M0 = 0xD2511F53, M1 = 0xCD9E8D57, W0 = 0x9E3779B9, W1 = 0xBB67AE85;

    /// <summary>The four 32-bit outputs of one Philox4x32-10 block.</summary>
    public struct Block
    {
        /// <summary>Word 0.</summary>
        public uint X0;
        /// <summary>Word 1.</summary>
        public uint X1;
        /// <summary>Word 2.</summary>
        public uint X2;
        /// <summary>Word 3.</summary>
        public uint X3;
    }

    /// <summary>Philox4x32 with 10 rounds on counter (c0..c3) and key (k0, k1). Uses only 32/64-bit integer ops (GPU-safe).</summary>
    public static Block Generate(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1)
    {
        for (int round = 0; round < 10; round++)
        {
            ulong p0 = (ulong)M0 * c0;
            ulong p1 = (ulong)M1 * c2;
            uint hi0 = (uint)(p0 >> 32), lo0 = (uint)p0;
            uint hi1 = (uint)(p1 >> 32), lo1 = (uint)p1;
            uint n0 = hi1 ^ c1 ^ k0;
            uint n2 = hi0 ^ c3 ^ k1;
            c0 = n0;
            c1 = lo1;
            c2 = n2;
            c3 = lo0;
            k0 += W0;
            k1 += W1;
        }
        Block b;
        b.X0 = c0;
        b.X1 = c1;
        b.X2 = c2;
        b.X3 = c3;
        return b;
    }
}
