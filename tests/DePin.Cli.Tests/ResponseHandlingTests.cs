using System.Net;
using System.Security.Cryptography;
using System.Text;
using DePin.Client;

namespace DePin.Cli.Tests;

/// <summary>
/// Unit tests of <see cref="DePinClient"/>'s (and the CLI's) handling of answers a healthy DePin silo never gives: a proxy's
/// plain-text error, a result whose bytes do not match its digest. These alone use a canned response; every endpoint is
/// tested against a real silo elsewhere.
/// </summary>
public sealed class ResponseHandlingTests
{
    private sealed class Canned(Func<HttpResponseMessage> respond) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = respond();
            response.RequestMessage = request;
            return Task.FromResult(response);
        }
    }

    private static DePinClient Client(Func<HttpResponseMessage> respond) => new(new HttpClient(new Canned(respond)) { BaseAddress = new Uri("http://api.test/") });

    private static HttpResponseMessage Result(byte[] bytes, string? digest)
    {
        var r = new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(bytes) };
        r.Content.Headers.ContentType = new("application/json");
        if (digest is not null) r.Headers.Add("X-Result-Digest", digest);
        return r;
    }

    [Fact]
    public async Task A_non_problem_error_uses_the_reason_phrase_and_the_body()
    {
        using var client = Client(() => new HttpResponseMessage(HttpStatusCode.BadGateway) { Content = new StringContent("upstream down") });
        var ex = await Assert.ThrowsAsync<DePinApiException>(() => client.ListKernelsAsync());
        Assert.Equal(HttpStatusCode.BadGateway, ex.StatusCode);
        Assert.Equal("Bad Gateway", ex.Title);
        Assert.Equal("upstream down", ex.Detail);
    }

    [Fact]
    public async Task A_result_that_does_not_match_its_digest_or_has_none_is_refused()
    {
        var bytes = Encoding.UTF8.GetBytes("{}");
        var wrong = Convert.ToHexStringLower(SHA256.HashData([1, 2, 3]));
        using var mismatch = Client(() => Result(bytes, wrong));
        var ex = await Assert.ThrowsAsync<ResultDigestMismatchException>(() => mismatch.GetResultAsync("j1"));
        Assert.Equal(wrong, ex.Expected);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), ex.Actual);

        using var missing = Client(() => Result(bytes, null));
        await Assert.ThrowsAsync<ResultDigestMismatchException>(() => missing.GetResultAsync("j1"));
    }

    [Fact]
    public async Task The_cli_calls_a_mismatching_result_corrupt_with_exit_1()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await Cli.RunAsync(["result", "j1", "--api", "http://api.test"], new CliContext
        {
            Out = stdout,
            Error = stderr,
            Handler = new Canned(() => Result(Encoding.UTF8.GetBytes("{}"), new string('0', 64))),
        });
        Assert.Equal(1, code);
        Assert.Contains("corrupt", stderr.ToString());
        Assert.DoesNotContain("   at ", stderr.ToString());
    }
}
