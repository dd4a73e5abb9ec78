using System.Net;
using System.Net.Sockets;
using System.Numerics;
using System.Text.Json;
using DePin.Client;

namespace DePin.Cli.Tests;

public class SettlementTests
{
    private const string Operator = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";
    private const string Distributor = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
    private const string Token = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512";
    private static readonly string Root = "0x" + new string('a', 64);
    private static readonly string Tx = "0x" + new string('b', 64);

    private static Task<Outcome> Run(StubHandler? handler, IReadOnlyDictionary<string, string>? env, params string[] args) =>
        CliRun.RunAsync(handler, name => env is not null && env.TryGetValue(name, out var v) ? v : null, args);

    private static Task<Outcome> Run(StubHandler? handler, params string[] args) => Run(handler, null, args);

    private static DePinClient Client(StubHandler handler) => new(new HttpClient(handler) { BaseAddress = new Uri("http://api.test/") });

    private static string SettlementJson(bool enabled, long chainId = 31337) => enabled
        ? $$"""{"mode":"DevChain","enabled":true,"rpcUrl":"http://127.0.0.1:8545","chainId":{{chainId}},"distributorAddress":"{{Distributor}}","tokenAddress":"{{Token}}","settlerAddress":"0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266","weiPerMicroCredit":"1000000000000"}"""
        : """{"mode":"Off","enabled":false,"rpcUrl":null,"chainId":null,"distributorAddress":null,"tokenAddress":null,"settlerAddress":null,"weiPerMicroCredit":"1000000000000"}""";

    private static string ProofJson(long chainId = 31337, string rpcUrl = "http://127.0.0.1:8545") =>
        $$"""{"address":"{{Operator}}","epoch":3,"cumulativeMicroCredits":12000,"cumulativeAmountWei":"12000000000000000","proof":["0x{{new string('1', 64)}}","0x{{new string('2', 64)}}"],"merkleRoot":"{{Root}}","distributorAddress":"{{Distributor}}","tokenAddress":"{{Token}}","chainId":{{chainId}},"rpcUrl":"{{rpcUrl}}","transactionHash":"{{Tx}}"}""";

    private const string StatementJson = $$"""
        {"account":{"address":"{{Operator}}","cumulativeMicroCredits":15000,"unitsCredited":15,"settledCumulativeMicroCredits":12000,"lastEpoch":3,"lastCreditAt":"2025-01-01T00:00:00Z","nodes":["n1"]},
         "epochs":[
           {"epoch":3,"closedAt":"2025-01-02T00:00:00Z","cumulativeMicroCredits":12000,"deltaMicroCredits":2000,"state":"Sent","transactionHash":"0xcccc"},
           {"epoch":1,"closedAt":"2025-01-01T00:00:00Z","cumulativeMicroCredits":10000,"deltaMicroCredits":10000,"state":"Confirmed","transactionHash":"0xdddd"}]}
        """;

    private static string EpochJson(long epoch, string state, string? tx = null) =>
        $$"""{"epoch":{{epoch}},"closedAt":"2025-01-01T00:00:00Z","entries":[{"address":"{{Operator}}","cumulativeMicroCredits":12000,"deltaMicroCredits":12000}],"totalCumulativeMicroCredits":12000,"epochMicroCredits":12000,"state":"{{state}}","merkleRoot":"{{Root}}","transactionHash":{{(tx is null ? "null" : "\"" + tx + "\"")}}}""";

    // ------------------------------------------------------------------ client

    [Fact]
    public async Task Client_GetSettlement_Parses()
    {
        var stub = new StubHandler(_ => StubHandler.Json(SettlementJson(true)));
        using var client = Client(stub);
        var s = await client.GetSettlementAsync();
        Assert.Equal("DevChain", s.Mode);
        Assert.True(s.Enabled);
        Assert.Equal(31337, s.ChainId);
        Assert.True(s.IsLocalDevChain);
        Assert.Equal(Distributor, s.DistributorAddress);
        Assert.Equal("1000000000000", s.WeiPerMicroCredit);
        Assert.Equal("/settlement", Assert.Single(stub.Requests).PathAndQuery);
    }

    [Fact]
    public async Task Client_GetProof_ParsesAmountAndProofBytes()
    {
        var stub = new StubHandler(_ => StubHandler.Json(ProofJson()));
        using var client = Client(stub);
        var p = await client.GetProofAsync(Operator);
        Assert.Equal(3, p.Epoch);
        Assert.Equal(BigInteger.Parse("12000000000000000"), p.CumulativeAmount);
        var bytes = p.ProofBytes();
        Assert.Equal(2, bytes.Count);
        Assert.All(bytes, b => Assert.Equal(32, b.Length));
        Assert.Equal(0x11, bytes[0][0]);
        Assert.Equal(Root, p.MerkleRoot);
        Assert.Equal(Tx, p.TransactionHash);
        Assert.Equal($"/accounts/{Operator}/proof", Assert.Single(stub.Requests).PathAndQuery);

        var bad = p with { Proof = ["0x1234"] };
        Assert.Throws<FormatException>(() => bad.ProofBytes());
        Assert.Throws<FormatException>(() => (p with { CumulativeAmountWei = "-5" }).CumulativeAmount);
    }

    [Fact]
    public async Task Client_GetProof_NothingToClaim_IsApiException()
    {
        var stub = new StubHandler(_ => StubHandler.Problem(HttpStatusCode.NotFound, "Nothing to claim", $"{Operator} is in no epoch settled on chain yet."));
        using var client = Client(stub);
        var ex = await Assert.ThrowsAsync<DePinApiException>(() => client.GetProofAsync(Operator));
        Assert.Equal(HttpStatusCode.NotFound, ex.StatusCode);
        Assert.Equal("Nothing to claim", ex.Title);
    }

    [Fact]
    public async Task Client_GetStatement_ParsesEpochsNewestFirst()
    {
        var stub = new StubHandler(_ => StubHandler.Json(StatementJson));
        using var client = Client(stub);
        var s = await client.GetStatementAsync(Operator);
        Assert.Equal(15000, s.Account.CumulativeMicroCredits);
        Assert.Equal(2, s.Epochs.Count);
        Assert.Equal(3, s.Epochs[0].Epoch);
        Assert.Equal(SettlementState.Sent, s.Epochs[0].State);
        Assert.Equal(2000, s.Epochs[0].DeltaMicroCredits);
        Assert.Equal(SettlementState.Confirmed, s.Epochs[1].State);
        Assert.Equal("0xdddd", s.Epochs[1].TransactionHash);
        Assert.Equal($"/accounts/{Operator}/statement", Assert.Single(stub.Requests).PathAndQuery);
    }

    [Fact]
    public async Task Client_WaitForEpochSettled_PollsUntilConfirmed()
    {
        int polls = 0;
        var stub = new StubHandler(_ => StubHandler.Json(++polls switch
        {
            1 => EpochJson(4, "NotSent"),
            2 => EpochJson(4, "Sent", Tx),
            3 => EpochJson(4, "Sent", Tx),
            _ => EpochJson(4, "Confirmed", Tx),
        }));
        using var client = Client(stub);
        var seen = new List<SettlementState>();
        var e = await client.WaitForEpochSettledAsync(4, TimeSpan.FromSeconds(10), new SyncProgress<EpochInfo>(x => seen.Add(x.State)), TimeSpan.FromMilliseconds(1));
        Assert.Equal(SettlementState.Confirmed, e.State);
        Assert.Equal(Tx, e.TransactionHash);
        Assert.Equal([SettlementState.NotSent, SettlementState.Sent, SettlementState.Confirmed], seen);
        Assert.Equal(4, polls);
        Assert.All(stub.Requests, r => Assert.Equal("/epochs/4", r.PathAndQuery));
    }

    [Fact]
    public async Task Client_WaitForEpochSettled_TimesOut()
    {
        var stub = new StubHandler(_ => StubHandler.Json(EpochJson(4, "NotSent")));
        using var client = Client(stub);
        var ex = await Assert.ThrowsAsync<TimeoutException>(() => client.WaitForEpochSettledAsync(4, TimeSpan.FromMilliseconds(30), pollInterval: TimeSpan.FromMilliseconds(5)));
        Assert.Contains("NotSent", ex.Message);
    }

    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }

    // ------------------------------------------------------------------ settlement / statement

    [Fact]
    public async Task Settlement_Enabled_TextAndJson()
    {
        var stub = new StubHandler(_ => StubHandler.Json(SettlementJson(true)));
        var text = await Run(stub, "settlement");
        Assert.Equal(0, text.ExitCode);
        Assert.Contains("DevChain", text.Out);
        Assert.Contains("31337 (local anvil dev chain)", text.Out);
        Assert.Contains(Distributor, text.Out);

        var json = await Run(stub, "settlement", "--json");
        Assert.Equal(0, json.ExitCode);
        using var doc = JsonDocument.Parse(json.Out);
        Assert.True(doc.RootElement.GetProperty("enabled").GetBoolean());
        Assert.Equal(31337, doc.RootElement.GetProperty("chainId").GetInt64());
    }

    [Fact]
    public async Task Settlement_Off_ExplainsHowToEnable()
    {
        var o = await Run(new StubHandler(_ => StubHandler.Json(SettlementJson(false))), "settlement");
        Assert.Equal(0, o.ExitCode);
        Assert.Contains("Off", o.Out);
        Assert.Contains("NotSent", o.Out);
        Assert.Contains("Settlement:Mode=DevChain", o.Out);
    }

    [Fact]
    public async Task Statement_PrintsTotalsAndEpochTable()
    {
        var o = await Run(new StubHandler(_ => StubHandler.Json(StatementJson)), "statement", Operator);
        Assert.Equal(0, o.ExitCode);
        Assert.Contains("0.015000 credits", o.Out); // earned
        Assert.Contains("confirmed on chain:", o.Out);
        Assert.Contains("EPOCH", o.Out);
        Assert.Contains("TRANSACTION", o.Out);
        var lines = o.Out.Split('\n');
        var epoch3 = Assert.Single(lines, l => l.TrimStart().StartsWith("3  ", StringComparison.Ordinal));
        Assert.Contains("0.002000 credits", epoch3);
        Assert.Contains("0.012000 credits", epoch3);
        Assert.Contains("Sent", epoch3);
        Assert.Contains("0xcccc", epoch3);
        Assert.True(o.Out.IndexOf("0xcccc", StringComparison.Ordinal) < o.Out.IndexOf("0xdddd", StringComparison.Ordinal), "newest first");
        var confirmedLine = Assert.Single(lines, l => l.StartsWith("confirmed on chain:", StringComparison.Ordinal));
        Assert.Contains("0.010000 credits", confirmedLine);
    }

    [Fact]
    public async Task Statement_UnknownAccount_Exit1()
    {
        var o = await Run(new StubHandler(_ => StubHandler.Problem(HttpStatusCode.NotFound, "Unknown account", $"No earnings have been credited to {Operator}.")),
            "statement", Operator);
        Assert.Equal(1, o.ExitCode);
        Assert.Equal($"error: Unknown account: No earnings have been credited to {Operator}.", o.Err.Trim());
    }

    // ------------------------------------------------------------------ claim

    [Fact]
    public async Task Claim_DevAccountOnOtherChain_Refused_WithoutTransaction()
    {
        var stub = new StubHandler(_ => StubHandler.Json(ProofJson(chainId: 1)));
        var o = await Run(stub, "claim", Operator, "--dev-account", "1");
        Assert.Equal(1, o.ExitCode);
        Assert.Contains("--dev-account 1", o.Err);
        Assert.Contains("only on the local dev chain (chain id 31337)", o.Err);
        Assert.Contains("chain 1", o.Err);
        Assert.Equal($"/accounts/{Operator}/proof", Assert.Single(stub.Requests).PathAndQuery);
        Assert.Equal("", o.Out);
    }

    [Fact]
    public async Task Claim_MalformedAddress_PrintsApiProblem()
    {
        var stub = new StubHandler(_ => StubHandler.Problem(HttpStatusCode.BadRequest, "Malformed address", "'0xnope' is not an EVM address (0x followed by 40 hex digits)."));
        var o = await Run(stub, "claim", "0xnope", "--dev-account", "1");
        Assert.Equal(1, o.ExitCode);
        Assert.Equal("error: Malformed address: '0xnope' is not an EVM address (0x followed by 40 hex digits).", o.Err.Trim());
        Assert.Equal("/accounts/0xnope/proof", Assert.Single(stub.Requests).PathAndQuery);
    }

    [Fact]
    public async Task Claim_SettlementOff_PrintsApiProblem()
    {
        var stub = new StubHandler(_ => StubHandler.Problem(HttpStatusCode.Conflict, "Settlement off", "Epochs are not settled on chain here (Settlement:Mode is Off), so there is nothing to claim."));
        var o = await Run(stub, "claim", Operator, "--dev-account", "1");
        Assert.Equal(1, o.ExitCode);
        Assert.StartsWith("error: Settlement off:", o.Err);
    }

    [Fact]
    public async Task Claim_NeedsExactlyOneKeySource()
    {
        var noRequest = new StubHandler(_ => throw new InvalidOperationException("no request expected"));
        var none = await Run(noRequest, "claim", Operator);
        Assert.NotEqual(0, none.ExitCode);
        Assert.Contains("A signing key is required", none.Err);

        var two = await Run(noRequest, "claim", Operator, "--dev-account", "1", "--private-key-env", "K");
        Assert.NotEqual(0, two.ExitCode);
        Assert.Contains("only one of", two.Err);

        var keystoreNoPassword = await Run(noRequest, "claim", Operator, "--keystore", "k.json");
        Assert.NotEqual(0, keystoreNoPassword.ExitCode);
        Assert.Contains("--keystore needs exactly one of", keystoreNoPassword.Err);

        var strayPassword = await Run(noRequest, "claim", Operator, "--dev-account", "1", "--password-env", "P");
        Assert.NotEqual(0, strayPassword.ExitCode);
        Assert.Contains("only apply with --keystore", strayPassword.Err);

        var badIndex = await Run(noRequest, "claim", Operator, "--dev-account", "7");
        Assert.NotEqual(0, badIndex.ExitCode);
        Assert.Contains("--dev-account must be 0, 1 or 2", badIndex.Err);
        Assert.Empty(noRequest.Requests);
    }

    [Fact]
    public async Task Claim_PrivateKeyEnv_UnsetOrMalformed_Exit1_WithoutEchoingTheValue()
    {
        var stub = new StubHandler(_ => StubHandler.Json(ProofJson()));
        var unset = await Run(stub, "claim", Operator, "--private-key-env", "DEPIN_TEST_KEY");
        Assert.Equal(1, unset.ExitCode);
        Assert.Contains("'DEPIN_TEST_KEY'", unset.Err);
        Assert.Contains("not set", unset.Err);

        var malformed = await Run(stub, new Dictionary<string, string> { ["DEPIN_TEST_KEY"] = "0xsecretish" }, "claim", Operator, "--private-key-env", "DEPIN_TEST_KEY");
        Assert.Equal(1, malformed.ExitCode);
        Assert.Contains("does not hold a private key", malformed.Err);
        Assert.DoesNotContain("secretish", malformed.Err);
    }

    [Fact]
    public async Task Claim_KeystoreMissing_Exit1()
    {
        var stub = new StubHandler(_ => StubHandler.Json(ProofJson()));
        var missing = Path.Combine(Path.GetTempPath(), $"depin-missing-{Guid.NewGuid():N}.json");
        var o = await Run(stub, new Dictionary<string, string>(), "claim", Operator, "--keystore", missing, "--password-file", missing + ".pw");
        Assert.Equal(1, o.ExitCode);
        Assert.Contains("not found", o.Err);
        Assert.DoesNotContain("   at ", o.Err);
    }

    [Fact]
    public async Task Claim_RpcUnreachable_Exit2_NamesTheRpc()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var rpc = $"http://127.0.0.1:{port}";

        var stub = new StubHandler(_ => StubHandler.Json(ProofJson(rpcUrl: rpc)));
        var o = await Run(stub, "claim", Operator, "--dev-account", "1");
        Assert.Equal(2, o.ExitCode);
        Assert.Contains($"cannot reach the chain RPC at {rpc}", o.Err);
        Assert.DoesNotContain("   at ", o.Err);

        var overridden = await Run(stub, "claim", Operator, "--dev-account", "1", "--rpc", "ftp://nope");
        Assert.Equal(1, overridden.ExitCode);
        Assert.Contains("'ftp://nope' is not an http(s) URL", overridden.Err);
    }
}
