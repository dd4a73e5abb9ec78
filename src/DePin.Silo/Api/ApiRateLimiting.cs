using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;

namespace DePin.Silo.Api;

/// <summary>
/// Per-client limits on job submission (ASP.NET Core rate limiting): a token bucket per remote address, so one client
/// cannot flood the scheduler. <c>Api:SubmitsPerSecond</c> (default 200) refills the bucket, <c>Api:SubmitBurst</c>
/// (default 400) is its size; 0 disables the limit. A refused request gets 429 problem+json with Retry-After.
/// </summary>
public static class ApiRateLimiting
{
    /// <summary>The policy on <c>POST /jobs</c>.</summary>
    public const string SubmitPolicy = "submit";

    /// <summary>Registers the policies.</summary>
    public static IServiceCollection AddJobApiRateLimiting(this IServiceCollection services, IConfiguration configuration)
    {
        var perSecond = configuration.GetValue("Api:SubmitsPerSecond", 200);
        var burst = configuration.GetValue("Api:SubmitBurst", 2 * perSecond);
        services.AddRateLimiter(o =>
        {
            o.AddPolicy(SubmitPolicy, http => perSecond <= 0
                ? RateLimitPartition.GetNoLimiter("all")
                : RateLimitPartition.GetTokenBucketLimiter(http.Connection.RemoteIpAddress?.ToString() ?? "unknown", _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = Math.Max(1, burst),
                    TokensPerPeriod = perSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                }));
            o.OnRejected = async (context, cancellationToken) =>
            {
                var http = context.HttpContext;
                http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                if (context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
                    http.Response.Headers.RetryAfter = Math.Ceiling(retryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture);
                await Results.Problem(statusCode: 429, title: "Too many requests",
                    detail: $"This client may submit at most {perSecond} jobs per second (bursts of {burst}); retry later.")
                    .ExecuteAsync(http);
            };
        });
        return services;
    }
}
