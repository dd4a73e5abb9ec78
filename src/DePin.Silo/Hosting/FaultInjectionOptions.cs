using System.Globalization;

namespace DePin.Silo.Hosting;

/// <summary>
/// Storage fault injection (<c>Silo:FaultInjection</c>), for fault tests only: a seeded random share of the reads and
/// writes of grain state, queued units and job outputs fails or times out. Off (all rates 0) by default; a silo
/// refuses to start with it unless its host environment is <see cref="RequiredEnvironment"/>.
/// </summary>
public sealed class FaultInjectionOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Silo:FaultInjection";

    /// <summary>The only host environment (<c>DOTNET_ENVIRONMENT</c>) in which a silo starts with faults on.</summary>
    public const string RequiredEnvironment = "Testing";

    /// <summary>Share (0..1) of writes that fail at once: half before the write reaches Redis, half after it landed.</summary>
    public double WriteFailureRate { get; set; }

    /// <summary>Share (0..1) of reads that fail at once.</summary>
    public double ReadFailureRate { get; set; }

    /// <summary>
    /// Share (0..1) of reads and writes that time out: each waits <see cref="TimeoutDelay"/>, then either fails (a
    /// timed-out write may or may not have landed: both happen) or succeeds late.
    /// </summary>
    public double TimeoutRate { get; set; }

    /// <summary>How long a timed-out operation hangs before it fails or completes.</summary>
    public TimeSpan TimeoutDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Seed of the fault sequence (each silo should get its own).</summary>
    public int Seed { get; set; } = 1;

    /// <summary>True when any rate is above zero.</summary>
    public bool IsEnabled => WriteFailureRate > 0 || ReadFailureRate > 0 || TimeoutRate > 0;

    /// <summary>One line for logs and errors.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"WriteFailureRate={WriteFailureRate:0.###}, ReadFailureRate={ReadFailureRate:0.###}, TimeoutRate={TimeoutRate:0.###}, TimeoutDelay={TimeoutDelay}, Seed={Seed}");

    /// <summary>What is wrong with these settings in <paramref name="environment"/>, or null when they may run.</summary>
    internal string? Problem(string environment, bool usesRedis)
    {
        if (!IsEnabled) return null;
        foreach (var (name, rate) in new[] { (nameof(WriteFailureRate), WriteFailureRate), (nameof(ReadFailureRate), ReadFailureRate), (nameof(TimeoutRate), TimeoutRate) })
        {
            if (rate is < 0 or > 1 || double.IsNaN(rate)) return $"{Section}:{name} is {rate}: a rate must be between 0 and 1";
        }
        if (WriteFailureRate + TimeoutRate > 1 || ReadFailureRate + TimeoutRate > 1) return $"{Section}: a failure rate plus TimeoutRate must not exceed 1";
        if (TimeoutDelay < TimeSpan.Zero) return $"{Section}:TimeoutDelay must not be negative";
        if (!usesRedis) return $"{Section} applies only to the Redis backend (Silo:Redis is not set)";
        if (!string.Equals(environment, RequiredEnvironment, StringComparison.Ordinal))
        {
            return $"{Section} is on ({this}) but the host environment is '{environment}': fault injection makes storage fail on purpose "
                + $"and runs only in fault tests (DOTNET_ENVIRONMENT={RequiredEnvironment}); remove the {Section} settings";
        }
        return null;
    }
}
