using System.Globalization;
using System.Threading.RateLimiting;
using DePin.Silo.Api.Auth;
using Microsoft.AspNetCore.RateLimiting;

namespace DePin.Silo.Api;

/// <summary>
/// Request rate limits (ASP.NET Core rate limiting), token buckets that answer 429 problem+json with Retry-After:
/// <list type="bullet">
/// <item><see cref="SubmitPolicy"/> on <c>POST /jobs</c>, per API key id: <c>Api:SubmitsPerSecond</c> (default 200)
/// refills the bucket, <c>Api:SubmitBurst</c> (default 400) is its size; 0 disables it.</item>
/// <item><see cref="PublicPolicy"/> on the endpoints that need no key, per client IP (the X-Forwarded-For address only
/// from <c>Api:KnownProxies</c>, see <see cref="ApiForwardedHeaders"/>): <c>Api:PublicRequestsPerSecond</c> (default 100),
/// <c>Api:PublicBurst</c> (default 200); 0 disables it.</item>
/// </list>
/// Quotas (running jobs, queued units per key) are not rates: the key's client grain enforces them.
/// </summary>
public static class ApiRateLimiting
{
    /// <summary>The policy on <c>POST /jobs</c>, partitioned by API key.</summary>
    public const string SubmitPolicy = "submit";

    /// <summary>The policy on unauthenticated reads, partitioned by client IP.</summary>
    public const string PublicPolicy = "public";

    /// <summary>Registers the policies.</summary>
    public static IServiceCollection AddJobApiRateLimiting(this IServiceCollection services, IConfiguration configuration)
    {
        var perSecond = configuration.GetValue("Api:SubmitsPerSecond", 200);
        var burst = configuration.GetValue("Api:SubmitBurst", 2 * perSecond);
        var publicPerSecond = configuration.GetValue("Api:PublicRequestsPerSecond", 100);
        var publicBurst = configuration.GetValue("Api:PublicBurst", 2 * publicPerSecond);
        services.AddRateLimiter(o =>
        {
            o.AddPolicy(SubmitPolicy, http => Bucket(http.User.ApiKeyId() ?? "anonymous", perSecond, burst));
            o.AddPolicy(PublicPolicy, http => Bucket(http.Connection.RemoteIpAddress?.ToString() ?? "unknown", publicPerSecond, publicBurst));
            o.OnRejected = async (context, cancellationToken) =>
            {
                var http = context.HttpContext;
                http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                if (context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
                    http.Response.Headers.RetryAfter = Math.Ceiling(retryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture);
                await Results.Problem(statusCode: 429, title: "Too many requests",
                    detail: http.GetEndpoint()?.Metadata.GetMetadata<EnableRateLimitingAttribute>()?.PolicyName switch
                    {
                        SubmitPolicy => $"This API key may submit at most {perSecond} jobs per second (bursts of {burst}); retry later.",
                        PublicPolicy => $"This address may make at most {publicPerSecond} unauthenticated requests per second (bursts of {publicBurst}); retry later.",
                        _ => "Too many requests; retry later.",
                    })
                    .ExecuteAsync(http);
            };
        });
        return services;
    }

    private static RateLimitPartition<string> Bucket(string partition, int perSecond, int burst) => perSecond <= 0
        ? RateLimitPartition.GetNoLimiter("all")
        : RateLimitPartition.GetTokenBucketLimiter(partition, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = Math.Max(1, burst),
            TokensPerPeriod = perSecond,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        });
}
