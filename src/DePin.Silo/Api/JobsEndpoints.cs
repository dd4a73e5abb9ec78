using System.Globalization;
using System.Security.Claims;
using DePin.Abstractions.Clients;
using DePin.Abstractions.Jobs;
using DePin.Grains;
using DePin.Grains.Jobs;
using DePin.Grains.Nodes;
using DePin.Silo.Api.Auth;
using DePin.Silo.Api.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using static DePin.Silo.Api.ApiProblems;

namespace DePin.Silo.Api;

/// <summary>
/// <c>/jobs</c> (client keys): submit, quote, list, follow, fetch the result, cancel. A job belongs to the key that
/// submitted it: another client key gets 404 for it, as if it did not exist; admin keys see and may cancel every job.
/// </summary>
public static class JobsEndpoints
{
    /// <summary>Header that makes <c>POST /jobs</c> safe to retry.</summary>
    public const string IdempotencyHeader = "Idempotency-Key";

    /// <summary>Longest accepted Idempotency-Key.</summary>
    public const int MaxIdempotencyKeyLength = 200;

    /// <summary>Maps the jobs group.</summary>
    public static RouteGroupBuilder MapJobsEndpoints(this IEndpointRouteBuilder app)
    {
        var jobs = app.MapGroup("/jobs").WithTags("Jobs").RequireAuthorization(DePinAuthentication.ClientPolicy);
        jobs.MapPost("/", SubmitAsync).WithName("submitJob").WithSummary("Submit a job").RequireRateLimiting(ApiRateLimiting.SubmitPolicy).Accepts<SubmitJobRequest>("application/json")
            .Produces<JobView>(StatusCodes.Status202Accepted).ProducesProblem(400).ProducesProblem(409).ProducesProblem(413).ProducesProblem(429);
        jobs.MapPost("/quote", QuoteAsync).WithName("quoteJob").WithSummary("Price a job and estimate its run time per online node, without submitting it")
            .Accepts<SubmitJobRequest>("application/json").Produces<QuoteView>().ProducesProblem(400);
        jobs.MapGet("/", ListJobsAsync).WithName("listJobs").WithSummary("List your jobs (admins: all jobs), newest first")
            .Produces<IReadOnlyList<JobSummary>>().ProducesProblem(400);
        jobs.MapGet("/{jobId}", GetJobAsync).WithName("getJob").WithSummary("Job status and progress").Produces<JobView>().ProducesProblem(404).ProducesProblem(410);
        jobs.MapGet("/{jobId}/result", GetResultAsync).WithName("getJobResult").WithSummary("The assembled result (content type depends on the kernel)")
            .Produces<byte[]>(contentType: "application/octet-stream").ProducesProblem(404).ProducesProblem(409).ProducesProblem(410);
        jobs.MapPost("/{jobId}/cancel", CancelAsync).WithName("cancelJob").WithSummary("Cancel a job").Produces<JobView>().ProducesProblem(404).ProducesProblem(409).ProducesProblem(410);
        jobs.MapDelete("/{jobId}", CancelAsync).WithName("deleteJob").WithSummary("Cancel a job (same as POST /jobs/{jobId}/cancel)")
            .Produces<JobView>().ProducesProblem(404).ProducesProblem(409).ProducesProblem(410);
        return jobs;
    }

    private static async Task<IResult> SubmitAsync(HttpContext http, IGrainFactory grains)
    {
        string? idempotencyKey = null;
        if (http.Request.Headers.TryGetValue(IdempotencyHeader, out var header))
        {
            idempotencyKey = header.ToString().Trim();
            if (idempotencyKey.Length is 0 or > MaxIdempotencyKeyLength || idempotencyKey.Any(c => c < 0x21 || c > 0x7e))
                return Problem(400, "Invalid Idempotency-Key", $"The {IdempotencyHeader} header must be 1 to {MaxIdempotencyKeyLength} printable ASCII characters without spaces.");
        }
        var (request, problem) = await JobRequestReader.ReadAsync(http);
        if (request is null) return problem!;
        var requestHash = idempotencyKey is null ? null : JobRequestReader.Digest(request);

        var outcome = await grains.GetGrain<IClientGrain>(http.User.ApiKeyId()!).SubmitAsync(new ClientSubmission(request, idempotencyKey, requestHash));
        switch (outcome.Status)
        {
            case ClientSubmitStatus.Accepted or ClientSubmitStatus.Replayed:
                if (outcome.Status == ClientSubmitStatus.Replayed) http.Response.Headers["Idempotent-Replayed"] = "true";
                return TypedResults.Accepted($"/jobs/{outcome.Job!.JobId}", outcome.Job);
            case ClientSubmitStatus.QuotaExceeded:
                var retryAfter = Math.Max(1, (int)Math.Ceiling((outcome.RetryAfter ?? TimeSpan.FromSeconds(5)).TotalSeconds));
                http.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
                return Problem(429, "Quota exceeded", outcome.Error!);
            case ClientSubmitStatus.IdempotencyConflict:
                return Problem(409, "Idempotency-Key reused", outcome.Error!);
            default:
                return Problem(400, "Job refused", outcome.Error!);
        }
    }

    private static async Task<IResult> QuoteAsync(HttpContext http, IGrainFactory grains, IOptions<SchedulerOptions> options)
    {
        var (request, problem) = await JobRequestReader.ReadAsync(http);
        if (request is null) return problem!;
        if (JobQuote.TryCreate(request, options.Value, out var error) is not { } quote) return Problem(400, "Job refused", error!);
        var nodes = await NodeDirectory.ListAsync(grains);
        return TypedResults.Ok(new QuoteView(quote.Kernel.Name, quote.Plan.UnitCount, quote.PricePerUnitMicroCredits, quote.PriceMicroCredits,
            quote.EstimatedGflop, [.. nodes.Where(n => n.Online).Select(n => new NodeEstimate(n.NodeId, n.Capabilities.DeviceKind,
                n.Capabilities.SgemmGflops, quote.EffectiveRequirements(request.Requirements).AreMetBy(n.Capabilities),
                n.Capabilities.SgemmGflops > 0 ? quote.EstimatedGflop * request.Redundancy / n.Capabilities.SgemmGflops : null))]));
    }

    private static async Task<IResult> ListJobsAsync(ClaimsPrincipal user, IGrainFactory grains, string? status, int? offset, int? limit)
    {
        JobStatus? filter = null;
        if (status is not null)
        {
            if (!Enum.TryParse<JobStatus>(status, ignoreCase: true, out var s) || s == JobStatus.Unknown)
                return Problem(400, "Invalid filter", $"Unknown status '{status}'; use Submitted, Running, Completed, Failed or Cancelled.");
            filter = s;
        }
        if (InvalidPaging(offset, limit, 1000) is { } problem) return problem;
        return TypedResults.Ok(user.IsAdmin()
            ? await JobDirectory.ListAsync(grains, filter, offset ?? 0, limit ?? 100)
            : await grains.GetGrain<IClientGrain>(user.ApiKeyId()!).ListJobsAsync(filter, offset ?? 0, limit ?? 100));
    }

    private static async Task<IResult> GetJobAsync(string jobId, ClaimsPrincipal user, IGrainFactory grains, IOptions<SchedulerOptions> options, TimeProvider clock) =>
        await grains.GetGrain<IJobGrain>(jobId).GetAsync() is { } job
            ? MayAccess(user, job) ? TypedResults.Ok(job) : JobNotFound(jobId)
            : Missing(jobId, options.Value, clock);

    private static async Task<IResult> GetResultAsync(string jobId, IGrainFactory grains, HttpContext http, IOptions<SchedulerOptions> options, TimeProvider clock)
    {
        var grain = grains.GetGrain<IJobGrain>(jobId);
        if (await grain.GetAsync() is not { } job) return Missing(jobId, options.Value, clock);
        if (!MayAccess(http.User, job)) return JobNotFound(jobId);
        if (job.Status != JobStatus.Completed || await grain.GetResultAsync() is not { } result)
            return Problem(409, "No result", $"Job '{jobId}' is {job.Status}; a result exists only once it is Completed.");
        http.Response.Headers["X-Result-Digest"] = result.Digest;
        return TypedResults.Bytes(result.Data, result.ContentType, job.Kernel == "mandelbrot" ? $"{jobId}.png" : null);
    }

    private static async Task<IResult> CancelAsync(string jobId, ClaimsPrincipal user, IGrainFactory grains, IOptions<SchedulerOptions> options, TimeProvider clock)
    {
        var grain = grains.GetGrain<IJobGrain>(jobId);
        if (await grain.GetAsync() is not { } job) return Missing(jobId, options.Value, clock);
        if (!MayAccess(user, job)) return JobNotFound(jobId);
        if (job.Status.IsTerminal()) return Problem(409, "Job finished", $"Job '{jobId}' is already {job.Status}.");
        return TypedResults.Ok(await grain.CancelAsync());
    }

    /// <summary>
    /// No such job: 410 when its id says it was created longer ago than the retention (it ran, finished and was deleted),
    /// else 404. Says nothing about who owned it.
    /// </summary>
    private static ProblemHttpResult Missing(string jobId, SchedulerOptions options, TimeProvider clock) =>
        JobIds.IsPastRetention(jobId, options.JobRetention, clock.GetUtcNow())
            ? Problem(410, "Job expired", $"Job '{jobId}' finished more than {FormatRetention(options.JobRetention)} ago; finished jobs and their results are kept for {FormatRetention(options.JobRetention)} (Scheduler:JobRetention), then deleted.")
            : JobNotFound(jobId);

    private static string FormatRetention(TimeSpan retention) =>
        retention.TotalDays >= 1 && retention.TotalDays == Math.Floor(retention.TotalDays) ? $"{retention.TotalDays:0} days" : retention.ToString("c", CultureInfo.InvariantCulture);

    /// <summary>Owners and admins; to anyone else the job does not exist (404, not 403: job ids are not confirmed to strangers).</summary>
    private static bool MayAccess(ClaimsPrincipal user, JobView job) => user.IsAdmin() || (job.Owner is not null && job.Owner == user.ApiKeyId());
}
