using DePin.Abstractions.Jobs;
using DePin.Grains;
using DePin.Grains.Jobs;
using DePin.Grains.Nodes;
using DePin.Silo.Api.Contracts;
using Microsoft.Extensions.Options;
using static DePin.Silo.Api.ApiProblems;

namespace DePin.Silo.Api;

/// <summary><c>/jobs</c>: submit, quote, list, follow, fetch the result, cancel.</summary>
public static class JobsEndpoints
{
    /// <summary>Maps the jobs group.</summary>
    public static RouteGroupBuilder MapJobsEndpoints(this IEndpointRouteBuilder app)
    {
        var jobs = app.MapGroup("/jobs").WithTags("Jobs");
        jobs.MapPost("/", SubmitAsync).WithSummary("Submit a job").RequireRateLimiting(ApiRateLimiting.SubmitPolicy).Accepts<SubmitJobRequest>("application/json")
            .Produces<JobView>(StatusCodes.Status202Accepted).ProducesProblem(400).ProducesProblem(413).ProducesProblem(429);
        jobs.MapPost("/quote", QuoteAsync).WithSummary("Price a job and estimate its run time per online node, without submitting it")
            .Accepts<SubmitJobRequest>("application/json").Produces<QuoteView>().ProducesProblem(400);
        jobs.MapGet("/", ListJobsAsync).WithSummary("List jobs, newest first");
        jobs.MapGet("/{jobId}", GetJobAsync).WithSummary("Job status and progress");
        jobs.MapGet("/{jobId}/result", GetResultAsync).WithSummary("The assembled result (content type depends on the kernel)");
        jobs.MapPost("/{jobId}/cancel", CancelAsync).WithSummary("Cancel a job");
        jobs.MapDelete("/{jobId}", CancelAsync).WithSummary("Cancel a job");
        return jobs;
    }

    private static async Task<IResult> SubmitAsync(HttpContext http, IGrainFactory grains)
    {
        var (request, problem) = await JobRequestReader.ReadAsync(http);
        if (request is null) return problem!;
        var jobId = Guid.NewGuid().ToString("N");
        var outcome = await grains.GetGrain<IJobGrain>(jobId).SubmitAsync(request);
        if (!outcome.Accepted) return Problem(400, "Job refused", outcome.Error!);
        return TypedResults.Accepted($"/jobs/{jobId}", outcome.Job);
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

    private static async Task<IResult> ListJobsAsync(IGrainFactory grains, string? status, int? offset, int? limit)
    {
        JobStatus? filter = null;
        if (status is not null)
        {
            if (!Enum.TryParse<JobStatus>(status, ignoreCase: true, out var s) || s == JobStatus.Unknown)
                return Problem(400, "Invalid filter", $"Unknown status '{status}'; use Submitted, Running, Completed, Failed or Cancelled.");
            filter = s;
        }
        if (InvalidPaging(offset, limit, 1000) is { } problem) return problem;
        return TypedResults.Ok(await JobDirectory.ListAsync(grains, filter, offset ?? 0, limit ?? 100));
    }

    private static async Task<IResult> GetJobAsync(string jobId, IGrainFactory grains) =>
        await grains.GetGrain<IJobGrain>(jobId).GetAsync() is { } job ? TypedResults.Ok(job) : JobNotFound(jobId);

    private static async Task<IResult> GetResultAsync(string jobId, IGrainFactory grains, HttpContext http)
    {
        var grain = grains.GetGrain<IJobGrain>(jobId);
        if (await grain.GetAsync() is not { } job) return JobNotFound(jobId);
        if (job.Status != JobStatus.Completed || await grain.GetResultAsync() is not { } result)
            return Problem(409, "No result", $"Job '{jobId}' is {job.Status}; a result exists only once it is Completed.");
        http.Response.Headers["X-Result-Digest"] = result.Digest;
        return TypedResults.Bytes(result.Data, result.ContentType, job.Kernel == "mandelbrot" ? $"{jobId}.png" : null);
    }

    private static async Task<IResult> CancelAsync(string jobId, IGrainFactory grains)
    {
        var grain = grains.GetGrain<IJobGrain>(jobId);
        if (await grain.GetAsync() is not { } job) return JobNotFound(jobId);
        if (job.Status.IsTerminal()) return Problem(409, "Job finished", $"Job '{jobId}' is already {job.Status}.");
        return TypedResults.Ok(await grain.CancelAsync());
    }
}
