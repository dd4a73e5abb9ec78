using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using DePin.Client;

namespace DePin.Cli.Tests;

public class DePinClientTests
{
    private static DePinClient Client(StubHandler handler, string baseUrl = "http://api.test/") =>
        new(new HttpClient(handler) { BaseAddress = new Uri(baseUrl) });

    [Fact]
    public async Task ProblemJson_BecomesApiException_WithTitleAndDetail()
    {
        var stub = new StubHandler(_ => StubHandler.Problem(HttpStatusCode.NotFound, "Unknown job", "No job 'abc' exists."));
        using var client = Client(stub);

        var ex = await Assert.ThrowsAsync<DePinApiException>(() => client.GetJobAsync("abc"));

        Assert.Equal(HttpStatusCode.NotFound, ex.StatusCode);
        Assert.Equal("Unknown job", ex.Title);
        Assert.Equal("No job 'abc' exists.", ex.Detail);
    }

    [Fact]
    public async Task NonProblemError_UsesReasonPhraseAndBodyExcerpt()
    {
        var stub = new StubHandler(_ => new HttpResponseMessage(HttpStatusCode.BadGateway) { Content = new StringContent("upstream down") });
        using var client = Client(stub);

        var ex = await Assert.ThrowsAsync<DePinApiException>(() => client.ListKernelsAsync());

        Assert.Equal(HttpStatusCode.BadGateway, ex.StatusCode);
        Assert.Equal("Bad Gateway", ex.Title);
        Assert.Equal("upstream down", ex.Detail);
    }

    [Fact]
    public async Task Submit_PostsCamelCaseBody_AndParsesStringEnums()
    {
        var stub = new StubHandler(_ => StubHandler.Json(StubHandler.JobJson("j1", "Submitted", 0, 4), HttpStatusCode.Accepted));
        using var client = Client(stub, "http://api.test/base");

        var job = await client.SubmitJobAsync("saxpy", new { a = 2, x = new[] { 1f }, y = new[] { 2f } },
            new SubmitJobOptions { Redundancy = 2, MaxPriceMicroCredits = 5000 });

        Assert.Equal("j1", job.JobId);
        Assert.Equal(JobStatus.Submitted, job.Status);
        Assert.Equal(4, job.UnitCount);
        var (method, path, body) = Assert.Single(stub.Requests);
        Assert.Equal(HttpMethod.Post, method);
        Assert.Equal("/base/jobs", path);
        using var doc = JsonDocument.Parse(body!);
        Assert.Equal("saxpy", doc.RootElement.GetProperty("kernel").GetString());
        Assert.Equal(2, doc.RootElement.GetProperty("parameters").GetProperty("a").GetInt32());
        Assert.Equal(2, doc.RootElement.GetProperty("redundancy").GetInt32());
        Assert.Equal(5000, doc.RootElement.GetProperty("maxPriceMicroCredits").GetInt64());
        Assert.False(doc.RootElement.TryGetProperty("priority", out _));
    }

    [Fact]
    public async Task Submit_RejectsNonObjectParameters()
    {
        using var client = Client(new StubHandler(_ => throw new InvalidOperationException("no request expected")));
        using var doc = JsonDocument.Parse("[1,2]");
        await Assert.ThrowsAsync<ArgumentException>(() => client.SubmitJobAsync("saxpy", doc.RootElement));
    }

    private static HttpResponseMessage Result(byte[] bytes, string contentType, string? digest)
    {
        var r = new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(bytes) };
        r.Content.Headers.ContentType = new(contentType);
        if (digest is not null) r.Headers.Add("X-Result-Digest", digest);
        return r;
    }

    [Fact]
    public async Task GetResult_VerifiesDigest()
    {
        var bytes = Encoding.UTF8.GetBytes("""{"pi":3.14}""");
        var digest = Convert.ToHexStringLower(SHA256.HashData(bytes));
        using var client = Client(new StubHandler(_ => Result(bytes, "application/json", digest)));

        var result = await client.GetResultAsync("j1");

        Assert.Equal(bytes, result.Bytes);
        Assert.Equal(digest, result.Digest);
        Assert.True(result.IsText);
        Assert.StartsWith("application/json", result.ContentType);
    }

    [Fact]
    public async Task GetResult_DigestMismatch_Throws()
    {
        var bytes = new byte[] { 0x89, 0x50, 0x4E, 0x47 };
        var wrong = Convert.ToHexStringLower(SHA256.HashData([1, 2, 3]));
        using var client = Client(new StubHandler(_ => Result(bytes, "image/png", wrong)));

        var ex = await Assert.ThrowsAsync<ResultDigestMismatchException>(() => client.GetResultAsync("j1"));
        Assert.Equal(wrong, ex.Expected);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), ex.Actual);
    }

    [Fact]
    public async Task GetResult_MissingDigestHeader_Throws()
    {
        using var client = Client(new StubHandler(_ => Result([1, 2], "image/png", null)));
        await Assert.ThrowsAsync<ResultDigestMismatchException>(() => client.GetResultAsync("j1"));
    }

    [Fact]
    public async Task GetResult_NotCompleted_Gives409Problem()
    {
        using var client = Client(new StubHandler(_ => StubHandler.Problem(HttpStatusCode.Conflict, "No result", "Job 'j1' is Running.")));
        var ex = await Assert.ThrowsAsync<DePinApiException>(() => client.GetResultAsync("j1"));
        Assert.Equal(HttpStatusCode.Conflict, ex.StatusCode);
        Assert.Equal("No result", ex.Title);
    }

    [Fact]
    public async Task WaitForCompletion_ReportsChangesAndReturnsTerminalState()
    {
        var states = new Queue<string>([
            StubHandler.JobJson("j1", "Submitted", 0, 4),
            StubHandler.JobJson("j1", "Running", 1, 4),
            StubHandler.JobJson("j1", "Running", 1, 4), // unchanged: not reported
            StubHandler.JobJson("j1", "Running", 3, 4),
            StubHandler.JobJson("j1", "Completed", 4, 4),
        ]);
        var stub = new StubHandler(_ => StubHandler.Json(states.Dequeue()));
        using var client = Client(stub);
        var reported = new List<JobInfo>();

        var final = await client.WaitForCompletionAsync("j1", new Sync(reported.Add), TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(10));

        Assert.Equal(JobStatus.Completed, final.Status);
        Assert.Equal([0, 1, 3, 4], reported.Select(j => j.UnitsCompleted));
        Assert.Equal(5, stub.Requests.Count);
        Assert.All(stub.Requests, r => Assert.Equal("/jobs/j1", r.PathAndQuery));
    }

    [Fact]
    public async Task WaitForCompletion_TimesOut()
    {
        using var client = Client(new StubHandler(_ => StubHandler.Json(StubHandler.JobJson("j1", "Running", 1, 4))));
        await Assert.ThrowsAsync<TimeoutException>(() =>
            client.WaitForCompletionAsync("j1", null, TimeSpan.FromMilliseconds(5), TimeSpan.FromMilliseconds(50)));
    }

    [Fact]
    public async Task CloseEpoch_NoContent_ReturnsNull_AndOkParsesEpoch()
    {
        var first = true;
        using var client = Client(new StubHandler(_ =>
        {
            if (first)
            {
                first = false;
                return new HttpResponseMessage(HttpStatusCode.NoContent);
            }
            return StubHandler.Json("""{"epoch":3,"closedAt":"2025-01-01T00:00:00Z","entries":[{"address":"0xabc","cumulativeMicroCredits":10,"deltaMicroCredits":4}],"totalCumulativeMicroCredits":10,"epochMicroCredits":4,"state":"NotSent","merkleRoot":null,"transactionHash":null}""");
        }));

        Assert.Null(await client.CloseEpochAsync());
        var epoch = await client.CloseEpochAsync();
        Assert.NotNull(epoch);
        Assert.Equal(3, epoch.Epoch);
        Assert.Equal(SettlementState.NotSent, epoch.State);
        Assert.Equal(4, Assert.Single(epoch.Entries).DeltaMicroCredits);
    }

    [Fact]
    public async Task ListJobs_SendsStatusAndPaging_EscapesIds()
    {
        var stub = new StubHandler(r => r.RequestUri!.AbsolutePath == "/jobs"
            ? StubHandler.Json("""[{"jobId":"a","kernel":"saxpy","status":"Running","unitCount":2,"submittedAt":"2025-01-01T00:00:00Z"}]""")
            : StubHandler.Problem(HttpStatusCode.NotFound, "Unknown account", "none"));
        using var client = Client(stub);

        var jobs = await client.ListJobsAsync(JobStatus.Running, 5, 10);
        await Assert.ThrowsAsync<DePinApiException>(() => client.GetAccountAsync("a/b c"));

        Assert.Equal(JobStatus.Running, Assert.Single(jobs).Status);
        Assert.Equal("/jobs?offset=5&limit=10&status=Running", stub.Requests[0].PathAndQuery);
        Assert.Equal("/accounts/a%2Fb%20c", stub.Requests[1].PathAndQuery);
    }

    [Fact]
    public void Constructors_ValidateBaseAddress()
    {
        Assert.Throws<ArgumentException>(() => new DePinClient(new HttpClient()));
        Assert.Throws<ArgumentException>(() => new DePinClient(new Uri("ftp://x/")));
        using var c = new DePinClient(new Uri("http://127.0.0.1:5080"));
        Assert.Equal("http://127.0.0.1:5080/", c.BaseAddress.ToString());
    }

    private sealed class Sync(Action<JobInfo> report) : IProgress<JobInfo>
    {
        public void Report(JobInfo value) => report(value);
    }
}
