using DePin.Grains.Storage;
using System.Numerics;
using DePin.Abstractions;
using DePin.Abstractions.Rewards;
using DePin.Grains.Settlement;
using DePin.Settlement.Merkle;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace DePin.Grains.Rewards;

/// <summary>Persistent state of the <see cref="LedgerGrain"/>: bounded, whatever the number of epochs or accounts.</summary>
[GenerateSerializer, Alias("depin.LedgerState")]
public sealed class LedgerState
{
    // Ids 0 (every account) and 1 (every epoch with every account) are retired: accounts live in the ledger shards,
    // epochs in the IEpochStore.
    [Id(2)] public long LastEpoch { get; set; }
    /// <summary>Headers of the last <see cref="LedgerGrain.RecentEpochs"/> epochs (entries empty), oldest first.</summary>
    [Id(3)] public List<EpochSettlement> Recent { get; set; } = [];
    /// <summary>The oldest epoch that may still be NotSent.</summary>
    [Id(4)] public long NextToSettle { get; set; } = 1;
}

/// <summary>
/// The epoch book. On each period it reads the accounts that reported themselves dirty to the
/// <see cref="ILedgerShardGrain"/>s, carries every other account's cumulative amount forward, and records the epoch:
/// its header here (the last <see cref="RecentEpochs"/>), the entries of the accounts it paid in the
/// <see cref="IEpochStore"/> under the epoch's own key. The Merkle tree of epoch n holds every account at its cumulative
/// amount (what the cumulative distributor pays against). A bad entry (decrease, invalid address, overflow) is
/// quarantined at its last good amount; everybody else still settles. With settlement enabled the epoch goes to its
/// <see cref="IEpochSettlementGrain"/>, which sends it on chain; epochs are posted strictly in order.
/// </summary>
[SettlerSiloPlacementFilter]
public sealed class LedgerGrain(
    [PersistentState("ledger", StorageNames.Store)] IPersistentState<LedgerState> state,
    IOptions<LedgerOptions> options,
    SettlementGateway settlement,
    SettlerSilos settlerSilos,
    IEpochStore epochs,
    TimeProvider clock,
    ILogger<LedgerGrain> logger) : StoredGrain, ILedgerGrain, IRemindable
{
    /// <summary>Epoch headers kept in the ledger's state; older ones are in the <see cref="IEpochStore"/>.</summary>
    public const int RecentEpochs = 16;

    private const string WakeUp = "ledger";
    private IGrainTimer? _timer;
    private EpochTree? _tree;
    private bool _applied; // the latest epoch is known to be applied to every shard and account

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // The epoch timer belongs to the activation: every activation (first, after a move, after a silo loss) starts it.
        var period = options.Value.EpochPeriod;
        if (period > TimeSpan.Zero)
            _timer = this.RegisterGrainTimer(async _ =>
            {
                if (!Poisoned) await CloseAsync();
            }, new GrainTimerCreationOptions(period, period) { KeepAlive = true });
        // Resume handing epochs to the chain after a move or a restart (or move on, if this silo cannot settle).
        await SettlePendingAsync();
    }

    // The reminder only brings the ledger back to life (and so its timer) after its silo is lost or it moved.
    Task IRemindable.ReceiveReminder(string reminderName, TickStatus status) => Task.CompletedTask;

    async Task ILedgerGrain.StartAsync()
    {
        if (_timer is not null) await this.RegisterOrUpdateReminder(WakeUp, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
    }

    Task<EpochSettlement?> ILedgerGrain.CloseEpochAsync() => CloseAsync();

    async Task<IReadOnlyList<EpochSettlement>> ILedgerGrain.ListEpochsAsync(int offset, int limit)
    {
        await RefreshInFlightAsync();
        var newest = state.State.LastEpoch - Math.Max(0, offset);
        var count = (int)Math.Clamp(Math.Min(limit, newest), 0, 1000);
        var headers = await Task.WhenAll(Enumerable.Range(0, count).Select(i => GetHeaderAsync(newest - i)));
        return [.. headers.OfType<EpochSettlement>()];
    }

    async Task<EpochSettlement?> ILedgerGrain.GetEpochAsync(long epoch)
    {
        await RefreshInFlightAsync();
        return await GetHeaderAsync(epoch) is { } header ? header with { Entries = await epochs.LoadEntriesAsync(epoch) } : null;
    }

    async Task ILedgerGrain.MarkSettlementAsync(long epoch, SettlementState settlementState, string? transactionHash) =>
        await UpdateAsync(epoch, settlementState, transactionHash);

    async Task<AccountProof?> ILedgerGrain.GetProofAsync(string address)
    {
        await RefreshInFlightAsync();
        // Bounded: the latest confirmed epoch among the recent ones (settlement trails the ledger by an epoch or two).
        var epoch = state.State.Recent.FindLast(e => e.State == SettlementState.Confirmed);
        if (epoch is null) return null;
        var tree = await TreeOfAsync(epoch.Epoch);
        if (!tree.Amounts.TryGetValue(address, out var cumulative)) return null;
        var chain = settlement.Options;
        return new AccountProof
        {
            Address = address,
            Epoch = epoch.Epoch,
            CumulativeMicroCredits = cumulative,
            CumulativeAmountWei = tree.Tree.GetAmount(address).ToString(),
            Proof = tree.Tree.GetProofHex(address),
            MerkleRoot = tree.Tree.Root,
            DistributorAddress = chain?.DistributorAddress,
            TokenAddress = chain?.TokenAddress,
            ChainId = chain?.ChainId ?? 0,
            RpcUrl = chain?.RpcUrl,
            TransactionHash = epoch.TransactionHash,
        };
    }

    async Task<IReadOnlyList<StatementLine>> ILedgerGrain.GetStatementAsync(string address)
    {
        await RefreshInFlightAsync();
        var lines = await GrainFactory.GetGrain<IRewardAccountGrain>(address).GetStatementAsync();
        var result = new List<StatementLine>(lines.Count);
        foreach (var line in lines)
        {
            if (line.Epoch > state.State.LastEpoch || await GetHeaderAsync(line.Epoch) is not { } header) continue; // not recorded (crash)
            result.Add(line with { ClosedAt = header.ClosedAt, State = header.State, TransactionHash = header.TransactionHash });
        }
        return result;
    }

    async Task<IReadOnlyList<QuarantinedAccount>> ILedgerGrain.GetQuarantineAsync() =>
        [.. (await Task.WhenAll(Shards().Select(s => s.GetQuarantineAsync()))).SelectMany(q => q).OrderBy(q => q.Address, StringComparer.Ordinal)];

    private async Task<EpochSettlement?> CloseAsync()
    {
        await EnsureAppliedAsync();
        var dirty = (await Task.WhenAll(Shards().Select(s => s.GetDirtyAsync()))).SelectMany(d => d)
            .OrderBy(d => d.Address, StringComparer.Ordinal).ToList();
        var accounts = await Task.WhenAll(dirty.Select(d => GrainFactory.GetGrain<IRewardAccountGrain>(d.Address).GetAsync()));

        var previous = state.State.Recent.Count == 0 ? null : state.State.Recent[^1];
        var number = state.State.LastEpoch + 1;
        var total = previous?.TotalCumulativeMicroCredits ?? 0;
        var accountCount = previous?.AccountCount ?? 0;
        long added = 0;
        var entries = new List<SettlementEntry>();
        var quarantined = new List<QuarantinedAccount>();
        for (var i = 0; i < dirty.Count; i++)
        {
            var (before, now) = (dirty[i], accounts[i].CumulativeMicroCredits);
            var reason = Check(before, now);
            if (reason is null && now > before.SettledMicroCredits)
            {
                try
                {
                    (total, added) = (checked(total + (now - before.SettledMicroCredits)), checked(added + (now - before.SettledMicroCredits)));
                }
                catch (OverflowException)
                {
                    reason = "the epoch's total would overflow";
                }
            }
            if (reason is not null)
            {
                quarantined.Add(new QuarantinedAccount(before.Address, reason, now, before.SettledMicroCredits, number));
                if (before.DirtyMark != 0) // newly reported, not a quarantined account read again
                    logger.LogWarning("Ledger: account {Address} quarantined at {Settled} micro-credits: {Reason}", before.Address, before.SettledMicroCredits, reason);
                continue;
            }
            if (now == before.SettledMicroCredits) continue;
            if (before.SettledMicroCredits == 0) accountCount++;
            entries.Add(new SettlementEntry(before.Address, now, now - before.SettledMicroCredits));
        }

        if (entries.Count == 0)
        {
            // Nothing new: clear the dirty marks read (accounts with nothing to settle) and record the quarantine.
            await ApplyAsync(state.State.LastEpoch, entries, dirty, accounts, quarantined, allShards: false);
            await SettlePendingAsync(); // an earlier epoch may still wait for the chain
            return null;
        }

        var header = new EpochSettlement
        {
            Epoch = number,
            ClosedAt = clock.GetUtcNow(),
            Entries = [],
            TotalCumulativeMicroCredits = total,
            EpochMicroCredits = added,
            State = SettlementState.NotSent,
            AccountCount = accountCount,
            ChangedAccounts = entries.Count,
            AccountsRead = dirty.Count,
        };
        var tree = settlement.IsEnabled ? await BuildTreeAsync(number, entries) : null;
        if (tree is not null) header = header with { MerkleRoot = tree.Tree.Root };
        await epochs.SaveEntriesAsync(number, entries);
        await RecordAsync(header);
        _tree = tree ?? _tree;
        logger.LogInformation("Closed epoch {Epoch}: {Changed} of {Accounts} accounts paid, {Added} micro-credits added, {Read} read",
            number, entries.Count, accountCount, added, dirty.Count);

        await ApplyAsync(number, entries, dirty, accounts, quarantined, allShards: true);
        await SettlePendingAsync();
        return header with { Entries = entries };
    }

    /// <summary>Why an account's entry cannot go into an epoch; null when it can.</summary>
    private static string? Check(DirtyAccount before, long now)
    {
        if (!PayoutAddress.TryNormalize(before.Address, out var normalized) || normalized != before.Address)
            return "not a valid non-zero lower-case EVM address";
        if (now < before.SettledMicroCredits) return $"cumulative amount went down from {before.SettledMicroCredits} to {now}";
        return null;
    }

    /// <summary>The commit point of a close: the header in the ledger's state (the entries are already stored).</summary>
    private async Task RecordAsync(EpochSettlement header)
    {
        var s = state.State;
        try
        {
            while (s.Recent.Count >= RecentEpochs)
            {
                await epochs.SaveHeaderAsync(s.Recent[0]); // stored before it leaves the state
                s.Recent.RemoveAt(0);
            }
            s.Recent.Add(header);
            s.LastEpoch = header.Epoch;
            _applied = false;
            await state.WriteStateAsync();
        }
        catch
        {
            // Memory is ahead of storage: drop the activation, the next one reads the state as stored and closes again.
            Poison();
            throw;
        }
    }

    /// <summary>
    /// Tells the accounts read what was settled (each is clean again only if nothing was credited since the read), then
    /// the shards (new amounts, dirty marks cleared unless re-marked meanwhile, quarantine). Both are idempotent.
    /// </summary>
    private async Task ApplyAsync(long epoch, List<SettlementEntry> entries, List<DirtyAccount> read, RewardAccountView[] accounts,
        List<QuarantinedAccount> quarantined, bool allShards)
    {
        var bad = quarantined.Select(q => q.Address).ToHashSet(StringComparer.Ordinal);
        await Task.WhenAll(read.Select((d, i) => (d, i)).Where(x => !bad.Contains(x.d.Address)).Select(x =>
            GrainFactory.GetGrain<IRewardAccountGrain>(x.d.Address).MarkSettledAsync(epoch, accounts[x.i].CumulativeMicroCredits)));

        var byShard = new (List<SettlementEntry> Entries, List<DirtyAccount> Cleared, List<QuarantinedAccount> Bad)[LedgerShards.Count];
        for (var i = 0; i < byShard.Length; i++) byShard[i] = ([], [], []);
        foreach (var e in entries) byShard[LedgerShards.Of(e.Address)].Entries.Add(e);
        foreach (var d in read) byShard[LedgerShards.Of(d.Address)].Cleared.Add(d);
        foreach (var q in quarantined) byShard[LedgerShards.Of(q.Address)].Bad.Add(q);
        await Task.WhenAll(byShard.Select((b, i) => (b, i))
            .Where(x => allShards || x.b.Cleared.Count > 0)
            .Select(x => GrainFactory.GetGrain<ILedgerShardGrain>(x.i).CommitAsync(new ShardCommit(epoch, x.b.Entries, x.b.Cleared, x.b.Bad))));
        _applied = allShards || _applied;
    }

    /// <summary>After a crash between recording an epoch and applying it, applies it again (entries from the store).</summary>
    private async Task EnsureAppliedAsync()
    {
        var last = state.State.LastEpoch;
        if (_applied || last == 0)
        {
            _applied = true;
            return;
        }
        var committed = await Task.WhenAll(Shards().Select(s => s.GetCommittedEpochAsync()));
        if (committed.All(c => c >= last))
        {
            _applied = true;
            return;
        }
        var entries = (await epochs.LoadEntriesAsync(last)).ToList();
        logger.LogWarning("Ledger: epoch {Epoch} was recorded but not applied everywhere; applying its {Count} entries again", last, entries.Count);
        // No dirty mark is cleared here (marks read before the crash are unknown): those accounts are simply read again.
        await Task.WhenAll(entries.Select(e =>
            GrainFactory.GetGrain<IRewardAccountGrain>(e.Address).MarkSettledAsync(last, e.CumulativeMicroCredits)));
        await Task.WhenAll(Enumerable.Range(0, LedgerShards.Count).Select(i => GrainFactory.GetGrain<ILedgerShardGrain>(i)
            .CommitAsync(new ShardCommit(last, [.. entries.Where(e => LedgerShards.Of(e.Address) == i)], [], []))));
        _applied = true;
    }

    /// <summary>Hands every epoch not yet sent to its settlement grain, oldest first (the contract takes them in order).</summary>
    private async Task SettlePendingAsync()
    {
        var s = state.State;
        if (!settlement.IsEnabled)
        {
            // Placed here before a silo that can settle joined: move there (the next call places this grain again).
            if (settlerSilos.AnotherCanSettle() && s.NextToSettle <= s.LastEpoch)
            {
                logger.LogInformation("No chain connection on this silo; the ledger moves to a silo that can settle");
                DeactivateOnIdle();
            }
            else
            {
                logger.LogDebug("No silo can settle: epochs stay NotSent ({Silos})", settlerSilos.Describe());
            }
            return;
        }
        for (var n = s.NextToSettle; n <= s.LastEpoch; n++)
        {
            if (await GetHeaderAsync(n) is not { } epoch) continue;
            if (epoch.State != SettlementState.NotSent)
            {
                if (n == s.NextToSettle)
                {
                    s.NextToSettle = n + 1;
                    await state.WriteStateAsync();
                }
                continue;
            }
            if (epoch.MerkleRoot is null)
            {
                // Closed while no silo could settle: the tree of that epoch is rebuilt from the shards and the later epochs.
                epoch = epoch with { MerkleRoot = (await TreeOfAsync(n)).Tree.Root };
                await SaveHeaderAsync(epoch);
            }
            var totalWei = new BigInteger(epoch.TotalCumulativeMicroCredits) * settlement.WeiPerMicroCredit;
            await GrainFactory.GetGrain<IEpochSettlementGrain>(epoch.Epoch).StartAsync(epoch.MerkleRoot!, totalWei.ToString());
        }
    }

    /// <summary>Pulls the status of epochs whose transaction is in flight (the push from the settlement grain is one-way).</summary>
    private async Task RefreshInFlightAsync()
    {
        foreach (var epoch in state.State.Recent.Where(e => e.State == SettlementState.Sent).ToList())
        {
            if (await GrainFactory.GetGrain<IEpochSettlementGrain>(epoch.Epoch).GetAsync() is { } status)
                await UpdateAsync(epoch.Epoch, status.State, status.TransactionHash);
        }
    }

    private async Task UpdateAsync(long epochNumber, SettlementState settlementState, string? transactionHash)
    {
        if (await GetHeaderAsync(epochNumber) is not { } epoch) return;
        if (settlementState <= epoch.State && transactionHash == epoch.TransactionHash) return;
        if (settlementState < epoch.State) return; // states only move forward
        await SaveHeaderAsync(epoch with { State = settlementState, TransactionHash = transactionHash ?? epoch.TransactionHash });
    }

    /// <summary>A header from the recent window in the state, or from the store once it left the window.</summary>
    private async Task<EpochSettlement?> GetHeaderAsync(long epoch)
    {
        if (epoch < 1 || epoch > state.State.LastEpoch) return null;
        var recent = state.State.Recent;
        var i = recent.FindIndex(e => e.Epoch == epoch);
        return i >= 0 ? recent[i] : await epochs.LoadHeaderAsync(epoch);
    }

    private async Task SaveHeaderAsync(EpochSettlement header)
    {
        var i = state.State.Recent.FindIndex(e => e.Epoch == header.Epoch);
        if (i < 0)
        {
            await epochs.SaveHeaderAsync(header);
            return;
        }
        state.State.Recent[i] = header;
        await state.WriteStateAsync();
    }

    /// <summary>The Merkle tree of a recorded epoch: today's settled amounts with the later epochs' entries undone.</summary>
    private async Task<EpochTree> TreeOfAsync(long epoch)
    {
        if (_tree?.Epoch == epoch) return _tree;
        await EnsureAppliedAsync();
        var amounts = await LoadSettledAsync();
        for (var n = state.State.LastEpoch; n > epoch; n--)
        {
            foreach (var e in await epochs.LoadEntriesAsync(n))
            {
                var before = e.CumulativeMicroCredits - e.DeltaMicroCredits;
                if (before > 0) amounts[e.Address] = before;
                else amounts.Remove(e.Address);
            }
        }
        return _tree = new EpochTree(epoch, amounts, BuildTree(amounts));
    }

    /// <summary>The tree of the epoch being closed: the shards' amounts (as of the last epoch) with its entries applied.</summary>
    private async Task<EpochTree> BuildTreeAsync(long epoch, List<SettlementEntry> entries)
    {
        var amounts = await LoadSettledAsync();
        foreach (var e in entries) amounts[e.Address] = e.CumulativeMicroCredits;
        return new EpochTree(epoch, amounts, BuildTree(amounts));
    }

    private async Task<Dictionary<string, long>> LoadSettledAsync()
    {
        var amounts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var shard in await Task.WhenAll(Shards().Select(s => s.GetSettledAsync())))
        {
            foreach (var e in shard)
            {
                if (e.CumulativeMicroCredits > 0) amounts[e.Address] = e.CumulativeMicroCredits;
            }
        }
        return amounts;
    }

    private IEnumerable<ILedgerShardGrain> Shards() => Enumerable.Range(0, LedgerShards.Count).Select(i => GrainFactory.GetGrain<ILedgerShardGrain>(i));

    private CumulativeMerkleTree BuildTree(Dictionary<string, long> amounts) =>
        CumulativeMerkleTree.Build(amounts.Select(a => new CumulativeLeaf(a.Key, new BigInteger(a.Value) * settlement.WeiPerMicroCredit)));

    private sealed record EpochTree(long Epoch, Dictionary<string, long> Amounts, CumulativeMerkleTree Tree);
}
