using System.Text.Json;
using DePin.Abstractions.Jobs;

namespace DePin.Silo.Api.Contracts;

/// <summary>Body of <c>POST /jobs</c> and <c>POST /jobs/quote</c> (documented shape; the handler parses it itself to give precise errors).</summary>
public sealed record SubmitJobRequest
{
    /// <summary>Catalog kernel name (GET /kernels).</summary>
    public required string Kernel { get; init; }

    /// <summary>Kernel parameters, a JSON object (see docs/kernels.md).</summary>
    public required JsonElement Parameters { get; init; }

    /// <summary>Independent nodes whose outputs must agree per unit (default 1).</summary>
    public int? Redundancy { get; init; }

    /// <summary>-100..100, higher first (default 0).</summary>
    public int? Priority { get; init; }

    /// <summary>Budget; the job is refused when its price is higher.</summary>
    public long? MaxPriceMicroCredits { get; init; }

    /// <summary>Which nodes may run it: device kinds, minimum memory, minimum measured GFLOP/s.</summary>
    public JobRequirements? Requirements { get; init; }
}
