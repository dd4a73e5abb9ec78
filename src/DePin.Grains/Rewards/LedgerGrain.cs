using System.Numerics;
using DePin.Abstractions.Rewards;
using DePin.Grains.Settlement;
using DePin.Settlement.Merkle;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace DePin.Grains.Rewards;

/// <summary>Persistent state of the <see cref="LedgerGrain"/>.</summary>
[GenerateSerializer, Alias("depin.LedgerState")]
public sealed class LedgerState
{
    [Id(0)] public SortedSet<string> Accounts { get; set; } = new(StringComparer.Ordinal);
    [Id(1)] public List<EpochSettlement> Epochs { get; set; } = [];
}

/// <summary>
/// The epoch book. On each period it reads every account's cumulative earnings and records the epoch's settlement
/// batch: all accounts with their cumulative amounts (what the cumulative Merkle distributor pays against) and deltas.
/// With settlement enabled it computes the batch's Merkle root and hands the epoch to its
/// <see cref="IEpochSettlementGrain"/>, which sends it on chain; epochs are posted strictly in order.
/// </summary>
[SettlerSiloPlacementFilter]
public sealed class LedgerGrain(
    [PersistentState("ledger", StorageNames.Store)] IPersistentState<LedgerState> state,
    IOptions<LedgerOptions> options,
    SettlementGateway settlement,
    SettlerSilos settlerSilos,
    TimeProvider clock,
    ILogger<LedgerGrain> logger) : Grain, ILedgerGrain, IRemindable
{
    private const string WakeUp = "ledger";
    private IGrainTimer? _timer;
    private (long Epoch, CumulativeMerkleTree Tree)? _tree;

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // The epoch timer belongs to the activation: every activation (first, after a move, after a silo loss) starts it.
        var period = options.Value.EpochPeriod;
        if (period > TimeSpan.Zero)
            _timer = this.RegisterGrainTimer(async _ => await CloseAsync(), new GrainTimerCreationOptions(period, period) { KeepAlive = true });
        // Resume handing epochs to the chain after a move or a restart (or move on, if this silo cannot settle).
        await SettlePendingAsync();
    }

    // The reminder only brings the ledger back to life (and so its timer) after its silo is lost or it moved.
    Task IRemindable.ReceiveReminder(string reminderName, TickStatus status) => Task.CompletedTask;

    async Task ILedgerGrain.StartAsync()
    {
        if (_timer is not null) await this.RegisterOrUpdateReminder(WakeUp, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
    }

    async Task ILedgerGrain.RegisterAccountAsync(string address)
    {
        if (!state.State.Accounts.Add(address)) return;
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            // Kept in memory only, the account would be skipped by every epoch after a restart, and the account's retry
            // would find it already registered: drop the activation so that the retry writes it again.
            DeactivateOnIdle();
            throw;
        }
    }

    Task<EpochSettlement?> ILedgerGrain.CloseEpochAsync() => CloseAsync();

    async Task<IReadOnlyList<EpochSettlement>> ILedgerGrain.ListEpochsAsync(int offset, int limit)
    {
        await RefreshInFlightAsync();
        return [.. Enumerable.Reverse(state.State.Epochs).Skip(Math.Max(0, offset)).Take(Math.Clamp(limit, 0, 1000))];
    }

    async Task<EpochSettlement?> ILedgerGrain.GetEpochAsync(long epoch)
    {
        await RefreshInFlightAsync();
        return state.State.Epochs.Find(e => e.Epoch == epoch);
    }

    async Task ILedgerGrain.MarkSettlementAsync(long epoch, SettlementState settlementState, string? transactionHash)
    {
        if (Update(epoch, settlementState, transactionHash)) await state.WriteStateAsync();
    }

    async Task<AccountProof?> ILedgerGrain.GetProofAsync(string address)
    {
        await RefreshInFlightAsync();
        var epoch = state.State.Epochs.FindLast(e => e.State == SettlementState.Confirmed);
        var entry = epoch?.Entries.FirstOrDefault(e => e.Address == address);
        if (epoch is null || entry is null) return null;

        if (_tree is not { } cached || cached.Epoch != epoch.Epoch) _tree = cached = (epoch.Epoch, BuildTree(epoch.Entries));
        var chain = settlement.Options;
        return new AccountProof
        {
            Address = address,
            Epoch = epoch.Epoch,
            CumulativeMicroCredits = entry.CumulativeMicroCredits,
            CumulativeAmountWei = cached.Tree.GetAmount(address).ToString(),
            Proof = cached.Tree.GetProofHex(address),
            MerkleRoot = cached.Tree.Root,
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
        return [.. Enumerable.Reverse(state.State.Epochs)
            .Select(e => (Epoch: e, Entry: e.Entries.FirstOrDefault(x => x.Address == address)))
            .Where(x => x.Entry is { DeltaMicroCredits: > 0 })
            .Select(x => new StatementLine(x.Epoch.Epoch, x.Epoch.ClosedAt, x.Entry!.CumulativeMicroCredits, x.Entry.DeltaMicroCredits,
                x.Epoch.State, x.Epoch.TransactionHash))];
    }

    private async Task<EpochSettlement?> CloseAsync()
    {
        var previous = state.State.Epochs.Count == 0 ? null : state.State.Epochs[^1];
        var settled = previous?.Entries.ToDictionary(e => e.Address, e => e.CumulativeMicroCredits) ?? [];
        var accounts = await Task.WhenAll(state.State.Accounts.Select(a => GrainFactory.GetGrain<IRewardAccountGrain>(a).GetAsync()));

        var entries = new List<SettlementEntry>(accounts.Length);
        foreach (var account in accounts.OrderBy(a => a.Address, StringComparer.Ordinal))
        {
            var before = settled.GetValueOrDefault(account.Address);
            if (account.CumulativeMicroCredits < before)
            {
                // Cumulative amounts never decrease; an account that did would make the on-chain total unpayable.
                throw new InvalidOperationException($"account {account.Address} went from {before} to {account.CumulativeMicroCredits}");
            }
            if (account.CumulativeMicroCredits > 0)
                entries.Add(new SettlementEntry(account.Address, account.CumulativeMicroCredits, account.CumulativeMicroCredits - before));
        }

        var added = entries.Sum(e => e.DeltaMicroCredits);
        if (added == 0)
        {
            await SettlePendingAsync(); // nothing new, but an earlier epoch may still wait for the chain
            return null;
        }

        var epoch = new EpochSettlement
        {
            Epoch = (previous?.Epoch ?? 0) + 1,
            ClosedAt = clock.GetUtcNow(),
            Entries = entries,
            TotalCumulativeMicroCredits = entries.Sum(e => e.CumulativeMicroCredits),
            EpochMicroCredits = added,
            State = SettlementState.NotSent,
        };
        state.State.Epochs.Add(epoch);
        await state.WriteStateAsync();
        logger.LogInformation("Closed epoch {Epoch}: {Accounts} accounts, {Added} micro-credits added", epoch.Epoch, entries.Count, added);

        await Task.WhenAll(entries.Select(e =>
            GrainFactory.GetGrain<IRewardAccountGrain>(e.Address).MarkSettledAsync(epoch.Epoch, e.CumulativeMicroCredits)));
        await SettlePendingAsync();
        return state.State.Epochs[^1];
    }

    /// <summary>Hands every epoch not yet sent to its settlement grain, oldest first (the contract takes them in order).</summary>
    private async Task SettlePendingAsync()
    {
        if (!settlement.IsEnabled)
        {
            // Placed here before a silo that can settle joined: move there (the next call places this grain again).
            if (settlerSilos.AnotherCanSettle() && state.State.Epochs.Exists(e => e.State == SettlementState.NotSent))
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
        var changed = false;
        for (var i = 0; i < state.State.Epochs.Count; i++)
        {
            var epoch = state.State.Epochs[i];
            if (epoch.State != SettlementState.NotSent) continue;
            var tree = BuildTree(epoch.Entries);
            if (epoch.MerkleRoot != tree.Root)
            {
                state.State.Epochs[i] = epoch = epoch with { MerkleRoot = tree.Root };
                changed = true;
            }
            await GrainFactory.GetGrain<IEpochSettlementGrain>(epoch.Epoch).StartAsync(tree.Root, tree.Total.ToString());
        }
        if (changed) await state.WriteStateAsync();
    }

    /// <summary>Pulls the status of epochs whose transaction is in flight (the push from the settlement grain is one-way).</summary>
    private async Task RefreshInFlightAsync()
    {
        var changed = false;
        foreach (var epoch in state.State.Epochs.Where(e => e.State == SettlementState.Sent).ToList())
        {
            if (await GrainFactory.GetGrain<IEpochSettlementGrain>(epoch.Epoch).GetAsync() is { } status)
                changed |= Update(epoch.Epoch, status.State, status.TransactionHash);
        }
        if (changed) await state.WriteStateAsync();
    }

    private bool Update(long epochNumber, SettlementState settlementState, string? transactionHash)
    {
        var i = state.State.Epochs.FindIndex(e => e.Epoch == epochNumber);
        if (i < 0) return false;
        var epoch = state.State.Epochs[i];
        if (settlementState <= epoch.State && transactionHash == epoch.TransactionHash) return false;
        if (settlementState < epoch.State) return false; // states only move forward
        state.State.Epochs[i] = epoch with { State = settlementState, TransactionHash = transactionHash ?? epoch.TransactionHash };
        return true;
    }

    private CumulativeMerkleTree BuildTree(IReadOnlyList<SettlementEntry> entries) =>
        CumulativeMerkleTree.Build(entries.Select(e => new CumulativeLeaf(e.Address, new BigInteger(e.CumulativeMicroCredits) * settlement.WeiPerMicroCredit)));
}
