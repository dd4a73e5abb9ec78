using System.Text.Json;
using System.Text.Json.Serialization;
using DePin.Abstractions;
using DePin.Abstractions.Jobs;
using DePin.Abstractions.Nodes;
using DePin.Abstractions.Rewards;
using DePin.Compute.Catalog;
using DePin.Grains;
using DePin.Grains.Jobs;
using DePin.Grains.Nodes;
using DePin.Grains.Settlement;
using Microsoft.Extensions.Options;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DePin.Silo.Api;

/// <summary>
/// The HTTP job API (minimal APIs). Every client error is an RFC 7807 problem+json with a message saying what to fix;
/// a refused request writes nothing.
/// </summary>
public static class JobApi
{
    /// <summary>Default largest request body (<c>Api:MaxRequestBytes</c>); kernels check their own input limits after parsing.</summary>
    public const long DefaultMaxRequestBytes = 64L << 20;

    /// <summary>JSON conventions of the API: camelCase, enums as strings.</summary>
    public static void ConfigureJson(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.Converters.Add(new JsonStringEnumConverter());
    }

    /// <summary>Maps the API's endpoints.</summary>
    public static void MapJobApi(this IEndpointRouteBuilder app)
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

        app.MapGet("/kernels", () => KernelCatalog.Default.All.OrderBy(k => k.Name)
            .Select(k => new KernelInfo(k.Name, k.Description, k.Comparison.ToString()))).WithTags("Catalog");

        app.MapGet("/nodes", ListNodesAsync).WithTags("Nodes").WithSummary("Registered nodes, ordered by id");
        app.MapGet("/nodes/{**nodeId}", GetNodeAsync).WithTags("Nodes");

        app.MapGet("/accounts/{address}", GetAccountAsync).WithTags("Rewards");
        app.MapGet("/accounts/{address}/proof", GetProofAsync).WithTags("Rewards")
            .WithSummary("Latest on-chain cumulative amount and Merkle proof, for claiming");
        app.MapGet("/accounts/{address}/statement", GetStatementAsync).WithTags("Rewards")
            .WithSummary("Earnings statement: units, credits, and every epoch with its transaction");
        app.MapGet("/settlement", (SettlementGateway gateway, IOptions<SettlementHostOptions> options) => new SettlementInfo(
            options.Value.Mode.ToString(), gateway.IsEnabled, gateway.Options?.RpcUrl, gateway.Options?.ChainId,
            gateway.Options?.DistributorAddress, gateway.Options?.TokenAddress, gateway.IsEnabled ? gateway.Settler.SettlerAddress : null,
            gateway.WeiPerMicroCredit.ToString())).WithTags("Rewards").WithSummary("Where epochs are settled");
        app.MapGet("/epochs", async (IGrainFactory grains, int? offset, int? limit) =>
            await grains.GetGrain<ILedgerGrain>(0).ListEpochsAsync(offset ?? 0, limit ?? 50)).WithTags("Rewards");
        app.MapGet("/epochs/{epoch:long}", GetEpochAsync).WithTags("Rewards");
        app.MapPost("/epochs/close", CloseEpochAsync).WithTags("Rewards").WithSummary("Close the open epoch now (operator action)");
    }

    private static async Task<IResult> SubmitAsync(HttpContext http, IGrainFactory grains)
    {
        var (request, problem) = await ReadJobRequestAsync(http);
        if (request is null) return problem!;
        var jobId = Guid.NewGuid().ToString("N");
        var outcome = await grains.GetGrain<IJobGrain>(jobId).SubmitAsync(request);
        if (!outcome.Accepted) return Problem(400, "Job refused", outcome.Error!);
        return TypedResults.Accepted($"/jobs/{jobId}", outcome.Job);
    }

    private static async Task<IResult> QuoteAsync(HttpContext http, IGrainFactory grains, IOptions<SchedulerOptions> options)
    {
        var (request, problem) = await ReadJobRequestAsync(http);
        if (request is null) return problem!;
        if (JobQuote.TryCreate(request, options.Value, out var error) is not { } quote) return Problem(400, "Job refused", error!);
        var nodes = await NodeDirectory.ListAsync(grains);
        return TypedResults.Ok(new QuoteView(quote.Kernel.Name, quote.Plan.UnitCount, quote.PricePerUnitMicroCredits, quote.PriceMicroCredits,
            quote.EstimatedGflop, [.. nodes.Where(n => n.Online).Select(n => new NodeEstimate(n.NodeId, n.Capabilities.DeviceKind,
                n.Capabilities.SgemmGflops, quote.EffectiveRequirements(request.Requirements).AreMetBy(n.Capabilities),
                n.Capabilities.SgemmGflops > 0 ? quote.EstimatedGflop * request.Redundancy / n.Capabilities.SgemmGflops : null))]));
    }

    /// <summary>Parses a job request body; on failure returns the problem to send instead.</summary>
    private static async Task<(JobRequest? Request, IResult? Problem)> ReadJobRequestAsync(HttpContext http)
    {
        JsonDocument body;
        try
        {
            body = await JsonDocument.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted);
        }
        catch (JsonException ex)
        {
            return (null, Problem(400, "Malformed JSON", $"The request body is not valid JSON: {ex.Message}"));
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            var limit = http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize;
            return (null, Problem(413, "Request too large", $"The request body exceeds the limit of {limit} bytes."));
        }

        using (body)
        {
            var root = body.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return Invalid("The request body must be a JSON object.");
            if (!root.TryGetProperty("kernel", out var kernel) || kernel.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(kernel.GetString()))
                return Invalid("'kernel' is required and must be a string naming a catalog kernel (GET /kernels).");
            if (!root.TryGetProperty("parameters", out var parameters) || parameters.ValueKind != JsonValueKind.Object)
                return Invalid("'parameters' is required and must be a JSON object.");
            if (!TryGetInt(root, "redundancy", 1, out var redundancy)) return Invalid("'redundancy' must be an integer.");
            if (!TryGetInt(root, "priority", 0, out var priority)) return Invalid("'priority' must be an integer.");
            long? maxPrice = null;
            if (root.TryGetProperty("maxPriceMicroCredits", out var mp) && mp.ValueKind != JsonValueKind.Null)
            {
                if (mp.ValueKind != JsonValueKind.Number || !mp.TryGetInt64(out var m) || m < 0)
                    return Invalid("'maxPriceMicroCredits' must be a non-negative integer.");
                maxPrice = m;
            }
            JobRequirements? requirements = null;
            if (root.TryGetProperty("requirements", out var req) && req.ValueKind != JsonValueKind.Null)
            {
                if (ReadRequirements(req, out requirements) is { } error) return Invalid(error);
            }

            return (new JobRequest
            {
                Kernel = kernel.GetString()!,
                ParametersJson = parameters.GetRawText(),
                Redundancy = redundancy,
                Priority = priority,
                MaxPriceMicroCredits = maxPrice,
                Requirements = requirements,
            }, null);
        }

        static (JobRequest?, IResult?) Invalid(string detail) => (null, Problem(400, "Invalid job", detail));
    }

    private static string? ReadRequirements(JsonElement element, out JobRequirements? requirements)
    {
        requirements = null;
        if (element.ValueKind != JsonValueKind.Object) return "'requirements' must be an object with deviceKinds, minMemoryBytes and/or minGflops.";
        var kinds = new List<string>();
        if (element.TryGetProperty("deviceKinds", out var k) && k.ValueKind != JsonValueKind.Null)
        {
            if (k.ValueKind != JsonValueKind.Array || k.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
                return "'requirements.deviceKinds' must be an array of strings (Cuda, OpenCL, IlgpuCpu, VectorCpu).";
            kinds.AddRange(k.EnumerateArray().Select(e => e.GetString()!));
        }
        long? memory = null;
        if (element.TryGetProperty("minMemoryBytes", out var m) && m.ValueKind != JsonValueKind.Null)
        {
            if (m.ValueKind != JsonValueKind.Number || !m.TryGetInt64(out var v)) return "'requirements.minMemoryBytes' must be an integer.";
            memory = v;
        }
        double? gflops = null;
        if (element.TryGetProperty("minGflops", out var g) && g.ValueKind != JsonValueKind.Null)
        {
            if (g.ValueKind != JsonValueKind.Number) return "'requirements.minGflops' must be a number.";
            gflops = g.GetDouble();
        }
        requirements = new JobRequirements { DeviceKinds = kinds, MinMemoryBytes = memory, MinGflops = gflops };
        return null;
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
        if (limit is < 1 or > 1000) return Problem(400, "Invalid paging", "'limit' must be between 1 and 1000.");
        if (offset is < 0) return Problem(400, "Invalid paging", "'offset' must not be negative.");
        return TypedResults.Ok(await JobDirectory.ListAsync(grains, filter, offset ?? 0, limit ?? 100));
    }

    private static async Task<IResult> ListNodesAsync(IGrainFactory grains, int? offset, int? limit)
    {
        if (limit is < 1 or > 10_000) return Problem(400, "Invalid paging", "'limit' must be between 1 and 10000.");
        if (offset is < 0) return Problem(400, "Invalid paging", "'offset' must not be negative.");
        return TypedResults.Ok(await NodeDirectory.ListAsync(grains, offset ?? 0, limit ?? 1000));
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

    private static async Task<IResult> GetNodeAsync(string nodeId, IGrainFactory grains) =>
        await grains.GetGrain<INodeGrain>(nodeId).GetAsync() is { } node
            ? TypedResults.Ok(node)
            : Problem(404, "Unknown node", $"No node '{nodeId}' is registered.");

    private static async Task<IResult> GetAccountAsync(string address, IGrainFactory grains)
    {
        if (!PayoutAddress.TryNormalize(address, out var normalized)) return MalformedAddress(address);
        var account = await grains.GetGrain<IRewardAccountGrain>(normalized).GetAsync();
        return account.UnitsCredited == 0
            ? Problem(404, "Unknown account", $"No earnings have been credited to {normalized}.")
            : TypedResults.Ok(account);
    }

    private static async Task<IResult> GetProofAsync(string address, IGrainFactory grains, SettlementGateway gateway)
    {
        if (!PayoutAddress.TryNormalize(address, out var normalized)) return MalformedAddress(address);
        if (!gateway.IsEnabled)
            return Problem(409, "Settlement off", "Epochs are not settled on chain here (Settlement:Mode is Off), so there is nothing to claim.");
        return await grains.GetGrain<ILedgerGrain>(0).GetProofAsync(normalized) is { } proof
            ? TypedResults.Ok(proof)
            : Problem(404, "Nothing to claim", $"{normalized} is in no epoch settled on chain yet.");
    }

    private static async Task<IResult> GetStatementAsync(string address, IGrainFactory grains)
    {
        if (!PayoutAddress.TryNormalize(address, out var normalized)) return MalformedAddress(address);
        var account = await grains.GetGrain<IRewardAccountGrain>(normalized).GetAsync();
        if (account.UnitsCredited == 0) return Problem(404, "Unknown account", $"No earnings have been credited to {normalized}.");
        return TypedResults.Ok(new EarningsStatement(account, await grains.GetGrain<ILedgerGrain>(0).GetStatementAsync(normalized)));
    }

    private static async Task<IResult> GetEpochAsync(long epoch, IGrainFactory grains) =>
        await grains.GetGrain<ILedgerGrain>(0).GetEpochAsync(epoch) is { } e
            ? TypedResults.Ok(e)
            : Problem(404, "Unknown epoch", $"Epoch {epoch} has not been closed.");

    private static async Task<IResult> CloseEpochAsync(IGrainFactory grains) =>
        await grains.GetGrain<ILedgerGrain>(0).CloseEpochAsync() is { } e
            ? TypedResults.Ok(e)
            : TypedResults.NoContent();

    private static bool TryGetInt(JsonElement root, string name, int fallback, out int value)
    {
        value = fallback;
        if (!root.TryGetProperty(name, out var p) || p.ValueKind == JsonValueKind.Null) return true;
        return p.ValueKind == JsonValueKind.Number && p.TryGetInt32(out value);
    }

    private static IResult MalformedAddress(string address) =>
        Problem(400, "Malformed address", $"'{address}' is not an EVM address (0x followed by 40 hex digits).");

    private static IResult JobNotFound(string jobId) => Problem(404, "Unknown job", $"No job '{jobId}' exists.");

    private static ProblemHttpResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: title);
}

/// <summary>Body of <c>POST /jobs</c> (documented shape; the handler parses it itself to give precise errors).</summary>
/// <param name="Kernel">Catalog kernel name (GET /kernels).</param>
/// <param name="Parameters">Kernel parameters (see docs/kernels.md).</param>
/// <param name="Redundancy">Independent nodes whose outputs must agree per unit (default 1).</param>
/// <param name="Priority">-100..100, higher first (default 0).</param>
/// <param name="MaxPriceMicroCredits">Budget; the job is refused when its price is higher.</param>
/// <param name="Requirements">Which nodes may run it: device kinds, minimum memory, minimum measured GFLOP/s.</param>
public sealed record SubmitJobRequest(string Kernel, JsonElement Parameters, int? Redundancy, int? Priority, long? MaxPriceMicroCredits,
    JobRequirements? Requirements);

/// <summary>A job's price and expected run time (POST /jobs/quote).</summary>
public sealed record QuoteView(string Kernel, int UnitCount, long PricePerUnitMicroCredits, long PriceMicroCredits,
    double EstimatedGflop, IReadOnlyList<NodeEstimate> Nodes);

/// <summary>How long one online node would take for the whole job at its measured SGEMM rate (a rough bound).</summary>
public sealed record NodeEstimate(string NodeId, string DeviceKind, double SgemmGflops, bool Eligible, double? ExpectedSeconds);

/// <summary>Where epochs are settled (GET /settlement).</summary>
public sealed record SettlementInfo(string Mode, bool Enabled, string? RpcUrl, long? ChainId, string? DistributorAddress,
    string? TokenAddress, string? SettlerAddress, string WeiPerMicroCredit);

/// <summary>A catalog entry.</summary>
public sealed record KernelInfo(string Name, string Description, string Comparison);
