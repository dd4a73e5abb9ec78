using System.Numerics;
using System.Text.Json;
using DePin.Settlement;
using DePin.Settlement.DevChain;
using DePin.Settlement.Keys;
using DePin.Settlement.Merkle;

namespace DePin.Cli.Tests;

/// <summary>
/// `depin claim` against a real local anvil (npm-installed, like DePin.Settlement.Tests; a missing binary fails with `npm ci` advice).
/// The API is a stub serving the proof of a tree settled directly with <see cref="EpochSettler"/>.
/// </summary>
public class ClaimChainTests
{
    [Fact]
    public async Task Claim_OnAnvil_PaysOnce_ThenNothingToClaim()
    {
        await using var node = await AnvilNode.StartAsync();
        var owner = DevChainKeys.Account0();
        var contracts = new SettlementContracts(node.RpcUrl, owner, node.ChainId);
        var d = await contracts.DeployAsync();
        var one = BigInteger.Pow(10, 18);
        await contracts.FundDistributorAsync(d, 100 * one);
        var op = DevChainKeys.Account2Address;
        var amount = 3 * one / 2; // 1.5 tokens
        var tree = CumulativeMerkleTree.Build([new CumulativeLeaf(op, amount), new CumulativeLeaf(DevChainKeys.Account1Address, one)]);
        var settler = new EpochSettler(new SettlementOptions
        {
            RpcUrl = node.RpcUrl,
            DistributorAddress = d.DistributorAddress,
            TokenAddress = d.TokenAddress,
            ChainId = node.ChainId,
            ReceiptTimeout = TimeSpan.FromSeconds(10),
            PollInterval = TimeSpan.FromMilliseconds(50),
        }, owner);
        var signed = await settler.PrepareAsync(1, tree);
        await settler.BroadcastAsync(signed);
        await settler.WaitForConfirmationAsync(signed, 1, TimeSpan.FromSeconds(10));

        var proofJson = JsonSerializer.Serialize(new
        {
            address = op.ToLowerInvariant(),
            epoch = 1,
            cumulativeMicroCredits = 1_500_000,
            cumulativeAmountWei = amount.ToString(),
            proof = tree.GetProofHex(op),
            merkleRoot = tree.Root,
            distributorAddress = d.DistributorAddress,
            tokenAddress = d.TokenAddress,
            chainId = node.ChainId,
            rpcUrl = node.RpcUrl,
            transactionHash = signed.TxHash,
        });
        var stub = new StubHandler(_ => StubHandler.Json(proofJson));

        async Task<(int Code, string Out, string Err)> Claim(params string[] extra)
        {
            var stdout = new StringWriter();
            var stderr = new StringWriter();
            var code = await Cli.RunAsync(["claim", op, "--dev-account", "2", "--api", "http://api.test", .. extra],
                new CliContext { Out = stdout, Error = stderr, Handler = stub });
            return (code, stdout.ToString(), stderr.ToString());
        }

        var first = await Claim();
        Assert.True(first.Code == 0, first.Out + first.Err);
        Assert.Contains("claimed:       1.5 tokens (1500000000000000000 wei)", first.Out);
        Assert.Contains("token balance: 1.5 tokens", first.Out);
        Assert.Matches("transaction: +0x[0-9a-f]{64}", first.Out);
        Assert.Equal(amount, await contracts.BalanceOfAsync(d.TokenAddress, op));

        var again = await Claim("--json");
        Assert.Equal(0, again.Code);
        using var doc = JsonDocument.Parse(again.Out);
        Assert.False(doc.RootElement.GetProperty("claimed").GetBoolean());
        Assert.Equal("nothing to claim (already claimed up to epoch 1)", doc.RootElement.GetProperty("message").GetString());
        Assert.Equal("1.5", doc.RootElement.GetProperty("balanceTokens").GetString());
        Assert.Equal(amount, await contracts.BalanceOfAsync(d.TokenAddress, op));

        var text = await Claim();
        Assert.Equal(0, text.Code);
        Assert.StartsWith("nothing to claim (already claimed up to epoch 1)", text.Out);

        // A proof for another chain id than the RPC serves is refused before anything is sent.
        var wrongErr = new StringWriter();
        var wrongChain = await Cli.RunAsync(["claim", op, "--private-key-env", "K", "--api", "http://api.test"], new CliContext
        {
            Out = new StringWriter(),
            Error = wrongErr,
            Handler = new StubHandler(_ => StubHandler.Json(proofJson.Replace($"\"chainId\":{node.ChainId}", "\"chainId\":5"))),
            GetEnvironmentVariable = n => n == "K" ? DevChainKeys.Account1PrivateKey : null,
        });
        Assert.Equal(1, wrongChain);
        Assert.Contains($"serves chain {node.ChainId}, but the proof is for chain 5", wrongErr.ToString());
    }
}
