using System.Numerics;
using DePin.Settlement.Contracts;
using DePin.Settlement.Merkle;
using Nethereum.RPC.Eth.DTOs;
using Xunit.Abstractions;

namespace DePin.Settlement.Tests;

/// <summary>
/// Push-payout gas per recipient (issue goal: ≤ 10k per existing token holder). Measured as the marginal cost
/// (gas(200) − gas(100)) / 100 so the fixed part (21k base, batchId SSTORE, first cold token/allowance/balance
/// accesses, event) cancels out.
/// </summary>
public class PayBatchGasTests(AnvilFixture chain, ITestOutputHelper output) : IClassFixture<AnvilFixture>
{
    [Fact]
    public async Task Gas_payBatch_per_existing_holder_with_infinite_allowance()
    {
        var c = chain.Contracts;
        var d = await c.DeployAsync();
        await c.MintAsync(d.TokenAddress, d.Settler, Tokens.Of(1_000_000));
        // Infinite approval: OpenZeppelin 5 ERC20 does not decrease a type(uint256).max allowance (no SSTORE per transfer).
        // PayBatchAsync approves exactly the batch sum instead, so the measured batches below are sent directly.
        var maxUint = BigInteger.Pow(2, 256) - 1;
        await c.ApproveAsync(d.TokenAddress, d.DistributorAddress, maxUint);

        var rng = new Random(17);
        var recipients = new List<string>();
        for (int i = 0; i < 200; i++)
        {
            var b = new byte[20]; rng.NextBytes(b); b[0] |= 1;
            recipients.Add(EthAddress.ToChecksum("0x" + Convert.ToHexStringLower(b)));
        }
        // realistic amounts: 0.001 .. 9 tokens in wei (7–8 non-zero calldata bytes)
        var amounts = recipients.Select(_ => new BigInteger(rng.NextInt64(1_000_000_000_000_000L, 9_000_000_000_000_000_000L))).ToList();

        // make all 200 recipients existing holders (1 wei each): zero → non-zero balance slots are paid here, not below
        var setup = await PayBatch(d, 1, recipients, recipients.Select(_ => BigInteger.One).ToList());
        var g100 = (long)(await PayBatch(d, 2, recipients[..100], amounts[..100])).GasUsed.Value;
        var g200 = (long)(await PayBatch(d, 3, recipients, amounts)).GasUsed.Value;

        var marginal = (g200 - g100) / 100.0;
        output.WriteLine($"payBatch, 200 new holders (1 wei each, zero→non-zero): {setup.GasUsed.Value} gas = {((long)setup.GasUsed.Value - 21_000) / 200.0:F0}/recipient after 21k");
        output.WriteLine($"payBatch, 100 existing holders: {g100} gas = {(g100 - 21_000) / 100.0:F0}/recipient after 21k");
        output.WriteLine($"payBatch, 200 existing holders: {g200} gas = {(g200 - 21_000) / 200.0:F0}/recipient after 21k");
        output.WriteLine($"marginal gas per existing-holder recipient (g200 − g100) / 100: {marginal:F1}");

        Assert.Equal(amounts[0] + 1 + amounts[0], await c.BalanceOfAsync(d.TokenAddress, recipients[0]));
        Assert.Equal(amounts[199] + 1, await c.BalanceOfAsync(d.TokenAddress, recipients[199]));

        // for comparison: an exact (finite) allowance as PayBatchAsync sets it, decreased by every transferFrom
        var sum = amounts.Aggregate(BigInteger.Zero, (a, b) => a + b);
        await c.ApproveAsync(d.TokenAddress, d.DistributorAddress, sum);
        var f100 = (long)(await PayBatch(d, 4, recipients[..100], amounts[..100])).GasUsed.Value;
        await c.ApproveAsync(d.TokenAddress, d.DistributorAddress, sum);
        var f200 = (long)(await PayBatch(d, 5, recipients, amounts)).GasUsed.Value;
        var finiteMarginal = (f200 - f100) / 100.0;
        output.WriteLine($"finite allowance: 100 → {f100} gas, 200 → {f200} gas, marginal {finiteMarginal:F1}/recipient");

        Assert.True(marginal <= finiteMarginal, "the infinite allowance should not cost more per recipient");
        Assert.True(marginal <= 10_000, $"payBatch marginal gas per existing holder {marginal} > 10k goal");
    }

    private async Task<TransactionReceipt> PayBatch(SettlementDeployment d, BigInteger batchId, List<string> recipients, List<BigInteger> amounts)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var receipt = await chain.Contracts.Web3.Eth.GetContractTransactionHandler<PayBatchFunction>().SendRequestAndWaitForReceiptAsync(
            d.DistributorAddress, new PayBatchFunction { BatchId = batchId, Recipients = recipients, Amounts = amounts }, cts.Token);
        Assert.Equal(1, (int)receipt.Status.Value);
        return receipt;
    }
}
