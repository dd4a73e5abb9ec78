using System.Net;
using System.Numerics;
using DePin.Abstractions.Jobs;
using DePin.Abstractions.Rewards;
using DePin.Settlement;
using DePin.Settlement.Keys;
using DePin.Silo.Api;
using DePin.Silo.Api.Contracts;
using DePin.Tests.Infrastructure;
using SettlementState = DePin.Abstractions.Rewards.SettlementState;
using Nethereum.Hex.HexConvertors.Extensions;

namespace DePin.Tests.Settlement;

/// <summary>
/// The whole payment path on a real local chain: the silo starts anvil (DevChain mode), deploys the contracts, its
/// worker earns credits, the ledger closes epochs and posts their Merkle roots, and the operator claims tokens.
/// </summary>
public sealed class OnChainSettlementTests
{
    [Fact]
    public async Task Epochs_settle_on_chain_and_the_operator_claims_exactly_its_earnings()
    {
        await using var silo = await TestSilo.StartAsync(workers: true, new Dictionary<string, string?>
        {
            ["Settlement:Mode"] = "DevChain",
            ["Settlement:PollInterval"] = "00:00:00.100",
        });
        var info = await silo.Http.GetAsync<SettlementInfo>("/settlement");
        Assert.True(info.Enabled);
        Assert.Equal(31337, info.ChainId);

        // The embedded worker's operator is anvil's public dev account #1, whose key we hold for this test.
        var operatorAddress = DevChainKeys.Account1Address.ToLowerInvariant();
        var operatorKey = SettlerKey.FromPrivateKey(DevChainKeys.Account1PrivateKey);
        var claims = new ClaimClient(info.RpcUrl!, info.DistributorAddress!, operatorKey, info.ChainId!.Value);
        var token = new SettlementContracts(info.RpcUrl!, operatorKey, info.ChainId.Value);

        Assert.Equal(HttpStatusCode.NotFound, (await silo.Http.GetAsync($"/accounts/{operatorAddress}/proof")).StatusCode);

        BigInteger claimedSoFar = 0;
        for (var round = 1; round <= 2; round++)
        {
            await RunJobAsync(silo, units: 4 * round);
            var epoch = await CloseAndSettleAsync(silo);
            Assert.Equal(round, epoch.Epoch);
            Assert.NotNull(epoch.TransactionHash);
            Assert.NotNull(epoch.MerkleRoot);

            var proof = await silo.Http.GetAsync<AccountProof>($"/accounts/{operatorAddress}/proof");
            Assert.Equal(epoch.Epoch, proof.Epoch);
            Assert.Equal(epoch.MerkleRoot, proof.MerkleRoot);
            var cumulative = BigInteger.Parse(proof.CumulativeAmountWei);
            Assert.Equal(new BigInteger(proof.CumulativeMicroCredits) * BigInteger.Parse(info.WeiPerMicroCredit), cumulative);

            var claim = await claims.ClaimAsync(operatorAddress, cumulative, [.. proof.Proof.Select(h => h.HexToByteArray())]);
            Assert.Equal(cumulative - claimedSoFar, claim.Amount); // pays only what is new
            claimedSoFar = cumulative;
            Assert.Equal(cumulative, await token.BalanceOfAsync(info.TokenAddress!, operatorAddress));
        }

        // A second claim of the same cumulative amount pays nothing (the contract reverts).
        var last = await silo.Http.GetAsync<AccountProof>($"/accounts/{operatorAddress}/proof");
        await Assert.ThrowsAnyAsync<Exception>(() =>
            claims.ClaimAsync(operatorAddress, BigInteger.Parse(last.CumulativeAmountWei), [.. last.Proof.Select(h => h.HexToByteArray())]));
        Assert.Equal(claimedSoFar, await token.BalanceOfAsync(info.TokenAddress!, operatorAddress));

        var statement = await silo.Http.GetAsync<EarningsStatement>($"/accounts/{operatorAddress}/statement");
        Assert.Equal([2L, 1L], statement.Epochs.Select(e => e.Epoch));
        Assert.All(statement.Epochs, e => Assert.Equal(SettlementState.Confirmed, e.State));
        Assert.All(statement.Epochs, e => Assert.StartsWith("0x", e.TransactionHash));
        Assert.Equal(statement.Account.CumulativeMicroCredits, statement.Epochs[0].CumulativeMicroCredits);
    }

    private static async Task RunJobAsync(TestSilo silo, int units)
    {
        var response = await silo.Http.PostJobAsync(new { kernel = "montecarlo-pi", parameters = new { samples = units * 10_000, units } });
        var job = await response.ReadAsync<JobView>();
        job = await Eventually.WaitAsync(() => silo.Http.GetAsync<JobView>($"/jobs/{job.JobId}"), j => j.Status.IsTerminal(), "job");
        Assert.Equal(JobStatus.Completed, job.Status);
        // Credits land just after the job completes; wait until the account has them all.
        await Eventually.WaitAsync(async () => await silo.Http.GetAsync($"/accounts/{DevChainKeys.Account1Address}"),
            r => r.StatusCode == HttpStatusCode.OK, "credits");
    }

    private static async Task<EpochSettlement> CloseAndSettleAsync(TestSilo silo)
    {
        var close = await silo.Http.PostAsync("/epochs/close", null);
        Assert.Equal(HttpStatusCode.OK, close.StatusCode);
        var closed = await close.ReadAsync<EpochSettlement>();
        return await Eventually.WaitAsync(() => silo.Http.GetAsync<EpochSettlement>($"/epochs/{closed.Epoch}"),
            e => e.State == SettlementState.Confirmed, $"epoch {closed.Epoch} confirmed on chain", TimeSpan.FromSeconds(60));
    }
}
