using System.Net;
using DePin.Tests.Infrastructure;

namespace DePin.Tests.Api;

/// <summary>X-Forwarded-For decides the per-IP limit of public endpoints only when it comes from a configured proxy.</summary>
public sealed class ForwardedHeadersTests
{
    private static async Task<List<HttpStatusCode>> PublicReadsFromFiveAddressesAsync(TestSilo silo)
    {
        using var http = silo.CreateHttp(null);
        var statuses = new List<HttpStatusCode>();
        for (var i = 1; i <= 5; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/kernels");
            request.Headers.Add("X-Forwarded-For", $"203.0.113.{i}");
            statuses.Add((await http.SendAsync(request)).StatusCode);
        }
        return statuses;
    }

    private static readonly Dictionary<string, string?> OnePerSecond = new()
    {
        ["Api:PublicRequestsPerSecond"] = "1",
        ["Api:PublicBurst"] = "1",
    };

    [Theory]
    [InlineData("")]
    [InlineData("10.0.0.1,192.168.0.0/16")]
    public async Task From_an_unknown_sender_the_header_is_ignored(string knownProxies)
    {
        await using var silo = await TestSilo.StartAsync(workers: false, new Dictionary<string, string?>(OnePerSecond) { ["Api:KnownProxies"] = knownProxies });
        var statuses = await PublicReadsFromFiveAddressesAsync(silo);
        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
    }

    [Fact]
    public async Task From_a_known_proxy_each_forwarded_address_has_its_own_limit()
    {
        await using var silo = await TestSilo.StartAsync(workers: false, new Dictionary<string, string?>(OnePerSecond) { ["Api:KnownProxies"] = "127.0.0.1" });
        var statuses = await PublicReadsFromFiveAddressesAsync(silo);
        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
    }
}
