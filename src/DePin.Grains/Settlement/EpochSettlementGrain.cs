using System.Numerics;
using System.Text.Json;
using DePin.Abstractions.Rewards;
using DePin.Settlement;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using ChainState = DePin.Settlement.SettlementState;
using SettlementState = DePin.Abstractions.Rewards.SettlementState;

namespace DePin.Grains.Settlement;

/// <summary>Persistent state of an <see cref="EpochSettlementGrain"/>.</summary>
[GenerateSerializer, Alias("depin.EpochSettlementState")]
public sealed class EpochSettlementGrainState
{
    [Id(0)] public string? MerkleRoot { get; set; }
    [Id(1)] public string? TotalWei { get; set; }
    /// <summary>The signed raw transaction (JSON of <see cref="SignedSettlement"/>), persisted BEFORE it is broadcast.</summary>
    [Id(2)] public string? Signed { get; set; }
    [Id(3)] public DateTimeOffset? BroadcastAt { get; set; }
    [Id(4)] public SettlementState State { get; set; }
    [Id(5)] public string? TransactionHash { get; set; }
    [Id(6)] public int Broadcasts { get; set; }
    [Id(7)] public int FeeBumps { get; set; }
    [Id(8)] public string? LastError { get; set; }
}

/// <summary>
/// Sends one epoch's <c>postRoot</c> and follows it to confirmation, crash-safely: the signed transaction and its
/// nonce are persisted before the first broadcast, so after a crash the same transaction is rebroadcast (or found
/// mined) and the epoch can never be paid twice; the contract also refuses any epoch but <c>last + 1</c>.
/// A transaction not mined within <c>Settlement:ReplaceAfter</c> is replaced with the same nonce and fees bumped
/// ≥ 12.5 %. Progress runs on a timer outside the ledger's turns; a reminder wakes the grain after a silo crash.
/// </summary>
[SettlerSiloPlacementFilter]
public sealed class EpochSettlementGrain(
    [PersistentState("settlement", StorageNames.Store)] IPersistentState<EpochSettlementGrainState> state,
    SettlementGateway gateway,
    SettlerSilos settlerSilos,
    IOptions<SettlementHostOptions> options,
    TimeProvider clock,
    ILogger<EpochSettlementGrain> logger) : Grain, IEpochSettlementGrain, IRemindable
{
    private const string WakeUp = "settle";
    private IGrainTimer? _timer;
    private ulong Epoch => (ulong)this.GetPrimaryKeyLong();

    /// <inheritdoc />
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.MerkleRoot is not null && state.State.State != SettlementState.Confirmed) StartTimer();
        return Task.CompletedTask;
    }

    async Task IEpochSettlementGrain.StartAsync(string merkleRoot, string totalWei)
    {
        if (state.State.MerkleRoot is null)
        {
            state.State.MerkleRoot = merkleRoot;
            state.State.TotalWei = totalWei;
            await state.WriteStateAsync();
        }
        if (state.State.State != SettlementState.Confirmed)
        {
            await this.RegisterOrUpdateReminder(WakeUp, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
            StartTimer();
        }
    }

    Task<EpochSettlementStatus?> IEpochSettlementGrain.GetAsync() => Task.FromResult(state.State.MerkleRoot is null
        ? null
        : new EpochSettlementStatus((long)Epoch, state.State.State, state.State.TransactionHash, state.State.Broadcasts, state.State.FeeBumps, state.State.LastError));

    async Task IRemindable.ReceiveReminder(string reminderName, TickStatus status)
    {
        if (state.State.State != SettlementState.Confirmed) StartTimer();
        else if (await this.GetReminder(WakeUp) is { } reminder) await this.UnregisterReminder(reminder);
    }

    private void StartTimer()
    {
        var period = options.Value.PollInterval;
        _timer ??= this.RegisterGrainTimer(StepAsync, new GrainTimerCreationOptions(TimeSpan.Zero, period) { KeepAlive = true });
    }

    /// <summary>One step of the protocol; any failure is recorded and retried on the next tick.</summary>
    private async Task StepAsync(CancellationToken cancellationToken)
    {
        if (state.State.State == SettlementState.Confirmed) return;
        if (!gateway.IsEnabled)
        {
            // No chain connection on this silo: move to one that has it (the next call or reminder places us again).
            if (settlerSilos.AnotherCanSettle()) DeactivateOnIdle();
            return;
        }
        var settler = gateway.Settler;
        try
        {
            var signed = state.State.Signed is { } json ? JsonSerializer.Deserialize<SignedSettlement>(json) : null;
            if (signed is null)
            {
                var onChain = await settler.GetOnChainEpochAsync(cancellationToken);
                if (onChain >= Epoch)
                {
                    await ConfirmAsync(null, "already on chain");
                    return;
                }
                if (onChain + 1 < Epoch)
                {
                    state.State.LastError = $"waiting for epoch {onChain + 1} to be posted first";
                    return;
                }
                signed = await settler.PrepareAsync(Epoch, state.State.MerkleRoot!, BigInteger.Parse(state.State.TotalWei!), cancellationToken);
                await PersistAndBroadcastAsync(settler, signed, cancellationToken);
                return;
            }

            var status = await settler.WaitForConfirmationAsync(signed, gateway.Options!.Confirmations, TimeSpan.FromMilliseconds(200), cancellationToken);
            switch (status.State)
            {
                case ChainState.Confirmed:
                    await ConfirmAsync(status.MinedTxHash, status.Detail);
                    break;
                case ChainState.TimedOut when status.MinedTxHash is null:
                    if (clock.GetUtcNow() - state.State.BroadcastAt >= options.Value.ReplaceAfter)
                    {
                        var bumped = await settler.BumpFeesAsync(signed, cancellationToken);
                        state.State.FeeBumps++;
                        logger.LogWarning("Epoch {Epoch}: transaction {Tx} not mined in {After}; replacing it with higher fees ({NewTx})",
                            Epoch, signed.TxHash, options.Value.ReplaceAfter, bumped.TxHash);
                        await PersistAndBroadcastAsync(settler, bumped, cancellationToken);
                    }
                    else
                    {
                        await settler.BroadcastAsync(signed, cancellationToken); // harmless if the node already has it
                    }
                    break;
                case ChainState.TimedOut:
                    break; // mined, not deep enough yet
                default:
                    // Reverted or nonce used elsewhere: the chain says whether the epoch is in; if not, start over.
                    if (status.OnChainEpoch >= Epoch)
                    {
                        await ConfirmAsync(status.MinedTxHash, status.Detail);
                    }
                    else
                    {
                        state.State.LastError = $"{status.State}: {status.Detail}; preparing a new transaction";
                        state.State.Signed = null;
                        await state.WriteStateAsync();
                    }
                    break;
            }
        }
        catch (Exception ex) when (ex is SettlementException or HttpRequestException or TimeoutException or IOException
                                       or Nethereum.JsonRpc.Client.RpcClientUnknownException or Nethereum.JsonRpc.Client.RpcResponseException)
        {
            state.State.LastError = ex.Message;
            logger.LogWarning("Epoch {Epoch}: settlement step failed, will retry: {Error}", Epoch, ex.Message);
        }
    }

    private async Task PersistAndBroadcastAsync(EpochSettler settler, SignedSettlement signed, CancellationToken cancellationToken)
    {
        // Persist first: whatever happens after this line, a restart finds this exact transaction.
        state.State.Signed = JsonSerializer.Serialize(signed);
        state.State.TransactionHash = signed.TxHash;
        state.State.State = SettlementState.Sent;
        state.State.BroadcastAt = clock.GetUtcNow();
        state.State.LastError = null;
        await state.WriteStateAsync();
        await GrainFactory.GetGrain<ILedgerGrain>(0).MarkSettlementAsync((long)Epoch, SettlementState.Sent, signed.TxHash);
        await settler.BroadcastAsync(signed, cancellationToken);
        state.State.Broadcasts++;
    }

    private async Task ConfirmAsync(string? minedTxHash, string detail)
    {
        state.State.State = SettlementState.Confirmed;
        state.State.TransactionHash = minedTxHash ?? state.State.TransactionHash;
        state.State.LastError = null;
        await state.WriteStateAsync();
        logger.LogInformation("Epoch {Epoch} settled on chain: {Tx} ({Detail})", Epoch, state.State.TransactionHash, detail);
        await GrainFactory.GetGrain<ILedgerGrain>(0).MarkSettlementAsync((long)Epoch, SettlementState.Confirmed, state.State.TransactionHash);
        _timer?.Dispose();
        _timer = null;
        if (await this.GetReminder(WakeUp) is { } reminder) await this.UnregisterReminder(reminder);
    }
}
