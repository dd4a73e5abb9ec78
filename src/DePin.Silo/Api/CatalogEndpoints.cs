using DePin.Compute.Catalog;
using DePin.Silo.Api.Contracts;

namespace DePin.Silo.Api;

/// <summary><c>GET /kernels</c> (public): what can run.</summary>
public static class CatalogEndpoints
{
    /// <summary>Maps the catalog group.</summary>
    public static RouteGroupBuilder MapCatalogEndpoints(this IEndpointRouteBuilder app)
    {
        var kernels = app.MapGroup("/kernels").WithTags("Catalog").AllowAnonymous().RequireRateLimiting(ApiRateLimiting.PublicPolicy);
        kernels.MapGet("/", () => KernelCatalog.Default.All.OrderBy(k => k.Name)
            .Select(k => new KernelInfo(k.Name, k.Description, k.Comparison.ToString())))
            .WithName("listKernels").WithSummary("The catalog of vetted kernels a job may run").Produces<IEnumerable<KernelInfo>>().ProducesProblem(429);
        return kernels;
    }
}
