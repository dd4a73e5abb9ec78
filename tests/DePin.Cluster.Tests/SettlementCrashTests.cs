using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Numerics;
using System.Text.Json;
using DePin.Cluster.Tests.Infrastructure;
using DePin.Settlement;
using DePin.Settlement.DevChain;
using DePin.Settlement.Keys;
using Nethereum.Hex.HexConvertors.Extensions;

namespace DePin.Cluster.Tests;

/// <summary>
/// The silo settling an epoch is killed (kill -9) after the signed postRoot was persisted and broadcast but before it
/// was mined. A silo restarted on the same Redis resumes the persisted transaction: the epoch settles, exactly one
/// settler nonce is consumed (no second postRoot, no double payment), later epochs still settle, and the operator can
/// claim exactly its cumulative earnings. Real silo processes, a real redis-server and a real anvil; the settler key
/// comes from an encrypted keystore (Settlement:Mode=External).
/// </summary>
public sealed class SettlementCrashTests(ITestOutputHelper output)
{
    /// <summary>What happens to the broadcast transaction while the silo is dead.</summary>
    public enum WhileDown
    {
        /// <summary>It is mined while the silo is down.</summary>
        Mined,
        /// <summary>It stays in the pool while the silo is down and is mined after the restart.</summary>
        Pending,
        /// <summary>The node drops it while the silo is down: only the raw transaction persisted in Redis can bring it back.</summary>
        Dropped,
    }

    private const int Units = 20;
    private const long SamplesPerUnit = 2_000;
    private static readonly BigInteger WeiPerMicroCredit = 1_000_000_000_000;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(45);
    private static readonly string Operator = DevChainKeys.Account1Address.ToLowerInvariant();

    [Theory]
    [InlineData(WhileDown.Mined)]
    [InlineData(WhileDown.Pending)]
    [InlineData(WhileDown.Dropped)]
    public async Task Kill9_between_send_and_confirmation_settles_once_after_restart(WhileDown whileDown)
    {
        var watch = Stopwatch.StartNew();

        // --- chain: anvil, token + distributor deployed and funded by dev account #0 (also the settler) ---
        await using var anvil = await AnvilNode.StartAsync(new AnvilOptions());
        var settlerKey = DevChainKeys.Account0(anvil.ChainId);
        var contracts = new SettlementContracts(anvil.RpcUrl, settlerKey, anvil.ChainId);
        var deployment = await contracts.DeployAsync();
        var funding = BigInteger.Pow(10, 6 + 18);
        await contracts.MintAsync(deployment.TokenAddress, settlerKey.Address, funding);
        await contracts.FundDistributorAsync(deployment, funding);
        var chain = new EpochSettler(new SettlementOptions
        {
            RpcUrl = anvil.RpcUrl,
            DistributorAddress = deployment.DistributorAddress,
            TokenAddress = deployment.TokenAddress,
            ChainId = anvil.ChainId,
        }, settlerKey);

        // --- the settler key only in an encrypted keystore + password file ---
        var secrets = Directory.CreateTempSubdirectory("depin-keystore-").FullName;
        try
        {
            var keystore = Path.Combine(secrets, "settler.json");
            var passwordFile = Path.Combine(secrets, "password");
            var password = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
            SettlerKeySource.WriteKeystore(settlerKey, password, keystore, scryptN: 4096);
            await File.WriteAllTextAsync(passwordFile, password + "\n");

            var settings = new Dictionary<string, string>
            {
                ["Settlement:Mode"] = "External",
                ["Settlement:RpcUrl"] = anvil.RpcUrl,
                ["Settlement:DistributorAddress"] = deployment.DistributorAddress,
                ["Settlement:TokenAddress"] = deployment.TokenAddress,
                ["Settlement:ChainId"] = anvil.ChainId.ToString(CultureInfo.InvariantCulture),
                ["Settlement:KeystorePath"] = keystore,
                ["Settlement:KeystorePasswordFile"] = passwordFile,
                ["Settlement:PollInterval"] = "00:00:00.200",
                // No fee bump during the test: the restarted silo must reuse the very transaction it persisted.
                ["Settlement:ReplaceAfter"] = "00:10:00",
                ["Ledger:EpochPeriod"] = "00:00:00",
                // The restarted process keeps the silo's endpoint (as a redeployed pod or service would): Orleans
                // declares the older generation on the same endpoint dead at once instead of waiting for it to go stale.
                ["Silo:SiloPort"] = RedisServer.FreePort().ToString(CultureInfo.InvariantCulture),
                ["Silo:GatewayPort"] = RedisServer.FreePort().ToString(CultureInfo.InvariantCulture),
            };

            await using var cluster = await LocalCluster.StartRedisOnlyAsync(output);
            try
            {
                await RunAsync(cluster, anvil, chain, contracts, deployment, settings, whileDown, watch);
            }
            catch
            {
                cluster.DumpLogs();
                throw;
            }
        }
        finally
        {
            try { Directory.Delete(secrets, recursive: true); } catch (IOException) { }
        }
    }

    [Fact]
    public async Task Settlement_runs_on_the_silo_that_holds_the_key_while_gpu_silos_have_none()
    {
        await using var anvil = await AnvilNode.StartAsync(new AnvilOptions());
        var settlerKey = DevChainKeys.Account0(anvil.ChainId);
        var contracts = new SettlementContracts(anvil.RpcUrl, settlerKey, anvil.ChainId);
        var deployment = await contracts.DeployAsync();
        var funding = BigInteger.Pow(10, 6 + 18);
        await contracts.MintAsync(deployment.TokenAddress, settlerKey.Address, funding);
        await contracts.FundDistributorAsync(deployment, funding);
        var secrets = Directory.CreateTempSubdirectory("depin-keystore-").FullName;
        try
        {
            var keystore = Path.Combine(secrets, "settler.json");
            var passwordFile = Path.Combine(secrets, "password");
            var password = "pw-" + Guid.NewGuid().ToString("N");
            SettlerKeySource.WriteKeystore(settlerKey, password, keystore, scryptN: 4096);
            await File.WriteAllTextAsync(passwordFile, password + "\n");

            await using var cluster = await LocalCluster.StartRedisOnlyAsync(output);
            try
            {
                // The GPU silo starts first, without any settlement configuration: at that moment nothing can settle,
                // so the ledger may well be placed on it. It must still end up settling on the silo with the key.
                await cluster.AddSiloAsync("gpu", "gpu", new Dictionary<string, string> { ["Ledger:EpochPeriod"] = "00:00:00" }, Operator);
                await cluster.AddSiloAsync("api", "api", new Dictionary<string, string>
                {
                    ["Settlement:Mode"] = "External",
                    ["Settlement:RpcUrl"] = anvil.RpcUrl,
                    ["Settlement:DistributorAddress"] = deployment.DistributorAddress,
                    ["Settlement:TokenAddress"] = deployment.TokenAddress,
                    ["Settlement:ChainId"] = anvil.ChainId.ToString(CultureInfo.InvariantCulture),
                    ["Settlement:KeystorePath"] = keystore,
                    ["Settlement:KeystorePasswordFile"] = passwordFile,
                    ["Settlement:PollInterval"] = "00:00:00.200",
                    ["Ledger:EpochPeriod"] = "00:00:00",
                });

                var price = await RunJobAsync(cluster, seed: 301, expectedCumulative: null);
                using (var close = await cluster.Api.Http.PostAsync("/epochs/close", null))
                    Assert.True(close.IsSuccessStatusCode, await close.Content.ReadAsStringAsync());
                var epoch = await WaitEpochConfirmedAsync(cluster, 1);
                Assert.StartsWith("0x", epoch.GetProperty("transactionHash").GetString());
                var chain = new EpochSettler(new SettlementOptions
                {
                    RpcUrl = anvil.RpcUrl,
                    DistributorAddress = deployment.DistributorAddress,
                    ChainId = anvil.ChainId,
                }, settlerKey);
                Assert.Equal(1UL, await chain.GetOnChainEpochAsync());
                Assert.Equal(new BigInteger(price) * WeiPerMicroCredit, (await chain.GetStateAsync()).TotalPosted);
            }
            catch
            {
                cluster.DumpLogs();
                throw;
            }
        }
        finally
        {
            try { Directory.Delete(secrets, recursive: true); } catch (IOException) { }
        }
    }

    private async Task RunAsync(LocalCluster cluster, AnvilNode anvil, EpochSettler chain, SettlementContracts contracts,
        SettlementDeployment deployment, Dictionary<string, string> settings, WhileDown whileDown, Stopwatch watch)
    {
        var first = await cluster.AddSiloAsync("s0", "api,gpu", settings, Operator);
        var info = await first.GetJsonAsync("/settlement");
        Assert.True(info!.Value.GetProperty("enabled").GetBoolean(), $"settlement not enabled: {info}");
        Assert.Equal(chain.SettlerAddress, info.Value.GetProperty("settlerAddress").GetString()); // decrypted from the keystore
        output.WriteLine($"{watch.Elapsed.TotalSeconds:F1} s: silo s0 up, settler {chain.SettlerAddress} from the keystore");

        // --- epoch 1: a job, its credits, then close with automine off ---
        var price1 = await RunJobAsync(cluster, seed: 101, expectedCumulative: null);
        var nonceBefore = await NonceAsync(anvil, chain.SettlerAddress);

        await anvil.SetAutomineAsync(false);
        using (var close = await cluster.Api.Http.PostAsync("/epochs/close", null))
        {
            Assert.True(close.IsSuccessStatusCode, $"close failed: {(int)close.StatusCode} {await close.Content.ReadAsStringAsync()}");
            var closed = await close.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(1, closed.GetProperty("epoch").GetInt64());
        }

        // Sent = the signed raw transaction is persisted in Redis; wait until it is also in the node's pool.
        string? sentHash = null;
        await PollAsync(cluster, "epoch 1 Sent and its transaction in the pool", async () =>
        {
            var epoch = await cluster.Api.GetJsonAsync("/epochs/1");
            if (epoch?.GetProperty("state").GetString() != "Sent") return false;
            sentHash = epoch.Value.GetProperty("transactionHash").GetString();
            return sentHash is not null && await anvil.PendingTransactionCountAsync() >= 1 && await IsPendingAsync(anvil, sentHash);
        });
        Assert.Equal(1, await anvil.PendingTransactionCountAsync());
        Assert.Equal(0UL, await chain.GetOnChainEpochAsync());
        output.WriteLine($"{watch.Elapsed.TotalSeconds:F1} s: epoch 1 Sent, tx {sentHash} pending (automine off)");

        // --- crash ---
        var victim = cluster.Silos[0];
        victim.Kill();
        output.WriteLine($"{watch.Elapsed.TotalSeconds:F1} s: killed silo s0 (pid {victim.Pid})");
        switch (whileDown)
        {
            case WhileDown.Mined:
                await anvil.MineAsync();
                Assert.True(await IsMinedAsync(anvil, sentHash!), "the pending postRoot was not mined by evm_mine");
                Assert.Equal(1UL, await chain.GetOnChainEpochAsync());
                break;
            case WhileDown.Pending:
                Assert.True(await IsPendingAsync(anvil, sentHash!));
                break;
            case WhileDown.Dropped:
                await anvil.RpcAsync("anvil_dropTransaction", [sentHash!]);
                Assert.Equal(0, await anvil.PendingTransactionCountAsync());
                Assert.Equal(JsonValueKind.Null, (await anvil.RpcAsync("eth_getTransactionByHash", [sentHash!])).ValueKind);
                break;
        }

        // --- restart on the same Redis (same cluster/service id and silo endpoint, a new generation) ---
        await cluster.AddSiloAsync("s1", "api,gpu", settings, Operator);
        output.WriteLine($"{watch.Elapsed.TotalSeconds:F1} s: silo s1 up");

        switch (whileDown)
        {
            case WhileDown.Pending:
                // Reading the epoch reactivates the settlement grain from Redis; it must not sign anything new.
                await PollAsync(cluster, "epoch 1 readable after the restart", async () => (await cluster.Api.GetJsonAsync("/epochs/1"))?.GetProperty("state").GetString() == "Sent");
                Assert.True(await IsPendingAsync(anvil, sentHash!));
                Assert.Equal(1, await anvil.PendingTransactionCountAsync());
                break;
            case WhileDown.Dropped:
                // Only the restarted silo, from the raw transaction persisted in Redis, can put the same hash back in the pool.
                await PollAsync(cluster, "the persisted transaction rebroadcast", async () =>
                {
                    await cluster.Api.GetJsonAsync("/epochs/1"); // the read wakes the settlement grain
                    return await IsPendingAsync(anvil, sentHash!);
                });
                Assert.Equal(1, await anvil.PendingTransactionCountAsync());
                output.WriteLine($"{watch.Elapsed.TotalSeconds:F1} s: the restarted silo rebroadcast {sentHash}");
                break;
        }
        await anvil.SetAutomineAsync(true);
        if (whileDown != WhileDown.Mined) await anvil.MineAsync(); // automine mines new transactions, not the ones already waiting

        var epoch1 = await WaitEpochConfirmedAsync(cluster, 1);
        output.WriteLine($"{watch.Elapsed.TotalSeconds:F1} s: epoch 1 Confirmed: {epoch1.GetProperty("transactionHash").GetString()}");

        // --- no double payment: one postRoot, the very transaction persisted before the crash ---
        Assert.Equal(sentHash, epoch1.GetProperty("transactionHash").GetString(), ignoreCase: true);
        Assert.True(await IsMinedAsync(anvil, sentHash!), "the confirmed transaction has no successful receipt");
        Assert.Equal(1UL, await chain.GetOnChainEpochAsync());
        Assert.Equal(nonceBefore + 1, await NonceAsync(anvil, chain.SettlerAddress));
        var state1 = await chain.GetStateAsync();
        Assert.Equal(new BigInteger(price1) * WeiPerMicroCredit, state1.TotalPosted);
        Assert.Equal(epoch1.GetProperty("merkleRoot").GetString(), state1.CurrentRoot, ignoreCase: true);

        // --- the chain of epochs continues: epoch 2 ---
        var price2 = await RunJobAsync(cluster, seed: 102, expectedCumulative: price1);
        using (var close = await cluster.Api.Http.PostAsync("/epochs/close", null))
        {
            Assert.True(close.IsSuccessStatusCode, $"close failed: {(int)close.StatusCode} {await close.Content.ReadAsStringAsync()}");
            Assert.Equal(2, (await close.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("epoch").GetInt64());
        }
        var epoch2 = await WaitEpochConfirmedAsync(cluster, 2);
        Assert.Equal(2UL, await chain.GetOnChainEpochAsync());
        Assert.Equal(nonceBefore + 2, await NonceAsync(anvil, chain.SettlerAddress));
        Assert.Equal(1, (await cluster.Api.GetJsonAsync("/epochs/1"))!.Value.GetProperty("epoch").GetInt64());
        output.WriteLine($"{watch.Elapsed.TotalSeconds:F1} s: epoch 2 Confirmed: {epoch2.GetProperty("transactionHash").GetString()}");

        // --- the operator claims exactly its cumulative earnings ---
        var cumulative = new BigInteger(price1 + price2) * WeiPerMicroCredit;
        var proof = (await cluster.Api.GetJsonAsync($"/accounts/{Operator}/proof"))!.Value;
        Assert.Equal(2, proof.GetProperty("epoch").GetInt64());
        Assert.Equal(cumulative, BigInteger.Parse(proof.GetProperty("cumulativeAmountWei").GetString()!, CultureInfo.InvariantCulture));
        var claimer = new ClaimClient(anvil.RpcUrl, deployment.DistributorAddress, SettlerKey.FromPrivateKey(DevChainKeys.Account1PrivateKey), anvil.ChainId);
        var claim = await claimer.ClaimAsync(Operator, cumulative,
            proof.GetProperty("proof").EnumerateArray().Select(p => p.GetString()!.HexToByteArray()).ToList());
        Assert.Equal(cumulative, claim.Amount);
        Assert.Equal(cumulative, await contracts.BalanceOfAsync(deployment.TokenAddress, Operator));
        Assert.Equal(cumulative, await claimer.GetClaimedAsync(Operator));
        output.WriteLine($"{watch.Elapsed.TotalSeconds:F1} s: operator claimed {cumulative} wei (tx {claim.TxHash}); settler nonce {nonceBefore} -> {nonceBefore + 2}");
    }

    /// <summary>Runs a small montecarlo-pi job and waits until the operator's account holds its price on top of <paramref name="expectedCumulative"/>.</summary>
    private async Task<long> RunJobAsync(LocalCluster cluster, long seed, long? expectedCumulative)
    {
        var (jobId, price) = await cluster.SubmitMonteCarloAsync(Units, SamplesPerUnit, seed);
        await cluster.WaitJobAsync(jobId, j => j.GetProperty("status").GetString() == "Completed", "job completion", Timeout);
        var target = (expectedCumulative ?? 0) + price;
        long credited = 0;
        await PollAsync(cluster, $"operator credited {target} micro-credits", async () =>
        {
            credited = (await cluster.Api.GetJsonAsync($"/accounts/{Operator}"))?.GetProperty("cumulativeMicroCredits").GetInt64() ?? 0;
            Assert.True(credited <= target, $"operator credited {credited} > {target}: a unit was paid twice");
            return credited == target;
        });
        return price;
    }

    private async Task<JsonElement> WaitEpochConfirmedAsync(LocalCluster cluster, long number)
    {
        JsonElement epoch = default;
        await PollAsync(cluster, $"epoch {number} Confirmed", async () =>
        {
            if (await cluster.Api.GetJsonAsync($"/epochs/{number}") is not { } e) return false;
            epoch = e;
            return e.GetProperty("state").GetString() == "Confirmed";
        });
        return epoch;
    }

    /// <summary>Polls <paramref name="condition"/> (HTTP errors while the restarted silo takes over are retried) until it holds.</summary>
    private static async Task PollAsync(LocalCluster cluster, string what, Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + Timeout;
        Exception? lastError = null;
        var delay = 20;
        while (true)
        {
            try
            {
                if (await condition()) return;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                lastError = ex;
            }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"timed out waiting for {what}; last error: {lastError?.Message}; last epoch views: " +
                                           await TryGetAsync(cluster, "/epochs"));
            await Task.Delay(delay);
            delay = Math.Min(delay * 2, 200);
        }
    }

    private static async Task<string> TryGetAsync(LocalCluster cluster, string path)
    {
        try { return (await cluster.Api.GetJsonAsync(path))?.ToString() ?? "404"; }
        catch (Exception ex) { return ex.Message; }
    }

    private static async Task<BigInteger> NonceAsync(AnvilNode anvil, string address) =>
        new Nethereum.Hex.HexTypes.HexBigInteger((await anvil.RpcAsync("eth_getTransactionCount", [address, "latest"])).GetString()!).Value;

    private static async Task<bool> IsPendingAsync(AnvilNode anvil, string hash)
    {
        var tx = await anvil.RpcAsync("eth_getTransactionByHash", [hash]);
        return tx.ValueKind == JsonValueKind.Object && tx.GetProperty("blockNumber").ValueKind == JsonValueKind.Null;
    }

    private static async Task<bool> IsMinedAsync(AnvilNode anvil, string hash)
    {
        var receipt = await anvil.RpcAsync("eth_getTransactionReceipt", [hash]);
        return receipt.ValueKind == JsonValueKind.Object && receipt.GetProperty("status").GetString() == "0x1";
    }
}
