using Orleans.Placement;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Runtime.Placement;

namespace DePin.Grains.Settlement;

/// <summary>
/// Places a grain on a silo that can settle on chain (silo metadata <see cref="SettlerSiloPlacementFilterDirector.MetadataKey"/> = <c>true</c>: the
/// settlement mode is on and, for External, the settler key is mounted), or on any silo when none can. The ledger and
/// the epoch settlement grains carry it, so in a cluster where only the API pods hold the key (k8s), settlement runs
/// there and never on GPU pods.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class SettlerSiloPlacementFilterAttribute() : PlacementFilterAttribute(new SettlerSiloPlacementFilterStrategy());

/// <summary>The strategy behind <see cref="SettlerSiloPlacementFilterAttribute"/>.</summary>
public sealed class SettlerSiloPlacementFilterStrategy() : PlacementFilterStrategy(order: 0);

/// <summary>Keeps the settler-capable silos, or all of them when there is none.</summary>
public sealed class SettlerSiloPlacementFilterDirector(ISiloMetadataCache metadata) : IPlacementFilterDirector
{
    /// <summary>Silo metadata key set by the host.</summary>
    public const string MetadataKey = "depin.settler";

    /// <inheritdoc />
    public IEnumerable<SiloAddress> Filter(PlacementFilterStrategy filterStrategy, PlacementTarget target, IEnumerable<SiloAddress> silos)
    {
        var all = silos.ToList();
        var settlers = all.FindAll(s => metadata.GetSiloMetadata(s).Metadata.TryGetValue(MetadataKey, out var value) && value == "true");
        return settlers.Count > 0 ? settlers : all;
    }
}

/// <summary>
/// Whether another active silo could do this silo's settlement work. A ledger or settlement grain placed on a silo
/// without a chain connection (because no settler silo was up yet when it was placed) uses it to move: it deactivates,
/// and its next call places it again, on a settler silo.
/// </summary>
public sealed class SettlerSilos(ISiloMetadataCache metadata, IClusterMembershipService membership, ILocalSiloDetails local)
{
    /// <summary>True when an active silo other than this one has settlement configured.</summary>
    public bool AnotherCanSettle() =>
        membership.CurrentSnapshot.Members.Values.Any(m => m.Status == SiloStatus.Active && m.SiloAddress != local.SiloAddress
            && metadata.GetSiloMetadata(m.SiloAddress).Metadata.TryGetValue(SettlerSiloPlacementFilterDirector.MetadataKey, out var v) && v == "true");

    /// <summary>The active silos and whether each can settle, for logs.</summary>
    public string Describe() => string.Join(", ", membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active)
        .Select(m => $"{m.SiloAddress}={(metadata.GetSiloMetadata(m.SiloAddress).Metadata.TryGetValue(SettlerSiloPlacementFilterDirector.MetadataKey, out var v) ? v : "?")}"));
}
