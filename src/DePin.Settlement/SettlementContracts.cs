using System.Numerics;
using DePin.Settlement.Contracts;
using DePin.Settlement.Keys;
using DePin.Settlement.Merkle;
using Nethereum.Contracts;
using Nethereum.RPC.Eth.DTOs;
using Nethereum.Web3;
using Nethereum.Web3.Accounts;

namespace DePin.Settlement;

/// <summary>Addresses of a deployed settlement pair.</summary>
public sealed record SettlementDeployment(string TokenAddress, string DistributorAddress, string Settler, string Owner);

/// <summary>
/// Deploys and administers the settlement contracts (RewardToken + CumulativeMerkleDistributor) with Nethereum typed
/// deployment/function messages and the ABI/bytecode embedded in this assembly. Used by tests, the dev script and ops tooling.
/// </summary>
public sealed class SettlementContracts
{
    private readonly Web3 _web3;
    private readonly TimeSpan _timeout;

    /// <summary>Uses <paramref name="key"/> (token owner / deployer) on <paramref name="rpcUrl"/>.</summary>
    public SettlementContracts(string rpcUrl, SettlerKey key, long chainId, TimeSpan? receiptTimeout = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(rpcUrl);
        ArgumentNullException.ThrowIfNull(key);
        Key = key;
        _web3 = new Web3(new Account(key.PrivateKeyHex, chainId), rpcUrl);
        _web3.TransactionManager.UseLegacyAsDefault = false;
        _timeout = receiptTimeout ?? TimeSpan.FromMinutes(2);
    }

    /// <summary>Deployer key.</summary>
    public SettlerKey Key { get; }

    /// <summary>The Nethereum client (for ad-hoc calls).</summary>
    public IWeb3 Web3 => _web3;

    /// <summary>Deploys a RewardToken (owned by the deployer) and a distributor whose settler is <paramref name="settler"/> (default: the deployer).</summary>
    public async Task<SettlementDeployment> DeployAsync(string? settler = null, string tokenName = "DePin Reward", string tokenSymbol = "DPR", CancellationToken cancellationToken = default)
    {
        var settlerAddress = EthAddress.ToChecksum(settler ?? Key.Address);
        var tokenReceipt = await Deploy(new RewardTokenDeployment { Name = tokenName, Symbol = tokenSymbol }, cancellationToken).ConfigureAwait(false);
        var token = await DeployDistributorAsync(tokenReceipt.ContractAddress, settlerAddress, cancellationToken).ConfigureAwait(false);
        return new SettlementDeployment(EthAddress.ToChecksum(tokenReceipt.ContractAddress), token, settlerAddress, Key.Address);
    }

    /// <summary>Deploys only a distributor for an existing token.</summary>
    public async Task<string> DeployDistributorAsync(string token, string settler, CancellationToken cancellationToken = default)
    {
        var receipt = await Deploy(new DistributorDeployment { Token = EthAddress.ToChecksum(token), Settler = EthAddress.ToChecksum(settler) }, cancellationToken).ConfigureAwait(false);
        return EthAddress.ToChecksum(receipt.ContractAddress);
    }

    /// <summary>Mints <paramref name="amount"/> reward tokens to <paramref name="to"/> (owner only).</summary>
    public Task<TransactionReceipt> MintAsync(string token, string to, BigInteger amount, CancellationToken cancellationToken = default) =>
        Send(token, new MintFunction { To = EthAddress.ToChecksum(to), Amount = amount }, cancellationToken);

    /// <summary>
    /// Funds the distributor with freshly minted tokens: mints <paramref name="amount"/> to the deployer (token owner),
    /// approves the distributor for it and calls distributor.fund(amount). Tokens minted or transferred straight to the
    /// distributor would NOT count as funding. Returns the fund() receipt.
    /// </summary>
    public async Task<TransactionReceipt> FundDistributorAsync(SettlementDeployment deployment, BigInteger amount, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        await MintAsync(deployment.TokenAddress, Key.Address, amount, cancellationToken).ConfigureAwait(false);
        return await FundFromBalanceAsync(deployment, amount, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Funds the distributor from the deployer's existing token balance: approve + distributor.fund(amount).</summary>
    public async Task<TransactionReceipt> FundFromBalanceAsync(SettlementDeployment deployment, BigInteger amount, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        if (amount.Sign <= 0) throw new ArgumentOutOfRangeException(nameof(amount), "The funding amount must be positive.");
        await ApproveAsync(deployment.TokenAddress, deployment.DistributorAddress, amount, cancellationToken).ConfigureAwait(false);
        return await Send(deployment.DistributorAddress, new FundFunction { Amount = amount }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>ERC20 transfer from the deployer.</summary>
    public Task<TransactionReceipt> TransferAsync(string token, string to, BigInteger amount, CancellationToken cancellationToken = default) =>
        Send(token, new TransferFunction { To = EthAddress.ToChecksum(to), Value = amount }, cancellationToken);

    /// <summary>ERC20 approve from the deployer.</summary>
    public Task<TransactionReceipt> ApproveAsync(string token, string spender, BigInteger amount, CancellationToken cancellationToken = default) =>
        Send(token, new ApproveFunction { Spender = EthAddress.ToChecksum(spender), Value = amount }, cancellationToken);

    /// <summary>ERC20 balance.</summary>
    public Task<BigInteger> BalanceOfAsync(string token, string account) =>
        _web3.Eth.GetContractQueryHandler<BalanceOfFunction>().QueryAsync<BigInteger>(EthAddress.ToChecksum(token), new BalanceOfFunction { Account = EthAddress.ToChecksum(account) });

    /// <summary>ERC20 allowance of <paramref name="owner"/> to <paramref name="spender"/>.</summary>
    public Task<BigInteger> AllowanceAsync(string token, string owner, string spender) =>
        _web3.Eth.GetContractQueryHandler<AllowanceFunction>().QueryAsync<BigInteger>(EthAddress.ToChecksum(token),
            new AllowanceFunction { Owner = EthAddress.ToChecksum(owner), Spender = EthAddress.ToChecksum(spender) });

    /// <summary>
    /// Push payout: distributor.payBatch(batchId, recipients, amounts), paid from the deployer's (= settler's) balance.
    /// When the distributor's allowance does not cover the batch, the settler approves it once for 2^256 − 1: OpenZeppelin's
    /// ERC20 never decreases an infinite allowance, which saves a storage write per recipient (9.7k instead of 10.1k gas per
    /// existing holder) and an approve transaction per batch. Only the settler can call payBatch, so this opens nothing
    /// the settler key does not already control. At most 500 recipients; a batch id can be paid once.
    /// </summary>
    public async Task<TransactionReceipt> PayBatchAsync(SettlementDeployment deployment, BigInteger batchId, IReadOnlyList<(string Recipient, BigInteger Amount)> payments, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        ArgumentNullException.ThrowIfNull(payments);
        if (payments.Count is 0 or > 500) throw new ArgumentException("A batch has 1..500 recipients.", nameof(payments));
        var sum = payments.Aggregate(BigInteger.Zero, (s, p) => s + p.Amount);
        if (await AllowanceAsync(deployment.TokenAddress, Key.Address, deployment.DistributorAddress).ConfigureAwait(false) < sum)
            await ApproveAsync(deployment.TokenAddress, deployment.DistributorAddress, (BigInteger.One << 256) - 1, cancellationToken).ConfigureAwait(false);
        return await Send(deployment.DistributorAddress, new PayBatchFunction
        {
            BatchId = batchId,
            Recipients = payments.Select(p => EthAddress.ToChecksum(p.Recipient)).ToList(),
            Amounts = payments.Select(p => p.Amount).ToList(),
        }, cancellationToken).ConfigureAwait(false);
    }

    private async Task<TransactionReceipt> Deploy<T>(T message, CancellationToken cancellationToken) where T : ContractDeploymentMessage, new()
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(_timeout);
        var receipt = await _web3.Eth.GetContractDeploymentHandler<T>().SendRequestAndWaitForReceiptAsync(message, cts.Token).ConfigureAwait(false);
        if (receipt.Status?.Value != 1 || string.IsNullOrEmpty(receipt.ContractAddress))
            throw new SettlementException($"Deployment of {typeof(T).Name} failed (tx {receipt.TransactionHash}).");
        return receipt;
    }

    private async Task<TransactionReceipt> Send<T>(string contract, T message, CancellationToken cancellationToken) where T : FunctionMessage, new()
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(_timeout);
        var receipt = await _web3.Eth.GetContractTransactionHandler<T>().SendRequestAndWaitForReceiptAsync(EthAddress.ToChecksum(contract), message, cts.Token).ConfigureAwait(false);
        if (receipt.Status?.Value != 1) throw new SettlementException($"{typeof(T).Name} on {contract} failed (tx {receipt.TransactionHash}).");
        return receipt;
    }
}
