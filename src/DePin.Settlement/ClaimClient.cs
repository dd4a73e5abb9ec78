using System.Numerics;
using DePin.Settlement.Contracts;
using DePin.Settlement.Keys;
using DePin.Settlement.Merkle;
using Nethereum.RPC.Eth.DTOs;
using Nethereum.Web3;
using Nethereum.Web3.Accounts;

namespace DePin.Settlement;

/// <summary>Result of a claim.</summary>
public sealed record ClaimResult(string TxHash, BigInteger Amount, BigInteger CumulativeAmount, BigInteger GasUsed, BigInteger BlockNumber);

/// <summary>
/// Sends distributor.claim(account, cumulativeAmount, proof) for an operator (backs the `depin claim` CLI).
/// The sender pays gas; the tokens always go to <c>account</c>.
/// </summary>
public sealed class ClaimClient
{
    private readonly Web3 _web3;
    private readonly string _distributor;
    private readonly TimeSpan _timeout;

    /// <summary>Claims through <paramref name="distributorAddress"/>, signing with <paramref name="sender"/>.</summary>
    public ClaimClient(string rpcUrl, string distributorAddress, SettlerKey sender, long chainId, TimeSpan? receiptTimeout = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(rpcUrl);
        ArgumentNullException.ThrowIfNull(sender);
        _distributor = EthAddress.ToChecksum(distributorAddress);
        _web3 = new Web3(new Account(sender.PrivateKeyHex, chainId), rpcUrl);
        _web3.TransactionManager.UseLegacyAsDefault = false;
        _timeout = receiptTimeout ?? TimeSpan.FromMinutes(2);
        Sender = sender.Address;
    }

    /// <summary>Address paying gas.</summary>
    public string Sender { get; }

    /// <summary>Cumulative amount already claimed by <paramref name="account"/>.</summary>
    public Task<BigInteger> GetClaimedAsync(string account) =>
        _web3.Eth.GetContractQueryHandler<ClaimedFunction>().QueryAsync<BigInteger>(_distributor, new ClaimedFunction { Account = EthAddress.ToChecksum(account) });

    /// <summary>What a claim with <paramref name="cumulativeAmount"/> would pay now.</summary>
    public async Task<BigInteger> GetClaimableAsync(string account, BigInteger cumulativeAmount)
    {
        var claimed = await GetClaimedAsync(account).ConfigureAwait(false);
        return cumulativeAmount > claimed ? cumulativeAmount - claimed : BigInteger.Zero;
    }

    /// <summary>Claims <paramref name="account"/>'s leaf of <paramref name="tree"/> (which must be the tree of the current on-chain root).</summary>
    public Task<ClaimResult> ClaimAsync(CumulativeMerkleTree tree, string account, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tree);
        return ClaimAsync(account, tree.GetAmount(account), tree.GetProof(account), cancellationToken);
    }

    /// <summary>Claims with an explicit proof. Throws <see cref="InvalidOperationException"/> when nothing is claimable (no transaction sent).</summary>
    public async Task<ClaimResult> ClaimAsync(string account, BigInteger cumulativeAmount, IReadOnlyList<byte[]> proof, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(proof);
        var checksummed = EthAddress.ToChecksum(account);
        var claimable = await GetClaimableAsync(checksummed, cumulativeAmount).ConfigureAwait(false);
        if (claimable.IsZero) throw new InvalidOperationException($"Nothing to claim for {checksummed}: cumulative {cumulativeAmount} is already claimed.");
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(_timeout);
        var message = new ClaimFunction { Account = checksummed, CumulativeAmount = cumulativeAmount, Proof = proof.ToList() };
        TransactionReceipt receipt = await _web3.Eth.GetContractTransactionHandler<ClaimFunction>()
            .SendRequestAndWaitForReceiptAsync(_distributor, message, cts.Token).ConfigureAwait(false);
        if (receipt.Status?.Value != 1) throw new SettlementException($"claim for {checksummed} reverted (tx {receipt.TransactionHash}).");
        return new ClaimResult(receipt.TransactionHash, claimable, cumulativeAmount, receipt.GasUsed.Value, receipt.BlockNumber.Value);
    }
}
