using System.Net;
using DePin.Settlement.Keys;
using DePin.Silo.Api;
using DePin.Silo.Api.Contracts;
using DePin.Tests.Infrastructure;

namespace DePin.Tests.Api;

/// <summary>RPC URL credentials (user info, path and query API keys) never leave the silo.</summary>
public sealed class SecretsTests
{
    [Theory]
    [InlineData("https://user:s3cret@mainnet.infura.io/v3/0123456789abcdef", "https://mainnet.infura.io")]
    [InlineData("https://eth-mainnet.g.alchemy.com/v2/AbCdEf?x=1", "https://eth-mainnet.g.alchemy.com")]
    [InlineData("http://127.0.0.1:8545", "http://127.0.0.1:8545")]
    [InlineData("http://[::1]:8545/", "http://[::1]:8545")]
    [InlineData("not a url", "(redacted)")]
    [InlineData(null, null)]
    public void Rpc_urls_keep_scheme_host_and_port_only(string? url, string? shown) => Assert.Equal(shown, RedactedUrl.Of(url));

    [Fact]
    public async Task Settlement_shows_no_rpc_credentials()
    {
        var dir = Directory.CreateTempSubdirectory("depin-settler-");
        try
        {
            var keystore = Path.Combine(dir.FullName, "settler.json");
            var password = Path.Combine(dir.FullName, "password");
            SettlerKeySource.WriteKeystore(DevChainKeys.Account0(), "pw", keystore, scryptN: 1024);
            await File.WriteAllTextAsync(password, "pw");
            await using var silo = await TestSilo.StartAsync(workers: false, new Dictionary<string, string?>
            {
                ["Settlement:Mode"] = "External",
                ["Settlement:RpcUrl"] = "https://operator:hunter2@rpc.example.com:8443/v3/SECRETPROJECTKEY?apikey=QUERYSECRET",
                ["Settlement:DistributorAddress"] = "0x5FbDB2315678afecb367f032d93F642f64180aa3",
                ["Settlement:ChainId"] = "31337",
                ["Settlement:KeystorePath"] = keystore,
                ["Settlement:KeystorePasswordFile"] = password,
            });
            var body = await silo.ClientHttp.GetStringAsync("/settlement");
            foreach (var secret in new[] { "operator", "hunter2", "SECRETPROJECTKEY", "QUERYSECRET", "/v3" }) Assert.DoesNotContain(secret, body);
            var info = await silo.ClientHttp.GetAsync<SettlementInfo>("/settlement");
            Assert.True(info.Enabled);
            Assert.Equal("https://rpc.example.com:8443", info.RpcUrl);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
