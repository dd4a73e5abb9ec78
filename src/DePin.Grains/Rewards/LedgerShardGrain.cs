using DePin.Abstractions.Rewards;
using Orleans.Runtime;

namespace DePin.Grains.Rewards;

/// <summary>Persistent state of a <see cref="LedgerShardGrain"/>: O(its accounts), never O(epochs).</summary>
[GenerateSerializer, Alias("depin.LedgerShardState")]
public sealed class LedgerShardState
{
    /// <summary>Each account's cumulative amount as of <see cref="CommittedEpoch"/> (its last good amount).</summary>
    [Id(0)] public Dictionary<string, long> Settled { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Accounts with credits not settled yet, each with the mark of its latest report.</summary>
    [Id(1)] public Dictionary<string, long> Dirty { get; set; } = new(StringComparer.Ordinal);
    [Id(2)] public Dictionary<string, QuarantinedAccount> Quarantine { get; set; } = new(StringComparer.Ordinal);
    [Id(3)] public long CommittedEpoch { get; set; }
    /// <summary>Source of dirty marks: a report after the ledger read an account gets a new mark, so the close keeps it dirty.</summary>
    [Id(4)] public long NextMark { get; set; }
}

/// <summary>
/// One slice of the ledger's accounts (see <see cref="LedgerShards"/>). It only holds state; the <see cref="LedgerGrain"/>
/// reads the accounts, so that an account reporting itself dirty never waits on a shard that waits on that account.
/// </summary>
public sealed class LedgerShardGrain(
    [PersistentState("ledgershard", StorageNames.Store)] IPersistentState<LedgerShardState> state) : Grain, ILedgerShardGrain
{
    async Task ILedgerShardGrain.MarkDirtyAsync(string address)
    {
        state.State.Dirty[address] = ++state.State.NextMark;
        await WriteAsync();
    }

    Task<IReadOnlyList<DirtyAccount>> ILedgerShardGrain.GetDirtyAsync()
    {
        var s = state.State;
        var dirty = s.Dirty.Select(d => new DirtyAccount(d.Key, d.Value, s.Settled.GetValueOrDefault(d.Key)));
        // Quarantined accounts are read at every close until their entry is good again.
        var quarantined = s.Quarantine.Keys.Where(a => !s.Dirty.ContainsKey(a)).Select(a => new DirtyAccount(a, 0, s.Settled.GetValueOrDefault(a)));
        return Task.FromResult<IReadOnlyList<DirtyAccount>>([.. dirty, .. quarantined]);
    }

    Task<IReadOnlyList<SettlementEntry>> ILedgerShardGrain.GetSettledAsync() =>
        Task.FromResult<IReadOnlyList<SettlementEntry>>([.. state.State.Settled.Select(e => new SettlementEntry(e.Key, e.Value, 0))]);

    Task<long> ILedgerShardGrain.GetCommittedEpochAsync() => Task.FromResult(state.State.CommittedEpoch);

    Task<IReadOnlyList<QuarantinedAccount>> ILedgerShardGrain.GetQuarantineAsync() =>
        Task.FromResult<IReadOnlyList<QuarantinedAccount>>([.. state.State.Quarantine.Values]);

    async Task ILedgerShardGrain.CommitAsync(ShardCommit commit)
    {
        var s = state.State;
        if (commit.Entries.Count > 0 && commit.Epoch <= s.CommittedEpoch) return; // applied already (a retry after a crash)
        foreach (var entry in commit.Entries)
        {
            s.Settled[entry.Address] = entry.CumulativeMicroCredits;
            s.Quarantine.Remove(entry.Address);
        }
        var quarantined = commit.Quarantined.ToDictionary(q => q.Address, StringComparer.Ordinal);
        foreach (var cleared in commit.Cleared)
        {
            // Every account read is cleared (quarantined ones are read again at each close through the quarantine).
            if (s.Dirty.TryGetValue(cleared.Address, out var mark) && mark == cleared.DirtyMark) s.Dirty.Remove(cleared.Address);
            if (!quarantined.ContainsKey(cleared.Address)) s.Quarantine.Remove(cleared.Address);
        }
        foreach (var bad in quarantined.Values)
            s.Quarantine[bad.Address] = s.Quarantine.TryGetValue(bad.Address, out var known) ? bad with { SinceEpoch = known.SinceEpoch } : bad;
        s.CommittedEpoch = Math.Max(s.CommittedEpoch, commit.Epoch);
        await WriteAsync();
    }

    /// <summary>A failed write must not leave memory ahead of storage: drop the activation, the caller retries.</summary>
    private async Task WriteAsync()
    {
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            DeactivateOnIdle();
            throw;
        }
    }
}
