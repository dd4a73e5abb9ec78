namespace DePin.Abstractions.Rewards;

/// <summary>What an operator needs to claim on chain: the latest settled cumulative amount and its Merkle proof.</summary>
[GenerateSerializer, Immutable, Alias("depin.AccountProof")]
public sealed record AccountProof
{
    [Id(0)] public required string Address { get; init; }
    [Id(1)] public required long Epoch { get; init; }
    [Id(2)] public long CumulativeMicroCredits { get; init; }
    /// <summary>The leaf amount in token base units (wei), as a decimal string.</summary>
    [Id(3)] public required string CumulativeAmountWei { get; init; }
    /// <summary>Sibling hashes, 0x hex, leaf to root.</summary>
    [Id(4)] public required IReadOnlyList<string> Proof { get; init; }
    [Id(5)] public required string MerkleRoot { get; init; }
    [Id(6)] public string? DistributorAddress { get; init; }
    [Id(7)] public string? TokenAddress { get; init; }
    [Id(8)] public long ChainId { get; init; }
    [Id(9)] public string? RpcUrl { get; init; }
    [Id(10)] public string? TransactionHash { get; init; }
}

/// <summary>One epoch's line in an operator's earnings statement.</summary>
[GenerateSerializer, Immutable, Alias("depin.StatementLine")]
public sealed record StatementLine(
    [property: Id(0)] long Epoch,
    [property: Id(1)] DateTimeOffset ClosedAt,
    [property: Id(2)] long CumulativeMicroCredits,
    [property: Id(3)] long DeltaMicroCredits,
    [property: Id(4)] SettlementState State,
    [property: Id(5)] string? TransactionHash);

/// <summary>An operator's earnings statement: account totals and every epoch that paid it.</summary>
[GenerateSerializer, Immutable, Alias("depin.EarningsStatement")]
public sealed record EarningsStatement(
    [property: Id(0)] RewardAccountView Account,
    [property: Id(1)] IReadOnlyList<StatementLine> Epochs);

/// <summary>Progress of one epoch's on-chain settlement.</summary>
[GenerateSerializer, Immutable, Alias("depin.EpochSettlementStatus")]
public sealed record EpochSettlementStatus(
    [property: Id(0)] long Epoch,
    [property: Id(1)] SettlementState State,
    [property: Id(2)] string? TransactionHash,
    [property: Id(3)] int Broadcasts,
    [property: Id(4)] int FeeBumps,
    [property: Id(5)] string? LastError);

/// <summary>Sends one epoch's settlement on chain and follows it to confirmation (key = epoch number).</summary>
[Alias("depin.IEpochSettlementGrain")]
public interface IEpochSettlementGrain : IGrainWithIntegerKey
{
    /// <summary>Starts (idempotently) settling the epoch with this Merkle root and cumulative total (wei, decimal string).</summary>
    [Alias("Start")] Task StartAsync(string merkleRoot, string totalWei);
    [Alias("Get")] Task<EpochSettlementStatus?> GetAsync();
}
