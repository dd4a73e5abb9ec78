using System.ComponentModel.DataAnnotations;

namespace DePin.Grains.Clients;

/// <summary>Per-API-key quotas, bound from the <c>Api:Quota</c> configuration section.</summary>
public sealed class ClientQuotaOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Api:Quota";

    /// <summary>Most unfinished (Submitted or Running) jobs one key may have.</summary>
    [Range(1, 1_000_000)] public int MaxRunningJobs { get; set; } = 100;

    /// <summary>Most units not yet verified, over all of one key's unfinished jobs.</summary>
    [Range(1, long.MaxValue)] public long MaxQueuedUnits { get; set; } = 1_000_000;

    /// <summary>What a refusal for quota suggests as Retry-After.</summary>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(5);
}
