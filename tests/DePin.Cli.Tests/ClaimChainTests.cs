using System.Net;
using System.Text.Json;
using DePin.Client;
using DePin.Tests.Infrastructure;

namespace DePin.Cli.Tests;

/// <summary>A real silo settling on a local anvil chain (Settlement:Mode=DevChain; anvil is npm-installed, `npm ci`).</summary>
public sealed class DevChainSiloFixture : SiloFixture
{
    /// <inheritdoc />
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Settlement:Mode"] = "DevChain",
        ["Settlement:PollInterval"] = "00:00:00.100",
    };
}

/// <summary>
/// `depin settlement`, `statement` and `claim`, and the client's proof and epoch-settlement calls, against a real silo whose
/// epochs are posted on a local anvil chain: the embedded worker's operator (anvil's public dev account #1) earns credits,
/// an epoch is closed and confirmed, and the operator claims exactly once.
/// </summary>
public sealed class ClaimChainTests(DevChainSiloFixture fixture) : IClassFixture<DevChainSiloFixture>
{
    private const string Stranger = "0x000000000000000000000000000000000000dead";

    [Fact]
    public async Task Settle_an_epoch_then_claim_it_once_with_the_cli()
    {
        var op = fixture.Node.OperatorAddress;
        using var client = fixture.Client();

        var settlement = await fixture.RunAsync("settlement");
        Assert.True(settlement.ExitCode == 0, settlement.Err);
        Assert.Contains("DevChain", settlement.Out);
        Assert.Contains("31337 (local anvil dev chain)", settlement.Out);
        var info = await client.GetSettlementAsync();
        Assert.True(info.IsLocalDevChain);
        Assert.Contains(info.DistributorAddress!, settlement.Out);

        var nothing = await Assert.ThrowsAsync<DePinApiException>(() => client.GetProofAsync(Stranger));
        Assert.Equal(HttpStatusCode.NotFound, nothing.StatusCode);
        var strangerClaim = await fixture.RunAsync("claim", Stranger, "--dev-account", "1");
        Assert.Equal(1, strangerClaim.ExitCode);
        Assert.Equal($"error: Nothing to claim: {Stranger} is in no epoch settled on chain yet.", strangerClaim.Err.Trim());

        // Earn, close, settle.
        var job = await fixture.RunJobAsync("montecarlo-pi", new { samples = 4000, units = 4 });
        var account = await fixture.WaitForCreditsAsync(job.PriceMicroCredits);
        var closed = await fixture.RunAsync("close-epoch", "--json");
        Assert.True(closed.ExitCode == 0, closed.Err);
        long epoch;
        using (var doc = JsonDocument.Parse(closed.Out)) epoch = doc.RootElement.GetProperty("epoch").GetInt64();
        var seen = new List<SettlementState>();
        var confirmed = await client.WaitForEpochSettledAsync(epoch, TimeSpan.FromSeconds(60), new Sync<EpochInfo>(e => seen.Add(e.State)), TimeSpan.FromMilliseconds(50));
        Assert.Equal(SettlementState.Confirmed, confirmed.State);
        Assert.Equal(SettlementState.Confirmed, seen[^1]);
        Assert.StartsWith("0x", confirmed.TransactionHash);

        var proof = await client.GetProofAsync(op);
        Assert.Equal(epoch, proof.Epoch);
        Assert.Equal(account.CumulativeMicroCredits, proof.CumulativeMicroCredits);
        Assert.All(proof.ProofBytes(), b => Assert.Equal(32, b.Length));

        var statement = await fixture.RunAsync("statement", op);
        Assert.True(statement.ExitCode == 0, statement.Err);
        Assert.Contains("Confirmed", statement.Out);
        Assert.Contains(confirmed.TransactionHash!, statement.Out);

        // Refusals that need the proof first, then nothing is sent.
        var unset = await fixture.RunAsync("claim", op, "--private-key-env", "DEPIN_TEST_KEY");
        Assert.Equal(1, unset.ExitCode);
        Assert.Contains("'DEPIN_TEST_KEY'", unset.Err);
        Assert.Contains("not set", unset.Err);
        var malformed = await CliRun.RunAsync(fixture.Silo.BaseAddress, n => n == "DEPIN_TEST_KEY" ? "0xsecretish" : null, fixture.Silo.KeysDirectory,
            ["claim", op, "--private-key-env", "DEPIN_TEST_KEY"]);
        Assert.Equal(1, malformed.ExitCode);
        Assert.Contains("does not hold a private key", malformed.Err);
        Assert.DoesNotContain("secretish", malformed.Err);
        var missing = Path.Combine(Path.GetTempPath(), $"depin-missing-{Guid.NewGuid():N}.json");
        var keystore = await fixture.RunAsync("claim", op, "--keystore", missing, "--password-file", missing + ".pw");
        Assert.Equal(1, keystore.ExitCode);
        Assert.Contains("not found", keystore.Err);
        var rpc = $"http://127.0.0.1:{TestSilo.FreePort()}";
        var unreachable = await fixture.RunAsync("claim", op, "--dev-account", "1", "--rpc", rpc);
        Assert.Equal(2, unreachable.ExitCode);
        Assert.Contains($"cannot reach the chain RPC at {rpc}", unreachable.Err);
        var badRpc = await fixture.RunAsync("claim", op, "--dev-account", "1", "--rpc", "ftp://nope");
        Assert.Equal(1, badRpc.ExitCode);
        Assert.Contains("'ftp://nope' is not an http(s) URL", badRpc.Err);

        // The claim pays once.
        var first = await fixture.RunAsync("claim", op, "--dev-account", "1");
        Assert.True(first.ExitCode == 0, first.Out + first.Err);
        Assert.Contains("claimed:", first.Out);
        Assert.Contains(proof.CumulativeAmountWei + " wei", first.Out);
        Assert.Matches("transaction: +0x[0-9a-f]{64}", first.Out);

        var again = await fixture.RunAsync("claim", op, "--dev-account", "1", "--json");
        Assert.True(again.ExitCode == 0, again.Out + again.Err);
        using (var doc = JsonDocument.Parse(again.Out))
        {
            Assert.False(doc.RootElement.GetProperty("claimed").GetBoolean());
            Assert.Equal($"nothing to claim (already claimed up to epoch {epoch})", doc.RootElement.GetProperty("message").GetString());
        }
    }

    [Fact]
    public async Task Demo_settles_its_epoch_on_chain_and_claims_for_the_dev_operator()
    {
        var outDir = Path.Combine(Path.GetTempPath(), $"depin-demo-{Guid.NewGuid():N}");
        try
        {
            var o = await fixture.RunAsync("demo", "--out", outDir, "--timeout", "120s", "--json");
            Assert.True(o.ExitCode == 0, o.Out + o.Err);
            Assert.Contains("confirmed: merkle root 0x", o.Err);
            Assert.Contains("claiming for operator", o.Err);
            using var doc = JsonDocument.Parse(o.Out);
            var settled = doc.RootElement.GetProperty("settlement");
            Assert.Equal("Confirmed", settled.GetProperty("epoch").GetProperty("state").GetString());
            var claim = settled.GetProperty("claim");
            Assert.True(claim.GetProperty("claimed").GetBoolean());
            Assert.Equal(fixture.Node.OperatorAddress, claim.GetProperty("account").GetString(), ignoreCase: true);
        }
        finally
        {
            if (Directory.Exists(outDir)) Directory.Delete(outDir, recursive: true);
        }
    }

    private sealed class Sync<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
