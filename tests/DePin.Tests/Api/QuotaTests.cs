using System.Net;
using System.Net.Http.Json;
using DePin.Abstractions.Jobs;
using DePin.Silo.Api.Contracts;
using DePin.Tests.Infrastructure;

namespace DePin.Tests.Api;

/// <summary>Per-key quotas (unfinished jobs, queued units) answer 429 with Retry-After and write nothing; the key store is bounded.</summary>
public sealed class QuotaTests(QuotaTests.Silo fixture) : IClassFixture<QuotaTests.Silo>
{
    /// <summary>A worker-less silo (jobs stay queued) with small quotas.</summary>
    public sealed class Silo : IAsyncLifetime
    {
        public TestSilo Host { get; private set; } = null!;
        public async Task InitializeAsync() => Host = await TestSilo.StartAsync(workers: false, new Dictionary<string, string?>
        {
            ["Api:Quota:MaxRunningJobs"] = "3",
            ["Api:Quota:MaxQueuedUnits"] = "10",
            ["Api:Quota:RetryAfter"] = "00:00:07",
        });
        public async Task DisposeAsync() => await Host.DisposeAsync();
    }

    private TestSilo Host => fixture.Host;

    private static object Job(int units) => new { kernel = "montecarlo-pi", parameters = new { samples = 1000 * units, units } };

    [Fact]
    public async Task Over_the_running_jobs_quota_is_429_with_retry_after_and_nothing_is_written()
    {
        using var http = await NewClientAsync();
        var jobs = new List<JobView>();
        for (var i = 0; i < 3; i++)
        {
            var accepted = await http.PostJobAsync(Job(1));
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
            jobs.Add(await accepted.ReadAsync<JobView>());
        }
        var before = await Host.AdminHttp.GetStringAsync("/jobs?limit=1000");

        var refused = await http.PostJobAsync(Job(1));
        Assert.Contains("MaxRunningJobs", await ApiProblem.AssertAsync(refused, HttpStatusCode.TooManyRequests));
        Assert.Equal(TimeSpan.FromSeconds(7), refused.Headers.RetryAfter?.Delta);
        Assert.Equal(before, await Host.AdminHttp.GetStringAsync("/jobs?limit=1000"));
        Assert.Equal(3, (await http.GetAsync<JobSummary[]>("/jobs")).Length);

        // A finished job leaves the quota: the client grain refreshes what it believes is running.
        Assert.Equal(HttpStatusCode.OK, (await http.PostAsync($"/jobs/{jobs[0].JobId}/cancel", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await http.PostJobAsync(Job(1))).StatusCode);
    }

    [Fact]
    public async Task Over_the_queued_units_quota_is_429_and_a_job_larger_than_the_quota_is_400()
    {
        using var http = await NewClientAsync();
        Assert.Equal(HttpStatusCode.Accepted, (await http.PostJobAsync(Job(8))).StatusCode);
        var before = await Host.AdminHttp.GetStringAsync("/jobs?limit=1000");

        var refused = await http.PostJobAsync(Job(4));
        Assert.Contains("MaxQueuedUnits", await ApiProblem.AssertAsync(refused, HttpStatusCode.TooManyRequests));
        Assert.NotNull(refused.Headers.RetryAfter);
        Assert.Contains("split it", await ApiProblem.AssertAsync(await http.PostJobAsync(Job(20)), HttpStatusCode.BadRequest));
        Assert.Equal(before, await Host.AdminHttp.GetStringAsync("/jobs?limit=1000"));
        Assert.Equal(HttpStatusCode.Accepted, (await http.PostJobAsync(Job(2))).StatusCode);
    }

    [Fact]
    public async Task The_key_store_is_bounded_with_a_409_when_full()
    {
        await using var silo = await TestSilo.StartAsync(workers: false, new Dictionary<string, string?> { ["Auth:MaxKeys"] = "3" });
        Assert.Equal(HttpStatusCode.Created, (await silo.AdminHttp.PostAsJsonAsync("/keys", new { role = "client" })).StatusCode);
        var full = await silo.AdminHttp.PostAsJsonAsync("/keys", new { role = "client" });
        Assert.Contains("Auth:MaxKeys", await ApiProblem.AssertAsync(full, HttpStatusCode.Conflict));

        var clientKeyId = DePin.Silo.Api.Auth.ApiKeyFormat.KeyIdOf(silo.ClientKey);
        Assert.Equal(HttpStatusCode.OK, (await silo.AdminHttp.PostAsync($"/keys/{clientKeyId}/revoke", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await silo.AdminHttp.PostAsJsonAsync("/keys", new { role = "client" })).StatusCode);
    }

    [Fact]
    public async Task Concurrent_submissions_of_one_key_never_exceed_its_quota()
    {
        // The key's grain is reentrant (submissions of one key do not wait for each other's jobs); the quota holds anyway.
        using var http = await NewClientAsync();
        var answers = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => http.PostJobAsync(Job(1))));
        Assert.Equal(3, answers.Count(a => a.StatusCode == HttpStatusCode.Accepted));
        Assert.Equal(9, answers.Count(a => a.StatusCode == HttpStatusCode.TooManyRequests));
        Assert.Equal(3, (await http.GetAsync<JobSummary[]>("/jobs")).Length);
    }

    [Fact]
    public async Task Concurrent_submissions_with_one_idempotency_key_make_one_job()
    {
        using var http = await NewClientAsync();
        var answers = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/jobs") { Content = JsonContent.Create(Job(1)) };
            request.Headers.TryAddWithoutValidation("Idempotency-Key", "same-key-at-once");
            return http.SendAsync(request);
        }));
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.Accepted, a.StatusCode));
        var ids = await Task.WhenAll(answers.Select(async a => (await a.ReadAsync<JobView>()).JobId));
        Assert.Single(ids.Distinct());
        Assert.Equal(5, answers.Count(a => a.Headers.Contains("Idempotent-Replayed")));
        Assert.Single(await http.GetAsync<JobSummary[]>("/jobs"));
    }

    private async Task<HttpClient> NewClientAsync()
    {
        var response = await Host.AdminHttp.PostAsJsonAsync("/keys", new { role = "client" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return Host.CreateHttp((await response.ReadAsync<CreatedApiKey>()).Key);
    }
}
