using System.Net;
using System.Text;
using System.Text.Json;
using DePin.Abstractions.Jobs;
using DePin.Tests.Infrastructure;

namespace DePin.Tests.Api;

/// <summary>Every client error is a 4xx problem+json with a useful message, and a refused request writes nothing.</summary>
public sealed class ValidationTests(ValidationTests.Silo fixture) : IClassFixture<ValidationTests.Silo>
{
    /// <summary>A worker-less silo (jobs stay queued) with a small request-size limit.</summary>
    public sealed class Silo : IAsyncLifetime
    {
        public TestSilo Host { get; private set; } = null!;
        public async Task InitializeAsync() =>
            Host = await TestSilo.StartAsync(workers: false, new Dictionary<string, string?> { ["Api:MaxRequestBytes"] = "65536" });
        public async Task DisposeAsync() => await Host.DisposeAsync();
    }

    private HttpClient Http => fixture.Host.Http;

    public static TheoryData<string, string> RefusedJobs => new()
    {
        { "{not json", "not valid JSON" },
        { "[1,2]", "JSON object" },
        { """{"parameters":{}}""", "'kernel' is required" },
        { """{"kernel":42,"parameters":{}}""", "'kernel' is required" },
        { """{"kernel":"saxpy"}""", "'parameters' is required" },
        { """{"kernel":"saxpy","parameters":[1]}""", "'parameters' is required" },
        { """{"kernel":"quantum-sort","parameters":{}}""", "unknown kernel 'quantum-sort'" },
        { """{"kernel":"saxpy","parameters":{"a":1,"x":[1,2],"y":[1]}}""", "length" },
        { """{"kernel":"saxpy","parameters":{"a":"two","x":[1],"y":[1]}}""", "'a'" },
        { """{"kernel":"saxpy","parameters":{"a":1e39,"x":[1],"y":[1]}}""", "'a'" },
        { """{"kernel":"montecarlo-pi","parameters":{"samples":-5,"units":1}}""", "samples" },
        { """{"kernel":"montecarlo-pi","parameters":{"samples":1000000,"units":100000000}}""", "units" },
        { """{"kernel":"mandelbrot","parameters":{"width":0,"height":10,"maxIterations":10,"centerX":0,"centerY":0,"scale":1}}""", "width" },
        { """{"kernel":"montecarlo-pi","parameters":{"samples":1000,"units":1},"redundancy":0}""", "redundancy" },
        { """{"kernel":"montecarlo-pi","parameters":{"samples":1000,"units":1},"redundancy":"x"}""", "redundancy" },
        { """{"kernel":"montecarlo-pi","parameters":{"samples":1000,"units":1},"priority":1000}""", "priority" },
        { """{"kernel":"montecarlo-pi","parameters":{"samples":1000000,"units":64},"maxPriceMicroCredits":1}""", "exceeds the budget" },
        { """{"kernel":"montecarlo-pi","parameters":{"samples":1000,"units":1},"maxPriceMicroCredits":-1}""", "maxPriceMicroCredits" },
        { """{"kernel":"montecarlo-pi","parameters":{"samples":1000,"units":1},"requirements":{"deviceKinds":["TPU"]}}""", "unknown device kind 'TPU'" },
        { """{"kernel":"montecarlo-pi","parameters":{"samples":1000,"units":1},"requirements":{"deviceKinds":"Cuda"}}""", "deviceKinds" },
        { """{"kernel":"montecarlo-pi","parameters":{"samples":1000,"units":1},"requirements":{"minGflops":-1}}""", "minGflops" },
        { """{"kernel":"montecarlo-pi","parameters":{"samples":1000,"units":1},"requirements":7}""", "'requirements'" },
    };

    [Theory]
    [MemberData(nameof(RefusedJobs))]
    public async Task Invalid_job_is_refused_with_a_problem_and_nothing_is_written(string body, string expectedDetail)
    {
        var before = await Http.GetStringAsync("/jobs");
        var response = await Http.PostAsync("/jobs", new StringContent(body, Encoding.UTF8, "application/json"));

        var detail = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(expectedDetail, detail, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(before, await Http.GetStringAsync("/jobs"));
    }

    [Fact]
    public async Task Oversized_request_is_refused_with_413()
    {
        var x = string.Join(',', Enumerable.Repeat("1.0", 40_000));
        var body = $$$"""{"kernel":"saxpy","parameters":{"a":1,"x":[{{{x}}}],"y":[{{{x}}}]}}""";
        var response = await Http.PostAsync("/jobs", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Contains("exceeds", await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge));
    }

    [Theory]
    [InlineData("/accounts/0x1234", HttpStatusCode.BadRequest, "not an EVM address")]
    [InlineData("/accounts/0xzz70997970C51812dc3A010C7d01b50e0d17dc79", HttpStatusCode.BadRequest, "not an EVM address")]
    [InlineData("/accounts/0x00000000000000000000000000000000000000aa", HttpStatusCode.NotFound, "No earnings")]
    [InlineData("/jobs/0123456789abcdef0123456789abcdef", HttpStatusCode.NotFound, "No job")]
    [InlineData("/jobs/0123456789abcdef0123456789abcdef/result", HttpStatusCode.NotFound, "No job")]
    [InlineData("/jobs?status=Sleeping", HttpStatusCode.BadRequest, "Unknown status")]
    [InlineData("/jobs?limit=0", HttpStatusCode.BadRequest, "limit")]
    [InlineData("/epochs/99", HttpStatusCode.NotFound, "Epoch 99")]
    [InlineData("/nodes/nobody/cpu0", HttpStatusCode.NotFound, "No node")]
    public async Task Bad_or_unknown_ids_get_a_4xx_problem(string path, HttpStatusCode status, string expectedDetail)
    {
        var detail = await AssertProblemAsync(await Http.GetAsync(path), status);
        Assert.Contains(expectedDetail, detail);
    }

    [Fact]
    public async Task Result_of_an_unfinished_job_is_a_conflict_and_cancel_works_once()
    {
        var response = await Http.PostJobAsync(new { kernel = "montecarlo-pi", parameters = new { samples = 1000, units = 2 } });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var job = await response.ReadAsync<JobView>();
        Assert.Equal(JobStatus.Submitted, job.Status);

        Assert.Contains("Submitted", await AssertProblemAsync(await Http.GetAsync($"/jobs/{job.JobId}/result"), HttpStatusCode.Conflict));

        var cancel = await Http.PostAsync($"/jobs/{job.JobId}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        Assert.Equal(JobStatus.Cancelled, (await cancel.ReadAsync<JobView>()).Status);
        Assert.Contains("already Cancelled", await AssertProblemAsync(await Http.DeleteAsync($"/jobs/{job.JobId}"), HttpStatusCode.Conflict));
        Assert.Contains("No job", await AssertProblemAsync(await Http.PostAsync("/jobs/nope/cancel", null), HttpStatusCode.NotFound));

        var cancelled = await Http.GetAsync<JobSummary[]>("/jobs?status=Cancelled");
        Assert.Contains(cancelled, j => j.JobId == job.JobId);
    }

    private static async Task<string> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal((int)status, doc.RootElement.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(doc.RootElement.GetProperty("title").GetString()));
        return doc.RootElement.GetProperty("detail").GetString()!;
    }
}
