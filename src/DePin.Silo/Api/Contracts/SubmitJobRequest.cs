using System.Text.Json;
using DePin.Abstractions.Jobs;

namespace DePin.Silo.Api.Contracts;

/// <summary>Body of <c>POST /jobs</c> and <c>POST /jobs/quote</c> (documented shape; the handler parses it itself to give precise errors).</summary>
/// <param name="Kernel">Catalog kernel name (GET /kernels).</param>
/// <param name="Parameters">Kernel parameters (see docs/kernels.md).</param>
/// <param name="Redundancy">Independent nodes whose outputs must agree per unit (default 1).</param>
/// <param name="Priority">-100..100, higher first (default 0).</param>
/// <param name="MaxPriceMicroCredits">Budget; the job is refused when its price is higher.</param>
/// <param name="Requirements">Which nodes may run it: device kinds, minimum memory, minimum measured GFLOP/s.</param>
public sealed record SubmitJobRequest(string Kernel, JsonElement Parameters, int? Redundancy, int? Priority, long? MaxPriceMicroCredits,
    JobRequirements? Requirements);
