using System.ComponentModel.DataAnnotations;

namespace DePin.Grains.Nodes;

/// <summary>
/// How long node records outlive their node, bound from the <c>Nodes</c> configuration section. Registering a node is
/// free, so without an end every registration (honest or Sybil) would be stored forever.
/// </summary>
public sealed class NodeRetentionOptions : IValidatableObject
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Nodes";

    /// <summary>
    /// A node not seen (no heartbeat, check-in or registration) for longer than this is removed from its directory shard and
    /// its grain state is cleared; a node that returns later registers again as new. Excluded nodes are kept.
    /// </summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How often each node directory shard looks for nodes past <see cref="Retention"/> (one reminder per shard).</summary>
    public TimeSpan PruneInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// How often a live node's last-seen time is written to storage. Heartbeats stay in memory (liveness is not history);
    /// this bounds the writes to one per node per interval, and the time a node is seen late by a sweep.
    /// </summary>
    public TimeSpan LastSeenResolution { get; set; } = TimeSpan.FromHours(1);

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (PruneInterval < TimeSpan.FromMinutes(1))
            yield return new ValidationResult($"Nodes:PruneInterval ({PruneInterval}) must be at least 1 minute (the shortest reminder period).", [nameof(PruneInterval)]);
        if (LastSeenResolution <= TimeSpan.Zero)
            yield return new ValidationResult($"Nodes:LastSeenResolution ({LastSeenResolution}) must be positive.", [nameof(LastSeenResolution)]);
        if (Retention <= LastSeenResolution)
            yield return new ValidationResult($"Nodes:Retention ({Retention}) must be longer than Nodes:LastSeenResolution ({LastSeenResolution}), or live nodes would be pruned.",
                [nameof(Retention)]);
    }
}
