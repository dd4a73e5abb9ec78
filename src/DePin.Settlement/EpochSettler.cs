using System.Numerics;
using DePin.Settlement.Contracts;
using DePin.Settlement.Keys;
using DePin.Settlement.Merkle;
using Nethereum.ABI.FunctionEncoding;
using Nethereum.Contracts;
using Nethereum.Hex.HexConvertors.Extensions;
using Nethereum.Hex.HexTypes;
using Nethereum.JsonRpc.Client;
using Nethereum.Model;
using Nethereum.RPC.Eth.DTOs;
using Nethereum.Signer;
using Nethereum.Web3;

namespace DePin.Settlement;

/// <summary>
/// Crash-safe sender of epoch roots, driven by the ledger grain. Each step returns data the caller PERSISTS before
/// the next one:
/// <list type="number">
/// <item><c>PrepareAsync</c>: checks the chain (epoch = lastEpoch + 1, funding covers the total, we are the settler),
/// signs offline with an explicit nonce, gas and EIP-1559 fees. Nothing is sent.</item>
/// <item>persist the <see cref="SignedSettlement"/>.</item>
/// <item><see cref="BroadcastAsync"/>: idempotent; rebroadcasting after a restart is always safe.</item>
/// <item><c>WaitForConfirmationAsync</c>: bounded polling of all our hashes.</item>
/// <item>on TimedOut: <see cref="BumpFeesAsync"/> (same nonce, ≥ 12.5 % higher fees), persist, broadcast, wait again.</item>
/// </list>
/// The contract itself refuses a second post of an epoch, so no sequence of crashes can pay twice.
/// </summary>
public sealed class EpochSettler
{
    private readonly SettlementOptions _options;
    private readonly SettlerKey _key;
    private readonly Web3 _web3;
    private readonly string _distributor;

    /// <summary>Creates a settler for <paramref name="options"/> signing with <paramref name="key"/>.</summary>
    public EpochSettler(SettlementOptions options, SettlerKey key)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(key);
        options.Validate();
        _options = options;
        _key = key;
        _web3 = new Web3(options.RpcUrl);
        _distributor = EthAddress.ToChecksum(options.DistributorAddress);
    }

    /// <summary>Address that signs.</summary>
    public string SettlerAddress => _key.Address;

    /// <summary>lastEpoch() of the distributor: a restarted ledger compares it with its own epoch and never posts twice.</summary>
    public async Task<ulong> GetOnChainEpochAsync(CancellationToken cancellationToken = default) =>
        (ulong)await Query<LastEpochFunction, BigInteger>(new LastEpochFunction(), cancellationToken).ConfigureAwait(false);

    /// <summary>Reads the distributor state (epoch, root, totals, funding).</summary>
    public async Task<DistributorState> GetStateAsync(CancellationToken cancellationToken = default)
    {
        var epoch = await Query<LastEpochFunction, BigInteger>(new(), cancellationToken).ConfigureAwait(false);
        var root = await Query<CurrentRootFunction, byte[]>(new(), cancellationToken).ConfigureAwait(false);
        var total = await Query<TotalPostedFunction, BigInteger>(new(), cancellationToken).ConfigureAwait(false);
        var funded = await Query<TotalFundedFunction, BigInteger>(new(), cancellationToken).ConfigureAwait(false);
        var settler = await Query<SettlerFunction, string>(new(), cancellationToken).ConfigureAwait(false);
        var token = string.IsNullOrEmpty(_options.TokenAddress)
            ? await Query<TokenFunction, string>(new(), cancellationToken).ConfigureAwait(false)
            : _options.TokenAddress;
        var balance = await Rpc(_web3.Eth.GetContractQueryHandler<BalanceOfFunction>()
            .QueryAsync<BigInteger>(token, new BalanceOfFunction { Account = _distributor }), cancellationToken).ConfigureAwait(false);
        return new DistributorState((ulong)epoch, root.ToHex(true), total, funded, balance, settler, token);
    }

    /// <summary>Prepares the settlement of a tree's root and total.</summary>
    public Task<SignedSettlement> PrepareAsync(ulong epoch, CumulativeMerkleTree tree, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tree);
        return PrepareAsync(epoch, tree.Root, tree.Total, cancellationToken);
    }

    /// <summary>
    /// Checks the chain and signs postRoot(epoch, root, total) offline. Throws <see cref="SettlementRejectedException"/>
    /// (and signs nothing) when the epoch is not lastEpoch + 1, funding does not cover the total, the total decreases,
    /// or the key is not the settler.
    /// </summary>
    public async Task<SignedSettlement> PrepareAsync(ulong epoch, string root, BigInteger total, CancellationToken cancellationToken = default)
    {
        var rootHash = Hash256.FromHex(root);
        if (rootHash == default) throw new SettlementRejectedException(SettlementRejection.InvalidArgument, epoch, 0, "The root must not be zero.");
        if (epoch == 0 || epoch > uint.MaxValue) throw new SettlementRejectedException(SettlementRejection.InvalidArgument, epoch, 0, $"Epoch {epoch} is out of range (1..2^32-1).");
        if (total.Sign < 0 || total >= BigInteger.One << 112) throw new SettlementRejectedException(SettlementRejection.InvalidArgument, epoch, 0, $"Total {total} is out of range (0..2^112-1).");

        var state = await GetStateAsync(cancellationToken).ConfigureAwait(false);
        if (!EthAddress.AreEqual(state.Settler, _key.Address))
            throw new SettlementRejectedException(SettlementRejection.NotSettler, epoch, state.LastEpoch,
                $"Key {_key.Address} is not the settler ({state.Settler}) of distributor {_distributor}.");
        if (epoch <= state.LastEpoch)
            throw new SettlementRejectedException(SettlementRejection.EpochAlreadyPosted, epoch, state.LastEpoch,
                $"Epoch {epoch} is already posted on chain (lastEpoch = {state.LastEpoch}); nothing to send.");
        if (epoch != state.LastEpoch + 1)
            throw new SettlementRejectedException(SettlementRejection.EpochOutOfOrder, epoch, state.LastEpoch,
                $"Epoch {epoch} is out of order: the chain expects epoch {state.LastEpoch + 1}.");
        if (total < state.TotalPosted)
            throw new SettlementRejectedException(SettlementRejection.TotalDecreased, epoch, state.LastEpoch,
                $"Total {total} is below the previous cumulative total {state.TotalPosted}.");
        if (total > state.TotalFunded)
            throw new SettlementRejectedException(SettlementRejection.Underfunded, epoch, state.LastEpoch,
                $"Distributor is underfunded: totalFunded {state.TotalFunded} < total {total} (missing {total - state.TotalFunded}; add it with fund(), a plain token transfer does not count).");

        var call = new PostRootFunction { Epoch = epoch, Root = rootHash.ToBytes(), Total = total, FromAddress = _key.Address };
        BigInteger gas;
        if (_options.GasLimit is { } fixedGas)
        {
            gas = fixedGas;
        }
        else
        {
            HexBigInteger estimate;
            try
            {
                estimate = await Rpc(_web3.Eth.GetContractTransactionHandler<PostRootFunction>().EstimateGasAsync(_distributor, call), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is RpcResponseException or SmartContractCustomErrorRevertException or SmartContractRevertException)
            {
                throw new SettlementRejectedException(SettlementRejection.WouldRevert, epoch, state.LastEpoch, $"postRoot would revert: {e.Message}");
            }
            gas = estimate.Value * (100 + _options.GasLimitMarginPercent) / 100;
        }

        var nonce = (await Rpc(_web3.Eth.Transactions.GetTransactionCount.SendRequestAsync(_key.Address, BlockParameter.CreatePending()), cancellationToken).ConfigureAwait(false)).Value;
        var tip = _options.MaxPriorityFeePerGas;
        var baseFee = await GetBaseFeeAsync(cancellationToken).ConfigureAwait(false);
        var maxFee = baseFee * _options.BaseFeeMultiplier + tip;
        if (_options.MaxFeePerGasCap is { } cap && maxFee > cap)
        {
            if (cap < baseFee + tip)
                throw new SettlementRejectedException(SettlementRejection.FeeCapExceeded, epoch, state.LastEpoch,
                    $"Base fee {baseFee} + tip {tip} exceeds MaxFeePerGasCap {cap}.");
            maxFee = cap;
        }
        var data = call.GetCallData().ToHex(true);
        return Sign(epoch, rootHash.ToHex(), total, nonce, tip, maxFee, gas, data, []);
    }

    /// <summary>
    /// Sends the signed transaction. Idempotent: "already known" (in the pool) and "nonce too low" where one of our
    /// versions is mined are reported, not thrown. Other RPC errors throw <see cref="SettlementException"/>.
    /// </summary>
    public async Task<BroadcastOutcome> BroadcastAsync(SignedSettlement settlement, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settlement);
        try
        {
            var hash = await Rpc(_web3.Eth.Transactions.SendRawTransaction.SendRequestAsync(settlement.RawTransaction), cancellationToken).ConfigureAwait(false);
            if (!string.Equals(hash, settlement.TxHash, StringComparison.OrdinalIgnoreCase))
                throw new SettlementException($"Node returned hash {hash}, expected {settlement.TxHash}.");
            return BroadcastOutcome.Sent;
        }
        catch (RpcResponseException e)
        {
            var msg = (e.RpcError?.Message ?? e.Message).ToLowerInvariant();
            if (msg.Contains("already known") || msg.Contains("known transaction") || msg.Contains("already imported") || msg.Contains("alreadyknown") || msg.Contains("already exists"))
                return BroadcastOutcome.AlreadyKnown;
            if (msg.Contains("nonce too low") || msg.Contains("nonce is too low") || msg.Contains("replacement transaction underpriced") || msg.Contains("underpriced"))
            {
                var mined = await FindMinedAsync(settlement, cancellationToken).ConfigureAwait(false);
                if (mined is not null) return BroadcastOutcome.AlreadyMined;
                if (msg.Contains("underpriced"))
                    throw new SettlementException($"Broadcast of epoch {settlement.Epoch} refused: a higher-fee transaction with nonce {settlement.Nonce} is in the pool ({e.RpcError?.Message}). Broadcast the latest SignedSettlement.", e);
                return BroadcastOutcome.NonceConsumed;
            }
            throw new SettlementException($"Broadcast of epoch {settlement.Epoch} failed: {e.RpcError?.Message ?? e.Message}", e);
        }
    }

    /// <summary>
    /// Polls receipts of all versions of the settlement until one has <paramref name="confirmations"/> confirmations,
    /// reverted, or its nonce was used by another transaction; never longer than <paramref name="timeout"/>.
    /// </summary>
    public async Task<SettlementStatus> WaitForConfirmationAsync(SignedSettlement settlement, int confirmations, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settlement);
        ArgumentOutOfRangeException.ThrowIfLessThan(confirmations, 1);
        var deadline = DateTime.UtcNow + timeout;
        string detail = "not mined yet";
        TransactionReceipt? lastReceipt = null;
        int lastConfirmations = 0;
        while (true)
        {
            var mined = await FindMinedAsync(settlement, cancellationToken).ConfigureAwait(false);
            if (mined is not null)
            {
                lastReceipt = mined;
                var head = (await Rpc(_web3.Eth.Blocks.GetBlockNumber.SendRequestAsync(), cancellationToken).ConfigureAwait(false)).Value;
                lastConfirmations = (int)BigInteger.Min(head - mined.BlockNumber.Value + 1, int.MaxValue);
                if (mined.Status?.Value == 0)
                {
                    var onChain = await GetOnChainEpochAsync(cancellationToken).ConfigureAwait(false);
                    return new SettlementStatus(SettlementState.Reverted, settlement.Epoch, mined.TransactionHash, mined.BlockNumber.Value, lastConfirmations,
                        mined.GasUsed?.Value, onChain, $"postRoot reverted in block {mined.BlockNumber.Value} (on-chain epoch {onChain}).");
                }
                if (lastConfirmations >= confirmations)
                {
                    var onChain = await GetOnChainEpochAsync(cancellationToken).ConfigureAwait(false);
                    return new SettlementStatus(SettlementState.Confirmed, settlement.Epoch, mined.TransactionHash, mined.BlockNumber.Value, lastConfirmations,
                        mined.GasUsed?.Value, onChain, "confirmed");
                }
                detail = $"mined in block {mined.BlockNumber.Value}, {lastConfirmations}/{confirmations} confirmations";
            }
            else
            {
                var latestNonce = (await Rpc(_web3.Eth.Transactions.GetTransactionCount.SendRequestAsync(_key.Address, BlockParameter.CreateLatest()), cancellationToken).ConfigureAwait(false)).Value;
                if (latestNonce > settlement.Nonce)
                {
                    // re-check receipts: the block that consumed the nonce may have been ours
                    mined = await FindMinedAsync(settlement, cancellationToken).ConfigureAwait(false);
                    if (mined is null)
                    {
                        var onChain = await GetOnChainEpochAsync(cancellationToken).ConfigureAwait(false);
                        return new SettlementStatus(SettlementState.Superseded, settlement.Epoch, null, null, 0, null, onChain,
                            $"nonce {settlement.Nonce} was used by a transaction that is not ours (on-chain epoch {onChain}).");
                    }
                    continue;
                }
            }

            var remaining = deadline - DateTime.UtcNow;
            if (remaining <= TimeSpan.Zero)
            {
                var onChain = await GetOnChainEpochAsync(cancellationToken).ConfigureAwait(false);
                return new SettlementStatus(SettlementState.TimedOut, settlement.Epoch, lastReceipt?.TransactionHash, lastReceipt?.BlockNumber?.Value,
                    lastConfirmations, lastReceipt?.GasUsed?.Value, onChain, $"timed out after {timeout}: {detail}");
            }
            await Task.Delay(remaining < _options.PollInterval ? remaining : _options.PollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary><see cref="WaitForConfirmationAsync(SignedSettlement, int, TimeSpan, CancellationToken)"/> with the configured confirmations and timeout.</summary>
    public Task<SettlementStatus> WaitForConfirmationAsync(SignedSettlement settlement, CancellationToken cancellationToken = default) =>
        WaitForConfirmationAsync(settlement, _options.Confirmations, _options.ReceiptTimeout, cancellationToken);

    /// <summary>
    /// Re-signs the same call with the same nonce and gas and fees raised by <see cref="SettlementOptions.FeeBumpPercent"/>
    /// (never less than 12.5 %, and never below what the current base fee needs). Persist the result before broadcasting it.
    /// </summary>
    public async Task<SignedSettlement> BumpFeesAsync(SignedSettlement settlement, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settlement);
        var decoded = TransactionFactory.CreateTransaction(settlement.RawTransaction) as Transaction1559
            ?? throw new SettlementException("The persisted raw transaction is not an EIP-1559 transaction.");
        if (decoded.Nonce != settlement.Nonce || decoded.GasLimit != settlement.Gas)
            throw new SettlementException("The persisted settlement does not match its raw transaction.");

        var permille = (int)Math.Ceiling(_options.FeeBumpPercent * 10m);
        var tip = BumpAtLeast(settlement.MaxPriorityFeePerGas, permille);
        var maxFee = BumpAtLeast(settlement.MaxFeePerGas, permille);
        var baseFee = await GetBaseFeeAsync(cancellationToken).ConfigureAwait(false);
        var needed = baseFee * _options.BaseFeeMultiplier + tip;
        if (needed > maxFee) maxFee = needed;
        if (_options.MaxFeePerGasCap is { } cap && maxFee > cap)
            throw new SettlementRejectedException(SettlementRejection.FeeCapExceeded, settlement.Epoch, 0,
                $"Bumped maxFeePerGas {maxFee} exceeds MaxFeePerGasCap {cap}.");

        // the 12.5 % rule, enforced whatever the options say
        if (tip * 1000 < settlement.MaxPriorityFeePerGas * 1125 || maxFee * 1000 < settlement.MaxFeePerGas * 1125)
            throw new InvalidOperationException("Fee bump below 12.5 % (internal error).");

        return Sign(settlement.Epoch, settlement.Root, settlement.Total, settlement.Nonce, tip, maxFee, settlement.Gas,
            decoded.Data.EnsureHexPrefix(), settlement.ReplacedTxHashes.Append(settlement.TxHash).ToArray());
    }

    /// <summary>
    /// Full protocol in one call for simple callers: skip if already on chain, prepare, persist, broadcast, wait, bump on timeout
    /// (up to <paramref name="maxBumps"/> times). <paramref name="persist"/> is awaited before every broadcast of a new version.
    /// Pass the previously persisted settlement (after a restart) as <paramref name="resume"/>.
    /// </summary>
    public async Task<SettlementStatus> SettleAsync(ulong epoch, string root, BigInteger total, Func<SignedSettlement, Task> persist,
        SignedSettlement? resume = null, int maxBumps = 3, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(persist);
        var signed = resume;
        if (signed is null)
        {
            var onChain = await GetOnChainEpochAsync(cancellationToken).ConfigureAwait(false);
            if (onChain >= epoch)
                return new SettlementStatus(SettlementState.Confirmed, epoch, null, null, 0, null, onChain, "already on chain");
            signed = await PrepareAsync(epoch, root, total, cancellationToken).ConfigureAwait(false);
            await persist(signed).ConfigureAwait(false);
        }
        for (int bump = 0; ; bump++)
        {
            await BroadcastAsync(signed, cancellationToken).ConfigureAwait(false);
            var status = await WaitForConfirmationAsync(signed, cancellationToken).ConfigureAwait(false);
            if (status.State != SettlementState.TimedOut || status.MinedTxHash is not null || bump >= maxBumps) return status;
            signed = await BumpFeesAsync(signed, cancellationToken).ConfigureAwait(false);
            await persist(signed).ConfigureAwait(false);
        }
    }

    private static BigInteger BumpAtLeast(BigInteger value, int permille)
    {
        var bumped = value + (value * permille + 999) / 1000;
        return bumped == value ? value + 1 : bumped;
    }

    private SignedSettlement Sign(ulong epoch, string root, BigInteger total, BigInteger nonce, BigInteger tip, BigInteger maxFee, BigInteger gas, string data, string[] replaced)
    {
        var tx = new Transaction1559(_options.ChainId, nonce, tip, maxFee, gas, _distributor, BigInteger.Zero, data, []);
        var raw = new Transaction1559Signer().SignTransaction(_key.EcKey, tx).EnsureHexPrefix();
        var hash = Keccak256.Hash(raw.HexToByteArray()).ToHex(true);
        return new SignedSettlement(epoch, root, total, raw, hash, nonce, maxFee, tip, gas, replaced);
    }

    private async Task<TransactionReceipt?> FindMinedAsync(SignedSettlement settlement, CancellationToken cancellationToken)
    {
        foreach (var hash in settlement.AllTxHashes)
        {
            var receipt = await Rpc(_web3.Eth.Transactions.GetTransactionReceipt.SendRequestAsync(hash), cancellationToken).ConfigureAwait(false);
            if (receipt?.BlockNumber is not null) return receipt;
        }
        return null;
    }

    private async Task<BigInteger> GetBaseFeeAsync(CancellationToken cancellationToken)
    {
        var block = await Rpc(_web3.Eth.Blocks.GetBlockWithTransactionsHashesByNumber.SendRequestAsync(BlockParameter.CreateLatest()), cancellationToken).ConfigureAwait(false);
        return block?.BaseFeePerGas?.Value ?? throw new SettlementException("The chain reports no base fee (EIP-1559 required).");
    }

    private Task<TOut> Query<TFunction, TOut>(TFunction function, CancellationToken cancellationToken) where TFunction : FunctionMessage, new() =>
        Rpc(_web3.Eth.GetContractQueryHandler<TFunction>().QueryAsync<TOut>(_distributor, function), cancellationToken);

    private Task<T> Rpc<T>(Task<T> call, CancellationToken cancellationToken) => call.WaitAsync(_options.RpcTimeout, cancellationToken);
}
