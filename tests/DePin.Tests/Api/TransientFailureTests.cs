using DePin.Grains.Storage;
using DePin.Silo.Api;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace DePin.Tests.Api;

/// <summary>Storage or silo failures reach a client as 503 problem+json with Retry-After, never a 500; other errors are not masked.</summary>
public sealed class TransientFailureTests
{
    private static async Task<(bool Handled, HttpContext Http, string Body)> HandleAsync(Exception exception)
    {
        var http = new DefaultHttpContext { RequestServices = new ServiceCollection().AddLogging().AddProblemDetails().BuildServiceProvider() };
        http.Response.Body = new MemoryStream();
        var handled = await new ApiExceptionProblems().TryHandleAsync(http, exception, CancellationToken.None);
        http.Response.Body.Position = 0;
        return (handled, http, await new StreamReader(http.Response.Body).ReadToEndAsync());
    }

    [Theory]
    [InlineData("timeout")]
    [InlineData("replaced")]
    [InlineData("wrapped")]
    public async Task A_storage_or_silo_failure_is_503_with_retry_after(string kind)
    {
        Exception failure = kind switch
        {
            "timeout" => new TimeoutException("Response did not arrive on time"),
            "replaced" => new ActivationReplacedException("a storage write failed"),
            _ => new InvalidOperationException("outer", new StackExchange.Redis.RedisConnectionException(StackExchange.Redis.ConnectionFailureType.SocketFailure, "down")),
        };
        var (handled, http, body) = await HandleAsync(failure);
        Assert.True(handled);
        Assert.Equal(503, http.Response.StatusCode);
        Assert.Equal("1", http.Response.Headers.RetryAfter.ToString());
        Assert.Contains("\"status\":503", body);
        Assert.DoesNotContain("down", body); // the cause is not echoed to the client
    }

    [Fact]
    public async Task A_bug_is_not_dressed_up_as_unavailability()
    {
        var (handled, _, _) = await HandleAsync(new NullReferenceException());
        Assert.False(handled);
    }
}
