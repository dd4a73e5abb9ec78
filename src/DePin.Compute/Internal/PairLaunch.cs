using DePin.Compute.Devices;

namespace DePin.Compute.Internal;

/// <summary>
/// Launch shape of the Monte Carlo kernels: draws come in pairs (one Philox block feeds two), spread over at most
/// 2048 threads per SM on a GPU (256 on ILGPU's CPU simulator), each thread taking a contiguous run of pairs.
/// </summary>
internal readonly record struct PairLaunch(ulong Pairs, int Threads, ulong PairsPerThread)
{
    /// <summary>The shape for <paramref name="draws"/> draws on <paramref name="device"/>.</summary>
    public static PairLaunch For(ComputeDevice device, long draws)
    {
        ulong pairs = ((ulong)draws + 1) / 2;
        long maxThreads = device.IsGpu ? Math.Max(1, device.ComputeUnits) * 2048L : 256;
        int threads = (int)Math.Min((long)pairs, maxThreads);
        return new PairLaunch(pairs, threads, (pairs + (ulong)threads - 1) / (ulong)threads);
    }
}
