using System.Text.Json;
using DePin.Abstractions.Jobs;
using DePin.Compute.Catalog;

namespace DePin.Grains.Jobs;

/// <summary>A validated, priced job request: what <see cref="JobGrain"/> persists, and what <c>POST /jobs/quote</c> shows.</summary>
/// <param name="Kernel">The catalog kernel.</param>
/// <param name="Plan">The job split into units.</param>
/// <param name="PricePerUnitMicroCredits">What each verifying node earns per unit.</param>
/// <param name="PriceMicroCredits">What the whole job costs the client (all units × redundancy).</param>
public sealed record JobQuote(IKernel Kernel, KernelPlan Plan, long PricePerUnitMicroCredits, long PriceMicroCredits)
{
    /// <summary>
    /// The client's requirements, with device memory raised to what one unit moves (input + output), so a unit is
    /// never leased to a device that cannot hold it.
    /// </summary>
    public JobRequirements EffectiveRequirements(JobRequirements? requested)
    {
        var unitBytes = (long)Math.Ceiling(Plan.Cost.Bytes);
        var requirements = requested ?? new JobRequirements();
        return requirements.MinMemoryBytes >= unitBytes ? requirements : requirements with { MinMemoryBytes = unitBytes };
    }

    /// <summary>Estimated work of all units (one replica), in GFLOP.</summary>
    public double EstimatedGflop => Plan.Cost.Flops * Plan.UnitCount / 1e9;

    /// <summary>
    /// Validates a request against the catalog and the scheduler's limits and prices it.
    /// Returns null with a client-facing <paramref name="error"/> when the request must be refused.
    /// </summary>
    public static JobQuote? TryCreate(JobRequest request, SchedulerOptions options, out string? error)
    {
        error = Validate(request, options);
        if (error is not null) return null;
        var kernel = KernelCatalog.Default.Get(request.Kernel);

        KernelPlan plan;
        try
        {
            using var doc = JsonDocument.Parse(request.ParametersJson);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                error = "parameters must be a JSON object";
                return null;
            }
            plan = kernel.Plan(doc.RootElement, KernelLimits.Default);
        }
        catch (JsonException ex)
        {
            error = $"parameters are not valid JSON: {ex.Message}";
            return null;
        }
        catch (KernelArgumentException ex)
        {
            error = ex.Message;
            return null;
        }

        if (plan.UnitCount == 0)
        {
            error = "the job has no units";
            return null;
        }
        var unitPrice = plan.Cost.PriceMicroCredits;
        var price = checked(unitPrice * plan.UnitCount * request.Redundancy);
        if (request.MaxPriceMicroCredits is { } max && price > max)
        {
            error = $"price {price} micro-credits exceeds the budget of {max}";
            return null;
        }
        return new JobQuote(kernel, plan, unitPrice, price);
    }

    private static string? Validate(JobRequest request, SchedulerOptions options)
    {
        if (!KernelCatalog.Default.TryGet(request.Kernel, out _))
            return $"unknown kernel '{request.Kernel}'; known kernels: {string.Join(", ", KernelCatalog.Default.All.Select(k => k.Name).Order())}";
        if (request.Redundancy < 1 || request.Redundancy > options.MaxRedundancy)
            return $"redundancy must be between 1 and {options.MaxRedundancy}";
        if (request.Priority is < -100 or > 100) return "priority must be between -100 and 100";
        if (request.Requirements is not { } needs) return null;
        var unknown = needs.DeviceKinds.FirstOrDefault(k => !JobRequirements.KnownDeviceKinds.Contains(k, StringComparer.OrdinalIgnoreCase));
        if (unknown is not null)
            return $"unknown device kind '{unknown}' in requirements; known: {string.Join(", ", JobRequirements.KnownDeviceKinds)}";
        if (needs.MinMemoryBytes is < 0) return "requirements.minMemoryBytes must not be negative";
        if (needs.MinGflops is { } g && (!double.IsFinite(g) || g < 0)) return "requirements.minGflops must be a non-negative number";
        return null;
    }
}
