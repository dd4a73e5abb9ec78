using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using DePin.Client;

namespace DePin.Cli.Tests;

/// <summary>Every endpoint <see cref="DePinClient"/> calls, against a real silo: the answer it parses, and a refusal it surfaces.</summary>
public sealed class DePinClientTests(SiloFixture fixture) : IClassFixture<SiloFixture>
{
    private const string Stranger = "0x000000000000000000000000000000000000dead";

    private static async Task<DePinApiException> RefusedAsync(HttpStatusCode status, Func<Task> call)
    {
        var ex = await Assert.ThrowsAsync<DePinApiException>(call);
        Assert.Equal(status, ex.StatusCode);
        Assert.False(string.IsNullOrWhiteSpace(ex.Title));
        Assert.False(string.IsNullOrWhiteSpace(ex.Detail));
        return ex;
    }

    [Fact]
    public async Task Submit_get_wait_and_result_round_trip_a_real_job()
    {
        using var client = fixture.Client();
        var job = await client.SubmitJobAsync("saxpy", new { a = 2, x = new[] { 1f, 2f }, y = new[] { 1f, 1f } },
            new SubmitJobOptions { Priority = 3, IdempotencyKey = "client-test-1" });
        Assert.Equal("saxpy", job.Kernel);
        Assert.Equal(3, job.Priority);
        Assert.Equal(1, job.Redundancy);

        var again = await client.SubmitJobAsync("saxpy", new { a = 2, x = new[] { 1f, 2f }, y = new[] { 1f, 1f } },
            new SubmitJobOptions { Priority = 3, IdempotencyKey = "client-test-1" });
        Assert.Equal(job.JobId, again.JobId); // the idempotency key reached the server

        var seen = new List<JobInfo>();
        var final = await client.WaitForCompletionAsync(job.JobId, new Sync<JobInfo>(seen.Add), TimeSpan.FromMilliseconds(20), TimeSpan.FromSeconds(60));
        Assert.Equal(JobStatus.Completed, final.Status);
        Assert.Equal(final.UnitCount, final.UnitsCompleted);
        Assert.Equal(JobStatus.Completed, seen[^1].Status);
        var fetched = await client.GetJobAsync(job.JobId);
        Assert.Equal((final.JobId, final.Status, final.ResultDigest), (fetched.JobId, fetched.Status, fetched.ResultDigest));

        var result = await client.GetResultAsync(job.JobId);
        Assert.True(result.IsText);
        Assert.Equal(final.ResultDigest, result.Digest);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(result.Bytes)), result.Digest);
        using var doc = result.ToJsonDocument();
        Assert.Equal([3f, 5f], doc.RootElement.GetProperty("y").EnumerateArray().Select(e => e.GetSingle()));
    }

    [Fact]
    public async Task Submit_and_quote_refusals_carry_the_servers_detail()
    {
        using var client = fixture.Client();
        var unknown = await RefusedAsync(HttpStatusCode.BadRequest, () => client.SubmitJobAsync("nope", new { a = 1 }));
        Assert.Contains("nope", unknown.Detail);
        var budget = await RefusedAsync(HttpStatusCode.BadRequest, () => client.SubmitJobAsync("montecarlo-pi", new { samples = 1000, units = 4 },
            new SubmitJobOptions { MaxPriceMicroCredits = 1 }));
        Assert.Contains("1", budget.Detail);
        await RefusedAsync(HttpStatusCode.BadRequest, () => client.QuoteJobAsync("nope", new { a = 1 }));
        using var doc = JsonDocument.Parse("[1,2]");
        await Assert.ThrowsAsync<ArgumentException>(() => client.SubmitJobAsync("saxpy", doc.RootElement));
    }

    [Fact]
    public async Task Quote_prices_the_job_and_estimates_it_on_the_online_node()
    {
        using var client = fixture.Client();
        var quote = await client.QuoteJobAsync("montecarlo-pi", new { samples = 8000, units = 8 });
        Assert.Equal(8, quote.UnitCount);
        Assert.Equal(8 * quote.PricePerUnitMicroCredits, quote.PriceMicroCredits);
        var node = Assert.Single(quote.Nodes);
        Assert.Equal(fixture.Node.NodeId, node.NodeId);
        Assert.True(node.Eligible);

        var picky = await client.QuoteJobAsync("montecarlo-pi", new { samples = 8000, units = 8 },
            new SubmitJobOptions { Requirements = new JobRequirements { DeviceKinds = ["Cuda"] } });
        Assert.False(Assert.Single(picky.Nodes).Eligible);
    }

    [Fact]
    public async Task Unknown_job_is_404_for_get_result_and_cancel()
    {
        using var client = fixture.Client();
        var ex = await RefusedAsync(HttpStatusCode.NotFound, () => client.GetJobAsync("no-such-job"));
        Assert.Contains("no-such-job", ex.Detail);
        await RefusedAsync(HttpStatusCode.NotFound, () => client.GetResultAsync("no-such-job"));
        await RefusedAsync(HttpStatusCode.NotFound, () => client.CancelJobAsync("no-such-job"));
    }

    [Fact]
    public async Task Cancel_a_queued_job_then_result_and_cancel_again_are_409()
    {
        using var client = fixture.Client();
        var job = await fixture.SubmitUnrunnableJobAsync();
        Assert.Equal(["Cuda"], job.Requirements!.DeviceKinds);
        await RefusedAsync(HttpStatusCode.Conflict, () => client.GetResultAsync(job.JobId));
        await Assert.ThrowsAsync<TimeoutException>(() =>
            client.WaitForCompletionAsync(job.JobId, null, TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(50)));

        var cancelled = await client.CancelJobAsync(job.JobId);
        Assert.Equal(JobStatus.Cancelled, cancelled.Status);
        var again = await RefusedAsync(HttpStatusCode.Conflict, () => client.CancelJobAsync(job.JobId));
        Assert.Contains(job.JobId, again.Detail);
    }

    [Fact]
    public async Task ListJobs_filters_by_status_pages_and_refuses_a_bad_limit()
    {
        using var client = fixture.Client();
        var done = await fixture.RunJobAsync("montecarlo-pi", new { samples = 1000, units = 1 });
        var completed = await client.ListJobsAsync(JobStatus.Completed, 0, 1000);
        Assert.Contains(completed, j => j.JobId == done.JobId);
        Assert.All(completed, j => Assert.Equal(JobStatus.Completed, j.Status));
        Assert.Single(await client.ListJobsAsync(null, 0, 1));
        await RefusedAsync(HttpStatusCode.BadRequest, () => client.ListJobsAsync(null, 0, 5000));
    }

    [Fact]
    public async Task Kernels_and_health_are_public()
    {
        using var anonymous = fixture.Anonymous();
        var kernels = await anonymous.ListKernelsAsync();
        Assert.Contains(kernels, k => k.Name == "saxpy");
        Assert.True(await anonymous.IsHealthyAsync());
    }

    [Fact]
    public async Task Nodes_need_a_key_and_an_unknown_node_is_404()
    {
        using var client = fixture.Client();
        var node = Assert.Single(await client.ListNodesAsync(), n => n.NodeId == fixture.Node.NodeId);
        Assert.True(node.Online);
        Assert.Equal(node.NodeId, (await client.GetNodeAsync(node.NodeId)).NodeId);
        await RefusedAsync(HttpStatusCode.NotFound, () => client.GetNodeAsync("no-such/node"));
        using var anonymous = fixture.Anonymous();
        await RefusedAsync(HttpStatusCode.Unauthorized, () => anonymous.ListNodesAsync());
    }

    [Fact]
    public async Task Account_statement_epochs_and_close_follow_a_real_job()
    {
        using var client = fixture.Client();
        using var admin = fixture.Client(admin: true);
        var job = await fixture.RunJobAsync("montecarlo-pi", new { samples = 2000, units = 2 });
        var account = await fixture.WaitForCreditsAsync(job.PriceMicroCredits);
        Assert.Equal(fixture.Node.OperatorAddress, account.Address);
        var mixedCase = await client.GetAccountAsync(fixture.Node.OperatorAddress.ToUpperInvariant().Replace("0X", "0x"));
        Assert.Equal((account.Address, account.CumulativeMicroCredits), (mixedCase.Address, mixedCase.CumulativeMicroCredits));

        await RefusedAsync(HttpStatusCode.Forbidden, () => client.CloseEpochAsync());
        var epoch = await admin.CloseEpochAsync();
        Assert.NotNull(epoch);
        var entry = Assert.Single(epoch.Entries, e => e.Address == account.Address);
        Assert.Equal(account.CumulativeMicroCredits, entry.CumulativeMicroCredits);
        Assert.Equal(SettlementState.NotSent, epoch.State);
        Assert.Null(await admin.CloseEpochAsync()); // nothing new: 204

        Assert.Equal(epoch.Epoch, (await client.GetEpochAsync(epoch.Epoch)).Epoch);
        Assert.Contains(await client.ListEpochsAsync(0, 50), e => e.Epoch == epoch.Epoch);
        await RefusedAsync(HttpStatusCode.NotFound, () => client.GetEpochAsync(epoch.Epoch + 1000));
        var timeout = await Assert.ThrowsAsync<TimeoutException>(() =>
            client.WaitForEpochSettledAsync(epoch.Epoch, TimeSpan.FromMilliseconds(50), pollInterval: TimeSpan.FromMilliseconds(10)));
        Assert.Contains("NotSent", timeout.Message);

        var statement = await client.GetStatementAsync(account.Address);
        Assert.Contains(statement.Epochs, e => e.Epoch == epoch.Epoch);
        await RefusedAsync(HttpStatusCode.NotFound, () => client.GetStatementAsync(Stranger));
        await RefusedAsync(HttpStatusCode.NotFound, () => client.GetAccountAsync(Stranger));
        var malformed = await RefusedAsync(HttpStatusCode.BadRequest, () => client.GetAccountAsync("a/b c"));
        Assert.Contains("b c", malformed.Detail); // escaped into one path segment: refused as an address, not routed elsewhere
    }

    [Fact]
    public async Task Settlement_off_is_reported_and_a_proof_is_409()
    {
        using var client = fixture.Client();
        var settlement = await client.GetSettlementAsync();
        Assert.Equal("Off", settlement.Mode);
        Assert.False(settlement.Enabled);
        var ex = await RefusedAsync(HttpStatusCode.Conflict, () => client.GetProofAsync(fixture.Node.OperatorAddress));
        Assert.Contains("Settlement:Mode", ex.Detail);
        await RefusedAsync(HttpStatusCode.BadRequest, () => client.GetProofAsync("0xnope"));
        using var anonymous = fixture.Anonymous();
        await RefusedAsync(HttpStatusCode.Unauthorized, () => anonymous.GetSettlementAsync());
    }

    [Fact]
    public async Task Api_keys_are_created_listed_and_revoked_by_admins_only()
    {
        using var admin = fixture.Client(admin: true);
        var created = await admin.CreateApiKeyAsync("client", "client-tests");
        Assert.StartsWith("dpk_", created.Key);
        Assert.Equal("client", created.Role);
        Assert.Contains(await admin.ListApiKeysAsync(), k => k.KeyId == created.KeyId && k.Name == "client-tests");

        using (var holder = new DePinClient(fixture.Silo.BaseAddress, created.Key))
            Assert.NotEmpty(await holder.ListKernelsAsync());
        var revoked = await admin.RevokeApiKeyAsync(created.KeyId);
        Assert.NotNull(revoked.RevokedAt);

        await RefusedAsync(HttpStatusCode.NotFound, () => admin.RevokeApiKeyAsync("00000000deadbeef"));
        await RefusedAsync(HttpStatusCode.BadRequest, () => admin.CreateApiKeyAsync("root"));
        using var client = fixture.Client();
        await RefusedAsync(HttpStatusCode.Forbidden, () => client.CreateApiKeyAsync("admin"));
        await RefusedAsync(HttpStatusCode.Forbidden, () => client.ListApiKeysAsync());
    }

    [Fact]
    public void Constructors_validate_the_base_address()
    {
        Assert.Throws<ArgumentException>(() => new DePinClient(new HttpClient()));
        Assert.Throws<ArgumentException>(() => new DePinClient(new Uri("ftp://x/")));
        using var c = new DePinClient(new Uri("http://127.0.0.1:5080"));
        Assert.Equal("http://127.0.0.1:5080/", c.BaseAddress.ToString());
    }

    private sealed class Sync<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
