using DePin.Grains.Storage;
using DePin.Abstractions.Rewards;
using Orleans.Runtime;

namespace DePin.Grains.Rewards;

/// <summary>Persistent state of a <see cref="LedgerShardGrain"/>: O(its accounts), never O(epochs); written once per close.</summary>
[GenerateSerializer, Alias("depin.LedgerShardState")]
public sealed class LedgerShardState
{
    /// <summary>Each account's cumulative amount as of <see cref="CommittedEpoch"/> (its last good amount).</summary>
    [Id(0)] public Dictionary<string, long> Settled { get; set; } = new(StringComparer.Ordinal);
    [Id(2)] public Dictionary<string, QuarantinedAccount> Quarantine { get; set; } = new(StringComparer.Ordinal);
    [Id(3)] public long CommittedEpoch { get; set; }
}

/// <summary>
/// The dirty set of a <see cref="LedgerShardGrain"/>, stored apart from its amounts so that a report writes
/// O(dirty accounts of the shard), not O(all its accounts).
/// </summary>
[GenerateSerializer, Alias("depin.LedgerDirtyState")]
public sealed class LedgerDirtyState
{
    /// <summary>Accounts with credits not settled yet, each with the mark of its latest report.</summary>
    [Id(0)] public Dictionary<string, long> Dirty { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Source of dirty marks: a report after the ledger read an account gets a new mark, so the close keeps it dirty.</summary>
    [Id(1)] public long NextMark { get; set; }
}

/// <summary>
/// One slice of the ledger's accounts (see <see cref="LedgerShards"/>). It only holds state; the <see cref="LedgerGrain"/>
/// reads the accounts, so that an account reporting itself dirty never waits on a shard that waits on that account.
/// Reports arriving while a write is in flight share the next write (group commit).
/// </summary>
public sealed class LedgerShardGrain(
    [PersistentState("ledgershard", StorageNames.Store)] IPersistentState<LedgerShardState> state,
    [PersistentState("ledgerdirty", StorageNames.Store)] IPersistentState<LedgerDirtyState> dirtyState) : StoredGrain, ILedgerShardGrain
{
    private Task _dirtyWrite = Task.CompletedTask;
    private Task? _nextDirtyWrite;

    async Task ILedgerShardGrain.MarkDirtyAsync(string address)
    {
        dirtyState.State.Dirty[address] = ++dirtyState.State.NextMark;
        await WriteDirtySoonAsync();
    }

    Task<IReadOnlyList<DirtyAccount>> ILedgerShardGrain.GetDirtyAsync()
    {
        var s = state.State;
        var marks = dirtyState.State.Dirty;
        var dirty = marks.Select(d => new DirtyAccount(d.Key, d.Value, s.Settled.GetValueOrDefault(d.Key)));
        // Quarantined accounts are read at every close until their entry is good again.
        var quarantined = s.Quarantine.Keys.Where(a => !marks.ContainsKey(a)).Select(a => new DirtyAccount(a, 0, s.Settled.GetValueOrDefault(a)));
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
        var marks = dirtyState.State.Dirty;
        var quarantined = commit.Quarantined.ToDictionary(q => q.Address, StringComparer.Ordinal);
        foreach (var cleared in commit.Cleared)
        {
            // Every account read is cleared (quarantined ones are read again at each close through the quarantine).
            if (marks.TryGetValue(cleared.Address, out var mark) && mark == cleared.DirtyMark) marks.Remove(cleared.Address);
            if (!quarantined.ContainsKey(cleared.Address)) s.Quarantine.Remove(cleared.Address);
        }
        foreach (var bad in quarantined.Values)
            s.Quarantine[bad.Address] = s.Quarantine.TryGetValue(bad.Address, out var known) ? bad with { SinceEpoch = known.SinceEpoch } : bad;
        s.CommittedEpoch = Math.Max(s.CommittedEpoch, commit.Epoch);
        // Amounts first: if the dirty write then fails, the accounts are only read again at the next close.
        await WriteAsync(state);
        if (commit.Cleared.Count > 0) await WriteDirtySoonAsync();
    }

    /// <summary>
    /// Joins the next write of the dirty set: one write starts when the one in flight ends and carries every report made
    /// meanwhile (reports interleave, see <see cref="ILedgerShardGrain.MarkDirtyAsync"/>).
    /// </summary>
    private Task WriteDirtySoonAsync()
    {
        return _nextDirtyWrite ??= WriteAfterAsync(_dirtyWrite);

        async Task WriteAfterAsync(Task previous)
        {
            await Task.Yield(); // always later than the caller's assignment of this task to _nextDirtyWrite
            try
            {
                await previous;
            }
            catch
            {
                // That write's failure belongs to its callers; this one carries their marks again.
            }
            _dirtyWrite = _nextDirtyWrite!;
            _nextDirtyWrite = null;
            await WriteAsync(dirtyState);
        }
    }

    /// <summary>A failed write must not leave memory ahead of storage: drop the activation, the caller retries.</summary>
    private async Task WriteAsync<T>(IPersistentState<T> persistent)
    {
        try
        {
            await persistent.WriteStateAsync();
        }
        catch
        {
            Poison();
            throw;
        }
    }
}
