namespace DePin.Abstractions.Rewards;

/// <summary>Credit for one verified unit to one node's operator.</summary>
[GenerateSerializer, Immutable, Alias("depin.UnitCredit")]
public sealed record UnitCredit(
    [property: Id(0)] string JobId,
    [property: Id(1)] int UnitIndex,
    [property: Id(2)] string NodeId,
    [property: Id(3)] long AmountMicroCredits);

/// <summary>An operator's earnings.</summary>
[GenerateSerializer, Immutable, Alias("depin.RewardAccountView")]
public sealed record RewardAccountView
{
    [Id(0)] public required string Address { get; init; }
    /// <summary>All credits ever, in micro-credits (1 credit = 10^6 micro-credits).</summary>
    [Id(1)] public long CumulativeMicroCredits { get; init; }
    [Id(2)] public long UnitsCredited { get; init; }
    /// <summary>Cumulative amount included in the latest closed epoch.</summary>
    [Id(3)] public long SettledCumulativeMicroCredits { get; init; }
    [Id(4)] public long? LastEpoch { get; init; }
    [Id(5)] public DateTimeOffset? LastCreditAt { get; init; }
    [Id(6)] public IReadOnlyList<string> Nodes { get; init; } = [];
}

/// <summary>One account's line in an epoch's settlement batch.</summary>
[GenerateSerializer, Immutable, Alias("depin.SettlementEntry")]
public sealed record SettlementEntry(
    [property: Id(0)] string Address,
    [property: Id(1)] long CumulativeMicroCredits,
    [property: Id(2)] long DeltaMicroCredits);

/// <summary>Where an epoch's settlement batch stands on chain.</summary>
public enum SettlementState
{
    /// <summary>Batch recorded; no transaction has been sent.</summary>
    NotSent = 0,
    /// <summary>Signed transaction persisted, broadcast pending or in flight.</summary>
    Sent = 1,
    /// <summary>Mined with the configured confirmations.</summary>
    Confirmed = 2,
    /// <summary>Nothing to settle (no credits in the epoch).</summary>
    Empty = 3,
}

/// <summary>A closed epoch: the batch that is (or will be) settled on chain.</summary>
[GenerateSerializer, Immutable, Alias("depin.EpochSettlement")]
public sealed record EpochSettlement
{
    [Id(0)] public required long Epoch { get; init; }
    [Id(1)] public DateTimeOffset ClosedAt { get; init; }
    [Id(2)] public required IReadOnlyList<SettlementEntry> Entries { get; init; }
    /// <summary>Sum of cumulative amounts of all accounts at close.</summary>
    [Id(3)] public long TotalCumulativeMicroCredits { get; init; }
    /// <summary>Sum of deltas: what this epoch adds.</summary>
    [Id(4)] public long EpochMicroCredits { get; init; }
    [Id(5)] public SettlementState State { get; init; }
    [Id(6)] public string? MerkleRoot { get; init; }
    [Id(7)] public string? TransactionHash { get; init; }
    /// <summary>Accounts in the epoch's Merkle tree (every account with a non-zero settled amount).</summary>
    [Id(8)] public int AccountCount { get; init; }
    /// <summary>Accounts the epoch paid (the length of <see cref="Entries"/> when they are loaded).</summary>
    [Id(9)] public int ChangedAccounts { get; init; }
    /// <summary>Accounts the close read: the dirty and quarantined ones only, never all of them.</summary>
    [Id(10)] public int AccountsRead { get; init; }
}

/// <summary>A dirty (or quarantined) account as its ledger shard knows it.</summary>
[GenerateSerializer, Immutable, Alias("depin.DirtyAccount")]
public sealed record DirtyAccount(
    [property: Id(0)] string Address,
    [property: Id(1)] long DirtyMark,
    [property: Id(2)] long SettledMicroCredits);

/// <summary>An account the ledger keeps out of epochs, at its last good amount, until its entry is good again.</summary>
[GenerateSerializer, Immutable, Alias("depin.QuarantinedAccount")]
public sealed record QuarantinedAccount(
    [property: Id(0)] string Address,
    [property: Id(1)] string Reason,
    [property: Id(2)] long ReportedMicroCredits,
    [property: Id(3)] long SettledMicroCredits,
    [property: Id(4)] long SinceEpoch);

/// <summary>What one ledger shard applies when an epoch closes (or, with no entries, after a close that paid nobody).</summary>
[GenerateSerializer, Immutable, Alias("depin.ShardCommit")]
public sealed record ShardCommit(
    [property: Id(0)] long Epoch,
    [property: Id(1)] IReadOnlyList<SettlementEntry> Entries,
    [property: Id(2)] IReadOnlyList<DirtyAccount> Cleared,
    [property: Id(3)] IReadOnlyList<QuarantinedAccount> Quarantined);

/// <summary>How accounts map to the ledger's shards (stable across processes: FNV-1a of the address).</summary>
public static class LedgerShards
{
    /// <summary>Shards; at ~100 bytes per account a shard's state stays under 1 MiB up to ~600,000 accounts.</summary>
    public const int Count = 64;

    /// <summary>The shard of an account.</summary>
    public static int Of(string address)
    {
        var hash = 2166136261u;
        foreach (var c in address) hash = (hash ^ char.ToLowerInvariant(c)) * 16777619u;
        return (int)(hash % Count);
    }
}
