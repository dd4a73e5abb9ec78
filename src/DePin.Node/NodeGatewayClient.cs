using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using DePin.NodeProtocol;

namespace DePin.Node;

/// <summary>
/// HTTP client of an API silo's node gateway (<c>/node/v1</c>). Logs in by challenge–response and keeps the session
/// token fresh: it logs in again shortly before the token expires, or once after a 401.
/// </summary>
public sealed class NodeGatewayClient : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly TimeSpan RenewBefore = TimeSpan.FromMinutes(2);
    private readonly HttpClient _http;
    private readonly NodeIdentity _identity;
    private readonly IReadOnlyList<DeviceDescription> _devices;
    private readonly SemaphoreSlim _login = new(1, 1);
    private RegisterResponse? _session;

    /// <summary>A client for the API at <paramref name="api"/>; HTTP/2 where the server offers it (TLS), else HTTP/1.1.</summary>
    public NodeGatewayClient(Uri api, NodeIdentity identity, IReadOnlyList<DeviceDescription> devices, HttpMessageHandler? handler = null)
    {
        _identity = identity;
        _devices = devices;
        _http = new HttpClient(handler ?? new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2) }, disposeHandler: handler is null)
        {
            BaseAddress = new Uri(api.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/node/v1/"),
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
            Timeout = TimeSpan.FromMinutes(2),
        };
    }

    /// <summary>The node ids of the current session (after <see cref="LoginAsync"/>).</summary>
    public IReadOnlyList<string> NodeIds => _session?.NodeIds ?? [];

    /// <summary>Logs in (challenge, signature, payout binding) and keeps the session token.</summary>
    public async Task<RegisterResponse> LoginAsync(CancellationToken cancellationToken)
    {
        var challenge = await PostAsync<ChallengeResponse>("challenge", new ChallengeRequest(_identity.Address), authorized: false, cancellationToken);
        var expected = NodeSignatures.LoginMessage(_identity.Address, challenge.Nonce, challenge.ExpiresAt);
        // Sign only the text we would have built ourselves: a server cannot make the node sign something else.
        if (challenge.Message != expected) throw new NodeGatewayException(HttpStatusCode.BadGateway, "The gateway's login message is not the expected one; refusing to sign it.");
        var register = new RegisterRequest(_identity.Address, challenge.Nonce, NodeSignatures.Sign(expected, _identity.Key),
            _identity.Info.PayoutAddress, _identity.Info.PayoutSignature, _devices);
        _session = await PostAsync<RegisterResponse>("register", register, authorized: false, cancellationToken);
        return _session;
    }

    /// <summary><c>POST lease</c>: up to <paramref name="max"/> units, waiting up to <paramref name="wait"/>.</summary>
    public Task<LeaseWorkResponse> LeaseAsync(string nodeId, int max, TimeSpan wait, CancellationToken cancellationToken) =>
        SendAsync<LeaseWorkResponse>("lease", new LeaseWorkRequest(nodeId, max, (int)wait.TotalMilliseconds), cancellationToken);

    /// <summary><c>POST report</c>: results signed by the node key.</summary>
    public Task<ReportWorkResponse> ReportAsync(string nodeId, IReadOnlyList<ReportedUnit> results, CancellationToken cancellationToken) =>
        SendAsync<ReportWorkResponse>("report", new ReportWorkRequest(nodeId, results,
            NodeSignatures.Sign(NodeSignatures.ReportMessage(nodeId, results), _identity.Key)), cancellationToken);

    /// <summary><c>POST heartbeat</c>: liveness and lease renewal.</summary>
    public Task<HeartbeatResponse> HeartbeatAsync(string nodeId, IReadOnlyList<HeldLease> leases, CancellationToken cancellationToken) =>
        SendAsync<HeartbeatResponse>("heartbeat", new HeartbeatRequest(nodeId, leases), cancellationToken);

    /// <summary><c>GET nodes</c>: this agent's devices as the network sees them (raw JSON).</summary>
    public async Task<JsonElement> StatusAsync(CancellationToken cancellationToken)
    {
        await EnsureSessionAsync(cancellationToken);
        using var request = new HttpRequestMessage(HttpMethod.Get, "nodes");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _session!.Token);
        using var response = await _http.SendAsync(request, cancellationToken);
        return await ReadAsync<JsonElement>(response, cancellationToken);
    }

    private async Task<T> SendAsync<T>(string path, object body, CancellationToken cancellationToken)
    {
        await EnsureSessionAsync(cancellationToken);
        try
        {
            return await PostAsync<T>(path, body, authorized: true, cancellationToken);
        }
        catch (NodeGatewayException ex) when (ex.Status == HttpStatusCode.Unauthorized)
        {
            // The token expired early or the silo that issued it is gone (per-process key): log in again once.
            await LoginAsync(cancellationToken);
            return await PostAsync<T>(path, body, authorized: true, cancellationToken);
        }
    }

    private async Task EnsureSessionAsync(CancellationToken cancellationToken)
    {
        if (_session is { } s && s.ExpiresAt - DateTimeOffset.UtcNow > RenewBefore) return;
        await _login.WaitAsync(cancellationToken);
        try
        {
            if (_session is not { } current || current.ExpiresAt - DateTimeOffset.UtcNow <= RenewBefore) await LoginAsync(cancellationToken);
        }
        finally
        {
            _login.Release();
        }
    }

    private async Task<T> PostAsync<T>(string path, object body, bool authorized, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body, body.GetType(), options: Json) };
        if (authorized) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _session!.Token);
        using var response = await _http.SendAsync(request, cancellationToken);
        return await ReadAsync<T>(response, cancellationToken);
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            string? detail = null;
            try
            {
                using var doc = JsonDocument.Parse(text);
                if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("detail", out var d)) detail = d.GetString();
            }
            catch (JsonException)
            {
            }
            throw new NodeGatewayException(response.StatusCode, detail ?? $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
        }
        return await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken) ?? throw new NodeGatewayException(response.StatusCode, "Empty response.");
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _http.Dispose();
        _login.Dispose();
    }
}

/// <summary>The gateway refused a call (its problem detail in the message).</summary>
public sealed class NodeGatewayException(HttpStatusCode status, string message) : Exception(message)
{
    /// <summary>The HTTP status.</summary>
    public HttpStatusCode Status { get; } = status;
}
