namespace DePin.Worker;

/// <summary>Tunables of the worker loop, shared by GPU silos (<c>Worker</c> section) and node agents.</summary>
public sealed record WorkerLoopOptions
{
    /// <summary>Units leased per call; results are reported in the same batches.</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>How long an idle worker's lease call waits on the server for work (long poll).</summary>
    public TimeSpan LongPollWait { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>How often the node heartbeats and renews the leases it holds.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Pause after a failed lease call (the scheduler unreachable) before trying again.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);
}
