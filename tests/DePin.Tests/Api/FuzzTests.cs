using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using DePin.Abstractions.Jobs;
using DePin.NodeProtocol;
using DePin.Tests.Infrastructure;
using DePin.Tests.NodeGateway;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Xunit.Abstractions;

namespace DePin.Tests.Api;

/// <summary>
/// A deterministic fuzz of every operation the silo serves (read from its OpenAPI document, so a new endpoint is fuzzed
/// without touching this file) and of the node protocol: each hostile request is sent without credentials, with a client
/// key and with an admin key, and node calls also with a node session, another node's session and garbage tokens.
/// No answer may be a 5xx, every 4xx must be problem+json, and nothing the fuzzer sent may change state.
/// </summary>
public sealed class FuzzTests(ITestOutputHelper output)
{
    private const int Seed = 20261127;
    private const int Concurrency = 16;

    /// <summary>Who sends a request.</summary>
    private enum Caller { Anonymous, Client, Admin, Node, OtherNode, GarbageToken }

    private static readonly Caller[] ApiCallers = [Caller.Anonymous, Caller.Client, Caller.Admin];
    private static readonly Caller[] NodeCallers = [.. Enum.GetValues<Caller>()];

    private static readonly FuzzOperation[] NodeProtocol =
    [
        new("POST", "/node/v1/challenge", true), new("POST", "/node/v1/register", true), new("POST", "/node/v1/lease", true),
        new("POST", "/node/v1/report", true), new("POST", "/node/v1/heartbeat", true), new("GET", "/node/v1/nodes", false),
    ];

    /// <summary>Host endpoints outside the OpenAPI document.</summary>
    private static readonly FuzzOperation[] HostEndpoints =
        [new("GET", "/health", false), new("GET", "/metrics", false), new("GET", "/openapi/v1.json", false)];

    [Fact]
    public async Task Hostile_requests_get_4xx_problems_never_5xx_and_change_nothing()
    {
        await using var silo = await TestSilo.StartAsync(workers: false, new Dictionary<string, string?>
        {
            ["Api:SubmitsPerSecond"] = "0",
            ["Api:PublicRequestsPerSecond"] = "0",
            ["NodeGateway:LoginsPerMinute"] = "0",
            ["Api:MaxRequestBytes"] = "262144",
        });
        var (targets, tokens, addresses) = await SetUpTargetsAsync(silo);
        var operations = await ServedOperationsAsync(silo);
        var requests = FuzzCorpus.Build(operations, targets, Seed);
        var garbage = GarbageTokens(targets.NodeId);

        var before = await ApiStateSnapshot.TakeAsync(silo, addresses);
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Concurrency, AllowAutoRedirect = false })
        {
            BaseAddress = silo.BaseAddress,
            Timeout = TimeSpan.FromSeconds(60),
        };
        var sends = requests.SelectMany(r => (r.Operation.IsNodeProtocol ? NodeCallers : ApiCallers)
                .Where(c => !(c == Caller.Admin && r.IsOwnMethod && r.Operation.ReadsNoInput))
                .Select(c => (Request: r, Caller: c)))
            .Select((s, i) => (s.Request, s.Caller, Index: i)).ToList();

        var serverErrors = new ConcurrentBag<string>();
        var notProblems = new ConcurrentBag<string>();
        var acceptedWrites = new ConcurrentBag<string>();
        var broken = new ConcurrentBag<string>();
        int cutUploads = 0, kestrelRefusals = 0;
        var statuses = new ConcurrentDictionary<int, int>();
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(sends, new ParallelOptions { MaxDegreeOfParallelism = Concurrency }, async (send, ct) =>
        {
            var authorization = send.Caller switch
            {
                Caller.Anonymous => null,
                Caller.Client => "Bearer " + silo.ClientKey,
                Caller.Admin => "Bearer " + silo.AdminKey,
                Caller.Node => "Bearer " + tokens.Node,
                Caller.OtherNode => "Bearer " + tokens.OtherNode,
                _ => garbage[send.Index % garbage.Length],
            };
            var what = $"{send.Request.Method} {FuzzCorpus.Excerpt(send.Request.Path)} as {send.Caller} ({send.Request.Mutation})";
            HttpResponseMessage response;
            try
            {
                response = await SendAsync(http, send.Request, authorization, ct);
            }
            catch (HttpRequestException) when (send.Request.Mutation == FuzzCorpus.OversizedBody)
            {
                // Kestrel answers 413 (or the endpoint's status) before the body is read and closes the connection
                // rather than drain more than Api:MaxRequestBytes: the client may see its upload cut instead.
                Interlocked.Increment(ref cutUploads);
                return;
            }
            catch (HttpRequestException ex)
            {
                broken.Add($"{what}: {ex.InnerException?.Message ?? ex.Message}");
                return;
            }
            using var _ = response;
            var status = (int)response.StatusCode;
            statuses.AddOrUpdate(status, 1, (_, n) => n + 1);
            if (status >= 500)
                serverErrors.Add($"{status} {what}: {FuzzCorpus.Excerpt(await response.Content.ReadAsStringAsync(ct))}");
            else if (status == 400 && send.Request.Path.Contains("%00") && response.Content.Headers.ContentLength == 0)
                Interlocked.Increment(ref kestrelRefusals); // Kestrel refuses a NUL in the path before any middleware runs
            else if (status >= 400 && response.Content.Headers.ContentType?.MediaType != "application/problem+json")
                notProblems.Add($"{status} {response.Content.Headers.ContentType?.MediaType ?? "(no content type)"} {what}");
            else if (status < 300 && send.Request.Operation.Writes && send.Request.IsOwnMethod)
                acceptedWrites.Add($"{status} {what}");
        });
        clock.Stop();
        var after = await ApiStateSnapshot.TakeAsync(silo, addresses);

        output.WriteLine($"{sends.Count} requests over {operations.Count} operations in {clock.Elapsed.TotalSeconds:F1} s; statuses: "
            + string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}×{s.Value}"))
            + $"; {cutUploads} oversized uploads cut by the server, {kestrelRefusals} NUL paths refused by Kestrel");
        Assert.True(sends.Count >= 10_000, $"only {sends.Count} requests");
        var failures = Section("requests got no answer", broken) + Section("server errors", serverErrors)
            + Section("errors without problem+json", notProblems) + Section("valid writes the fuzzer should not have sent (fix the corpus)", acceptedWrites);
        Assert.True(failures.Length == 0, failures);
        Assert.Equal(before, after);
    }

    [Fact]
    public async Task Rate_limited_requests_still_get_429_problems()
    {
        await using var silo = await TestSilo.StartAsync(workers: false, new Dictionary<string, string?>
        {
            ["Api:PublicRequestsPerSecond"] = "1",
            ["Api:PublicBurst"] = "1",
            ["NodeGateway:LoginsPerMinute"] = "1",
        });
        using var anonymous = silo.CreateHttp(null);
        var answers = new List<HttpResponseMessage>();
        for (var i = 0; i < 4; i++)
        {
            answers.Add(await anonymous.GetAsync("/kernels"));
            answers.Add(await anonymous.PostAsJsonAsync("/node/v1/challenge", new { nodeAddress = "0x00" }));
        }

        var limited = answers.Where(a => a.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.Contains(limited, a => a.RequestMessage!.RequestUri!.AbsolutePath == "/kernels");
        Assert.Contains(limited, a => a.RequestMessage!.RequestUri!.AbsolutePath == "/node/v1/challenge");
        foreach (var answer in limited) await ApiProblem.AssertAsync(answer, HttpStatusCode.TooManyRequests);
    }

    /// <summary>A job of the client key, two logged-in nodes, and a registration whose nonce is spent (to replay).</summary>
    private static async Task<(FuzzTargets Targets, (string Node, string OtherNode) Tokens, string[] Addresses)> SetUpTargetsAsync(TestSilo silo)
    {
        using var submitted = await silo.ClientHttp.PostJobAsync(new { kernel = "montecarlo-pi", parameters = new { samples = 1000, units = 2 } });
        Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
        var job = await submitted.ReadAsync<JobView>();
        var keyId = (await silo.AdminHttp.GetAsync<JsonElement[]>("/keys"))[0].GetProperty("keyId").GetString()!;

        using var anonymous = silo.CreateHttp(null);
        var node = new GatewayNode(anonymous);
        var registration = node.Registration(await node.ChallengeAsync());
        using var registered = await node.RegisterAsync(registration);
        registered.EnsureSuccessStatusCode();
        var token = (await registered.Content.ReadFromJsonAsync<RegisterResponse>(GatewayNode.Json))!.Token;
        var other = await new GatewayNode(anonymous).LoginAsync();

        var forged = NodeSignatures.Sign(NodeSignatures.ReportMessage(node.NodeId, []), other.Key);
        var targets = new FuzzTargets(job.JobId, keyId, node.NodeId, other.NodeId, node.PayoutAddress,
            JsonSerializer.Serialize(registration, GatewayNode.Json), forged);
        return (targets, (token, other.Token!), [node.Address, node.PayoutAddress, other.Address, other.PayoutAddress]);
    }

    /// <summary>Every operation in the served OpenAPI document, plus the node protocol and the host's endpoints.</summary>
    private static async Task<IReadOnlyList<FuzzOperation>> ServedOperationsAsync(TestSilo silo)
    {
        using var doc = JsonDocument.Parse(await silo.CreateHttp(null).GetStringAsync("/openapi/v1.json"));
        var served = doc.RootElement.GetProperty("paths").EnumerateObject()
            .SelectMany(p => p.Value.EnumerateObject().Where(m => m.Name is "get" or "post" or "put" or "patch" or "delete")
                .Select(m => new FuzzOperation(m.Name.ToUpperInvariant(), p.Name.TrimEnd('/') is { Length: > 0 } t ? t : "/",
                    m.Value.TryGetProperty("requestBody", out _))))
            .ToList();
        Assert.Contains(served, o => o is { Method: "GET", Template: "/nodes/{nodeId}" });
        Assert.Contains(served, o => o is { Method: "POST", Template: "/keys", HasBody: true });
        return [.. served.Concat(NodeProtocol).Concat(HostEndpoints).DistinctBy(o => (o.Method, o.Template))];
    }

    /// <summary>Authorization values no scheme accepts: junk, an unsigned JWT, a JWT signed with another key, a huge one.</summary>
    private static string[] GarbageTokens(string nodeId)
    {
        var handler = new JsonWebTokenHandler();
        var claims = new ClaimsIdentity([new Claim("sub", "0x1111111111111111111111111111111111111111"), new Claim("nid", nodeId)]);
        var foreignKey = new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32));
        var foreign = handler.CreateToken(new SecurityTokenDescriptor
        {
            Subject = claims,
            Issuer = "depin",
            Audience = "depin-node",
            SigningCredentials = new SigningCredentials(foreignKey, SecurityAlgorithms.HmacSha256),
        });
        var expired = handler.CreateToken(new SecurityTokenDescriptor
        {
            Subject = claims,
            Issuer = "depin",
            Audience = "depin-node",
            NotBefore = DateTime.UtcNow.AddHours(-2),
            Expires = DateTime.UtcNow.AddHours(-1),
            IssuedAt = DateTime.UtcNow.AddHours(-2),
            SigningCredentials = new SigningCredentials(foreignKey, SecurityAlgorithms.HmacSha256),
        });
        var unsigned = Base64Url("{\"alg\":\"none\",\"typ\":\"JWT\"}") + "." + Base64Url($"{{\"sub\":\"x\",\"nid\":\"{nodeId}\",\"iss\":\"depin\",\"aud\":\"depin-node\"}}") + ".";
        return
        [
            "Bearer garbage", "Bearer ", "Bearer " + unsigned, "Bearer " + foreign, "Bearer " + expired, "Bearer dpk_nonsense",
            "Basic Zm9vOmJhcg==", "Bearer " + new string('A', 6000), "Bearer a.b.c", "Bearer %00", "bearer  " + foreign[..^4],
        ];
    }

    /// <summary>
    /// Sends again (up to twice, on a fresh connection) when the server closed a kept-alive connection under the
    /// request: Kestrel ends a connection after it refused a request outright (an oversized body, a NUL in the path),
    /// and the pool may hand it out before the close arrives. Such requests say Connection: close themselves.
    /// </summary>
    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, FuzzRequest request, string? authorization, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var message = ToMessage(request, authorization);
            message.Headers.ConnectionClose = attempt > 1 || request.Mutation == FuzzCorpus.OversizedBody || request.Path.Contains("%00");
            try
            {
                return await http.SendAsync(message, ct);
            }
            catch (HttpRequestException) when (attempt < 3)
            {
                // A closed kept-alive connection, not an answer: see above.
            }
        }
    }

    private static HttpRequestMessage ToMessage(FuzzRequest request, string? authorization)
    {
        var message = new HttpRequestMessage(new HttpMethod(request.Method), request.Path);
        if (authorization is not null) message.Headers.TryAddWithoutValidation("Authorization", authorization);
        if (request.Body is not null)
        {
            message.Content = new ByteArrayContent(request.Body);
            if (request.ContentType is not null) message.Content.Headers.TryAddWithoutValidation("Content-Type", request.ContentType);
        }
        foreach (var (name, value) in request.Headers)
        {
            if (!message.Headers.TryAddWithoutValidation(name, value)) message.Content?.Headers.TryAddWithoutValidation(name, value);
        }
        return message;
    }

    private static string Section(string title, IReadOnlyCollection<string> lines) =>
        lines.Count == 0 ? "" : $"{lines.Count} {title}:\n{string.Join('\n', lines.Order().Take(150))}\n";

    private static string Base64Url(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
