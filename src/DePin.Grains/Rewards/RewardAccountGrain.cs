using DePin.Grains.Storage;
using DePin.Abstractions.Rewards;

namespace DePin.Grains.Rewards;

/// <summary>Persistent state of a <see cref="RewardAccountGrain"/>.</summary>
[GenerateSerializer, Alias("depin.RewardAccountState")]
public sealed class RewardAccountState
{
    [Id(0)] public long CumulativeMicroCredits { get; set; }
    [Id(1)] public long UnitsCredited { get; set; }
    /// <summary>Per job, a bitmap of the unit indices already credited: exactly-once at 1 bit per unit.</summary>
    [Id(2)] public Dictionary<string, byte[]> CreditedUnits { get; set; } = [];
    // Id 3 (RegisteredWithLedger) retired: the ledger no longer keeps a list of accounts, accounts report themselves dirty.
    [Id(4)] public long SettledCumulativeMicroCredits { get; set; }
    [Id(5)] public long? LastEpoch { get; set; }
    [Id(6)] public DateTimeOffset? LastCreditAt { get; set; }
    [Id(7)] public SortedSet<string> Nodes { get; set; } = new(StringComparer.Ordinal);
    /// <summary>The account's ledger shard holds it as dirty: credits since the last settle are reported, not per credit.</summary>
    [Id(8)] public bool DirtyReported { get; set; }
    /// <summary>The last <see cref="RewardAccountGrain.StatementLength"/> epochs that paid this account, oldest first.</summary>
    [Id(9)] public List<StatementLine> Statement { get; set; } = [];
}

/// <summary>
/// One operator's earnings. A unit is credited at most once, however often its credit is delivered. The first credit after
/// a settle reports the account dirty to its <see cref="ILedgerShardGrain"/> (one call, not one per credit), so that an
/// epoch close reads only accounts that changed.
/// </summary>
public sealed class RewardAccountGrain(
    [PersistentState("account", StorageNames.Store)] IPersistentState<RewardAccountState> state,
    TimeProvider clock) : StoredGrain, IRewardAccountGrain
{
    /// <summary>How many epochs that paid the account its statement keeps (older lines are in the epoch store's entries).</summary>
    public const int StatementLength = 32;

    /// <summary>Most node ids an account lists.</summary>
    public const int MaxNodesListed = 256;

    async Task<long> IRewardAccountGrain.CreditAsync(IReadOnlyList<UnitCredit> credits)
    {
        var s = state.State;
        long added = 0;
        foreach (var credit in credits)
        {
            if (credit.AmountMicroCredits < 0 || credit.UnitIndex < 0) continue;
            if (!TryMarkCredited(s, credit.JobId, credit.UnitIndex)) continue;
            added = checked(added + credit.AmountMicroCredits);
            s.UnitsCredited++;
            // The nodes that earned for this account, for operators to see: bounded (a Sybil farm re-registering keys
            // would otherwise grow it forever); past the bound a new node replaces the first in order.
            if (s.Nodes.Add(credit.NodeId) && s.Nodes.Count > MaxNodesListed) s.Nodes.Remove(s.Nodes.Min!);
        }
        if (added > 0)
        {
            s.CumulativeMicroCredits = checked(s.CumulativeMicroCredits + added);
            s.LastCreditAt = clock.GetUtcNow();
            await WriteAsync();
        }
        // Reporting twice is harmless, so a failure here only makes the job resend and the account report again.
        if (!s.DirtyReported && s.CumulativeMicroCredits != s.SettledCumulativeMicroCredits) await ReportDirtyAsync();
        return added;
    }

    Task<RewardAccountView> IRewardAccountGrain.GetAsync()
    {
        var s = state.State;
        return Task.FromResult(new RewardAccountView
        {
            Address = this.GetPrimaryKeyString(),
            CumulativeMicroCredits = s.CumulativeMicroCredits,
            UnitsCredited = s.UnitsCredited,
            SettledCumulativeMicroCredits = s.SettledCumulativeMicroCredits,
            LastEpoch = s.LastEpoch,
            LastCreditAt = s.LastCreditAt,
            Nodes = [.. s.Nodes],
        });
    }

    async Task IRewardAccountGrain.ReleaseJobAsync(string jobId)
    {
        if (state.State.CreditedUnits.Remove(jobId)) await WriteAsync();
    }

    async Task IRewardAccountGrain.MarkSettledAsync(long epoch, long cumulativeMicroCredits)
    {
        var s = state.State;
        var changed = false;
        if (epoch > (s.LastEpoch ?? 0) && cumulativeMicroCredits != s.SettledCumulativeMicroCredits)
        {
            s.Statement.Add(new StatementLine(epoch, default, cumulativeMicroCredits, cumulativeMicroCredits - s.SettledCumulativeMicroCredits,
                SettlementState.NotSent, null));
            if (s.Statement.Count > StatementLength) s.Statement.RemoveRange(0, s.Statement.Count - StatementLength);
            s.LastEpoch = epoch;
            s.SettledCumulativeMicroCredits = cumulativeMicroCredits;
            changed = true;
        }
        if (s.CumulativeMicroCredits == cumulativeMicroCredits)
        {
            changed |= s.DirtyReported;
            s.DirtyReported = false;
        }
        if (changed) await WriteAsync();
        // A credit landed after the ledger read this account: mark it again, so the shard keeps it dirty for the next close.
        if (s.CumulativeMicroCredits != cumulativeMicroCredits) await ReportDirtyAsync();
    }

    Task<IReadOnlyList<StatementLine>> IRewardAccountGrain.GetStatementAsync() =>
        Task.FromResult<IReadOnlyList<StatementLine>>([.. Enumerable.Reverse(state.State.Statement)]);

    private async Task ReportDirtyAsync()
    {
        var address = this.GetPrimaryKeyString();
        await GrainFactory.GetGrain<ILedgerShardGrain>(LedgerShards.Of(address)).MarkDirtyAsync(address);
        if (state.State.DirtyReported) return;
        state.State.DirtyReported = true;
        await WriteAsync();
    }

    /// <summary>
    /// Writes the state; if the write fails, memory holds credits that storage may not, and a retry would find its units
    /// marked and credit nothing. So the activation is dropped: the caller's retry meets the state as stored.
    /// </summary>
    private async Task WriteAsync()
    {
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            Poison();
            throw;
        }
    }

    private static bool TryMarkCredited(RewardAccountState s, string jobId, int index)
    {
        if (!s.CreditedUnits.TryGetValue(jobId, out var bits))
        {
            bits = new byte[Math.Max(8, (index >> 3) + 1)];
            s.CreditedUnits[jobId] = bits;
        }
        else if ((index >> 3) >= bits.Length)
        {
            Array.Resize(ref bits, Math.Max(bits.Length * 2, (index >> 3) + 1));
            s.CreditedUnits[jobId] = bits;
        }
        var mask = (byte)(1 << (index & 7));
        if ((bits[index >> 3] & mask) != 0) return false;
        bits[index >> 3] |= mask;
        return true;
    }
}
