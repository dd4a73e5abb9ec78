using System.Net;
using DePin.Silo.Api;
using DePin.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

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

    [Theory]
    [InlineData("/node/v1/challenge")]
    [InlineData("/keys")]
    public async Task A_body_in_an_unknown_charset_is_a_415_problem(string path)
    {
        var content = new ByteArrayContent("{}"u8.ToArray());
        content.Headers.TryAddWithoutValidation("Content-Type", "application/json; charset=\"\"");
        using var response = await fixture.Host.AdminHttp.PostAsync(path, content);
        await ApiProblem.AssertAsync(response, HttpStatusCode.UnsupportedMediaType);
    }

    [Theory]
    [InlineData("POST", "/node/v1/lease", HttpStatusCode.Unauthorized)]
    [InlineData("GET", "/no/such/path", HttpStatusCode.NotFound)]
    [InlineData("PUT", "/jobs", HttpStatusCode.MethodNotAllowed)]
    public async Task Status_code_pages_are_problems_whatever_the_client_accepts(string method, string path, HttpStatusCode status)
    {
        using var http = fixture.Host.CreateHttp(fixture.Host.AdminKey); // an API key is no node token: 401 on /node/v1
        var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.Accept.ParseAdd("application/xml");
        using var response = await http.SendAsync(request);
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task An_unreadable_request_keeps_its_4xx_instead_of_a_500()
    {
        var http = new DefaultHttpContext { RequestServices = fixture.Host.Services };
        http.Response.Body = new MemoryStream();
        var handled = await new ApiExceptionProblems().TryHandleAsync(http,
            new BadHttpRequestException("Unexpected end of request content.", StatusCodes.Status400BadRequest), CancellationToken.None);

        Assert.True(handled);
        Assert.Equal(400, http.Response.StatusCode);
        Assert.StartsWith("application/problem+json", http.Response.ContentType);
    }

    [Theory]
    [InlineData("/jobs", "kernel")]
    [InlineData("/jobs/quote", "deviceKinds")]
    public async Task A_lone_surrogate_in_a_job_string_is_a_400_problem(string path, string field)
    {
        var body = field == "kernel"
            ? """{"kernel":"\ud800","parameters":{}}"""
            : """{"kernel":"montecarlo-pi","parameters":{"samples":1000,"units":1},"requirements":{"deviceKinds":["\ud800"]}}""";
        using var response = await fixture.Host.ClientHttp.PostAsync(path, new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Contains("UTF-16", await ApiProblem.AssertAsync(response, HttpStatusCode.BadRequest));
    }

    [Fact]
    public async Task A_null_result_in_a_node_report_is_a_400_problem()
    {
        using var anonymous = fixture.Host.CreateHttp(null);
        var node = await new NodeGateway.GatewayNode(anonymous).LoginAsync();
        using var response = await node.PostAsync("report", new { nodeId = node.NodeId, results = new object?[] { null }, signature = "0x" });
        Assert.Contains("leaseId", await ApiProblem.AssertAsync(response, HttpStatusCode.BadRequest));
    }

    [Theory]
    [InlineData("/epochs?offset=-1")]
    [InlineData("/epochs?limit=0")]
    [InlineData("/epochs?limit=2147483647")]
    public async Task Epoch_paging_out_of_range_is_a_400_problem_like_every_list(string path)
    {
        using var anonymous = fixture.Host.CreateHttp(null);
        using var response = await anonymous.GetAsync(path);
        Assert.Contains("'", await ApiProblem.AssertAsync(response, HttpStatusCode.BadRequest));
    }
}
