using System.Net;
using System.Net.Http.Json;
using DePin.Abstractions.Jobs;
using DePin.Abstractions.Nodes;
using DePin.Abstractions.Scheduling;
using DePin.Compute.Catalog;
using DePin.Compute.Devices;
using DePin.NodeProtocol;
using DePin.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Nethereum.Signer;

namespace DePin.Tests.NodeGateway;

/// <summary>
/// The community node protocol against a real silo (no workers of its own): who may log in, and that a node's word
/// counts only for leases it holds. Each refusal is checked to change nothing.
/// </summary>
public sealed class NodeGatewayTests(NodeGatewayTests.Silo fixture) : IClassFixture<NodeGatewayTests.Silo>
{
    /// <summary>One worker-less silo, one queue shard, a clock the test can move forward.</summary>
    public sealed class Silo : IAsyncLifetime
    {
        public TestSilo Host { get; private set; } = null!;
        public ShiftedClock Clock { get; } = new();
        public ComputeDevice Device { get; } = ComputeDevice.CreateVectorCpu();

        public async Task InitializeAsync() => Host = await TestSilo.StartAsync(workers: false, new Dictionary<string, string?>
        {
            ["Scheduler:QueueShards"] = "1",
            ["Scheduler:MaxAttempts"] = "3",
        }, b => b.Services.AddSingleton<TimeProvider>(Clock));

        public async Task DisposeAsync()
        {
            await Host.DisposeAsync();
            Device.Dispose();
        }
    }

    private HttpClient Http => fixture.Host.Http;
    private IGrainFactory Grains => fixture.Host.Grains;
    private GatewayNode NewNode() => new(Http);

    [Fact]
    public async Task Login_signed_by_another_key_is_refused_and_registers_nothing()
    {
        var node = NewNode();
        var challenge = await node.ChallengeAsync();
        var forged = node.Registration(challenge) with
        {
            Signature = NodeSignatures.Sign(NodeSignatures.LoginMessage(node.Address, challenge.Nonce, challenge.ExpiresAt), EthECKey.GenerateKey()),
        };
        await AssertProblemAsync(await node.RegisterAsync(forged), HttpStatusCode.Unauthorized, "not made by the key");
        Assert.Null(await Grains.GetGrain<INodeGrain>(node.NodeId).GetAsync());
        Assert.Null(await Grains.GetGrain<INodeAgentGrain>(node.Address).GetAsync());
    }

    [Fact]
    public async Task A_challenge_works_once()
    {
        var node = NewNode();
        var registration = node.Registration(await node.ChallengeAsync());
        using (var first = await node.RegisterAsync(registration)) Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        await AssertProblemAsync(await node.RegisterAsync(registration), HttpStatusCode.Unauthorized, "already used");
    }

    [Fact]
    public async Task An_expired_challenge_is_refused()
    {
        var node = NewNode();
        var registration = node.Registration(await node.ChallengeAsync());
        fixture.Clock.Offset += TimeSpan.FromMinutes(6);
        try
        {
            await AssertProblemAsync(await node.RegisterAsync(registration), HttpStatusCode.Unauthorized, "expired");
            Assert.Null(await Grains.GetGrain<INodeGrain>(node.NodeId).GetAsync());
        }
        finally
        {
            fixture.Clock.Offset -= TimeSpan.FromMinutes(6);
        }
    }

    [Fact]
    public async Task A_payout_binding_signed_by_another_key_is_refused()
    {
        var node = NewNode();
        var victim = EthECKey.GenerateKey().GetPublicAddress();
        var registration = node.Registration(await node.ChallengeAsync()) with
        {
            PayoutAddress = victim, // claims someone else's address, signed with the node's own payout key
        };
        await AssertProblemAsync(await node.RegisterAsync(registration), HttpStatusCode.Unauthorized, "payout binding");
        Assert.Null(await Grains.GetGrain<INodeGrain>(node.NodeId).GetAsync());
    }

    [Fact]
    public async Task Node_calls_need_a_token_for_that_node()
    {
        var a = await NewNode().LoginAsync();
        var b = await NewNode().LoginAsync();
        using (var anonymous = await a.PostAsync("lease", new LeaseWorkRequest(a.NodeId, 1, 0), token: "")) Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        using (var garbage = await a.PostAsync("lease", new LeaseWorkRequest(a.NodeId, 1, 0), token: "not-a-jwt")) Assert.Equal(HttpStatusCode.Unauthorized, garbage.StatusCode);
        await AssertProblemAsync(await a.PostAsync("lease", new LeaseWorkRequest(b.NodeId, 1, 0)), HttpStatusCode.Forbidden, "does not cover");
        await AssertProblemAsync(await a.PostAsync("lease", new LeaseWorkRequest(a.NodeId, 0, 0)), HttpStatusCode.BadRequest, "'max'");
    }

    [Fact]
    public async Task A_report_signed_by_another_key_is_refused_and_counts_nothing()
    {
        var node = await NewNode().LoginAsync();
        var job = await SubmitAsync(units: 1);
        var lease = Assert.Single(await LeaseJobAsync(node, job));
        await AssertProblemAsync(await node.ReportAsync([Execute(lease)], signer: EthECKey.GenerateKey()), HttpStatusCode.BadRequest, "not signed");
        Assert.Equal(0, (await JobAsync(job)).UnitsCompleted);
        Assert.Equal(1, (await node.ReportOkAsync([Execute(lease)])).Verified);
        Assert.Equal(JobStatus.Completed, (await WaitTerminalAsync(job)).Status);
        // The good report is kept as signed evidence; the refused one is not.
        var receipt = Assert.Single(await Grains.GetGrain<INodeGrain>(node.NodeId).GetReceiptsAsync());
        Assert.True(NodeSignatures.IsSignedBy(receipt.SignedMessage, receipt.Signature, node.Address));
        Assert.Equal(1, receipt.Units);
    }

    [Fact]
    public async Task A_result_for_a_unit_never_leased_is_ignored()
    {
        var (a, b) = (await NewNode().LoginAsync(), await NewNode().LoginAsync());
        var job = await SubmitAsync(units: 1);
        var lease = Assert.Single(await LeaseJobAsync(a, job));
        // b computes the unit without a lease, quoting a made-up lease id: it counts for nothing.
        var outcome = await b.ReportOkAsync([Execute(lease) with { LeaseId = 12345 }]);
        Assert.Equal(0, outcome.Accepted);
        Assert.Equal(0, (await JobAsync(job)).UnitsCompleted);
        Assert.Equal(1, (await a.ReportOkAsync([Execute(lease)])).Verified);
        Assert.Equal(JobStatus.Completed, (await WaitTerminalAsync(job)).Status);
    }

    [Fact]
    public async Task A_report_quoting_another_nodes_lease_leaves_that_lease_alone()
    {
        var (a, b) = (await NewNode().LoginAsync(), await NewNode().LoginAsync());
        var job = await SubmitAsync(units: 1);
        var lease = Assert.Single(await LeaseJobAsync(a, job));
        var hijack = await b.ReportOkAsync([Execute(lease)]); // a's lease id, b's report
        Assert.Equal(0, hijack.Accepted);
        // a still holds its lease: it renews, and its result is the one that counts.
        using var heartbeat = await a.PostAsync("heartbeat", new HeartbeatRequest(a.NodeId, [new HeldLease(lease.LeaseId, lease.JobId, lease.Index)]));
        Assert.Equal([lease.LeaseId], (await heartbeat.Content.ReadFromJsonAsync<HeartbeatResponse>(GatewayNode.Json))!.Held);
        Assert.Equal(1, (await a.ReportOkAsync([Execute(lease)])).Verified);
        var done = await WaitTerminalAsync(job);
        Assert.Equal(JobStatus.Completed, done.Status);
        Assert.Equal(1, (await Grains.GetGrain<INodeGrain>(a.NodeId).GetAsync())!.UnitsVerified);
        Assert.Equal(0, (await Grains.GetGrain<INodeGrain>(b.NodeId).GetAsync())!.UnitsVerified);
    }

    [Fact]
    public async Task An_error_flood_from_one_node_does_not_fail_the_job()
    {
        var (a, b) = (await NewNode().LoginAsync(), await NewNode().LoginAsync());
        var job = await SubmitAsync(units: 1);
        var lease = Assert.Single(await LeaseJobAsync(a, job));
        var error = new ReportedUnit(lease.LeaseId, lease.JobId, lease.Index, null, null, "device lost", 1);
        for (var i = 0; i < 10; i++) await a.ReportOkAsync([error]);
        Assert.NotEqual(JobStatus.Failed, (await JobAsync(job)).Status);
        Assert.Empty(await LeaseJobAsync(a, job)); // a never gets back a unit it failed
        var retry = Assert.Single(await LeaseJobAsync(b, job));
        Assert.Equal(1, (await b.ReportOkAsync([Execute(retry)])).Verified);
        Assert.Equal(JobStatus.Completed, (await WaitTerminalAsync(job)).Status);
    }

    [Fact]
    public async Task A_claimed_speed_does_not_meet_a_speed_requirement()
    {
        var node = await NewNode().LoginAsync(); // claims 5 GFLOP/s
        var view = await Grains.GetGrain<INodeGrain>(node.NodeId).GetAsync();
        Assert.False(view!.Capabilities.Measured);
        Assert.True(view.Community);
        var job = await SubmitAsync(units: 1, new JobRequirements { MinGflops = 1 });
        Assert.Empty(await LeaseJobAsync(node, job));
        Assert.Equal(JobStatus.Cancelled, (await Grains.GetGrain<IJobGrain>(job).CancelAsync())!.Status);
    }

    [Fact]
    public async Task An_excluded_node_can_neither_log_in_nor_lease_report_or_renew_until_readmitted()
    {
        var node = await NewNode().LoginAsync();
        var job = await SubmitAsync(units: 1);
        var lease = Assert.Single(await LeaseJobAsync(node, job));

        using var client = fixture.Host.CreateHttp(fixture.Host.ClientKey);
        await AssertProblemAsync(await client.PostAsJsonAsync("/node-exclusions",
            new { nodeId = node.NodeId, reason = "wrong results" }), HttpStatusCode.Forbidden, "admin");
        using (var excluded = await Http.PostAsJsonAsync("/node-exclusions", new { nodeId = node.NodeId, reason = "wrong results" }))
            Assert.Equal(HttpStatusCode.OK, excluded.StatusCode);
        Assert.Equal("wrong results", (await Grains.GetGrain<INodeGrain>(node.NodeId).GetAsync())!.ExcludedBecause);

        await AssertProblemAsync(await node.ReportAsync([Execute(lease)]), HttpStatusCode.Forbidden, "wrong results");
        await AssertProblemAsync(await node.PostAsync("lease", new LeaseWorkRequest(node.NodeId, 1, 0)), HttpStatusCode.Forbidden, "excluded");
        await AssertProblemAsync(await node.PostAsync("heartbeat", new HeartbeatRequest(node.NodeId, [new HeldLease(lease.LeaseId, lease.JobId, lease.Index)])),
            HttpStatusCode.Forbidden, "excluded");
        await AssertProblemAsync(await node.RegisterAsync(node.Registration(await node.ChallengeAsync())), HttpStatusCode.Forbidden, "excluded");
        Assert.Equal(0, (await JobAsync(job)).UnitsCompleted);

        using (var readmitted = await Http.PostAsJsonAsync("/node-exclusions/readmit", new { nodeId = node.NodeId }))
            Assert.Equal(HttpStatusCode.OK, readmitted.StatusCode);
        await node.LoginAsync();
        Assert.Equal(1, (await node.ReportOkAsync([Execute(lease)])).Verified);
        Assert.Equal(JobStatus.Completed, (await WaitTerminalAsync(job)).Status);
    }

    [Fact]
    public async Task A_logged_in_agent_is_rate_limited_with_a_429_problem()
    {
        await using var limited = await TestSilo.StartAsync(workers: false, new Dictionary<string, string?> { ["NodeGateway:RequestsPerSecond"] = "2" });
        var node = await new GatewayNode(limited.Http).LoginAsync();
        // 16 at once against a bucket of 4 refilled at 2/s: most are refused, however slow the machine.
        var responses = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => node.PostAsync("heartbeat", new HeartbeatRequest(node.NodeId, []))));
        try
        {
            var refused = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
            Assert.True(refused.Count > 0, $"16 requests at 2/s (bursts of 4) were never refused: {string.Join(", ", responses.Select(r => r.StatusCode))}");
            Assert.All(refused, r => Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType));
            Assert.All(refused, r => Assert.NotNull(r.Headers.RetryAfter));
            Assert.Contains(responses, r => r.StatusCode == HttpStatusCode.OK);
        }
        finally
        {
            foreach (var r in responses) r.Dispose();
        }
    }

    [Fact]
    public async Task A_waiting_node_gets_a_new_unit_without_polling()
    {
        var node = await NewNode().LoginAsync();
        var waiting = node.LeaseAsync(max: 4, waitMs: 15_000);
        await Eventually.WaitAsync(() => Task.FromResult(fixture.Host.Services.GetRequiredService<DePin.Silo.Leasing.LeaseBroker>().Waiting),
            n => n > 0, "the node's lease call to wait");
        var job = await SubmitAsync(units: 1);
        var leases = await waiting.WaitAsync(TimeSpan.FromSeconds(10)); // well before the 15 s long poll ends
        Assert.Equal(job, Assert.Single(leases).JobId);
        Assert.Equal(1, (await node.ReportOkAsync([Execute(leases[0])])).Verified);
    }

    private async Task<IReadOnlyList<LeasedUnit>> LeaseJobAsync(GatewayNode node, string jobId) =>
        [.. (await node.LeaseAsync()).Where(l => l.JobId == jobId)];

    private ReportedUnit Execute(LeasedUnit lease)
    {
        var output = KernelCatalog.Default.Get(lease.Kernel).Execute(fixture.Device, new KernelUnit(lease.Parameters, lease.Index, lease.UnitCount, lease.Input));
        return new ReportedUnit(lease.LeaseId, lease.JobId, lease.Index, output, ResultDigest.Of(output), null, 1);
    }

    private async Task<string> SubmitAsync(int units, JobRequirements? requirements = null)
    {
        var jobId = Guid.NewGuid().ToString("N");
        var outcome = await Grains.GetGrain<IJobGrain>(jobId).SubmitAsync(new JobRequest
        {
            Kernel = "montecarlo-pi",
            ParametersJson = $$"""{"samples": {{units * 1000}}, "units": {{units}}, "seed": 3}""",
            Requirements = requirements,
        });
        Assert.True(outcome.Accepted, outcome.Error);
        return jobId;
    }

    private async Task<JobView> JobAsync(string jobId) => (await Grains.GetGrain<IJobGrain>(jobId).GetAsync())!;

    private Task<JobView> WaitTerminalAsync(string jobId) =>
        Eventually.WaitAsync(() => JobAsync(jobId), j => j.Status.IsTerminal(), $"job {jobId}");

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string detailContains)
    {
        using (response)
        {
            Assert.Equal(status, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var body = await response.Content.ReadAsStringAsync();
            Assert.Contains(detailContains, body);
        }
    }
}
