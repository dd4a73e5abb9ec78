using System.Numerics;
using Nethereum.ABI.FunctionEncoding.Attributes;
using Nethereum.Contracts;

namespace DePin.Settlement.Contracts;

// Typed Nethereum messages for the two contracts. They are hand-written (no code generator in the build);
// a test checks every selector against the ABI in the compiled artifacts.

/// <summary>Deploys <c>RewardToken(name, symbol)</c>; the deployer becomes owner.</summary>
public sealed class RewardTokenDeployment() : ContractDeploymentMessage(ContractArtifact.RewardToken.Bytecode)
{
    [Parameter("string", "name_", 1)] public string Name { get; set; } = "DePin Reward";
    [Parameter("string", "symbol_", 2)] public string Symbol { get; set; } = "DPR";
}

/// <summary>Deploys <c>CumulativeMerkleDistributor(token, settler)</c>.</summary>
public sealed class DistributorDeployment() : ContractDeploymentMessage(ContractArtifact.CumulativeMerkleDistributor.Bytecode)
{
    [Parameter("address", "token_", 1)] public string Token { get; set; } = "";
    [Parameter("address", "settler_", 2)] public string Settler { get; set; } = "";
}

/// <summary>RewardToken.mint(to, amount).</summary>
[Function("mint")]
public sealed class MintFunction : FunctionMessage
{
    [Parameter("address", "to", 1)] public string To { get; set; } = "";
    [Parameter("uint256", "amount", 2)] public BigInteger Amount { get; set; }
}

/// <summary>ERC20.transfer(to, value).</summary>
[Function("transfer", "bool")]
public sealed class TransferFunction : FunctionMessage
{
    [Parameter("address", "to", 1)] public string To { get; set; } = "";
    [Parameter("uint256", "value", 2)] public BigInteger Value { get; set; }
}

/// <summary>ERC20.approve(spender, value).</summary>
[Function("approve", "bool")]
public sealed class ApproveFunction : FunctionMessage
{
    [Parameter("address", "spender", 1)] public string Spender { get; set; } = "";
    [Parameter("uint256", "value", 2)] public BigInteger Value { get; set; }
}

/// <summary>ERC20.balanceOf(account).</summary>
[Function("balanceOf", "uint256")]
public sealed class BalanceOfFunction : FunctionMessage
{
    [Parameter("address", "account", 1)] public string Account { get; set; } = "";
}

/// <summary>ERC20.allowance(owner, spender).</summary>
[Function("allowance", "uint256")]
public sealed class AllowanceFunction : FunctionMessage
{
    [Parameter("address", "owner", 1)] public string Owner { get; set; } = "";
    [Parameter("address", "spender", 2)] public string Spender { get; set; } = "";
}

/// <summary>Distributor.postRoot(epoch, root, total).</summary>
[Function("postRoot")]
public sealed class PostRootFunction : FunctionMessage
{
    [Parameter("uint256", "epoch", 1)] public BigInteger Epoch { get; set; }
    [Parameter("bytes32", "root", 2)] public byte[] Root { get; set; } = [];
    [Parameter("uint256", "total", 3)] public BigInteger Total { get; set; }
}

/// <summary>Distributor.claim(account, cumulativeAmount, proof).</summary>
[Function("claim")]
public sealed class ClaimFunction : FunctionMessage
{
    [Parameter("address", "account", 1)] public string Account { get; set; } = "";
    [Parameter("uint256", "cumulativeAmount", 2)] public BigInteger CumulativeAmount { get; set; }
    [Parameter("bytes32[]", "proof", 3)] public List<byte[]> Proof { get; set; } = [];
}

/// <summary>Distributor.fund(amount): pulls <c>amount</c> tokens from the caller (approve first) and counts them as funding.</summary>
[Function("fund")]
public sealed class FundFunction : FunctionMessage
{
    [Parameter("uint256", "amount", 1)] public BigInteger Amount { get; set; }
}

/// <summary>Distributor.payBatch(batchId, recipients, amounts).</summary>
[Function("payBatch")]
public sealed class PayBatchFunction : FunctionMessage
{
    [Parameter("uint256", "batchId", 1)] public BigInteger BatchId { get; set; }
    [Parameter("address[]", "recipients", 2)] public List<string> Recipients { get; set; } = [];
    [Parameter("uint256[]", "amounts", 3)] public List<BigInteger> Amounts { get; set; } = [];
}

/// <summary>Distributor.lastEpoch().</summary>
[Function("lastEpoch", "uint256")] public sealed class LastEpochFunction : FunctionMessage;
/// <summary>Distributor.currentRoot().</summary>
[Function("currentRoot", "bytes32")] public sealed class CurrentRootFunction : FunctionMessage;
/// <summary>Distributor.totalPosted().</summary>
[Function("totalPosted", "uint256")] public sealed class TotalPostedFunction : FunctionMessage;
/// <summary>Distributor.totalFunded().</summary>
[Function("totalFunded", "uint256")] public sealed class TotalFundedFunction : FunctionMessage;
/// <summary>Distributor.settler().</summary>
[Function("settler", "address")] public sealed class SettlerFunction : FunctionMessage;
/// <summary>Distributor.token().</summary>
[Function("token", "address")] public sealed class TokenFunction : FunctionMessage;

/// <summary>Distributor.claimed(account).</summary>
[Function("claimed", "uint256")]
public sealed class ClaimedFunction : FunctionMessage
{
    [Parameter("address", "account", 1)] public string Account { get; set; } = "";
}

/// <summary>Distributor.epochRoot(epoch).</summary>
[Function("epochRoot", "bytes32")]
public sealed class EpochRootFunction : FunctionMessage
{
    [Parameter("uint256", "epoch", 1)] public BigInteger Epoch { get; set; }
}

/// <summary>Distributor.batchPaid(batchId).</summary>
[Function("batchPaid", "bool")]
public sealed class BatchPaidFunction : FunctionMessage
{
    [Parameter("uint256", "batchId", 1)] public BigInteger BatchId { get; set; }
}

/// <summary>Event RootPosted(uint256 indexed epoch, bytes32 root, uint256 total).</summary>
[Event("RootPosted")]
public sealed class RootPostedEvent : IEventDTO
{
    [Parameter("uint256", "epoch", 1, true)] public BigInteger Epoch { get; set; }
    [Parameter("bytes32", "root", 2, false)] public byte[] Root { get; set; } = [];
    [Parameter("uint256", "total", 3, false)] public BigInteger Total { get; set; }
}

/// <summary>Event Claimed(address indexed account, uint256 amount, uint256 cumulativeAmount).</summary>
[Event("Claimed")]
public sealed class ClaimedEvent : IEventDTO
{
    [Parameter("address", "account", 1, true)] public string Account { get; set; } = "";
    [Parameter("uint256", "amount", 2, false)] public BigInteger Amount { get; set; }
    [Parameter("uint256", "cumulativeAmount", 3, false)] public BigInteger CumulativeAmount { get; set; }
}
