using DePin.Abstractions.Rewards;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

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
/// batch: all accounts with their cumulative amounts (what a cumulative Merkle distributor pays against) and deltas.
/// </summary>
public sealed class LedgerGrain(
    [PersistentState("ledger", StorageNames.Store)] IPersistentState<LedgerState> state,
    IOptions<LedgerOptions> options,
    TimeProvider clock,
    ILogger<LedgerGrain> logger) : Grain, ILedgerGrain
{
    private IGrainTimer? _timer;

    Task ILedgerGrain.StartAsync()
    {
        var period = options.Value.EpochPeriod;
        if (_timer is null && period > TimeSpan.Zero)
        {
            _timer = this.RegisterGrainTimer(async _ => await CloseAsync(), new GrainTimerCreationOptions(period, period) { KeepAlive = true });
        }
        return Task.CompletedTask;
    }

    async Task ILedgerGrain.RegisterAccountAsync(string address)
    {
        if (state.State.Accounts.Add(address)) await state.WriteStateAsync();
    }

    Task<EpochSettlement?> ILedgerGrain.CloseEpochAsync() => CloseAsync();

    Task<IReadOnlyList<EpochSettlement>> ILedgerGrain.ListEpochsAsync(int offset, int limit) =>
        Task.FromResult<IReadOnlyList<EpochSettlement>>([.. Enumerable.Reverse(state.State.Epochs)
            .Skip(Math.Max(0, offset)).Take(Math.Clamp(limit, 0, 1000))]);

    Task<EpochSettlement?> ILedgerGrain.GetEpochAsync(long epoch) =>
        Task.FromResult(state.State.Epochs.Find(e => e.Epoch == epoch));

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
        if (added == 0) return null;

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
        return epoch;
    }
}
