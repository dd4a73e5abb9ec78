using DePin.Settlement.Merkle;
using Xunit.Abstractions;

namespace DePin.Settlement.Tests;

public class StuckTransactionTests(AnvilFixture chain, ITestOutputHelper output) : IClassFixture<AnvilFixture>
{
    [Fact]
    public async Task Stuck_transaction_is_replaced_with_bumped_fees_and_only_the_replacement_is_mined()
    {
        var d = await chain.Contracts.DeployAsync();
        await chain.Contracts.FundDistributorAsync(d, Tokens.Of(100));
        var settler = new EpochSettler(chain.Options(d), chain.Owner);
        var tree = CumulativeMerkleTree.Build([new CumulativeLeaf(Keys.DevChainKeys.Account1Address, Tokens.Of(9))]);

        await chain.Node.SetAutomineAsync(false);
        try
        {
            var original = await settler.PrepareAsync(1, tree);
            Assert.Equal(BroadcastOutcome.Sent, await settler.BroadcastAsync(original));
            Assert.Equal(BroadcastOutcome.AlreadyKnown, await settler.BroadcastAsync(original)); // rebroadcast while pending
            var waited = await settler.WaitForConfirmationAsync(original, 1, TimeSpan.FromMilliseconds(300));
            Assert.Equal(SettlementState.TimedOut, waited.State); // bounded: never hangs

            var bumped = await settler.BumpFeesAsync(original);
            Assert.Equal(original.Nonce, bumped.Nonce);
            Assert.NotEqual(original.TxHash, bumped.TxHash);
            Assert.True(bumped.MaxFeePerGas * 1000 >= original.MaxFeePerGas * 1125);
            Assert.True(bumped.MaxPriorityFeePerGas * 1000 >= original.MaxPriorityFeePerGas * 1125);
            Assert.Contains(original.TxHash, bumped.ReplacedTxHashes);
            output.WriteLine($"fees {original.MaxFeePerGas}/{original.MaxPriorityFeePerGas} -> {bumped.MaxFeePerGas}/{bumped.MaxPriorityFeePerGas}");
            Assert.Equal(BroadcastOutcome.Sent, await settler.BroadcastAsync(bumped));
            Assert.Equal(1, await chain.Node.PendingTransactionCountAsync());

            await chain.Node.MineAsync();
            var status = await settler.WaitForConfirmationAsync(bumped, 1, TimeSpan.FromSeconds(10));
            Assert.Equal(SettlementState.Confirmed, status.State);
            Assert.Equal(bumped.TxHash, status.MinedTxHash);
            var originalReceipt = await chain.Contracts.Web3.Eth.Transactions.GetTransactionReceipt.SendRequestAsync(original.TxHash);
            Assert.Null(originalReceipt);
            Assert.Equal(1UL, await settler.GetOnChainEpochAsync());
            // the replaced version can never be mined now: its nonce is used (the old record does not know the replacement)
            Assert.Equal(BroadcastOutcome.NonceConsumed, await settler.BroadcastAsync(original));
            Assert.Equal(BroadcastOutcome.AlreadyMined, await settler.BroadcastAsync(bumped));
            await chain.Node.MineAsync();
            Assert.Equal(1UL, await settler.GetOnChainEpochAsync());
        }
        finally
        {
            await chain.Node.SetAutomineAsync(true);
        }
    }
}
