using System.Net;
using DePin.Tests.Infrastructure;

namespace DePin.Tests.Api;

/// <summary>Regressions found by <see cref="FuzzTests"/>: each hostile input gets a 4xx problem+json, never a 500.</summary>
public sealed class HostileInputTests(HostileInputTests.Silo fixture) : IClassFixture<HostileInputTests.Silo>
{
    /// <summary>A worker-less silo.</summary>
    public sealed class Silo : IAsyncLifetime
    {
        public TestSilo Host { get; private set; } = null!;
        public async Task InitializeAsync() => Host = await TestSilo.StartAsync(workers: false);
        public async Task DisposeAsync() => await Host.DisposeAsync();
    }

    [Theory]
    [InlineData("GET", "/nodes/%20")]
    [InlineData("GET", "/nodes/%09")]
    [InlineData("GET", "/jobs/%20%20")]
    [InlineData("GET", "/jobs/%0d%0a/result")]
    [InlineData("POST", "/jobs/%20/cancel")]
    [InlineData("DELETE", "/jobs/%09")]
    [InlineData("GET", "/keys/%20")]
    public async Task Blank_or_control_character_ids_are_400_problems(string method, string path)
    {
        using var response = await fixture.Host.AdminHttp.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        Assert.Contains("'", await ApiProblem.AssertAsync(response, HttpStatusCode.BadRequest));
    }

    [Fact]
    public async Task An_overlong_id_is_a_400_problem()
    {
        using var response = await fixture.Host.ClientHttp.GetAsync("/nodes/" + new string('n', 300));
        Assert.Contains("'nodeId'", await ApiProblem.AssertAsync(response, HttpStatusCode.BadRequest));
    }
}
