using System.Numerics;

namespace DePin.Settlement;

/// <summary>Where and how epochs are settled on chain.</summary>
public sealed class SettlementOptions
{
    /// <summary>Minimum fee bump accepted for a replacement transaction (12.5 %, above geth's 10 % rule).</summary>
    public const decimal MinimumFeeBumpPercent = 12.5m;

    /// <summary>JSON-RPC endpoint.</summary>
    public string RpcUrl { get; set; } = "";
    /// <summary>CumulativeMerkleDistributor address.</summary>
    public string DistributorAddress { get; set; } = "";
    /// <summary>Reward token address (optional: read from the distributor's token() when empty).</summary>
    public string? TokenAddress { get; set; }
    /// <summary>Chain id the transactions are signed for (EIP-155 replay protection).</summary>
    public long ChainId { get; set; } = 31337;
    /// <summary>Blocks that must include/follow the settlement transaction before it counts as final.</summary>
    public int Confirmations { get; set; } = 1;
    /// <summary>How long <c>WaitForConfirmationAsync</c> polls before reporting TimedOut.</summary>
    public TimeSpan ReceiptTimeout { get; set; } = TimeSpan.FromMinutes(2);
    /// <summary>Receipt polling interval.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);
    /// <summary>Upper bound of one JSON-RPC call (so nothing hangs).</summary>
    public TimeSpan RpcTimeout { get; set; } = TimeSpan.FromSeconds(15);
    /// <summary>Fixed gas limit for postRoot; when null the limit is eth_estimateGas plus <see cref="GasLimitMarginPercent"/>.</summary>
    public BigInteger? GasLimit { get; set; }
    /// <summary>Margin over the estimate (default 25 %).</summary>
    public int GasLimitMarginPercent { get; set; } = 25;
    /// <summary>Tip per gas (default 1 gwei).</summary>
    public BigInteger MaxPriorityFeePerGas { get; set; } = 1_000_000_000;
    /// <summary>maxFeePerGas = base fee × this + tip (default 2: survives ~6 full blocks of base-fee growth).</summary>
    public int BaseFeeMultiplier { get; set; } = 2;
    /// <summary>Refuse to sign with a maxFeePerGas above this (null = no cap).</summary>
    public BigInteger? MaxFeePerGasCap { get; set; }
    /// <summary>Fee bump of a replacement, in percent; must be ≥ 12.5.</summary>
    public decimal FeeBumpPercent { get; set; } = MinimumFeeBumpPercent;

    /// <summary>Throws <see cref="ArgumentException"/> for an unusable configuration.</summary>
    public void Validate()
    {
        if (!Uri.TryCreate(RpcUrl, UriKind.Absolute, out _)) throw new ArgumentException($"SettlementOptions.RpcUrl '{RpcUrl}' is not an absolute URL.");
        Merkle.EthAddress.Normalize(DistributorAddress, nameof(DistributorAddress));
        if (!string.IsNullOrEmpty(TokenAddress)) Merkle.EthAddress.Normalize(TokenAddress, nameof(TokenAddress));
        if (ChainId <= 0) throw new ArgumentException("SettlementOptions.ChainId must be positive.");
        if (Confirmations < 1) throw new ArgumentException("SettlementOptions.Confirmations must be at least 1.");
        if (ReceiptTimeout <= TimeSpan.Zero || PollInterval <= TimeSpan.Zero || RpcTimeout <= TimeSpan.Zero)
            throw new ArgumentException("SettlementOptions timeouts must be positive.");
        if (FeeBumpPercent < MinimumFeeBumpPercent)
            throw new ArgumentException($"SettlementOptions.FeeBumpPercent must be at least {MinimumFeeBumpPercent} % (got {FeeBumpPercent}).");
        if (BaseFeeMultiplier < 1) throw new ArgumentException("SettlementOptions.BaseFeeMultiplier must be at least 1.");
        if (MaxPriorityFeePerGas.Sign < 0) throw new ArgumentException("SettlementOptions.MaxPriorityFeePerGas must not be negative.");
        if (GasLimitMarginPercent < 0) throw new ArgumentException("SettlementOptions.GasLimitMarginPercent must not be negative.");
    }
}
