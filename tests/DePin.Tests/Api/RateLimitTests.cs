using System.Net;
using System.Text.Json;
using DePin.Tests.Infrastructure;

namespace DePin.Tests.Api;

/// <summary>Job submission is rate limited per client, with a 429 problem that says when to retry.</summary>
public sealed class RateLimitTests
{
    [Fact]
    public async Task Submissions_beyond_the_burst_get_429_problem_with_retry_after()
    {
        await using var silo = await TestSilo.StartAsync(workers: false, new Dictionary<string, string?>
        {
            ["Api:SubmitsPerSecond"] = "1",
            ["Api:SubmitBurst"] = "3",
        });
        var body = new { kernel = "montecarlo-pi", parameters = new { samples = 1000, units = 1 } };
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? refused = null;
        for (var i = 0; i < 6; i++)
        {
            var response = await silo.Http.PostJobAsync(body);
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests) refused ??= response;
        }

        Assert.True(statuses.Count(s => s == HttpStatusCode.Accepted) is >= 3 and <= 5, string.Join(",", statuses));
        Assert.NotNull(refused);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.True(refused.Headers.RetryAfter is not null);
        using var doc = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
        Assert.Contains("at most 1 jobs per second", doc.RootElement.GetProperty("detail").GetString());
        // Reads are not limited.
        Assert.Equal(HttpStatusCode.OK, (await silo.Http.GetAsync("/jobs")).StatusCode);
    }
}
