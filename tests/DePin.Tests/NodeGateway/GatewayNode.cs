using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using DePin.NodeProtocol;
using Nethereum.Signer;

namespace DePin.Tests.NodeGateway;

/// <summary>
/// A community node speaking the node protocol by hand (raw HTTP + EIP-191 signatures), so tests can also send what
/// an honest agent never would.
/// </summary>
public sealed class GatewayNode(HttpClient http)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    public static readonly DeviceDescription Cpu = new("cpu0", new DeviceCapabilities("test cpu", "VectorCpu", 1L << 34, 2, 1, 5, 1));

    public EthECKey Key { get; } = EthECKey.GenerateKey();
    public EthECKey PayoutKey { get; } = EthECKey.GenerateKey();
    public string Address => Key.GetPublicAddress().ToLowerInvariant();
    public string PayoutAddress => PayoutKey.GetPublicAddress().ToLowerInvariant();
    public string NodeId => $"{Address}/cpu0";
    public string? Token { get; private set; }

    public async Task<ChallengeResponse> ChallengeAsync()
    {
        using var response = await http.PostAsJsonAsync("/node/v1/challenge", new ChallengeRequest(Address), Json);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<ChallengeResponse>(Json))!;
    }

    /// <summary>A correct registration body for <paramref name="challenge"/>.</summary>
    public RegisterRequest Registration(ChallengeResponse challenge) => new(Address, challenge.Nonce,
        NodeSignatures.Sign(NodeSignatures.LoginMessage(Address, challenge.Nonce, challenge.ExpiresAt), Key),
        PayoutAddress, NodeSignatures.Sign(NodeSignatures.PayoutBindingMessage(Address, PayoutAddress), PayoutKey), [Cpu]);

    public Task<HttpResponseMessage> RegisterAsync(RegisterRequest request) => http.PostAsJsonAsync("/node/v1/register", request, Json);

    /// <summary>Logs in honestly and keeps the token.</summary>
    public async Task<GatewayNode> LoginAsync()
    {
        using var response = await RegisterAsync(Registration(await ChallengeAsync()));
        response.EnsureSuccessStatusCode();
        Token = (await response.Content.ReadFromJsonAsync<RegisterResponse>(Json))!.Token;
        return this;
    }

    public Task<HttpResponseMessage> PostAsync(string path, object body, string? token = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/node/v1/" + path) { Content = JsonContent.Create(body, body.GetType(), options: Json) };
        if ((token ?? Token) is { } t) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", t);
        return http.SendAsync(request);
    }

    public async Task<IReadOnlyList<LeasedUnit>> LeaseAsync(int max = 16, int waitMs = 0)
    {
        using var response = await PostAsync("lease", new LeaseWorkRequest(NodeId, max, waitMs));
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<LeaseWorkResponse>(Json))!.Leases;
    }

    /// <summary>Reports <paramref name="results"/> signed by this node's key (or <paramref name="signer"/>).</summary>
    public Task<HttpResponseMessage> ReportAsync(IReadOnlyList<ReportedUnit> results, EthECKey? signer = null) =>
        PostAsync("report", new ReportWorkRequest(NodeId, results, NodeSignatures.Sign(NodeSignatures.ReportMessage(NodeId, results), signer ?? Key)));

    public async Task<ReportWorkResponse> ReportOkAsync(IReadOnlyList<ReportedUnit> results)
    {
        using var response = await ReportAsync(results);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<ReportWorkResponse>(Json))!;
    }
}
