using Orleans.Concurrency;

namespace DePin.Abstractions.Rewards;

/// <summary>One operator's earnings (key = lower-case 0x payout address). Credited exactly once per unit.</summary>
[Alias("depin.IRewardAccountGrain")]
public interface IRewardAccountGrain : IGrainWithStringKey
{
    /// <summary>Credits units; a unit already credited to this account is skipped. Returns the amount newly credited.</summary>
    [Alias("Credit")] Task<long> CreditAsync(IReadOnlyList<UnitCredit> credits);
    [Alias("Get")] Task<RewardAccountView> GetAsync();
    /// <summary>
    /// The job has durably recorded that every credit it owes this account was acknowledged, so the account may drop
    /// its de-duplication state for that job (the job never sends another credit for it). Idempotent.
    /// </summary>
    [Alias("ReleaseJob")] Task ReleaseJobAsync(string jobId);
    /// <summary>
    /// Ledger hook, sent only to accounts that reported themselves dirty: the ledger recorded
    /// <paramref name="cumulativeMicroCredits"/> as of <paramref name="epoch"/>. The account is clean again only if its
    /// cumulative amount still equals that (a credit that raced the close makes it report itself dirty again).
    /// </summary>
    [Alias("MarkSettled")] Task MarkSettledAsync(long epoch, long cumulativeMicroCredits);
    /// <summary>The account's lines in the last epochs that paid it (at most <c>RewardAccountGrain.StatementLength</c>), newest
    /// first; <see cref="StatementLine.ClosedAt"/>, state and transaction are the ledger's to fill in.</summary>
    [Alias("GetStatement")] Task<IReadOnlyList<StatementLine>> GetStatementAsync();
}

/// <summary>
/// One of the ledger's <see cref="LedgerShards.Count"/> account shards (key = shard index): the cumulative amount of each
/// of its accounts as of the latest committed epoch, the accounts that changed since (dirty), and the quarantined ones.
/// </summary>
[Alias("depin.ILedgerShardGrain")]
public interface ILedgerShardGrain : IGrainWithIntegerKey
{
    /// <summary>An account reports that it has credits the ledger has not settled yet. Durable before it returns; reports
    /// interleave so that those arriving together share one write.</summary>
    [Alias("MarkDirty"), AlwaysInterleave] Task MarkDirtyAsync(string address);
    /// <summary>The dirty and quarantined accounts, each with its dirty mark and last settled amount.</summary>
    [Alias("GetDirty")] Task<IReadOnlyList<DirtyAccount>> GetDirtyAsync();
    /// <summary>Every account's settled cumulative amount (for the epoch's Merkle tree).</summary>
    [Alias("GetSettled")] Task<IReadOnlyList<SettlementEntry>> GetSettledAsync();
    /// <summary>Applies a closed epoch (idempotent per epoch): new cumulative amounts, cleared dirty marks, quarantine.</summary>
    [Alias("Commit")] Task CommitAsync(ShardCommit commit);
    /// <summary>The epoch last committed here (0 when none).</summary>
    [Alias("GetCommittedEpoch")] Task<long> GetCommittedEpochAsync();
    [Alias("GetQuarantine")] Task<IReadOnlyList<QuarantinedAccount>> GetQuarantineAsync();
}

/// <summary>The epoch book (key 0): closes epochs on a timer and records their settlement batches.</summary>
[Alias("depin.ILedgerGrain")]
public interface ILedgerGrain : IGrainWithIntegerKey
{
    /// <summary>Closes the open epoch now; null when nothing was earned since the last one.</summary>
    [Alias("CloseEpoch")] Task<EpochSettlement?> CloseEpochAsync();
    /// <summary>Newest first, headers only (<see cref="EpochSettlement.Entries"/> empty; <see cref="GetEpochAsync"/> has them).</summary>
    [Alias("ListEpochs")] Task<IReadOnlyList<EpochSettlement>> ListEpochsAsync(int offset, int limit);
    /// <summary>One epoch with the entries of the accounts it paid (delta &gt; 0); its Merkle tree also holds every other
    /// account at its carried-forward cumulative amount.</summary>
    [Alias("GetEpoch")] Task<EpochSettlement?> GetEpochAsync(long epoch);
    /// <summary>Activates the ledger (its activation starts the epoch timer) and, when epochs close on a timer, registers a
    /// reminder that brings it back after a silo loss. Idempotent; called at every silo start.</summary>
    [Alias("Start")] Task StartAsync();
    /// <summary>Called by <see cref="IEpochSettlementGrain"/> as the epoch's transaction progresses.</summary>
    [Alias("MarkSettlement"), OneWay] Task MarkSettlementAsync(long epoch, SettlementState state, string? transactionHash);
    /// <summary>Merkle proof of the account's cumulative amount in the latest epoch posted on chain; null when none.</summary>
    [Alias("GetProof")] Task<AccountProof?> GetProofAsync(string address);
    /// <summary>The account's line in the last epochs that paid it (bounded, see <see cref="IRewardAccountGrain.GetStatementAsync"/>), newest first.</summary>
    [Alias("GetStatement")] Task<IReadOnlyList<StatementLine>> GetStatementAsync(string address);
    /// <summary>Accounts kept out of epochs (at their last good amount) because their entry was bad.</summary>
    [Alias("GetQuarantine")] Task<IReadOnlyList<QuarantinedAccount>> GetQuarantineAsync();
}
