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
    /// <summary>Ledger hook: records that the epoch included the account's cumulative amount.</summary>
    [Alias("MarkSettled")] Task MarkSettledAsync(long epoch, long cumulativeMicroCredits);
}

/// <summary>The epoch book (key 0): closes epochs on a timer and records their settlement batches.</summary>
[Alias("depin.ILedgerGrain")]
public interface ILedgerGrain : IGrainWithIntegerKey
{
    /// <summary>Called once by an account on its first credit.</summary>
    [Alias("RegisterAccount")] Task RegisterAccountAsync(string address);
    /// <summary>Closes the open epoch now; null when nothing was earned since the last one.</summary>
    [Alias("CloseEpoch")] Task<EpochSettlement?> CloseEpochAsync();
    /// <summary>Newest first.</summary>
    [Alias("ListEpochs")] Task<IReadOnlyList<EpochSettlement>> ListEpochsAsync(int offset, int limit);
    [Alias("GetEpoch")] Task<EpochSettlement?> GetEpochAsync(long epoch);
    /// <summary>Activates the ledger (its activation starts the epoch timer) and, when epochs close on a timer, registers a
    /// reminder that brings it back after a silo loss. Idempotent; called at every silo start.</summary>
    [Alias("Start")] Task StartAsync();
    /// <summary>Called by <see cref="IEpochSettlementGrain"/> as the epoch's transaction progresses.</summary>
    [Alias("MarkSettlement"), OneWay] Task MarkSettlementAsync(long epoch, SettlementState state, string? transactionHash);
    /// <summary>Merkle proof of the account's cumulative amount in the latest epoch posted on chain; null when none.</summary>
    [Alias("GetProof")] Task<AccountProof?> GetProofAsync(string address);
    /// <summary>The account's line in every epoch that included it, newest first.</summary>
    [Alias("GetStatement")] Task<IReadOnlyList<StatementLine>> GetStatementAsync(string address);
}
