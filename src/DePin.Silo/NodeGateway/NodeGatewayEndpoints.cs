using System.Security.Claims;
using System.Threading.RateLimiting;
using DePin.Abstractions;
using DePin.Abstractions.Nodes;
using DePin.Abstractions.Scheduling;
using DePin.Grains;
using DePin.NodeProtocol;
using DePin.Silo.Leasing;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace DePin.Silo.NodeGateway;

/// <summary>
/// The community node protocol on API silos (<c>/node/v1</c>, HTTP+JSON): login by challenge–response, then leasing
/// (long poll), signed reports and heartbeats with a short-lived session token. A node's word counts only for leases it
/// holds; the queue shards check that (see docs/security.md).
/// </summary>
public static class NodeGatewayEndpoints
{
    private const string LoginPolicy = "node-login";
    private const string SessionPolicy = "node-session";

    /// <summary>Registers the gateway's options, tokens, JwtBearer scheme, policy and login rate limit.</summary>
    public static IServiceCollection AddNodeGateway(this IServiceCollection services)
    {
        services.AddOptions<NodeGatewayOptions>().BindConfiguration(NodeGatewayOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<NodeTokens>();
        services.AddAuthentication().AddJwtBearer(NodeTokens.Scheme);
        services.AddOptions<JwtBearerOptions>(NodeTokens.Scheme).Configure<NodeTokens>((o, tokens) => tokens.Configure(o));
        services.AddAuthorizationBuilder().AddPolicy(NodeTokens.Policy, p => p.AddAuthenticationSchemes(NodeTokens.Scheme).RequireAuthenticatedUser());
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<NodeGatewayOptions>>((o, gateway) =>
        {
            var perMinute = gateway.Value.LoginsPerMinute;
            o.AddPolicy(LoginPolicy, http => perMinute <= 0
                ? RateLimitPartition.GetNoLimiter("all")
                : RateLimitPartition.GetFixedWindowLimiter(http.Connection.RemoteIpAddress?.ToString() ?? "unknown", _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = perMinute,
                    Window = TimeSpan.FromMinutes(1),
                    QueueLimit = 0,
                }));
            var perSecond = gateway.Value.RequestsPerSecond;
            // Per agent (the token's subject, authenticated before the limiter runs); an unauthenticated call is
            // refused by authorization anyway and shares one small bucket.
            o.AddPolicy(SessionPolicy, http => perSecond <= 0
                ? RateLimitPartition.GetNoLimiter("all")
                : RateLimitPartition.GetTokenBucketLimiter(http.User.Identity?.IsAuthenticated == true ? "node:" + http.User.Identity.Name : "anonymous",
                    _ => new TokenBucketRateLimiterOptions
                    {
                        TokenLimit = 2 * perSecond,
                        TokensPerPeriod = perSecond,
                        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                        QueueLimit = 0,
                        AutoReplenishment = true,
                    }));
        });
        return services;
    }

    /// <summary>Maps <c>/node/v1</c>.</summary>
    public static void MapNodeGateway(this IEndpointRouteBuilder app)
    {
        var login = app.MapGroup("/node/v1").WithTags("Node protocol").AllowAnonymous().RequireRateLimiting(LoginPolicy);
        login.MapPost("/challenge", ChallengeAsync).WithName("nodeChallenge").WithSummary("Get a single-use login nonce for a node key")
            .Produces<ChallengeResponse>().ProducesProblem(400).ProducesProblem(429);
        login.MapPost("/register", RegisterAsync).WithName("nodeRegister")
            .WithSummary("Log a node in: the challenge signed by the node key, the payout binding signed by the payout key")
            .Produces<RegisterResponse>().ProducesProblem(400).ProducesProblem(401).ProducesProblem(403).ProducesProblem(429);

        var node = app.MapGroup("/node/v1").WithTags("Node protocol").RequireAuthorization(NodeTokens.Policy).RequireRateLimiting(SessionPolicy);
        node.MapPost("/lease", LeaseAsync).WithName("nodeLease").WithSummary("Lease units for one device, waiting for work up to waitMs (long poll)")
            .Produces<LeaseWorkResponse>().ProducesProblem(400).ProducesProblem(401).ProducesProblem(403);
        node.MapPost("/report", ReportAsync).WithName("nodeReport").WithSummary("Report leased units' outputs or errors (signed by the node key)")
            .Produces<ReportWorkResponse>().ProducesProblem(400).ProducesProblem(401).ProducesProblem(403);
        node.MapPost("/heartbeat", HeartbeatAsync).WithName("nodeHeartbeat").WithSummary("Say the node is alive and renew its leases")
            .Produces<HeartbeatResponse>().ProducesProblem(400).ProducesProblem(401).ProducesProblem(403);
        node.MapGet("/nodes", StatusAsync).WithName("nodeStatus").WithSummary("The calling agent's devices: liveness, verified units, reputation")
            .Produces<IReadOnlyList<NodeView>>().ProducesProblem(401);
    }

    private static async Task<IResult> ChallengeAsync(ChallengeRequest? request, IGrainFactory grains)
    {
        if (!PayoutAddress.TryNormalize(request?.NodeAddress, out var address))
            return Problem(400, "Invalid node address", "'nodeAddress' must be the node key's address: 0x and 40 hex digits.");
        var challenge = await grains.GetGrain<INodeAgentGrain>(address).IssueChallengeAsync();
        return TypedResults.Ok(new ChallengeResponse(challenge.Nonce, NodeSignatures.LoginMessage(address, challenge.Nonce, challenge.ExpiresAt), challenge.ExpiresAt));
    }

    private static async Task<IResult> RegisterAsync(RegisterRequest? request, IGrainFactory grains, NodeTokens tokens, HttpContext http)
    {
        if (request is null || !PayoutAddress.TryNormalize(request.NodeAddress, out var address))
            return Problem(400, "Invalid node address", "'nodeAddress' must be the node key's address: 0x and 40 hex digits.");
        if (request.Nonce is null || request.Signature is null || request.PayoutAddress is null || request.PayoutSignature is null || request.Devices is null
            || request.Devices.Any(d => d?.DeviceId is null || d.Capabilities?.DeviceName is null || d.Capabilities.DeviceKind is null))
            return Problem(400, "Invalid registration", "nonce, signature, payoutAddress, payoutSignature and devices (deviceId, capabilities with deviceName and deviceKind) are required.");
        if (request.Devices.Count > Grains.Nodes.NodeAgentGrain.MaxDevices)
            return Problem(400, "Invalid registration", $"An agent registers 1 to {Grains.Nodes.NodeAgentGrain.MaxDevices} devices.");
        var outcome = await grains.GetGrain<INodeAgentGrain>(address).RegisterAsync(new AgentRegistration
        {
            Nonce = request.Nonce,
            Signature = request.Signature,
            PayoutAddress = request.PayoutAddress,
            PayoutSignature = request.PayoutSignature,
            Devices = [.. request.Devices.Select(d => new AgentDevice(d.DeviceId, ToCapabilities(d.Capabilities)))],
            Gateway = $"gateway:{http.Request.Host}",
        });
        switch (outcome.Refusal)
        {
            case RegistrationRefusal.NotAuthenticated: return Problem(401, "Login refused", outcome.Error!);
            case RegistrationRefusal.Invalid: return Problem(400, "Invalid registration", outcome.Error!);
            case RegistrationRefusal.Excluded: return Problem(403, "Node excluded", outcome.Error!);
        }
        var (token, expires) = tokens.Issue(address, outcome.NodeIds);
        return TypedResults.Ok(new RegisterResponse(token, expires, outcome.NodeIds));
    }

    private static async Task<IResult> LeaseAsync(LeaseWorkRequest? request, ClaimsPrincipal user, IGrainFactory grains, LeaseBroker broker,
        IOptions<NodeGatewayOptions> options, HttpContext http)
    {
        var gateway = options.Value;
        if (request is null || !NodeTokens.Owns(user, request.NodeId)) return NotYourNode(request?.NodeId);
        if (request.Max < 1 || request.Max > gateway.MaxUnitsPerLease)
            return Problem(400, "Invalid lease request", $"'max' must be between 1 and {gateway.MaxUnitsPerLease}.");
        if (request.WaitMs < 0 || request.WaitMs > gateway.MaxLongPoll.TotalMilliseconds)
            return Problem(400, "Invalid lease request", $"'waitMs' must be between 0 and {(long)gateway.MaxLongPoll.TotalMilliseconds}.");
        if (await grains.GetGrain<INodeGrain>(request.NodeId).CheckInAsync() is not { } node) return NotYourNode(request.NodeId);
        if (node.ExcludedBecause is { } reason) return Excluded(request.NodeId, reason);

        var batch = await broker.LeaseAsync(new LeaseRequest
        {
            NodeId = request.NodeId,
            Max = request.Max,
            Capabilities = node.Capabilities,
            MaxHeld = gateway.HeldCap(node.UnitsVerified, node.UnitsRejected),
        }, TimeSpan.FromMilliseconds(request.WaitMs), http.RequestAborted);
        return TypedResults.Ok(new LeaseWorkResponse([.. batch.Leases.Select(l => new LeasedUnit(l.LeaseId, l.Unit.JobId, l.Unit.Index, l.Kernel,
            l.CanonicalParameters, l.UnitCount, l.Input, l.Deadline, l.EnqueuedAt, l.Attempt))]));
    }

    private static async Task<IResult> ReportAsync(ReportWorkRequest? request, ClaimsPrincipal user, IGrainFactory grains,
        IOptions<NodeGatewayOptions> options, IOptions<SchedulerOptions> scheduler, ILoggerFactory loggers)
    {
        if (request is null || !NodeTokens.Owns(user, request.NodeId)) return NotYourNode(request?.NodeId);
        var max = options.Value.MaxResultsPerReport;
        if (request.Results is null || request.Results.Count == 0 || request.Results.Count > max)
            return Problem(400, "Invalid report", $"'results' must hold 1 to {max} results.");
        // Select, not FirstOrDefault on the results: a null entry is itself the bad result (and would read as "none").
        if (request.Results.Select(ProblemWith).FirstOrDefault(p => p is not null) is { } problem)
            return Problem(400, "Invalid report", problem);
        var nodeAddress = user.Identity!.Name!;
        var signed = NodeSignatures.ReportMessage(request.NodeId, request.Results);
        if (!NodeSignatures.IsSignedBy(signed, request.Signature, nodeAddress))
            return Problem(400, "Invalid signature", $"The report is not signed by the node key {nodeAddress}.");
        if (await grains.GetGrain<INodeGrain>(request.NodeId).GetAsync() is { ExcludedBecause: { } reason }) return Excluded(request.NodeId, reason);

        // The signed report is kept (bounded) beside the node, as evidence of what it claimed.
        var receipt = grains.GetGrain<INodeGrain>(request.NodeId).RecordReceiptAsync(
            new ReportReceipt(DateTimeOffset.UtcNow, signed, request.Signature, request.Results.Count));
        var outcomes = await Task.WhenAll(request.Results
            .GroupBy(r => scheduler.Value.ShardOf(r.JobId, r.Index))
            .Select(shard => grains.GetGrain<IWorkQueueGrain>(shard.Key).ReportAsync(request.NodeId, [.. shard.Select(r => new UnitResult
            {
                LeaseId = r.LeaseId,
                Unit = new WorkUnitId(r.JobId, r.Index),
                Output = r.Output,
                Digest = r.Digest,
                Error = r.Error,
                ElapsedMs = r.ElapsedMs,
            })])));
        try
        {
            await receipt;
        }
        catch (Exception ex)
        {
            // The results counted; only the evidence copy is missing. Never fail the node for it.
            loggers.CreateLogger(typeof(NodeGatewayEndpoints)).LogWarning(ex, "Keeping the signed report of {NodeId} failed", request.NodeId);
        }
        return TypedResults.Ok(new ReportWorkResponse(outcomes.Sum(o => o.Accepted), outcomes.Sum(o => o.Verified),
            outcomes.Sum(o => o.Ignored), outcomes.Sum(o => o.Failed)));
    }

    private static async Task<IResult> HeartbeatAsync(HeartbeatRequest? request, ClaimsPrincipal user, IGrainFactory grains,
        IOptions<NodeGatewayOptions> options, IOptions<SchedulerOptions> scheduler)
    {
        if (request is null || !NodeTokens.Owns(user, request.NodeId)) return NotYourNode(request?.NodeId);
        var max = options.Value.MaxResultsPerReport;
        if (request.Leases is null || request.Leases.Count > max || request.Leases.Any(l => l is null || !IsUnit(l.JobId, l.Index)))
            return Problem(400, "Invalid heartbeat", $"'leases' must hold at most {max} leases, each with a leaseId, jobId and index.");
        // The check-in is the heartbeat (liveness), and tells whether the node was excluded.
        if (await grains.GetGrain<INodeGrain>(request.NodeId).CheckInAsync() is { ExcludedBecause: { } reason }) return Excluded(request.NodeId, reason);
        var renewed = await Task.WhenAll(request.Leases
            .GroupBy(l => scheduler.Value.ShardOf(l.JobId, l.Index))
            .Select(shard => grains.GetGrain<IWorkQueueGrain>(shard.Key).RenewAsync(request.NodeId, [.. shard.Select(l => l.LeaseId)])));
        return TypedResults.Ok(new HeartbeatResponse([.. renewed.SelectMany(r => r)]));
    }

    private static async Task<IResult> StatusAsync(ClaimsPrincipal user, IGrainFactory grains)
    {
        var views = await Task.WhenAll(user.FindAll(NodeTokens.NodeIdClaim).Select(c => grains.GetGrain<INodeGrain>(c.Value).GetAsync()));
        return TypedResults.Ok(views.OfType<NodeView>().ToList());
    }

    private static string? ProblemWith(ReportedUnit? r)
    {
        if (r is null || !IsUnit(r.JobId, r.Index)) return "Each result needs a leaseId, a jobId (1-64 characters) and a non-negative index.";
        if (r.Error is not null) return r.Error.Length <= 2000 ? null : "An error message is at most 2000 characters.";
        if (r.Output is null || r.Digest is null) return $"Result for {r.JobId}/{r.Index} needs an output and its digest, or an error.";
        return r.Digest.Length == 64 && r.Digest.All(char.IsAsciiHexDigitLower) ? null : $"The digest of {r.JobId}/{r.Index} must be 64 lower-case hex digits.";
    }

    private static bool IsUnit(string? jobId, int index) => jobId is { Length: > 0 and <= 64 } && index >= 0;

    private static NodeCapabilities ToCapabilities(DeviceCapabilities c) => new()
    {
        DeviceName = c.DeviceName.Length <= 128 ? c.DeviceName : c.DeviceName[..128],
        DeviceKind = c.DeviceKind.Length <= 32 ? c.DeviceKind : c.DeviceKind[..32],
        MemoryBytes = Math.Max(0, c.MemoryBytes),
        ComputeUnits = Math.Max(0, c.ComputeUnits),
        WarpSize = Math.Max(0, c.WarpSize),
        SgemmGflops = double.IsFinite(c.SgemmGflops) ? Math.Max(0, c.SgemmGflops) : 0,
        CopyGBps = double.IsFinite(c.CopyGBps) ? Math.Max(0, c.CopyGBps) : 0,
        Measured = false,
    };

    private static IResult Excluded(string nodeId, string reason) =>
        Problem(403, "Node excluded", $"Node {nodeId} is excluded from the network: {reason}");

    private static IResult NotYourNode(string? nodeId) =>
        Problem(403, "Not your node", $"This session's token does not cover node '{(nodeId is { Length: <= 100 } ? nodeId : "(missing)")}': log in again with the agent that owns it.");

    private static IResult Problem(int status, string title, string detail) => TypedResults.Problem(detail, statusCode: status, title: title);
}
