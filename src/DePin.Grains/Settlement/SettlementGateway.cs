using System.Numerics;
using DePin.Settlement;
using DePin.Settlement.Keys;

namespace DePin.Grains.Settlement;

/// <summary>Settlement settings, bound from the <c>Settlement</c> configuration section.</summary>
public sealed class SettlementHostOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Settlement";

    /// <summary>
    /// <c>Off</c>: epochs are recorded, not sent. <c>DevChain</c>: the silo starts a local anvil (npm
    /// <c>@foundry-rs/anvil</c>), deploys the contracts with the public dev key and settles there; single-silo
    /// development only. <c>External</c>: an existing chain and distributor, settler key from an encrypted keystore.
    /// </summary>
    public SettlementMode Mode { get; set; } = SettlementMode.Off;

    /// <summary>JSON-RPC endpoint (External).</summary>
    public string? RpcUrl { get; set; }

    /// <summary>CumulativeMerkleDistributor address (External).</summary>
    public string? DistributorAddress { get; set; }

    /// <summary>Reward token address (optional; shown to operators).</summary>
    public string? TokenAddress { get; set; }

    /// <summary>Chain id transactions are signed for.</summary>
    public long ChainId { get; set; } = DevChainKeys.AnvilChainId;

    /// <summary>Blocks on top of the settlement transaction before it counts as final.</summary>
    public int Confirmations { get; set; } = 1;

    /// <summary>How long a sent transaction may stay unmined before it is replaced with ≥ 12.5 % higher fees.</summary>
    public TimeSpan ReplaceAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often a settling epoch checks its transaction.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Settler keystore file (External); its password comes from a file or an environment variable, never from here.</summary>
    public string? KeystorePath { get; set; }

    /// <summary>File holding the keystore password (e.g. a mounted Kubernetes secret).</summary>
    public string? KeystorePasswordFile { get; set; }

    /// <summary>Environment variable holding the keystore password.</summary>
    public string? KeystorePasswordEnvironmentVariable { get; set; }

    /// <summary>Token base units per micro-credit: 10^12 makes 1 credit = 1 token of 18 decimals.</summary>
    public long WeiPerMicroCredit { get; set; } = 1_000_000_000_000;

    /// <summary>DevChain: loopback port for anvil (0 = a free one).</summary>
    public int DevChainPort { get; set; }

    /// <summary>DevChain: whole tokens minted to the settler and put into the distributor with <c>fund()</c> at start.</summary>
    public long DevChainFundingTokens { get; set; } = 1_000_000;
}

/// <summary>Where epochs are settled.</summary>
public enum SettlementMode
{
    /// <summary>Not sent: epochs are recorded as NotSent.</summary>
    Off,
    /// <summary>A local anvil started and provisioned by the silo.</summary>
    DevChain,
    /// <summary>A configured chain and distributor.</summary>
    External,
}

/// <summary>
/// The silo's connection to the settlement chain. Filled in at start-up (for DevChain, once anvil runs and the
/// contracts are deployed); until then <see cref="IsEnabled"/> is false and epochs stay NotSent.
/// </summary>
public sealed class SettlementGateway
{
    private volatile Connection? _connection;

    /// <summary>True once a chain is configured.</summary>
    public bool IsEnabled => _connection is not null;

    /// <summary>The settler driving transactions; throws when not enabled.</summary>
    public EpochSettler Settler => (_connection ?? throw new InvalidOperationException("settlement is not enabled")).Settler;

    /// <summary>The chain settings; null when not enabled.</summary>
    public SettlementOptions? Options => _connection?.Options;

    /// <summary>Token base units per micro-credit.</summary>
    public BigInteger WeiPerMicroCredit { get; private set; } = 1_000_000_000_000;

    /// <summary>Connects the gateway to a chain.</summary>
    public void Configure(SettlementOptions options, SettlerKey key, long weiPerMicroCredit)
    {
        options.Validate();
        if (weiPerMicroCredit <= 0) throw new ArgumentException("Settlement:WeiPerMicroCredit must be positive");
        WeiPerMicroCredit = weiPerMicroCredit;
        _connection = new Connection(options, new EpochSettler(options, key));
    }

    private sealed record Connection(SettlementOptions Options, EpochSettler Settler);
}
