using System.ComponentModel.DataAnnotations;
using DePin.Abstractions;
using DePin.Compute.Devices;

namespace DePin.Silo.Workers;

/// <summary>GPU-role settings, bound from the <c>Worker</c> configuration section.</summary>
public sealed class WorkerOptions : IValidatableObject
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Worker";

    /// <summary>
    /// Where this node's earnings are paid. The default is anvil's well-known dev account #1 (a public test address):
    /// fine for the embedded demo, never for a real network.
    /// </summary>
    public string OperatorAddress { get; set; } = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

    /// <summary>Prefix of node ids (<c>{NodeName}/{deviceId}</c>); defaults to the machine name and silo port.</summary>
    public string? NodeName { get; set; }

    /// <summary>Units leased per call; results are reported in the same batches.</summary>
    [Range(1, 4096)] public int BatchSize { get; set; } = 128;

    /// <summary>How long an idle worker's lease call waits for work before asking again (long poll; a shard that gets
    /// ready units wakes a waiting worker at once).</summary>
    public TimeSpan LongPollWait { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// How often the node heartbeats and renews the leases it holds. Keep it at most a third of
    /// <c>Scheduler:LeaseDuration</c> (8 s by default) so one late heartbeat does not void a live node's leases.
    /// </summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Backend of the CPU device when the machine has no GPU.</summary>
    public CpuBackend CpuBackend { get; set; } = CpuBackend.Vectorized;

    /// <summary>Enumerate CUDA/OpenCL GPUs.</summary>
    public bool EnableGpus { get; set; } = true;

    /// <summary>Measure SGEMM GFLOP/s and copy bandwidth at start-up (a fraction of a second per device).</summary>
    public bool ProbeOnStart { get; set; } = true;

    /// <summary>The loop settings of <see cref="DePin.Worker.NodeWorker"/>.</summary>
    public DePin.Worker.WorkerLoopOptions ToLoopOptions() => new()
    {
        BatchSize = BatchSize,
        LongPollWait = LongPollWait,
        HeartbeatInterval = HeartbeatInterval,
    };

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!PayoutAddress.TryNormalize(OperatorAddress, out _))
            yield return new ValidationResult($"Worker:OperatorAddress '{OperatorAddress}' is not an EVM address (0x followed by 40 hex digits)", [nameof(OperatorAddress)]);
        if (LongPollWait <= TimeSpan.Zero)
            yield return new ValidationResult("Worker:LongPollWait must be positive", [nameof(LongPollWait)]);
        if (HeartbeatInterval <= TimeSpan.Zero)
            yield return new ValidationResult("Worker:HeartbeatInterval must be positive", [nameof(HeartbeatInterval)]);
    }
}
