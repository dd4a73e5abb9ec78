using System.Net;
using DePin.Client;

namespace DePin.Cli.Tests;

/// <summary>A silo whose public endpoints and submissions allow one request per second (bursts of one).</summary>
public sealed class RateLimitedSiloFixture : SiloFixture
{
    /// <inheritdoc />
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Api:PublicRequestsPerSecond"] = "1",
        ["Api:PublicBurst"] = "1",
        ["Api:SubmitsPerSecond"] = "1",
        ["Api:SubmitBurst"] = "1",
    };
}

/// <summary>
/// The refusal the public endpoints (<c>GET /kernels</c>, accounts, epochs) and submissions can give: 429 with its detail as
/// a one-line CLI error, and as <see cref="DePinApiException"/> from the client.
/// </summary>
public sealed class RateLimitTests(RateLimitedSiloFixture fixture) : IClassFixture<RateLimitedSiloFixture>
{
    /// <summary>Runs the command a few times back to back; at most one per second passes, so some are refused.</summary>
    private async Task<Outcome> FirstRefusalAsync(params string[] args)
    {
        for (var i = 0; i < 5; i++)
        {
            var o = await fixture.RunAsync(args);
            if (o.ExitCode != 0) return o;
        }
        throw new Xunit.Sdk.XunitException($"five `depin {string.Join(' ', args)}` in a row were all accepted");
    }

    [Fact]
    public async Task Kernels_beyond_the_public_rate_are_refused_with_the_limit()
    {
        var refused = await FirstRefusalAsync("kernels");
        Assert.Equal(1, refused.ExitCode);
        Assert.Equal("error: Too many requests: This address may make at most 1 unauthenticated requests per second (bursts of 1); retry later.", refused.Err.Trim());

        using var client = fixture.Anonymous();
        var ex = await Assert.ThrowsAsync<DePinApiException>(async () =>
        {
            for (var i = 0; i < 5; i++) await client.ListKernelsAsync();
        });
        Assert.Equal(HttpStatusCode.TooManyRequests, ex.StatusCode);
    }

    [Fact]
    public async Task Submissions_beyond_the_keys_rate_are_refused_with_the_limit()
    {
        var refused = await FirstRefusalAsync("submit", "montecarlo-pi", "-p", """{"samples":1000,"units":1}""");
        Assert.Equal(1, refused.ExitCode);
        Assert.Equal("error: Too many requests: This API key may submit at most 1 jobs per second (bursts of 1); retry later.", refused.Err.Trim());
    }
}
